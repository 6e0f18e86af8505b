//! The office's working-day calendar: its days change the deadlines that count working days.

use serde_json::json;

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
