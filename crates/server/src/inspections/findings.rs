//! Findings (问题) of covert inspections. A team member records a draft; the office confirms and
//! notifies; the department sees it from notification on and may appeal. Every step is
//! `core::inspection::FindingFacts::decide`; a finding's history is its events in the ledger.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    event::{Aggregate, Payload, Subject},
    evidence::EvidencePurpose,
    inspection::{
        FindingAccess, FindingAction, FindingState, InspectionPolicy, NewFinding, RecordingFacts, Severity, record,
    },
    org::{Status, parse_name, parse_text},
};
use xiaoneng_store::{
    entity::{domain_event, finding},
    inspections::{self, FindingFilter, FindingInput},
    ledger, org, settings,
};

use super::access::{FindingViewer, Rules};
use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_codes, parse_enum, parse_opt},
    auth::{Act, Authorized, perm},
    error::{ErrorBody, expect_state},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(step))
        .routes(routes!(get_policy, put_policy))
}

/// The office's rules for findings (the appeal period, evidence files).
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
    crate::api::save_setting(&s, &auth.user, settings::INSPECTION_POLICY, &p).await?;
    Ok(Json(p))
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
    pub severity: Severity,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub state: FindingState,
    /// Whether it counts against the department (an overturned finding stays on record but
    /// counts nowhere).
    pub counts: bool,
    /// When it was recorded; to the department only the day (00:00 city time), which is all
    /// the covert work's timing it learns.
    pub created_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    /// The last day (city time) an appeal may be made, once notified.
    pub appeal_deadline: Option<chrono::NaiveDate>,
    /// What files the caller may add now.
    pub can_attach: Vec<EvidencePurpose>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<FindingAction>,
}

/// What a page of findings shows beside the ids: names, and the rules that give deadlines.
struct Names {
    departments: HashMap<i64, String>,
    windows: HashMap<i64, String>,
    people: HashMap<i64, String>,
    categories: HashMap<i64, String>,
    rules: Rules,
}

impl Names {
    async fn of<C: ConnectionTrait>(c: &C, rows: &[finding::Model]) -> ApiResult<Self> {
        Ok(Names {
            rules: Rules::load(c).await?,
            departments: org::department_names(c, rows.iter().map(|f| f.department_id)).await?,
            windows: org::window_names(c, rows.iter().filter_map(|f| f.window_id)).await?,
            people: org::person_names(c, rows.iter().filter_map(|f| f.person_id)).await?,
            categories: inspections::category_names(c).await?,
        })
    }

    /// The finding as `access` sees it `now`.
    fn dto(&self, f: finding::Model, access: FindingAccess, now: DateTime<Utc>) -> Finding {
        let inside = access.inside();
        let facts = inspections::finding_facts(&f);
        let rules = self.rules.get();
        Finding {
            appeal_deadline: facts.appeal_deadline(rules),
            can_attach: facts.attachable(access, now, rules),
            allowed_actions: facts.allowed_actions(access, now, rules),
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
            counts: f.state.counts(),
            state: f.state,
            created_at: if inside { f.created_at } else { super::evidence::day_only(f.created_at) },
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
    /// Findings of this plan; ignored for callers who are neither the office nor on the plan's
    /// team (a department cannot probe which plan a finding came from).
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
    let states = parse_codes("state", p.state.as_deref(), &mut v);
    let severity = parse_opt("severity", p.severity.as_deref(), &mut v);
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
        severity,
        plan_id: p.plan_id.filter(|plan| viewer.on_plan(*plan)),
        from: p.from,
        to: p.to,
    };
    let db = s.store.db();
    let rows = inspections::list_findings(db, &viewer.vis, &f, page).await?;
    let names = Names::of(db, &rows.items).await?;
    let access = viewer.access_to(db, &rows.items).await?;
    let now = s.clock.now();
    Ok(Json(Page::from(rows, |r| {
        let a = access.get(&r.id).copied().unwrap_or_default();
        names.dto(r, a, now)
    })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    /// `record`, `confirm`, `withdraw`, `notify`, `appeal`, `uphold`, `overturn`.
    pub action: String,
    pub from_state: Option<FindingState>,
    pub to_state: FindingState,
    /// 0 when the viewer may not know who acted (a department sees the office's steps unnamed).
    pub actor_user_id: i64,
    pub actor_name: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDetail {
    #[serde(flatten)]
    pub finding: Finding,
    /// Who did what, when and why: the finding's events. The office and the team see every
    /// step, the department the steps from notification on.
    pub history: Vec<Step>,
    /// Its files: the inspection's evidence and any offered with an appeal.
    pub evidence: Vec<super::evidence::Evidence>,
}

fn step_of(e: &domain_event::Model) -> ApiResult<Option<Step>> {
    let action = |to: FindingState| match to {
        FindingState::Draft => "record",
        FindingState::Confirmed => "confirm",
        FindingState::Withdrawn => "withdraw",
        FindingState::Notified => "notify",
        FindingState::Appealed => "appeal",
        FindingState::Upheld => "uphold",
        FindingState::Overturned => "overturn",
    };
    Ok(match ledger::payload(e)? {
        Payload::FindingRecorded(s)
        | Payload::FindingConfirmed(s)
        | Payload::FindingWithdrawn(s)
        | Payload::FindingNotified(s)
        | Payload::FindingAppealed(s)
        | Payload::FindingUpheld(s)
        | Payload::FindingOverturned(s) => Some(Step {
            action: action(s.to).into(),
            from_state: s.from,
            to_state: s.to,
            actor_user_id: e.actor_user_id.unwrap_or(0),
            actor_name: None,
            reason: s.reason,
            at: e.recorded_at,
        }),
        _ => None,
    })
}

async fn detail(s: &AppState, viewer: &FindingViewer, f: finding::Model) -> ApiResult<FindingDetail> {
    let db = s.store.db();
    let access = viewer.access_one(db, &f).await?;
    let inside = access.inside();
    let mut history = Vec::new();
    for e in ledger::of(db, Aggregate::Finding, f.id).await? {
        if let Some(step) = step_of(&e)?
            && access.sees_step(step.to_state)
        {
            history.push(step);
        }
    }
    // Who acted is the office's and the team's to know, not the department's.
    if inside {
        let names = xiaoneng_store::accounts::display_names(db, history.iter().map(|h| h.actor_user_id)).await?;
        for h in &mut history {
            h.actor_name = names.get(&h.actor_user_id).cloned();
        }
    } else {
        for h in &mut history {
            h.actor_user_id = 0;
        }
    }
    let names = Names::of(db, std::slice::from_ref(&f)).await?;
    let evidence = super::evidence::listing(s, f.id, inside).await?;
    Ok(FindingDetail { finding: names.dto(f, access, s.clock.now()), history, evidence })
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

// ------------------------------------------------------------------ commands

/// Records a draft finding on a visit of a plan the recorder is on; a scheduled visit becomes
/// done by it.
pub async fn record_finding<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    viewer: &FindingViewer,
    input: FindingInput,
) -> ApiResult<finding::Model> {
    // A visit of a plan the caller cannot see does not exist for them.
    let member_of = (!viewer.vis.all).then_some(act.user.id);
    let Some(visited) = input.visit.clone() else { return Err(crate::ApiError::NotFound) };
    let plan = inspections::get_plan(c, member_of, visited.plan_id).await?;
    // An external supervisor records only within their term of appointment.
    let supervisor_term = match act.user.supervisor_id {
        None => None,
        Some(sid) => Some(
            org::get_supervisor(c, sid)
                .await
                .ok()
                .filter(|s| s.status == Status::Active)
                .map(|s| (s.term_start, s.term_end)),
        ),
    };
    let severity = inspections::check_refs(c, &input).await?;
    let new = NewFinding {
        subject: Subject {
            department_id: Some(input.department_id),
            window_id: input.window_id,
            person_id: input.person_id,
            post_id: input.post_id,
        },
        category_id: input.category_id,
        severity,
        occurred_at: input.occurred_at,
    };
    let at = RecordingFacts {
        visit: inspections::visit_facts(&visited, &plan),
        plan_period: (plan.period_start, plan.period_end),
        supervisor_term,
    };
    let (d, visit) = record(&new, &at, act.now)?;
    inspections::hold_plan(c, &plan).await?;
    let v = visited;
    let f = inspections::insert_finding(c, input, severity, d.next, act.user.id, act.now).await?;
    let mut events = d.events;
    if let Some(vd) = visit {
        match inspections::apply_visit(c, &v, vd.next, None, act.now).await {
            Ok(_) => events.extend(vd.events),
            // Another finding on the same visit, recorded at the same moment, marked it done
            // first (with its event): this one is recorded all the same.
            Err(xiaoneng_store::StoreError::StateChanged)
                if inspections::get_visit(c, v.id).await?.status == vd.next => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Not the department, nor anything else that would tell the log's readers whom the office
    // inspects: the finding holds it (and its department learns of it when told).
    let detail = json!({ "plan_id": f.plan_id, "visit_id": f.visit_id, "severity": f.severity });
    ledger::append(c, act.algo, &act.audit("finding.record", "finding", f.id, detail), &events, Some(f.id)).await?;
    Ok(f)
}

/// Takes a finding one step, as its machine allows the caller (who they are to it, its state,
/// the time).
pub async fn step_finding<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    access: FindingAccess,
    f: &finding::Model,
    action: FindingAction,
    reason: &str,
) -> ApiResult<()> {
    let rules = Rules::load(c).await?;
    let d = inspections::finding_facts(f).decide(action, access, reason, act.now, rules.get())?;
    inspections::apply_finding(c, f.id, f.state, d.next, act.now).await?;
    // A reason given before the department is told stays with the finding (a withdrawn draft's
    // reason may name whom it was about); from then on the department sees it anyway.
    let reason = if f.state.visible_to_subject() || d.next.visible_to_subject() { reason.trim() } else { "" };
    let detail = json!({ "action": action, "from": f.state, "to": d.next, "reason": reason });
    let rec = act.audit(&format!("finding.{action}"), "finding", f.id, detail);
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok(())
}

// ------------------------------------------------------------------ routes

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
    pub severity: Option<Severity>,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
}

/// Records a draft finding on a visit of a plan the caller is on the team of.
#[utoipa::path(post, operation_id = "findings_create", path = "/api/v1/findings", tag = "inspections", request_body = FindingBody,
    responses((status = 201, body = FindingDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionRecord>,
    ApiJson(b): ApiJson<FindingBody>,
) -> ApiResult<(StatusCode, Json<FindingDetail>)> {
    let description = parse_name("description", &b.description, 4000)?;
    let tx = s.store.write().await?;
    let viewer = FindingViewer::of(&tx, auth.user).await?;
    let input = FindingInput {
        visit: Some(inspections::get_visit(&tx, b.visit_id).await?),
        department_id: b.department_id,
        window_id: b.window_id,
        person_id: b.person_id,
        post_id: b.post_id,
        category_id: b.category_id,
        severity: b.severity,
        occurred_at: xiaoneng_core::clock::truncate_micros(b.occurred_at),
        description,
    };
    let f = record_finding(&tx, Act::new(&s, &viewer.user), &viewer, input).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail(&s, &viewer, f).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepBody {
    /// `confirm`, `notify`, `uphold` or `overturn` (the office); `withdraw` (the office or the team,
    /// for a draft); `appeal` (the department's head or the person named, within the deadline).
    pub action: FindingAction,
    /// Why: required to withdraw, appeal, uphold or overturn.
    #[serde(default)]
    pub reason: String,
    /// The state the caller last saw: if the finding has moved on since, 409 `state_changed`.
    pub expected_state: Option<FindingState>,
}

/// Takes a finding one step through its life, as the state machine allows the caller.
#[utoipa::path(post, operation_id = "findings_step", path = "/api/v1/findings/{id}/steps", tag = "inspections", request_body = StepBody,
    responses((status = 200, body = FindingDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> ApiResult<Json<FindingDetail>> {
    let reason = parse_text("reason", &b.reason, 2000)?;
    let tx = s.store.write().await?;
    let f = inspections::get_finding(&tx, &viewer.vis, id).await?;
    expect_state(b.expected_state, f.state)?;
    let access = viewer.access_one(&tx, &f).await?;
    step_finding(&tx, Act::new(&s, &viewer.user), access, &f, b.action, &reason).await?;
    tx.commit().await?;
    let f = inspections::get_finding(s.store.db(), &viewer.vis, id).await?;
    Ok(Json(detail(&s, &viewer, f).await?))
}
