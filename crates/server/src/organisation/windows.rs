//! Service windows (窗口): counters in a service hall, each belonging to a department.

use std::collections::HashMap;

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
use xiaoneng_core::org::{Status, parse_code, parse_name};
use xiaoneng_store::{
    audit,
    entity::window,
    org::{self, UnitFilter, WindowInput},
};

use crate::api::{Checks, Page, RetireRequest, page_req};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::ErrorBody,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get_one, update)).routes(routes!(retire))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Window {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub department_name: String,
    /// The service hall, such as 市政务服务中心.
    pub hall: String,
    /// The number shown above the counter.
    pub number: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

async fn one(s: &AppState, r: window::Model) -> ApiResult<Window> {
    let names = crate::api::department_names(s, [r.department_id]).await?;
    Ok(dto(r, &names))
}

fn dto(w: window::Model, names: &HashMap<i64, String>) -> Window {
    Window {
        department_name: names.get(&w.department_id).cloned().unwrap_or_default(),
        id: w.id,
        code: w.code,
        name: w.name,
        department_id: w.department_id,
        hall: w.hall,
        number: w.number,
        status: w.status,
        created_at: w.created_at,
        updated_at: w.updated_at,
        retired_at: w.retired_at,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WindowBody {
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub hall: String,
    pub number: String,
}

impl WindowBody {
    fn parse(&self) -> ApiResult<WindowInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 100));
        let hall = v.take(parse_name("hall", &self.hall, 100));
        let number = v.take(parse_name("number", &self.number, 16));
        v.done()?;
        Ok(WindowInput { code, name, department_id: self.department_id, hall, number })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches name, code or number.
    pub q: Option<String>,
    /// This department and its sub-departments (only this one with `exact_department=true`).
    pub department_id: Option<i64>,
    pub exact_department: Option<bool>,
    pub status: Option<String>,
    /// `code`, `name`, `number`, `hall`; `-` in front for descending.
    pub sort: Option<String>,
}

#[utoipa::path(operation_id = "windows_list", get, path = "/api/v1/windows", tag = "organisation", params(ListParams),
    responses((status = 200, body = Page<Window>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Window>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = UnitFilter {
        q: p.q,
        department_id: p.department_id,
        exact_department: p.exact_department.unwrap_or(false),
        status: p.status,
        kind: None,
        sort: p.sort,
    };
    let rows = org::list_windows(s.store.db(), &auth.scope, &f, page).await?;
    let names = crate::api::department_names(&s, rows.items.iter().map(|r| r.department_id)).await?;
    Ok(Json(Page::from(rows, |r| dto(r, &names))))
}

#[utoipa::path(operation_id = "windows_get_one", get, path = "/api/v1/windows/{id}", tag = "organisation",
    responses((status = 200, body = Window), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Window>> {
    let r = org::get_window(s.store.db(), &auth.scope, id).await?;
    Ok(Json(one(&s, r).await?))
}

#[utoipa::path(operation_id = "windows_create", post, path = "/api/v1/windows", tag = "organisation", request_body = WindowBody,
    responses((status = 201, body = Window), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    ApiJson(b): ApiJson<WindowBody>,
) -> ApiResult<(StatusCode, Json<Window>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (_, w) = org::save_window(&tx, None, input, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "window.create", "window", w.id, json!({ "after": w_json(&w) })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(one(&s, w).await?)))
}

#[utoipa::path(operation_id = "windows_update", put, path = "/api/v1/windows/{id}", tag = "organisation", request_body = WindowBody,
    responses((status = 200, body = Window), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WindowBody>,
) -> ApiResult<Json<Window>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    org::get_window(&tx, &auth.scope, id).await?;
    let (before, w) = org::save_window(&tx, Some(id), input, s.clock.now()).await?;
    let before = before.as_ref().map(w_json);
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "window.update", "window", id, json!({ "before": before, "after": w_json(&w) })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&s, w).await?))
}

#[utoipa::path(operation_id = "windows_retire", post, path = "/api/v1/windows/{id}/retire", tag = "organisation", request_body = RetireRequest,
    responses((status = 200, body = Window), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Window>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    org::get_window(&tx, &auth.scope, id).await?;
    let w = org::retire_window(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "window.retire", "window", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&s, w).await?))
}

fn w_json(w: &window::Model) -> serde_json::Value {
    json!({ "code": w.code, "name": w.name, "department_id": w.department_id, "hall": w.hall, "number": w.number })
}
