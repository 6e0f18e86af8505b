//! Posts (岗位) with their written duties (岗位责任制) and a post type for tiered assessment.

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
use xiaoneng_core::org::{PostType, Status, parse_code, parse_name, parse_text};
use xiaoneng_store::{
    audit,
    entity::post,
    org::{self, PostInput, UnitFilter},
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
pub struct Post {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub department_name: String,
    /// `leadership`, `middle_manager`, `window_staff`, `law_enforcement_officer` or `general_staff`.
    pub post_type: PostType,
    /// The written duties of the post (岗位职责).
    pub duties: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

async fn one(s: &AppState, r: post::Model) -> ApiResult<Post> {
    let names = crate::api::department_names(s, [r.department_id]).await?;
    Ok(dto(r, &names))
}

fn dto(w: post::Model, names: &HashMap<i64, String>) -> Post {
    Post {
        department_name: names.get(&w.department_id).cloned().unwrap_or_default(),
        id: w.id,
        code: w.code,
        name: w.name,
        department_id: w.department_id,
        post_type: w.post_type,
        duties: w.duties,
        status: w.status,
        created_at: w.created_at,
        updated_at: w.updated_at,
        retired_at: w.retired_at,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostBody {
    pub code: String,
    pub name: String,
    pub department_id: i64,
    /// `leadership`, `middle_manager`, `window_staff`, `law_enforcement_officer` or `general_staff`.
    pub post_type: String,
    #[serde(default)]
    pub duties: String,
}

impl PostBody {
    fn parse(&self) -> ApiResult<PostInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 100));
        let post_type = v.choice::<PostType>("post_type", &self.post_type);
        let duties = v.take(parse_text("duties", &self.duties, 4000));
        v.done()?;
        Ok(PostInput {
            code,
            name,
            department_id: self.department_id,
            post_type: crate::error::checked(post_type)?,
            duties,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches name, code or duties.
    pub q: Option<String>,
    /// This department and its sub-departments (only this one with `exact_department=true`).
    pub department_id: Option<i64>,
    pub exact_department: Option<bool>,
    pub post_type: Option<String>,
    pub status: Option<String>,
    /// `code`, `name`, `post_type`; `-` in front for descending.
    pub sort: Option<String>,
}

#[utoipa::path(operation_id = "posts_list", get, path = "/api/v1/posts", tag = "organisation", params(ListParams),
    responses((status = 200, body = Page<Post>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Post>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = UnitFilter {
        q: p.q,
        department_id: p.department_id,
        exact_department: p.exact_department.unwrap_or(false),
        status: p.status,
        kind: p.post_type,
        sort: p.sort,
    };
    let rows = org::list_posts(s.store.db(), &auth.scope, &f, page).await?;
    let names = crate::api::department_names(&s, rows.items.iter().map(|r| r.department_id)).await?;
    Ok(Json(Page::from(rows, |r| dto(r, &names))))
}

#[utoipa::path(operation_id = "posts_get_one", get, path = "/api/v1/posts/{id}", tag = "organisation",
    responses((status = 200, body = Post), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Post>> {
    let r = org::get_post(s.store.db(), &auth.scope, id).await?;
    Ok(Json(one(&s, r).await?))
}

#[utoipa::path(operation_id = "posts_create", post, path = "/api/v1/posts", tag = "organisation", request_body = PostBody,
    responses((status = 201, body = Post), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    ApiJson(b): ApiJson<PostBody>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (_, w) = org::save_post(&tx, None, input, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "post.create", "post", w.id, json!({ "after": p_json(&w) })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(one(&s, w).await?)))
}

#[utoipa::path(operation_id = "posts_update", put, path = "/api/v1/posts/{id}", tag = "organisation", request_body = PostBody,
    responses((status = 200, body = Post), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PostBody>,
) -> ApiResult<Json<Post>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    org::get_post(&tx, &auth.scope, id).await?;
    let (before, w) = org::save_post(&tx, Some(id), input, s.clock.now()).await?;
    let before = before.as_ref().map(p_json);
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "post.update", "post", id, json!({ "before": before, "after": p_json(&w) })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&s, w).await?))
}

#[utoipa::path(operation_id = "posts_retire", post, path = "/api/v1/posts/{id}/retire", tag = "organisation", request_body = RetireRequest,
    responses((status = 200, body = Post), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire(
    State(s): State<AppState>,
    auth: Authorized<perm::OrgWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Post>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    org::get_post(&tx, &auth.scope, id).await?;
    let w = org::retire_post(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "post.retire", "post", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&s, w).await?))
}

fn p_json(w: &post::Model) -> serde_json::Value {
    json!({ "code": w.code, "name": w.name, "department_id": w.department_id, "post_type": w.post_type, "duties": w.duties })
}
