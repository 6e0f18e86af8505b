//! The public's ratings, on both databases: every channel (the QR page as JSON and as the HTML
//! form, the counter device, the web), one rating per case per channel also after reopening and
//! when two arrive at once, a rating naming no case held, the phone sealed and masked and
//! revealed only with an audit entry, the reasons versioned, the device's heartbeat and offer.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use serde_json::{Value, json};

use crate::{
    both,
    personal::places_holding,
    service::{case_body, item_and_key, push},
    support::{Resp, TestApp},
};

pub async fn anon(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut b = Request::builder().method(method).uri(path);
    if body.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    app.send(b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()).await
}

pub async fn rate(app: &TestApp, code: &str, body: Value) -> Resp {
    anon(app, Method::POST, &format!("/api/v1/public/rating-pages/{code}/ratings"), Some(body)).await
}

async fn device(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut b = Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {key}"));
    if body.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    app.send(b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()).await
}

pub async fn form(app: &TestApp, path: &str, body: &str) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

/// A window of dept_a made by the office, its id.
async fn new_window(app: &TestApp, code: &str, name: &str, number: &str) -> i64 {
    let office = app.login("office").await;
    let w = app
        .post(
            "/api/v1/windows",
            &office,
            json!({"code": code, "name": name, "department_id": app.ids["dept_a"], "hall": "市民中心", "number": number}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.json);
    w.json["id"].as_i64().unwrap()
}

/// A window of dept_a, its id; an item and system key; the case SP-1 pushed at the window and
/// completed; its rating code and the key.
pub async fn city(app: &TestApp) -> (i64, String, String) {
    let key = item_and_key(app).await;
    let window = new_window(app, "W-01", "食品许可窗口", "01").await;
    let mut body = case_body(Some("2026-11-02T08:50:00+08:00"));
    body["window_code"] = json!("W-01");
    let p = push(app, Some(&key), "SP-1", body).await;
    assert_eq!(p.status, 201, "{}", p.json);
    let code = p.json["rating_code"].as_str().expect("the push answers with the receipt's code").to_owned();
    assert_eq!(code.len(), 16);
    (window, code, key)
}

async fn device_key(app: &TestApp, window: i64) -> String {
    let office = app.login("office").await;
    let r = app
        .post("/api/v1/api-clients", &office, json!({"kind": "device", "name": "1号评价器", "window_id": window}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["key"].as_str().unwrap().to_owned()
}

both!(every_channel_rates_a_case_once, |app: TestApp| async move {
    let (window, code, key) = city(&app).await;
    let case = format!("c{code}");
    // What the page shows: the case, its window, the staff member masked, the reasons.
    let page = anon(&app, Method::GET, &format!("/api/v1/public/rating-pages/{case}"), None).await;
    let p = page.ok();
    assert_eq!((p["kind"].as_str(), p["staff"].as_str()), (Some("case"), Some("张*（P-A）")));
    assert_eq!(p["case"]["number"], "SP-1");
    assert!(!p["reasons"]["dissatisfied"].as_array().unwrap().is_empty());

    let good = json!({"level": "very_satisfied", "reasons": ["efficient"]});
    let r = rate(&app, &case, good.clone()).await;
    assert_eq!((r.status.as_u16(), r.json["status"].as_str()), (201, Some("counted")), "{}", r.json);
    rate(&app, &case, good.clone()).await.expect(409, "invalid_transition");
    let again = rate(&app, &case, good.clone()).await;
    assert_eq!(again.json["details"]["reason"], "already_rated");
    // Another channel rates it once too.
    let mut web = good.clone();
    web["channel"] = json!("web");
    assert_eq!(rate(&app, &case, web.clone()).await.status, 201);
    rate(&app, &case, web.clone()).await.expect(409, "invalid_transition");
    let dev = device_key(&app, window).await;
    let at_counter = json!({"case_number": "SP-1", "level": "satisfied"});
    let d = device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(at_counter.clone())).await;
    assert_eq!(d.status, 201, "{}", d.json);
    device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(at_counter.clone()))
        .await
        .expect(409, "invalid_transition");

    // Reopened, it is still rated once per channel.
    push(&app, Some(&key), "SP-1", {
        let mut b = case_body(None);
        b["window_code"] = json!("W-01");
        b
    })
    .await
    .ok();
    rate(&app, &case, good.clone()).await.expect(409, "invalid_transition");
    device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(at_counter))
        .await
        .expect(409, "invalid_transition");

    // The web rates only a finished case, and only by a receipt's code.
    let open = push(&app, Some(&key), "SP-2", case_body(None)).await;
    let open_code = format!("c{}", open.json["rating_code"].as_str().unwrap());
    let r = rate(&app, &open_code, web.clone()).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "case_not_finished");
    rate(&app, &format!("w{window}"), web).await.expect(404, "unknown_code");

    // A bad rating names a reason; every bad field is named; nothing is stored.
    let r = rate(&app, &open_code, json!({"level": "dissatisfied", "comment": "x".repeat(501), "phone": "123"})).await;
    r.expect(422, "validation_failed");
    let fields: Vec<&str> =
        r.json["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reasons", "comment", "phone"]);
    rate(&app, &open_code, json!({"level": "great"})).await.expect(422, "validation_failed");
    rate(&app, &open_code, json!({"level": "satisfied", "stars": 5})).await.expect(422, "validation_failed");
    let r =
        rate(&app, &open_code, json!({"level": "dissatisfied", "reasons": ["long_wait"], "comment": "等了两个小时"}))
            .await;
    assert_eq!(r.status, 201, "{}", r.json);

    // A window's code without a case: held for review; with a case served there: counted; a case
    // from elsewhere is unknown here.
    let w = format!("w{window}");
    let held = rate(&app, &w, json!({"level": "satisfied"})).await;
    assert_eq!((held.json["status"].as_str(), held.json["hold_reason"].as_str()), (Some("held"), Some("no_case")));
    let linked = rate(&app, &w, json!({"level": "satisfied", "case_number": "SP-1"})).await;
    linked.expect(409, "invalid_transition");
    rate(&app, &w, json!({"level": "satisfied", "case_number": "SP-2"})).await.expect(422, "validation_failed");
    push(&app, Some(&key), "SP-3", case_body(None)).await.ok();
    let staff =
        rate(&app, &format!("s{}", app.ids["person_a"]), json!({"level": "basic", "case_number": "SP-3"})).await;
    assert_eq!(staff.json["status"], "counted", "{}", staff.json);
    for unknown in ["w999999", "cffffffffffffffff", "zz", "s0", "w1x", "c%3Cscript%3E"] {
        rate(&app, unknown, json!({"level": "satisfied"})).await.expect(404, "unknown_code");
        let page = anon(&app, Method::GET, &format!("/api/v1/public/rating-pages/{unknown}"), None).await;
        page.expect(404, "unknown_code");
    }

    // What the office reads: every rating, each once in the ledger.
    let office = app.login("office").await;
    let all = app.get("/api/v1/ratings?page_size=50", &office).await;
    assert_eq!(all.ok()["total"], 6, "{}", all.json);
    let ev = app.get("/api/v1/events?kind=rating.given", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 6);
    assert_eq!(app.get("/api/v1/ratings?status=held", &office).await.ok()["total"], 1);
    assert_eq!(app.get("/api/v1/ratings?bad=true", &office).await.ok()["total"], 1);
    let bad = &app.get("/api/v1/ratings?bad=true", &office).await.json["items"][0];
    assert_eq!((bad["reasons"][0]["zh"].as_str(), bad["case_number"].as_str()), (Some("等待时间长"), Some("SP-2")));
    assert_eq!(app.get("/api/v1/ratings?channel=device", &office).await.ok()["total"], 1);
    app.get("/api/v1/ratings?level=great&from=yesterday", &office).await.expect(422, "validation_failed");
});

both!(two_ratings_of_one_case_at_once_make_one, |app: TestApp| async move {
    let (_, code, _) = city(&app).await;
    let case = format!("c{code}");
    let (a, b) = tokio::join!(
        rate(&app, &case, json!({"level": "satisfied"})),
        rate(&app, &case, json!({"level": "very_dissatisfied", "reasons": ["attitude"]}))
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [201, 409], "{} {}", a.json, b.json);
    let office = app.login("office").await;
    assert_eq!(app.get("/api/v1/ratings", &office).await.ok()["total"], 1);
    assert_eq!(app.get("/api/v1/events?kind=rating.given", &office).await.ok()["items"].as_array().unwrap().len(), 1);
});

both!(the_raters_phone_is_sealed_masked_and_revealed_with_an_audit_entry, |app: TestApp| async move {
    let (_, code, _) = city(&app).await;
    let r = rate(
        &app,
        &format!("c{code}"),
        json!({"level": "very_dissatisfied", "reasons": ["attitude"], "phone": "139 1234 5009"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let found = places_holding(&app.db.location, app.store.db(), "13912345009").await;
    assert!(found.is_empty(), "the rater's phone is stored in clear in {found:?}");

    let office = app.login("office").await;
    let head = app.login("head_a").await;
    let staff = app.login("staff_a").await;
    let head_b = app.login("head_b").await;
    for s in [&office, &head] {
        let list = app.get("/api/v1/ratings", s).await;
        assert_eq!(list.ok()["items"][0]["phone"], "139****5009");
    }
    // The staff member rated reads the rating, never who gave it.
    let theirs = app.get("/api/v1/ratings", &staff).await;
    assert_eq!(theirs.ok()["total"], 1);
    assert_eq!(
        (&theirs.json["items"][0]["phone"], &theirs.json["items"][0]["has_phone"]),
        (&Value::Null, &json!(false))
    );
    assert_eq!(app.get("/api/v1/ratings", &head_b).await.ok()["total"], 0);

    let reveal = format!("/api/v1/ratings/{id}/reveal-phone");
    app.post(&reveal, &staff, json!({})).await.expect(403, "forbidden");
    app.post(&reveal, &head_b, json!({})).await.expect(404, "not_found");
    assert_eq!(app.post(&reveal, &head, json!({})).await.ok()["phone"], "13912345009");
    let log = app.get("/api/v1/audit?action=rating.phone_viewed", &app.login("auditor").await).await;
    assert_eq!(log.ok()["total"], 1, "{}", log.json);
    assert!(!log.json.to_string().contains("13912345009"));
    // A rating without a phone has none to reveal.
    let w = rate(&app, &format!("s{}", app.ids["person_a"]), json!({"level": "satisfied"})).await;
    app.post(&format!("/api/v1/ratings/{}/reveal-phone", w.json["id"]), &office, json!({}))
        .await
        .expect(404, "no_phone");
});

both!(reasons_are_versioned_and_a_rating_keeps_its_own, |app: TestApp| async move {
    let (window, code, _) = city(&app).await;
    let office = app.login("office").await;
    rate(&app, &format!("c{code}"), json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.ok();
    let current = app.get("/api/v1/rating-reasons", &office).await;
    assert_eq!(current.ok()["version"], 1);
    let mut reasons = current.json["reasons"].clone();
    reasons["dissatisfied"] = json!([{"code": "queue", "zh": "排队太久", "en": "Queued too long"}]);
    app.put("/api/v1/rating-reasons", &app.login("head_a").await, json!({"version": 1, "reasons": reasons.clone()}))
        .await
        .expect(403, "forbidden");
    let saved = app.put("/api/v1/rating-reasons", &office, json!({"version": 1, "reasons": reasons.clone()})).await;
    assert_eq!(saved.ok()["version"], 2);
    // Saved from a stale version: refused, nothing saved.
    app.put("/api/v1/rating-reasons", &office, json!({"version": 1, "reasons": reasons.clone()}))
        .await
        .expect(409, "state_changed");
    let mut empty = reasons.clone();
    empty["very_dissatisfied"] = json!([]);
    let r = app.put("/api/v1/rating-reasons", &office, json!({"version": 2, "reasons": empty})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["field"], "very_dissatisfied");
    // The old reason is no longer offered; the new one is; the old rating reads as it was given.
    let w = format!("w{window}");
    rate(&app, &w, json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.expect(422, "validation_failed");
    assert_eq!(rate(&app, &w, json!({"level": "dissatisfied", "reasons": ["queue"]})).await.status, 201);
    let list = app.get("/api/v1/ratings?bad=true", &office).await;
    let zh: Vec<&str> =
        list.ok()["items"].as_array().unwrap().iter().map(|r| r["reasons"][0]["zh"].as_str().unwrap()).collect();
    assert_eq!(zh, ["排队太久", "等待时间长"]);
});

both!(a_device_beats_is_offered_its_windows_case_and_rates_it, |app: TestApp| async move {
    let (window, _, system_key) = city(&app).await;
    let office = app.login("office").await;
    let no_window = app.post("/api/v1/api-clients", &office, json!({"kind": "device", "name": "评价器"})).await;
    no_window.expect(422, "validation_failed");
    let key = device_key(&app, window).await;
    // Keys do not cross: a system cannot act as a device, nor a device push cases.
    device(&app, &system_key, Method::GET, "/api/v1/device/case", None).await.expect(401, "invalid_key");
    push(&app, Some(&key), "SP-9", case_body(None)).await.expect(401, "invalid_key");

    let beat = device(
        &app,
        &key,
        Method::POST,
        "/api/v1/device/heartbeat",
        Some(json!({"status": "ok", "firmware": "PJ-2.1"})),
    )
    .await;
    assert_eq!((beat.ok()["case"]["number"].as_str(), beat.json["reasons_version"].as_i64()), (Some("SP-1"), Some(1)));
    device(&app, &key, Method::POST, "/api/v1/device/heartbeat", Some(json!({"status": "broken"})))
        .await
        .expect(422, "validation_failed");
    let clients = app.get("/api/v1/api-clients", &office).await;
    let dev = clients.ok().as_array().unwrap().iter().find(|c| c["kind"] == "device").unwrap().clone();
    assert_eq!(
        (dev["online"].as_bool(), dev["device_firmware"].as_str(), dev["window_name"].as_str()),
        (Some(true), Some("PJ-2.1"), Some("食品许可窗口"))
    );

    let offered = device(&app, &key, Method::GET, "/api/v1/device/case", None).await;
    assert_eq!(
        (offered.ok()["case"]["number"].as_str(), offered.json["case"]["staff"].as_str()),
        (Some("SP-1"), Some("张*"))
    );
    let r = device(
        &app,
        &key,
        Method::POST,
        "/api/v1/device/ratings",
        Some(json!({"case_number": "SP-1", "level": "very_satisfied"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        device(&app, &key, Method::GET, "/api/v1/device/case", None).await.ok()["case"],
        Value::Null,
        "a rated case is not offered again"
    );
    // A case not handled at the device's window is refused, naming the field.
    let r = device(
        &app,
        &key,
        Method::POST,
        "/api/v1/device/ratings",
        Some(json!({"case_number": "NOPE", "level": "satisfied"})),
    )
    .await;
    r.expect(422, "validation_failed");
    // Revoked, the device is refused at once.
    let id = dev["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/api-clients/{id}/revoke"), &office, json!({})).await.ok();
    device(&app, &key, Method::GET, "/api/v1/device/case", None).await.expect(401, "invalid_key");
    // The staff member cannot rate through any door: no permission gives it.
    let staff = app.login("staff_a").await;
    app.post("/api/v1/device/ratings", &staff, json!({"level": "very_satisfied"})).await.expect(401, "invalid_key");
});

both!(the_qr_page_is_a_form_without_script_that_rates, |app: TestApp| async move {
    let (window, code, _) = city(&app).await;
    let page = anon(&app, Method::GET, &format!("/r/c{code}"), None).await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.bytes.clone()).unwrap();
    assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(html.contains("SP-1") && html.contains("非常满意") && html.contains("张*"), "{html}");
    assert!(!html.contains("<script"), "the page carries no script");
    let en = anon(&app, Method::GET, &format!("/r/c{code}?lang=en"), None).await;
    assert!(String::from_utf8(en.bytes).unwrap().contains("Very satisfied"));

    // A bad rating without a reason: the form again, with the error and what was typed.
    let r = form(&app, &format!("/r/c{code}"), "level=dissatisfied&comment=%E5%A4%AA%E6%85%A2&lang=zh").await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.bytes));
    let html = String::from_utf8(r.bytes).unwrap();
    assert!(html.contains("差评须至少选择一个原因") && html.contains("太慢"), "{html}");
    // With it: to the thanks page. Reasons of another level sent along are not taken.
    let r = form(
        &app,
        &format!("/r/c{code}"),
        "level=dissatisfied&reasons_dissatisfied=long_wait&reasons_satisfied=efficient&lang=zh",
    )
    .await;
    assert_eq!((r.status.as_u16(), r.headers[header::LOCATION].to_str().unwrap()), (303, "/r/thanks?lang=zh&held=0"));
    let again = form(&app, &format!("/r/c{code}"), "level=satisfied").await;
    assert_eq!(again.status, 409);
    assert!(String::from_utf8(again.bytes).unwrap().contains("已通过扫码评价评价过"));
    let held = form(&app, &format!("/r/w{window}"), "level=satisfied&lang=en").await;
    assert_eq!(held.headers[header::LOCATION], "/r/thanks?lang=en&held=1");
    // The web: the receipt's code, then the form.
    let web = anon(&app, Method::GET, &format!("/rate?code={code}"), None).await;
    assert!(String::from_utf8(web.bytes).unwrap().contains("name=\"code\""));
    let r = form(&app, "/rate", &format!("code={code}&level=very_satisfied")).await;
    assert_eq!(r.status, 303);
    let r = form(&app, "/rate", "code=0000000000000000&level=very_satisfied").await;
    assert_eq!(r.status, 404);
    let missing = anon(&app, Method::GET, "/r/w999999", None).await;
    assert_eq!(missing.status, 404);

    let office = app.login("office").await;
    let list = app.get("/api/v1/ratings", &office).await;
    assert_eq!(list.ok()["total"], 3);
    let channels: Vec<&str> =
        list.json["items"].as_array().unwrap().iter().map(|r| r["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["web", "qr", "qr"]);
    // The QR codes the office prints carry the public address once it is set.
    let codes = app.get(&format!("/api/v1/rating-codes?window_id={window}"), &office).await;
    assert_eq!(codes.ok()["public_url_set"], false);
    app.put("/api/v1/settings/rating-policy", &office, json!({"public_url": "https://pj.city.gov.cn/"})).await.ok();
    let codes = app.get(&format!("/api/v1/rating-codes?window_id={window}"), &office).await;
    assert_eq!(codes.ok()["codes"][0]["url"], format!("https://pj.city.gov.cn/r/w{window}"));
    assert!(codes.json["codes"][0]["svg"].as_str().unwrap().starts_with("<?xml"));
    app.put("/api/v1/settings/rating-policy", &office, json!({"public_url": "pj.city"}))
        .await
        .expect(422, "validation_failed");
    app.get("/api/v1/rating-codes", &office).await.expect(422, "validation_failed");
});

/// Sets the guards: the defaults with these fields changed.
async fn guards(app: &TestApp, changes: Value) {
    let office = app.login("office").await;
    let mut p = app.get("/api/v1/settings/rating-policy", &office).await.ok().clone();
    for (k, v) in changes.as_object().unwrap() {
        p["guards"][k] = v.clone();
    }
    let r = app.put("/api/v1/settings/rating-policy", &office, p).await;
    assert_eq!(r.status, 200, "{}", r.json);
}

/// Cases SP-<from>… at the window, completed at `done` (city time); their rating codes.
async fn cases(app: &TestApp, key: &str, from: usize, n: usize, done: &str) -> Vec<String> {
    let mut codes = Vec::new();
    for i in from..from + n {
        let mut b = case_body(Some(done));
        b["window_code"] = json!("W-01");
        let p = push(app, Some(key), &format!("SP-{i}"), b).await;
        assert_eq!(p.status, 201, "{}", p.json);
        codes.push(format!("c{}", p.json["rating_code"].as_str().unwrap()));
    }
    codes
}

async fn ratings_total(app: &TestApp, query: &str) -> i64 {
    let office = app.login("office").await;
    app.get(&format!("/api/v1/ratings?{query}"), &office).await.ok()["total"].as_i64().unwrap()
}

both!(rate_limits_refuse_by_address_phone_and_device_and_store_nothing, |app: TestApp| async move {
    let (window, _, _) = city(&app).await;
    guards(
        &app,
        json!({"per_address": {"max": 3, "minutes": 60}, "per_phone": {"max": 2, "minutes": 1440}, "per_device": {"max": 2, "minutes": 1}}),
    )
    .await;
    // Behind a trusted proxy, so that the address is the one forwarded.
    let (router, _) = app
        .instance(xiaoneng_server::ServerConfig { trust_forwarded_headers: true, ..crate::support::test_config() })
        .await;
    let from = |ip: &str, body: Value| {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/public/rating-pages/w{window}/ratings"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", ip)
            .body(Body::from(body.to_string()))
            .unwrap();
        crate::support::send_to(&router, req)
    };
    let good = json!({"level": "satisfied"});
    for _ in 0..3 {
        assert_eq!(from("203.0.113.5", good.clone()).await.status, 201);
    }
    let r = from("203.0.113.5", good.clone()).await;
    r.expect(429, "rate_limited");
    assert_eq!(
        (r.json["details"]["scope"].as_str(), r.headers["retry-after"].to_str().unwrap()),
        (Some("address"), "3600")
    );
    assert_eq!(from("203.0.113.6", good.clone()).await.status, 201, "another address is not limited");
    assert_eq!(ratings_total(&app, "").await, 4, "the refused one is not stored");
    // An hour later the address may rate again.
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(from("203.0.113.5", good.clone()).await.status, 201);

    // Two naming one phone a day, from wherever.
    let phoned = json!({"level": "satisfied", "phone": "13900001111"});
    assert_eq!(from("198.51.100.1", phoned.clone()).await.status, 201);
    assert_eq!(from("198.51.100.2", phoned.clone()).await.status, 201);
    let r = from("198.51.100.3", phoned.clone()).await;
    r.expect(429, "rate_limited");
    assert_eq!(r.json["details"]["scope"], "phone");
    assert_eq!(from("198.51.100.3", json!({"level": "satisfied", "phone": "13900002222"})).await.status, 201);

    // Two a minute from one device; its address is not counted.
    let dev = device_key(&app, window).await;
    for _ in 0..2 {
        let d = device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(good.clone())).await;
        assert_eq!(d.status, 201, "{}", d.json);
    }
    let d = device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(good.clone())).await;
    d.expect(429, "rate_limited");
    assert_eq!(d.json["details"]["scope"], "device");
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(good.clone())).await.status, 201);

    // The page says so as a page; nothing stored by any refusal.
    let total = ratings_total(&app, "").await;
    for _ in 0..4 {
        form(&app, &format!("/r/w{window}"), "level=satisfied").await;
    }
    let page = form(&app, &format!("/r/w{window}"), "level=satisfied").await;
    assert_eq!(page.status, 429);
    assert!(String::from_utf8_lossy(&page.bytes).contains("评价过于频繁"));
    assert_eq!(ratings_total(&app, "").await, total + 3);
    // The guards themselves are checked.
    let office = app.login("office").await;
    let mut p = app.get("/api/v1/settings/rating-policy", &office).await.ok().clone();
    p["guards"]["per_address"]["max"] = json!(0);
    p["guards"]["quick_seconds"] = json!(0);
    let r = app.put("/api/v1/settings/rating-policy", &office, p).await;
    r.expect(422, "validation_failed");
    let fields: Vec<&str> =
        r.json["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["guards.per_address.max", "guards.quick_seconds"]);
});

both!(each_holding_rule_holds_and_the_office_releases_or_rejects_with_a_reason, |app: TestApp| async move {
    let (window, _, key) = city(&app).await;
    // The clock stands at 09:00 city time: cases completed ten minutes ago, and ten seconds ago.
    let earlier = cases(&app, &key, 10, 8, "2026-11-02T08:50:00+08:00").await;
    // A burst from one phone: the fourth within the hour is held.
    let phoned = json!({"level": "very_satisfied", "phone": "13700001234"});
    for c in &earlier[..3] {
        assert_eq!(rate(&app, c, phoned.clone()).await.json["status"], "counted");
    }
    let r = rate(&app, &earlier[3], phoned.clone()).await;
    assert_eq!((r.json["status"].as_str(), r.json["hold_reason"].as_str()), (Some("held"), Some("phone_burst")));
    let phone_burst = r.json["id"].as_i64().unwrap();
    // A burst from one device: the fourth within two minutes is held.
    let dev = device_key(&app, window).await;
    let mut last = Value::Null;
    for n in 14..18 {
        let body = json!({"case_number": format!("SP-{n}"), "level": "very_satisfied"});
        last = device(&app, &dev, Method::POST, "/api/v1/device/ratings", Some(body)).await.json;
    }
    assert_eq!((last["status"].as_str(), last["hold_reason"].as_str()), (Some("held"), Some("device_burst")));
    // Rated within seconds of completion, in bulk: the sixth at the window is held.
    let quick = cases(&app, &key, 30, 6, "2026-11-02T08:59:50+08:00").await;
    for c in &quick[..5] {
        assert_eq!(rate(&app, c, json!({"level": "very_satisfied"})).await.json["status"], "counted");
    }
    let r = rate(&app, &quick[5], json!({"level": "very_satisfied"})).await;
    assert_eq!(r.json["hold_reason"], "quick_bulk", "{}", r.json);
    let quick_bulk = r.json["id"].as_i64().unwrap();

    // What the office sees; a held rating counts nowhere until released.
    let office = app.login("office").await;
    let held = app.get("/api/v1/ratings?status=held", &office).await;
    assert_eq!(held.ok()["total"], 3);
    assert_eq!(ratings_total(&app, "hold_reason=quick_bulk").await, 1);
    assert_eq!(held.json["items"][0]["quick"], true);

    // Review: a reason is required, only the office reviews, all or nothing.
    let review =
        |ids: Vec<i64>, decision: &str, reason: &str| json!({"ids": ids, "decision": decision, "reason": reason});
    let head = app.login("head_a").await;
    app.post("/api/v1/ratings/review", &head, review(vec![phone_burst], "release", "x")).await.expect(403, "forbidden");
    app.post("/api/v1/ratings/review", &office, review(vec![phone_burst], "release", " "))
        .await
        .expect(422, "validation_failed");
    app.post("/api/v1/ratings/review", &office, review(vec![phone_burst], "approve", "x"))
        .await
        .expect(422, "validation_failed");
    app.post("/api/v1/ratings/review", &office, review(vec![], "release", "x")).await.expect(422, "validation_failed");
    let counted = ratings_total(&app, "status=counted").await;
    let r = app
        .post("/api/v1/ratings/review", &office, review(vec![phone_burst, counted_id(&app).await], "release", "x"))
        .await;
    r.expect(409, "invalid_transition");
    assert_eq!(ratings_total(&app, "status=held").await, 3, "a refused review changes nothing");
    let r =
        app.post("/api/v1/ratings/review", &office, review(vec![phone_burst], "release", "核实为同一人多次办事")).await;
    assert_eq!((r.status.as_u16(), r.json["status"].as_str()), (200, Some("counted")), "{}", r.json);
    let r = app.post("/api/v1/ratings/review", &office, review(vec![quick_bulk], "reject", "工作人员代评")).await;
    assert_eq!(r.json["status"], "rejected");
    app.post("/api/v1/ratings/review", &office, review(vec![quick_bulk], "release", "x"))
        .await
        .expect(409, "invalid_transition");
    assert_eq!(ratings_total(&app, "status=counted").await, counted + 1);
    let rejected = &app.get("/api/v1/ratings?status=rejected", &office).await.json["items"][0];
    assert_eq!(
        (rejected["review_reason"].as_str(), rejected["reviewed_by_name"].is_string()),
        (Some("工作人员代评"), true)
    );
    let kinds = |k: &str| {
        let (app, office) = (&app, &office);
        let k = k.to_owned();
        async move { app.get(&format!("/api/v1/events?kind={k}"), office).await.ok()["items"].as_array().unwrap().len() }
    };
    assert_eq!((kinds("rating.released").await, kinds("rating.rejected").await), (1, 1));
});

async fn counted_id(app: &TestApp) -> i64 {
    let office = app.login("office").await;
    app.get("/api/v1/ratings?status=counted&page_size=1", &office).await.ok()["items"][0]["id"].as_i64().unwrap()
}

both!(a_window_far_above_its_peers_is_held_until_the_office_reviews_it, |app: TestApp| async move {
    let (window, _, key) = city(&app).await;
    guards(&app, json!({"outlier_min_ratings": 10, "per_address": {"max": 1000, "minutes": 60}})).await;
    let office = app.login("office").await;
    let peer = new_window(&app, "W-02", "综合窗口", "02").await;
    // The peer: 20 ratings, half below the top level. The window: 12, all at the top (0.5^12 ≈ 0.0002).
    for i in 0..20 {
        let mut b = case_body(Some("2026-11-02T08:40:00+08:00"));
        b["window_code"] = json!("W-02");
        push(&app, Some(&key), &format!("PEER-{i}"), b).await.ok();
        let level = if i % 2 == 0 { "satisfied" } else { "very_satisfied" };
        let r = rate(&app, &format!("w{peer}"), json!({"level": level, "case_number": format!("PEER-{i}")})).await;
        assert_eq!(r.json["status"], "counted", "{}", r.json);
    }
    // The window: 15 at the top and one bad one (P(X ≤ 1) for 16 at 0.5 ≈ 0.00026).
    let ours = cases(&app, &key, 100, 16, "2026-11-02T08:40:00+08:00").await;
    for c in &ours[..15] {
        assert_eq!(rate(&app, c, json!({"level": "very_satisfied"})).await.json["status"], "counted");
    }
    let bad = rate(&app, &ours[15], json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await;
    assert_eq!(bad.json["status"], "counted");
    let held = xiaoneng_server::ratings::hold_outliers(&app.store, app.clock_now()).await.unwrap();
    assert_eq!(held, 15, "the good ones; the bad one keeps counting, with its ticket");
    let r = app.get(&format!("/api/v1/ratings?window_id={window}&status=held"), &office).await;
    assert_eq!(r.ok()["total"], 15);
    let o = &r.json["items"][0]["outlier"];
    assert_eq!(
        (o["ratings"].as_i64(), o["below_top"].as_i64(), o["peers_share"].as_f64()),
        (Some(16), Some(1), Some(0.5))
    );
    assert_eq!(ratings_total(&app, &format!("window_id={peer}&status=counted")).await, 20, "the peers are untouched");
    assert_eq!(app.get("/api/v1/events?kind=rating.held", &office).await.ok()["items"].as_array().unwrap().len(), 15);
    // While its ratings are held, a new one at the window is held too; a second pass holds nothing more.
    let c = cases(&app, &key, 200, 1, "2026-11-02T08:40:00+08:00").await;
    assert_eq!(rate(&app, &c[0], json!({"level": "very_satisfied"})).await.json["hold_reason"], "window_outlier");
    assert_eq!(xiaoneng_server::ratings::hold_outliers(&app.store, app.clock_now()).await.unwrap(), 0);
    // Released after a look, they count, and the window is judged on what comes after.
    let ids: Vec<i64> =
        app.get(&format!("/api/v1/ratings?window_id={window}&status=held&page_size=50"), &office).await.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
    assert_eq!(ids.len(), 16);
    let r = app
        .post("/api/v1/ratings/review", &office, json!({"ids": ids, "decision": "release", "reason": "抽查回访属实"}))
        .await;
    assert_eq!(r.ok()["reviewed"], 16);
    assert_eq!(xiaoneng_server::ratings::hold_outliers(&app.store, app.clock_now()).await.unwrap(), 0);
    assert_eq!(ratings_total(&app, &format!("window_id={window}&status=counted")).await, 17);
    let tickets = app.get("/api/v1/tickets", &office).await;
    assert_eq!(tickets.ok()["total"], 1, "one ticket, the bad rating's");
});

both!(measures_count_what_counts_and_rank_by_the_lower_bound, |app: TestApp| async move {
    let (window, code, key) = city(&app).await;
    let office = app.login("office").await;
    let peer = new_window(&app, "W-02", "综合窗口", "02").await;
    // W-01: SP-1 very satisfied, SP-2 dissatisfied (its ticket verified), SP-3 finished unrated,
    // and a rating naming no case, held.
    rate(&app, &format!("c{code}"), json!({"level": "very_satisfied"})).await.ok();
    let c = cases(&app, &key, 2, 2, "2026-11-02T08:40:00+08:00").await;
    rate(&app, &c[0], json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.ok();
    rate(&app, &format!("w{window}"), json!({"level": "very_satisfied"})).await.ok();
    let head = app.login("head_a").await;
    let t = app.get("/api/v1/tickets", &head).await.ok()["items"][0]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/tickets/{t}/steps"), &head, json!({"action": "verify", "text": "属实"})).await.ok();
    // W-02: three of three good.
    for i in 0..3 {
        let mut b = case_body(Some("2026-11-02T08:40:00+08:00"));
        b["window_code"] = json!("W-02");
        push(&app, Some(&key), &format!("PEER-{i}"), b).await.ok();
        rate(&app, &format!("w{peer}"), json!({"level": "satisfied", "case_number": format!("PEER-{i}")})).await.ok();
    }
    let table = app.get("/api/v1/rating-measures?group=window&month=2026-11", &office).await;
    let rows = table.ok()["rows"].as_array().unwrap().clone();
    assert_eq!((table.json["from"].as_str(), table.json["to"].as_str()), (Some("2026-11-01"), Some("2026-11-30")));
    let row = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    let w1 = row(window);
    assert_eq!(
        (w1["ratings"].as_i64(), w1["good"].as_i64(), w1["bad"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "the held one counts nowhere"
    );
    assert_eq!(w1["satisfaction_rate"], 0.5);
    assert_eq!((w1["cases"].as_i64(), w1["rated_cases"].as_i64()), (Some(3), Some(2)));
    let (active, unrated) = (w1["active_rate"].as_f64().unwrap(), w1["unrated_rate"].as_f64().unwrap());
    assert!((active - 2.0 / 3.0).abs() < 1e-9 && (unrated - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        (w1["tickets"].as_i64(), w1["reply_rate"].as_f64(), w1["rectification_rate"].as_f64()),
        (Some(1), Some(1.0), Some(0.0))
    );
    assert!(w1["callback_satisfaction"].is_null());
    let w2 = row(peer);
    assert_eq!(
        (w2["satisfaction_rate"].as_f64(), w2["rank"].as_i64(), w1["rank"].as_i64()),
        (Some(1.0), Some(1), Some(2))
    );
    assert_eq!(rows[0]["id"], peer, "ranked first");
    // Another month has nothing; another department sees nothing of these; bad input is named.
    let dec = app.get("/api/v1/rating-measures?month=2026-12", &office).await;
    assert!(dec.ok()["rows"].as_array().unwrap().is_empty());
    let head_b = app.login("head_b").await;
    assert!(
        app.get("/api/v1/rating-measures?month=2026-11", &head_b).await.ok()["rows"].as_array().unwrap().is_empty()
    );
    let by_dept = app
        .get(
            &format!("/api/v1/rating-measures?group=department&month=2026-11&department_id={}", app.ids["dept_a"]),
            &office,
        )
        .await;
    assert_eq!(by_dept.ok()["rows"][0]["ratings"], 5);
    for bad in ["group=city", "month=2026-13", "from=2026-11-01", "from=2026-11-30&to=2026-11-01"] {
        app.get(&format!("/api/v1/rating-measures?{bad}"), &office).await.expect(422, "validation_failed");
    }
});

both!(the_office_publishes_a_months_ranking_and_the_public_reads_it_without_personal_data, |app: TestApp| async move {
    let (window, code, _) = city(&app).await;
    rate(&app, &format!("c{code}"), json!({"level": "satisfied"})).await.ok();
    let office = app.login("office").await;
    // November is not over on 2 November.
    let r = app.post("/api/v1/rating-rankings", &office, json!({"month": "2026-11"})).await;
    r.expect(422, "validation_failed");
    app.post("/api/v1/rating-rankings", &office, json!({"month": "11/2026"})).await.expect(422, "validation_failed");
    let head = app.login("head_a").await;
    app.post("/api/v1/rating-rankings", &head, json!({"month": "2026-11"})).await.expect(403, "forbidden");
    app.clock.advance(chrono::Duration::days(30));
    let office = app.login("office").await;
    let r = app.post("/api/v1/rating-rankings", &office, json!({"month": "2026-11"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        (r.json["windows"][0]["window_id"].as_i64(), r.json["windows"][0]["rank"].as_i64()),
        (Some(window), Some(1))
    );
    app.post("/api/v1/rating-rankings", &office, json!({"month": "2026-11"})).await.expect(409, "already_published");
    // Frozen: a rating given later changes nothing published.
    rate(&app, &format!("c{code}"), json!({"level": "satisfied", "channel": "web"})).await.ok();
    let published = anon(&app, Method::GET, "/api/v1/public/rankings/2026-11", None).await;
    assert_eq!(published.ok()["windows"][0]["ratings"], 1);
    anon(&app, Method::GET, "/api/v1/public/rankings/2026-10", None).await.expect(404, "not_published");
    // The pages: no script, no staff names.
    for path in
        ["/public/rankings".to_owned(), "/public/rankings/2026-11".to_owned(), format!("/public/windows/{window}")]
    {
        let page = anon(&app, Method::GET, &path, None).await;
        assert_eq!(page.status, 200, "{path}");
        let html = String::from_utf8_lossy(&page.bytes).to_string();
        assert!(html.contains("食品许可窗口") && !html.contains("<script") && !html.contains("张"), "{path}: {html}");
    }
    let dept = anon(&app, Method::GET, &format!("/public/departments/{}", app.ids["dept_a"]), None).await;
    assert!(String::from_utf8_lossy(&dept.bytes).contains("100.0%"));
    for missing in ["/public/windows/999999", "/public/windows/1x", "/public/departments/0"] {
        assert_eq!(anon(&app, Method::GET, missing, None).await.status, 404, "{missing}");
    }
});

both!(complaints_are_limited_by_address_and_phone_and_store_nothing_beyond, |app: TestApp| async move {
    let (window, _, _) = city(&app).await;
    guards(&app, json!({"per_address": {"max": 2, "minutes": 60}, "per_phone": {"max": 1, "minutes": 1440}})).await;
    let (router, _) = app
        .instance(xiaoneng_server::ServerConfig { trust_forwarded_headers: true, ..crate::support::test_config() })
        .await;
    let from = |ip: &str, body: Value| {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/public/rating-pages/w{window}/complaints"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", ip)
            .body(Body::from(body.to_string()))
            .unwrap();
        crate::support::send_to(&router, req)
    };
    let complaints = || async {
        let office = app.login("office").await;
        app.get("/api/v1/tickets?source=complaint", &office).await.ok()["total"].clone()
    };
    assert_eq!(from("203.0.113.7", json!({"content": "窗口无人"})).await.status, 201);
    assert_eq!(from("203.0.113.7", json!({"content": "态度差", "phone": "13900005678"})).await.status, 201);
    let r = from("203.0.113.7", json!({"content": "第三次"})).await;
    r.expect(429, "rate_limited");
    assert_eq!(
        (r.json["details"]["scope"].as_str(), r.headers["retry-after"].to_str().unwrap()),
        (Some("address"), "3600")
    );
    // The same phone from elsewhere: once a day.
    let r = from("198.51.100.9", json!({"content": "再投诉", "phone": "139 0000 5678"})).await;
    r.expect(429, "rate_limited");
    assert_eq!(r.json["details"]["scope"], "phone");
    assert_eq!(complaints().await, 2);
    // Another address, no phone: taken; and the limit is the hour's.
    assert_eq!(from("198.51.100.9", json!({"content": "另一件事"})).await.status, 201);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(from("203.0.113.7", json!({"content": "一小时后"})).await.status, 201);
    assert_eq!(complaints().await, 4);
    // The form says so on a page of its own, with when to try again.
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/r/w{window}/complaint"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", "203.0.113.7")
        .body(Body::from("content=%E5%86%8D%E6%AC%A1&lang=zh"))
        .unwrap();
    assert_eq!(crate::support::send_to(&router, req).await.status, 303);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/r/w{window}/complaint"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", "203.0.113.7")
        .body(Body::from("content=%E5%86%8D%E6%AC%A1&lang=zh"))
        .unwrap();
    let page = crate::support::send_to(&router, req).await;
    assert_eq!((page.status.as_u16(), page.headers["retry-after"].to_str().unwrap()), (429, "3600"));
    assert!(String::from_utf8_lossy(&page.bytes).contains("无法提交投诉"));
});

both!(ratings_given_at_once_share_commits_and_each_is_answered_on_its_own, |app: TestApp| async move {
    let (window, code, _) = city(&app).await;
    guards(&app, json!({"per_address": {"max": 1000, "minutes": 60}})).await;
    // A window retired and a staff member gone: their codes are no longer known.
    let office = app.login("office").await;
    let gone = new_window(&app, "W-09", "撤并窗口", "09").await;
    app.post(&format!("/api/v1/windows/{gone}/retire"), &office, json!({"reason": "撤并"})).await.ok();
    let left = app
        .post(
            "/api/v1/people",
            &office,
            json!({"employee_no": "L-1", "name": "吴九", "gender": "male", "department_id": app.ids["dept_a"]}),
        )
        .await;
    let left = left.json["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/people/{left}/retire"), &office, json!({"reason": "调离"})).await.ok();
    // Sixty at once from the window's code, one from a staff member's, the same case rated twice
    // on one channel, and the codes of the retired window and the staff member gone: the batch
    // they share stores every good one and refuses only the second of the case and the two
    // codes no longer known.
    let case = format!("c{code}");
    let at_window = format!("w{window}");
    let mut calls = Vec::new();
    for i in 0..60 {
        let body = json!({"level": "satisfied", "comment": format!("g{i}")});
        calls.push(rate(&app, &at_window, body));
    }
    let twice = json!({"level": "very_satisfied", "reasons": ["efficient"]});
    let good = json!({"level": "satisfied"});
    let (at_staff, at_gone, at_left) = (format!("s{}", app.ids["person_a"]), format!("w{gone}"), format!("s{left}"));
    let (many, a, b, staff, retired, gone_staff) = tokio::join!(
        futures::future::join_all(calls),
        rate(&app, &case, twice.clone()),
        rate(&app, &case, twice),
        rate(&app, &at_staff, good.clone()),
        rate(&app, &at_gone, good.clone()),
        rate(&app, &at_left, good),
    );
    assert!(many.iter().all(|r| r.status == 201), "{:?}", many.iter().map(|r| r.status).collect::<Vec<_>>());
    let mut ids: Vec<i64> = many.iter().map(|r| r.json["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 60, "each answered with its own rating");
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [201, 409], "{} {}", a.json, b.json);
    assert_eq!(staff.status, 201, "{}", staff.json);
    retired.expect(404, "unknown_code");
    gone_staff.expect(404, "unknown_code");
    assert_eq!(ratings_total(&app, "").await, 62);
    // Each with its own event and audit entry, the chain intact.
    let ev = app.get("/api/v1/events?kind=rating.given&page_size=100", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 62);
    let auditor = app.login("auditor").await;
    assert_eq!(app.get("/api/v1/audit/verify", &auditor).await.ok()["intact"], true);
});

both!(ratings_at_once_are_held_to_the_guards_as_one_after_another_would_be, |app: TestApp| async move {
    let (window, _, key) = city(&app).await;
    guards(
        &app,
        json!({"per_address": {"max": 5, "minutes": 60}, "phone_burst": {"max": 2, "minutes": 60}, "per_phone": {"max": 10, "minutes": 1440}}),
    )
    .await;
    // Twenty cases rated at once from one address, naming one phone: however the ratings share
    // commits, five are taken — two counted, and the three past the phone's burst held — and
    // fifteen are refused by the address's limit.
    let codes = cases(&app, &key, 100, 20, "2026-11-02T08:50:00+08:00").await;
    let calls = codes.iter().map(|c| rate(&app, c, json!({"level": "satisfied", "phone": "13700009876"})));
    let answers = futures::future::join_all(calls).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [[201; 5].as_slice(), &[429; 15]].concat());
    assert!(answers.iter().filter(|r| r.status == 429).all(|r| r.json["details"]["scope"] == "address"));
    let mut taken: Vec<(i64, String)> = answers
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| (r.json["id"].as_i64().unwrap(), r.json["hold_reason"].as_str().unwrap_or("-").to_owned()))
        .collect();
    taken.sort();
    let reasons: Vec<&str> = taken.iter().map(|(_, h)| h.as_str()).collect();
    assert_eq!(reasons, ["-", "-", "phone_burst", "phone_burst", "phone_burst"], "in the order they were stored");
    assert_eq!(ratings_total(&app, "").await, 5);
    // An hour on, the address may rate five more.
    app.clock.advance(chrono::Duration::minutes(61));
    let at_window = format!("w{window}");
    let calls = (0..8).map(|i| rate(&app, &at_window, json!({"level": "satisfied", "comment": format!("c{i}")})));
    let answers = futures::future::join_all(calls).await;
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 5);
    assert_eq!(ratings_total(&app, "").await, 10);
});
