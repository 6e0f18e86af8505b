//! Campaigns (回头看, 五查五看): the office writes a checklist, chooses participants and a period;
//! each participant answers every item (what they found, the measures, a date) and submits; the
//! office sees completion and every problem found, and exports them to Excel. Opening, closing
//! and submitting are `core::campaign`'s decisions; the answers as submitted are in the ledger.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    campaign::{
        CampaignAction, CampaignState, ParticipantKind, ParticipationAction, ParticipationActor, ParticipationState,
        is_problem,
    },
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{DataScope, Permission, Role},
    scope::Scope,
};
use xiaoneng_store::{
    campaigns::{self as camp, AnswerInput, Answerer, CampaignInput},
    entity::{campaign, campaign_item, campaign_participant, self_check_answer},
    ledger, org,
    rectification::{self as rect, Note},
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_opt},
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody, expect_state},
    excel,
    extract::{ApiJson, ApiQuery, MaybeJson},
    tasks::{Task, TaskKind},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(template))
        .routes(routes!(get_one, update))
        .routes(routes!(open))
        .routes(routes!(close))
        .routes(routes!(export))
        .routes(routes!(get_participation))
        .routes(routes!(save_answers))
        .routes(routes!(submit))
}

/// Which participations a user answers for: their departments' within `campaign:answer`'s
/// reach, and their own as a person.
fn answerer(user: &CurrentUser) -> Answerer {
    Answerer {
        departments: user
            .grants
            .scope(Permission::CampaignAnswer)
            .filter(|s| *s != DataScope::SelfOnly)
            .map(|s| user.scope_for(s)),
        person_id: user.person_id.filter(|_| user.grants.has(Permission::CampaignAnswer)),
    }
}

/// How a user stands to one participation: they answer for it if it is theirs; they sign it if
/// it is their own, or they sign for its department (`report:submit`, the head).
fn participation_actor(
    user: &CurrentUser,
    p: &campaign_participant::Model,
    department_path: &str,
) -> ParticipationActor {
    let answerer = answerer(user).covers(p, department_path);
    let signer = answerer
        && match p.kind {
            ParticipantKind::Person => true,
            _ => user
                .scope(Permission::ReportSubmit)
                .is_some_and(|s| s.covers_department(p.department_id, department_path)),
        };
    ParticipationActor { answerer, signer }
}

async fn actor_of<C: ConnectionTrait>(
    c: &C,
    user: &CurrentUser,
    p: &campaign_participant::Model,
) -> ApiResult<ParticipationActor> {
    let path = org::department_paths(c, [p.department_id]).await?.remove(&p.department_id).unwrap_or_default();
    Ok(participation_actor(user, p, &path))
}

/// The office (everything) or a participant (their own part of open and closed campaigns).
struct Viewer {
    user: CurrentUser,
    office: bool,
}

impl Viewer {
    fn answerer(&self) -> Option<Answerer> {
        (!self.office).then(|| answerer(&self.user))
    }
}

impl axum::extract::FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let user = crate::auth::any_of(parts, s, &[Permission::CampaignAnswer, Permission::CampaignManage]).await?;
        let office = user.grants.has(Permission::CampaignManage);
        Ok(Viewer { user, office })
    }
}

// ------------------------------------------------------------------ shapes

#[derive(Debug, Serialize, ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: CampaignState,
    pub participant_count: u64,
    pub submitted_count: u64,
    pub created_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<CampaignAction>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    pub id: i64,
    pub title: String,
    pub guidance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Participant {
    pub id: i64,
    pub kind: ParticipantKind,
    pub department_id: i64,
    pub department_name: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub status: ParticipationState,
    pub answered: u64,
    /// Items where a problem was found (the answer is not "none").
    pub problems: u64,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    pub item_id: i64,
    pub found: String,
    pub measures: String,
    pub due: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub items: Vec<Item>,
    /// Everyone for the office; the caller's own participations otherwise.
    pub participants: Vec<Participant>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Participation {
    pub campaign: Campaign,
    pub participant: Participant,
    pub items: Vec<Item>,
    pub answers: Vec<Answer>,
    /// What the caller may do now: `answer` (change the answers), `submit`.
    pub allowed_actions: Vec<ParticipationAction>,
}

async fn campaign_dtos<C: ConnectionTrait>(
    c: &C,
    office: bool,
    rows: Vec<campaign::Model>,
) -> ApiResult<Vec<Campaign>> {
    let ids: Vec<i64> = rows.iter().map(|k| k.id).collect();
    let counts = camp::participant_counts(c, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|k| {
            let (participant_count, submitted_count) = counts.get(&k.id).copied().unwrap_or_default();
            Campaign {
                id: k.id,
                allowed_actions: k.status.allowed_actions(office),
                title: k.title,
                description: k.description,
                period_start: k.period_start,
                period_end: k.period_end,
                status: k.status,
                participant_count,
                submitted_count,
                created_at: k.created_at,
                opened_at: k.opened_at,
            }
        })
        .collect())
}

async fn campaign_dto<C: ConnectionTrait>(c: &C, office: bool, k: campaign::Model) -> ApiResult<Campaign> {
    campaign_dtos(c, office, vec![k]).await?.pop().ok_or(ApiError::NotFound)
}

async fn participant_dtos<C: ConnectionTrait>(
    c: &C,
    parts: Vec<campaign_participant::Model>,
) -> ApiResult<Vec<Participant>> {
    let depts = org::department_names(c, parts.iter().map(|p| p.department_id)).await?;
    let people = org::person_names(c, parts.iter().filter_map(|p| p.person_id)).await?;
    let answers = camp::answers_of(c, parts.iter().map(|p| p.id)).await?;
    let mut by: HashMap<i64, Vec<&self_check_answer::Model>> = HashMap::new();
    for a in &answers {
        by.entry(a.participant_id).or_default().push(a);
    }
    Ok(parts
        .into_iter()
        .map(|p| {
            let mine = by.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            Participant {
                id: p.id,
                department_name: depts.get(&p.department_id).cloned().unwrap_or_default(),
                person_name: p.person_id.and_then(|i| people.get(&i).cloned()),
                answered: mine.iter().filter(|a| !a.found.trim().is_empty()).count() as u64,
                problems: mine.iter().filter(|a| is_problem(&a.found)).count() as u64,
                kind: p.kind,
                department_id: p.department_id,
                person_id: p.person_id,
                status: p.status,
                submitted_at: p.submitted_at,
            }
        })
        .collect())
}

fn item_dto(i: campaign_item::Model) -> Item {
    Item { id: i.id, title: i.title, guidance: i.guidance }
}

async fn detail<C: ConnectionTrait>(c: &C, v: &Viewer, k: campaign::Model) -> ApiResult<CampaignDetail> {
    let items = camp::items_of(c, k.id).await?.into_iter().map(item_dto).collect();
    let parts = camp::participants_of(c, k.id, v.answerer().as_ref()).await?;
    Ok(CampaignDetail {
        participants: participant_dtos(c, parts).await?,
        items,
        campaign: campaign_dto(c, v.office, k).await?,
    })
}

// ------------------------------------------------------------------ commands

/// Starts a draft campaign (`draft` is `None`) or rewrites one.
pub async fn compose<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    draft: Option<&campaign::Model>,
    input: CampaignInput,
) -> ApiResult<campaign::Model> {
    let office = act.user.grants.has(Permission::CampaignManage);
    match draft {
        Some(k) => k.status.permits(CampaignAction::Edit, office)?,
        None if !office => return Err(ApiError::Forbidden),
        None => {}
    }
    let d = json!({ "title": input.title, "items": input.items.len(), "participants": input.participants.len() });
    let k = camp::save_campaign(c, draft, input, act.user.id, act.now).await?;
    let action = if draft.is_some() { "campaign.update" } else { "campaign.create" };
    ledger::append(c, act.algo, &act.audit(action, "campaign", k.id, d), &[], None).await?;
    Ok(k)
}

/// Opens or closes a campaign; opening tells every participant (a department's head and liaison,
/// or the person's own account).
pub async fn step_campaign<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    k: &campaign::Model,
    action: CampaignAction,
) -> ApiResult<campaign::Model> {
    let facts = camp::campaign_facts(c, k).await?;
    let d = facts.decide(action, act.user.grants.has(Permission::CampaignManage), act.now)?;
    let out = camp::apply_campaign_state(c, k, d.next, act.now).await?;
    if d.next == CampaignState::Open {
        let mut users = Vec::new();
        for p in camp::participants_of(c, k.id, None).await? {
            match p.person_id {
                None => users
                    .extend(rect::department_users(c, p.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?),
                Some(person) => users.extend(xiaoneng_store::accounts::users_of_person(c, person).await?),
            }
        }
        users.sort_unstable();
        users.dedup();
        let note = Note {
            kind: "campaign.open",
            title: format!("请开展自查：{}", k.title),
            body: format!("请于 {} 前逐项填报自查情况并提交。", k.period_end),
            link: format!("/campaigns/{}", k.id),
            due: Some(k.period_end),
        };
        rect::notify(c, &users, &note, Some(&format!("campaign.open:{}", k.id)), act.now).await?;
    }
    let rec = act.audit(&format!("campaign.{}", d.next), "campaign", k.id, json!({ "from": k.status, "to": d.next }));
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok(out)
}

/// Saves a participant's answers while the self-check is pending and the campaign open.
pub async fn answer<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    p: &campaign_participant::Model,
    answers: Vec<AnswerInput>,
) -> ApiResult<()> {
    let k = camp::get_campaign(c, p.campaign_id).await?;
    camp::participation_facts(p, &k).permits(ParticipationAction::Answer, actor_of(c, act.user, p).await?)?;
    let n = answers.len();
    camp::hold_campaign(c, &k).await?;
    camp::save_answers(c, p, answers, act.user.id, act.now).await?;
    let rec = act.audit("self_check.save", "campaign_participant", p.id, json!({ "answers": n }));
    ledger::append(c, act.algo, &rec, &[], None).await?;
    Ok(())
}

/// Submits a self-check once every item is answered; the answers as submitted go into the
/// ledger with it.
pub async fn submit_self_check<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    p: &campaign_participant::Model,
) -> ApiResult<campaign_participant::Model> {
    let k = camp::get_campaign(c, p.campaign_id).await?;
    // The answers read are the ones submitted: no save can slip in between. (Already submitted,
    // there is nothing to hold: the machine refuses, or the conditional apply below says so.)
    match camp::hold_pending(c, p).await {
        Ok(()) | Err(xiaoneng_store::StoreError::StateChanged) => {}
        Err(e) => return Err(e.into()),
    }
    let items = camp::item_answers(c, p).await?;
    let d = camp::participation_facts(p, &k).submit(actor_of(c, act.user, p).await?, &items, act.now)?;
    camp::hold_campaign(c, &k).await?;
    let out = camp::apply_submission(c, p, d.next, act.user.id, act.now).await?;
    let rec = act.audit("self_check.submit", "campaign_participant", p.id, json!({ "campaign_id": k.id }));
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok(out)
}

// ------------------------------------------------------------------ campaigns

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// `draft`, `open` or `closed`.
    pub status: Option<String>,
}

/// Campaigns: all for the office, those the caller takes part in otherwise.
#[utoipa::path(get, operation_id = "campaigns_list", path = "/api/v1/campaigns", tag = "rectification", params(ListParams),
    responses((status = 200, body = Page<Campaign>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    v: Viewer,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Campaign>>> {
    let mut c = Checks::default();
    let page = page_req(p.page, p.page_size, &mut c);
    let status = parse_opt("status", p.status.as_deref(), &mut c);
    c.done()?;
    let db = s.store.db();
    let rows = camp::list_campaigns(db, v.answerer().as_ref(), status, page).await?;
    let (total, pg, ps) = (rows.total, rows.page, rows.page_size);
    Ok(Json(Page { items: campaign_dtos(db, v.office, rows.items).await?, total, page: pg, page_size: ps }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ItemBody {
    pub title: String,
    #[serde(default)]
    pub guidance: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ParticipantBody {
    /// `department` (the department as a whole), `leadership` (its leadership team) or `person`.
    pub kind: ParticipantKind,
    /// Required for `department` and `leadership`.
    pub department_id: Option<i64>,
    /// Required for `person`.
    pub person_id: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CampaignBody {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub items: Vec<ItemBody>,
    pub participants: Vec<ParticipantBody>,
    /// On an edit: the state the caller last saw (409 `state_changed` if it moved on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_state: Option<CampaignState>,
}

impl CampaignBody {
    async fn parse<C: ConnectionTrait>(self, db: &C) -> ApiResult<CampaignInput> {
        let mut v = Checks::default();
        let title = v.take(parse_name("title", &self.title, 200));
        let description = v.take(parse_text("description", &self.description, 10_000));
        if self.period_end < self.period_start {
            v.push(xiaoneng_core::ValidationError::new(
                "period_end",
                "before_start",
                "结束日期不能早于开始日期",
                "The period cannot end before it starts",
            ));
        }
        if self.items.is_empty() || self.items.len() > 50 {
            v.push(xiaoneng_core::ValidationError::new(
                "items",
                "count",
                "自查清单须有 1 至 50 项",
                "The checklist needs 1 to 50 items",
            ));
        }
        let mut items = Vec::new();
        for (i, it) in self.items.iter().enumerate() {
            let t = v.take(parse_name(&format!("items[{i}].title"), &it.title, 200));
            let g = v.take(parse_text(&format!("items[{i}].guidance"), &it.guidance, 2_000));
            items.push((t, g));
        }
        if self.participants.is_empty() {
            v.push(xiaoneng_core::ValidationError::new(
                "participants",
                "required",
                "请选择参加对象",
                "Choose who takes part",
            ));
        }
        v.done()?;
        let mut participants = Vec::new();
        for (i, p) in self.participants.iter().enumerate() {
            let field = format!("participants[{i}]");
            match (p.kind, p.department_id, p.person_id) {
                (ParticipantKind::Department | ParticipantKind::Leadership, Some(d), _) => {
                    org::get_department(db, &Scope::All, d).await.map_err(|_| {
                        ApiError::invalid(&field, "unknown_department", "部门不存在", "No such department")
                    })?;
                    participants.push((p.kind, d, None));
                }
                (ParticipantKind::Person, _, Some(pid)) => {
                    let person = org::get_person(db, &Scope::All, pid)
                        .await
                        .map_err(|_| ApiError::invalid(&field, "unknown_person", "人员不存在", "No such person"))?;
                    participants.push((ParticipantKind::Person, person.department_id, Some(pid)));
                }
                _ => {
                    return Err(ApiError::invalid(
                        &field,
                        "invalid_participant",
                        "参加对象须为部门、领导班子（附部门）或个人（附人员）",
                        "A participant is a department or leadership team (with department_id) or a person (with person_id)",
                    ));
                }
            }
        }
        Ok(CampaignInput {
            title,
            description,
            period_start: self.period_start,
            period_end: self.period_end,
            items,
            participants,
        })
    }
}

/// The "five checks, five looks" (五查五看) checklist, as an example to edit.
#[utoipa::path(get, operation_id = "campaigns_template", path = "/api/v1/campaigns/template", tag = "rectification",
    responses((status = 200, body = CampaignBody)))]
async fn template(State(s): State<AppState>, _a: Authorized<perm::CampaignManage>) -> Json<CampaignBody> {
    let today = city_day(s.clock.now());
    let item = |t: &str, g: &str| ItemBody { title: t.into(), guidance: g.into() };
    Json(CampaignBody {
        title: "机关效能“回头看”活动".into(),
        description: "对照暗访录像反映的问题，领导班子和机关干部认真开展一次“五查五看”，逐项自查，如实填报发现的问题、整改措施和完成时限。".into(),
        period_start: today,
        period_end: today + chrono::Duration::days(20),
        items: vec![
            item("查思想观念，看服务意识是否牢固", "是否存在“门难进、脸难看、话难听、事难办”的现象"),
            item("查工作作风，看是否推诿扯皮", "首问负责、一次性告知是否落实；有无推诿、刁难、吃拿卡要"),
            item("查制度落实，看承诺是否兑现", "服务承诺制、岗位责任制、首问负责制、责任追究制执行情况"),
            item("查办事效率，看是否按时办结", "有无超时办理、拖拉延误，办件按时办结率"),
            item("查工作纪律，看窗口形象是否良好", "有无脱岗离岗、上班上网游戏聊天玩牌、着装不整、嬉笑打闹"),
        ],
        participants: Vec::new(),
        expected_state: None,
    })
}

#[utoipa::path(post, operation_id = "campaigns_create", path = "/api/v1/campaigns", tag = "rectification", request_body = CampaignBody,
    responses((status = 201, body = CampaignDetail), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    ApiJson(b): ApiJson<CampaignBody>,
) -> ApiResult<(StatusCode, Json<CampaignDetail>)> {
    let input = b.parse(s.store.db()).await?;
    let tx = s.store.write().await?;
    let k = compose(&tx, Act::new(&s, &auth.user), None, input).await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok((StatusCode::CREATED, Json(detail(s.store.db(), &v, k).await?)))
}

#[utoipa::path(get, operation_id = "campaigns_get_one", path = "/api/v1/campaigns/{id}", tag = "rectification",
    responses((status = 200, body = CampaignDetail), (status = 404, body = ErrorBody)))]
async fn get_one(State(s): State<AppState>, v: Viewer, Path(id): Path<i64>) -> ApiResult<Json<CampaignDetail>> {
    let db = s.store.db();
    let k = camp::get_campaign(db, id).await?;
    let d = detail(db, &v, k).await?;
    if !v.office && (d.participants.is_empty() || d.campaign.status == CampaignState::Draft) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(d))
}

#[utoipa::path(put, operation_id = "campaigns_update", path = "/api/v1/campaigns/{id}", tag = "rectification", request_body = CampaignBody,
    responses((status = 200, body = CampaignDetail), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CampaignBody>,
) -> ApiResult<Json<CampaignDetail>> {
    let expected = b.expected_state;
    let input = b.parse(s.store.db()).await?;
    let tx = s.store.write().await?;
    let draft = camp::get_campaign(&tx, id).await?;
    expect_state(expected, draft.status)?;
    let k = compose(&tx, Act::new(&s, &auth.user), Some(&draft), input).await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok(Json(detail(s.store.db(), &v, k).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CampaignStepBody {
    /// The state the caller last saw: if the campaign has moved on since, 409 `state_changed`.
    pub expected_state: Option<CampaignState>,
}

async fn step_route(
    s: &AppState,
    auth: Authorized<perm::CampaignManage>,
    id: i64,
    action: CampaignAction,
    expected: Option<CampaignState>,
) -> ApiResult<Json<CampaignDetail>> {
    let tx = s.store.write().await?;
    let k = camp::get_campaign(&tx, id).await?;
    expect_state(expected, k.status)?;
    let k = step_campaign(&tx, Act::new(s, &auth.user), &k, action).await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok(Json(detail(s.store.db(), &v, k).await?))
}

/// Starts the campaign: participants are told and may answer.
#[utoipa::path(post, operation_id = "campaigns_open", path = "/api/v1/campaigns/{id}/open", tag = "rectification", request_body = CampaignStepBody,
    responses((status = 200, body = CampaignDetail), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
    MaybeJson(b): MaybeJson<CampaignStepBody>,
) -> ApiResult<Json<CampaignDetail>> {
    step_route(&s, auth, id, CampaignAction::Open, b.expected_state).await
}

/// Ends the campaign: no more answers.
#[utoipa::path(post, operation_id = "campaigns_close", path = "/api/v1/campaigns/{id}/close", tag = "rectification", request_body = CampaignStepBody,
    responses((status = 200, body = CampaignDetail), (status = 409, body = ErrorBody)))]
async fn close(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
    MaybeJson(b): MaybeJson<CampaignStepBody>,
) -> ApiResult<Json<CampaignDetail>> {
    step_route(&s, auth, id, CampaignAction::Close, b.expected_state).await
}

/// Every participant's answers, one row per item, as an Excel workbook.
#[utoipa::path(get, operation_id = "campaigns_export", path = "/api/v1/campaigns/{id}/export", tag = "rectification",
    responses((status = 200, description = "the workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let db = s.store.db();
    let k = camp::get_campaign(db, id).await?;
    k.status.permits(CampaignAction::Export, true)?;
    let items = camp::items_of(db, id).await?;
    let parts = participant_dtos(db, camp::participants_of(db, id, None).await?).await?;
    let answers = camp::answers_of(db, parts.iter().map(|p| p.id)).await?;
    let by: HashMap<(i64, i64), &self_check_answer::Model> =
        answers.iter().map(|a| ((a.participant_id, a.item_id), a)).collect();
    let mut rows = Vec::new();
    for p in &parts {
        for it in &items {
            let a = by.get(&(p.id, it.id));
            rows.push(vec![
                p.department_name.clone(),
                p.kind.label_zh().to_owned(),
                p.person_name.clone().unwrap_or_default(),
                if p.status == ParticipationState::Submitted { "已提交" } else { "未提交" }.to_owned(),
                it.title.clone(),
                a.map(|a| a.found.clone()).unwrap_or_default(),
                a.map(|a| a.measures.clone()).unwrap_or_default(),
                a.and_then(|a| a.due).map(|d| d.to_string()).unwrap_or_default(),
                if a.is_some_and(|a| is_problem(&a.found)) { "是" } else { "" }.to_owned(),
            ]);
        }
    }
    let headers =
        ["单位", "参加对象", "人员", "提交情况", "自查项目", "发现的问题", "整改措施", "完成时限", "存在问题"];
    let bytes = excel::write_sheet("自查情况", &headers, &rows)?;
    let tx = s.store.write().await?;
    let act = Act::new(&s, &auth.user);
    ledger::append(
        &tx,
        act.algo,
        &act.audit("campaign.export", "campaign", id, json!({ "rows": rows.len() })),
        &[],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(excel::attachment(bytes, &format!("campaign-{id}.xlsx"), &format!("{}-自查情况.xlsx", k.title)))
}

// ------------------------------------------------------------------ participations

async fn participation<C: ConnectionTrait>(
    c: &C,
    v: &Viewer,
    p: campaign_participant::Model,
) -> ApiResult<Participation> {
    let k = camp::get_campaign(c, p.campaign_id).await?;
    let items = camp::items_of(c, k.id).await?.into_iter().map(item_dto).collect();
    let answers = camp::answers_of(c, [p.id])
        .await?
        .into_iter()
        .map(|a| Answer {
            item_id: a.item_id,
            found: a.found,
            measures: a.measures,
            due: a.due,
            updated_at: a.updated_at,
        })
        .collect();
    let allowed_actions = camp::participation_facts(&p, &k).allowed_actions(actor_of(c, &v.user, &p).await?);
    let participant = participant_dtos(c, vec![p]).await?.pop().ok_or(ApiError::NotFound)?;
    Ok(Participation { campaign: campaign_dto(c, v.office, k).await?, participant, items, answers, allowed_actions })
}

#[utoipa::path(get, operation_id = "campaigns_get_participation", path = "/api/v1/campaign-participations/{id}", tag = "rectification",
    responses((status = 200, body = Participation), (status = 404, body = ErrorBody)))]
async fn get_participation(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> ApiResult<Json<Participation>> {
    let db = s.store.db();
    let p = camp::get_participant(db, v.answerer().as_ref(), id).await?;
    Ok(Json(participation(db, &v, p).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub item_id: i64,
    /// What was found ("无" when nothing).
    #[serde(default)]
    pub found: String,
    #[serde(default)]
    pub measures: String,
    /// By when the measures will be done.
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswersBody {
    pub answers: Vec<AnswerBody>,
}

/// Saves the participant's answers (a department's liaison or head, or the person).
#[utoipa::path(put, operation_id = "campaigns_save_answers", path = "/api/v1/campaign-participations/{id}/answers", tag = "rectification", request_body = AnswersBody,
    responses((status = 200, body = Participation), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_answers(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignAnswer>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AnswersBody>,
) -> ApiResult<Json<Participation>> {
    let mut v = Checks::default();
    if b.answers.len() > 50 {
        v.push(xiaoneng_core::ValidationError::new("answers", "too_many", "最多 50 项", "At most 50 answers"));
    }
    let mut answers = Vec::new();
    for (i, a) in b.answers.iter().enumerate() {
        answers.push(AnswerInput {
            item_id: a.item_id,
            found: v.take(parse_text(&format!("answers[{i}].found"), &a.found, 4_000)),
            measures: v.take(parse_text(&format!("answers[{i}].measures"), &a.measures, 4_000)),
            due: a.due,
        });
    }
    v.done()?;
    let tx = s.store.write().await?;
    let p = camp::get_participant(&tx, Some(&answerer(&auth.user)), id).await?;
    answer(&tx, Act::new(&s, &auth.user), &p, answers).await?;
    tx.commit().await?;
    let viewer = Viewer { user: auth.user, office: false };
    let db = s.store.db();
    Ok(Json(participation(db, &viewer, camp::get_participant(db, None, id).await?).await?))
}

/// Submits the self-check: a department's head (the liaison prepares), or the person.
#[utoipa::path(post, operation_id = "campaigns_submit", path = "/api/v1/campaign-participations/{id}/submit", tag = "rectification",
    responses((status = 200, body = Participation), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignAnswer>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Participation>> {
    let tx = s.store.write().await?;
    let p = camp::get_participant(&tx, Some(&answerer(&auth.user)), id).await?;
    let p = submit_self_check(&tx, Act::new(&s, &auth.user), &p).await?;
    tx.commit().await?;
    let viewer = Viewer { user: auth.user, office: false };
    Ok(Json(participation(s.store.db(), &viewer, p).await?))
}

/// The caller's self-checks still to submit, for the inbox.
pub async fn tasks<C: ConnectionTrait>(c: &C, user: &CurrentUser, today: NaiveDate) -> ApiResult<Vec<Task>> {
    if !user.grants.has(Permission::CampaignAnswer) {
        return Ok(Vec::new());
    }
    Ok(camp::pending_for(c, &answerer(user))
        .await?
        .into_iter()
        .map(|(p, k)| Task {
            kind: TaskKind::SelfCheck,
            title: format!("填报自查：{}", k.title),
            link: format!("/campaigns/participations/{}", p.id),
            due: Some(k.period_end),
            overdue: today > k.period_end,
        })
        .collect())
}
