//! `Idempotency-Key` (decision 0027): a create sent again with the same key and the same body — a
//! phone retrying after a lost answer — gets the first answer again instead of creating twice;
//! the same key with another request is 422. Keys belong to the caller (their account; the
//! public's requests share one space, where keys are random by nature).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use xiaoneng_core::audit::HashAlgo;
use xiaoneng_store::idempotency::{self, Claim, Kept};

use axum::extract::FromRequestParts;

use crate::{AppState, auth::CurrentUser, error::ApiError};

pub const HEADER: &str = "idempotency-key";
/// Answers larger than this are not kept (a create answers with a small record).
const MAX_KEPT: usize = 1024 * 1024;

fn bad_key() -> ApiError {
    ApiError::bad_request(
        "invalid_idempotency_key",
        "Idempotency-Key 须为 1 到 255 个可见字符",
        "Idempotency-Key must be 1 to 255 visible characters",
    )
}

/// Whether a request takes part: a write under `/api/v1/`, except tus uploads (their offsets make
/// them safe to repeat already), logging in and out, a connected system's push (its case number
/// makes it idempotent, and it has no session to keep keys apart by), and writes whose answer
/// holds a secret shown once — a connection key, half of a reset code — which must never be
/// kept in the table.
fn applies(req: &Request) -> bool {
    let path = req.uri().path();
    matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        && path.starts_with("/api/v1/")
        && !path.starts_with("/api/v1/uploads/")
        && !path.starts_with("/api/v1/auth/")
        && !path.starts_with("/api/v1/intake/")
        && path != "/api/v1/api-clients"
        && !path.starts_with("/api/v1/password-resets/")
        && !path.ends_with("/reset-password")
}

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get(HEADER) else { return next.run(req).await };
    if !applies(&req) {
        return next.run(req).await;
    }
    let key = match key.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => return bad_key().into_response(),
    };
    let (mut parts, body) = req.into_parts();
    // The caller's account; no session: the public's space (0).
    let principal = match CurrentUser::from_request_parts(&mut parts, &s).await {
        Ok(u) => u.id,
        Err(_) => 0,
    };
    let bytes = match axum::body::to_bytes(body, s.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let mut fingerprint = Vec::with_capacity(bytes.len() + 128);
    fingerprint.extend_from_slice(parts.method.as_str().as_bytes());
    fingerprint.push(b' ');
    fingerprint.extend_from_slice(parts.uri.to_string().as_bytes());
    fingerprint.push(b'\n');
    fingerprint.extend_from_slice(&bytes);
    let hash = HashAlgo::Sha256.hex(&fingerprint);
    let db = s.store.db();
    let now = s.clock.now();
    match idempotency::claim(db, principal, &key, &hash, now).await {
        Ok(Claim::Mine) => {}
        Ok(Claim::Answered(kept)) => return replay(kept),
        Ok(Claim::InProgress) => {
            let mut r = ApiError::refused(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "同一请求正在处理中，请稍后重试",
                "The same request is being handled: try again in a moment",
            )
            .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
        Ok(Claim::OtherRequest) => {
            return ApiError::invalid(
                "Idempotency-Key",
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一个请求",
                "This Idempotency-Key was used for another request",
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    // Only a success is kept: a refusal changed nothing, so sending it again may do better.
    if !res.status().is_success() {
        if let Err(e) = idempotency::release(db, principal, &key).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(format!("reading an answer to keep: {e}")).into_response(),
    };
    if bytes.len() > MAX_KEPT {
        // Too large to keep (no create answers like this): give the key up.
        if let Err(e) = idempotency::release(db, principal, &key).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    let header_of = |h: header::HeaderName| parts.headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let kept = Kept {
        status: parts.status.as_u16(),
        content_type: header_of(header::CONTENT_TYPE),
        location: header_of(header::LOCATION),
        body: bytes.to_vec(),
    };
    if let Err(e) = idempotency::complete(db, principal, &key, &kept).await {
        tracing::error!(error = %e, "could not keep the answer of an idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(kept: Kept) -> Response {
    let mut r = Response::new(Body::from(kept.body));
    *r.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let h = r.headers_mut();
    for (name, value) in [(header::CONTENT_TYPE, kept.content_type), (header::LOCATION, kept.location)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}
