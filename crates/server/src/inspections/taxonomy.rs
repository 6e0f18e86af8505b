//! The office's taxonomy of findings (问题类别), seeded from the speech.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    inspection::Severity,
    org::{Status, parse_code, parse_name, parse_text},
};
use xiaoneng_store::{
    audit,
    entity::finding_category,
    inspections::{self, CategoryInput},
};

use crate::{
    ApiResult, AppState,
    api::{Checks, RetireRequest},
    auth::{Authorized, CurrentUser, perm},
    error::ErrorBody,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(retire_category))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The severity a new finding of this category starts with.
    pub default_severity: Severity,
    pub sort_order: i32,
    pub status: Status,
}

impl From<finding_category::Model> for Category {
    fn from(c: finding_category::Model) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
            name_en: c.name_en,
            default_severity: c.default_severity,
            sort_order: c.sort_order,
            status: c.status,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryBody {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub default_severity: Severity,
    #[serde(default)]
    pub sort_order: i32,
}

impl CategoryBody {
    fn parse(&self) -> ApiResult<CategoryInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 100));
        let name_en = v.take(parse_text("name_en", &self.name_en, 200));
        v.done()?;
        Ok(CategoryInput { code, name, name_en, default_severity: self.default_severity, sort_order: self.sort_order })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryParams {
    /// Include retired categories (to show old findings' names).
    pub include_retired: Option<bool>,
}

/// The taxonomy, in the office's order.
#[utoipa::path(get, operation_id = "findings_list_categories", path = "/api/v1/finding-categories", tag = "inspections",
    params(CategoryParams), responses((status = 200, body = Vec<Category>)))]
async fn list_categories(
    State(s): State<AppState>,
    _user: CurrentUser,
    ApiQuery(p): ApiQuery<CategoryParams>,
) -> ApiResult<Json<Vec<Category>>> {
    let rows = inspections::list_categories(s.store.db(), p.include_retired.unwrap_or(false)).await?;
    Ok(Json(rows.into_iter().map(Category::from).collect()))
}

#[utoipa::path(post, operation_id = "findings_create_category", path = "/api/v1/finding-categories", tag = "inspections",
    request_body = CategoryBody, responses((status = 201, body = Category), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_category(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (_, c) = inspections::save_category(&tx, None, input, s.clock.now()).await?;
    let d = json!({ "code": c.code, "name": c.name, "default_severity": c.default_severity });
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "finding_category.create", "finding_category", c.id, d),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[utoipa::path(put, operation_id = "findings_update_category", path = "/api/v1/finding-categories/{id}", tag = "inspections",
    request_body = CategoryBody, responses((status = 200, body = Category), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_category(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<Json<Category>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (before, c) = inspections::save_category(&tx, Some(id), input, s.clock.now()).await?;
    let d = json!({ "before": before.map(|b| json!({"code": b.code, "name": b.name, "default_severity": b.default_severity})),
                    "after": {"code": c.code, "name": c.name, "default_severity": c.default_severity} });
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "finding_category.update", "finding_category", id, d),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(c.into()))
}

#[utoipa::path(post, operation_id = "findings_retire_category", path = "/api/v1/finding-categories/{id}/retire", tag = "inspections",
    request_body = RetireRequest, responses((status = 200, body = Category), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire_category(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Category>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    let c = inspections::retire_category(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "finding_category.retire", "finding_category", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(c.into()))
}
