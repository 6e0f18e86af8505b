//! Service commitments: items, keys, cases pushed by a connected system, and their cards.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    both,
    support::{Resp, TestApp},
};

pub async fn push(app: &TestApp, key: Option<&str>, number: &str, body: Value) -> Resp {
    let mut b = Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/v1/intake/cases/{number}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    app.send(b.body(Body::from(body.to_string())).unwrap()).await
}

/// An item of dept_a (5 working days promised) and a system key; the key.
pub async fn item_and_key(app: &TestApp) -> String {
    let office = app.login("office").await;
    let item = json!({"department_id": app.ids["dept_a"], "code": "330100-XK-001", "name": "食品经营许可", "promised_days": 5, "legal_days": 20});
    assert_eq!(app.post("/api/v1/service-items", &office, item).await.status, 201);
    let k = app.post("/api/v1/api-clients", &office, json!({"kind": "system", "name": "审批系统"})).await;
    assert_eq!(k.status, 201, "{}", k.json);
    k.json["key"].as_str().unwrap().to_owned()
}

pub fn case_body(completed_at: Option<&str>) -> Value {
    json!({
        "item_code": "330100-XK-001",
        "staff_no": "P-A",
        "applicant_type": "enterprise",
        "accepted_at": "2026-11-02T08:30:00+08:00",
        "stage": "受理",
        "completed_at": completed_at,
    })
}

/// The card a case holds, as the office sees it (logged in afresh: the clock moves by days).
async fn card(app: &TestApp, id: i64) -> Value {
    let office = app.login("office").await;
    app.get(&format!("/api/v1/service-cases/{id}"), &office).await.ok()["card"].clone()
}

fn fields(r: &Resp) -> Vec<String> {
    r.json["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_owned()).collect()
}

both!(items_are_the_offices_and_checked, |app: TestApp| async move {
    let office = app.login("office").await;
    let head = app.login("head_a").await;
    let item = json!({"department_id": app.ids["dept_a"], "code": "330100-XK-001", "name": "食品经营许可", "promised_days": 5, "legal_days": 20});
    app.post("/api/v1/service-items", &head, item.clone()).await.expect(403, "forbidden");
    let made = app.post("/api/v1/service-items", &office, item.clone()).await;
    assert_eq!(made.status, 201);
    app.post("/api/v1/service-items", &office, item).await.expect(409, "already_exists");
    let bad =
        json!({"department_id": app.ids["dept_a"], "code": "X 1", "name": "", "promised_days": 30, "legal_days": 20});
    let r = app.post("/api/v1/service-items", &office, bad).await;
    r.expect(422, "validation_failed");
    assert_eq!(fields(&r), ["code", "name"]);
    let over = json!({"department_id": app.ids["dept_a"], "code": "X-2", "name": "设立登记", "promised_days": 30, "legal_days": 20});
    let r = app.post("/api/v1/service-items", &office, over).await;
    assert_eq!(fields(&r), ["promised_days"]);
    // A department reads its own items; another department none of them.
    assert_eq!(app.get("/api/v1/service-items", &head).await.ok()["total"], 1);
    assert_eq!(app.get("/api/v1/service-items", &app.login("head_b").await).await.ok()["total"], 0);
    // A change is audited with what it was before.
    let id = made.json["id"].as_i64().unwrap();
    let change = json!({"department_id": app.ids["dept_a"], "code": "330100-XK-001", "name": "食品经营许可", "promised_days": 3, "legal_days": 20});
    assert_eq!(app.put(&format!("/api/v1/service-items/{id}"), &office, change).await.ok()["promised_days"], 3);
    let log = app.get("/api/v1/audit?action=service_item.", &app.login("auditor").await).await;
    assert_eq!(log.ok()["total"], 2, "{}", log.json);
});

both!(a_pushed_case_is_refused_with_the_field_named_and_repeated_pushes_update_it, |app: TestApp| async move {
    let key = item_and_key(&app).await;
    // No key, a made-up key: 401, nothing stored.
    push(&app, None, "SP-1", case_body(None)).await.expect(401, "invalid_key");
    push(&app, Some("xn_0123456789_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "SP-1", case_body(None))
        .await
        .expect(401, "invalid_key");
    // Every bad field named at once.
    let bad = json!({"item_code": "NO-SUCH", "window_code": "W-NONE", "staff_no": "P-NONE", "applicant_type": "robot", "accepted_at": "yesterday"});
    let r = push(&app, Some(&key), "SP-1", bad).await;
    r.expect(422, "validation_failed");
    let mut f = fields(&r);
    f.sort();
    assert_eq!(f, ["accepted_at", "applicant_type", "item_code", "staff_no", "window_code"]);
    let done_before = case_body(Some("2026-11-01T09:00:00+08:00"));
    assert_eq!(fields(&push(&app, Some(&key), "SP-1", done_before).await), ["completed_at"]);
    let office = app.login("office").await;
    assert_eq!(app.get("/api/v1/service-cases", &office).await.ok()["total"], 0);

    // New: 201; the same again: 200, the same case, nothing recorded twice.
    let first = push(&app, Some(&key), "SP-1", case_body(None)).await;
    assert_eq!(first.status, 201, "{}", first.json);
    assert_eq!(first.json["deadline"], "2026-11-09");
    let again = push(&app, Some(&key), "SP-1", case_body(None)).await;
    assert_eq!((again.status.as_u16(), &again.json["id"]), (200, &first.json["id"]));
    assert_eq!(again.json["version"], 1, "a push that changes nothing changes nothing");
    let list = app.get("/api/v1/service-cases", &office).await;
    assert_eq!(list.ok()["total"], 1);
    assert_eq!(list.json["items"][0]["person_name"], "张伟");

    // Completed, then reopened by the system: each once in the ledger.
    app.clock.advance(Duration::days(1));
    let done = push(&app, Some(&key), "SP-1", case_body(Some("2026-11-03T08:50:00+08:00"))).await;
    assert_eq!(
        (done.status.as_u16(), &done.json["status"], &done.json["on_time"]),
        (200, &json!("completed"), &json!(true))
    );
    push(&app, Some(&key), "SP-1", case_body(Some("2026-11-03T08:50:00+08:00"))).await.ok();
    push(&app, Some(&key), "SP-1", case_body(None)).await.ok();
    let office = app.login("office").await;
    let id = first.json["id"].as_i64().unwrap();
    let ev = app.get(&format!("/api/v1/events?aggregate=case&aggregate_id={id}"), &office).await;
    let kinds: Vec<&str> = ev.ok()["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["case.accepted", "case.completed", "case.reopened"]);

    // A revoked key is refused at once.
    let clients = app.get("/api/v1/api-clients", &office).await;
    let cid = clients.ok()[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/api/v1/api-clients/{cid}/revoke"), &office, json!({})).await.ok()["status"],
        "revoked"
    );
    push(&app, Some(&key), "SP-1", case_body(None)).await.expect(401, "invalid_key");
    // Nobody but the office makes or sees keys.
    app.get("/api/v1/api-clients", &app.login("sysadmin").await).await.expect(403, "forbidden");
});

both!(cards_fall_on_working_days_and_show_per_department, |app: TestApp| async move {
    let key = item_and_key(&app).await;
    // Accepted Monday 2 November with 5 working days: yellow on Friday 6 (80%), deadline Monday 9.
    let c = push(&app, Some(&key), "SP-2", case_body(None)).await;
    let id = c.json["id"].as_i64().unwrap();
    // Thursday 5: nothing yet.
    app.clock.advance(Duration::days(3));
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 0);
    assert_eq!(card(&app, id).await, Value::Null);
    // Friday 6: yellow. Run twice, given once.
    app.clock.advance(Duration::days(1));
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 1);
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 0);
    assert_eq!(card(&app, id).await, "yellow");
    let office = app.login("office").await;
    // The office gives Monday 9 off: the deadline moves to Tuesday 10, so Tuesday is no red day.
    app.put("/api/v1/calendar/days", &office, json!({"day": "2026-11-09", "working": false})).await.ok();
    app.clock.advance(Duration::days(4));
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 0);
    let office = app.login("office").await;
    let detail = app.get(&format!("/api/v1/service-cases/{id}"), &office).await;
    assert_eq!((&detail.ok()["deadline"], &detail.json["card"]), (&json!("2026-11-10"), &json!("yellow")));
    // Wednesday 11: red.
    app.clock.advance(Duration::days(1));
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 1);
    assert_eq!(card(&app, id).await, "red");
    // Completed late: the card stays, the case counts late.
    push(&app, Some(&key), "SP-2", case_body(Some("2026-11-11T08:50:00+08:00"))).await.ok();
    let office = app.login("office").await;
    let ev = app.get(&format!("/api/v1/events?aggregate=case&aggregate_id={id}"), &office).await;
    let kinds: Vec<&str> = ev.ok()["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["case.accepted", "case.yellow_card", "case.red_card", "case.completed"]);
    // One on time beside it.
    push(&app, Some(&key), "SP-3", case_body(Some("2026-11-03T08:50:00+08:00"))).await.ok();

    let head = app.login("head_a").await;
    let s = app.get("/api/v1/service-cases/summary", &head).await;
    let row = &s.ok()["departments"][0];
    assert_eq!(
        (&row["cases"], &row["completed"], &row["on_time_rate"], &row["red_cards"], &row["yellow_cards"]),
        (&json!(2), &json!(2), &json!(50.0), &json!(1), &json!(0)),
        "{}",
        s.json
    );
    assert_eq!(s.json["total"]["on_time_rate"], 50.0);
    assert_eq!(app.get("/api/v1/service-cases?card=red", &head).await.ok()["total"], 1);
    // Another department sees none of it; the staff member who accepted them sees their own.
    let other = app.login("head_b").await;
    let none = app.get("/api/v1/service-cases/summary", &other).await;
    assert_eq!(
        (&none.ok()["departments"], &none.json["total"]["cases"], &none.json["total"]["on_time_rate"]),
        (&json!([]), &json!(0), &Value::Null)
    );
    app.get(&format!("/api/v1/service-cases/{id}"), &other).await.expect(404, "not_found");
    assert_eq!(app.get("/api/v1/service-cases", &app.login("staff_a").await).await.ok()["total"], 2);
});

both!(a_lowered_share_or_a_day_off_taken_back_brings_cards_forward_at_once, |app: TestApp| async move {
    let key = item_and_key(&app).await;
    // Accepted Monday 2 November with 5 working days: at 80%, yellow on Friday 6.
    let c = push(&app, Some(&key), "SP-L", case_body(None)).await;
    let id = c.json["id"].as_i64().unwrap();
    // Wednesday 4: nothing due. The office lowers the share to 50%: yellow after 3 days, Thursday 5.
    app.clock.advance(Duration::days(2));
    assert_eq!(xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(), 0);
    let office = app.login("office").await;
    app.put("/api/v1/settings/service-policy", &office, json!({"yellow_percent": 50})).await.ok();
    app.clock.advance(Duration::days(1));
    assert_eq!(
        xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap(),
        1,
        "Thursday 5, not Friday"
    );
    assert_eq!(card(&app, id).await, "yellow");
    let office = app.login("office").await;
    let ev = app.get(&format!("/api/v1/events?aggregate=case&aggregate_id={id}&kind=case.yellow_card"), &office).await;
    assert_eq!(
        ev.ok()["items"][0]["occurred_at"],
        "2026-11-04T16:00:00Z",
        "dated the morning of Thursday 5 (city time)"
    );

    // A second case, accepted Thursday 5 with Monday 9 given off beforehand: deadline Friday 13.
    app.put("/api/v1/calendar/days", &office, json!({"day": "2026-11-09", "working": false})).await.ok();
    let mut body = case_body(None);
    body["accepted_at"] = json!("2026-11-05T09:00:00+08:00");
    let c = push(&app, Some(&key), "SP-M", body).await;
    assert_eq!(c.json["deadline"], "2026-11-13");
    // The office takes the day off back: the deadline is Thursday 12, and a pass says so.
    app.put("/api/v1/calendar/days", &office, json!({"day": "2026-11-09"})).await.ok();
    xiaoneng_server::jobs::give_cards(&app.store, app.clock_now()).await.unwrap();
    let office = app.login("office").await;
    let d = app.get(&format!("/api/v1/service-cases/{}", c.json["id"]), &office).await;
    assert_eq!(d.ok()["deadline"], "2026-11-12");
    // Each change asked for a pass of the job at once.
    use sea_orm::ConnectionTrait;
    let queued = app.store.db().query_one_raw(sea_orm::Statement::from_string(
        app.store.db().get_database_backend(),
        "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'service.cards'".to_owned(),
    ));
    let n: i64 = queued.await.unwrap().unwrap().try_get("", "n").unwrap();
    assert_eq!(n, 3, "the share, the day off and the day back");
});

async fn import(app: &TestApp, s: &crate::support::Session, bytes: Vec<u8>) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/service-cases/import")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, xiaoneng_server::excel::XLSX_MIME)
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let headers = ["办件编号", "事项编码", "窗口编码", "受理人工号", "申请人类型", "受理时间", "办理环节", "办结时间"];
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect();
    xiaoneng_server::excel::write_sheet("办件", &headers, &rows).unwrap()
}

both!(cases_come_in_from_a_workbook_all_or_nothing, |app: TestApp| async move {
    item_and_key(&app).await;
    let office = app.login("office").await;
    let bad = workbook(&[
        &["XL-1", "330100-XK-001", "", "P-A", "企业", "2026-11-02 08:30", "受理", ""],
        &["XL-2", "NO-SUCH-ITEM", "", "", "个人", "2026-11-02 9点", "", ""],
        &["XL-1", "330100-XK-001", "", "", "企业", "2026-11-02 08:40", "", ""],
        &["XL-3", "330100-XK-001", "", "NOBODY", "团体", "2026-11-02 08:30", "", ""],
        &["XL-4", "330100-XK-001", "", "", "企业", "2026-11-02 08:30", "", "2026-11-01 10:00"],
    ]);
    let r = import(&app, &office, bad.clone()).await;
    assert_eq!(r.status, 422, "{}", r.json);
    let found: Vec<(u64, String)> = r.json["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["row"].as_u64().unwrap(), d["column"].as_str().unwrap().to_owned()))
        .collect();
    for want in
        [(3, "事项编码"), (3, "受理时间"), (4, "办件编号"), (5, "受理人工号"), (5, "申请人类型"), (6, "办结时间")]
    {
        assert!(found.contains(&(want.0, want.1.to_owned())), "{want:?} in {found:?}");
    }
    assert!(!found.iter().any(|(row, _)| *row == 2), "row 2 is sound: {found:?}");
    assert_eq!(app.get("/api/v1/service-cases", &office).await.ok()["total"], 0, "nothing of a bad file is kept");

    let good = workbook(&[
        &["XL-1", "330100-XK-001", "", "P-A", "企业", "2026-11-02 08:30", "受理", ""],
        &["XL-2", "330100-XK-001", "", "", "个人", "2026/11/02 08:15", "办结", "2026-11-02 08:45"],
    ]);
    let r = import(&app, &office, good.clone()).await;
    assert_eq!(r.ok(), &json!({"created": 2, "updated": 0, "unchanged": 0}));
    // The same file again changes nothing; a case completed since is updated, as a push would.
    let r = import(&app, &office, good).await;
    assert_eq!(r.ok(), &json!({"created": 0, "updated": 0, "unchanged": 2}));
    let later =
        workbook(&[&["XL-1", "330100-XK-001", "", "P-A", "企业", "2026-11-02 08:30", "办结", "2026-11-02 08:50"]]);
    let r = import(&app, &office, later).await;
    assert_eq!(r.ok(), &json!({"created": 0, "updated": 1, "unchanged": 0}));
    let list = app.get("/api/v1/service-cases?status=completed", &office).await;
    assert_eq!(list.ok()["total"], 2);
    let xl2 = list.json["items"].as_array().unwrap().iter().find(|c| c["number"] == "XL-2").unwrap().clone();
    assert_eq!((&xl2["accepted_at"], &xl2["on_time"]), (&json!("2026-11-02T00:15:00Z"), &json!(true)), "city time");
    let ev = app.get(&format!("/api/v1/events?aggregate=case&aggregate_id={}", xl2["id"]), &office).await;
    let kinds: Vec<&str> = ev.ok()["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["case.accepted", "case.completed"]);
    // A department reads cases but imports none.
    let head = app.login("head_a").await;
    let r = import(&app, &head, bad).await;
    r.expect(403, "forbidden");
});

both!(a_system_held_to_a_department_touches_and_learns_nothing_outside_it, |app: TestApp| async move {
    let city_key = item_and_key(&app).await;
    let office = app.login("office").await;
    let (a, a1, b) = (app.ids["dept_a"], app.ids["dept_a1"], app.ids["dept_b"]);
    let item = json!({"department_id": b, "code": "330100-XK-B01", "name": "建设工程许可", "promised_days": 5, "legal_days": 20});
    assert_eq!(app.post("/api/v1/service-items", &office, item).await.status, 201);
    let held = app
        .post("/api/v1/api-clients", &office, json!({"kind": "system", "name": "B局系统", "department_id": b}))
        .await;
    let held_key = held.json["key"].as_str().unwrap().to_owned();
    let clients = app.get("/api/v1/api-clients", &office).await;
    let named: Vec<(Value, Value)> =
        clients.ok().as_array().unwrap().iter().map(|c| (c["name"].clone(), c["department_name"].clone())).collect();
    let b_name = app.get(&format!("/api/v1/departments/{b}"), &office).await.ok()["name"].clone();
    assert_eq!(named, [(json!("审批系统"), Value::Null), (json!("B局系统"), b_name)], "who may push for what");

    // Bureau A's case, pushed by the city's system: the held system cannot take it over.
    assert_eq!(push(&app, Some(&city_key), "SP-A1", case_body(None)).await.status, 201);
    let mut into_b = case_body(None);
    into_b["item_code"] = json!("330100-XK-B01");
    into_b["staff_no"] = Value::Null;
    let r = push(&app, Some(&held_key), "SP-A1", into_b.clone()).await;
    assert_eq!((r.status.as_u16(), fields(&r)), (422, vec!["number".to_owned()]), "{}", r.json);
    // Nor learn whether bureau A's item or staff exist: they answer as codes that exist nowhere do.
    let r = push(&app, Some(&held_key), "SP-B1", case_body(None)).await;
    let codes: Vec<(String, String)> = r.json["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["field"].as_str().unwrap().to_owned(), d["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(codes, [("item_code".to_owned(), "unknown".to_owned()), ("staff_no".to_owned(), "unknown".to_owned())]);
    let office = app.login("office").await;
    let a_case = app.get("/api/v1/service-cases?number=SP-A1", &office).await;
    assert_eq!(a_case.ok()["items"][0]["department_id"], a, "bureau A's case is as it was");
    // Its own items it pushes.
    assert_eq!(push(&app, Some(&held_key), "SP-B1", into_b).await.status, 201);

    // Bureau A with its sub-departments: a case of 登记注册科 counts under A.
    let item = json!({"department_id": a1, "code": "330100-XK-A11", "name": "个体工商户登记", "promised_days": 1, "legal_days": 3});
    assert_eq!(app.post("/api/v1/service-items", &office, item).await.status, 201);
    let mut sub = case_body(None);
    sub["item_code"] = json!("330100-XK-A11");
    assert_eq!(push(&app, Some(&city_key), "SP-A11", sub).await.status, 201);
    let under_a = app.get(&format!("/api/v1/service-cases?department_id={a}"), &office).await;
    assert_eq!(under_a.ok()["total"], 2, "{}", under_a.json);
    let items_under_a = app.get(&format!("/api/v1/service-items?department_id={a}"), &office).await;
    assert_eq!(items_under_a.ok()["total"], 2);
    // A staff member reads their own department's items.
    assert_eq!(app.get("/api/v1/service-items", &app.login("staff_a").await).await.ok()["total"], 1);
});

both!(a_case_keeps_its_promise_and_is_finished_after_its_item_is_retired, |app: TestApp| async move {
    let key = item_and_key(&app).await;
    let c = push(&app, Some(&key), "SP-K", case_body(None)).await;
    assert_eq!(c.json["deadline"], "2026-11-09");
    let office = app.login("office").await;
    let item_id = c.json["item_id"].as_i64().unwrap();
    let retired = json!({"department_id": app.ids["dept_a"], "code": "330100-XK-001", "name": "食品经营许可", "promised_days": 10, "legal_days": 20, "status": "retired"});
    app.put(&format!("/api/v1/service-items/{item_id}"), &office, retired).await.ok();
    // Finished on Tuesday 10: late against the 5 days it was accepted under, not on time against 10.
    app.clock.advance(Duration::days(8));
    let done = push(&app, Some(&key), "SP-K", case_body(Some("2026-11-10T08:30:00+08:00"))).await;
    assert_eq!(done.status, 200, "{}", done.json);
    assert_eq!((&done.json["promised_days"], &done.json["on_time"]), (&json!(5), &json!(false)));
    // A new case on the retired item is refused.
    push(&app, Some(&key), "SP-K2", case_body(None)).await.expect(422, "validation_failed");
});

both!(two_pushes_of_a_new_case_at_once_make_one_case, |app: TestApp| async move {
    let key = item_and_key(&app).await;
    for n in 0..4 {
        let number = format!("SP-R{n}");
        let (a, b) = tokio::join!(
            push(&app, Some(&key), &number, case_body(None)),
            push(&app, Some(&key), &number, case_body(Some("2026-11-02T08:45:00+08:00")))
        );
        let mut codes = [a.status.as_u16(), b.status.as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [200, 201], "{} {}", a.json, b.json);
        assert_eq!(a.json["id"], b.json["id"]);
    }
    let office = app.login("office").await;
    assert_eq!(app.get("/api/v1/service-cases", &office).await.ok()["total"], 4);
    let ev = app.get("/api/v1/events?kind=case.accepted", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 4);
});
