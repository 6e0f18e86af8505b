//! The audit chain: every change is recorded with who, what and from where; tampering shows.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{auth::events_in, both, support::TestApp};

async fn changes(app: &TestApp) {
    let s = app.login("office").await;
    for i in 0..3 {
        let r = app
            .post(
                "/api/v1/departments",
                &s,
                json!({"code": format!("T{i}"), "name": format!("测试部门{i}"), "category": "general"}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
}

both!(every_change_is_audited_with_who_and_what, |app: TestApp| async move {
    changes(&app).await;
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=department.&page_size=10", &auditor).await;
    let log = log.ok();
    assert_eq!(log["total"], 3);
    let e = &log["items"][0];
    assert_eq!(e["actor"], "office");
    assert_eq!(e["target_type"], "department");
    assert_eq!(e["detail"]["after"]["name"], "测试部门2");
    assert_eq!(e["outcome"], "ok");
    assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    let by_actor = app.get("/api/v1/audit?actor=offi&action=department.create", &auditor).await;
    assert_eq!(by_actor.ok()["total"], 3);
    let later = app.get("/api/v1/audit?from=2030-01-01T00:00:00Z", &auditor).await;
    assert_eq!(later.ok()["total"], 0);
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], true, "{}", v.json);
    // Logins are there too, but never a password or a session token.
    let all = app.get("/api/v1/audit?page_size=200", &auditor).await;
    let text = all.ok().to_string();
    assert!(!text.contains(crate::PASSWORD));
    let s = app.login("office").await;
    let token = s.cookie.trim_start_matches("xn_session=");
    let all = app.get("/api/v1/audit?page_size=200", &auditor).await;
    assert!(!all.ok().to_string().contains(token));
});

both!(edited_deleted_or_reordered_entries_break_the_chain, |app: TestApp| async move {
    changes(&app).await;
    let db = app.store.db();
    let auditor = app.login("auditor").await;
    let verify = || async { app.get("/api/v1/audit/verify", &auditor).await.json };
    let n = verify().await["entries"].as_i64().unwrap();
    assert_eq!(n, 6, "the key for personal data registered at the first start, two logins and three departments");

    // An edit of one field of entry 3.
    db.execute_unprepared("UPDATE audit_log SET actor = 'someone_else' WHERE seq = 3").await.unwrap();
    let v = verify().await;
    assert_eq!((v["intact"].clone(), v["broken_at"].clone()), (json!(false), json!(3)), "{v}");
    assert_eq!(v["reason"], "内容与其哈希值不符（记录被篡改）");
    db.execute_unprepared("UPDATE audit_log SET actor = 'office' WHERE seq = 3").await.unwrap();
    assert_eq!(verify().await["intact"], true);

    // A deleted entry in the middle.
    db.execute_unprepared("CREATE TABLE audit_keep AS SELECT * FROM audit_log WHERE seq = 4").await.unwrap();
    db.execute_unprepared("DELETE FROM audit_log WHERE seq = 4").await.unwrap();
    let v = verify().await;
    assert_eq!(v["broken_at"], 5, "{v}");
    db.execute_unprepared("INSERT INTO audit_log SELECT * FROM audit_keep").await.unwrap();
    assert_eq!(verify().await["intact"], true);

    // Two entries swapped.
    db.execute_unprepared("UPDATE audit_log SET seq = -1 WHERE seq = 2").await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET seq = 2 WHERE seq = 3").await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET seq = 3 WHERE seq = -1").await.unwrap();
    assert_eq!(verify().await["broken_at"], 2);
    db.execute_unprepared("UPDATE audit_log SET seq = -1 WHERE seq = 2").await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET seq = 2 WHERE seq = 3").await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET seq = 3 WHERE seq = -1").await.unwrap();
    assert_eq!(verify().await["intact"], true);

    // The last entries cut off the end: the head still remembers them.
    let last = verify().await["entries"].as_i64().unwrap();
    db.execute_unprepared(&format!("DELETE FROM audit_log WHERE seq = {last}")).await.unwrap();
    let v = verify().await;
    assert_eq!(v["intact"], false, "{v}");
});

both!(concurrent_writers_keep_one_chain, |app: TestApp| async move {
    let s = app.login("office").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let router = app.router.clone();
        let cookie = s.cookie.clone();
        tasks.push(tokio::spawn(async move {
            use axum::{
                body::Body,
                http::{Request, header},
            };
            use tower::ServiceExt;
            let req = Request::builder()
                .method("POST")
                .uri("/api/v1/departments")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"code": format!("C{i}"), "name": format!("并发{i}"), "category": "general"}).to_string(),
                ))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let auditor = app.login("auditor").await;
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], true, "{}", v.json);
    let log = app.get("/api/v1/audit?action=department.create", &auditor).await;
    assert_eq!(log.ok()["total"], 40);
});

both!(sm3_chains_verify_and_can_follow_sha256, |app: TestApp| async move {
    changes(&app).await;
    // The office switches to the national algorithm: old entries keep theirs, new ones use SM3.
    let sm3 = app.store.clone().with_audit_algo(xiaoneng_store::HashAlgo::Sm3);
    let state = xiaoneng_server::AppState::new(
        sm3,
        std::sync::Arc::new(app.clock.clone()),
        Default::default(),
        app.state.objects.clone(),
    );
    let router = xiaoneng_server::app(state);
    let s = app.login("office").await;
    use axum::{
        body::Body,
        http::{Request, header},
    };
    use tower::ServiceExt;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/departments")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"code": "SM3", "name": "国密", "category": "general"}).to_string()))
        .unwrap();
    assert_eq!(router.oneshot(req).await.unwrap().status(), 201);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=department.create&page_size=1", &auditor).await;
    assert_eq!(log.ok()["items"][0]["algo"], "sm3");
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], true, "{}", v.json);
    // Tampering with the SM3 entry shows too.
    use sea_orm::ConnectionTrait;
    app.store.db().execute_unprepared("UPDATE audit_log SET target_id = '999' WHERE algo = 'sm3'").await.unwrap();
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], false);
});

/// Runs the server's recurring jobs once, as a runner would (the roll-up among them).
async fn run_jobs(app: &TestApp) {
    let r = xiaoneng_server::jobs::runner(
        app.store.clone(),
        std::sync::Arc::new(app.clock.clone()),
        app.state.objects.clone(),
        xiaoneng_server::notify::Egress::default(),
        "w".into(),
    );
    r.tick_recurring().await.unwrap();
    while r.run_one().await.unwrap() {}
}

both!(repeated_refusals_are_rolled_up_not_flooded, |app: TestApp| async move {
    let staff = app.login("staff_a").await;
    for _ in 0..30 {
        app.get("/api/v1/users", &staff).await.expect(403, "forbidden");
    }
    app.get("/api/v1/audit", &staff).await.expect(403, "forbidden");
    let head_b = app.login("head_b").await;
    for _ in 0..3 {
        app.get("/api/v1/users", &head_b).await.expect(403, "forbidden");
    }
    // One entry per caller, at once; the repeats counted on it.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=permission.denied&page_size=50", &auditor).await;
    let items = log.ok()["items"].as_array().unwrap().clone();
    let seen: Vec<(&str, &str, u64)> = items
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["target_id"].as_str().unwrap(), e["repeats"].as_u64().unwrap()))
        .collect();
    assert_eq!(seen, [("head_b", "/api/v1/users", 2), ("staff_a", "/api/v1/users", 30)], "{}", log.json);
    assert_eq!(events_in(&log.json), 34);
    let first = items[1]["seq"].as_i64().unwrap();

    // The window closes; the job puts the counts into the chain, as entries of their own.
    app.clock.advance(chrono::Duration::minutes(10));
    run_jobs(&app).await;
    // staff_a comes back in a new window: a new first entry.
    app.get("/api/v1/users", &staff).await.expect(403, "forbidden");
    let log = app.get("/api/v1/audit?action=permission.denied&actor=staff_a&page_size=50", &auditor).await;
    let items = log.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3, "{}", log.json);
    assert_eq!((items[0]["target_type"].as_str(), items[0]["repeats"].as_u64()), (Some("route"), Some(0)));
    let summary = &items[1];
    assert_eq!(summary["target_type"], "audit_entry");
    assert_eq!(summary["target_id"], first.to_string());
    assert_eq!(summary["outcome"], "denied");
    let rollup = &summary["detail"]["rollup"];
    assert_eq!(rollup["repeats"], 30, "{summary}");
    assert_eq!(rollup["targets"], json!(["/api/v1/users", "/api/v1/audit"]));
    assert_eq!(events_in(&log.json), 32);
    // Summed up once: the job finds nothing more to do, and the chain is whole.
    run_jobs(&app).await;
    let again = app.get("/api/v1/audit?action=permission.denied&target_type=audit_entry", &auditor).await;
    assert_eq!(again.ok()["total"], 2, "one summary each for staff_a and head_b: {}", again.json);
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], true, "{}", v.json);
});

both!(refusals_racing_each_other_are_counted_once_each, |app: TestApp| async move {
    let staff = app.login("staff_a").await;
    let tries: Vec<_> = (0..24)
        .map(|_| {
            let router = app.router.clone();
            let cookie = staff.cookie.clone();
            tokio::spawn(async move {
                use axum::{
                    body::Body,
                    http::{Request, header},
                };
                let req =
                    Request::builder().uri("/api/v1/users").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
                crate::support::send_to(&router, req).await.status.as_u16()
            })
        })
        .collect();
    for t in tries {
        assert_eq!(t.await.unwrap(), 403);
    }
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=permission.denied&page_size=50", &auditor).await;
    assert_eq!(log.ok()["total"], 1, "{}", log.json);
    assert_eq!(events_in(&log.json), 24);
    let v = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(v.ok()["intact"], true, "{}", v.json);
});

both!(looking_up_accounts_to_link_is_audited, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let r = app.get("/api/v1/account-links?kind=person&q=%E5%BC%A0", &sys).await;
    assert_eq!(r.ok().as_array().unwrap().len(), 1, "{}", r.json);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=user.link_search", &auditor).await;
    let log = log.ok();
    assert_eq!(log["total"], 1, "{log}");
    let e = &log["items"][0];
    assert_eq!(e["actor"], "sysadmin");
    assert_eq!(e["detail"], json!({"kind": "person", "q": "张", "found": 1}));
});
