//! `Idempotency-Key`: a phone's retry never creates twice.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use serde_json::{Value, json};

use crate::{
    both,
    inspections::{category, finding_body, plan_on_a},
    support::{Resp, Session, TestApp},
};

async fn post_keyed(app: &TestApp, s: &Session, path: &str, key: &str, body: &Value) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(req).await
}

both!(a_create_sent_twice_with_one_key_creates_once, |app: TestApp| async move {
    let office = app.login("office").await;
    let (_, visit) = plan_on_a(&app, &office).await;
    let inspector = app.login("inspector").await;
    let cat = category(&app, &inspector, "RUDE").await;
    let body = finding_body(&app, visit, cat);

    let first = post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0001", &body).await;
    assert_eq!(first.status, 201, "{}", first.json);
    let again = post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0001", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json["id"], first.json["id"], "the first answer, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // Two requests at once with a new key: one creates, the other is told to wait or answered.
    let (a, b) = tokio::join!(
        post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0002", &body),
        post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0002", &body)
    );
    for r in [&a, &b] {
        assert!(
            r.status == 201 || (r.status == 409 && r.code() == "idempotency_in_progress"),
            "{} {}",
            r.status,
            r.json
        );
    }
    let total = app.get("/api/v1/findings", &office).await.ok()["total"].as_i64().unwrap();
    assert_eq!(total, 2, "two keys, two findings");
    let events = app.get("/api/v1/events?kind=finding.recorded", &office).await;
    assert_eq!(events.ok()["items"].as_array().unwrap().len(), 2);

    // The same key for another request is refused and creates nothing.
    let mut other = body.clone();
    other["description"] = json!("另一处问题");
    let r = post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0001", &other).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "idempotency_key_reused");
    // Another user's key of the same name is theirs.
    let r = post_keyed(&app, &office, "/api/v1/findings", "phone-7f3a-0001", &body).await;
    assert_eq!(r.status, 201);
    assert_ne!(r.json["id"], first.json["id"]);
    // A refused request keeps nothing: corrected, the same key works.
    let mut bad = body.clone();
    bad["description"] = json!("");
    post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0003", &bad).await.expect(422, "validation_failed");
    let mut fixed = bad.clone();
    fixed["description"] = json!("窗口人员玩手机");
    let r = post_keyed(&app, &inspector, "/api/v1/findings", "phone-7f3a-0003", &fixed).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // A key must be printable.
    post_keyed(&app, &inspector, "/api/v1/findings", "two words", &fixed).await.expect(400, "invalid_idempotency_key");
});

both!(answers_holding_a_secret_are_never_kept_and_pushes_are_not_replayed, |app: TestApp| async move {
    use sea_orm::ConnectionTrait;
    let office = app.login("office").await;
    let body = json!({"kind": "system", "name": "审批系统"});
    let first = post_keyed(&app, &office, "/api/v1/api-clients", "key-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.json);
    // Sent again: a second key, not the first replayed out of a table that would hold it in clear.
    let again = post_keyed(&app, &office, "/api/v1/api-clients", "key-1", &body).await;
    assert_eq!(again.status, 201);
    assert_ne!(again.json["key"], first.json["key"]);
    let kept = app
        .store
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.store.backend(),
            "SELECT COUNT(*) AS n FROM idempotency_keys".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(kept, 0, "nothing of a key's answer is kept");

    // A push with an Idempotency-Key, then the same without the system's key: refused, not replayed.
    let key = crate::service::item_and_key(&app).await;
    let push = |auth: Option<String>| {
        let mut b = Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/intake/cases/SP-IDEM")
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "push-1");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(Body::from(crate::service::case_body(None).to_string())).unwrap()
    };
    assert_eq!(app.send(push(Some(format!("Bearer {key}")))).await.status, 201);
    app.send(push(None)).await.expect(401, "invalid_key");
});
