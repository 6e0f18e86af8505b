//! Login, lockout, session expiry, logout, CSRF, `/me`, and the error language.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use chrono::Duration;
use serde_json::json;

use crate::{
    PASSWORD, both,
    support::{Session, TestApp, login_request, send_to, set_cookies},
};

both!(login_returns_me_and_a_strict_cookie, |app: TestApp| async move {
    let s = app.login("head_a").await;
    assert!(s.set_cookie.contains("HttpOnly"), "{}", s.set_cookie);
    assert!(s.set_cookie.contains("SameSite=Strict"), "{}", s.set_cookie);
    assert!(!s.set_cookie.contains("Secure"), "plain HTTP in tests: {}", s.set_cookie);
    assert!(s.cookie.starts_with("xn_session="), "{}", s.cookie);
    // Beside it, a hint the web app can read (the session cookie it cannot): no secret in it.
    let r = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": "head_a", "password": PASSWORD})))
        .await;
    let hint = set_cookies(&r).into_iter().find(|c| c.starts_with("xn_signed_in=1;")).expect("the hint cookie");
    assert!(!hint.contains("HttpOnly") && hint.contains("SameSite=Strict"), "{hint}");
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
    // Failures and the lock are in the audit log, without the password: the four wrong ones and
    // the refusal while locked rolled up into the first of their window, the lock on its own, the
    // refusal 14 minutes later in a window of its own (after the earlier window's summary).
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.login&outcome=failed&page_size=50", &auditor).await;
    let log = log.ok();
    assert_eq!(events_in(log), 7, "{log}");
    let results: Vec<&str> =
        log["items"].as_array().unwrap().iter().filter_map(|e| e["detail"]["result"].as_str()).collect();
    assert_eq!(results, ["locked", "wrong_password_locked", "wrong_password"], "{log}");
    assert!(!log.to_string().contains("wrong\""), "password leaked into the audit log: {log}");
});

/// How many events a page of the audit log stands for: each entry recorded at once, and the
/// repeats rolled up into it (`repeats`); the summary entries repeat those counts, so are skipped.
pub fn events_in(page: &serde_json::Value) -> u64 {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_type"] != "audit_entry")
        .map(|e| 1 + e["repeats"].as_u64().unwrap())
        .sum()
}

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
    // The web app's hint goes with it.
    assert!(set_cookies(&r).iter().any(|c| c.starts_with("xn_signed_in=;") && c.contains("Max-Age=0")));
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

both!(parallel_wrong_passwords_cannot_outrun_the_lock, |app: TestApp| async move {
    // Twenty wrong passwords at once, each on a task of its own.
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let router = app.router.clone();
            tokio::spawn(async move { send_to(&router, login_request("staff_a", "wrong-guess", None)).await })
        })
        .collect();
    let mut left = Vec::new();
    let mut locked = 0;
    for t in tries {
        let r = t.await.unwrap();
        match r.status.as_u16() {
            401 => left.push(r.json["details"]["attempts_left"].as_u64().unwrap()),
            423 => locked += 1,
            other => panic!("unexpected {other}: {}", r.json),
        }
    }
    // Each count is told once at most (4, 3, 2, 1 left); every other try met the lock.
    left.sort_unstable();
    let told = left.len();
    left.dedup();
    assert_eq!(left.len(), told, "the same count was told twice: {left:?}");
    assert!(told <= 4 && locked >= 16, "{told} answered 401, {locked} 423");
    // The account is locked: even the right password is refused, and stays refused.
    app.login_with("staff_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    app.clock.advance(Duration::minutes(14));
    app.login_with("staff_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    app.clock.advance(Duration::minutes(1));
    app.login("staff_a").await;
});

both!(a_right_password_racing_wrong_ones_never_clears_the_lock, |app: TestApp| async move {
    // Wrong passwords and the right one at once: however they interleave, the account ends
    // locked, and a right password counted after the lock was set is refused.
    let mut tries: Vec<_> = (0..10)
        .map(|_| {
            let router = app.router.clone();
            tokio::spawn(async move { send_to(&router, login_request("liaison_a", "wrong-guess", None)).await })
        })
        .collect();
    let router = app.router.clone();
    tries.push(tokio::spawn(async move { send_to(&router, login_request("liaison_a", PASSWORD, None)).await }));
    for t in tries {
        let r = t.await.unwrap();
        assert!([200, 401, 423].contains(&r.status.as_u16()), "{}", r.json);
    }
    app.login_with("liaison_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
});

both!(unknown_names_answer_as_real_ones_do, |app: TestApp| async move {
    // The same answers, word for word, for a real name and one that matches no account.
    for left in [4, 3, 2, 1] {
        let real = app.login_with("staff_a", "Wrong#Guess1").await.unwrap_err();
        let ghost = app.login_with("no_such_user", "Wrong#Guess1").await.unwrap_err();
        real.expect(401, "invalid_credentials");
        assert_eq!(real.json["details"]["attempts_left"], left, "{}", real.json);
        assert_eq!(ghost.status, real.status);
        assert_eq!(ghost.json, real.json);
    }
    let real = app.login_with("staff_a", "Wrong#Guess1").await.unwrap_err();
    let ghost = app.login_with("no_such_user", "Wrong#Guess1").await.unwrap_err();
    real.expect(423, "account_locked");
    assert_eq!((ghost.status, &ghost.json), (real.status, &real.json));
    let real = app.login_with("staff_a", PASSWORD).await.unwrap_err();
    let ghost = app.login_with("no_such_user", PASSWORD).await.unwrap_err();
    assert_eq!((ghost.status, &ghost.json), (real.status, &real.json));

    // A password typed into the name field never reaches the audit log as it was typed.
    app.login_with("Secret#Pass2026", "x").await.unwrap_err().expect(401, "invalid_credentials");
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.login&page_size=100", &auditor).await;
    let text = log.ok().to_string().to_lowercase();
    assert!(!text.contains("secret#pass2026") && !text.contains("no_such_user"), "{text}");
    let unknown: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"]["result"].as_str().is_some_and(|r| r.starts_with("unknown_user")))
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(unknown.len() >= 2 && unknown.iter().all(|a| a.starts_with("unknown:") && a.len() == 24), "{unknown:?}");
    // The same name has the same key, so the auditor sees repeats of one unknown name.
    assert!(unknown.windows(2).any(|w| w[0] != w[1]), "two names, two keys: {unknown:?}");
});

both!(a_wrong_current_password_counts_towards_the_lock, |app: TestApp| async move {
    let s = app.login("head_a").await;
    let change = json!({"current_password": "Not#MyPassword1", "new_password": "Another#Pass2027"});
    for left in [4, 3, 2, 1] {
        let r = app.post("/api/v1/auth/password", &s, change.clone()).await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], "wrong_password");
        assert!(r.json["message"].as_str().unwrap().contains(&format!("再错 {left} 次")), "{}", r.json);
    }
    app.post("/api/v1/auth/password", &s, change).await.expect(423, "account_locked");
    // Locked for logins too, and for the right current password meanwhile.
    app.login_with("head_a", PASSWORD).await.unwrap_err().expect(423, "account_locked");
    let right = json!({"current_password": PASSWORD, "new_password": "Another#Pass2027"});
    app.post("/api/v1/auth/password", &s, right).await.expect(423, "account_locked");
});

/// Sets the security policy's login limits through the API.
async fn set_limits(app: &TestApp, address: u32, global: u32) {
    let sec = app.login("secadmin").await;
    let mut p = app.get("/api/v1/settings/security-policy", &sec).await.ok().clone();
    p["address_failure_limit"] = json!(address);
    p["global_failure_limit"] = json!(global);
    app.put("/api/v1/settings/security-policy", &sec, p).await.ok();
}

both!(failed_logins_are_limited_per_address_and_overall_across_instances, |app: TestApp| async move {
    set_limits(&app, 5, 8).await;
    let proxied = xiaoneng_server::ServerConfig { trust_forwarded_headers: true, ..crate::support::test_config() };
    let (one, _) = app.instance(proxied.clone()).await;
    let (two, _) = app.instance(proxied).await;
    // Five names sprayed from one address, through two instances.
    let sprayer = "198.51.100.7";
    for (i, name) in ["head_a", "liaison_a", "staff_a", "leader", "nobody"].iter().enumerate() {
        let via = if i % 2 == 0 { &one } else { &two };
        send_to(via, login_request(name, "Spring#2026", Some(sprayer))).await.expect(401, "invalid_credentials");
    }
    // That address may not try again this window, not even with a right password, on either.
    for via in [&one, &two] {
        let r = send_to(via, login_request("office", PASSWORD, Some(sprayer))).await;
        r.expect(429, "too_many_attempts");
        assert_eq!(r.json["details"]["scope"], "address");
        let retry: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "{retry}");
    }
    // Others may.
    assert_eq!(send_to(&two, login_request("office", PASSWORD, Some("198.51.100.8"))).await.status, 200);
    // Three more failures from three other addresses make eight overall: nobody may try now.
    for ip in ["203.0.113.20", "203.0.113.21", "203.0.113.22"] {
        send_to(&one, login_request("leader", "Summer#2026", Some(ip))).await.expect(401, "invalid_credentials");
    }
    let r = send_to(&two, login_request("office", PASSWORD, Some("203.0.113.99"))).await;
    r.expect(429, "too_many_attempts");
    assert_eq!(r.json["details"]["scope"], "global");
    // The refusals are audited once per address and window, not once per try.
    for _ in 0..5 {
        send_to(&one, login_request("office", PASSWORD, Some(sprayer))).await.expect(429, "too_many_attempts");
    }
    // A new window: logins work again.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(send_to(&one, login_request("office", PASSWORD, Some(sprayer))).await.status, 200);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.throttled&page_size=50", &auditor).await;
    let entries: Vec<(&str, u64)> = log.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["ip"].as_str().unwrap(), e["repeats"].as_u64().unwrap()))
        .collect();
    assert_eq!(entries, [("203.0.113.99", 0), (sprayer, 6)], "{}", log.json);
});

both!(logins_wait_for_a_hashing_permit_then_are_told_to_retry, |app: TestApp| async move {
    let config = xiaoneng_server::ServerConfig {
        max_concurrent_hashes: 1,
        hash_wait: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let (router, state) = app.instance(config).await;
    // Every permit is taken (by long hashes elsewhere): the login is not checked, and says when
    // to come back.
    let held = state.hashing.clone().acquire_owned().await.unwrap();
    let r = send_to(&router, login_request("office", PASSWORD, None)).await;
    r.expect(503, "busy");
    assert_eq!(r.headers[header::RETRY_AFTER], "1");
    drop(held);
    assert_eq!(send_to(&router, login_request("office", PASSWORD, None)).await.status, 200);
    // A busy refusal counts as no failure.
    let r = send_to(&router, login_request("office", "wrong", None)).await;
    assert_eq!(r.json["details"]["attempts_left"], 4, "{}", r.json);
});

both!(the_client_is_the_address_our_proxy_saw, |app: TestApp| async move {
    let one_proxy = xiaoneng_server::ServerConfig { trust_forwarded_headers: true, ..crate::support::test_config() };
    let (router, _) = app.instance(one_proxy).await;
    // The client wrote the left part itself; our proxy appended the address it saw.
    let r = send_to(&router, login_request("office", PASSWORD, Some("6.6.6.6, 203.0.113.9"))).await;
    assert_eq!(r.status, 200);
    let two_proxies = xiaoneng_server::ServerConfig {
        trust_forwarded_headers: true,
        trusted_proxies: 2,
        ..crate::support::test_config()
    };
    let (router, _) = app.instance(two_proxies).await;
    let r = send_to(&router, login_request("leader", PASSWORD, Some("6.6.6.6, 203.0.113.10, 10.0.0.2"))).await;
    assert_eq!(r.status, 200);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=auth.login&outcome=ok&page_size=10", &auditor).await;
    let ips: Vec<(&str, &str)> = log.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["ip"].as_str().unwrap()))
        .collect();
    assert_eq!(ips, [("auditor", "unknown"), ("leader", "203.0.113.10"), ("office", "203.0.113.9")]);
});

both!(over_https_the_session_cookie_is_host_only_and_transport_strict, |app: TestApp| async move {
    let https = xiaoneng_server::ServerConfig { secure_cookies: true, ..crate::support::test_config() };
    let (router, _) = app.instance(https).await;
    let r = send_to(&router, login_request("office", PASSWORD, None)).await;
    assert_eq!(r.status, 200);
    let s = Session::from_answer(&r);
    assert!(s.cookie.starts_with("__Host-xn_session="), "{}", s.set_cookie);
    for flag in ["; Secure", "; Path=/", "; HttpOnly", "; SameSite=Strict"] {
        assert!(s.set_cookie.contains(flag), "{flag} missing: {}", s.set_cookie);
    }
    assert!(!s.set_cookie.contains("Domain"), "{}", s.set_cookie);
    let hint = set_cookies(&r).into_iter().find(|c| c.starts_with("xn_signed_in=1")).expect("the hint");
    assert!(!hint.contains("HttpOnly") && hint.contains("; Secure"), "{hint}");
    let get = |cookie: String, path: &str| {
        Request::builder().uri(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
    };
    // Every answer, good or bad, tells the browser to stay on HTTPS.
    for (cookie, path, status) in [
        (s.cookie.clone(), "/api/v1/me", 200),
        (format!("xn_session={}", s.token()), "/api/v1/me", 401),
        (s.cookie.clone(), "/api/v1/no-such-route", 404),
        (String::new(), "/healthz", 200),
    ] {
        let r = send_to(&router, get(cookie, path)).await;
        assert_eq!(r.status, status, "{path}: {}", r.json);
        assert_eq!(r.headers[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000", "{path}");
    }
    let out = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/logout")
        .header(header::COOKIE, &s.cookie)
        .body(Body::empty())
        .unwrap();
    let r = send_to(&router, out).await;
    assert_eq!(r.status, 204);
    let cleared = set_cookies(&r);
    assert!(cleared.iter().any(|c| c.starts_with("__Host-xn_session=;") && c.contains("Max-Age=0")), "{cleared:?}");
    assert!(cleared.iter().any(|c| c.starts_with("xn_signed_in=;") && c.contains("Max-Age=0")), "{cleared:?}");
    // Over plain HTTP: the old name, no HSTS.
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
});
