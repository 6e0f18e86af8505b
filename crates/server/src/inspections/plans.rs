//! Inspection plans (暗访计划): period, targets, team and visits. Secret: only the office and the
//! plan's own team see a plan; to anyone else it does not exist (404, never 403). A plan's and a
//! visit's steps are core's machines (`PlanState::decide`, `VisitFacts::decide`); the commands
//! here load, decide and apply them, for the handlers and the demo alike.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{StatusCode, request::Parts},
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    auth::AccountStatus,
    inspection::{PlanAction, PlanState, VisitAction, VisitActor, VisitState},
    org::{Status, parse_name, parse_text},
    rbac::{Permission, Role},
};
use xiaoneng_store::{
    accounts,
    entity::{plan, visit},
    inspections::{self, PlanFilter, PlanInput, VisitInput},
    ledger,
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req},
    auth::{Act, Authorized, CurrentUser, audit_denial, perm},
    error::{ApiError, ErrorBody, expect_state},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(add_visit))
        .routes(routes!(update_visit))
        .routes(routes!(team_candidates))
}

/// The accounts that may be put on a plan's team: active inspectors and office staff.
#[utoipa::path(get, operation_id = "plans_team_candidates", path = "/api/v1/inspectors", tag = "inspections",
    responses((status = 200, body = Vec<TeamMember>), (status = 403, body = ErrorBody)))]
async fn team_candidates(
    State(s): State<AppState>,
    _auth: Authorized<perm::InspectionManage>,
) -> ApiResult<Json<Vec<TeamMember>>> {
    let users = accounts::active_users_with_roles(s.store.db(), &[Role::Inspector, Role::OfficeAdmin]).await?;
    Ok(Json(users.into_iter().map(|u| TeamMember { user_id: u.id, display_name: u.display_name }).collect()))
}

/// A reader of plans: the office sees every plan, a team member the plans they are on. Anyone
/// else is told there is nothing here.
pub struct PlanReader {
    pub user: CurrentUser,
    /// `None`: every plan (the office); `Some(user)`: only that user's plans.
    pub member_of: Option<i64>,
}

impl FromRequestParts<AppState> for PlanReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        if !user.grants.has(Permission::InspectionRecord) {
            audit_denial(state, parts, &user, Permission::InspectionRecord).await;
            return Err(ApiError::NotFound);
        }
        Ok(Self { member_of: member_of(&user), user })
    }
}

/// `None` for the office (every plan), else the user (the plans they are on).
fn member_of(user: &CurrentUser) -> Option<i64> {
    (!user.grants.has(Permission::InspectionManage)).then_some(user.id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Plan {
    pub id: i64,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub notes: String,
    pub status: PlanState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do with the plan now.
    pub allowed_actions: Vec<PlanAction>,
}

impl Plan {
    /// The plan as `user` sees it.
    fn of(p: plan::Model, user: &CurrentUser) -> Self {
        Self {
            allowed_actions: p.status.allowed_actions(user.grants.has(Permission::InspectionManage)),
            id: p.id,
            title: p.title,
            period_start: p.period_start,
            period_end: p.period_end,
            notes: p.notes,
            status: p.status,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct Target {
    pub department_id: i64,
    /// A window of that department, or the whole department.
    pub window_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    pub user_id: i64,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Visit {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub window_id: Option<i64>,
    pub scheduled_on: NaiveDate,
    pub notes: String,
    pub status: VisitState,
    /// What the caller may do with it now.
    pub allowed_actions: Vec<VisitAction>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDetail {
    #[serde(flatten)]
    pub plan: Plan,
    pub targets: Vec<Target>,
    pub team: Vec<TeamMember>,
    pub visits: Vec<Visit>,
}

async fn detail(s: &AppState, user: &CurrentUser, p: plan::Model) -> ApiResult<PlanDetail> {
    let db = s.store.db();
    let targets = inspections::plan_targets(db, p.id).await?;
    let team = inspections::plan_team(db, p.id).await?;
    let visits = inspections::plan_visits(db, p.id).await?;
    let names = crate::api::department_names(s, visits.iter().map(|v| v.department_id)).await?;
    let members = accounts::display_names(db, team.iter().map(|m| m.user_id)).await?;
    let now = s.clock.now();
    Ok(PlanDetail {
        targets: targets
            .into_iter()
            .map(|t| Target { department_id: t.department_id, window_id: t.window_id })
            .collect(),
        team: team
            .iter()
            .map(|m| TeamMember {
                user_id: m.user_id,
                display_name: members.get(&m.user_id).cloned().unwrap_or_default(),
            })
            .collect(),
        visits: visits.into_iter().map(|v| visit_dto(&p, v, &names, user, now)).collect(),
        plan: Plan::of(p, user),
    })
}

fn visit_actor(user: &CurrentUser) -> VisitActor {
    // The plan was read through the caller's membership: whoever sees it is on its team.
    VisitActor { office: user.grants.has(Permission::InspectionManage), team: true }
}

fn visit_dto(
    p: &plan::Model,
    v: visit::Model,
    names: &HashMap<i64, String>,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Visit {
    let allowed_actions = inspections::visit_facts(&v, p).allowed_actions(visit_actor(user), now);
    Visit {
        id: v.id,
        department_name: names.get(&v.department_id).cloned().unwrap_or_default(),
        department_id: v.department_id,
        window_id: v.window_id,
        scheduled_on: v.scheduled_on,
        notes: v.notes,
        status: v.status,
        allowed_actions,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanBody {
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[serde(default)]
    pub notes: String,
    /// `planned` (default), `active` or `closed`: where the plan should be after this change.
    pub status: Option<PlanState>,
    /// The state the caller last saw (on an update): if the plan has moved on since, 409
    /// `state_changed`.
    pub expected_state: Option<PlanState>,
    pub targets: Vec<Target>,
    /// User ids of the team: office staff and inspectors (including external supervisors'
    /// accounts).
    pub team: Vec<i64>,
}

impl PlanBody {
    fn parse(&self) -> ApiResult<PlanInput> {
        let mut v = Checks::default();
        let title = v.take(parse_name("title", &self.title, 200));
        let notes = v.take(parse_text("notes", &self.notes, 4000));
        if self.period_end < self.period_start {
            v.push(ValidationError::new(
                "period_end",
                "ends_before_start",
                "结束日期早于开始日期",
                "The period ends before it starts",
            ));
        }
        if self.team.is_empty() {
            v.push(ValidationError::new(
                "team",
                "required",
                "暗访组至少需要一名成员",
                "The team needs at least one member",
            ));
        }
        v.done()?;
        Ok(PlanInput {
            title,
            period_start: self.period_start,
            period_end: self.period_end,
            notes,
            targets: self.targets.iter().map(|t| (t.department_id, t.window_id)).collect(),
        })
    }
}

/// Team members must be active accounts that may record findings; an external supervisor's
/// term must overlap the plan's period.
async fn check_team<C: ConnectionTrait>(c: &C, team: &[i64], start: NaiveDate, end: NaiveDate) -> ApiResult<()> {
    for id in team {
        let user = match accounts::get_user(c, *id).await {
            Ok(u) if u.status == AccountStatus::Active => u,
            _ => return Err(not_an_inspector(*id)),
        };
        let may_record =
            accounts::roles_of(c, *id).await?.iter().any(|r| matches!(r, Role::Inspector | Role::OfficeAdmin));
        if !may_record {
            return Err(not_an_inspector(*id));
        }
        if let Some(sid) = user.supervisor_id {
            let sup = xiaoneng_store::org::get_supervisor(c, sid).await.ok().filter(|s| s.status == Status::Active);
            let in_term = sup.as_ref().is_some_and(|s| s.term_start <= end && s.term_end >= start);
            if !in_term {
                return Err(ApiError::invalid(
                    "team",
                    "supervisor_out_of_term",
                    format!("{} 的监督员任期不在本计划期间内", user.display_name),
                    format!("{}'s term as a supervisor does not cover this plan's period", user.display_name),
                ));
            }
        }
    }
    Ok(())
}

fn not_an_inspector(id: i64) -> ApiError {
    ApiError::invalid(
        "team",
        "not_an_inspector",
        format!("账号 {id} 不是在用的暗访人员或效能办人员"),
        format!("Account {id} is not an active inspector or office staff member"),
    )
}

// ------------------------------------------------------------------ commands

/// Creates a plan with its team, planned or active at once.
pub async fn create_plan<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    input: PlanInput,
    state: PlanState,
    team: &[i64],
) -> ApiResult<plan::Model> {
    let d = PlanState::create(state, act.now)?;
    check_team(c, team, input.period_start, input.period_end).await?;
    let targets = input.targets.len();
    let p = inspections::create_plan(c, input, d.next, act.user.id, act.now).await?;
    inspections::set_team(c, p.id, team, act.user.id, act.now).await?;
    // The audit log says who did what to which plan, never its title, period, targets, team or
    // visits: the IT staff who read the log must not learn a covert plan from it.
    let detail = json!({ "status": p.status, "targets": targets, "team": team.len() });
    ledger::append(c, act.algo, &act.audit("plan.create", "plan", p.id, detail), &d.events, Some(p.id)).await?;
    Ok(p)
}

/// Rewrites a plan and takes it to `to` (an edit when it stays where it is).
pub async fn update_plan<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    p: &plan::Model,
    input: PlanInput,
    to: PlanState,
    team: &[i64],
) -> ApiResult<plan::Model> {
    let office = act.user.grants.has(Permission::InspectionManage);
    let d = p.status.decide(p.status.action_to(to), office, p.id, act.now)?;
    check_team(c, team, input.period_start, input.period_end).await?;
    let before = p.status;
    let p = inspections::update_plan(c, p, input, d.next, act.now).await?;
    let (added, removed) = inspections::set_team(c, p.id, team, act.user.id, act.now).await?;
    let detail = json!({ "from": before, "to": p.status, "team_added": added.len(), "team_removed": removed.len() });
    ledger::append(c, act.algo, &act.audit("plan.update", "plan", p.id, detail), &d.events, None).await?;
    Ok(p)
}

/// Schedules a visit on a plan that is still open.
pub async fn schedule_visit<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    p: &plan::Model,
    input: VisitInput,
) -> ApiResult<visit::Model> {
    let office = act.user.grants.has(Permission::InspectionManage);
    p.status.decide(PlanAction::Schedule, office, p.id, act.now)?;
    inspections::hold_plan(c, p).await?;
    let v = inspections::add_visit(c, p, input, act.now).await?;
    let detail = json!({ "visit_id": v.id });
    ledger::append(c, act.algo, &act.audit("plan.visit", "plan", p.id, detail), &[], None).await?;
    Ok(v)
}

/// Takes a visit to `to` with its notes, as its machine allows the caller.
pub async fn step_visit<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    p: &plan::Model,
    v: &visit::Model,
    to: VisitState,
    notes: String,
) -> ApiResult<visit::Model> {
    let facts = inspections::visit_facts(v, p);
    let d = facts.decide(facts.action_to(to), visit_actor(act.user), act.now)?;
    inspections::hold_plan(c, p).await?;
    let after = inspections::apply_visit(c, v, d.next, Some(notes), act.now).await?;
    let detail = json!({ "plan_id": p.id, "from": v.status, "to": after.status });
    ledger::append(c, act.algo, &act.audit("visit.update", "visit", v.id, detail), &d.events, None).await?;
    Ok(after)
}

// ------------------------------------------------------------------ routes

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Part of the title.
    pub q: Option<String>,
    pub status: Option<String>,
    /// Plans whose period includes this day.
    pub on: Option<NaiveDate>,
}

/// The plans the caller may see, latest period first.
#[utoipa::path(get, operation_id = "plans_list", path = "/api/v1/plans", tag = "inspections", params(ListParams),
    responses((status = 200, body = Page<Plan>), (status = 404, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    r: PlanReader,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Plan>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let status = crate::api::parse_opt("status", p.status.as_deref(), &mut v);
    v.done()?;
    let f = PlanFilter { q: p.q, status, on: p.on };
    let rows = inspections::list_plans(s.store.db(), r.member_of, &f, page).await?;
    Ok(Json(Page::from(rows, |p| Plan::of(p, &r.user))))
}

#[utoipa::path(get, operation_id = "plans_get_one", path = "/api/v1/plans/{id}", tag = "inspections",
    responses((status = 200, body = PlanDetail), (status = 404, body = ErrorBody)))]
async fn get_one(State(s): State<AppState>, r: PlanReader, Path(id): Path<i64>) -> ApiResult<Json<PlanDetail>> {
    let p = inspections::get_plan(s.store.db(), r.member_of, id).await?;
    Ok(Json(detail(&s, &r.user, p).await?))
}

#[utoipa::path(post, operation_id = "plans_create", path = "/api/v1/plans", tag = "inspections", request_body = PlanBody,
    responses((status = 201, body = PlanDetail), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    ApiJson(b): ApiJson<PlanBody>,
) -> ApiResult<(StatusCode, Json<PlanDetail>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let p = create_plan(&tx, Act::new(&s, &auth.user), input, b.status.unwrap_or(PlanState::Planned), &b.team).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail(&s, &auth.user, p).await?)))
}

#[utoipa::path(put, operation_id = "plans_update", path = "/api/v1/plans/{id}", tag = "inspections", request_body = PlanBody,
    responses((status = 200, body = PlanDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PlanBody>,
) -> ApiResult<Json<PlanDetail>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let p = inspections::get_plan(&tx, None, id).await?;
    expect_state(b.expected_state, p.status)?;
    let to = b.status.unwrap_or(p.status);
    let p = update_plan(&tx, Act::new(&s, &auth.user), &p, input, to, &b.team).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, p).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitUpdate {
    /// `scheduled`, `done` (visited: with or without findings) or `cancelled` (the office only,
    /// which alone may also take a cancelled visit up again).
    pub status: VisitState,
    /// What happened: "visited, nothing to report", why it was called off…
    #[serde(default)]
    pub notes: String,
    /// The state the caller last saw: if the visit has moved on since, 409 `state_changed`.
    pub expected_state: Option<VisitState>,
}

/// Records what became of a visit: the team marks it done (also when nothing was found); the
/// office may also call it off. Recording a finding on a visit marks it done by itself.
#[utoipa::path(put, operation_id = "plans_update_visit", path = "/api/v1/visits/{id}", tag = "inspections",
    request_body = VisitUpdate,
    responses((status = 200, body = Visit), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_visit(
    State(s): State<AppState>,
    reader: PlanReader,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VisitUpdate>,
) -> ApiResult<Json<Visit>> {
    let notes = parse_text("notes", &b.notes, 2000)?;
    let tx = s.store.write().await?;
    let v = inspections::get_visit(&tx, id).await?;
    // A visit of a plan the caller is not on does not exist for them.
    let p = inspections::get_plan(&tx, reader.member_of, v.plan_id).await?;
    expect_state(b.expected_state, v.status)?;
    let v = step_visit(&tx, Act::new(&s, &reader.user), &p, &v, b.status, notes).await?;
    tx.commit().await?;
    let names = crate::api::department_names(&s, [v.department_id]).await?;
    Ok(Json(visit_dto(&p, v, &names, &reader.user, s.clock.now())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitBody {
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub scheduled_on: NaiveDate,
    #[serde(default)]
    pub notes: String,
}

/// Schedules a visit to one of the plan's targets within its period.
#[utoipa::path(post, operation_id = "plans_add_visit", path = "/api/v1/plans/{id}/visits", tag = "inspections",
    request_body = VisitBody,
    responses((status = 201, body = Visit), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_visit(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VisitBody>,
) -> ApiResult<(StatusCode, Json<Visit>)> {
    let notes = parse_text("notes", &b.notes, 2000)?;
    let tx = s.store.write().await?;
    let p = inspections::get_plan(&tx, None, id).await?;
    let input =
        VisitInput { department_id: b.department_id, window_id: b.window_id, scheduled_on: b.scheduled_on, notes };
    let v = schedule_visit(&tx, Act::new(&s, &auth.user), &p, input).await?;
    tx.commit().await?;
    let names = crate::api::department_names(&s, [v.department_id]).await?;
    Ok((StatusCode::CREATED, Json(visit_dto(&p, v, &names, &auth.user, s.clock.now()))))
}
