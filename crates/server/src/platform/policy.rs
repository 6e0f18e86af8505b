//! The security policy: password rules, lockout, session lifetime, the roles that must use a
//! second factor. Read and set by the security admin.

use axum::{Json, extract::State};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::auth::SecurityPolicy;
use xiaoneng_store::settings;

use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::ErrorBody,
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_policy, put_policy))
}

#[utoipa::path(operation_id = "policy_get_policy", get, path = "/api/v1/settings/security-policy", tag = "accounts",
    responses((status = 200, body = SecurityPolicy), (status = 403, body = ErrorBody)))]
async fn get_policy(State(s): State<AppState>, _auth: Authorized<perm::PolicyRead>) -> ApiResult<Json<SecurityPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::SECURITY_POLICY).await?))
}

/// Replaces the policy. Takes effect at once on this instance, within seconds on the others.
#[utoipa::path(operation_id = "policy_put_policy", put, path = "/api/v1/settings/security-policy", tag = "accounts", request_body = SecurityPolicy,
    responses((status = 200, body = SecurityPolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::PolicyWrite>,
    ApiJson(p): ApiJson<SecurityPolicy>,
) -> ApiResult<Json<SecurityPolicy>> {
    p.validate()?;
    let p = p.normalized();
    crate::api::save_setting(&s, &auth.user, settings::SECURITY_POLICY, &p).await?;
    s.set_cached_policy(p.clone()).await;
    Ok(Json(p))
}
