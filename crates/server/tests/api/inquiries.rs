//! The first-inquiry log on both databases: an inquiry recorded and handed over is taken up and
//! answered, the chain read whole; who sees it; two tabs taking it up at once; bad input refused
//! and nothing stored; a refusal and missed limits (controlled clock) raised once each as lapses
//! the office reviews once — one made a finding that goes the way of every finding.

use serde_json::{Value, json};
use xiaoneng_core::rbac::Role;

use crate::{both, inspections::category, support::TestApp};

/// Accounts for the staff members of the fixture: 王芳 in A's division A1, 李娜 in B.
async fn staff(app: &TestApp) {
    app.add_linked_user("staff_a1", Role::Staff, Some(app.ids["dept_a1"]), Some(app.ids["person_a1"])).await;
    app.add_linked_user("staff_b", Role::Staff, Some(app.ids["dept_b"]), Some(app.ids["person_b"])).await;
}

async fn record(app: &TestApp, who: &str, body: Value) -> crate::support::Resp {
    let s = app.login(who).await;
    app.post("/api/v1/inquiries", &s, body).await
}

async fn step(app: &TestApp, who: &str, id: i64, body: Value) -> crate::support::Resp {
    let s = app.login(who).await;
    app.post(&format!("/api/v1/inquiries/{id}/steps"), &s, body).await
}

async fn list(app: &TestApp, who: &str, query: &str) -> Value {
    let s = app.login(who).await;
    app.get(&format!("/api/v1/inquiries?{query}"), &s).await.ok().clone()
}

fn kinds(d: &Value) -> Vec<String> {
    d["chain"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap().to_owned()).collect()
}

async fn count_inquiries(app: &TestApp) -> i64 {
    list(app, "office", "").await["total"].as_i64().unwrap()
}

both!(an_inquiry_handed_over_is_taken_up_and_answered_with_its_chain_whole, |app: TestApp| async move {
    staff(&app).await;
    let asked = json!({"channel": "counter", "asker": "王女士", "phone": "13900001234",
        "content": "个体工商户变更经营范围要带什么材料", "then": "hand_over", "text": "属发改委项目备案，请答复",
        "to": {"department_id": app.ids["dept_b"]}});
    // Bad input changes nothing: each field named.
    for (field, bad) in [
        ("content", json!({"content": " "})),
        ("channel", json!({"channel": "fax"})),
        ("phone", json!({"phone": "12345"})),
        ("then", json!({"then": "forget"})),
        ("to", json!({"to": null})),
        ("to", json!({"to": {"department_id": app.ids["dept_a"]}})),
        ("to.person_id", json!({"to": {"person_id": 999_999}})),
        ("note", json!({"text": ""})),
    ] {
        let mut body = asked.clone();
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = record(&app, "staff_a", body).await;
        assert_eq!(r.status, 422, "{field}: {}", r.json);
        let named = r.json["details"].as_array().map(|d| d.iter().any(|e| e["field"] == field)).unwrap_or(false);
        assert!(named, "{field}: {}", r.json);
    }
    assert_eq!(count_inquiries(&app).await, 0);
    // An account that is no staff member cannot record one.
    record(&app, "head_b", asked.clone()).await.expect(403, "not_staff");

    let r = record(&app, "staff_a", asked.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let d = r.json.clone();
    let id = d["id"].as_i64().unwrap();
    assert!(d["number"].as_str().unwrap().starts_with("SW-2026-"));
    // Monday 2 November: taken up by Tuesday, answered by Thursday; the asker masked everywhere.
    assert_eq!(
        (d["state"].as_str(), d["accept_due"].as_str(), d["due"].as_str()),
        (Some("pending"), Some("2026-11-03"), Some("2026-11-05"))
    );
    assert_eq!((d["asker"].as_str(), d["phone"].as_str()), (Some("王**"), Some("139****1234")));
    assert_eq!(
        (d["holder_department_name"].as_str(), d["holder_person_id"].as_i64()),
        (Some("发展和改革委员会"), None)
    );
    assert_eq!(d["allowed_actions"], json!([]));

    // Who sees it: the chain's departments and people, and whoever it waits for.
    assert_eq!(list(&app, "staff_b", "shelf=mine").await["total"], 1);
    assert_eq!(list(&app, "staff_a", "shelf=asked").await["total"], 1);
    assert_eq!(list(&app, "staff_a", "shelf=mine").await["total"], 0);
    assert_eq!(list(&app, "head_a", "").await["total"], 1);
    assert_eq!(list(&app, "head_b", "").await["total"], 1);
    assert_eq!(list(&app, "staff_a1", "").await["total"], 0);
    let a1 = app.login("staff_a1").await;
    app.get(&format!("/api/v1/inquiries/{id}"), &a1).await.expect(404, "not_found");
    let auditor = app.login("auditor").await;
    app.get("/api/v1/inquiries", &auditor).await.expect(403, "forbidden");
    // The one who handed it over cannot take it up for the receiver.
    let r = step(&app, "staff_a", id, json!({"action": "accept"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");

    // Two tabs taking it up at once: one does, the other is told it moved.
    let (x, y) = tokio::join!(
        step(&app, "staff_b", id, json!({"action": "accept"})),
        step(&app, "staff_b", id, json!({"action": "accept"}))
    );
    let mut codes = [x.status.as_u16(), y.status.as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{} {}", x.json, y.json);
    let d = list(&app, "staff_b", "shelf=mine").await;
    assert_eq!(d["items"][0]["holder_person_name"], "李娜");

    // Handed on to a named person, who takes it up and answers.
    step(&app, "staff_b", id, json!({"action": "hand_over", "text": "x"})).await.expect(422, "validation_failed");
    let r = step(
        &app,
        "staff_b",
        id,
        json!({"action": "hand_over", "text": "属登记注册科业务", "to": {"person_id": app.ids["person_a1"]}}),
    )
    .await;
    assert_eq!(r.json["holder_person_name"], "王芳", "{}", r.json);
    assert_eq!(list(&app, "staff_a1", "shelf=mine").await["total"], 1);
    step(&app, "staff_a1", id, json!({"action": "accept"})).await.ok();
    step(&app, "staff_a1", id, json!({"action": "answer", "text": " "})).await.expect(422, "validation_failed");
    let d =
        step(&app, "staff_a1", id, json!({"action": "answer", "text": "已电话告知所需材料清单"})).await.ok().clone();
    assert_eq!((d["state"].as_str(), d["answer"].as_str()), (Some("answered"), Some("已电话告知所需材料清单")));
    assert_eq!(
        kinds(&d),
        [
            "inquiry.recorded",
            "inquiry.handed_over",
            "inquiry.accepted",
            "inquiry.handed_over",
            "inquiry.accepted",
            "inquiry.answered"
        ]
    );
    let chain = d["chain"].as_array().unwrap();
    assert_eq!(
        (chain[1]["person_name"].as_str(), chain[1]["to_department_name"].as_str()),
        (Some("张伟"), Some("发展和改革委员会"))
    );
    assert_eq!(chain[3]["to_person_name"], "王芳");
    assert_eq!(chain[5]["text"], "已电话告知所需材料清单");
    step(&app, "staff_a1", id, json!({"action": "answer", "text": "again"})).await.expect(409, "invalid_transition");
    assert_eq!(list(&app, "staff_a1", "shelf=mine").await["total"], 0);

    // The full number, for the answer, is revealed on purpose and audited.
    let r = app.post(&format!("/api/v1/inquiries/{id}/reveal-phone"), &a1, json!({})).await;
    assert_eq!(r.ok()["phone"], "13900001234");
    let audit = app.get("/api/v1/audit?action=inquiry.phone_viewed", &auditor).await;
    assert_eq!(audit.ok()["total"], 1, "{}", audit.json);

    // Answered there and then: nothing waits for anyone.
    let mut now = asked.clone();
    now["then"] = json!("answer");
    now["text"] = json!("在3号窗口办理");
    now.as_object_mut().unwrap().remove("to");
    let d = record(&app, "staff_a", now).await;
    assert_eq!(d.json["state"], "answered", "{}", d.json);
    assert_eq!(kinds(&d.json), ["inquiry.recorded", "inquiry.answered"]);
});

both!(a_refusal_and_missed_limits_become_lapses_the_office_reviews_once, |app: TestApp| async move {
    staff(&app).await;
    let body = |to: Value| json!({"channel": "phone", "content": "企业投资项目备案流程", "then": "hand_over", "text": "请答复", "to": to});
    let refused =
        record(&app, "staff_a", body(json!({"person_id": app.ids["person_b"]}))).await.ok()["id"].as_i64().unwrap();
    step(&app, "staff_b", refused, json!({"action": "refuse"})).await.expect(422, "validation_failed");
    let d = step(&app, "staff_b", refused, json!({"action": "refuse", "text": "不是我的业务"})).await.ok().clone();
    // Back with the one who handed it over, to deal with.
    assert_eq!((d["state"].as_str(), d["holder_person_name"].as_str()), (Some("handling"), Some("张伟")));
    // A lapse is a candidate finding: the office sees it, the parties do not.
    assert_eq!(d["lapses"], json!([]));
    let office = app.login("office").await;
    let seen = app.get(&format!("/api/v1/inquiries/{refused}"), &office).await.ok().clone();
    assert_eq!(
        (seen["lapses"][0]["kind"].as_str(), seen["lapses"][0]["person_name"].as_str()),
        (Some("refused"), Some("李娜"))
    );
    let dropped =
        record(&app, "staff_a", body(json!({"department_id": app.ids["dept_b"]}))).await.ok()["id"].as_i64().unwrap();

    let run = |days: i64| {
        let app = &app;
        async move {
            app.clock.advance(chrono::Duration::days(days));
            let tx = app.store.write().await.unwrap();
            let n =
                xiaoneng_server::inquiries::raise_lapses(&tx, app.store.audit_algo(), app.clock_now()).await.unwrap();
            tx.commit().await.unwrap();
            n
        }
    };
    // Taken up by Tuesday the 3rd, answered by Thursday the 5th.
    assert_eq!(run(1).await, 0);
    assert_eq!(run(1).await, 1, "Wednesday: the hand-over was not taken up");
    assert_eq!(run(0).await, 0);
    // Friday: neither inquiry is answered.
    assert_eq!(run(2).await, 2);
    assert_eq!(run(0).await, 0);
    let office = app.login("office").await;
    let queue = app.get("/api/v1/inquiry-lapses?state=pending", &office).await.ok().clone();
    let queued: Vec<(&str, i64)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["inquiry_id"].as_i64().unwrap()))
        .collect();
    assert_eq!(queued, [("refused", refused), ("dropped", dropped), ("overdue", refused), ("overdue", dropped)]);
    let ev = app.get("/api/v1/events?kind=inquiry.dropped", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 1);
    let inbox = app.get("/api/v1/inbox", &office).await;
    assert!(inbox.ok()["tasks"].as_array().unwrap().iter().any(|t| t["kind"] == "review_lapses"), "{}", inbox.json);
    let b_inbox = app.get("/api/v1/inbox", &app.login("staff_b").await).await;
    assert!(b_inbox.ok()["tasks"].as_array().unwrap().iter().any(|t| t["kind"] == "inquiry" && t["overdue"] == true));
    // Only the office reviews.
    let staff_b = app.login("staff_b").await;
    app.get("/api/v1/inquiry-lapses", &staff_b).await.expect(403, "forbidden");

    let refusal = queue["items"][0]["id"].as_i64().unwrap();
    let review = |id: i64, body: Value| {
        let app = &app;
        let office = office.clone();
        async move { app.post(&format!("/api/v1/inquiry-lapses/{id}/review"), &office, body).await }
    };
    review(refusal, json!({"decision": "finding", "reason": " "})).await.expect(422, "validation_failed");
    review(refusal, json!({"decision": "finding", "reason": "确属推诿"})).await.expect(422, "validation_failed");
    review(refusal, json!({"decision": "maybe", "reason": "x"})).await.expect(422, "validation_failed");
    let cat = category(&app, &office, "FIRST_INQUIRY").await;
    let l =
        review(refusal, json!({"decision": "finding", "reason": "确属推诿", "category_id": cat})).await.ok().clone();
    assert_eq!(l["state"], "finding");
    let f = app.get(&format!("/api/v1/findings/{}", l["finding_id"]), &office).await.ok().clone();
    assert_eq!((f["state"].as_str(), f["person_id"].as_i64()), (Some("draft"), Some(app.ids["person_b"])));
    assert_eq!((f["plan_id"].as_i64(), f["category_name"].as_str()), (None, Some("违反首问负责")));
    assert!(f["description"].as_str().unwrap().contains("拒收推诿"), "{f}");
    // A finding like any other: the office confirms it.
    let c =
        app.post(&format!("/api/v1/findings/{}/steps", l["finding_id"]), &office, json!({"action": "confirm"})).await;
    assert_eq!(c.ok()["state"], "confirmed");
    // Once.
    let r = review(refusal, json!({"decision": "dismiss", "reason": "x"})).await;
    r.expect(409, "invalid_transition");
    let drop = queue["items"][1]["id"].as_i64().unwrap();
    let l = review(drop, json!({"decision": "dismiss", "reason": "部门已电话答复，未在系统登记"})).await.ok().clone();
    assert_eq!((l["state"].as_str(), l["finding_id"].as_i64()), (Some("dismissed"), None));
    let left = app.get("/api/v1/inquiry-lapses?state=pending", &office).await;
    assert_eq!(left.ok()["total"], 2);
    let ev = app.get("/api/v1/events?kind=inquiry.lapse_upheld", &office).await;
    assert_eq!(ev.ok()["items"].as_array().unwrap().len(), 1);
    // The review and the draft finding it made stay the office's until the department is told.
    let head_b = app.login("head_b").await;
    let theirs = app.get("/api/v1/events?kind=inquiry.lapse_upheld", &head_b).await;
    assert_eq!(theirs.ok()["items"].as_array().unwrap().len(), 0);
    let seen = app.get(&format!("/api/v1/inquiries/{refused}"), &head_b).await.ok().clone();
    assert_eq!(seen["lapses"], json!([]));
    assert!(!kinds(&seen).iter().any(|k| k.starts_with("inquiry.lapse_")), "{seen}");
});
