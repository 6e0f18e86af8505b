//! Two-step verification (decision 0029): the caller enrols an authenticator app (the server
//! makes the secret and shows it as a QR code once; a current code confirms it), receives ten
//! recovery codes once, may issue new ones or turn the factor off with a current code or their
//! password; the security admin resets another person's factor, and that person enrols again.
//! Every step is audited; no secret or code ever is.

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    org::parse_name,
    second_factor::{
        self as sf, FactorAction, FactorActor, FactorState, RECOVERY_CODES, SECRET_LEN, Secret, new_recovery_code,
        recovery_code_hash, show_recovery_code,
    },
};
use xiaoneng_store::{
    accounts::{self, Counted, LoginSubject},
    audit::{self, Outcome},
    entity::second_factor as factor_row,
    second_factor::{self as factors, Step},
};

use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, SessionUser, perm, verify_password},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start))
        .routes(routes!(confirm))
        .routes(routes!(new_codes))
        .routes(routes!(disable))
        .routes(routes!(reset))
}

/// The caller, on their own second factor: allowed while they must enrol one, but not before
/// they have changed a password they must change.
pub struct Owner(pub CurrentUser);

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SessionUser(user) = SessionUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        Ok(Owner(user))
    }
}

/// Secrets and recovery codes are shown once: no cache may keep the answer.
fn once<T: Serialize>(body: T) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorStatus {
    /// An authenticator app is set up and confirmed.
    pub enabled: bool,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The security policy requires two-step verification of the user's roles: it cannot be
    /// turned off.
    pub required: bool,
    /// The user must set it up before anything else.
    pub must_enrol: bool,
    /// An enrolment was started and awaits its confirming code.
    pub pending: bool,
    /// Recovery codes not yet used.
    pub recovery_codes_left: u64,
}

/// The caller's two-step verification.
#[utoipa::path(operation_id = "second_factor_status", get, path = "/api/v1/auth/second-factor", tag = "auth",
    responses((status = 200, body = SecondFactorStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn status(State(s): State<AppState>, Owner(user): Owner) -> ApiResult<Json<SecondFactorStatus>> {
    let db = s.store.db();
    let policy = s.policy().await?;
    let active = factors::active_of(db, user.id).await?;
    let left = match &active {
        Some(f) => factors::codes_left(db, f.id).await?,
        None => 0,
    };
    Ok(Json(SecondFactorStatus {
        enabled: active.is_some(),
        confirmed_at: active.as_ref().and_then(|f| f.confirmed_at),
        required: policy.requires_second_factor(&user.roles),
        must_enrol: user.must_enrol_second_factor,
        pending: factors::pending_of(db, user.id).await?.is_some(),
        recovery_codes_left: left,
    }))
}

/// Proof that the caller holds the account: a current code from the authenticator app, or the
/// password. Either will do; one is needed to change a factor that is set up.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Proof {
    /// Six digits from the authenticator app.
    pub code: Option<String>,
    /// The account's password.
    pub password: Option<String>,
}

/// Checks a proof against the caller's active factor or password. A wrong one counts towards the
/// account's lock as a failed login does; a code is used up.
async fn prove(s: &AppState, user: &CurrentUser, active: &factor_row::Model, proof: &Proof) -> ApiResult<()> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let u = accounts::get_user(s.store.db(), user.id).await?;
    if let Some(until) = u.locked_until.filter(|t| *t > now) {
        return Err(ApiError::AccountLocked { until });
    }
    let (field, right) = match (proof.code.as_deref().filter(|c| !c.trim().is_empty()), &proof.password) {
        (Some(code), _) => {
            let secret = Secret::from_base32(&active.secret)
                .ok_or_else(|| ApiError::Internal(format!("second factor {} has an unreadable secret", active.id)))?;
            let right = match secret.verify(code, now, active.last_used_step) {
                Some(step) => {
                    let tx = s.store.write().await?;
                    let used = factors::use_step(&tx, active.id, step).await?;
                    tx.commit().await?;
                    used
                }
                None => false,
            };
            ("code", right)
        }
        (None, Some(pw)) if !pw.is_empty() => ("password", verify_password(s, pw.clone(), u.password_hash).await?),
        _ => {
            return Err(ApiError::invalid(
                "code",
                "required",
                "请输入验证器应用上的验证码，或输入登录密码",
                "Enter the code from your authenticator app, or your password",
            ));
        }
    };
    if right {
        return Ok(());
    }
    let subject = LoginSubject::User(u.id);
    let tx = s.store.write().await?;
    let mut rec = user.audit(s, "second_factor.proof", "user", user.id, json!({ "result": format!("wrong_{field}") }));
    rec.outcome = Outcome::Failed;
    let err = match accounts::count_login_failure(&tx, subject, now).await? {
        Counted::Locked(until) => ApiError::AccountLocked { until },
        Counted::Failures(n) => match policy.lock_after(n, now) {
            Some(until) => {
                accounts::lock_login(&tx, subject, until).await?;
                audit::append(&tx, s.store.audit_algo(), &rec).await?;
                ApiError::AccountLocked { until }
            }
            None => {
                audit::append_rolled(&tx, s.store.audit_algo(), &rec).await?;
                let left = policy.attempts_left(n);
                if field == "code" {
                    ApiError::invalid(
                        "code",
                        "wrong_code",
                        format!("验证码不正确或已使用过，再错 {left} 次账号将被锁定"),
                        format!("The code is wrong or was used already; {left} attempts left before the account locks"),
                    )
                } else {
                    ApiError::invalid(
                        "password",
                        "wrong_password",
                        format!("密码不正确，再错 {left} 次账号将被锁定"),
                        format!("The password is wrong; {left} attempts left before the account locks"),
                    )
                }
            }
        },
    };
    tx.commit().await?;
    Err(err)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// The secret in base32, in groups of four, for typing into an app that cannot scan.
    pub secret: String,
    /// `otpauth://totp/Xiaoneng:<user>?secret=…&issuer=Xiaoneng&algorithm=SHA1&digits=6&period=30`
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG image.
    pub qr_svg: String,
}

fn qr_svg(uri: &str) -> ApiResult<String> {
    use qrcode::{EcLevel, QrCode, render::svg};
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let svg = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // Without the XML declaration, so that the page can place it inline.
    Ok(svg.find("<svg").map_or(svg.clone(), |i| svg[i..].to_owned()))
}

/// Starts setting up an authenticator app: a new secret, shown this once as a QR code and as
/// text. Nothing changes until a code from the app confirms it. Replacing an app already set up
/// needs a current code or the password.
#[utoipa::path(operation_id = "second_factor_start", post, path = "/api/v1/auth/second-factor/enrolment", tag = "auth", request_body = Proof,
    responses((status = 200, body = Enrolment), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a proof was needed and was wrong (`code` or `password`)", body = ErrorBody),
        (status = 423, body = ErrorBody)))]
async fn start(State(s): State<AppState>, Owner(user): Owner, ApiJson(proof): ApiJson<Proof>) -> ApiResult<Response> {
    if let Some(active) = factors::active_of(s.store.db(), user.id).await? {
        prove(&s, &user, &active, &proof).await?;
    }
    let mut bytes = [0u8; SECRET_LEN];
    rand::rng().fill_bytes(&mut bytes);
    let secret = Secret::from_bytes(bytes);
    let uri = sf::otpauth_uri(&user.username, &secret);
    let tx = s.store.write().await?;
    let f = factors::start(&tx, user.id, secret.to_base32(), s.clock.now()).await?;
    let rec = user.audit(&s, "second_factor.enrol_start", "user", user.id, json!({ "enrolment_id": f.id }));
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    let b32 = secret.to_base32();
    let grouped = b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>();
    Ok(once(Enrolment { secret: grouped.join(" "), qr_svg: qr_svg(&uri)?, otpauth_uri: uri }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeBody {
    /// Six digits from the authenticator app.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten codes, `ABCDE-FGHJK`, each good once in place of the app's code. Shown this once: only
    /// their hashes are kept.
    pub recovery_codes: Vec<String>,
}

/// Ten new recovery codes for `f`: the codes to show, the hashes to keep.
fn draw_codes(user_id: i64) -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let codes: Vec<String> =
        (0..RECOVERY_CODES).map(|_| new_recovery_code(|n| rng.random_range(0..n.max(1)))).collect();
    let hashes = codes.iter().map(|c| recovery_code_hash(user_id, c)).collect();
    (codes.iter().map(|c| show_recovery_code(c)).collect(), hashes)
}

/// Confirms the enrolment with a code from the app: two-step verification is on from now (an app
/// set up before is replaced), and ten recovery codes are returned, this once.
#[utoipa::path(operation_id = "second_factor_confirm", post, path = "/api/v1/auth/second-factor/enrolment/confirm", tag = "auth", request_body = CodeBody,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "no enrolment awaits confirmation", body = ErrorBody),
        (status = 422, description = "the code is not the app's", body = ErrorBody)))]
async fn confirm(State(s): State<AppState>, Owner(user): Owner, ApiJson(b): ApiJson<CodeBody>) -> ApiResult<Response> {
    let now = s.clock.now();
    let policy = s.policy().await?;
    let tx = s.store.write().await?;
    let Some(pending) = factors::pending_of(&tx, user.id).await? else {
        return Err(ApiError::refused(
            axum::http::StatusCode::CONFLICT,
            "no_pending_enrolment",
            "没有待确认的两步验证设置，请重新开始",
            "No two-step verification set-up awaits confirmation; start again",
        ));
    };
    let secret = Secret::from_base32(&pending.secret)
        .ok_or_else(|| ApiError::Internal(format!("second factor {} has an unreadable secret", pending.id)))?;
    let Some(step) = secret.verify(&b.code, now, None) else {
        return Err(ApiError::invalid(
            "code",
            "wrong_code",
            "验证码不正确：请确认手机时间准确，并输入验证器应用上当前显示的 6 位数字",
            "The code is wrong: check that the phone's clock is right and enter the six digits the app shows now",
        ));
    };
    let who = FactorActor::Owner { required: policy.requires_second_factor(&user.roles) };
    let d = sf::decide(pending.state, FactorAction::Confirm, who)?;
    // The old app goes first: one active factor per account.
    let replaced = match factors::active_of(&tx, user.id).await? {
        Some(old) => {
            let step = Step::Ended { by: Some(user.id), reason: "replaced".into() };
            Some(factors::apply(&tx, &old, FactorState::Replaced, step, now).await?.id)
        }
        None => None,
    };
    let f = factors::apply(&tx, &pending, d.next, Step::Confirmed { step }, now).await?;
    let (codes, hashes) = draw_codes(user.id);
    factors::issue_codes(&tx, &f, hashes, now).await?;
    factors::set_must_enrol(&tx, user.id, false, now).await?;
    let rec = user.audit(
        &s,
        "second_factor.enrol",
        "user",
        user.id,
        json!({ "enrolment_id": f.id, "replaced": replaced, "recovery_codes_issued": codes.len() }),
    );
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(once(RecoveryCodes { recovery_codes: codes }))
}

fn no_factor() -> ApiError {
    ApiError::refused(
        axum::http::StatusCode::CONFLICT,
        "no_second_factor",
        "尚未启用两步验证",
        "Two-step verification is not set up",
    )
}

/// Issues ten new recovery codes (the unused ones stop working), with a current code or the
/// password. They are returned this once.
#[utoipa::path(operation_id = "second_factor_new_codes", post, path = "/api/v1/auth/second-factor/recovery-codes", tag = "auth", request_body = Proof,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "two-step verification is not set up", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 423, body = ErrorBody)))]
async fn new_codes(
    State(s): State<AppState>,
    Owner(user): Owner,
    ApiJson(proof): ApiJson<Proof>,
) -> ApiResult<Response> {
    let active = factors::active_of(s.store.db(), user.id).await?.ok_or_else(no_factor)?;
    prove(&s, &user, &active, &proof).await?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let f = factors::active_of(&tx, user.id)
        .await?
        .filter(|f| f.id == active.id)
        .ok_or(ApiError::StateChanged { current: None })?;
    let (codes, hashes) = draw_codes(user.id);
    factors::issue_codes(&tx, &f, hashes, now).await?;
    let rec = user.audit(
        &s,
        "second_factor.recovery_codes",
        "user",
        user.id,
        json!({ "enrolment_id": f.id, "recovery_codes_issued": codes.len() }),
    );
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    Ok(once(RecoveryCodes { recovery_codes: codes }))
}

/// Turns two-step verification off, with a current code or the password; refused (409
/// `invalid_transition`) while the security policy requires it of the user's roles.
#[utoipa::path(operation_id = "second_factor_disable", post, path = "/api/v1/auth/second-factor/disable", tag = "auth", request_body = Proof,
    responses((status = 200, body = SecondFactorStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 423, body = ErrorBody)))]
async fn disable(
    State(s): State<AppState>,
    Owner(user): Owner,
    ApiJson(proof): ApiJson<Proof>,
) -> ApiResult<Json<SecondFactorStatus>> {
    let policy = s.policy().await?;
    let active = factors::active_of(s.store.db(), user.id).await?.ok_or_else(no_factor)?;
    let required = policy.requires_second_factor(&user.roles);
    // Refused before the proof is spent.
    sf::decide(active.state, FactorAction::Disable, FactorActor::Owner { required })?;
    prove(&s, &user, &active, &proof).await?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let d = sf::decide(active.state, FactorAction::Disable, FactorActor::Owner { required })?;
    let f =
        factors::apply(&tx, &active, d.next, Step::Ended { by: Some(user.id), reason: "disabled".into() }, now).await?;
    let rec = user.audit(&s, "second_factor.disable", "user", user.id, json!({ "enrolment_id": f.id }));
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(Json(SecondFactorStatus {
        enabled: false,
        confirmed_at: None,
        required,
        must_enrol: false,
        pending: factors::pending_of(s.store.db(), user.id).await?.is_some(),
        recovery_codes_left: 0,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetBody {
    /// Why (a lost or replaced phone, how the user was identified): kept in the audit log.
    pub reason: String,
}

/// Resets another person's two-step verification (the security admin; never their own): their
/// app and recovery codes stop working, their sessions end, and they set up an app again at their
/// next login.
#[utoipa::path(operation_id = "second_factor_reset", post, path = "/api/v1/users/{id}/second-factor/reset", tag = "accounts", request_body = ResetBody,
    responses((status = 200, body = super::users::User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "your own account (`invalid_transition`), or nothing to reset (`no_second_factor`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn reset(
    State(s): State<AppState>,
    auth: Authorized<perm::SecondFactorReset>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<Json<super::users::User>> {
    let reason = parse_name("reason", &b.reason, 500)?;
    let now = s.clock.now();
    let who = if id == auth.user.id { FactorActor::SecurityAdminSelf } else { FactorActor::SecurityAdmin };
    let tx = s.store.write().await?;
    accounts::get_user(&tx, id).await?;
    let rows: Vec<factor_row::Model> =
        [factors::active_of(&tx, id).await?, factors::pending_of(&tx, id).await?].into_iter().flatten().collect();
    if rows.is_empty() {
        if who == FactorActor::SecurityAdminSelf {
            sf::decide(FactorState::Active, FactorAction::Reset, who)?;
        }
        return Err(no_factor());
    }
    let mut ended = Vec::new();
    for f in &rows {
        let d = sf::decide(f.state, FactorAction::Reset, who)?;
        let step = Step::Ended { by: Some(auth.user.id), reason: reason.clone() };
        ended.push(factors::apply(&tx, f, d.next, step, now).await?.id);
    }
    factors::set_must_enrol(&tx, id, true, now).await?;
    let sessions = accounts::end_user_sessions(&tx, id, None, "factor_reset", now).await?;
    factors::end_challenges_of(&tx, id, "second_factor_reset", now).await?;
    let rec = auth.user.audit(
        &s,
        "user.second_factor.reset",
        "user",
        id,
        json!({ "reason": reason, "enrolments": ended, "sessions_ended": sessions }),
    );
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    s.identities.forget();
    let u = accounts::get_user(s.store.db(), id).await?;
    Ok(Json(super::users::dto(&s, u).await?))
}
