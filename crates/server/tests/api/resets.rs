//! Password resets need two people: the system admin alone cannot get into a business account
//! (the attack: reset `inspector`'s password, log in as them, read the covert plans).

use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    PASSWORD, both,
    support::{Session, TestApp},
};

const NEW: &str = "Chosen#ByUser2026";

fn half(r: &crate::support::Resp) -> String {
    r.ok()["code_half"].as_str().unwrap().to_owned()
}

async fn use_code(app: &TestApp, username: &str, code: &str) -> crate::support::Resp {
    let body = json!({"username": username, "code": code, "new_password": NEW});
    app.call(axum::http::Method::POST, "/api/v1/auth/password-reset", None, Some(body)).await
}

async fn request(app: &TestApp, sys: &Session, who: &str) -> (i64, String) {
    let r = app
        .post(&format!("/api/v1/users/{}/reset-password", app.ids[who]), sys, json!({"reason": "本人来电，已核实工号"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    (r.json["reset"]["id"].as_i64().unwrap(), half(&r))
}

both!(a_reset_needs_both_admins_and_only_the_user_sets_the_password, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    let old_session = app.login("inspector").await;
    let (id, first) = request(&app, &sys, "inspector").await;
    assert_eq!(first.len(), 11, "ABCDE-FGHJK: {first}");

    // Asking changes nothing: the password still works, and no password came back.
    app.login("inspector").await;
    // The system admin cannot approve, nor set a password, nor use half a code.
    let r = app.post(&format!("/api/v1/password-resets/{id}/approve"), &sys, json!({})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");
    app.post(
        &format!("/api/v1/users/{}/reset-password", app.ids["inspector"]),
        &sys,
        json!({"password": "Taken#Over2026"}),
    )
    .await
    .expect(422, "validation_failed");
    use_code(&app, "inspector", &first).await.expect(401, "invalid_reset_code");
    use_code(&app, "inspector", &format!("{first}-AAAAA-AAAAA")).await.expect(401, "invalid_reset_code");

    // The security admin approves and receives the other half; the account's sessions end.
    let queue = app.get("/api/v1/password-resets?state=requested", &sec).await;
    assert_eq!(queue.ok()["items"][0]["id"], id);
    assert_eq!(queue.json["items"][0]["username"], "inspector");
    assert_eq!(queue.json["items"][0]["allowed_actions"], json!(["approve", "cancel"]));
    let approved =
        app.post(&format!("/api/v1/password-resets/{id}/approve"), &sec, json!({"expected_state": "requested"})).await;
    let second = half(&approved);
    assert_ne!(first, second);
    app.get("/api/v1/me", &old_session).await.expect(401, "unauthenticated");
    // Neither half alone, nor the halves the wrong way round.
    use_code(&app, "inspector", &second).await.expect(401, "invalid_reset_code");
    use_code(&app, "inspector", &format!("{second}{first}")).await.expect(401, "invalid_reset_code");

    // Both, in order (typed loosely): the user chooses the password, and it is the only one.
    let r = use_code(&app, "inspector", &format!(" {}-{} ", first.to_lowercase(), second)).await;
    assert_eq!(r.status, 204, "{}", r.json);
    app.login_with("inspector", NEW).await.expect("the new password");
    app.login_with("inspector", PASSWORD).await.unwrap_err().expect(401, "invalid_credentials");
    // Once only.
    use_code(&app, "inspector", &format!("{first}{second}")).await.expect(401, "invalid_reset_code");

    // Every step is in the log; no code is.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=user.password_reset&page_size=50", &auditor).await;
    let items = log.ok()["items"].as_array().unwrap().clone();
    let actions: Vec<(&str, &str)> =
        items.iter().map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap())).collect();
    for step in ["user.password_reset.request", "user.password_reset.approve"] {
        assert!(actions.contains(&(step, "ok")), "{actions:?}");
    }
    assert!(actions.contains(&("user.password_reset.use", "ok")), "{actions:?}");
    assert!(actions.contains(&("user.password_reset.use", "failed")), "{actions:?}");
    let text = Value::Array(items).to_string();
    assert!(!text.contains(&first) && !text.contains(&second), "a half in the log");
});

both!(wrong_codes_and_time_end_a_reset, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    let (id, first) = request(&app, &sys, "head_a").await;
    let second = half(&app.post(&format!("/api/v1/password-resets/{id}/approve"), &sec, json!({})).await);
    for _ in 0..5 {
        use_code(&app, "head_a", &format!("{first}ZZZZZZZZZZ")).await.expect(401, "invalid_reset_code");
    }
    // The fifth wrong code called it off: the right one no longer works.
    use_code(&app, "head_a", &format!("{first}{second}")).await.expect(401, "invalid_reset_code");
    let r = app.get("/api/v1/password-resets", &sec).await;
    assert_eq!(r.ok()["items"][0]["state"], "cancelled");
    assert_eq!(r.json["items"][0]["end_reason"], "too_many_attempts");

    // An approved code works for a day.
    let (id, first) = request(&app, &sys, "head_a").await;
    let second = half(&app.post(&format!("/api/v1/password-resets/{id}/approve"), &sec, json!({})).await);
    app.clock.advance(Duration::hours(25));
    use_code(&app, "head_a", &format!("{first}{second}")).await.expect(401, "invalid_reset_code");
    let sec = app.login("secadmin").await;
    let r = app.get("/api/v1/password-resets", &sec).await;
    assert_eq!(r.ok()["items"][0]["state"], "cancelled");
    assert_eq!(r.json["items"][0]["end_reason"], "expired");

    // A new request supersedes an open one; a called-off one cannot be approved.
    let sys = app.login("sysadmin").await;
    let (old, _) = request(&app, &sys, "staff_a").await;
    let (new, _) = request(&app, &sys, "staff_a").await;
    let r = app.post(&format!("/api/v1/password-resets/{old}/approve"), &sec, json!({})).await;
    r.expect(409, "invalid_transition");
    app.post(&format!("/api/v1/password-resets/{new}/cancel"), &sys, json!({"reason": "用户已想起密码"})).await.ok();
    let r = app.post(&format!("/api/v1/password-resets/{new}/approve"), &sec, json!({})).await;
    r.expect(409, "invalid_transition");
    // The IT admins' own accounts are the command line's.
    app.post(&format!("/api/v1/users/{}/reset-password", app.ids["auditor"]), &sys, json!({"reason": "x"}))
        .await
        .expect(400, "it_admin_account");
});
