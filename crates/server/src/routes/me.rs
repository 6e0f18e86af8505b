//! `GET /api/v1/me`: the caller, their roles, permission codes and data scope.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::rbac::{DataScope, Grants};
use xiaoneng_store::{accounts, entity::user, org};

use crate::{ApiResult, AppState, auth::CurrentUser, error::ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInfo {
    pub code: String,
    /// The role's Chinese name.
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub person_id: Option<i64>,
    pub roles: Vec<RoleInfo>,
    /// Permission codes such as `people:read`. The UI shows only what these allow.
    pub permissions: Vec<String>,
    /// Per permission: `all`, `department_tree`, `department` or `self`.
    pub scopes: BTreeMap<String, DataScope>,
    /// The widest scope the user has for anything.
    pub data_scope: Option<DataScope>,
    /// True until the user sets a password of their own (first login, or expired).
    pub must_change_password: bool,
}

/// Builds `Me` for a user from the database.
pub async fn me_of(s: &AppState, u: &user::Model) -> ApiResult<Me> {
    let db = s.store.db();
    let roles = accounts::roles_of(db, u.id).await?;
    let grants = Grants::of(&roles);
    let policy = s.policy().await?;
    let department_name = match u.department_id {
        Some(d) => org::get_department(db, &org::Scope::All, d).await.ok().map(|d| d.name),
        None => None,
    };
    Ok(Me {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        department_id: u.department_id,
        department_name,
        person_id: u.person_id,
        roles: roles.iter().map(|r| RoleInfo { code: r.code().into(), label: r.label_zh().into() }).collect(),
        permissions: grants.permissions().map(|(p, _)| p.code().to_owned()).collect(),
        scopes: grants.permissions().map(|(p, sc)| (p.code().to_owned(), sc)).collect(),
        data_scope: grants.widest(),
        must_change_password: u.must_change_password || policy.password_expired(u.password_changed_at, s.clock.now()),
    })
}

#[utoipa::path(operation_id = "me_me", get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(s): State<AppState>, user: CurrentUser) -> ApiResult<Json<Me>> {
    let u = accounts::get_user(s.store.db(), user.id).await?;
    Ok(Json(me_of(&s, &u).await?))
}
