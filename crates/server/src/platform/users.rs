//! Accounts. The system admin creates and maintains accounts; the security admin grants roles;
//! neither can do the other's work, and nobody changes their own roles.

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
    auth::{AccountStatus, hash_password},
    org::{Status, parse_name, parse_username},
    rbac::Role,
};
use xiaoneng_store::{
    accounts::{self, NewUser, UserFilter},
    audit,
    entity::user,
    org::{self, Scope},
};

use crate::api::{Checks, Page, RetireRequest, page_req};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(reset_password))
        .routes(routes!(unlock))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(set_roles))
        .routes(routes!(link_candidates))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub person_id: Option<i64>,
    /// For an external supervisor's account: their record, whose term limits the account.
    pub supervisor_id: Option<i64>,
    /// The roster name of the person who uses the account.
    pub person_name: Option<String>,
    /// Role codes held now.
    pub roles: Vec<String>,
    pub status: AccountStatus,
    pub must_change_password: bool,
    /// Set while the account is locked after failed logins.
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Two-step verification is set up (an authenticator app confirmed).
    pub second_factor_enabled: bool,
    /// The security admin reset the account's two-step verification and it is not set up again.
    pub must_enrol_second_factor: bool,
}

pub(crate) async fn dto(s: &AppState, u: user::Model) -> ApiResult<User> {
    let mut all = dtos(s, vec![u]).await?;
    all.pop().ok_or(ApiError::NotFound)
}

/// Users as the API shows them, with the names of their department and person.
async fn dtos(s: &AppState, users: Vec<user::Model>) -> ApiResult<Vec<User>> {
    let db = s.store.db();
    let departments = org::department_names(db, users.iter().filter_map(|u| u.department_id)).await?;
    let people = org::person_names(db, users.iter().filter_map(|u| u.person_id)).await?;
    let now = s.clock.now();
    let with_factor = xiaoneng_store::second_factor::with_active(db, users.iter().map(|u| u.id)).await?;
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let roles = accounts::roles_of(db, u.id).await?;
        out.push(User {
            id: u.id,
            department_name: u.department_id.and_then(|d| departments.get(&d).cloned()),
            person_name: u.person_id.and_then(|p| people.get(&p).cloned()),
            username: u.username,
            display_name: u.display_name,
            department_id: u.department_id,
            person_id: u.person_id,
            supervisor_id: u.supervisor_id,
            roles: roles.iter().map(|r| r.code().to_owned()).collect(),
            status: u.status,
            must_change_password: u.must_change_password,
            locked_until: u.locked_until.filter(|t| *t > now),
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            second_factor_enabled: with_factor.contains(&u.id),
            must_enrol_second_factor: u.must_enrol_second_factor && !with_factor.contains(&u.id),
        });
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches user name or display name.
    pub q: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    pub department_id: Option<i64>,
}

#[utoipa::path(operation_id = "users_list", get, path = "/api/v1/users", tag = "accounts", params(ListParams),
    responses((status = 200, body = Page<User>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    _auth: Authorized<perm::UserRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<User>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = UserFilter { q: p.q, status: p.status, department_id: p.department_id };
    let rows = accounts::list_users(&s.store, &f, page).await?;
    let items = dtos(&s, rows.items).await?;
    Ok(Json(Page { items, total: rows.total, page: rows.page, page_size: rows.page_size }))
}

#[utoipa::path(operation_id = "users_get_one", get, path = "/api/v1/users/{id}", tag = "accounts",
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    _auth: Authorized<perm::UserRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    Ok(Json(dto(&s, accounts::get_user(s.store.db(), id).await?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    /// The roster entry of the person who uses this account.
    pub person_id: Option<i64>,
    /// For an external supervisor (效能监督员, deputies…): their record.
    pub supervisor_id: Option<i64>,
    /// An initial password; the user must change it at first login.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserBody {
    pub display_name: String,
    pub department_id: Option<i64>,
    pub person_id: Option<i64>,
    pub supervisor_id: Option<i64>,
}

/// A supervisor record to link an account to must exist and not be retired.
async fn check_supervisor<C: sea_orm::ConnectionTrait>(c: &C, supervisor_id: Option<i64>) -> ApiResult<()> {
    if let Some(id) = supervisor_id {
        let ok = org::get_supervisor(c, id).await.is_ok_and(|s| s.status == Status::Active);
        if !ok {
            return Err(ApiError::invalid(
                "supervisor_id",
                "supervisor_not_found",
                "外部监督员不存在或已停用",
                "No active external supervisor with that id",
            ));
        }
    }
    Ok(())
}

/// Checks that the department and person exist, and that the person belongs to the department.
async fn check_links<C: sea_orm::ConnectionTrait>(
    c: &C,
    department_id: Option<i64>,
    person_id: Option<i64>,
) -> ApiResult<()> {
    if let Some(d) = department_id {
        let dep = org::get_department(c, &Scope::All, d).await.map_err(|_| {
            ApiError::invalid("department_id", "department_not_found", "部门不存在", "The department does not exist")
        })?;
        if dep.status != Status::Active {
            return Err(ApiError::invalid(
                "department_id",
                "department_retired",
                "部门已停用",
                "The department is retired",
            ));
        }
    }
    if let Some(p) = person_id {
        let person = org::get_person(c, &Scope::All, p).await.map_err(|_| {
            ApiError::invalid("person_id", "person_not_found", "人员不存在", "The person does not exist")
        })?;
        if department_id.is_some_and(|d| d != person.department_id) {
            return Err(ApiError::invalid(
                "person_id",
                "person_not_in_department",
                "该人员不属于所选部门",
                "The person does not belong to the chosen department",
            ));
        }
    }
    Ok(())
}

/// The system admin maintains ordinary accounts. Accounts of the three IT admins are managed
/// from the command line on the server, so none of them can take over another's account.
async fn manageable<C: sea_orm::ConnectionTrait>(c: &C, id: i64) -> ApiResult<user::Model> {
    let u = accounts::get_user(c, id).await?;
    if accounts::roles_of(c, id).await?.iter().any(|r| r.is_it_admin()) {
        return Err(it_admin_refusal());
    }
    Ok(u)
}

fn it_admin_refusal() -> ApiError {
    ApiError::bad_request(
        "it_admin_account",
        "系统管理员、安全管理员、安全审计员的账号和角色只能在服务器上用命令行维护",
        "The system, security and audit admins' accounts and roles are managed only from the server's command line",
    )
}

async fn hash(pw: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Creates an account with no roles (the security admin grants them). The user must change the
/// initial password at first login.
#[utoipa::path(operation_id = "users_create", post, path = "/api/v1/users", tag = "accounts", request_body = NewUserBody,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    ApiJson(b): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let mut v = Checks::default();
    let username = v.take(parse_username(&b.username));
    let display_name = v.take(parse_name("display_name", &b.display_name, 50));
    let policy = s.policy().await?;
    v.take(policy.check_password(&username, &b.password));
    v.done()?;
    let password_hash = hash(b.password.clone()).await?;
    let tx = s.store.write().await?;
    check_links(&tx, b.department_id, b.person_id).await?;
    check_supervisor(&tx, b.supervisor_id).await?;
    let u = accounts::create_user(
        &tx,
        NewUser {
            username,
            display_name,
            password_hash,
            person_id: b.person_id,
            department_id: b.department_id,
            must_change_password: true,
        },
        s.clock.now(),
    )
    .await?;
    let u = accounts::set_supervisor(&tx, u.id, b.supervisor_id).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            &s,
            "user.create",
            "user",
            u.id,
            json!({ "username": u.username, "department_id": u.department_id, "person_id": u.person_id, "supervisor_id": u.supervisor_id }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto(&s, u).await?)))
}

#[utoipa::path(operation_id = "users_update", put, path = "/api/v1/users/{id}", tag = "accounts", request_body = UserBody,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<UserBody>,
) -> ApiResult<Json<User>> {
    let display_name = parse_name("display_name", &b.display_name, 50)?;
    let tx = s.store.write().await?;
    let u = manageable(&tx, id).await?;
    check_links(&tx, b.department_id, b.person_id).await?;
    check_supervisor(&tx, b.supervisor_id).await?;
    let roles = accounts::roles_of(&tx, id).await?;
    if b.department_id.is_none() && roles.iter().any(|r| r.needs_department()) {
        return Err(ApiError::invalid(
            "department_id",
            "department_required",
            "该账号的角色需要所属部门",
            "This account's roles need a department",
        ));
    }
    let before = json!({ "display_name": u.display_name, "department_id": u.department_id, "person_id": u.person_id });
    accounts::update_profile(&tx, id, display_name, b.department_id, b.person_id, s.clock.now()).await?;
    let u = accounts::set_supervisor(&tx, id, b.supervisor_id).await?;
    let after = json!({ "display_name": u.display_name, "department_id": u.department_id, "person_id": u.person_id });
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "user.update", "user", id, json!({ "before": before, "after": after })),
    )
    .await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(Json(dto(&s, u).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    /// Why (the user's request, how they were identified): shown to the security admin.
    pub reason: String,
}

/// Asks for a password reset (decision 0025): nothing changes until the security admin approves
/// it. The answer carries the first half of the one-time code, to be handed to the user in person;
/// the security admin receives the second half on approval. Any earlier open reset of the account
/// is superseded.
#[utoipa::path(operation_id = "users_reset_password", post, path = "/api/v1/users/{id}/reset-password", tag = "accounts", request_body = ResetPasswordBody,
    responses((status = 201, body = super::resets::ResetWithHalf), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_password(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ResetPasswordBody>,
) -> ApiResult<(StatusCode, Json<super::resets::ResetWithHalf>)> {
    let reason = parse_name("reason", &b.reason, 500)?;
    let tx = s.store.write().await?;
    manageable(&tx, id).await?;
    let (r, code_half) = super::resets::request(&tx, &s, &auth.user, id, &reason).await?;
    tx.commit().await?;
    let reset = super::resets::dto(s.store.db(), &auth.user, r, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(super::resets::ResetWithHalf { reset, code_half })))
}

#[utoipa::path(operation_id = "users_unlock", post, path = "/api/v1/users/{id}/unlock", tag = "accounts",
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn unlock(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    let tx = s.store.write().await?;
    manageable(&tx, id).await?;
    let u = accounts::unlock(&tx, id, s.clock.now()).await?;
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "user.unlock", "user", id, json!({}))).await?;
    tx.commit().await?;
    Ok(Json(dto(&s, u).await?))
}

async fn set_status(
    s: &AppState,
    auth: &Authorized<perm::UserWrite>,
    id: i64,
    status: AccountStatus,
    reason: &str,
) -> ApiResult<User> {
    if id == auth.user.id {
        return Err(ApiError::bad_request(
            "own_account",
            "不能停用或启用自己的账号",
            "You cannot disable or enable your own account",
        ));
    }
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let u = manageable(&tx, id).await?;
    if u.status == status {
        return Err(ApiError::invalid("status", "unchanged", "账号已是该状态", "The account already has this status"));
    }
    let u = accounts::set_status(&tx, id, status, now).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            s,
            &format!("user.{}", if status == AccountStatus::Disabled { "disable" } else { "enable" }),
            "user",
            id,
            json!({ "reason": reason }),
        ),
    )
    .await?;
    tx.commit().await?;
    s.identities.forget();
    dto(s, u).await
}

/// Disables an account (it is never deleted) and ends its sessions.
#[utoipa::path(operation_id = "users_disable", post, path = "/api/v1/users/{id}/disable", tag = "accounts", request_body = RetireRequest,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disable(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<User>> {
    let reason = b.reason()?;
    Ok(Json(set_status(&s, &auth, id, AccountStatus::Disabled, &reason).await?))
}

#[utoipa::path(operation_id = "users_enable", post, path = "/api/v1/users/{id}/enable", tag = "accounts", request_body = RetireRequest,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<User>> {
    let reason = b.reason()?;
    Ok(Json(set_status(&s, &auth, id, AccountStatus::Active, &reason).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RolesBody {
    /// The complete set of role codes the account should hold.
    pub roles: Vec<String>,
}

/// Grants and revokes roles so that the account holds exactly these. Security admin only, and
/// never on their own account.
#[utoipa::path(operation_id = "users_set_roles", put, path = "/api/v1/users/{id}/roles", tag = "accounts", request_body = RolesBody,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_roles(
    State(s): State<AppState>,
    auth: Authorized<perm::RoleGrant>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RolesBody>,
) -> ApiResult<Json<User>> {
    if id == auth.user.id {
        return Err(ApiError::bad_request("own_account", "不能修改自己的角色", "You cannot change your own roles"));
    }
    let mut roles = Vec::new();
    let mut v = Checks::default();
    for code in &b.roles {
        match Role::parse(code) {
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => v.push(xiaoneng_core::ValidationError::new(
                "roles",
                "unknown_role",
                format!("未知角色：{code}"),
                format!("Unknown role: {code}"),
            )),
        }
    }
    v.take(Role::check_combination(&roles));
    v.done()?;
    if roles.iter().any(|r| r.is_it_admin()) {
        return Err(it_admin_refusal());
    }
    let tx = s.store.write().await?;
    // Also refuses to take an IT admin's role away: those accounts are the command line's.
    let u = manageable(&tx, id).await?;
    if u.department_id.is_none() && roles.iter().any(|r| r.needs_department()) {
        return Err(ApiError::invalid(
            "roles",
            "department_required",
            "部门负责人、联络员和机关干部角色需要账号先设置所属部门",
            "Department head, liaison and staff roles need the account to have a department",
        ));
    }
    let (granted, revoked) = accounts::set_roles(&tx, id, &roles, Some(auth.user.id), s.clock.now()).await?;
    let codes = |rs: &[Role]| rs.iter().map(|r| r.code()).collect::<Vec<_>>();
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            &s,
            "user.roles",
            "user",
            id,
            json!({ "granted": codes(&granted), "revoked": codes(&revoked) }),
        ),
    )
    .await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(Json(dto(&s, u).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkParams {
    /// `person` (a person of the roster) or `supervisor` (an external supervisor's record).
    pub kind: String,
    /// Name, employee number or certificate number.
    #[serde(default)]
    pub q: String,
}

/// Something an account may be linked to, as the account form offers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkCandidate {
    pub id: i64,
    pub label: String,
    /// The department, or the supervisor's kind and term.
    pub detail: String,
}

/// People and external supervisors an account may be linked to (active ones, at most 20): what
/// the system admin needs to link an account without reading the roster.
#[utoipa::path(operation_id = "users_link_candidates", get, path = "/api/v1/account-links", tag = "accounts", params(LinkParams),
    responses((status = 200, body = Vec<LinkCandidate>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn link_candidates(
    State(s): State<AppState>,
    auth: Authorized<perm::UserWrite>,
    ApiQuery(p): ApiQuery<LinkParams>,
) -> ApiResult<Json<Vec<LinkCandidate>>> {
    let db = s.store.db();
    let q = Some(p.q.trim().to_owned()).filter(|q| !q.is_empty());
    let page = xiaoneng_store::PageReq { page: 1, page_size: 20 };
    let out: Vec<LinkCandidate> = match p.kind.as_str() {
        "person" => {
            let f = org::PeopleFilter { q, status: Some(Status::Active.code().into()), ..Default::default() };
            let rows = org::list_people(db, &org::Scope::All, &f, page).await?.items;
            let names = crate::api::department_names(&s, rows.iter().map(|r| r.department_id)).await?;
            rows.into_iter()
                .map(|r| LinkCandidate {
                    id: r.id,
                    label: format!("{}（{}）", r.name, r.employee_no),
                    detail: names.get(&r.department_id).cloned().unwrap_or_default(),
                })
                .collect()
        }
        "supervisor" => {
            let f = org::UnitFilter { q, status: Some(Status::Active.code().into()), ..Default::default() };
            let rows = org::list_supervisors(db, &f, None, page).await?.items;
            rows.into_iter()
                .map(|r| LinkCandidate {
                    id: r.id,
                    label: format!("{}（{}）", r.name, r.code),
                    detail: format!("{} {} — {}", r.organisation, r.term_start, r.term_end),
                })
                .collect()
        }
        _ => {
            return Err(ApiError::invalid(
                "kind",
                "invalid_choice",
                "取值无效，可选：person、supervisor",
                "Not a valid choice; one of: person, supervisor",
            ));
        }
    };
    // A look into the roster (names, employee numbers, departments) by an IT admin: on record.
    let detail = json!({ "kind": p.kind, "q": p.q.trim(), "found": out.len() });
    s.store.audit(&auth.user.audit(&s, "user.link_search", "account_links", "", detail)).await?;
    Ok(Json(out))
}
