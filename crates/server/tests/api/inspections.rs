//! Covert inspections: plans are secret, findings reach a department only when notified, every
//! step follows the state machine and is recorded.

use serde_json::{Value, json};
use xiaoneng_core::rbac::Role;

use crate::{
    both,
    support::{Session, TestApp},
};

/// A plan on bureau A (November 2026) with `inspector` on the team and one visit; returns
/// (plan id, visit id).
pub async fn plan_on_a(app: &TestApp, office: &Session) -> (i64, i64) {
    let a = app.ids["dept_a"];
    let r = app
        .post(
            "/api/v1/plans",
            office,
            json!({"title": "2026年11月窗口暗访", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "active",
                   "targets": [{"department_id": a}], "team": [app.ids["inspector"]]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let plan = r.json["id"].as_i64().unwrap();
    let v = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            office,
            json!({"department_id": a, "scheduled_on": "2026-11-02"}),
        )
        .await;
    assert_eq!(v.status, 201, "{}", v.json);
    (plan, v.json["id"].as_i64().unwrap())
}

pub async fn category(app: &TestApp, s: &Session, code: &str) -> i64 {
    let cats = app.get("/api/v1/finding-categories", s).await;
    cats.ok().as_array().unwrap().iter().find(|c| c["code"] == code).unwrap()["id"].as_i64().unwrap()
}

pub fn finding_body(app: &TestApp, visit: i64, category: i64) -> Value {
    json!({"visit_id": visit, "department_id": app.ids["dept_a"], "person_id": app.ids["person_a"], "category_id": category,
           "occurred_at": "2026-11-02T00:30:00Z", "description": "工作时间窗口无人，离岗约二十分钟"})
}

both!(a_plan_is_secret_from_everyone_but_the_office_and_its_team, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, _) = plan_on_a(&app, &office).await;
    let member = app.login("inspector").await;
    let listed = app.get("/api/v1/plans", &member).await;
    assert_eq!(listed.ok()["total"], 1);
    let detail = app.get(&format!("/api/v1/plans/{plan}"), &member).await;
    assert_eq!(detail.ok()["visits"][0]["department_name"], "市场监督管理局");
    assert_eq!(detail.json["team"][0]["display_name"], "inspector");
    // Another inspector, not on the team: no plan, not even by its number.
    app.add_user("inspector2", Role::Inspector, None).await;
    let other = app.login("inspector2").await;
    assert_eq!(app.get("/api/v1/plans", &other).await.ok()["total"], 0);
    app.get(&format!("/api/v1/plans/{plan}"), &other).await.expect(404, "not_found");
    // The target department's head, staff, the city leader: the plan does not exist for them.
    for who in ["head_a", "staff_a", "leader", "head_b"] {
        let s = app.login(who).await;
        app.get("/api/v1/plans", &s).await.expect(404, "not_found");
        app.get(&format!("/api/v1/plans/{plan}"), &s).await.expect(404, "not_found");
    }
    // The office picks the team among active inspectors and office staff.
    let candidates = app.get("/api/v1/inspectors", &office).await;
    let names: Vec<&str> =
        candidates.ok().as_array().unwrap().iter().map(|m| m["display_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["inspector", "inspector2", "office"]);
    // Only people who may record findings can be on a team.
    let r = app
        .put(
            &format!("/api/v1/plans/{plan}"),
            &office,
            json!({"title": "t", "period_start": "2026-11-01", "period_end": "2026-11-30",
                   "targets": [{"department_id": app.ids["dept_a"]}], "team": [app.ids["head_a"]]}),
        )
        .await;
    assert_eq!(r.json["details"][0]["code"], "not_an_inspector", "{}", r.json);
    // A visit goes to a target within the period.
    let r = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            &office,
            json!({"department_id": app.ids["dept_b"], "scheduled_on": "2026-11-03"}),
        )
        .await;
    assert_eq!(r.json["details"][0]["code"], "not_a_target");
    let r = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            &office,
            json!({"department_id": app.ids["dept_a"], "scheduled_on": "2026-12-03"}),
        )
        .await;
    assert_eq!(r.json["details"][0]["code"], "outside_period");
});

both!(a_finding_reaches_its_department_only_when_notified, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let absent = category(&app, &inspector, "ABSENT").await;
    let r = app.post("/api/v1/findings", &inspector, finding_body(&app, visit, absent)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["state"], "draft");
    assert_eq!(r.json["severity"], "general", "the category's default severity");
    assert_eq!(r.json["plan_id"], plan);
    let id = r.json["id"].as_i64().unwrap();

    let head_a = app.login("head_a").await;
    let staff_a = app.login("staff_a").await;
    let leader = app.login("leader").await;
    let hidden = |s: Session| {
        let app = &app;
        async move {
            assert_eq!(app.get("/api/v1/findings", &s).await.ok()["total"], 0);
            app.get(&format!("/api/v1/findings/{id}"), &s).await.expect(404, "not_found");
        }
    };
    hidden(head_a.clone()).await;
    hidden(staff_a.clone()).await;
    hidden(leader.clone()).await;

    // The recorder cannot confirm their own finding; the office can, and still nobody outside sees it.
    let r = app.post(&format!("/api/v1/findings/{id}/steps"), &inspector, json!({"action": "confirm"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(
        (
            r.json["details"]["state"].as_str(),
            r.json["details"]["action"].as_str(),
            r.json["details"]["reason"].as_str()
        ),
        (Some("draft"), Some("confirm"), Some("actor"))
    );
    let r = app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": "notify"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(
        (r.json["details"]["state"].as_str(), r.json["details"]["action"].as_str()),
        (Some("draft"), Some("notify"))
    );
    let r = app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": "confirm"})).await;
    assert_eq!(r.ok()["state"], "confirmed");
    hidden(head_a.clone()).await;

    let r = app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": "notify"})).await;
    assert_eq!(r.ok()["state"], "notified");
    assert!(r.json["notified_at"].is_string());

    // Now the department, the person named and the city leader see it — but not where it came from.
    for s in [&head_a, &staff_a, &leader] {
        let list = app.get("/api/v1/findings", s).await;
        assert_eq!(list.ok()["total"], 1);
        let f = app.get(&format!("/api/v1/findings/{id}"), s).await;
        let f = f.ok();
        assert_eq!(f["category_name"], "脱岗离岗");
        assert_eq!(f["person_name"], "张伟");
        assert_eq!(f["counts"], true);
        assert!(f["plan_id"].is_null() && f["visit_id"].is_null() && f["recorded_by"].is_null(), "{f}");
        let steps: Vec<&str> = f["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        assert_eq!(steps, ["notify"]);
    }
    // The office sees the whole history with who did it.
    let f = app.get(&format!("/api/v1/findings/{id}"), &office).await;
    let steps: Vec<&str> =
        f.ok()["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["record", "confirm", "notify"]);
    assert_eq!(f.json["history"][0]["actor_name"], "inspector");
    assert!(app.get(&format!("/api/v1/findings/{id}"), &head_a).await.json["history"][0]["actor_name"].is_null());
    // A department filter takes in the sub-departments: the city's findings include bureau A's.
    let city = app.ids["city"];
    assert_eq!(app.get(&format!("/api/v1/findings?department_id={city}"), &leader).await.ok()["total"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/findings?department_id={city}&exact_department=true"), &leader).await.ok()["total"],
        0
    );
    // Another department never.
    let head_b = app.login("head_b").await;
    assert_eq!(app.get("/api/v1/findings", &head_b).await.ok()["total"], 0);
    app.get(&format!("/api/v1/findings/{id}"), &head_b).await.expect(404, "not_found");
    // Watching is not being the subject: the city leader cannot appeal it.
    app.post(&format!("/api/v1/findings/{id}/steps"), &leader, json!({"action": "appeal", "reason": "x"}))
        .await
        .expect(409, "invalid_transition");
    // Every step is in the audit log.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=finding.", &auditor).await;
    assert_eq!(log.ok()["total"], 3);
});

both!(a_finding_must_fit_its_visit, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let rude = category(&app, &inspector, "RUDE").await;
    let mut body = finding_body(&app, visit, rude);
    body["department_id"] = json!(app.ids["dept_b"]);
    body["person_id"] = json!(null);
    body["window_id"] = json!(null);
    let r = app.post("/api/v1/findings", &inspector, body).await;
    let codes: Vec<&str> = r.json["details"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"not_the_visited_department"), "{codes:?}");
    let mut body = finding_body(&app, visit, rude);
    body["person_id"] = json!(app.ids["person_b"]);
    assert_eq!(
        app.post("/api/v1/findings", &inspector, body).await.json["details"][0]["code"],
        "person_not_in_department"
    );
    let mut body = finding_body(&app, visit, rude);
    body["occurred_at"] = json!("2026-10-30T02:00:00Z");
    assert_eq!(app.post("/api/v1/findings", &inspector, body).await.json["details"][0]["code"], "outside_period");
    let mut body = finding_body(&app, visit, rude);
    body["occurred_at"] = json!("2026-11-20T02:00:00Z");
    assert_eq!(app.post("/api/v1/findings", &inspector, body).await.json["details"][0]["code"], "in_the_future");
    let mut body = finding_body(&app, visit, rude);
    body["severity"] = json!("catastrophic");
    assert_eq!(app.post("/api/v1/findings", &inspector, body).await.json["details"][0]["code"], "invalid_choice");
    // An inspector not on the team: the visit does not exist for them.
    app.add_user("inspector2", Role::Inspector, None).await;
    let other = app.login("inspector2").await;
    app.post("/api/v1/findings", &other, finding_body(&app, visit, rude)).await.expect(404, "not_found");
    // A withdrawn category cannot be used; a closed plan takes no more findings.
    let r = app
        .post(&format!("/api/v1/finding-categories/{rude}/retire"), &office, json!({"reason": "并入其他类别"}))
        .await;
    assert_eq!(r.ok()["status"], "retired");
    assert_eq!(
        app.post("/api/v1/findings", &inspector, finding_body(&app, visit, rude)).await.json["details"][0]["code"],
        "category_not_found"
    );
    let plan_body = json!({"title": "t", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "closed",
                           "targets": [{"department_id": app.ids["dept_a"]}], "team": [app.ids["inspector"]]});
    app.put(&format!("/api/v1/plans/{plan}"), &office, plan_body).await.ok();
    let late = category(&app, &inspector, "LATE").await;
    let r = app.post("/api/v1/findings", &inspector, finding_body(&app, visit, late)).await;
    assert_eq!(
        (r.status.as_u16(), r.json["code"].as_str(), r.json["details"]["reason"].as_str()),
        (409, Some("invalid_transition"), Some("plan_closed"))
    );
    // Nothing was recorded by any refused request.
    assert_eq!(app.get("/api/v1/findings", &office).await.ok()["total"], 0);
});

both!(the_recorder_may_withdraw_a_draft_with_a_reason, |app: TestApp| async move {
    let office = app.login("office").await;
    let (_, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(&app, &inspector, "LATE").await;
    let id =
        app.post("/api/v1/findings", &inspector, finding_body(&app, visit, cat)).await.json["id"].as_i64().unwrap();
    let r = app.post(&format!("/api/v1/findings/{id}/steps"), &inspector, json!({"action": "withdraw"})).await;
    r.expect(422, "validation_failed");
    let r = app
        .post(&format!("/api/v1/findings/{id}/steps"), &inspector, json!({"action": "withdraw", "reason": "认错了人"}))
        .await;
    assert_eq!(r.ok()["state"], "withdrawn");
    assert_eq!(r.json["counts"], false);
    // Withdrawn stays on record.
    assert_eq!(app.get("/api/v1/findings?state=withdrawn", &office).await.ok()["total"], 1);
    app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": "confirm"}))
        .await
        .expect(409, "invalid_transition");
});

both!(the_office_keeps_the_taxonomy, |app: TestApp| async move {
    let office = app.login("office").await;
    let cats = app.get("/api/v1/finding-categories", &office).await;
    assert_eq!(cats.ok().as_array().unwrap().len(), 9, "the speech's categories are seeded");
    let r = app
        .post(
            "/api/v1/finding-categories",
            &office,
            json!({"code": "phone", "name": "上班玩手机", "default_severity": "general"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["code"], "PHONE");
    app.post(
        "/api/v1/finding-categories",
        &office,
        json!({"code": "PHONE", "name": "重复", "default_severity": "minor"}),
    )
    .await
    .expect(409, "already_exists");
    let r = app
        .post("/api/v1/finding-categories", &office, json!({"code": "X", "name": "x", "default_severity": "huge"}))
        .await;
    assert_eq!(r.json["details"][0]["field"], "default_severity");
    let head = app.login("head_a").await;
    assert_eq!(app.get("/api/v1/finding-categories", &head).await.ok().as_array().unwrap().len(), 10);
});

/// A notified finding on bureau A; returns its id.
pub async fn notified_finding(app: &TestApp) -> i64 {
    let office = app.login("office").await;
    let (_, visit) = plan_on_a(app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(app, &inspector, "RUDE").await;
    let id = app.post("/api/v1/findings", &inspector, finding_body(app, visit, cat)).await.json["id"].as_i64().unwrap();
    for action in ["confirm", "notify"] {
        app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": action})).await.ok();
    }
    id
}

both!(a_department_appeals_within_its_working_days, |app: TestApp| async move {
    let id = notified_finding(&app).await;
    let head_a = app.login("head_a").await;
    // Notified Monday 2 November: five working days run to Monday 9 November.
    let f = app.get(&format!("/api/v1/findings/{id}"), &head_a).await;
    assert_eq!(f.ok()["appeal_deadline"], "2026-11-09");
    // Not for another department, nor without a reason.
    let head_b = app.login("head_b").await;
    app.post(&format!("/api/v1/findings/{id}/steps"), &head_b, json!({"action": "appeal", "reason": "x"}))
        .await
        .expect(404, "not_found");
    app.post(&format!("/api/v1/findings/{id}/steps"), &head_a, json!({"action": "appeal"}))
        .await
        .expect(422, "validation_failed");
    app.clock.advance(chrono::Duration::days(7));
    let head_a = app.login("head_a").await;
    let r = app
        .post(
            &format!("/api/v1/findings/{id}/steps"),
            &head_a,
            json!({"action": "appeal", "reason": "当班人员在处理群众紧急业务，有登记记录"}),
        )
        .await;
    assert_eq!(r.ok()["state"], "appealed");
    // The office decides, with a written reason; overturned, it stays on record and counts nowhere.
    let office = app.login("office").await;
    app.post(&format!("/api/v1/findings/{id}/steps"), &office, json!({"action": "overturn"}))
        .await
        .expect(422, "validation_failed");
    let r = app
        .post(
            &format!("/api/v1/findings/{id}/steps"),
            &office,
            json!({"action": "overturn", "reason": "经核实登记记录属实"}),
        )
        .await;
    assert_eq!(r.ok()["state"], "overturned");
    assert_eq!(r.json["counts"], false);
    let seen = app.get(&format!("/api/v1/findings/{id}"), &head_a).await;
    let steps: Vec<&str> =
        seen.ok()["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["notify", "appeal", "overturn"]);
    assert_eq!(seen.json["history"][2]["reason"], "经核实登记记录属实");
    app.post(&format!("/api/v1/findings/{id}/steps"), &head_a, json!({"action": "appeal", "reason": "again"}))
        .await
        .expect(409, "invalid_transition");
});

both!(an_appeal_after_the_deadline_is_refused, |app: TestApp| async move {
    let id = notified_finding(&app).await;
    // The person named may appeal too — but not on the eighth calendar day (six working days).
    app.clock.advance(chrono::Duration::days(8));
    let staff = app.login("staff_a").await;
    let r = app
        .post(&format!("/api/v1/findings/{id}/steps"), &staff, json!({"action": "appeal", "reason": "我当时在岗"}))
        .await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "appeal_deadline_passed");
    assert_eq!(r.json["message"], "申诉期限已过（截止 2026-11-09）");
    // The office can lengthen the period: ten working days run to 16 November.
    let office = app.login("office").await;
    let p = app.put("/api/v1/settings/inspection-policy", &office, json!({"appeal_working_days": 10})).await;
    assert_eq!(p.ok()["appeal_working_days"], 10);
    app.put("/api/v1/settings/inspection-policy", &office, json!({"appeal_working_days": 0}))
        .await
        .expect(422, "validation_failed");
    let r = app
        .post(&format!("/api/v1/findings/{id}/steps"), &staff, json!({"action": "appeal", "reason": "我当时在岗"}))
        .await;
    assert_eq!(r.ok()["state"], "appealed");
    let office_view = app.get(&format!("/api/v1/findings/{id}"), &office).await;
    assert_eq!(office_view.ok()["appeal_deadline"], "2026-11-16");
    let r = app
        .post(
            &format!("/api/v1/findings/{id}/steps"),
            &office,
            json!({"action": "uphold", "reason": "视频显示离岗二十分钟"}),
        )
        .await;
    assert_eq!(r.ok()["state"], "upheld");
    assert_eq!(r.json["counts"], true);
});

both!(external_supervisors_act_only_within_their_term, |app: TestApp| async move {
    let office = app.login("office").await;
    let sys = app.login("sysadmin").await;
    // Two NPC deputies: one appointed through 2026, one whose term ended in October.
    let mut ids = Vec::new();
    for (code, end) in [("JD1", "2026-12-31"), ("JD2", "2026-10-31")] {
        let r = app
            .post(
                "/api/v1/supervisors",
                &office,
                json!({"code": code, "name": "代表", "kind": "npc_deputy", "term_start": "2026-01-01", "term_end": end}),
            )
            .await;
        ids.push(r.json["id"].as_i64().unwrap());
    }
    let current = app.add_user("deputy1", Role::Inspector, None).await;
    let former = app.add_user("deputy2", Role::Inspector, None).await;
    for (user, sup) in [(current, ids[0]), (former, ids[1])] {
        let r = app
            .put(&format!("/api/v1/users/{user}"), &sys, json!({"display_name": "代表", "supervisor_id": sup}))
            .await;
        assert_eq!(r.ok()["supervisor_id"], sup);
    }
    let plan = |team: Vec<i64>| {
        json!({"title": "十一月暗访", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "active",
               "targets": [{"department_id": app.ids["dept_a"]}], "team": team})
    };
    let r = app.post("/api/v1/plans", &office, plan(vec![former])).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "supervisor_out_of_term");
    let r = app.post("/api/v1/plans", &office, plan(vec![current])).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let visit = app
        .post(
            &format!("/api/v1/plans/{id}/visits"),
            &office,
            json!({"department_id": app.ids["dept_a"], "scheduled_on": "2026-11-02"}),
        )
        .await;
    let visit = visit.json["id"].as_i64().unwrap();
    let deputy = app.login("deputy1").await;
    let cat = category(&app, &deputy, "RUDE").await;
    assert_eq!(app.post("/api/v1/findings", &deputy, finding_body(&app, visit, cat)).await.status, 201);
    assert_eq!(app.get("/api/v1/plans", &deputy).await.ok()["total"], 1);
    // Their record retired, the deputy's account reads and records nothing of the regime, at
    // once (the same session).
    app.post(&format!("/api/v1/supervisors/{}/retire", ids[0]), &office, json!({"reason": "辞去代表职务"})).await.ok();
    app.post("/api/v1/findings", &deputy, finding_body(&app, visit, cat)).await.expect(403, "forbidden");
    app.get("/api/v1/plans", &deputy).await.expect(404, "not_found");
    app.get(&format!("/api/v1/plans/{id}"), &deputy).await.expect(404, "not_found");
    app.get("/api/v1/findings", &deputy).await.expect(403, "forbidden");
    assert_eq!(app.get("/api/v1/me", &deputy).await.ok()["permissions"], json!([]));
    // Outside the term, likewise: the former deputy may log in and reads nothing.
    let former_session = app.login("deputy2").await;
    app.get("/api/v1/plans", &former_session).await.expect(404, "not_found");
    app.get("/api/v1/departments", &former_session).await.expect(403, "forbidden");
    // A term that ends is as good as a retirement, the day after.
    let r = app
        .post(
            "/api/v1/supervisors",
            &office,
            json!({"code": "JD3", "name": "代表", "kind": "npc_deputy", "term_start": "2026-01-01", "term_end": "2026-11-03"}),
        )
        .await;
    let third = app.add_user("deputy3", Role::Inspector, None).await;
    let sup = r.json["id"].as_i64().unwrap();
    app.put(&format!("/api/v1/users/{third}"), &sys, json!({"display_name": "代表", "supervisor_id": sup})).await.ok();
    let s3 = app.login("deputy3").await;
    app.get("/api/v1/departments", &s3).await.ok();
    app.clock.advance(chrono::Duration::days(2));
    let s3 = app.login("deputy3").await;
    app.get("/api/v1/departments", &s3).await.expect(403, "forbidden");
    let sys = app.login("sysadmin").await;
    // A link to a record that does not exist is refused.
    let r = app
        .put(&format!("/api/v1/users/{current}"), &sys, json!({"display_name": "代表", "supervisor_id": 999999}))
        .await;
    assert_eq!(r.json["details"][0]["code"], "supervisor_not_found");
});

both!(visits_are_marked_done_or_called_off, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, visit) = plan_on_a(&app, &office).await;
    let later = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            &office,
            json!({"department_id": app.ids["dept_a"], "scheduled_on": "2026-11-20"}),
        )
        .await;
    let later = later.ok()["id"].as_i64().unwrap();
    let inspector = app.login("inspector").await;
    // The team: done when visited, even with nothing to report; not before the day; not called off.
    let r = app
        .put(
            &format!("/api/v1/visits/{visit}"),
            &inspector,
            json!({"status": "done", "notes": "窗口秩序良好，未发现问题"}),
        )
        .await;
    assert_eq!(r.ok()["status"], "done");
    assert_eq!(r.json["notes"], "窗口秩序良好，未发现问题");
    app.put(&format!("/api/v1/visits/{later}"), &inspector, json!({"status": "done"}))
        .await
        .expect(409, "invalid_transition");
    app.put(&format!("/api/v1/visits/{later}"), &inspector, json!({"status": "cancelled"}))
        .await
        .expect(409, "invalid_transition");
    app.put(&format!("/api/v1/visits/{later}"), &inspector, json!({"status": "gone"}))
        .await
        .expect(422, "validation_failed");
    // The office calls it off; outsiders find no visit at all.
    let r = app.put(&format!("/api/v1/visits/{later}"), &office, json!({"status": "cancelled", "notes": "改期"})).await;
    assert_eq!(r.ok()["status"], "cancelled");
    // Nothing is recorded on a visit called off.
    let cat = category(&app, &inspector, "RUDE").await;
    let refused = app.post("/api/v1/findings", &inspector, finding_body(&app, later, cat)).await;
    refused.expect(409, "invalid_transition");
    assert_eq!(refused.json["details"]["reason"], "visit_cancelled");
    app.put(&format!("/api/v1/visits/{later}"), &inspector, json!({"status": "scheduled"}))
        .await
        .expect(409, "invalid_transition");
    let head_a = app.login("head_a").await;
    app.put(&format!("/api/v1/visits/{visit}"), &head_a, json!({"status": "done"})).await.expect(404, "not_found");
    app.add_user("inspector2", Role::Inspector, None).await;
    let other = app.login("inspector2").await;
    app.put(&format!("/api/v1/visits/{visit}"), &other, json!({"status": "done"})).await.expect(404, "not_found");
    // Recording a finding on a scheduled visit marks it done.
    let third = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            &office,
            json!({"department_id": app.ids["dept_a"], "scheduled_on": "2026-11-02"}),
        )
        .await;
    let third = third.ok()["id"].as_i64().unwrap();
    let cat = category(&app, &inspector, "RUDE").await;
    app.post("/api/v1/findings", &inspector, finding_body(&app, third, cat)).await.ok();
    let detail = app.get(&format!("/api/v1/plans/{plan}"), &office).await;
    let statuses: Vec<&str> =
        detail.ok()["visits"].as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "done").count(), 2, "{statuses:?}");
    let log = app.get("/api/v1/audit?action=visit.update", &app.login("auditor").await).await;
    assert_eq!(log.ok()["total"], 2);
});

both!(findings_filter_by_several_states_and_sort, |app: TestApp| async move {
    let office = app.login("office").await;
    let (_, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let rude = category(&app, &inspector, "RUDE").await;
    let mut ids = Vec::new();
    for minute in [10, 20, 30] {
        let mut b = finding_body(&app, visit, rude);
        b["occurred_at"] = json!(format!("2026-11-02T00:{minute}:00Z"));
        ids.push(app.post("/api/v1/findings", &inspector, b).await.ok()["id"].as_i64().unwrap());
    }
    app.post(&format!("/api/v1/findings/{}/steps", ids[0]), &office, json!({"action": "confirm"})).await.ok();
    app.post(&format!("/api/v1/findings/{}/steps", ids[1]), &office, json!({"action": "withdraw", "reason": "不属实"}))
        .await
        .ok();
    let page = app.get("/api/v1/findings?state=draft,confirmed&sort=occurred_at", &office).await;
    let got: Vec<i64> = page.ok()["items"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![ids[0], ids[2]]);
    let newest = app.get("/api/v1/findings", &office).await;
    assert_eq!(newest.ok()["items"][0]["id"], ids[2]);
    app.get("/api/v1/findings?state=draft,lost", &office).await.expect(422, "validation_failed");
    app.get("/api/v1/findings?sort=-mood", &office).await.expect(422, "validation_failed");
});

both!(the_audit_log_tells_it_staff_nothing_of_a_covert_plan, |app: TestApp| async move {
    let office = app.login("office").await;
    let (plan, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(&app, &inspector, "RUDE").await;
    let f = app.post("/api/v1/findings", &inspector, finding_body(&app, visit, cat)).await;
    let f = f.ok()["id"].as_i64().unwrap();
    app.put(
        &format!("/api/v1/visits/{visit}"),
        &inspector,
        json!({"status": "done", "notes": "上午到市场监管局登记窗口"}),
    )
    .await;
    app.post(
        &format!("/api/v1/findings/{f}/steps"),
        &office,
        json!({"action": "withdraw", "reason": "张伟当时在登记窗口"}),
    )
    .await
    .ok();
    let body = json!({"title": "2026年11月窗口暗访（二）", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "closed",
                      "targets": [{"department_id": app.ids["dept_a"]}], "team": [app.ids["inspector"]]});
    app.put(&format!("/api/v1/plans/{plan}"), &office, body).await.ok();

    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?page_size=200", &auditor).await;
    let entries: Vec<&Value> = log.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ["plan", "visit", "finding", "evidence"].contains(&e["target_type"].as_str().unwrap_or("")))
        .collect();
    assert!(entries.len() >= 5, "{entries:?}");
    let details = serde_json::to_string(&entries.iter().map(|e| &e["detail"]).collect::<Vec<_>>()).unwrap();
    for secret in
        ["窗口暗访", "2026-11-", "市场监管局", "张伟", "登记窗口", &format!("\"department_id\":{}", app.ids["dept_a"])]
    {
        assert!(!details.contains(secret), "the log tells {secret:?}: {details}");
    }
});
