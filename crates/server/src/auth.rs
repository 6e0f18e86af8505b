//! Who is asking: the session cookie, the current user, and permissions as extractors.
//!
//! A handler states what it needs in its signature — `Authorized<perm::PeopleRead>` — and gets
//! the caller's data scope for that permission, resolved to a [`Scope`] for the store's queries.
//! Refusals are audited.

use std::{marker::PhantomData, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Duration;
use rand::RngCore;
use serde_json::json;
use xiaoneng_core::{
    audit::HashAlgo,
    auth::{AccountStatus, SessionState},
    org::supervisor_serving,
    rbac::{DataScope, Grants, Permission, Role},
};
use xiaoneng_store::{
    accounts,
    audit::{AuditRecord, Outcome},
    org::Scope,
};

use crate::{ApiResult, AppState, error::ApiError, identity_cache};

pub const SESSION_COOKIE: &str = "xn_session";
/// The session cookie's name when the server is configured for HTTPS: the `__Host-` prefix makes
/// the browser refuse it unless it is `Secure`, host-only and for `/`, so a sibling subdomain or a
/// plain-HTTP page cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-xn_session";
/// A hint for the web app that a session cookie was set (the session cookie is HttpOnly, so the
/// app cannot see it): not a secret, and never trusted by the server.
pub const SIGNED_IN_COOKIE: &str = "xn_signed_in";

/// The session cookie's name under this configuration.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

/// A new random session token (256 bits), and its SHA-256, which is all the database keeps.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    HashAlgo::Sha256.hex(token.as_bytes())
}

pub fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` values that start a session: the session itself, and the web app's hint.
pub fn session_cookies(state: &AppState, token: &str, secure: bool) -> [String; 2] {
    let name = session_cookie_name(state);
    let flags = if secure || state.config.secure_cookies { "; Secure" } else { "" };
    [
        format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict{flags}"),
        format!("{SIGNED_IN_COOKIE}=1; Path=/; SameSite=Strict{flags}"),
    ]
}

/// The `Set-Cookie` values that end a session in the browser.
pub fn clear_cookies(state: &AppState, secure: bool) -> [String; 2] {
    let name = session_cookie_name(state);
    let flags = if secure || state.config.secure_cookies { "; Secure" } else { "" };
    [
        format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{flags}"),
        format!("{SIGNED_IN_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0{flags}"),
    ]
}

/// The address a request came from: the peer, or, behind trusted proxies, the address the
/// outermost of them saw. Each proxy appends the address it was reached from to
/// `X-Forwarded-For`, so with `trusted_proxies = N` the client is the N-th entry from the right;
/// whatever stands further left came from the client itself and may be forged.
pub fn client_ip(state: &AppState, parts: &Parts) -> String {
    if state.config.trust_forwarded_headers {
        let hops: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let n = state.config.trusted_proxies.max(1);
        // Fewer entries than proxies: the request came through fewer of them; the leftmost is
        // then the nearest to the client that any trusted proxy recorded.
        if let Some(ip) = hops.len().checked_sub(n).and_then(|i| hops.get(i)).or(hops.first()) {
            return ip.chars().take(64).collect();
        }
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Cookies get `Secure` when configured, or when a trusted proxy says the request came over TLS.
pub fn secure_request(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || (state.config.trust_forwarded_headers
            && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https"))
}

/// Runs an Argon2 verification off the async threads, holding one of the server's hashing
/// permits throughout (decision 0023): at most `max_concurrent_hashes` run at once, and a request
/// that cannot get a permit within `hash_wait` is answered 503 `busy`, so that logins from anyone
/// cannot take every core.
pub async fn verify_password(state: &AppState, password: String, phc: String) -> ApiResult<bool> {
    let permit = state.hash_permit().await?;
    tokio::task::spawn_blocking(move || {
        // Held until the hash is done, even if the request is dropped meanwhile.
        let _permit = permit;
        xiaoneng_core::auth::verify_password(&password, &phc)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Hashes a new password as [`verify_password`] verifies one: under a hashing permit.
pub async fn hash_password(state: &AppState, password: String) -> ApiResult<String> {
    let permit = state.hash_permit().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        xiaoneng_core::auth::hash_password(&password)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The logged-in user behind a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    pub department_path: Option<String>,
    pub department_name: Option<String>,
    pub person_id: Option<i64>,
    /// Set for an external supervisor's account: their term limits what they may record.
    pub supervisor_id: Option<i64>,
    pub roles: Vec<Role>,
    pub grants: Grants,
    pub session_hash: String,
    /// At first login for admin-made accounts, or when the password has expired.
    pub must_change_password: bool,
    /// The account has a confirmed second factor.
    pub second_factor_active: bool,
    /// The policy requires a second factor of the user's roles (or the security admin reset
    /// theirs) and none is confirmed: the session may only enrol one (decision 0029).
    pub must_enrol_second_factor: bool,
    pub ip: String,
}

impl CurrentUser {
    /// The store scope for a data scope, anchored at this user's department or person.
    pub fn scope_for(&self, s: DataScope) -> Scope {
        match s {
            DataScope::All => Scope::All,
            DataScope::DepartmentTree => match &self.department_path {
                Some(p) => Scope::Tree(p.clone()),
                None => Scope::Person(None),
            },
            DataScope::Department => match self.department_id {
                Some(d) => Scope::Department(d),
                None => Scope::Person(None),
            },
            DataScope::SelfOnly => Scope::Person(self.person_id),
        }
    }

    pub fn scope(&self, p: Permission) -> Option<Scope> {
        self.grants.scope(p).map(|s| self.scope_for(s))
    }
}

impl CurrentUser {
    /// The user an account's identity describes, for a request from `ip`.
    /// An external supervisor's account holds no permission at all while the supervisor is
    /// retired or outside their term (`today`, city time): it reads nothing of the regime.
    pub fn of(
        i: accounts::Identity,
        session_hash: String,
        must_change_password: bool,
        ip: String,
        today: chrono::NaiveDate,
    ) -> Self {
        let serving = i.supervisor.is_none_or(|(status, term)| supervisor_serving(status, term, today));
        let must_enrol_second_factor = i.user.must_enrol_second_factor && !i.second_factor_active;
        CurrentUser {
            id: i.user.id,
            username: i.user.username,
            display_name: i.user.display_name,
            department_id: i.user.department_id,
            department_path: i.department_path,
            department_name: i.department_name,
            person_id: i.user.person_id,
            supervisor_id: i.user.supervisor_id,
            grants: if serving { Grants::of(&i.roles) } else { Grants::of(&[]) },
            roles: i.roles,
            session_hash,
            must_change_password,
            second_factor_active: i.second_factor_active,
            must_enrol_second_factor,
            ip,
        }
    }

    /// Applies the security policy's second-factor rule: a user whose roles require a factor
    /// and who has none confirmed may only enrol one.
    pub fn with_policy(mut self, policy: &xiaoneng_core::auth::SecurityPolicy) -> Self {
        self.must_enrol_second_factor = xiaoneng_core::second_factor::enrolment_required(
            policy.requires_second_factor(&self.roles),
            self.must_enrol_second_factor,
            self.second_factor_active,
        );
        self
    }

    /// An account acting without a request (the demo, an operator's tool).
    pub async fn load<C: sea_orm::ConnectionTrait>(
        c: &C,
        user_id: i64,
        ip: &str,
        today: chrono::NaiveDate,
    ) -> ApiResult<Self> {
        let i = accounts::identity(c, user_id).await?;
        Ok(CurrentUser::of(i, String::new(), false, ip.to_owned(), today))
    }
}

/// The caller's session even while they must change their password or enrol a second factor.
/// Only the routes a user needs to get out of those states take it: `GET /api/v1/me`,
/// `POST /api/v1/auth/password`, `POST /api/v1/auth/logout` and the caller's own second-factor
/// routes (`/api/v1/auth/second-factor…`, which refuse a password change first). Every other
/// route takes [`CurrentUser`] (or a permission, which takes it), and so refuses such a user with
/// 403 `password_change_required` or 403 `second_factor_required`.
#[derive(Debug, Clone)]
pub struct SessionUser(pub CurrentUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SessionUser(user) = SessionUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        if user.must_enrol_second_factor {
            return Err(ApiError::SecondFactorRequired);
        }
        Ok(user)
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    /// No query when this instance knows the session (decision 0022); otherwise one: the session
    /// with its account, roles and department (decision 0020).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(SessionUser(u.clone()));
        }
        let token = cookie_token(&parts.headers, session_cookie_name(state)).ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(&token);
        let policy = state.policy().await?;
        let now = state.clock.now();
        let mut cached = state.identities.get(&hash);
        let c = loop {
            let fresh = cached.is_none();
            let c = match cached.take() {
                Some(c) => c,
                None => {
                    let generation = state.identities.generation();
                    let (session, identity) =
                        accounts::load_session(state.store.db(), &hash).await?.ok_or(ApiError::Unauthenticated)?;
                    let c = std::sync::Arc::new(identity_cache::Cached { session, identity });
                    state.identities.put(&hash, generation, c.clone());
                    c
                }
            };
            match policy.session_state(c.session.created_at, c.session.last_seen_at, now) {
                SessionState::Active => break c,
                // Another instance may have seen the session since this one cached it: only the
                // database's row may end it.
                _ if !fresh => {}
                state_ => {
                    let reason = if state_ == SessionState::Idle { "idle" } else { "expired" };
                    let tx = state.store.write().await?;
                    accounts::end_session(&tx, &hash, reason, now).await?;
                    tx.commit().await?;
                    state.identities.forget();
                    return Err(ApiError::SessionExpired);
                }
            }
        };
        if c.identity.user.status != AccountStatus::Active {
            return Err(ApiError::AccountDisabled);
        }
        // Writing on every request would serialise reads behind SQLite's one writer; a minute
        // of slack on a 30-minute idle limit is harmless.
        if now - c.session.last_seen_at >= Duration::seconds(60) {
            let generation = state.identities.generation();
            let tx = state.store.write().await?;
            accounts::touch_session(&tx, &hash, now).await?;
            tx.commit().await?;
            let mut seen = (*c).clone();
            seen.session.last_seen_at = now;
            state.identities.put(&hash, generation, std::sync::Arc::new(seen));
        }
        let must_change =
            c.identity.user.must_change_password || policy.password_expired(c.identity.user.password_changed_at, now);
        let today = xiaoneng_core::clock::city_day(now);
        let cu =
            CurrentUser::of(c.identity.clone(), hash, must_change, client_ip(state, parts), today).with_policy(&policy);
        parts.extensions.insert(cu.clone());
        Ok(SessionUser(cu))
    }
}

/// Who acts, and when: what every command takes besides its input. A handler makes it from the
/// request and the server's clock; a tool acting for an account (the demo) from its own clock.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub user: &'a CurrentUser,
    pub now: chrono::DateTime<chrono::Utc>,
    pub algo: HashAlgo,
}

impl<'a> Act<'a> {
    pub fn new(s: &AppState, user: &'a CurrentUser) -> Self {
        Act { user, now: s.clock.now(), algo: s.store.audit_algo() }
    }

    /// The audit record of this act.
    pub fn audit(
        &self,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        detail: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            at: self.now,
            actor_user_id: Some(self.user.id),
            actor: self.user.username.clone(),
            ip: self.user.ip.clone(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.to_string(),
            outcome: Outcome::Ok,
            detail,
        }
    }
}

/// A permission that a handler requires, named by a marker type in [`perm`].
pub trait RequiredPermission: Send + Sync {
    const PERMISSION: Permission;
}

pub mod perm {
    use super::{Permission, RequiredPermission};
    macro_rules! marker {
        ($($name:ident),+) => {$(
            #[derive(Debug)]
            pub struct $name;
            impl RequiredPermission for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )+};
    }
    marker!(
        OrgRead,
        OrgWrite,
        PeopleRead,
        PeopleWrite,
        PeopleImport,
        PeopleExport,
        SupervisorRead,
        SupervisorWrite,
        UserRead,
        UserWrite,
        RoleGrant,
        PolicyRead,
        PolicyWrite,
        AuditRead,
        InspectionManage,
        InspectionRecord,
        FindingRead,
        FindingAppeal,
        BulletinRead,
        RectificationManage,
        RectificationRead,
        ReportDraft,
        ReportSubmit,
        InstructionWrite,
        CampaignManage,
        CampaignAnswer,
        EventRead,
        SecondFactorReset,
        ServiceRead,
        ServiceManage,
        RatingReveal,
        TicketHandle,
        InquiryHandle,
        InquiryReview
    );
}

/// The caller holds permission `P`; `scope` is how far it reaches for them.
#[derive(Debug)]
pub struct Authorized<P: RequiredPermission> {
    pub user: CurrentUser,
    pub scope: Scope,
    _p: PhantomData<P>,
}

impl<P: RequiredPermission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Refuses a user who must change their password first.
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let Some(scope) = user.scope(P::PERMISSION) else {
            audit_denial(state, parts, &user, P::PERMISSION).await;
            return Err(ApiError::Forbidden);
        };
        Ok(Self { user, scope, _p: PhantomData })
    }
}

/// The caller, when they hold at least one of `perms` (a route open to several roles for
/// different reasons); otherwise 403, audited under the first.
pub async fn any_of(parts: &mut Parts, state: &AppState, perms: &[Permission]) -> Result<CurrentUser, ApiError> {
    let user = CurrentUser::from_request_parts(parts, state).await?;
    if !perms.iter().any(|p| user.grants.has(*p)) {
        if let Some(first) = perms.first() {
            audit_denial(state, parts, &user, *first).await;
        }
        return Err(ApiError::Forbidden);
    }
    Ok(user)
}

/// Records a refused request in the audit log: the first of a caller's window at once, the
/// repeats rolled up into one summary entry (decision 0023).
pub async fn audit_denial(state: &AppState, parts: &Parts, user: &CurrentUser, permission: Permission) {
    let rec = AuditRecord {
        at: state.clock.now(),
        actor_user_id: Some(user.id),
        actor: user.username.clone(),
        ip: user.ip.clone(),
        action: "permission.denied".into(),
        target_type: "route".into(),
        target_id: parts.uri.path().chars().take(64).collect(),
        outcome: Outcome::Denied,
        detail: json!({ "method": parts.method.as_str(), "permission": permission.code() }),
    };
    if let Err(e) = state.store.audit_rolled(&rec).await {
        tracing::error!(error = %e, "could not audit a denial");
    }
}

impl CurrentUser {
    /// An audit record of an action by this user.
    pub fn audit(
        &self,
        state: &AppState,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        detail: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            at: state.clock.now(),
            actor_user_id: Some(self.id),
            actor: self.username.clone(),
            ip: self.ip.clone(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.to_string(),
            outcome: Outcome::Ok,
            detail,
        }
    }
}

/// Refuses state-changing requests that a browser marks as cross-site. Browsers send
/// `Sec-Fetch-Site` (or at least `Origin`) on such requests; clients that send neither are not
/// browsers, so cannot be driven by another site, and the SameSite=Strict cookie backs this up.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let allowed = if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        matches!(site, "same-origin" | "none")
    } else if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        !host.is_empty() && origin_host == host
    } else {
        true
    };
    if allowed { next.run(req).await } else { ApiError::CsrfRejected.into_response() }
}

/// With `secure_cookies` the server is reached over HTTPS only: every answer tells the browser
/// to keep it that way (a year, this host).
pub async fn strict_transport(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if state.config.secure_cookies {
        res.headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, axum::http::HeaderValue::from_static("max-age=31536000"));
    }
    res
}
