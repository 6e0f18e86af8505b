//! Findings (问题) of covert inspections, and the office's taxonomy of them. A team member records
//! a draft; the office confirms and notifies; the department sees it from notification on.

use std::collections::{HashMap, HashSet};

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{StatusCode, request::Parts},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    calendar::WorkCalendar,
    clock::city_day,
    inspection::{Actor, FindingAction, FindingState, InspectionPolicy, Severity},
    org::{parse_code, parse_name, parse_text},
    rbac::Permission,
};
use xiaoneng_store::{
    audit,
    entity::{finding, finding_category, finding_event},
    inspections::{self, CategoryInput, FindingFilter, FindingInput, FindingVisibility},
    org, settings,
};

use super::{Checks, Page, RetireRequest, page_req, parse_codes, parse_enum};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, audit_denial, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(retire_category))
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(step))
        .routes(routes!(get_policy, put_policy))
}

/// The office's rules for findings (the appeal period).
#[utoipa::path(get, operation_id = "findings_get_policy", path = "/api/v1/settings/inspection-policy", tag = "inspections",
    responses((status = 200, body = InspectionPolicy)))]
async fn get_policy(State(s): State<AppState>, _viewer: FindingViewer) -> ApiResult<Json<InspectionPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::INSPECTION_POLICY).await?))
}

#[utoipa::path(put, operation_id = "findings_put_policy", path = "/api/v1/settings/inspection-policy", tag = "inspections",
    request_body = InspectionPolicy, responses((status = 200, body = InspectionPolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    ApiJson(p): ApiJson<InspectionPolicy>,
) -> ApiResult<Json<InspectionPolicy>> {
    p.validate()?;
    super::save_setting(&s, &auth.user, settings::INSPECTION_POLICY, &p).await?;
    Ok(Json(p))
}

// ------------------------------------------------------------------ taxonomy

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// `minor`, `general` or `serious`: the severity a new finding of this category starts with.
    pub default_severity: String,
    pub sort_order: i32,
    pub status: String,
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
    pub default_severity: String,
    #[serde(default)]
    pub sort_order: i32,
}

impl CategoryBody {
    fn parse(&self) -> ApiResult<CategoryInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 100));
        let name_en = v.take(parse_text("name_en", &self.name_en, 200));
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.code()).collect();
        let default_severity = v.take(
            parse_enum("default_severity", &self.default_severity, Severity::from_code, &severities)
                .map(|s| s.code().to_owned()),
        );
        v.done()?;
        Ok(CategoryInput { code, name, name_en, default_severity, sort_order: self.sort_order })
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

// ------------------------------------------------------------------ findings

/// Someone who may see findings, and which: the office all of them, a team member those of their
/// plans, a department (or a person) those about it once notified.
pub struct FindingViewer {
    pub user: CurrentUser,
    pub vis: FindingVisibility,
}

impl FromRequestParts<AppState> for FindingViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        let viewer = FindingViewer::of(user);
        if !viewer.vis.all && viewer.vis.member.is_none() && viewer.vis.subject.is_none() {
            audit_denial(state, parts, &viewer.user, Permission::FindingRead).await;
            return Err(ApiError::Forbidden);
        }
        Ok(viewer)
    }
}

/// Which findings a viewer sees from the inside — as the office or the plan's team, who may know
/// which plan, visit and inspector a finding came from — rather than only as its subject.
pub(crate) enum Inside {
    All,
    Plans(HashSet<i64>),
}

impl Inside {
    pub(crate) fn covers(&self, f: &finding::Model) -> bool {
        match self {
            Inside::All => true,
            Inside::Plans(plans) => f.plan_id.is_some_and(|p| plans.contains(&p)),
        }
    }
}

impl FindingViewer {
    /// What the user's grants let them see of findings.
    fn of(user: CurrentUser) -> Self {
        let vis = FindingVisibility {
            all: user.grants.has(Permission::InspectionManage),
            member: user.grants.has(Permission::InspectionRecord).then_some(user.id),
            subject: user.scope(Permission::FindingRead),
        };
        Self { user, vis }
    }

    /// Loaded once per request, whatever the number of findings it shows.
    pub(crate) async fn inside(&self, s: &AppState) -> ApiResult<Inside> {
        Ok(match (self.vis.all, self.vis.member) {
            (true, _) => Inside::All,
            (false, Some(u)) => Inside::Plans(inspections::member_plan_ids(s.store.db(), u).await?),
            (false, None) => Inside::Plans(HashSet::new()),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Finding {
    pub id: i64,
    /// The plan, visit and recorder are shown only to the office and the plan's team: the
    /// department learns what was found, not who found it.
    pub plan_id: Option<i64>,
    pub visit_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub department_id: i64,
    pub department_name: String,
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub post_id: Option<i64>,
    pub category_id: i64,
    pub category_name: String,
    /// `minor`, `general` or `serious`.
    pub severity: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    /// `draft`, `withdrawn`, `confirmed`, `notified`, `appealed`, `upheld` or `overturned`.
    pub state: String,
    /// Whether it counts against the department (an overturned finding stays on record but
    /// counts nowhere).
    pub counts: bool,
    pub created_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    /// The last day (city time) an appeal may be made, once notified.
    pub appeal_deadline: Option<chrono::NaiveDate>,
}

struct Names {
    departments: HashMap<i64, String>,
    windows: HashMap<i64, String>,
    people: HashMap<i64, String>,
    categories: HashMap<i64, String>,
    policy: InspectionPolicy,
    calendar: WorkCalendar,
}

impl Names {
    async fn of(s: &AppState, rows: &[finding::Model]) -> ApiResult<Self> {
        let db = s.store.db();
        Ok(Names {
            policy: settings::get(db, settings::INSPECTION_POLICY).await?,
            calendar: xiaoneng_store::calendar::work_calendar(db).await?,
            departments: org::department_names(db, rows.iter().map(|f| f.department_id)).await?,
            windows: org::window_names(db, rows.iter().filter_map(|f| f.window_id)).await?,
            people: org::person_names(db, rows.iter().filter_map(|f| f.person_id)).await?,
            categories: inspections::list_categories(db, true).await?.into_iter().map(|c| (c.id, c.name)).collect(),
        })
    }

    fn dto(&self, f: finding::Model, inside: bool) -> Finding {
        let state = FindingState::from_code(&f.state);
        Finding {
            id: f.id,
            plan_id: f.plan_id.filter(|_| inside),
            visit_id: f.visit_id.filter(|_| inside),
            recorded_by: Some(f.recorded_by).filter(|_| inside),
            department_name: self.departments.get(&f.department_id).cloned().unwrap_or_default(),
            department_id: f.department_id,
            window_name: f.window_id.and_then(|w| self.windows.get(&w).cloned()),
            window_id: f.window_id,
            person_name: f.person_id.and_then(|p| self.people.get(&p).cloned()),
            person_id: f.person_id,
            post_id: f.post_id,
            category_name: self.categories.get(&f.category_id).cloned().unwrap_or_default(),
            category_id: f.category_id,
            severity: f.severity,
            occurred_at: f.occurred_at,
            description: f.description,
            counts: state.is_some_and(FindingState::counts),
            state: f.state,
            created_at: f.created_at,
            appeal_deadline: f.notified_at.map(|t| self.policy.appeal_deadline(&self.calendar, city_day(t))),
            notified_at: f.notified_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Part of the description.
    pub q: Option<String>,
    /// One state, or several separated by commas (`confirmed,notified`).
    pub state: Option<String>,
    /// This department and its sub-departments (only this one with `exact_department=true`).
    pub department_id: Option<i64>,
    pub exact_department: Option<bool>,
    pub category_id: Option<i64>,
    pub severity: Option<String>,
    pub plan_id: Option<i64>,
    /// Occurred from this time (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `occurred_at`, `created_at`, `severity`, `state` or `department_id`; `-` in front for
    /// descending. Default `-occurred_at` (newest first).
    pub sort: Option<String>,
}

/// The findings the caller may see, newest first.
#[utoipa::path(get, operation_id = "findings_list", path = "/api/v1/findings", tag = "inspections", params(ListParams),
    responses((status = 200, body = Page<Finding>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    viewer: FindingViewer,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Finding>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let codes: Vec<&str> = FindingState::ALL.iter().map(|s| s.code()).collect();
    let states = parse_codes("state", p.state.as_deref(), FindingState::from_code, &codes, &mut v);
    let sorts: Vec<&str> = inspections::FINDING_SORTS.iter().map(|(k, _)| *k).collect();
    if let Some(sort) = p.sort.as_deref()
        && let Err(e) = parse_enum("sort", sort.trim_start_matches('-'), |k| sorts.contains(&k).then_some(()), &sorts)
    {
        v.push(e);
    }
    v.done()?;
    let f = FindingFilter {
        q: p.q,
        states,
        sort: p.sort,
        department_id: p.department_id,
        exact_department: p.exact_department.unwrap_or(false),
        category_id: p.category_id,
        severity: p.severity,
        plan_id: p.plan_id,
        from: p.from,
        to: p.to,
    };
    let rows = inspections::list_findings(s.store.db(), &viewer.vis, &f, page).await?;
    let names = Names::of(&s, &rows.items).await?;
    let inside = viewer.inside(&s).await?;
    Ok(Json(Page::from(rows, |r| {
        let i = inside.covers(&r);
        names.dto(r, i)
    })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    /// `record`, `confirm`, `withdraw`, `notify`, `appeal`, `uphold`, `overturn`.
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    /// 0 when the viewer may not know who acted (a department sees the office's steps unnamed).
    pub actor_user_id: i64,
    pub actor_name: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl From<finding_event::Model> for Step {
    fn from(e: finding_event::Model) -> Self {
        Self {
            action: e.action,
            from_state: e.from_state,
            to_state: e.to_state,
            actor_user_id: e.actor_user_id,
            actor_name: None,
            reason: e.reason,
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDetail {
    #[serde(flatten)]
    pub finding: Finding,
    /// Who did what, when and why; the office and the team see every step, the department the
    /// steps from notification on.
    pub history: Vec<Step>,
    /// Its files: the inspection's evidence and any offered with an appeal.
    pub evidence: Vec<super::evidence::Evidence>,
    /// What files the caller may add now: `evidence` and/or `appeal`.
    pub can_attach: Vec<String>,
}

async fn detail(s: &AppState, viewer: &FindingViewer, f: finding::Model) -> ApiResult<FindingDetail> {
    let inside = viewer.inside(s).await?.covers(&f);
    let events: Vec<_> = inspections::finding_history(s.store.db(), f.id)
        .await?
        .into_iter()
        .filter(|e| inside || FindingState::from_code(&e.to_state).is_some_and(FindingState::visible_to_subject))
        .collect();
    // Who acted is the office's and the team's to know, not the department's.
    let actors = if inside {
        xiaoneng_store::accounts::display_names(s.store.db(), events.iter().map(|e| e.actor_user_id)).await?
    } else {
        HashMap::new()
    };
    let history = events
        .into_iter()
        .map(|e| {
            let actor_name = actors.get(&e.actor_user_id).cloned();
            let actor_user_id = if inside { e.actor_user_id } else { 0 };
            Step { actor_user_id, actor_name, ..e.into() }
        })
        .collect();
    let names = Names::of(s, std::slice::from_ref(&f)).await?;
    let evidence = super::evidence::listing(s, f.id, inside).await?;
    let db = s.store.db();
    let can_attach =
        super::evidence::attachable(s, db, viewer, &f, inside).await?.into_iter().map(String::from).collect();
    Ok(FindingDetail { finding: names.dto(f, inside), history, evidence, can_attach })
}

#[utoipa::path(get, operation_id = "findings_get_one", path = "/api/v1/findings/{id}", tag = "inspections",
    responses((status = 200, body = FindingDetail), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(id): Path<i64>,
) -> ApiResult<Json<FindingDetail>> {
    let f = inspections::get_finding(s.store.db(), &viewer.vis, id).await?;
    Ok(Json(detail(&s, &viewer, f).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FindingBody {
    /// The visit this was found on; the recorder must be on its plan's team.
    pub visit_id: i64,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
    pub category_id: i64,
    /// Defaults to the category's severity.
    pub severity: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
}

/// Records a draft finding on a visit of a plan the caller is on the team of.
#[utoipa::path(post, operation_id = "findings_create", path = "/api/v1/findings", tag = "inspections", request_body = FindingBody,
    responses((status = 201, body = FindingDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionRecord>,
    ApiJson(b): ApiJson<FindingBody>,
) -> ApiResult<(StatusCode, Json<FindingDetail>)> {
    let viewer = FindingViewer::of(auth.user);
    let user = &viewer.user;
    let mut v = Checks::default();
    let description = v.take(parse_name("description", &b.description, 4000));
    let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.code()).collect();
    let severity = b
        .severity
        .as_deref()
        .map(|sv| v.take(parse_enum("severity", sv, Severity::from_code, &severities).map(|s| s.code().to_owned())));
    let now = s.clock.now();
    if b.occurred_at > now {
        v.push(xiaoneng_core::ValidationError::new(
            "occurred_at",
            "in_the_future",
            "发生时间不能晚于现在",
            "It cannot have happened in the future",
        ));
    }
    v.done()?;
    let tx = s.store.write().await?;
    // An external supervisor records only within their term of appointment.
    if let Some(sid) = xiaoneng_store::accounts::get_user(&tx, user.id).await?.supervisor_id {
        let today = city_day(now);
        let sup = org::get_supervisor(&tx, sid).await.ok().filter(|s| s.status == "active");
        if !sup.is_some_and(|s| s.term_start <= today && today <= s.term_end) {
            return Err(ApiError::invalid(
                "visit_id",
                "supervisor_out_of_term",
                "您的监督员任期已结束或尚未开始，不能记录问题",
                "Your term as a supervisor has ended or not begun: you cannot record findings",
            ));
        }
    }
    // A visit of a plan the caller cannot see does not exist for them.
    let visit = inspections::get_visit(&tx, b.visit_id).await?;
    let member_of = (!viewer.vis.all).then_some(user.id);
    let plan = inspections::get_plan(&tx, member_of, visit.plan_id).await?;
    if plan.status == "closed" {
        return Err(ApiError::invalid("visit_id", "plan_closed", "该暗访计划已结束", "This inspection plan is closed"));
    }
    let day = city_day(b.occurred_at);
    if day < plan.period_start || day > plan.period_end {
        return Err(ApiError::invalid(
            "occurred_at",
            "outside_period",
            "发生时间须在暗访计划期间内",
            "It must have happened within the plan's period",
        ));
    }
    let input = FindingInput {
        visit,
        department_id: b.department_id,
        window_id: b.window_id,
        person_id: b.person_id,
        post_id: b.post_id,
        category_id: b.category_id,
        severity,
        occurred_at: xiaoneng_core::clock::truncate_micros(b.occurred_at),
        description,
    };
    let visit_done = (input.visit.status == "scheduled").then(|| input.visit.clone());
    let f = inspections::create_finding(&tx, input, user.id, now).await?;
    if let Some(v) = visit_done {
        let notes = v.notes.clone();
        inspections::update_visit(&tx, v, "done", notes, now).await?;
    }
    let d = json!({ "plan_id": f.plan_id, "visit_id": f.visit_id, "department_id": f.department_id, "category_id": f.category_id, "severity": f.severity });
    audit::append(&tx, s.store.audit_algo(), &user.audit(&s, "finding.record", "finding", f.id, d)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail(&s, &viewer, f).await?)))
}

/// Whether the user is the finding's subject: the head of its department (or above), or the
/// person it names — the ones who may appeal it.
pub(crate) async fn is_subject<C: sea_orm::ConnectionTrait>(tx: &C, user: &CurrentUser, id: i64) -> ApiResult<bool> {
    let Some(scope) = user.scope(Permission::FindingAppeal) else { return Ok(false) };
    let vis = FindingVisibility { all: false, member: None, subject: Some(scope) };
    match inspections::get_finding(tx, &vis, id).await {
        Ok(_) => Ok(true),
        Err(xiaoneng_store::StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The last day a notified finding may be appealed: `Ok` while that day has not passed,
/// `Err` once it has.
pub(crate) async fn appeal_open<C: sea_orm::ConnectionTrait>(
    s: &AppState,
    c: &C,
    f: &finding::Model,
) -> ApiResult<Result<chrono::NaiveDate, chrono::NaiveDate>> {
    let notified = city_day(f.notified_at.unwrap_or(f.updated_at));
    let policy: InspectionPolicy = settings::get(c, settings::INSPECTION_POLICY).await?;
    let deadline = policy.appeal_deadline(&xiaoneng_store::calendar::work_calendar(c).await?, notified);
    Ok(if city_day(s.clock.now()) > deadline { Err(deadline) } else { Ok(deadline) })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepBody {
    /// `confirm`, `notify`, `uphold` or `overturn` (the office); `withdraw` (the office or the team,
    /// for a draft); `appeal` (the department's head or the person named, within the deadline).
    pub action: String,
    /// Why: required to withdraw, uphold or overturn.
    #[serde(default)]
    pub reason: String,
}

/// Takes a finding one step through its life, as the state machine allows the caller.
#[utoipa::path(post, operation_id = "findings_step", path = "/api/v1/findings/{id}/steps", tag = "inspections", request_body = StepBody,
    responses((status = 200, body = FindingDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> ApiResult<Json<FindingDetail>> {
    let actions: Vec<&str> = FindingAction::ALL.iter().map(|a| a.code()).collect();
    let action = parse_enum("action", &b.action, FindingAction::from_code, &actions)?;
    let reason = parse_text("reason", &b.reason, 2000)?;
    if FindingState::needs_reason(action) && reason.is_empty() {
        return Err(ApiError::invalid("reason", "required", "请说明理由", "Give a reason"));
    }
    let tx = s.store.write().await?;
    let f = inspections::get_finding(&tx, &viewer.vis, id).await?;
    let actor = if viewer.vis.all {
        Actor::Office
    } else if viewer.inside(&s).await?.covers(&f) {
        Actor::Recorder
    } else if action == FindingAction::Appeal && is_subject(&tx, &viewer.user, id).await? {
        Actor::Subject
    } else {
        return Err(ApiError::Forbidden);
    };
    if action == FindingAction::Appeal
        && f.notified_at.is_some()
        && let Err(deadline) = appeal_open(&s, &tx, &f).await?
    {
        return Err(ApiError::invalid(
            "action",
            "appeal_deadline_passed",
            format!("申诉期限已过（截止 {deadline}）"),
            format!("The time to appeal has passed (it ended on {deadline})"),
        ));
    }
    let state = FindingState::from_code(&f.state)
        .ok_or_else(|| ApiError::Internal(format!("finding {id} has state {:?}", f.state)))?;
    let to = state.after(action, actor).map_err(|e| match e.code {
        "not_your_step" => ApiError::Forbidden,
        _ => ApiError::Validation(vec![e]),
    })?;
    let from = f.state.clone();
    let f = inspections::record_step(&tx, f, action, to, viewer.user.id, reason.clone(), s.clock.now()).await?;
    let d = json!({ "action": action.code(), "from": from, "to": to.code(), "reason": reason });
    audit::append(
        &tx,
        s.store.audit_algo(),
        &viewer.user.audit(&s, &format!("finding.{}", action.code()), "finding", id, d),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &viewer, f).await?))
}
