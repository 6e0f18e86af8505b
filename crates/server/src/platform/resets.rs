//! Password resets that need two people (decision 0025): the system admin asks and is shown one
//! half of a one-time code, the security admin approves and is shown the other; the account's
//! user sets a new password with both halves. No one is handed a working password for another
//! person's account, and every step is in the audit log.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    audit::HashAlgo,
    auth::hash_password,
    org::parse_name,
    rbac::{Permission, Role},
    reset::{
        CODE_ALPHABET, CODE_VALID, HALF_LEN, MAX_ATTEMPTS, REQUEST_VALID, ResetAction, ResetActor, ResetState,
        show_half, split_code,
    },
};
use xiaoneng_store::{
    accounts,
    audit::{self, AuditRecord, Outcome},
    entity::password_reset,
    rectification::{self as rect, Note},
    resets::{self, Step},
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_codes},
    auth::{CurrentUser, any_of, client_ip},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(approve))
        .routes(routes!(cancel))
        .routes(routes!(use_code))
}

/// One half of a code, drawn from the unambiguous alphabet.
fn new_half() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..HALF_LEN).map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())])).collect()
}

/// What is kept of a half: its SHA-256, bound to the account.
fn half_hash(user_id: i64, half: &str) -> String {
    HashAlgo::Sha256.hex(format!("{user_id}:{half}").as_bytes())
}

fn actor(user: &CurrentUser) -> ResetActor {
    ResetActor {
        system_admin: user.grants.has(Permission::UserWrite),
        security_admin: user.grants.has(Permission::RoleGrant),
    }
}

/// The system admin, who asks for resets, or the security admin, who approves them.
pub struct ResetAdmin(pub CurrentUser);

impl axum::extract::FromRequestParts<AppState> for ResetAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        Ok(ResetAdmin(any_of(parts, s, &[Permission::UserWrite, Permission::RoleGrant]).await?))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// Where it stands now: a request or a code past its time shows as `cancelled`.
    pub state: ResetState,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Until when it can be approved (requested) or used (approved).
    pub expires_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `superseded`, `too_many_attempts`, or the reason given by whoever called it off.
    pub end_reason: Option<String>,
    pub allowed_actions: Vec<ResetAction>,
}

async fn dtos<C: sea_orm::ConnectionTrait>(
    c: &C,
    viewer: &CurrentUser,
    rows: Vec<password_reset::Model>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<PasswordReset>> {
    let ids: Vec<i64> =
        rows.iter().flat_map(|r| [Some(r.user_id), Some(r.requested_by), r.approved_by]).flatten().collect();
    let names = accounts::display_names(c, ids.clone()).await?;
    let users = resets::usernames(c, ids).await?;
    let who = actor(viewer);
    Ok(rows
        .into_iter()
        .map(|r| {
            let facts = resets::facts(&r);
            let state = facts.effective(now);
            let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
            PasswordReset {
                id: r.id,
                user_id: r.user_id,
                username: users.get(&r.user_id).cloned().unwrap_or_default(),
                display_name: name(r.user_id),
                state,
                reason: r.reason,
                requested_by: name(r.requested_by),
                requested_at: r.requested_at,
                approved_by: r.approved_by.map(name),
                approved_at: r.approved_at,
                expires_at: match state {
                    ResetState::Requested => Some(r.requested_at + REQUEST_VALID),
                    ResetState::Approved => r.approved_at.map(|a| a + CODE_VALID),
                    _ => None,
                },
                ended_at: r.ended_at,
                end_reason: r.end_reason.or_else(|| (state != r.state).then(|| "expired".to_owned())),
                allowed_actions: facts.allowed_actions(who, now),
            }
        })
        .collect())
}

/// One reset as `viewer` sees it.
pub async fn dto<C: sea_orm::ConnectionTrait>(
    c: &C,
    viewer: &CurrentUser,
    r: password_reset::Model,
    now: DateTime<Utc>,
) -> ApiResult<PasswordReset> {
    dtos(c, viewer, vec![r], now).await?.pop().ok_or(ApiError::NotFound)
}

/// A reset with the half of its code shown to the one admin who receives it, this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetWithHalf {
    pub reset: PasswordReset,
    /// `ABCDE-FGHJK`: this admin's half, to be handed to the user in person. It is not stored
    /// and cannot be shown again.
    pub code_half: String,
}

// ------------------------------------------------------------------ commands

/// Asks for a reset of an account's password (the system admin): any reset still open for the
/// account is superseded. The security admins are told. The first half of the code is returned.
pub async fn request<C: sea_orm::ConnectionTrait>(
    c: &C,
    s: &AppState,
    by: &CurrentUser,
    target: i64,
    reason: &str,
) -> ApiResult<(password_reset::Model, String)> {
    let now = s.clock.now();
    let half = new_half();
    let r = resets::request(c, target, by.id, reason, half_hash(target, &half), now).await?;
    let rec = by.audit(s, "user.password_reset.request", "user", target, json!({ "reset_id": r.id, "reason": reason }));
    audit::append(c, s.store.audit_algo(), &rec).await?;
    let username = accounts::get_user(c, target).await?.username;
    let note = Note {
        kind: "password_reset.requested",
        title: format!("待审批：重置 {username} 的密码"),
        body: format!("系统管理员 {} 申请重置该账号的密码：{reason}", by.display_name),
        link: "/system/password-resets".into(),
        due: None,
    };
    rect::notify(c, &rect::users_with_roles(c, &[Role::SecAdmin]).await?, &note, None, now).await?;
    Ok((r, show_half(&half)))
}

// ------------------------------------------------------------------ routes

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// One state, or several separated by commas (`requested,approved`).
    pub state: Option<String>,
}

/// Password resets, newest first: the system admin's requests and the security admin's queue.
#[utoipa::path(get, operation_id = "password_resets_list", path = "/api/v1/password-resets", tag = "accounts", params(ListParams),
    responses((status = 200, body = Page<PasswordReset>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    ResetAdmin(user): ResetAdmin,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<PasswordReset>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let states: Vec<ResetState> = parse_codes("state", p.state.as_deref(), &mut v);
    v.done()?;
    let db = s.store.db();
    let rows = resets::list(db, &states, page).await?;
    let items = dtos(db, &user, rows.items, s.clock.now()).await?;
    Ok(Json(Page { items, total: rows.total, page: rows.page, page_size: rows.page_size }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetStepBody {
    /// The state the caller last saw (409 `state_changed` if it moved on).
    pub expected_state: Option<ResetState>,
}

/// Approves a reset (the security admin): the account's sessions end, and the second half of the
/// code is returned, this once.
#[utoipa::path(post, operation_id = "password_resets_approve", path = "/api/v1/password-resets/{id}/approve", tag = "accounts", request_body = ResetStepBody,
    responses((status = 200, body = ResetWithHalf), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve(
    State(s): State<AppState>,
    ResetAdmin(user): ResetAdmin,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ResetStepBody>,
) -> ApiResult<Json<ResetWithHalf>> {
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let r = resets::get(&tx, id).await?;
    crate::error::expect_state(b.expected_state, resets::facts(&r).effective(now))?;
    let d = resets::facts(&r).decide(ResetAction::Approve, actor(&user), now)?;
    let half = new_half();
    let step = Step::Approved { by: user.id, second_half_hash: half_hash(r.user_id, &half) };
    let r = resets::apply(&tx, &r, d.next, step, now).await?;
    // Whoever knows the old password is out until the user has chosen a new one.
    let ended = accounts::end_user_sessions(&tx, r.user_id, None, "password_reset", now).await?;
    let rec = user.audit(
        &s,
        "user.password_reset.approve",
        "user",
        r.user_id,
        json!({ "reset_id": r.id, "sessions_ended": ended }),
    );
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    s.identities.forget();
    let reset = dto(s.store.db(), &user, r, now).await?;
    Ok(Json(ResetWithHalf { reset, code_half: show_half(&half) }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelBody {
    pub reason: String,
    pub expected_state: Option<ResetState>,
}

/// Calls a reset off (either admin), until it is used.
#[utoipa::path(post, operation_id = "password_resets_cancel", path = "/api/v1/password-resets/{id}/cancel", tag = "accounts", request_body = CancelBody,
    responses((status = 200, body = PasswordReset), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn cancel(
    State(s): State<AppState>,
    ResetAdmin(user): ResetAdmin,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CancelBody>,
) -> ApiResult<Json<PasswordReset>> {
    let reason = parse_name("reason", &b.reason, 500)?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let r = resets::get(&tx, id).await?;
    crate::error::expect_state(b.expected_state, resets::facts(&r).effective(now))?;
    let d = resets::facts(&r).decide(ResetAction::Cancel, actor(&user), now)?;
    let r = resets::apply(&tx, &r, d.next, Step::Cancelled { reason: reason.clone() }, now).await?;
    let rec =
        user.audit(&s, "user.password_reset.cancel", "user", r.user_id, json!({ "reset_id": r.id, "reason": reason }));
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    Ok(Json(dto(s.store.db(), &user, r, now).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UseCodeBody {
    pub username: String,
    /// Both halves, the system admin's first: `ABCDE-FGHJK-LMNPQ-RSTUV` (case, spaces and dashes
    /// do not matter).
    pub code: String,
    pub new_password: String,
}

fn bad_code() -> ApiError {
    ApiError::refused(
        StatusCode::UNAUTHORIZED,
        "invalid_reset_code",
        "用户名或重置码不正确，或重置码已失效",
        "The user name or reset code is wrong, or the code is no longer valid",
    )
}

/// Sets a new password with a reset code (no session needed): the account is unlocked, its
/// sessions end, and the user logs in with the new password. A wrong code counts against the
/// reset; after five it is called off.
#[utoipa::path(post, operation_id = "auth_use_reset_code", path = "/api/v1/auth/password-reset", tag = "auth", request_body = UseCodeBody,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn use_code(
    State(s): State<AppState>,
    parts: axum::http::request::Parts,
    ApiJson(b): ApiJson<UseCodeBody>,
) -> ApiResult<StatusCode> {
    let now = s.clock.now();
    let ip = client_ip(&s, &parts);
    let db = s.store.db();
    let user = accounts::find_by_username(db, b.username.trim()).await?;
    let open = match &user {
        Some(u) => resets::open_of_user(db, u.id).await?,
        None => None,
    };
    let failed = |why: &str, user_id: Option<i64>| AuditRecord {
        at: now,
        actor_user_id: user_id,
        actor: user_id.map_or_else(|| "(unknown)".to_owned(), |_| b.username.trim().chars().take(64).collect()),
        ip: ip.clone(),
        action: "user.password_reset.use".into(),
        target_type: "user".into(),
        target_id: user_id.map_or_else(String::new, |i| i.to_string()),
        outcome: Outcome::Failed,
        detail: json!({ "why": why }),
    };
    let (Some(u), Some(r)) = (user, open) else {
        s.store.audit(&failed("no_open_reset", None)).await?;
        return Err(bad_code());
    };
    let facts = resets::facts(&r);
    let right = split_code(&b.code).is_some_and(|(first, second)| {
        half_hash(u.id, &first) == r.first_half_hash && r.second_half_hash.as_deref() == Some(&half_hash(u.id, &second))
    });
    if !right || facts.decide(ResetAction::Use, ResetActor::default(), now).is_err() {
        let tx = s.store.write().await?;
        let attempts = resets::count_attempt(&tx, r.id).await?;
        if attempts >= MAX_ATTEMPTS {
            let r = resets::get(&tx, r.id).await?;
            let step = Step::Cancelled { reason: "too_many_attempts".into() };
            // Already moved on (another try got there first): nothing more to call off.
            match resets::apply(&tx, &r, ResetState::Cancelled, step, now).await {
                Ok(_) | Err(xiaoneng_store::StoreError::StateChanged) => {}
                Err(e) => return Err(e.into()),
            }
        }
        audit::append(&tx, s.store.audit_algo(), &failed("wrong_or_expired_code", Some(u.id))).await?;
        tx.commit().await?;
        return Err(bad_code());
    }
    s.policy().await?.check_password(&u.username, &b.new_password)?;
    let pw = b.new_password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let tx = s.store.write().await?;
    let d = facts.decide(ResetAction::Use, ResetActor::default(), now)?;
    let r = resets::apply(&tx, &r, d.next, Step::Used, now).await?;
    accounts::set_password(&tx, u.id, hash, false, now).await?;
    let ended = accounts::end_user_sessions(&tx, u.id, None, "password_reset", now).await?;
    let rec = AuditRecord {
        actor_user_id: Some(u.id),
        actor: u.username.clone(),
        outcome: Outcome::Ok,
        detail: json!({ "reset_id": r.id, "sessions_ended": ended }),
        ..failed("", Some(u.id))
    };
    audit::append(&tx, s.store.audit_algo(), &rec).await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(StatusCode::NO_CONTENT)
}

/// The security admin's tasks: each reset awaiting approval, due when it lapses.
pub async fn tasks<C: sea_orm::ConnectionTrait>(
    c: &C,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> ApiResult<Vec<crate::tasks::Task>> {
    if !user.grants.has(Permission::RoleGrant) {
        return Ok(Vec::new());
    }
    let waiting = resets::list(c, &[ResetState::Requested], xiaoneng_store::PageReq { page: 1, page_size: 50 }).await?;
    let names = resets::usernames(c, waiting.items.iter().map(|r| r.user_id).collect::<Vec<_>>()).await?;
    Ok(waiting
        .items
        .into_iter()
        .filter(|r| !resets::facts(r).expired(now))
        .map(|r| crate::tasks::Task {
            kind: crate::tasks::TaskKind::ApproveReset,
            title: format!("审批密码重置：{}", names.get(&r.user_id).map_or("", String::as_str)),
            link: "/system/password-resets".into(),
            due: Some(xiaoneng_core::clock::city_day(r.requested_at + xiaoneng_core::reset::REQUEST_VALID)),
            overdue: false,
        })
        .collect())
}
