//! Tickets for bad ratings and complaints, on both databases: a bad rating that counts opens one
//! for its department (a held one when released); the department verifies, rectifies and calls
//! back, an unsatisfied rater sends it back once; an appeal overturned takes the rating out of
//! every count, one upheld restarts the stage; reminders and overdue marks with a controlled
//! clock; complaints from the public page as JSON and as the form; scope.

use axum::http::Method;
use serde_json::{Value, json};

use crate::{
    both,
    ratings::{anon, city, form, rate},
    support::TestApp,
};

async fn tickets(app: &TestApp, who: &str, query: &str) -> Value {
    let s = app.login(who).await;
    app.get(&format!("/api/v1/tickets?{query}"), &s).await.ok().clone()
}

async fn step(app: &TestApp, who: &str, id: i64, body: Value) -> crate::support::Resp {
    let s = app.login(who).await;
    app.post(&format!("/api/v1/tickets/{id}/steps"), &s, body).await
}

fn kinds(detail: &Value) -> Vec<String> {
    detail["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap().to_owned()).collect()
}

both!(
    a_bad_rating_opens_a_ticket_the_department_works_and_an_unsatisfied_callback_reopens_once,
    |app: TestApp| async move {
        let (_, code, _) = city(&app).await;
        let r = rate(
            &app,
            &format!("c{code}"),
            json!({"level": "very_dissatisfied", "reasons": ["attitude"], "comment": "态度生硬"}),
        )
        .await;
        assert_eq!(r.json["status"], "counted", "{}", r.json);
        let list = tickets(&app, "head_a", "").await;
        assert_eq!(list["total"], 1, "{list}");
        let t = &list["items"][0];
        // Opened Monday 2 November: five working days to verify.
        assert_eq!(
            (t["state"].as_str(), t["due"].as_str(), t["source"].as_str()),
            (Some("verifying"), Some("2026-11-09"), Some("bad_rating"))
        );
        assert_eq!(t["content"], "态度生硬");
        assert!(t["number"].as_str().unwrap().starts_with("GD-2026-"));
        let id = t["id"].as_i64().unwrap();
        // Another department sees none of it.
        assert_eq!(tickets(&app, "head_b", "").await["total"], 0);
        let head_b = app.login("head_b").await;
        app.get(&format!("/api/v1/tickets/{id}"), &head_b).await.expect(404, "not_found");
        step(&app, "head_b", id, json!({"action": "verify", "text": "x"})).await.expect(404, "not_found");

        // The department's steps, each with what it did; the office may not verify for it.
        step(&app, "head_a", id, json!({"action": "verify", "text": " "})).await.expect(422, "validation_failed");
        step(&app, "head_a", id, json!({"action": "approve"})).await.expect(422, "validation_failed");
        let r = step(&app, "office", id, json!({"action": "verify", "text": "x"})).await;
        r.expect(409, "invalid_transition");
        assert_eq!(r.json["details"]["reason"], "actor");
        // Two tabs verifying at once: one step is taken, the other is told the ticket moved.
        let (a, b) = tokio::join!(
            step(&app, "head_a", id, json!({"action": "verify", "text": "属实：窗口人员态度生硬"})),
            step(&app, "liaison_a", id, json!({"action": "verify", "text": "属实"}))
        );
        let mut codes = [a.status.as_u16(), b.status.as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "{} {}", a.json, b.json);
        let d = if a.status == 200 { a.json.clone() } else { b.json.clone() };
        assert_eq!((d["state"].as_str(), d["due"].as_str()), (Some("rectifying"), Some("2026-11-23")));
        assert_eq!(d["allowed_actions"], json!(["rectify", "appeal"]));
        step(&app, "head_a", id, json!({"action": "rectify", "text": "已批评教育"})).await.ok();
        step(&app, "head_a", id, json!({"action": "call_back"})).await.expect(422, "validation_failed");
        let d = step(&app, "head_a", id, json!({"action": "call_back", "satisfied": false, "text": "仍不满意"}))
            .await
            .ok()
            .clone();
        assert_eq!((d["state"].as_str(), d["reopened"].as_bool()), (Some("rectifying"), Some(true)));
        step(&app, "head_a", id, json!({"action": "rectify", "text": "调离窗口岗位"})).await.ok();
        // The second unsatisfied callback closes it, on record; the office may call back too.
        let d = step(&app, "office", id, json!({"action": "call_back", "satisfied": false, "text": "不满意"}))
            .await
            .ok()
            .clone();
        assert_eq!(
            (d["state"].as_str(), d["callback_satisfied"].as_bool(), d["due"].is_null()),
            (Some("closed"), Some(false), true)
        );
        assert_eq!(
            kinds(&d),
            [
                "ticket.opened",
                "ticket.verified",
                "ticket.rectified",
                "ticket.reopened",
                "ticket.rectified",
                "ticket.called_back"
            ]
        );
        assert!(d["allowed_actions"].as_array().unwrap().is_empty());
        step(&app, "head_a", id, json!({"action": "rectify", "text": "x"})).await.expect(409, "invalid_transition");
    }
);

both!(an_appeal_overturned_takes_the_rating_out_and_one_upheld_restarts_the_stage, |app: TestApp| async move {
    let (window, code, key) = city(&app).await;
    rate(&app, &format!("c{code}"), json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.ok();
    let mut b = crate::service::case_body(Some("2026-11-02T08:55:00+08:00"));
    b["window_code"] = json!("W-01");
    let other = crate::service::push(&app, Some(&key), "SP-2", b).await;
    let other_code = other.json["rating_code"].as_str().unwrap().to_owned();
    rate(&app, &format!("c{other_code}"), json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.ok();
    let list = tickets(&app, "office", "").await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    let (first, second) = (ids[0].min(ids[1]), ids[0].max(ids[1]));

    step(&app, "head_a", first, json!({"action": "appeal", "text": " "})).await.expect(422, "validation_failed");
    let d =
        step(&app, "head_a", first, json!({"action": "appeal", "text": "评价人系同行，监控可证"})).await.ok().clone();
    assert_eq!((d["state"].as_str(), d["due"].is_null()), (Some("appealed"), true));
    step(&app, "head_a", first, json!({"action": "overturn", "text": "x"})).await.expect(409, "invalid_transition");
    let d = step(&app, "office", first, json!({"action": "overturn", "text": "调阅监控属实，系恶意差评"}))
        .await
        .ok()
        .clone();
    assert_eq!(d["state"], "overturned");
    let office = app.login("office").await;
    let overturned = app.get(&format!("/api/v1/ratings?status=overturned&window_id={window}"), &office).await;
    assert_eq!(overturned.ok()["total"], 1, "the rating stays on record, counted nowhere");
    assert_eq!(app.get("/api/v1/ratings?status=counted&bad=true", &office).await.ok()["total"], 1);
    let ev = app.get("/api/v1/events?kind=rating.overturned", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 1);

    // Upheld: back to where it was, with the stage's days again; no second appeal.
    step(&app, "head_a", second, json!({"action": "appeal", "text": "误评"})).await.ok();
    let d = step(&app, "office", second, json!({"action": "uphold", "text": "证据不足"})).await.ok().clone();
    assert_eq!(
        (d["state"].as_str(), d["due"].as_str(), d["decision_reason"].as_str()),
        (Some("verifying"), Some("2026-11-09"), Some("证据不足"))
    );
    let r = step(&app, "head_a", second, json!({"action": "appeal", "text": "再诉"})).await;
    assert_eq!(r.json["details"]["reason"], "appealed_once", "{}", r.json);
});

both!(deadlines_are_reminded_then_marked_overdue_once_each, |app: TestApp| async move {
    let (_, code, _) = city(&app).await;
    rate(&app, &format!("c{code}"), json!({"level": "dissatisfied", "reasons": ["long_wait"]})).await.ok();
    let run = |days: i64| {
        let app = &app;
        async move {
            app.clock.advance(chrono::Duration::days(days));
            let tx = app.store.write().await.unwrap();
            let n = xiaoneng_server::tickets::remind(&tx, app.store.audit_algo(), app.clock_now(), true).await.unwrap();
            tx.commit().await.unwrap();
            n
        }
    };
    // Due Monday 9 November: nothing on Thursday the 5th; reminded on Friday the 6th, once.
    assert_eq!(run(3).await, 0);
    assert_eq!(run(1).await, 1);
    assert_eq!(run(0).await, 0);
    assert_eq!(run(3).await, 0, "on the day itself it is not overdue");
    assert_eq!(run(1).await, 1, "Tuesday the 10th: overdue");
    assert_eq!(run(1).await, 0);
    let office = app.login("office").await;
    assert_eq!(app.get("/api/v1/tickets?overdue=true", &office).await.ok()["total"], 1);
    for k in ["ticket.reminded", "ticket.overdue"] {
        let ev = app.get(&format!("/api/v1/events?kind={k}"), &office).await;
        assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 1, "{k}");
    }
    let head = app.login("head_a").await;
    let inbox = app.get("/api/v1/inbox?page_size=50", &head).await;
    let titles: Vec<&str> =
        inbox.ok()["notifications"]["items"].as_array().unwrap().iter().filter_map(|n| n["title"].as_str()).collect();
    assert!(titles.iter().any(|t| t.contains("已逾期")), "{titles:?}");
});

both!(a_complaint_from_the_public_page_opens_a_ticket_and_bad_input_changes_nothing, |app: TestApp| async move {
    let (window, _, _) = city(&app).await;
    let at = format!("/api/v1/public/rating-pages/w{window}/complaints");
    for bad in [json!({"content": " "}), json!({"content": "x", "phone": "123"}), json!({"content": "x", "photo": "y"})]
    {
        anon(&app, Method::POST, &at, Some(bad)).await.expect(422, "validation_failed");
    }
    anon(&app, Method::POST, "/api/v1/public/rating-pages/w999999/complaints", Some(json!({"content": "x"})))
        .await
        .expect(404, "unknown_code");
    assert_eq!(tickets(&app, "office", "").await["total"], 0, "nothing stored");
    let r =
        anon(&app, Method::POST, &at, Some(json!({"content": "窗口人员玩手机不理人", "phone": "13600001111"}))).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(r.json["number"].as_str().unwrap().starts_with("GD-"));
    let r = anon(&app, Method::POST, &at, Some(json!({"content": "部门电话无人接听", "about_department": true}))).await;
    assert_eq!(r.status, 201);
    let list = tickets(&app, "office", "source=complaint").await;
    let abouts: Vec<&str> = list["items"].as_array().unwrap().iter().map(|t| t["about"].as_str().unwrap()).collect();
    assert_eq!(abouts.len(), 2);
    assert!(abouts.contains(&"window") && abouts.contains(&"department"));
    let whole = list["items"].as_array().unwrap().iter().find(|t| t["about"] == "department").unwrap();
    assert!(whole["window_id"].is_null() && whole["person_id"].is_null(), "not filed against the window: {whole}");
    let phoned = list["items"].as_array().unwrap().iter().find(|t| t["about"] == "window").unwrap();
    assert_eq!(phoned["phone"], "136****1111");
    let id = phoned["id"].as_i64().unwrap();
    let office = app.login("office").await;
    let full = app.post(&format!("/api/v1/tickets/{id}/reveal-phone"), &office, json!({})).await;
    assert_eq!(full.ok()["phone"], "13600001111");
    // The form: a page without script, a redirect to the thanks page with the ticket's number.
    let page = anon(&app, Method::GET, &format!("/r/w{window}/complaint"), None).await;
    assert_eq!(page.status, 200);
    assert!(!String::from_utf8_lossy(&page.bytes).contains("<script"));
    let sent = form(&app, &format!("/r/w{window}/complaint"), "content=%E6%8E%A8%E8%AF%BF&lang=zh").await;
    assert_eq!(sent.status, 303, "{}", String::from_utf8_lossy(&sent.bytes));
    let to = sent.headers["location"].to_str().unwrap().to_owned();
    assert!(to.contains("ticket=GD-2026-"), "{to}");
    let thanks = anon(&app, Method::GET, &to, None).await;
    assert!(String::from_utf8_lossy(&thanks.bytes).contains("GD-2026-"));
    let empty = form(&app, &format!("/r/w{window}/complaint"), "content=&lang=zh").await;
    assert_eq!(empty.status, 422);
    assert_eq!(tickets(&app, "office", "source=complaint").await["total"], 3);
});

both!(a_held_bad_rating_opens_its_ticket_only_when_released, |app: TestApp| async move {
    let (window, _, _) = city(&app).await;
    let r = rate(&app, &format!("w{window}"), json!({"level": "very_dissatisfied", "reasons": ["attitude"]})).await;
    assert_eq!(r.json["status"], "held");
    assert_eq!(tickets(&app, "office", "").await["total"], 0);
    let office = app.login("office").await;
    let id = r.json["id"].as_i64().unwrap();
    app.post("/api/v1/ratings/review", &office, json!({"ids": [id], "decision": "release", "reason": "核实属实"}))
        .await
        .ok();
    let list = tickets(&app, "office", "").await;
    assert_eq!((list["total"].as_i64(), list["items"][0]["rating_id"].as_i64()), (Some(1), Some(id)));
});

/// A PNG as the first bytes say, and a little more.
fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    v.extend((0..2000).map(|i| (i % 251) as u8));
    v
}

both!(a_complaint_photo_is_checked_by_its_bytes_kept_and_shown_to_the_department_only, |app: TestApp| async move {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (window, _, _) = city(&app).await;
    let at = format!("/api/v1/public/rating-pages/w{window}/complaints");
    // Not a photo, whatever it is called; too large; not base64: refused, nothing kept.
    for (photo, code) in [
        (b64(b"<html><script>alert(1)</script></html>"), "not_a_photo"),
        (b64(&[png(), vec![0; 5 * 1024 * 1024]].concat()), "too_large"),
        ("%%%".to_owned(), "invalid_base64"),
    ] {
        let r = anon(&app, Method::POST, &at, Some(json!({"content": "窗口脏乱", "photo": photo}))).await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], code, "{}", r.json);
    }
    assert_eq!(tickets(&app, "office", "").await["total"], 0, "nothing stored");
    let r = anon(&app, Method::POST, &at, Some(json!({"content": "窗口脏乱", "photo": b64(&png())}))).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let t = &tickets(&app, "head_a", "").await["items"][0];
    assert_eq!(t["has_photo"], true);
    let id = t["id"].as_i64().unwrap();
    let head_a = app.login("head_a").await;
    let got = app.get(&format!("/api/v1/tickets/{id}/photo"), &head_a).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, png());
    assert_eq!(got.headers["content-type"], "image/png");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    let head_b = app.login("head_b").await;
    app.get(&format!("/api/v1/tickets/{id}/photo"), &head_b).await.expect(404, "not_found");
    let auditor = app.login("auditor").await;
    let audit = app.get("/api/v1/audit?action=ticket.photo_viewed", &auditor).await;
    assert_eq!(audit.ok()["total"], 1);

    // The page's form sends it as multipart, without script; an empty file input is no photo.
    let multipart = |photo: Option<&[u8]>| {
        let boundary = "XNBOUNDARY";
        let mut body = Vec::new();
        for (name, value) in [("content", "窗口人员离岗"), ("lang", "zh")] {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
            );
        }
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n")
                .bytes(),
        );
        body.extend(photo.unwrap_or_default());
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/r/w{window}/complaint"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .header("sec-fetch-site", "same-origin")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let page = anon(&app, Method::GET, &format!("/r/w{window}/complaint"), None).await;
    assert!(String::from_utf8_lossy(&page.bytes).contains("multipart/form-data"));
    assert_eq!(app.send(multipart(Some(&png()))).await.status, 303);
    assert_eq!(app.send(multipart(None)).await.status, 303);
    let bad = app.send(multipart(Some(b"MZ\x90\x00 an executable"))).await;
    assert_eq!(bad.status, 422);
    assert!(String::from_utf8_lossy(&bad.bytes).contains("只能上传照片"));
    let list = tickets(&app, "office", "").await;
    let photos: Vec<bool> = list["items"].as_array().unwrap().iter().map(|t| t["has_photo"] == true).collect();
    assert_eq!((photos.len(), photos.iter().filter(|p| **p).count()), (3, 2));
});
