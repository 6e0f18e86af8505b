//! Login, logout and password change. Failed logins count towards a lock; every attempt is
//! audited with the name tried, never the password.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::auth::{AccountStatus, hash_password, verify_password};
use xiaoneng_store::{
    accounts, audit,
    audit::{AuditRecord, Outcome},
    entity::user,
};

use super::me::{Me, me_of};
use crate::{
    ApiResult, AppState,
    auth::{CurrentUser, clear_cookie, client_ip, new_token, secure_request, session_cookie},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(change_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The request's peer address and headers, for auditing a request that has no user yet.
pub struct Origin {
    ip: String,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Origin { ip: client_ip(state, parts), headers: parts.headers.clone() })
    }
}

/// A hash to verify against when the user does not exist, so that a missing account takes as
/// long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no such user, no such password").unwrap_or_default())
}

/// Logs in. On success sets the `xn_session` cookie (HttpOnly, SameSite=Strict) and returns the
/// user as `GET /api/v1/me` would.
#[utoipa::path(operation_id = "auth_login", post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = Me),
        (status = 401, description = "wrong user name or password", body = ErrorBody),
        (status = 423, description = "locked after too many failures", body = ErrorBody),
        (status = 403, description = "account disabled", body = ErrorBody)))]
async fn login(State(s): State<AppState>, origin: Origin, ApiJson(b): ApiJson<LoginRequest>) -> ApiResult<Response> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let username = b.username.trim().to_lowercase();
    let record = |outcome: Outcome, user: Option<&user::Model>, why: &str| AuditRecord {
        at: now,
        actor_user_id: user.map(|u| u.id),
        actor: username.chars().take(64).collect(),
        ip: origin.ip.clone(),
        action: "auth.login".into(),
        target_type: "user".into(),
        target_id: user.map(|u| u.id.to_string()).unwrap_or_default(),
        outcome,
        detail: json!({ "result": why }),
    };
    let Some(u) = accounts::find_by_username(s.store.db(), &username).await? else {
        let pw = b.password.clone();
        tokio::task::spawn_blocking(move || verify_password(&pw, dummy_hash())).await.ok();
        s.store.audit(&record(Outcome::Failed, None, "unknown_user")).await?;
        return Err(ApiError::InvalidCredentials { attempts_left: None });
    };
    if let Some(until) = u.locked_until.filter(|t| *t > now) {
        s.store.audit(&record(Outcome::Failed, Some(&u), "locked")).await?;
        return Err(ApiError::AccountLocked { until });
    }
    let (pw, hash) = (b.password.clone(), u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false);
    let tx = s.store.write().await?;
    if !ok {
        let (failures, lock) = policy.after_failure(u32::try_from(u.failed_logins).unwrap_or(0), now);
        accounts::record_login_failure(&tx, u.id, failures, lock).await?;
        let why = if lock.is_some() { "wrong_password_locked" } else { "wrong_password" };
        audit::append(&tx, s.store.audit_algo(), &record(Outcome::Failed, Some(&u), why)).await?;
        tx.commit().await?;
        return Err(match lock {
            Some(until) => ApiError::AccountLocked { until },
            None => {
                ApiError::InvalidCredentials { attempts_left: Some(policy.lockout_threshold.saturating_sub(failures)) }
            }
        });
    }
    if u.status != AccountStatus::Active {
        audit::append(&tx, s.store.audit_algo(), &record(Outcome::Failed, Some(&u), "disabled")).await?;
        tx.commit().await?;
        return Err(ApiError::AccountDisabled);
    }
    accounts::record_login_success(&tx, u.id, now).await?;
    let (token, token_hash) = new_token();
    let ua = origin.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accounts::create_session(&tx, token_hash, u.id, &origin.ip, ua, now).await?;
    audit::append(&tx, s.store.audit_algo(), &record(Outcome::Ok, Some(&u), "ok")).await?;
    tx.commit().await?;
    let must_change = u.must_change_password || policy.password_expired(u.password_changed_at, now);
    let who =
        CurrentUser::of(accounts::identity(s.store.db(), u.id).await?, String::new(), must_change, origin.ip.clone());
    let me = me_of(&who);
    let cookie = session_cookie(&token, secure_request(&s, &origin.headers));
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Ends the session on the server and clears the cookie.
#[utoipa::path(operation_id = "auth_logout", post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(s): State<AppState>, user: CurrentUser, headers: HeaderMap) -> ApiResult<Response> {
    let tx = s.store.write().await?;
    accounts::end_session(&tx, &user.session_hash, "logout", s.clock.now()).await?;
    audit::append(&tx, s.store.audit_algo(), &user.audit(&s, "auth.logout", "user", user.id, json!({}))).await?;
    tx.commit().await?;
    s.identities.forget();
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear_cookie(secure_request(&s, &headers)))]).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password; allowed (and required) when the password has expired or
/// was set by an administrator. Other sessions of the user end.
#[utoipa::path(operation_id = "auth_change_password", post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let u = accounts::get_user(s.store.db(), user.id).await?;
    let (cur, hash) = (b.current_password.clone(), u.password_hash.clone());
    if !tokio::task::spawn_blocking(move || verify_password(&cur, &hash)).await.unwrap_or(false) {
        return Err(ApiError::invalid(
            "current_password",
            "wrong_password",
            "当前密码不正确",
            "The current password is wrong",
        ));
    }
    policy.check_password(&u.username, &b.new_password)?;
    if b.new_password == b.current_password {
        return Err(ApiError::invalid(
            "new_password",
            "password_unchanged",
            "新密码不能与当前密码相同",
            "The new password must differ from the current one",
        ));
    }
    let pw = b.new_password.clone();
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let tx = s.store.write().await?;
    accounts::set_password(&tx, u.id, new_hash, false, now).await?;
    // End the user's other sessions: whoever knew the old password is out.
    let others = accounts::end_user_sessions(&tx, user.id, Some(&user.session_hash), "password_changed", now).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &user.audit(&s, "auth.password_change", "user", user.id, json!({ "other_sessions_ended": others })),
    )
    .await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(StatusCode::NO_CONTENT)
}
