//! The event ledger: two users taking the same step at once (one wins, one is told, one event is
//! recorded), facts that are never overwritten (a late report stays late, an overdue order is
//! recorded), who may read which events, and the events list's filters and cursor.

use serde_json::{Value, json};

use crate::{
    both,
    inspections::{category, finding_body, notified_finding, plan_on_a},
    rectification::{bulletin_body, confirmed_findings},
    support::{Resp, Session, TestApp},
};

/// The events the office sees, filtered by the query string.
async fn events(app: &TestApp, s: &Session, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/events?limit=1000&{query}"), s).await;
    r.ok()["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// One of two racing steps won; the other was told that the record had moved on.
fn one_won(a: &Resp, b: &Resp) -> Value {
    let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(won.status, 200, "one of them wins: {} / {}", a.json, b.json);
    assert_eq!(lost.status, 409, "the other is refused: {}", lost.json);
    assert!(["state_changed", "invalid_transition"].contains(&lost.code()), "a lost race says so: {}", lost.json);
    won.json.clone()
}

both!(two_users_taking_one_step_at_once_make_one_event, |app: TestApp| async move {
    let office = app.login("office").await;

    // Upholding and overturning one appeal at the same moment.
    let f = notified_finding(&app).await;
    let head_a = app.login("head_a").await;
    app.post(&format!("/api/v1/findings/{f}/steps"), &head_a, json!({"action": "appeal", "reason": "有登记记录"}))
        .await
        .ok();
    let path = format!("/api/v1/findings/{f}/steps");
    let (a, b) = tokio::join!(
        app.post(&path, &office, json!({"action": "uphold", "reason": "经核实问题属实"})),
        app.post(&path, &office, json!({"action": "overturn", "reason": "经核实登记记录属实"}))
    );
    let won = one_won(&a, &b);
    let decided =
        events(&app, &office, &format!("aggregate=finding&aggregate_id={f}&kind=finding.upheld,finding.overturned"))
            .await;
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(app.get(&path.replace("/steps", ""), &office).await.ok()["state"], won["state"]);

    // Two tabs publishing one draft.
    let (fa, fb) = confirmed_findings(&app, &office).await;
    let draft = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa, fb], "internal", json!({"kind": "working_days", "days": 5})),
        )
        .await;
    let bid = draft.ok()["id"].as_i64().unwrap();
    let publish = format!("/api/v1/bulletins/{bid}/publish");
    let (a, b) = tokio::join!(
        app.post(&publish, &office, json!({"expected_state": "draft"})),
        app.post(&publish, &office, json!({"expected_state": "draft"}))
    );
    let published = one_won(&a, &b);
    assert_eq!(
        kinds(&events(&app, &office, &format!("aggregate=bulletin&aggregate_id={bid}&kind=bulletin.published")).await)
            .len(),
        1
    );
    assert_eq!(kinds(&events(&app, &office, "kind=order.issued").await).len(), 2, "one order per department, once");
    assert_eq!(app.get("/api/v1/orders", &office).await.ok()["total"], 2);

    // Accepting and returning one report at the same moment.
    let oa = published["orders"].as_array().unwrap().iter().find(|o| o["department_id"] == app.ids["dept_a"]).unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    let head_a = app.login("head_a").await;
    let d = app
        .put(
            &format!("/api/v1/orders/{oa}/report"),
            &head_a,
            json!({"cause": "纪律松弛", "measures": "AB岗", "responsible": "诫勉谈话"}),
        )
        .await;
    let rid = d.ok()["reports"][0]["id"].as_i64().unwrap();
    let step = format!("/api/v1/reports/{rid}/steps");
    app.post(&step, &head_a, json!({"action": "submit_report", "expected_state": "draft"})).await.ok();
    let (a, b) = tokio::join!(
        app.post(&step, &office, json!({"action": "accept", "expected_state": "submitted"})),
        app.post(&step, &office, json!({"action": "return", "comment": "请补充", "expected_state": "submitted"}))
    );
    let won = one_won(&a, &b);
    let reviewed =
        events(&app, &office, &format!("aggregate=order&aggregate_id={oa}&kind=report.accepted,report.returned")).await;
    assert_eq!(reviewed.len(), 1, "{reviewed:?}");
    assert_eq!(app.get(&format!("/api/v1/orders/{oa}"), &office).await.ok()["status"], won["status"]);

    // A step sent against a state the caller no longer sees is refused as such, and changes nothing.
    let before = events(&app, &office, &format!("aggregate=order&aggregate_id={oa}")).await;
    let stale = app.post(&step, &office, json!({"action": "accept", "expected_state": "draft"})).await;
    stale.expect(409, "state_changed");
    assert_eq!(events(&app, &office, &format!("aggregate=order&aggregate_id={oa}")).await, before);
});

both!(two_findings_recorded_at_once_on_one_visit_are_both_kept, |app: TestApp| async move {
    let office = app.login("office").await;
    let (_, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(&app, &inspector, "RUDE").await;
    // Two of the team at the same window, each recording what they saw: the first finding marks
    // the visit done, and neither is refused for it.
    let body = || finding_body(&app, visit, cat);
    let (a, b, c, d) = tokio::join!(
        app.post("/api/v1/findings", &inspector, body()),
        app.post("/api/v1/findings", &office, body()),
        app.post("/api/v1/findings", &inspector, body()),
        app.post("/api/v1/findings", &office, body())
    );
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, 201, "{}", r.json);
    }
    assert_eq!(events(&app, &office, "kind=finding.recorded").await.len(), 4);
    assert_eq!(events(&app, &office, &format!("aggregate=visit&aggregate_id={visit}")).await.len(), 1);
});

both!(two_heads_submitting_one_self_check_make_one_event, |app: TestApp| async move {
    let office = app.login("office").await;
    let mut body = app.get("/api/v1/campaigns/template", &office).await.ok().clone();
    body["participants"] = json!([{"kind": "department", "department_id": app.ids["dept_a"]}]);
    let cid = app.post("/api/v1/campaigns", &office, body).await.ok()["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{cid}/open"), &office, json!({"expected_state": "draft"})).await.ok();
    let head_a = app.login("head_a").await;
    let mine = app.get(&format!("/api/v1/campaigns/{cid}"), &head_a).await;
    let pa = mine.ok()["participants"][0]["id"].as_i64().unwrap();
    let form = app.get(&format!("/api/v1/campaign-participations/{pa}"), &head_a).await;
    let answers: Vec<Value> = form.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"item_id": i["id"], "found": "无", "measures": ""}))
        .collect();
    app.put(&format!("/api/v1/campaign-participations/{pa}/answers"), &head_a, json!({"answers": answers})).await.ok();
    let submit = format!("/api/v1/campaign-participations/{pa}/submit");
    let (a, b) = tokio::join!(app.post(&submit, &head_a, json!({})), app.post(&submit, &head_a, json!({})));
    one_won(&a, &b);
    assert_eq!(events(&app, &office, "kind=self_check.submitted").await.len(), 1);
    // A department not taking part reads nothing of the campaign.
    assert_eq!(events(&app, &app.login("head_b").await, "").await, Vec::<Value>::new());
});

both!(a_late_report_stays_late_and_overdue_is_recorded, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, _) = confirmed_findings(&app, &office).await;
    // Due Friday 6 November.
    let b = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa], "internal", json!({"kind": "date", "date": "2026-11-06"})),
        )
        .await;
    let bid = b.ok()["id"].as_i64().unwrap();
    let p = app.post(&format!("/api/v1/bulletins/{bid}/publish"), &office, json!({})).await;
    let oa = p.ok()["orders"][0]["id"].as_i64().unwrap();

    // Monday 9 November, 09:00 city time: the job finds it overdue, once.
    app.clock.advance(chrono::Duration::days(7) + chrono::Duration::hours(1));
    for _ in 0..2 {
        xiaoneng_server::jobs::remind(&app.store, app.clock_now()).await.unwrap();
    }
    let office = app.login("office").await;
    let overdue = events(&app, &office, &format!("aggregate=order&aggregate_id={oa}&kind=order.overdue")).await;
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["occurred_at"], "2026-11-06T16:00:00Z", "overdue from the first day past the deadline");
    assert_eq!(overdue[0]["actor_user_id"], Value::Null, "the system's own step");
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=order.overdue", &auditor).await;
    assert_eq!(log.ok()["total"], 1, "{}", log.json);

    // Submitted late, returned with a new deadline, resubmitted in time: the first stays late.
    let head_a = app.login("head_a").await;
    let d = app
        .put(
            &format!("/api/v1/orders/{oa}/report"),
            &head_a,
            json!({"cause": "纪律松弛", "measures": "AB岗", "responsible": "诫勉谈话"}),
        )
        .await;
    let v1 = d.ok()["reports"][0]["id"].as_i64().unwrap();
    let s = app.post(&format!("/api/v1/reports/{v1}/steps"), &head_a, json!({"action": "submit_report"})).await;
    assert_eq!(s.ok()["submitted_late"], true);
    app.post(
        &format!("/api/v1/reports/{v1}/steps"),
        &office,
        json!({"action": "return", "comment": "请补充责任追究", "resubmit_by": "2026-11-13"}),
    )
    .await
    .ok();
    let d2 = app
        .put(
            &format!("/api/v1/orders/{oa}/report"),
            &head_a,
            json!({"cause": "纪律松弛", "measures": "AB岗，登记离岗", "responsible": "诫勉谈话"}),
        )
        .await;
    let v2 = d2.ok()["reports"][1]["id"].as_i64().unwrap();
    let again = app.post(&format!("/api/v1/reports/{v2}/steps"), &head_a, json!({"action": "submit_report"})).await;
    let reports = again.ok()["reports"].as_array().unwrap();
    let late: Vec<(i64, bool, &str)> = reports
        .iter()
        .map(|r| (r["version"].as_i64().unwrap(), r["submitted_late"].as_bool().unwrap(), r["due"].as_str().unwrap()))
        .collect();
    assert_eq!(late, [(1, true, "2026-11-06"), (2, false, "2026-11-13")]);
    assert_eq!(again.json["submitted_late"], true, "the order was answered late the first time");
    let submitted = events(&app, &office, &format!("aggregate=order&aggregate_id={oa}&kind=report.submitted")).await;
    let flags: Vec<&Value> = submitted.iter().map(|e| &e["payload"]["late"]).collect();
    assert_eq!(flags, [&json!(true), &json!(false)]);
    assert_eq!(
        kinds(&events(&app, &office, &format!("aggregate=order&aggregate_id={oa}&kind=order.deadline_changed")).await),
        ["order.deadline_changed"]
    );
});

both!(the_ledger_keeps_covert_work_from_departments_and_leaders, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, fb) = confirmed_findings(&app, &office).await;
    let head_a = app.login("head_a").await;
    let leader = app.login("leader").await;
    // Before anything is published, a department sees nothing of the covert work.
    assert_eq!(events(&app, &head_a, "").await, Vec::<Value>::new());
    assert!(
        events(&app, &leader, "")
            .await
            .iter()
            .all(|e| !["plan", "visit", "finding", "evidence"].contains(&e["aggregate"].as_str().unwrap())),
        "a leader reads the regime's outcomes, not the covert plans"
    );
    let office_sees = kinds(&events(&app, &office, "").await).into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert!(office_sees.iter().any(|k| k.starts_with("plan.")), "{office_sees:?}");
    assert!(office_sees.iter().any(|k| k == "finding.confirmed"), "{office_sees:?}");

    let b = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa, fb], "internal", json!({"kind": "working_days", "days": 5})),
        )
        .await;
    let bid = b.ok()["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/bulletins/{bid}/publish"), &office, json!({})).await.ok();

    // Published: bureau A sees its own finding notified and its own order, the bulletin (about
    // nobody in particular), nothing of B's, and never who acted.
    let seen = events(&app, &head_a, "").await;
    assert!(!seen.is_empty());
    for e in &seen {
        assert!(!["plan", "visit", "evidence"].contains(&e["aggregate"].as_str().unwrap()), "{e}");
        assert!(e["kind"] != "finding.recorded" && e["kind"] != "finding.confirmed", "{e}");
        assert!(e["department_id"] == app.ids["dept_a"] || e["department_id"].is_null(), "{e}");
        assert_eq!(e["actor_user_id"], Value::Null, "{e}");
    }
    assert!(kinds(&seen).contains(&"order.issued"));
    assert!(kinds(&seen).contains(&"finding.notified"));
    // Naming another department is refused as if it did not exist; an inspector reads no ledger.
    let r = app.get(&format!("/api/v1/events?department_id={}", app.ids["dept_b"]), &head_a).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "unknown_department");
    app.get("/api/v1/events", &app.login("inspector").await).await.expect(403, "forbidden");
    // A city leader reads the outcomes across the city, but not who acted; the office does.
    let leader_sees = events(&app, &leader, "").await;
    assert!(kinds(&leader_sees).contains(&"bulletin.published"));
    assert!(leader_sees.iter().all(|e| e["actor_user_id"].is_null()), "who acted is the office's to know");
    assert!(events(&app, &office, "kind=bulletin.published").await[0]["actor_user_id"].is_i64());
});

both!(the_events_list_filters_and_pages_in_sequence, |app: TestApp| async move {
    let office = app.login("office").await;
    confirmed_findings(&app, &office).await;
    let all = events(&app, &office, "").await;
    assert!(all.len() >= 6, "{all:?}");
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in sequence: {seqs:?}");

    // Page by page with the cursor, the same events, none twice.
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let r = app.get(&format!("/api/v1/events?limit=4&after={after}"), &office).await;
        let items = r.ok()["items"].as_array().unwrap().clone();
        let next = r.json["next_after"].as_i64().unwrap();
        if items.is_empty() {
            assert_eq!(next, after, "nothing new: the cursor stays");
            break;
        }
        assert!(items.len() <= 4);
        paged.extend(items);
        after = next;
    }
    assert_eq!(paged, all);

    let confirmed = events(&app, &office, "kind=finding.confirmed").await;
    assert_eq!(confirmed.len(), 2);
    let on_a = events(&app, &office, &format!("kind=finding.confirmed&department_id={}", app.ids["dept_a"])).await;
    assert_eq!(on_a.len(), 1);
    assert_eq!(events(&app, &office, "to=2026-11-01T00:00:00Z").await, Vec::<Value>::new());

    for bad in ["limit=0", "limit=1001", "after=-1", "kind=no.such", "aggregate=nothing", "aggregate_id=3"] {
        app.get(&format!("/api/v1/events?{bad}"), &office).await.expect(422, "validation_failed");
    }
});

/// The sequence number of the one event of `kind` about `aggregate` `id`.
async fn seq_of(app: &TestApp, office: &Session, aggregate: &str, id: i64, kind: &str) -> i64 {
    let e = events(app, office, &format!("aggregate={aggregate}&aggregate_id={id}&kind={kind}")).await;
    assert_eq!(e.len(), 1, "{e:?}");
    e[0]["seq"].as_i64().unwrap()
}

both!(two_drafts_published_at_once_are_numbered_one_after_the_other, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, fb) = confirmed_findings(&app, &office).await;
    let mut drafts = Vec::new();
    for f in [fa, fb] {
        let body = bulletin_body(&[f], "internal", json!({"kind": "working_days", "days": 5}));
        drafts.push(app.post("/api/v1/bulletins", &office, body).await.ok()["id"].as_i64().unwrap());
    }
    let (pa, pb) =
        (format!("/api/v1/bulletins/{}/publish", drafts[0]), format!("/api/v1/bulletins/{}/publish", drafts[1]));
    let (a, b) = tokio::join!(app.post(&pa, &office, json!({})), app.post(&pb, &office, json!({})));
    let mut numbers: Vec<i64> = [&a, &b].iter().map(|r| r.ok()["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);
});

both!(nothing_slips_past_a_plan_or_a_campaign_closing, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(&app, &inspector, "RUDE").await;
    let close = json!({"title": "2026年11月窗口暗访", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "closed",
                       "targets": [{"department_id": app.ids["dept_a"]}], "team": [app.ids["inspector"]]});
    let plan_path = format!("/api/v1/plans/{plan}");
    let (recorded, closed) = tokio::join!(
        app.post("/api/v1/findings", &inspector, finding_body(&app, visit, cat)),
        app.put(&plan_path, &office, close)
    );
    assert_eq!(closed.status, 200, "{}", closed.json);
    let closed_at = seq_of(&app, &office, "plan", plan, "plan.closed").await;
    if recorded.status == 201 {
        // Both may succeed only in this order: recorded while the plan was open, then closed.
        let f = recorded.json["id"].as_i64().unwrap();
        assert!(seq_of(&app, &office, "finding", f, "finding.recorded").await < closed_at);
    } else {
        assert_eq!(recorded.status, 409, "{}", recorded.json);
        assert!(["state_changed", "invalid_transition"].contains(&recorded.code()), "{}", recorded.json);
        assert!(events(&app, &office, "kind=finding.recorded").await.is_empty());
    }

    let mut body = app.get("/api/v1/campaigns/template", &office).await.ok().clone();
    body["participants"] = json!([{"kind": "department", "department_id": app.ids["dept_a"]}]);
    let cid = app.post("/api/v1/campaigns", &office, body).await.ok()["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{cid}/open"), &office, json!({})).await.ok();
    let head_a = app.login("head_a").await;
    let pa =
        app.get(&format!("/api/v1/campaigns/{cid}"), &head_a).await.ok()["participants"][0]["id"].as_i64().unwrap();
    let form = app.get(&format!("/api/v1/campaign-participations/{pa}"), &head_a).await;
    let answers: Vec<Value> =
        form.ok()["items"].as_array().unwrap().iter().map(|i| json!({"item_id": i["id"], "found": "无"})).collect();
    app.put(&format!("/api/v1/campaign-participations/{pa}/answers"), &head_a, json!({"answers": answers})).await.ok();
    let (submit, close) =
        (format!("/api/v1/campaign-participations/{pa}/submit"), format!("/api/v1/campaigns/{cid}/close"));
    let (submitted, closed) = tokio::join!(app.post(&submit, &head_a, json!({})), app.post(&close, &office, json!({})));
    assert_eq!(closed.status, 200, "{}", closed.json);
    let closed_at = seq_of(&app, &office, "campaign", cid, "campaign.closed").await;
    if submitted.status == 200 {
        assert!(seq_of(&app, &office, "participation", pa, "self_check.submitted").await < closed_at);
    } else {
        assert_eq!(submitted.status, 409, "{}", submitted.json);
        assert!(events(&app, &office, "kind=self_check.submitted").await.is_empty());
    }
});
