//! Two-step verification (decision 0029), as an office would meet it: enrolling an app, logging
//! in with its code, a code used once, recovery codes used once, wrong codes locking the account
//! as wrong passwords do, the policy holding an office admin to it, the security admin's reset,
//! and an audit log that records every step and never a secret.

use axum::http::{Method, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use xiaoneng_core::second_factor::Secret;

use crate::{
    both,
    support::{PASSWORD, Resp, Session, TestApp, set_cookies},
};

/// Makes the policy require a second factor of these roles (as the security admin).
async fn require_of(app: &TestApp, roles: &[&str]) {
    let sec = app.login("secadmin").await;
    let mut policy = app.get("/api/v1/settings/security-policy", &sec).await.ok().clone();
    policy["second_factor_roles"] = json!(roles);
    let saved = app.put("/api/v1/settings/security-policy", &sec, policy).await;
    assert_eq!(saved.ok()["second_factor_roles"], json!(roles));
}

/// Sets up an app for the session's user: the secret (as the app would read it) and the recovery
/// codes shown once.
async fn enrol(app: &TestApp, s: &Session) -> (Secret, Vec<String>, Value) {
    let started = app.post("/api/v1/auth/second-factor/enrolment", s, json!({})).await;
    assert_eq!(started.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let started = started.ok().clone();
    let secret = Secret::from_base32(started["secret"].as_str().unwrap()).expect("base32");
    let code = secret.code_at(app.clock_now()).unwrap();
    let r = app.post("/api/v1/auth/second-factor/enrolment/confirm", s, json!({ "code": code })).await;
    let codes: Vec<String> =
        r.ok()["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes, started)
}

/// A six-digit code that is none of the codes accepted now.
fn wrong_code(app: &TestApp, secret: &Secret) -> String {
    let step = xiaoneng_core::second_factor::step_of(app.clock_now());
    let near: Vec<String> = (step - 1..=step + 1).map(|s| secret.code_at_step(s, 6).unwrap()).collect();
    (0..).map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000)).find(|c| !near.contains(c)).unwrap()
}

/// The password step: the answer and the pending login's cookie (`name=token`), if one was set.
async fn password_step(app: &TestApp, user: &str) -> (Resp, Option<String>) {
    let r = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({ "username": user, "password": PASSWORD })))
        .await;
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("xn_login="))
        .map(|c| c.split(';').next().unwrap().to_owned());
    (r, cookie)
}

async fn code_step(app: &TestApp, challenge: &str, code: &str) -> Resp {
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login/second-factor")
        .header(header::COOKIE, challenge)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json!({ "code": code }).to_string()))
        .unwrap();
    app.send(req).await
}

/// Both steps; the session.
async fn login_with_code(app: &TestApp, user: &str, code: &str) -> Result<Session, Resp> {
    let (r, challenge) = password_step(app, user).await;
    assert_eq!(r.json["second_factor_required"], true, "{}", r.json);
    let r = code_step(app, &challenge.unwrap(), code).await;
    if r.status != StatusCode::OK {
        return Err(r);
    }
    Ok(Session::from_answer(&r))
}

/// The audit log as the audit admin reads it: entries whose action starts with `action`.
async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let auditor = app.login("auditor").await;
    let r = app.get(&format!("/api/v1/audit?action={action}&page_size=200"), &auditor).await;
    r.ok()["items"].as_array().unwrap().clone()
}

both!(an_office_admin_enrols_and_then_logs_in_with_a_code_once, |app: TestApp| async move {
    require_of(&app, &["office_admin"]).await;

    // The password alone gives a session that may only set up the app.
    let office = app.login("office").await;
    let me = app.get("/api/v1/me", &office).await;
    assert_eq!(me.ok()["must_enrol_second_factor"], true);
    assert_eq!(me.json["second_factor_enabled"], false);
    app.get("/api/v1/departments", &office).await.expect(403, "second_factor_required");
    app.get("/api/v1/plans", &office).await.expect(403, "second_factor_required");
    let status = app.get("/api/v1/auth/second-factor", &office).await;
    assert_eq!(status.ok()["required"], true);
    assert_eq!(status.json["must_enrol"], true);

    // Set-up: a secret, its URI and a QR code; a wrong code does not confirm it.
    let started = app.post("/api/v1/auth/second-factor/enrolment", &office, json!({})).await.ok().clone();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Xiaoneng:office?secret="), "{uri}");
    assert!(uri.ends_with("&issuer=Xiaoneng&algorithm=SHA1&digits=6&period=30"), "{uri}");
    assert!(started["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let secret = Secret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.as_bytes().len(), 20);
    assert!(uri.contains(&secret.to_base32()));
    let wrong = wrong_code(&app, &secret);
    let r = app.post("/api/v1/auth/second-factor/enrolment/confirm", &office, json!({ "code": wrong })).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["field"], "code");
    app.get("/api/v1/departments", &office).await.expect(403, "second_factor_required");
    let confirm_code = secret.code_at(app.clock_now()).unwrap();
    let r = app.post("/api/v1/auth/second-factor/enrolment/confirm", &office, json!({ "code": confirm_code })).await;
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let codes: Vec<String> =
        r.ok()["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    // The same session may now do its work.
    app.get("/api/v1/departments", &office).await.ok();
    let status = app.get("/api/v1/auth/second-factor", &office).await;
    assert_eq!((status.ok()["enabled"].clone(), status.json["recovery_codes_left"].clone()), (json!(true), json!(10)));
    app.call(Method::POST, "/api/v1/auth/logout", Some(&office), None).await;

    // The right password no longer opens a session: it asks for the code.
    let (r, challenge) = password_step(&app, "office").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["second_factor_required"], true);
    assert!(r.json.get("permissions").is_none(), "no user before the code: {}", r.json);
    assert!(set_cookies(&r).iter().all(|c| !c.starts_with("xn_session=")), "no session yet");
    let challenge = challenge.expect("the pending login's cookie");
    assert!(set_cookies(&r).iter().any(|c| c.contains("HttpOnly") && c.contains("Max-Age=300")));

    // A wrong code: 401, and it counts towards the lock.
    let r = code_step(&app, &challenge, &wrong_code(&app, &secret)).await;
    r.expect(401, "invalid_second_factor");
    assert_eq!(r.json["details"]["attempts_left"], 4);
    // The code that confirmed the set-up is spent: replayed, it is refused (and counted).
    let r = code_step(&app, &challenge, &confirm_code).await;
    r.expect(401, "invalid_second_factor");
    assert_eq!(r.json["details"]["attempts_left"], 3);
    // The next code lets the user in; the pending login's cookie is cleared.
    app.clock.advance(Duration::seconds(30));
    let code = secret.code_at(app.clock_now()).unwrap();
    let r = code_step(&app, &challenge, &code).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["username"], "office");
    assert_eq!(r.json["second_factor_enabled"], true);
    assert_eq!(r.json["must_enrol_second_factor"], false);
    assert!(set_cookies(&r).iter().any(|c| c.starts_with("xn_login=;") && c.contains("Max-Age=0")));
    let office = Session::from_answer(&r);
    app.get("/api/v1/departments", &office).await.ok();
    // The finished login cannot be finished again.
    code_step(&app, &challenge, &code).await.expect(401, "login_challenge_expired");

    // The same code on a new login: refused, it was used.
    let r = login_with_code(&app, "office", &code).await.unwrap_err();
    r.expect(401, "invalid_second_factor");
    assert_eq!(r.json["details"]["attempts_left"], 4, "the successful login cleared the count");

    // A recovery code works once (typed loosely), and then never again.
    let typed = codes[3].to_lowercase().replace('-', " ");
    login_with_code(&app, "office", &typed).await.expect("a recovery code logs in");
    let r = login_with_code(&app, "office", &codes[3]).await.unwrap_err();
    r.expect(401, "invalid_second_factor");
    let status = app.get("/api/v1/auth/second-factor", &office).await;
    assert_eq!(status.ok()["recovery_codes_left"], 9);

    // Wrong codes lock the account as wrong passwords do: 5 in a row (the replayed recovery code
    // was the first).
    let (_, challenge) = password_step(&app, "office").await;
    let challenge = challenge.unwrap();
    for left in (1..=3).rev() {
        let r = code_step(&app, &challenge, &wrong_code(&app, &secret)).await;
        assert_eq!(r.json["details"]["attempts_left"], left, "{}", r.json);
    }
    let r = code_step(&app, &challenge, &wrong_code(&app, &secret)).await;
    r.expect(423, "account_locked");
    // Locked: the right code, and the right password, are refused until the lock ends.
    app.clock.advance(Duration::seconds(30));
    code_step(&app, &challenge, &secret.code_at(app.clock_now()).unwrap()).await.expect(401, "login_challenge_expired");
    app.login_with("office", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    app.clock.advance(Duration::minutes(15));
    login_with_code(&app, "office", &secret.code_at(app.clock_now()).unwrap()).await.expect("in after the lock");

    // A pending login lasts five minutes.
    let (_, challenge) = password_step(&app, "office").await;
    app.clock.advance(Duration::minutes(5));
    let r = code_step(&app, &challenge.unwrap(), &secret.code_at(app.clock_now()).unwrap()).await;
    r.expect(401, "login_challenge_expired");

    // What the audit log holds: every step, and nothing of the secret or the codes.
    let enrolments = audit(&app, "second_factor.").await;
    let actions: Vec<&str> = enrolments.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"second_factor.enrol_start") && actions.contains(&"second_factor.enrol"), "{actions:?}");
    let logins = audit(&app, "auth.login").await;
    let results: Vec<&str> = logins.iter().filter_map(|e| e["detail"]["result"].as_str()).collect();
    for want in ["second_factor_required", "wrong_code", "wrong_code_locked", "ok"] {
        assert!(results.contains(&want), "no {want} in {results:?}");
    }
    assert!(logins.iter().any(|e| e["detail"]["method"] == "recovery_code" && e["detail"]["recovery_codes_left"] == 9));
    let everything = audit(&app, "").await;
    let text = serde_json::to_string(&everything).unwrap();
    assert!(!text.contains(&secret.to_base32()), "the secret is in the audit log");
    assert!(!text.contains(started["secret"].as_str().unwrap()), "the secret is in the audit log");
    for c in &codes {
        assert!(!text.contains(c.as_str()) && !text.contains(&c.replace('-', "")), "a recovery code is in the log");
    }
    // Stored: the codes' hashes only.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use xiaoneng_store::entity::recovery_code;
    let rows = recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(app.ids["office"]))
        .all(app.store.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.code_hash.len() == 64 && !codes.iter().any(|c| c.replace('-', "") == r.code_hash)));
});

both!(a_code_raced_by_two_logins_lets_one_in, |app: TestApp| async move {
    let staff = app.login("staff_a").await;
    let (secret, _, _) = enrol(&app, &staff).await;
    app.clock.advance(Duration::seconds(30));
    let code = secret.code_at(app.clock_now()).unwrap();
    let (_, first) = password_step(&app, "staff_a").await;
    let (_, second) = password_step(&app, "staff_a").await;
    let (first, second) = (first.unwrap(), second.unwrap());
    let (a, b) = tokio::join!(code_step(&app, &first, &code), code_step(&app, &second, &code));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} / {}", a.json, b.json);
});

both!(the_security_admin_resets_a_factor_but_not_their_own, |app: TestApp| async move {
    // Nobody is required to; staff_a chose to.
    let staff = app.login("staff_a").await;
    let (secret, _, _) = enrol(&app, &staff).await;
    let sec = app.login("secadmin").await;
    let id = app.ids["staff_a"];
    let listed = app.get(&format!("/api/v1/users/{id}"), &sec).await;
    assert_eq!(listed.ok()["second_factor_enabled"], true);

    // Only the security admin, with a reason.
    let sys = app.login("sysadmin").await;
    app.post(&format!("/api/v1/users/{id}/second-factor/reset"), &sys, json!({"reason": "x"}))
        .await
        .expect(403, "forbidden");
    app.post(&format!("/api/v1/users/{id}/second-factor/reset"), &sec, json!({"reason": " "}))
        .await
        .expect(422, "validation_failed");
    let r = app
        .post(&format!("/api/v1/users/{id}/second-factor/reset"), &sec, json!({"reason": "手机遗失，本人到场核实"}))
        .await;
    assert_eq!(r.ok()["second_factor_enabled"], false);
    assert_eq!(r.json["must_enrol_second_factor"], true);
    // The user's sessions ended; the old app's code opens nothing; they set up an app again.
    app.get("/api/v1/me", &staff).await.expect(401, "unauthenticated");
    let staff = app.login("staff_a").await;
    assert_eq!(app.get("/api/v1/me", &staff).await.ok()["must_enrol_second_factor"], true);
    app.get("/api/v1/inbox", &staff).await.expect(403, "second_factor_required");
    app.clock.advance(Duration::seconds(30));
    let (fresh, _, _) = enrol(&app, &staff).await;
    assert_ne!(fresh, secret);
    app.get("/api/v1/inbox", &staff).await.ok();
    // Nothing left to reset twice over.
    app.post(&format!("/api/v1/users/{}/second-factor/reset", app.ids["leader"]), &sec, json!({"reason": "x"}))
        .await
        .expect(409, "no_second_factor");

    // Their own: never, even with an app set up.
    enrol(&app, &sec).await;
    let me = app.ids["secadmin"];
    let r = app.post(&format!("/api/v1/users/{me}/second-factor/reset"), &sec, json!({"reason": "x"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");

    let resets = audit(&app, "user.second_factor.reset").await;
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["actor"], "secadmin");
    assert_eq!(resets[0]["target_id"], id.to_string());
    assert_eq!(resets[0]["detail"]["reason"], "手机遗失，本人到场核实");
    assert_eq!(resets[0]["detail"]["sessions_ended"], 1);
});

both!(new_codes_and_turning_off_need_a_code_or_the_password, |app: TestApp| async move {
    let staff = app.login("staff_a").await;
    let (secret, old_codes, _) = enrol(&app, &staff).await;
    // A wrong password counts towards the lock; the right one issues ten new codes.
    let r = app.post("/api/v1/auth/second-factor/recovery-codes", &staff, json!({"password": "Wrong#2026"})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["field"], "password");
    app.post("/api/v1/auth/second-factor/recovery-codes", &staff, json!({})).await.expect(422, "validation_failed");
    let r = app.post("/api/v1/auth/second-factor/recovery-codes", &staff, json!({"password": PASSWORD})).await;
    let new_codes = r.ok()["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(new_codes.len(), 10);
    // The old ones stopped working.
    login_with_code(&app, "staff_a", &old_codes[0]).await.unwrap_err().expect(401, "invalid_second_factor");
    login_with_code(&app, "staff_a", new_codes[0].as_str().unwrap()).await.expect("a new code works");

    // A policy that requires it keeps it on.
    require_of(&app, &["staff"]).await;
    app.clock.advance(Duration::seconds(30));
    let code = secret.code_at(app.clock_now()).unwrap();
    let r = app.post("/api/v1/auth/second-factor/disable", &staff, json!({"code": code})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");
    // Otherwise the current code turns it off, and the password alone logs in again.
    require_of(&app, &[]).await;
    let r = app.post("/api/v1/auth/second-factor/disable", &staff, json!({"code": code})).await;
    assert_eq!(r.ok()["enabled"], false);
    app.login("staff_a").await;
    let off = audit(&app, "second_factor.disable").await;
    assert_eq!(off.len(), 1);
    assert_eq!(off[0]["actor"], "staff_a");
});
