//! Login, lockout, session expiry, logout, CSRF, `/me`, and the error language.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use chrono::Duration;
use serde_json::json;

use crate::{PASSWORD, both, support::TestApp};

both!(login_returns_me_and_a_strict_cookie, |app: TestApp| async move {
    let s = app.login("head_a").await;
    assert!(s.set_cookie.contains("HttpOnly"), "{}", s.set_cookie);
    assert!(s.set_cookie.contains("SameSite=Strict"), "{}", s.set_cookie);
    assert!(!s.set_cookie.contains("Secure"), "plain HTTP in tests: {}", s.set_cookie);
    let me = app.get("/api/v1/me", &s).await;
    let me = me.ok();
    assert_eq!(me["username"], "head_a");
    assert_eq!(me["roles"][0]["code"], "dept_head");
    assert_eq!(me["scopes"]["people:read"], "department_tree");
    assert_eq!(me["department_name"], "市场监督管理局");
    let perms: Vec<&str> = me["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(perms.contains(&"people:read") && !perms.contains(&"people:write"), "{perms:?}");
});

both!(wrong_password_message_follows_language, |app: TestApp| async move {
    let r = app.login_with("head_a", "nope").await.unwrap_err();
    r.expect(401, "invalid_credentials");
    assert_eq!(r.json["message"], "用户名或密码错误，再错 4 次账号将被锁定");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::from(json!({"username": "head_a", "password": "nope"}).to_string()))
        .unwrap();
    let r = app.send(req).await;
    r.expect(401, "invalid_credentials");
    assert_eq!(r.json["message"], "Wrong user name or password; 3 attempts left before the account locks");
    let r = app.login_with("ghost", "nope").await.unwrap_err();
    r.expect(401, "invalid_credentials");
});

both!(five_failures_lock_for_fifteen_minutes, |app: TestApp| async move {
    for i in 0..4 {
        app.login_with("staff_a", "wrong").await.unwrap_err().expect(401, "invalid_credentials");
        assert!(i < 4);
    }
    let r = app.login_with("staff_a", "wrong").await.unwrap_err();
    r.expect(423, "account_locked");
    // Even the right password is refused while locked.
    app.login_with("staff_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    app.clock.advance(Duration::minutes(14));
    app.login_with("staff_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    app.clock.advance(Duration::minutes(1));
    app.login("staff_a").await;
    // Failures and the lock are in the audit log, without the password.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.login&outcome=failed&page_size=50", &auditor).await;
    let log = log.ok();
    assert_eq!(log["total"], 7, "{log}");
    assert!(!log.to_string().contains("wrong\""), "password leaked into the audit log: {log}");
});

both!(sessions_end_when_idle_or_too_old, |app: TestApp| async move {
    let s = app.login("leader").await;
    app.clock.advance(Duration::minutes(29));
    app.get("/api/v1/me", &s).await.ok();
    // Idle limit counts from the last request.
    app.clock.advance(Duration::minutes(29));
    app.get("/api/v1/me", &s).await.ok();
    app.clock.advance(Duration::minutes(30));
    app.get("/api/v1/me", &s).await.expect(401, "session_expired");
    app.get("/api/v1/me", &s).await.expect(401, "unauthenticated");

    // Active all along, a session still ends 12 hours after login.
    let s = app.login("leader").await;
    for _ in 0..(12 * 4 - 1) {
        app.clock.advance(Duration::minutes(15));
        app.get("/api/v1/me", &s).await.ok();
    }
    app.clock.advance(Duration::minutes(15));
    app.get("/api/v1/me", &s).await.expect(401, "session_expired");
});

both!(logout_ends_the_session_on_the_server, |app: TestApp| async move {
    let s = app.login("office").await;
    let r = app.call(Method::POST, "/api/v1/auth/logout", Some(&s), None).await;
    assert_eq!(r.status, 204);
    assert!(r.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    // The old cookie is dead even if the browser kept it.
    app.get("/api/v1/me", &s).await.expect(401, "unauthenticated");
});

both!(cross_site_writes_are_refused, |app: TestApp| async move {
    let s = app.login("office").await;
    let body = json!({"code": "X1", "name": "跨站", "category": "general"}).to_string();
    let req = |site: Option<&str>, origin: Option<&str>| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/departments")
            .header(header::HOST, "xiaoneng.example")
            .header(header::COOKIE, &s.cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(v) = site {
            b = b.header("sec-fetch-site", v);
        }
        if let Some(v) = origin {
            b = b.header(header::ORIGIN, v);
        }
        b.body(Body::from(body.clone())).unwrap()
    };
    app.send(req(Some("cross-site"), Some("https://evil.example"))).await.expect(403, "csrf_rejected");
    app.send(req(Some("same-site"), None)).await.expect(403, "csrf_rejected");
    app.send(req(None, Some("https://evil.example"))).await.expect(403, "csrf_rejected");
    // Nothing was created by the refused requests.
    let list = app.get("/api/v1/departments?q=X1", &s).await;
    assert_eq!(list.ok()["total"], 0);
    let ok = app.send(req(Some("same-origin"), Some("http://xiaoneng.example"))).await;
    assert_eq!(ok.status, 201, "{}", ok.json);
    // Reads are never refused for their origin.
    let get = Request::builder()
        .uri("/api/v1/me")
        .header(header::COOKIE, &s.cookie)
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(get).await.status, 200);
});

both!(no_cookie_means_401_everywhere, |app: TestApp| async move {
    for path in ["/api/v1/me", "/api/v1/people", "/api/v1/departments", "/api/v1/audit"] {
        app.call(Method::GET, path, None, None).await.expect(401, "unauthenticated");
    }
    let forged =
        crate::support::Session { cookie: format!("xn_session={}", "ab".repeat(32)), set_cookie: String::new() };
    app.get("/api/v1/me", &forged).await.expect(401, "unauthenticated");
});

both!(cookie_is_secure_behind_a_trusted_tls_proxy, |app: TestApp| async move {
    let login = |router: axum::Router| async move {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "203.0.113.9")
            .body(Body::from(json!({"username": "office", "password": PASSWORD}).to_string()))
            .unwrap();
        use tower::ServiceExt;
        let res = router.oneshot(req).await.unwrap();
        res.headers()[header::SET_COOKIE].to_str().unwrap().to_owned()
    };
    // Untrusted headers change nothing.
    assert!(!login(app.router.clone()).await.contains("Secure"));
    let config = xiaoneng_server::ServerConfig { trust_forwarded_headers: true, ..Default::default() };
    let state = xiaoneng_server::AppState::new(
        app.store.clone(),
        std::sync::Arc::new(app.clock.clone()),
        config,
        app.state.objects.clone(),
    );
    assert!(login(xiaoneng_server::app(state)).await.contains("; Secure"));
    // And the audit log has the client's address from the proxy.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.login&actor=office", &auditor).await;
    let ips: Vec<&str> = log.ok()["items"].as_array().unwrap().iter().map(|e| e["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["203.0.113.9", "unknown"]);
});

/// Another instance of the server on the test's database, with its own identity cache.
async fn second_instance(app: &TestApp) -> (axum::Router, xiaoneng_server::AppState) {
    let store = xiaoneng_store::Store::open(&app.db.location, 2).await.unwrap();
    let objects = object_store::local::LocalFileSystem::new_with_prefix(app.objects_dir.path()).unwrap();
    let state = xiaoneng_server::AppState::new(
        store,
        std::sync::Arc::new(app.clock.clone()),
        xiaoneng_server::ServerConfig::default(),
        std::sync::Arc::new(objects),
    );
    (xiaoneng_server::app(state.clone()), state)
}

async fn me_on(router: &axum::Router, s: &crate::support::Session) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = Request::builder().uri("/api/v1/me").header(header::COOKIE, &s.cookie).body(Body::empty()).unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// Asks `/me` on `router` until `done` holds, for at most two seconds (each instance reads the
/// identity epoch every 200 ms); the last answer.
async fn me_until(
    router: &axum::Router,
    s: &crate::support::Session,
    done: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let started = std::time::Instant::now();
    loop {
        let (status, body) = me_on(router, s).await;
        if done(status, &body) || started.elapsed() > std::time::Duration::from_secs(2) {
            return (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

both!(another_instance_learns_of_logout_disabling_and_role_changes, |app: TestApp| async move {
    let (other, other_state) = second_instance(&app).await;
    let head = app.login("head_a").await;
    let staff = app.login("staff_a").await;
    // The other instance serves both from its memory once it has seen them.
    for s in [&head, &staff] {
        assert_eq!(me_until(&other, s, |st, _| st == 200).await.0, 200);
    }
    let hash =
        |s: &crate::support::Session| xiaoneng_server::auth::token_hash(s.cookie.trim_start_matches("xn_session="));
    let cached = me_until(&other, &head, |_, _| other_state.identities.get(&hash(&head)).is_some()).await;
    assert!(other_state.identities.get(&hash(&head)).is_some(), "cached: {cached:?}");

    // Logging out on this instance ends the session on the other.
    app.call(Method::POST, "/api/v1/auth/logout", Some(&head), None).await;
    let (status, body) = me_until(&other, &head, |st, _| st == 401).await;
    assert_eq!(status, 401, "{body}");

    // A role granted by the security admin takes effect there too.
    let sec = app.login("secadmin").await;
    let staff_id = app.ids["staff_a"];
    app.put(&format!("/api/v1/users/{staff_id}/roles"), &sec, json!({"roles": ["staff", "dept_liaison"]})).await.ok();
    let has_liaison = |_: u16, b: &serde_json::Value| {
        b["roles"].as_array().is_some_and(|r| r.iter().any(|r| r["code"] == "dept_liaison"))
    };
    let (_, body) = me_until(&other, &staff, has_liaison).await;
    assert!(has_liaison(200, &body), "{body}");

    // Disabling an account ends its sessions everywhere.
    let sys = app.login("sysadmin").await;
    app.post(&format!("/api/v1/users/{staff_id}/disable"), &sys, json!({"reason": "离职"})).await.ok();
    let (status, body) = me_until(&other, &staff, |st, _| st == 401).await;
    assert_eq!(status, 401, "{body}");

    // A change made beside the servers (a statement of an operator's) reaches the other instance
    // as well: the database's triggers move the epoch it watches.
    let head_b = app.login("head_b").await;
    assert_eq!(me_until(&other, &head_b, |_, _| other_state.identities.get(&hash(&head_b)).is_some()).await.0, 200);
    use sea_orm::ConnectionTrait;
    let rename = format!("UPDATE departments SET name = '发展和改革局' WHERE id = {}", app.ids["dept_b"]);
    app.store.db().execute_unprepared(&rename).await.unwrap();
    let renamed = |_: u16, b: &serde_json::Value| b["department_name"] == "发展和改革局";
    let (_, body) = me_until(&other, &head_b, renamed).await;
    assert!(renamed(200, &body), "{body}");
});
