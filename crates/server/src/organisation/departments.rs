//! Departments: a tree with a category and a focus flag. Moved by editing `parent_id`.

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
use xiaoneng_core::org::{DepartmentCategory, Status, parse_code, parse_name};
use xiaoneng_store::{
    audit,
    entity::department,
    org::{self, DepartmentFilter, DepartmentInput},
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
        .routes(routes!(tree))
        .routes(routes!(get_one, update))
        .routes(routes!(retire))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    /// Ids from the root, such as `/1/4/9/`.
    pub path: String,
    pub depth: i32,
    pub category: DepartmentCategory,
    /// A focus department (重点部门).
    pub is_focus: bool,
    pub sort_order: i32,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<department::Model> for Department {
    fn from(d: department::Model) -> Self {
        Self {
            id: d.id,
            code: d.code,
            name: d.name,
            parent_id: d.parent_id,
            path: d.path,
            depth: d.depth,
            category: d.category,
            is_focus: d.is_focus,
            sort_order: d.sort_order,
            status: d.status,
            created_at: d.created_at,
            updated_at: d.updated_at,
            retired_at: d.retired_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartmentBody {
    pub code: String,
    pub name: String,
    /// The parent department; none for a top-level one. Changing it moves the department.
    pub parent_id: Option<i64>,
    /// `law_enforcement`, `economic_service`, `window_service` or `general`.
    pub category: String,
    #[serde(default)]
    pub is_focus: bool,
    #[serde(default)]
    pub sort_order: i32,
}

impl DepartmentBody {
    fn parse(&self) -> ApiResult<DepartmentInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 100));
        let category = v.choice::<DepartmentCategory>("category", &self.category);
        v.done()?;
        Ok(DepartmentInput {
            code,
            name,
            parent_id: self.parent_id,
            category: crate::error::checked(category)?,
            is_focus: self.is_focus,
            sort_order: self.sort_order,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// From 1.
    pub page: Option<u64>,
    /// From 1 to 200; 20 by default.
    pub page_size: Option<u64>,
    /// Matches name or code.
    pub q: Option<String>,
    pub parent_id: Option<i64>,
    pub category: Option<String>,
    /// `active` or `retired`.
    pub status: Option<String>,
    pub is_focus: Option<bool>,
    /// `code`, `name`, `path`, `sort_order`, `created_at`; `-` in front for descending.
    pub sort: Option<String>,
}

/// Departments in the caller's scope.
#[utoipa::path(operation_id = "departments_list", get, path = "/api/v1/departments", tag = "organisation", params(ListParams),
    responses((status = 200, body = Page<Department>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Department>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = DepartmentFilter {
        q: p.q,
        parent_id: p.parent_id,
        category: p.category,
        status: p.status,
        is_focus: p.is_focus,
        sort: p.sort,
    };
    let rows = org::list_departments(s.store.db(), &auth.scope, &f, page).await?;
    Ok(Json(Page::from(rows, Department::from)))
}

/// Every department in scope, in tree order (parents before children).
#[utoipa::path(operation_id = "departments_tree", get, path = "/api/v1/departments/tree", tag = "organisation",
    responses((status = 200, body = Vec<Department>)))]
async fn tree(State(s): State<AppState>, auth: Authorized<perm::OrgRead>) -> ApiResult<Json<Vec<Department>>> {
    let rows = org::department_tree(s.store.db(), &auth.scope).await?;
    Ok(Json(rows.into_iter().map(Department::from).collect()))
}

#[utoipa::path(operation_id = "departments_get_one", get, path = "/api/v1/departments/{id}", tag = "organisation",
    responses((status = 200, body = Department), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Department>> {
    Ok(Json(org::get_department(s.store.db(), &auth.scope, id).await?.into()))
}

#[utoipa::path(operation_id = "departments_create", post, path = "/api/v1/departments", tag = "organisation", request_body = DepartmentBody,
    responses((status = 201, body = Department), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    ApiJson(b): ApiJson<DepartmentBody>,
) -> ApiResult<(StatusCode, Json<Department>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    check_parent(&tx, &auth.scope, input.parent_id).await?;
    let d = org::create_department(&tx, input, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "department.create", "department", d.id, json!({ "after": d_json(&d) })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

#[utoipa::path(operation_id = "departments_update", put, path = "/api/v1/departments/{id}", tag = "organisation", request_body = DepartmentBody,
    responses((status = 200, body = Department), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DepartmentBody>,
) -> ApiResult<Json<Department>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    org::get_department(&tx, &auth.scope, id).await?;
    check_parent(&tx, &auth.scope, input.parent_id).await?;
    let (before, after) = org::update_department(&tx, id, input, s.clock.now()).await?;
    let action = if before.parent_id != after.parent_id { "department.move" } else { "department.update" };
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, action, "department", id, json!({ "before": d_json(&before), "after": d_json(&after) })),
    )
    .await?;
    tx.commit().await?;
    s.identities.forget();
    Ok(Json(after.into()))
}

/// Retires a department (never deleted). Refused while it has active sub-departments, people,
/// windows or posts.
#[utoipa::path(operation_id = "departments_retire", post, path = "/api/v1/departments/{id}/retire", tag = "organisation", request_body = RetireRequest,
    responses((status = 200, body = Department), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Department>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    org::get_department(&tx, &auth.scope, id).await?;
    let d = org::retire_department(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "department.retire", "department", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(d.into()))
}

/// A parent outside the caller's scope is as good as absent.
async fn check_parent(tx: &sea_orm::DatabaseTransaction, scope: &org::Scope, parent_id: Option<i64>) -> ApiResult<()> {
    if let Some(pid) = parent_id {
        org::get_department(tx, scope, pid).await.map_err(|_| {
            ApiError::invalid("parent_id", "parent_not_found", "上级部门不存在", "The parent department does not exist")
        })?;
    }
    Ok(())
}

fn d_json(d: &department::Model) -> serde_json::Value {
    json!({ "code": d.code, "name": d.name, "parent_id": d.parent_id, "category": d.category, "is_focus": d.is_focus, "sort_order": d.sort_order })
}
