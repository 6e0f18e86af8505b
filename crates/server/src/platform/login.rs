//! Login, logout and password change. Failed logins count towards a lock, per account and per
//! unknown name, and per address and overall in windows (decision 0023); every attempt is
//! audited with the name tried (a keyed hash of it when it matches no account), never the
//! password, repeats rolled up.
//!
//! An account with a second factor (decision 0029) logs in in two steps: the right password opens
//! a five-minute wait (a `login_challenges` row behind an HttpOnly cookie), and the code from the
//! authenticator app, or a recovery code, finishes it. A wrong code counts towards the same lock
//! as a wrong password, in the same single statement.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{AppendHeaders, IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::auth::{AccountStatus, ThrottleScope, hash_password};
use xiaoneng_core::clock::city_day;
use xiaoneng_core::second_factor::{CHALLENGE_VALID, Secret, Typed, recovery_code_hash};
use xiaoneng_store::{
    accounts::{self, Counted, LoginSubject},
    audit,
    audit::{AuditRecord, Outcome},
    second_factor as factors,
};

use super::me::{Me, me_of};
use crate::{
    ApiResult, AppState,
    auth::{
        CurrentUser, SessionUser, clear_cookies, client_ip, cookie_token, new_token, secure_request, session_cookies,
        token_hash, verify_password,
    },
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(login_second_factor))
        .routes(routes!(logout))
        .routes(routes!(change_password))
}

/// The cookie that carries a login waiting for its second step.
pub const CHALLENGE_COOKIE: &str = "xn_login";
/// Its name when the server is configured for HTTPS (see [`crate::auth::SECURE_SESSION_COOKIE`]).
pub const SECURE_CHALLENGE_COOKIE: &str = "__Host-xn_login";

fn challenge_cookie_name(s: &AppState) -> &'static str {
    if s.config.secure_cookies { SECURE_CHALLENGE_COOKIE } else { CHALLENGE_COOKIE }
}

fn challenge_cookie(s: &AppState, token: &str, secure: bool) -> String {
    let flags = if secure || s.config.secure_cookies { "; Secure" } else { "" };
    let age = CHALLENGE_VALID.num_seconds();
    format!("{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{flags}", challenge_cookie_name(s))
}

fn clear_challenge_cookie(s: &AppState, secure: bool) -> String {
    let flags = if secure || s.config.secure_cookies { "; Secure" } else { "" };
    format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{flags}", challenge_cookie_name(s))
}

/// What a right password gets: the user, logged in; or, for an account with a second factor, the
/// request for its code (no session yet).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    LoggedIn(Me),
    SecondFactor(SecondFactorNeeded),
}

/// The password was right; the code from the authenticator app (or a recovery code) is awaited at
/// `POST /api/v1/auth/login/second-factor`, from the same browser (an HttpOnly cookie, `xn_login`,
/// carries the wait).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorNeeded {
    /// Always `true`.
    pub second_factor_required: bool,
    /// Until when the code is awaited; then the user starts again with the password.
    pub expires_at: DateTime<Utc>,
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

/// A user name's keyed hash (HMAC-SHA256 under the database's `login_name_key`, 128 bits in hex):
/// how a name that matches no account is counted and audited. A password typed into the name
/// field must not land in the log or the database as it was typed.
async fn name_key(s: &AppState, username: &str) -> ApiResult<String> {
    let key = s.login_name_key().await?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(username.as_bytes());
    let mut hex = hex::encode(mac.finalize().into_bytes());
    hex.truncate(32);
    Ok(hex)
}

/// Logs in. On success sets the session cookie (`xn_session`, or `__Host-xn_session` when the
/// server is configured for HTTPS; HttpOnly, SameSite=Strict) and the web app's `xn_signed_in`
/// hint, and returns the user as `GET /api/v1/me` would. A user name that matches no account is
/// answered exactly as a wrong password is, down to the attempts left and the lock. An account
/// with a second factor gets no session yet: the answer asks for its code (see
/// `POST /api/v1/auth/login/second-factor`).
#[utoipa::path(operation_id = "auth_login", post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in (`Me`), or, for an account with a second factor, `{second_factor_required: true}` and the `xn_login` cookie", body = LoginAnswer),
        (status = 401, description = "wrong user name or password; `details.attempts_left`", body = ErrorBody),
        (status = 423, description = "locked after too many failures", body = ErrorBody),
        (status = 403, description = "account disabled", body = ErrorBody),
        (status = 429, description = "too many failed logins from this address, or overall; `Retry-After`", body = ErrorBody),
        (status = 503, description = "too many logins being checked at once; `Retry-After`", body = ErrorBody)))]
async fn login(State(s): State<AppState>, origin: Origin, ApiJson(b): ApiJson<LoginRequest>) -> ApiResult<Response> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let algo = s.store.audit_algo();
    let db = s.store.db();
    let username = b.username.trim().to_lowercase();

    // The address's and everyone's failures in this window, before any hashing: one query.
    let (window_start, _) = policy.failure_window(now);
    let bucket = accounts::address_bucket(&origin.ip);
    let (from_here, from_all) = accounts::window_failures(db, &bucket, window_start).await?;
    if let Some(t) = policy.login_throttle(from_here, from_all, now) {
        // Rolled up by address alone: a spray of names from one address is one entry a window.
        let rec = AuditRecord {
            at: now,
            actor_user_id: None,
            actor: String::new(),
            ip: origin.ip.clone(),
            action: "auth.throttled".into(),
            target_type: "login".into(),
            target_id: t.scope.code().into(),
            outcome: Outcome::Failed,
            detail: json!({ "scope": t.scope.code(), "until": t.until }),
        };
        s.store.audit_rolled(&rec).await?;
        return Err(ApiError::TooManyAttempts {
            retry_after: t.retry_after_secs(now),
            global: t.scope == ThrottleScope::Global,
        });
    }

    let user = accounts::find_by_username(db, &username).await?;
    let key = name_key(&s, &username).await?;
    let subject = user.as_ref().map_or(LoginSubject::Unknown(&key), |u| LoginSubject::User(u.id));
    let actor = match &user {
        Some(u) => u.username.clone(),
        None => format!("unknown:{}", key.get(..16).unwrap_or(&key)),
    };
    let record = |outcome: Outcome, why: &str| AuditRecord {
        at: now,
        actor_user_id: user.as_ref().map(|u| u.id),
        actor: actor.clone(),
        ip: origin.ip.clone(),
        action: "auth.login".into(),
        target_type: "user".into(),
        target_id: user.as_ref().map(|u| u.id.to_string()).unwrap_or_default(),
        outcome,
        detail: json!({ "result": why }),
    };
    let locked = match &user {
        Some(u) => u.locked_until.filter(|t| *t > now),
        None => accounts::login_lock(db, subject, now).await?,
    };
    if let Some(until) = locked {
        s.store.audit_rolled(&record(Outcome::Failed, "locked")).await?;
        return Err(ApiError::AccountLocked { until });
    }
    // One verification whatever the name, so that timing does not tell names apart either.
    let phc = user.as_ref().map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let verified = verify_password(&s, b.password.clone(), phc).await?;

    let tx = s.store.write().await?;
    let Some(u) = user.as_ref().filter(|_| verified) else {
        let unknown = user.is_none();
        // Counted in the database, in one statement: racing failures each count, and none of
        // them can count past (or clear) a lock another has set.
        let failures = match accounts::count_login_failure(&tx, subject, now).await? {
            Counted::Locked(until) => {
                audit::append_rolled(&tx, algo, &record(Outcome::Failed, "locked")).await?;
                tx.commit().await?;
                return Err(ApiError::AccountLocked { until });
            }
            Counted::Failures(n) => n,
        };
        accounts::count_window_failure(&tx, &[&bucket, accounts::ALL_ADDRESSES], window_start).await?;
        if let Some(until) = policy.lock_after(failures, now) {
            accounts::lock_login(&tx, subject, until).await?;
            let why = if unknown { "unknown_user_locked" } else { "wrong_password_locked" };
            // A lock changes the account: recorded at once, never rolled up.
            audit::append(&tx, algo, &record(Outcome::Failed, why)).await?;
            tx.commit().await?;
            return Err(ApiError::AccountLocked { until });
        }
        let why = if unknown { "unknown_user" } else { "wrong_password" };
        audit::append_rolled(&tx, algo, &record(Outcome::Failed, why)).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials { attempts_left: Some(policy.attempts_left(failures)) });
    };
    if u.status != AccountStatus::Active {
        audit::append_rolled(&tx, algo, &record(Outcome::Failed, "disabled")).await?;
        tx.commit().await?;
        return Err(ApiError::AccountDisabled);
    }
    let (token, token_hash) = new_token();
    let secure = secure_request(&s, &origin.headers);
    if factors::active_of(&tx, u.id).await?.is_some() {
        // No session yet. The failures counted so far stay until the second step succeeds, so
        // that the password cannot be used to clear the count between guesses at the code.
        let expires_at = now + CHALLENGE_VALID;
        factors::open_challenge(&tx, token_hash, u.id, &origin.ip, now, expires_at).await?;
        audit::append(&tx, algo, &record(Outcome::Ok, "second_factor_required")).await?;
        tx.commit().await?;
        let body = LoginAnswer::SecondFactor(SecondFactorNeeded { second_factor_required: true, expires_at });
        return Ok(
            (AppendHeaders([(header::SET_COOKIE, challenge_cookie(&s, &token, secure))]), Json(body)).into_response()
        );
    }
    if !accounts::record_login_success(&tx, u.id, now).await? {
        // A racing failure locked the account while this password was checked: the lock wins.
        let until = accounts::login_lock(&tx, subject, now).await?.unwrap_or(now);
        audit::append_rolled(&tx, algo, &record(Outcome::Failed, "locked")).await?;
        tx.commit().await?;
        return Err(ApiError::AccountLocked { until });
    }
    let ua = origin.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accounts::create_session(&tx, token_hash, u.id, &origin.ip, ua, now).await?;
    audit::append(&tx, algo, &record(Outcome::Ok, "ok")).await?;
    tx.commit().await?;
    let me = logged_in(&s, &policy, u, &origin, now).await?;
    let [session, hint] = session_cookies(&s, &token, secure);
    Ok((AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, hint)]), Json(LoginAnswer::LoggedIn(me)))
        .into_response())
}

/// The user as a login answers with them.
async fn logged_in(
    s: &AppState,
    policy: &xiaoneng_core::auth::SecurityPolicy,
    u: &xiaoneng_store::entity::user::Model,
    origin: &Origin,
    now: DateTime<Utc>,
) -> ApiResult<Me> {
    let must_change = u.must_change_password || policy.password_expired(u.password_changed_at, now);
    let identity = accounts::identity(s.store.db(), u.id).await?;
    let who =
        CurrentUser::of(identity, String::new(), must_change, origin.ip.clone(), city_day(now)).with_policy(policy);
    Ok(me_of(&who))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SecondFactorLoginRequest {
    /// The six digits the authenticator app shows, or one of the recovery codes (`ABCDE-FGHJK`).
    pub code: String,
}

/// The second step of a login: the code from the authenticator app, or a recovery code (each
/// good once), for the login the `xn_login` cookie names. Answers as the login does when it
/// succeeds. A wrong code counts towards the account's lock as a wrong password does.
#[utoipa::path(operation_id = "auth_login_second_factor", post, path = "/api/v1/auth/login/second-factor", tag = "auth", request_body = SecondFactorLoginRequest,
    responses(
        (status = 200, body = Me),
        (status = 401, description = "wrong or used code (`invalid_second_factor`, `details.attempts_left`), or no login waiting (`login_challenge_expired`)", body = ErrorBody),
        (status = 423, description = "locked after too many failures", body = ErrorBody),
        (status = 403, description = "account disabled", body = ErrorBody),
        (status = 429, description = "too many failed logins from this address, or overall; `Retry-After`", body = ErrorBody)))]
async fn login_second_factor(
    State(s): State<AppState>,
    origin: Origin,
    ApiJson(b): ApiJson<SecondFactorLoginRequest>,
) -> ApiResult<Response> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let algo = s.store.audit_algo();
    let db = s.store.db();
    let hash = cookie_token(&origin.headers, challenge_cookie_name(&s))
        .map(|t| token_hash(&t))
        .ok_or(ApiError::LoginChallengeExpired)?;
    let (window_start, _) = policy.failure_window(now);
    let bucket = accounts::address_bucket(&origin.ip);
    let (from_here, from_all) = accounts::window_failures(db, &bucket, window_start).await?;
    if let Some(t) = policy.login_throttle(from_here, from_all, now) {
        return Err(ApiError::TooManyAttempts {
            retry_after: t.retry_after_secs(now),
            global: t.scope == ThrottleScope::Global,
        });
    }
    let challenge = factors::live_challenge(db, &hash, now).await?.ok_or(ApiError::LoginChallengeExpired)?;
    let u = accounts::get_user(db, challenge.user_id).await?;
    let subject = LoginSubject::User(u.id);
    let record = |outcome: Outcome, why: &str, method: Option<&str>| AuditRecord {
        at: now,
        actor_user_id: Some(u.id),
        actor: u.username.clone(),
        ip: origin.ip.clone(),
        action: "auth.login".into(),
        target_type: "user".into(),
        target_id: u.id.to_string(),
        outcome,
        detail: json!({ "result": why, "step": "second_factor", "method": method }),
    };
    if let Some(until) = u.locked_until.filter(|t| *t > now) {
        s.store.audit_rolled(&record(Outcome::Failed, "locked", None)).await?;
        return Err(ApiError::AccountLocked { until });
    }
    if u.status != AccountStatus::Active {
        s.store.audit_rolled(&record(Outcome::Failed, "disabled", None)).await?;
        return Err(ApiError::AccountDisabled);
    }
    // Reset by the security admin while the code was being typed: start again (and enrol).
    let Some(factor) = factors::active_of(db, u.id).await? else {
        return Err(ApiError::LoginChallengeExpired);
    };
    let secret = Secret::from_base32(&factor.secret)
        .ok_or_else(|| ApiError::Internal(format!("second factor {} has an unreadable secret", factor.id)))?;

    let tx = s.store.write().await?;
    // Each way of passing spends what it used in one conditional statement, so a code (or a
    // recovery code) raced by two requests lets one of them in.
    let method = match Typed::parse(&b.code) {
        Some(Typed::Totp(code)) => match secret.verify(&code, now, factor.last_used_step) {
            Some(step) if factors::use_step(&tx, factor.id, step).await? => Some("totp"),
            _ => None,
        },
        Some(Typed::Recovery(code)) => {
            factors::use_code(&tx, &factor, &recovery_code_hash(u.id, &code), now).await?.then_some("recovery_code")
        }
        None => None,
    };
    let Some(method) = method else {
        let failures = match accounts::count_login_failure(&tx, subject, now).await? {
            Counted::Locked(until) => {
                audit::append_rolled(&tx, algo, &record(Outcome::Failed, "locked", None)).await?;
                tx.commit().await?;
                return Err(ApiError::AccountLocked { until });
            }
            Counted::Failures(n) => n,
        };
        accounts::count_window_failure(&tx, &[&bucket, accounts::ALL_ADDRESSES], window_start).await?;
        if let Some(until) = policy.lock_after(failures, now) {
            accounts::lock_login(&tx, subject, until).await?;
            factors::end_challenges_of(&tx, u.id, "locked", now).await?;
            audit::append(&tx, algo, &record(Outcome::Failed, "wrong_code_locked", None)).await?;
            tx.commit().await?;
            return Err(ApiError::AccountLocked { until });
        }
        audit::append_rolled(&tx, algo, &record(Outcome::Failed, "wrong_code", None)).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidSecondFactor { attempts_left: policy.attempts_left(failures) });
    };
    if !factors::end_challenge(&tx, &hash, "completed", now).await? {
        // Another request finished this login first.
        return Err(ApiError::LoginChallengeExpired);
    }
    if !accounts::record_login_success(&tx, u.id, now).await? {
        let until = accounts::login_lock(&tx, subject, now).await?.unwrap_or(now);
        drop(tx);
        s.store.audit_rolled(&record(Outcome::Failed, "locked", None)).await?;
        return Err(ApiError::AccountLocked { until });
    }
    let (token, token_hash) = new_token();
    let ua = origin.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accounts::create_session(&tx, token_hash, u.id, &origin.ip, ua, now).await?;
    let mut rec = record(Outcome::Ok, "ok", Some(method));
    if method == "recovery_code" {
        rec.detail["recovery_codes_left"] = json!(factors::codes_left(&tx, factor.id).await?);
    }
    audit::append(&tx, algo, &rec).await?;
    tx.commit().await?;
    let me = logged_in(&s, &policy, &u, &origin, now).await?;
    let secure = secure_request(&s, &origin.headers);
    let [session, hint] = session_cookies(&s, &token, secure);
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, session),
            (header::SET_COOKIE, hint),
            (header::SET_COOKIE, clear_challenge_cookie(&s, secure)),
        ]),
        Json(me),
    )
        .into_response())
}

/// Ends the session on the server and clears the cookies.
#[utoipa::path(operation_id = "auth_logout", post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(s): State<AppState>, SessionUser(user): SessionUser, headers: HeaderMap) -> ApiResult<Response> {
    let tx = s.store.write().await?;
    accounts::end_session(&tx, &user.session_hash, "logout", s.clock.now()).await?;
    audit::append(&tx, s.store.audit_algo(), &user.audit(&s, "auth.logout", "user", user.id, json!({}))).await?;
    tx.commit().await?;
    s.identities.forget();
    let [session, hint] = clear_cookies(&s, secure_request(&s, &headers));
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, hint)]))
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password; allowed (and required) when the password has expired or
/// was set by an administrator. Other sessions of the user end. A wrong current password counts
/// towards the account's lock as a failed login does.
#[utoipa::path(operation_id = "auth_change_password", post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 423, description = "locked after too many failures", body = ErrorBody),
        (status = 503, description = "too many passwords being checked at once", body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    SessionUser(user): SessionUser,
    ApiJson(b): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let u = accounts::get_user(s.store.db(), user.id).await?;
    if let Some(until) = u.locked_until.filter(|t| *t > now) {
        return Err(ApiError::AccountLocked { until });
    }
    if !verify_password(&s, b.current_password.clone(), u.password_hash.clone()).await? {
        let subject = LoginSubject::User(u.id);
        let tx = s.store.write().await?;
        let refusal = |why: &str| {
            let mut rec = user.audit(&s, "auth.password_change", "user", user.id, json!({ "result": why }));
            rec.outcome = Outcome::Failed;
            rec
        };
        let err = match accounts::count_login_failure(&tx, subject, now).await? {
            Counted::Locked(until) => ApiError::AccountLocked { until },
            Counted::Failures(n) => match policy.lock_after(n, now) {
                Some(until) => {
                    accounts::lock_login(&tx, subject, until).await?;
                    audit::append(&tx, s.store.audit_algo(), &refusal("wrong_password_locked")).await?;
                    ApiError::AccountLocked { until }
                }
                None => {
                    audit::append_rolled(&tx, s.store.audit_algo(), &refusal("wrong_password")).await?;
                    let left = policy.attempts_left(n);
                    ApiError::invalid(
                        "current_password",
                        "wrong_password",
                        format!("当前密码不正确，再错 {left} 次账号将被锁定"),
                        format!("The current password is wrong; {left} attempts left before the account locks"),
                    )
                }
            },
        };
        tx.commit().await?;
        return Err(err);
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
    let new_hash = crate::auth::hash_password(&s, b.new_password.clone()).await?;
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
