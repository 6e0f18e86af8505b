//! Accounts: an admin-made account must change its password first; expiry; the policy.

use chrono::Duration;
use serde_json::json;

use crate::{both, support::TestApp};

both!(admin_made_accounts_change_password_at_first_login, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let weak = app.post("/api/v1/users", &sys, json!({"username": "new.user", "display_name": "新用户", "password": "password", "department_id": app.ids["dept_b"]})).await;
    weak.expect(422, "validation_failed");
    assert_eq!(weak.json["details"][0]["code"], "password_too_simple");
    let r = app.post("/api/v1/users", &sys, json!({"username": "New.User", "display_name": "新用户", "password": "Temp#2026pw", "department_id": app.ids["dept_b"]})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["username"], "new.user");
    assert_eq!(r.json["must_change_password"], true);
    let id = r.json["id"].as_i64().unwrap();
    app.post("/api/v1/users", &sys, json!({"username": "new.user", "display_name": "重复", "password": "Temp#2026pw"}))
        .await
        .expect(409, "already_exists");

    let sec = app.login("secadmin").await;
    let r = app.put(&format!("/api/v1/users/{id}/roles"), &sec, json!({"roles": ["dept_head", "boss"]})).await;
    r.expect(422, "validation_failed");
    let r = app.put(&format!("/api/v1/users/{id}/roles"), &sec, json!({"roles": ["dept_head"]})).await;
    assert_eq!(r.ok()["roles"], json!(["dept_head"]));

    let u = app.login_with("new.user", "Temp#2026pw").await.unwrap();
    let me = app.get("/api/v1/me", &u).await;
    assert_eq!(me.ok()["must_change_password"], true);
    app.get("/api/v1/people", &u).await.expect(403, "password_change_required");
    let r = app
        .post("/api/v1/auth/password", &u, json!({"current_password": "wrong", "new_password": "Mine#2026pw"}))
        .await;
    r.expect(422, "validation_failed");
    let r = app
        .post("/api/v1/auth/password", &u, json!({"current_password": "Temp#2026pw", "new_password": "Mine#2026pw"}))
        .await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(app.get("/api/v1/people", &u).await.ok()["total"], 1);

    // Disabling ends the session at once; the old password no longer matters.
    let r = app.post(&format!("/api/v1/users/{id}/disable"), &sys, json!({"reason": "调离"})).await;
    assert_eq!(r.ok()["status"], "disabled");
    app.get("/api/v1/me", &u).await.expect(401, "unauthenticated");
    app.login_with("new.user", "Mine#2026pw").await.unwrap_err().expect(403, "account_disabled");
    app.post(&format!("/api/v1/users/{}/disable", app.ids["sysadmin"]), &sys, json!({"reason": "x"}))
        .await
        .expect(400, "own_account");
});

both!(passwords_expire_after_ninety_days, |app: TestApp| async move {
    let s = app.login("leader").await;
    app.clock.advance(Duration::days(90));
    let s2 = app.login("leader").await;
    app.get("/api/v1/people", &s2).await.expect(403, "password_change_required");
    assert_eq!(app.get("/api/v1/me", &s2).await.ok()["must_change_password"], true);
    let r = app
        .post(
            "/api/v1/auth/password",
            &s2,
            json!({"current_password": crate::PASSWORD, "new_password": crate::PASSWORD}),
        )
        .await;
    assert_eq!(r.json["details"][0]["code"], "password_unchanged");
    let r = app
        .post(
            "/api/v1/auth/password",
            &s2,
            json!({"current_password": crate::PASSWORD, "new_password": "Renewed#2027"}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get("/api/v1/people?page_size=1", &s2).await.ok()["total"], 3);
    // The older session of the same user ended with the password change.
    app.get("/api/v1/me", &s).await.expect(401, "unauthenticated");
});

both!(security_admin_sets_the_policy, |app: TestApp| async move {
    let sec = app.login("secadmin").await;
    let p = app.get("/api/v1/settings/security-policy", &sec).await;
    assert_eq!(p.ok()["min_length"], 8);
    let mut policy = p.json.clone();
    policy["min_length"] = json!(4);
    app.put("/api/v1/settings/security-policy", &sec, policy.clone()).await.expect(422, "validation_failed");
    policy["min_length"] = json!(12);
    policy["lockout_threshold"] = json!(3);
    assert_eq!(app.put("/api/v1/settings/security-policy", &sec, policy).await.ok()["min_length"], 12);
    let sys = app.login("sysadmin").await;
    let r = app
        .post("/api/v1/users", &sys, json!({"username": "short.pw", "display_name": "x", "password": "Abc#12345"}))
        .await;
    assert_eq!(r.json["details"][0]["code"], "password_too_short");
    // Three failures now lock.
    for _ in 0..2 {
        app.login_with("leader", "bad").await.unwrap_err().expect(401, "invalid_credentials");
    }
    app.login_with("leader", "bad").await.unwrap_err().expect(423, "account_locked");
    app.post(&format!("/api/v1/users/{}/unlock", app.ids["leader"]), &sys, json!({})).await.ok();
    app.login("leader").await;
});

both!(the_system_admin_finds_people_and_supervisors_to_link, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    // The system admin reads no roster, but may look up whom to link an account to.
    app.get("/api/v1/people", &sys).await.expect(403, "forbidden");
    let found = app.get("/api/v1/account-links?kind=person&q=P-A1", &sys).await;
    let found = found.ok().as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], app.ids["person_a1"]);
    assert_eq!(found[0]["detail"], "登记注册科");
    assert!(found[0].get("mobile").is_none());
    let office = app.login("office").await;
    let sup = app
        .post(
            "/api/v1/supervisors",
            &office,
            serde_json::json!({"code": "JD-2026-01", "name": "王监督", "kind": "npc_deputy", "organisation": "市人大",
                               "mobile": "13800001111", "term_start": "2026-01-01", "term_end": "2027-12-31"}),
        )
        .await;
    let sup_id = sup.ok()["id"].as_i64().unwrap();
    let sups = app.get("/api/v1/account-links?kind=supervisor&q=JD-2026", &sys).await;
    assert_eq!(sups.ok()[0]["id"], sup_id);
    assert!(!sups.json.to_string().contains("13800001111"));
    app.get("/api/v1/account-links?kind=robot", &sys).await.expect(422, "validation_failed");
    app.get("/api/v1/account-links?kind=person", &office).await.expect(403, "forbidden");
});
