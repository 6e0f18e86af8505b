//! The office's working-day calendar: its days change the deadlines that count working days.

use serde_json::{Value, json};

use crate::{both, support::TestApp};

both!(the_offices_calendar_moves_appeal_deadlines, |app: TestApp| async move {
    let office = app.login("office").await;
    // 2026 as published: National Day off on Thursday 1 October, Saturday 10 October worked.
    let y = app.get("/api/v1/calendar?year=2026", &office).await;
    assert_eq!(y.ok()["published"], true);
    let days = y.json["days"].as_array().unwrap();
    assert!(days.iter().any(|d| d["day"] == "2026-10-01" && d["working"] == false && d["source"] == "published"));
    assert!(days.iter().any(|d| d["day"] == "2026-10-10" && d["working"] == true));
    // 2027 is not published yet: nothing but what the office enters.
    let y = app.get("/api/v1/calendar?year=2027", &office).await;
    assert_eq!(y.ok()["published"], false);
    assert_eq!(y.json["days"], json!([]));

    // A finding notified on Monday 2 November has five working days to appeal: to Monday 9.
    let id = crate::inspections::notified_finding(&app).await;
    let head = app.login("head_a").await;
    assert_eq!(app.get(&format!("/api/v1/findings/{id}"), &head).await.ok()["appeal_deadline"], "2026-11-09");
    // The office gives Wednesday 4 November off: the deadline moves to Tuesday 10.
    let set = app
        .put("/api/v1/calendar/days", &office, json!({"day": "2026-11-04", "working": false, "note": "市政府临时安排"}))
        .await;
    let set_days = set.ok()["days"].as_array().unwrap().clone();
    assert!(
        set_days.iter().any(|d| d["day"] == "2026-11-04" && d["source"] == "office" && d["note"] == "市政府临时安排")
    );
    assert_eq!(app.get(&format!("/api/v1/findings/{id}"), &head).await.ok()["appeal_deadline"], "2026-11-10");
    // …and a worked Saturday 7 November brings it back to Monday 9.
    app.put("/api/v1/calendar/days", &office, json!({"day": "2026-11-07", "working": true})).await.ok();
    assert_eq!(app.get(&format!("/api/v1/findings/{id}"), &head).await.ok()["appeal_deadline"], "2026-11-09");
    // Dropping the entries restores the published days.
    for day in ["2026-11-04", "2026-11-07"] {
        app.put("/api/v1/calendar/days", &office, json!({"day": day, "working": null})).await.ok();
    }
    assert_eq!(app.get(&format!("/api/v1/findings/{id}"), &head).await.ok()["appeal_deadline"], "2026-11-09");
    // Only the office keeps the calendar; bad input changes nothing; every change is audited.
    app.put("/api/v1/calendar/days", &head, json!({"day": "2026-11-05", "working": false}))
        .await
        .expect(403, "forbidden");
    app.put("/api/v1/calendar/days", &office, json!({"day": "1999-01-01", "working": false}))
        .await
        .expect(422, "validation_failed");
    app.put("/api/v1/calendar/days", &office, json!({"day": "2026-13-01", "working": false}))
        .await
        .expect(422, "validation_failed");
    app.get("/api/v1/calendar?year=1900", &office).await.expect(422, "validation_failed");
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=calendar.", &auditor).await;
    assert_eq!(log.ok()["total"], 4, "{}", log.json);
});

async fn import(app: &TestApp, s: &crate::support::Session, bytes: Vec<u8>) -> crate::support::Resp {
    use axum::{
        body::Body,
        http::{Method, Request, header},
    };
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/calendar/import")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

both!(the_next_years_arrangement_is_imported_all_or_nothing, |app: TestApp| async move {
    use crate::organisation::workbook;
    let office = app.login("office").await;
    // A bad row (and a duplicate) rejects the whole file, naming each row; nothing changes.
    let bad = workbook(&[
        &["日期", "类型", "说明"],
        &["2027-01-01", "放假", "元旦"],
        &["2027-13-40", "放假", ""],
        &["2027-02-07", "加班", ""],
        &["2027/1/1", "放假", "重复"],
    ]);
    let r = import(&app, &office, bad).await;
    r.expect(422, "import_rejected");
    let rows: Vec<u64> = r.json["details"].as_array().unwrap().iter().map(|d| d["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, vec![3, 4, 5], "{}", r.json);
    assert_eq!(app.get("/api/v1/calendar?year=2027", &office).await.ok()["days"], json!([]));
    // The good file: New Year's Day off, Spring Festival off on weekdays, a Sunday worked.
    let good = workbook(&[
        &["日期", "类型", "说明"],
        &["2027-01-01", "放假", "元旦"],
        &["2027年2月5日", "放假", "春节"],
        &["2027/2/7", "上班", "春节调休上班"],
    ]);
    let r = import(&app, &office, good.clone()).await;
    assert_eq!(r.ok()["set"], 3, "{}", r.json);
    let days = r.json["years"][0]["days"].as_array().unwrap().clone();
    assert_eq!(days.len(), 3);
    assert!(days.iter().any(|d| d["day"] == "2027-02-07" && d["working"] == true && d["note"] == "春节调休上班"));
    // Importing the same file again changes nothing; not a workbook, or no 类型 column: refused.
    assert_eq!(import(&app, &office, good).await.ok()["set"], 0);
    import(&app, &office, b"date,kind\n".to_vec()).await.expect(400, "invalid_file");
    import(&app, &office, workbook(&[&["日期", "说明"], &["2027-03-01", "x"]])).await.expect(400, "missing_columns");
    let head = app.login("head_a").await;
    import(&app, &head, workbook(&[&["日期", "类型"]])).await.expect(403, "forbidden");
});

both!(a_calendar_file_beyond_what_a_year_needs_is_refused, |app: TestApp| async move {
    use crate::organisation::{far_corner_workbook, refused_as_too_big, workbook, workbook_at, zip_bomb};
    let office = app.login("office").await;
    refused_as_too_big(&import(&app, &office, far_corner_workbook("日期")).await, "too_many_columns", "XFD1048576");
    refused_as_too_big(&import(&app, &office, zip_bomb()).await, "file_too_large", "MB");
    // A year is at most 366 rows under the header: a cell on row 401 is not a calendar.
    let long =
        workbook_at(&[(0, 0, "日期"), (0, 1, "类型"), (1, 0, "2027-01-01"), (1, 1, "放假"), (400, 0, "2027-01-02")]);
    refused_as_too_big(&import(&app, &office, long).await, "too_many_rows", "401");
    let wide = workbook_at(&[(0, 0, "日期"), (0, 1, "类型"), (0, 10, "备注")]);
    refused_as_too_big(&import(&app, &office, wide).await, "too_many_columns", "K1");
    // Nothing changed, and the calendar still imports.
    assert_eq!(app.get("/api/v1/calendar?year=2027", &office).await.ok()["days"], json!([]));
    let good = workbook(&[&["日期", "类型"], &["2027-01-01", "放假"]]);
    assert_eq!(import(&app, &office, good).await.ok()["set"], 1);
});

both!(days_typed_as_excel_dates_import, |app: TestApp| async move {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let office = app.login("office").await;
    // Typed into Excel, a day is a number with a date format: custom, Chinese, or built in.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "日期").unwrap();
    ws.write_string(0, 1, "类型").unwrap();
    let formats = [
        Format::new().set_num_format("yyyy-mm-dd"),
        Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\""),
        Format::new().set_num_format_index(14),
    ];
    for (i, (day, f)) in [(1, &formats[0]), (2, &formats[1]), (3, &formats[2])].into_iter().enumerate() {
        let d = ExcelDateTime::from_ymd(2027, 3, day).unwrap();
        ws.write_datetime_with_format(i as u32 + 1, 0, &d, f).unwrap();
        ws.write_string(i as u32 + 1, 1, "放假").unwrap();
    }
    // A plain number stays a number: not a day.
    ws.write_number(4, 0, 46447.0).unwrap();
    ws.write_string(4, 1, "放假").unwrap();
    let r = import(&app, &office, wb.save_to_buffer().unwrap()).await;
    r.expect(422, "import_rejected");
    assert_eq!(r.json["details"].as_array().unwrap().len(), 1, "{}", r.json);
    assert_eq!(r.json["details"][0]["row"], 5);
    assert!(r.json["details"][0]["message"].as_str().unwrap().contains("46447"), "{}", r.json);
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_string(4, 0, "2027-03-04").unwrap();
    let r = import(&app, &office, wb.save_to_buffer().unwrap()).await;
    let days: Vec<&str> =
        r.ok()["years"][0]["days"].as_array().unwrap().iter().map(|d| d["day"].as_str().unwrap()).collect();
    assert_eq!(days, ["2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04"], "{}", r.json);
});

both!(from_december_the_office_is_told_to_enter_next_years_holidays, |app: TestApp| async move {
    let holiday_tasks = |r: &crate::support::Resp| -> Vec<Value> {
        r.ok()["tasks"].as_array().unwrap().iter().filter(|t| t["kind"] == "enter_holidays").cloned().collect()
    };
    // November: nothing to do yet.
    assert!(holiday_tasks(&app.get("/api/v1/inbox", &app.login("office").await).await).is_empty());
    // 1 December: 2027's days are neither published nor entered, so the office is told, and the
    // calendar page says so; a department head has no such task.
    app.clock.advance(chrono::Duration::days(29));
    assert_eq!(app.clock_now().date_naive().to_string(), "2026-12-01");
    let (office, head) = (app.login("office").await, app.login("head_a").await);
    let tasks = holiday_tasks(&app.get("/api/v1/inbox", &office).await);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["link"], "/inspections/calendar?year=2027");
    assert_eq!(tasks[0]["due"], "2026-12-31");
    assert_eq!(app.get("/api/v1/calendar?year=2026", &office).await.ok()["unknown_next_year"], 2027);
    assert!(holiday_tasks(&app.get("/api/v1/inbox", &head).await).is_empty());
    // Once the office enters a day of 2027 the task is gone.
    app.put("/api/v1/calendar/days", &office, json!({"day": "2027-01-01", "working": false, "note": "元旦"}))
        .await
        .ok();
    assert!(holiday_tasks(&app.get("/api/v1/inbox", &office).await).is_empty());
    assert!(app.get("/api/v1/calendar?year=2026", &office).await.ok()["unknown_next_year"].is_null());
});
