//! `GET /api/v1/me`: the caller, their roles, permission codes and data scope.

use std::collections::BTreeMap;

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::rbac::DataScope;

use crate::{
    AppState,
    auth::{CurrentUser, SessionUser},
    error::ErrorBody,
};

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
    /// The account has a confirmed second factor (an authenticator app).
    pub second_factor_enabled: bool,
    /// True while the user must set up two-step verification before anything else (the policy
    /// requires it of their roles, or the security admin reset theirs): every route but `/me`,
    /// logout, the password change and the caller's own `/auth/second-factor…` routes answers 403
    /// `second_factor_required` meanwhile.
    pub must_enrol_second_factor: bool,
}

/// `Me` for the caller, from what the request's one identity query loaded.
pub fn me_of(u: &CurrentUser) -> Me {
    Me {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        department_id: u.department_id,
        department_name: u.department_name.clone(),
        person_id: u.person_id,
        roles: u.roles.iter().map(|r| RoleInfo { code: r.code().into(), label: r.label_zh().into() }).collect(),
        permissions: u.grants.permissions().map(|(p, _)| p.code().to_owned()).collect(),
        scopes: u.grants.permissions().map(|(p, sc)| (p.code().to_owned(), sc)).collect(),
        data_scope: u.grants.widest(),
        must_change_password: u.must_change_password,
        second_factor_enabled: u.second_factor_active,
        must_enrol_second_factor: u.must_enrol_second_factor,
    }
}

/// The caller, even while they must change their password (`must_change_password` tells the web
/// app to send them to the password page; every other route refuses them meanwhile).
#[utoipa::path(operation_id = "me_me", get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(SessionUser(user): SessionUser) -> Json<Me> {
    Json(me_of(&user))
}
