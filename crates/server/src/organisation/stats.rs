//! Numbers for home pages, counted within the caller's scope.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{org::Status, rbac::Permission};
use xiaoneng_store::{PageReq, org};

use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::ErrorBody,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(organisation))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgStats {
    /// Active departments by category code.
    pub departments_by_category: BTreeMap<String, i64>,
    pub departments: i64,
    pub windows: u64,
    pub posts: u64,
    /// Active people; absent when the caller may not read people.
    pub people: Option<u64>,
    /// Supervisors whose term covers today; absent when the caller may not read supervisors.
    pub supervisors_in_term: Option<u64>,
}

#[utoipa::path(operation_id = "stats_organisation", get, path = "/api/v1/stats/organisation", tag = "organisation",
    responses((status = 200, body = OrgStats), (status = 403, body = ErrorBody)))]
async fn organisation(State(s): State<AppState>, auth: Authorized<perm::OrgRead>) -> ApiResult<Json<OrgStats>> {
    let db = s.store.db();
    let by_cat: BTreeMap<String, i64> = org::department_counts(db, &auth.scope).await?.into_iter().collect();
    let one = PageReq { page: 1, page_size: 1 };
    let active = org::UnitFilter { status: Some(Status::Active.code().into()), ..Default::default() };
    let windows = org::list_windows(db, &auth.scope, &active, one).await?.total;
    let posts = org::list_posts(db, &auth.scope, &active, one).await?.total;
    let people = match auth.user.scope(Permission::PeopleRead) {
        Some(scope) => Some(org::count_people(db, &scope).await?),
        None => None,
    };
    let supervisors_in_term = match auth.user.scope(Permission::SupervisorRead) {
        Some(_) => Some(org::list_supervisors(db, &Default::default(), Some(s.clock.today()), one).await?.total),
        None => None,
    };
    Ok(Json(OrgStats {
        departments: by_cat.values().sum(),
        departments_by_category: by_cat,
        windows,
        posts,
        people,
        supervisors_in_term,
    }))
}
