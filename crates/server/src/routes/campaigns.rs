//! Campaigns (回头看, 五查五看): the office writes a checklist, chooses participants and a period;
//! each participant answers every item (what they found, the measures, a date) and submits; the
//! office sees completion and every problem found, and exports them to Excel.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{Permission, Role},
};
use xiaoneng_store::{
    audit,
    campaigns::{self as camp, AnswerInput, Answerer, CampaignInput},
    entity::{campaign, campaign_item, campaign_participant, self_check_answer},
    org::{self, Scope},
    rectification::{self as rect, Note},
};

use super::{Checks, Page, inbox::Task, page_req};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    excel,
    extract::{ApiJson, ApiQuery},
    routes::bulletins::state_conflict,
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

fn answerer(user: &CurrentUser) -> Answerer {
    Answerer {
        departments: user
            .grants
            .scope(Permission::CampaignAnswer)
            .filter(|s| *s != xiaoneng_core::rbac::DataScope::SelfOnly)
            .map(|s| user.scope_for(s)),
        person_id: user.person_id.filter(|_| user.grants.has(Permission::CampaignAnswer)),
    }
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
    /// `draft`, `open` or `closed`.
    pub status: String,
    pub participant_count: u64,
    pub submitted_count: u64,
    pub created_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
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
    /// `department`, `leadership` or `person`.
    pub kind: String,
    pub department_id: i64,
    pub department_name: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    /// `pending` or `submitted`.
    pub status: String,
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
    /// Whether the caller may change the answers now / submit them.
    pub can_edit: bool,
    pub can_submit: bool,
}

/// A "none found" answer is not a problem.
fn is_problem(a: &self_check_answer::Model) -> bool {
    let f = a.found.trim();
    !f.is_empty() && !matches!(f, "无" | "无问题" | "未发现问题" | "none" | "None")
}

async fn campaign_dto(s: &AppState, k: campaign::Model) -> ApiResult<Campaign> {
    let parts = camp::participants_of(s.store.db(), k.id, None).await?;
    Ok(Campaign {
        id: k.id,
        title: k.title,
        description: k.description,
        period_start: k.period_start,
        period_end: k.period_end,
        status: k.status,
        participant_count: parts.len() as u64,
        submitted_count: parts.iter().filter(|p| p.status == "submitted").count() as u64,
        created_at: k.created_at,
        opened_at: k.opened_at,
    })
}

async fn participant_dtos(s: &AppState, parts: Vec<campaign_participant::Model>) -> ApiResult<Vec<Participant>> {
    let db = s.store.db();
    let depts = org::department_names(db, parts.iter().map(|p| p.department_id)).await?;
    let people = org::person_names(db, parts.iter().filter_map(|p| p.person_id)).await?;
    let answers = camp::answers_of(db, parts.iter().map(|p| p.id)).await?;
    Ok(parts
        .into_iter()
        .map(|p| {
            let mine: Vec<_> = answers.iter().filter(|a| a.participant_id == p.id).collect();
            Participant {
                id: p.id,
                department_name: depts.get(&p.department_id).cloned().unwrap_or_default(),
                person_name: p.person_id.and_then(|i| people.get(&i).cloned()),
                answered: mine.iter().filter(|a| !a.found.trim().is_empty()).count() as u64,
                problems: mine.iter().filter(|a| is_problem(a)).count() as u64,
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

async fn detail(s: &AppState, v: &Viewer, k: campaign::Model) -> ApiResult<CampaignDetail> {
    let db = s.store.db();
    let items = camp::items_of(db, k.id).await?.into_iter().map(item_dto).collect();
    let parts = camp::participants_of(db, k.id, v.answerer().as_ref()).await?;
    Ok(CampaignDetail { participants: participant_dtos(s, parts).await?, items, campaign: campaign_dto(s, k).await? })
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
    if let Some(st) = p.status.as_deref().filter(|x| !x.is_empty() && !matches!(*x, "draft" | "open" | "closed")) {
        c.push(xiaoneng_core::ValidationError::new(
            "status",
            "invalid_choice",
            format!("取值无效（{st}），可选：draft、open、closed"),
            "Not a valid choice; one of: draft, open, closed",
        ));
    }
    c.done()?;
    let rows = camp::list_campaigns(s.store.db(), v.answerer().as_ref(), p.status.as_deref(), page).await?;
    let mut items = Vec::new();
    for k in rows.items {
        items.push(campaign_dto(&s, k).await?);
    }
    Ok(Json(Page { items, total: rows.total, page: rows.page, page_size: rows.page_size }))
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
    pub kind: String,
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
}

impl CampaignBody {
    async fn parse(self, s: &AppState) -> ApiResult<CampaignInput> {
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
        let db = s.store.db();
        let mut participants = Vec::new();
        for (i, p) in self.participants.iter().enumerate() {
            let field = format!("participants[{i}]");
            match (p.kind.as_str(), p.department_id, p.person_id) {
                ("department" | "leadership", Some(d), _) => {
                    org::get_department(db, &Scope::All, d).await.map_err(|_| {
                        ApiError::invalid(&field, "unknown_department", "部门不存在", "No such department")
                    })?;
                    participants.push((p.kind.clone(), d, None));
                }
                ("person", _, Some(pid)) => {
                    let person = org::get_person(db, &Scope::All, pid)
                        .await
                        .map_err(|_| ApiError::invalid(&field, "unknown_person", "人员不存在", "No such person"))?;
                    participants.push(("person".into(), person.department_id, Some(pid)));
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
    })
}

#[utoipa::path(post, operation_id = "campaigns_create", path = "/api/v1/campaigns", tag = "rectification", request_body = CampaignBody,
    responses((status = 201, body = CampaignDetail), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    ApiJson(b): ApiJson<CampaignBody>,
) -> ApiResult<(StatusCode, Json<CampaignDetail>)> {
    let input = b.parse(&s).await?;
    let tx = s.store.write().await?;
    let d = json!({ "title": input.title, "items": input.items.len(), "participants": input.participants.len() });
    let k = camp::save_campaign(&tx, None, input, auth.user.id, s.clock.now()).await?;
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "campaign.create", "campaign", k.id, d)).await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok((StatusCode::CREATED, Json(detail(&s, &v, k).await?)))
}

#[utoipa::path(get, operation_id = "campaigns_get_one", path = "/api/v1/campaigns/{id}", tag = "rectification",
    responses((status = 200, body = CampaignDetail), (status = 404, body = ErrorBody)))]
async fn get_one(State(s): State<AppState>, v: Viewer, Path(id): Path<i64>) -> ApiResult<Json<CampaignDetail>> {
    let k = camp::get_campaign(s.store.db(), id).await?;
    let d = detail(&s, &v, k).await?;
    if !v.office && (d.participants.is_empty() || d.campaign.status == "draft") {
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
    let input = b.parse(&s).await?;
    let tx = s.store.write().await?;
    let d = json!({ "title": input.title, "items": input.items.len(), "participants": input.participants.len() });
    let k = camp::save_campaign(&tx, Some(id), input, auth.user.id, s.clock.now()).await.map_err(state_conflict)?;
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "campaign.update", "campaign", id, d)).await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok(Json(detail(&s, &v, k).await?))
}

async fn change_status(
    s: &AppState,
    auth: Authorized<perm::CampaignManage>,
    id: i64,
    to: &str,
) -> ApiResult<Json<CampaignDetail>> {
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let k = camp::set_status(&tx, id, to, now).await.map_err(|e| match e {
        xiaoneng_store::StoreError::Invalid(v) => ApiError::refused(StatusCode::CONFLICT, v.code, v.zh, v.en),
        other => other.into(),
    })?;
    if to == "open" {
        // Tell every participant: a department's head and liaison, or the person's own account.
        let parts = camp::participants_of(&tx, id, None).await?;
        let mut users = Vec::new();
        for p in &parts {
            match p.person_id {
                None => users
                    .extend(rect::department_users(&tx, p.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?),
                Some(person) => users.extend(xiaoneng_store::accounts::users_of_person(&tx, person).await?),
            }
        }
        users.sort_unstable();
        users.dedup();
        let note = Note {
            kind: "campaign.open",
            title: format!("请开展自查：{}", k.title),
            body: format!("请于 {} 前逐项填报自查情况并提交。", k.period_end),
            link: format!("/campaigns/{id}"),
            due: Some(k.period_end),
        };
        rect::notify(&tx, &users, &note, Some(&format!("campaign.open:{id}")), now).await?;
    }
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(s, &format!("campaign.{to}"), "campaign", id, json!({})))
        .await?;
    tx.commit().await?;
    let v = Viewer { user: auth.user, office: true };
    Ok(Json(detail(s, &v, k).await?))
}

/// Starts the campaign: participants are told and may answer.
#[utoipa::path(post, operation_id = "campaigns_open", path = "/api/v1/campaigns/{id}/open", tag = "rectification",
    responses((status = 200, body = CampaignDetail), (status = 409, body = ErrorBody)))]
async fn open(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignDetail>> {
    change_status(&s, auth, id, "open").await
}

/// Ends the campaign: no more answers.
#[utoipa::path(post, operation_id = "campaigns_close", path = "/api/v1/campaigns/{id}/close", tag = "rectification",
    responses((status = 200, body = CampaignDetail), (status = 409, body = ErrorBody)))]
async fn close(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignDetail>> {
    change_status(&s, auth, id, "closed").await
}

/// Every participant's answers, one row per item, as an Excel workbook.
#[utoipa::path(get, operation_id = "campaigns_export", path = "/api/v1/campaigns/{id}/export", tag = "rectification",
    responses((status = 200, description = "the workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignManage>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let db = s.store.db();
    let k = camp::get_campaign(db, id).await?;
    let items = camp::items_of(db, id).await?;
    let parts = participant_dtos(&s, camp::participants_of(db, id, None).await?).await?;
    let answers = camp::answers_of(db, parts.iter().map(|p| p.id)).await?;
    let by: HashMap<(i64, i64), &self_check_answer::Model> =
        answers.iter().map(|a| ((a.participant_id, a.item_id), a)).collect();
    let kind = |k: &str| match k {
        "department" => "部门",
        "leadership" => "领导班子",
        _ => "个人",
    };
    let mut rows = Vec::new();
    for p in &parts {
        for it in &items {
            let a = by.get(&(p.id, it.id));
            rows.push(vec![
                p.department_name.clone(),
                kind(&p.kind).to_owned(),
                p.person_name.clone().unwrap_or_default(),
                if p.status == "submitted" { "已提交" } else { "未提交" }.to_owned(),
                it.title.clone(),
                a.map(|a| a.found.clone()).unwrap_or_default(),
                a.map(|a| a.measures.clone()).unwrap_or_default(),
                a.and_then(|a| a.due).map(|d| d.to_string()).unwrap_or_default(),
                if a.is_some_and(|a| is_problem(a)) { "是" } else { "" }.to_owned(),
            ]);
        }
    }
    let headers =
        ["单位", "参加对象", "人员", "提交情况", "自查项目", "发现的问题", "整改措施", "完成时限", "存在问题"];
    let bytes = excel::write_sheet("自查情况", &headers, &rows)?;
    let tx = s.store.write().await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "campaign.export", "campaign", id, json!({ "rows": rows.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(excel::attachment(bytes, &format!("campaign-{id}.xlsx"), &format!("{}-自查情况.xlsx", k.title)))
}

// ------------------------------------------------------------------ participations

async fn participation(s: &AppState, v: &Viewer, p: campaign_participant::Model) -> ApiResult<Participation> {
    let db = s.store.db();
    let k = camp::get_campaign(db, p.campaign_id).await?;
    let items = camp::items_of(db, k.id).await?.into_iter().map(item_dto).collect();
    let answers = camp::answers_of(db, [p.id])
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
    let mine = !v.office || camp::get_participant(db, Some(&answerer(&v.user)), p.id).await.is_ok();
    let can_edit = mine && k.status == "open" && p.status == "pending";
    let can_submit = can_edit && (p.person_id.is_some() || v.user.grants.has(Permission::ReportSubmit));
    let participant = participant_dtos(s, vec![p]).await?.remove(0);
    Ok(Participation { campaign: campaign_dto(s, k).await?, participant, items, answers, can_edit, can_submit })
}

#[utoipa::path(get, operation_id = "campaigns_get_participation", path = "/api/v1/campaign-participations/{id}", tag = "rectification",
    responses((status = 200, body = Participation), (status = 404, body = ErrorBody)))]
async fn get_participation(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> ApiResult<Json<Participation>> {
    let p = camp::get_participant(s.store.db(), v.answerer().as_ref(), id).await?;
    Ok(Json(participation(&s, &v, p).await?))
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
    let k = camp::get_campaign(&tx, p.campaign_id).await?;
    if k.status != "open" {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "campaign_not_open",
            "活动未在进行中",
            "The campaign is not open",
        ));
    }
    let n = answers.len();
    camp::save_answers(&tx, &p, answers, auth.user.id, s.clock.now()).await.map_err(already_submitted)?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "self_check.save", "campaign_participant", id, json!({ "answers": n })),
    )
    .await?;
    tx.commit().await?;
    let viewer = Viewer { user: auth.user, office: false };
    Ok(Json(participation(&s, &viewer, p).await?))
}

fn already_submitted(e: xiaoneng_store::StoreError) -> ApiError {
    match e {
        xiaoneng_store::StoreError::Invalid(v) if v.code == "already_submitted" => {
            ApiError::refused(StatusCode::CONFLICT, v.code, v.zh, v.en)
        }
        other => other.into(),
    }
}

/// Submits the self-check: a department's head (the liaison prepares), or the person.
#[utoipa::path(post, operation_id = "campaigns_submit", path = "/api/v1/campaign-participations/{id}/submit", tag = "rectification",
    responses((status = 200, body = Participation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit(
    State(s): State<AppState>,
    auth: Authorized<perm::CampaignAnswer>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Participation>> {
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let p = camp::get_participant(&tx, Some(&answerer(&auth.user)), id).await?;
    if p.person_id.is_none() && !auth.user.grants.has(Permission::ReportSubmit) {
        return Err(ApiError::Forbidden);
    }
    let k = camp::get_campaign(&tx, p.campaign_id).await?;
    if k.status != "open" {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "campaign_not_open",
            "活动未在进行中",
            "The campaign is not open",
        ));
    }
    let p = camp::submit(&tx, p, auth.user.id, now).await.map_err(already_submitted)?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "self_check.submit", "campaign_participant", id, json!({ "campaign_id": k.id })),
    )
    .await?;
    tx.commit().await?;
    let viewer = Viewer { user: auth.user, office: false };
    Ok(Json(participation(&s, &viewer, p).await?))
}

/// The caller's self-checks still to submit, for the inbox.
pub(crate) async fn tasks(s: &AppState, user: &CurrentUser, today: NaiveDate) -> ApiResult<Vec<Task>> {
    if !user.grants.has(Permission::CampaignAnswer) {
        return Ok(Vec::new());
    }
    let pending = camp::pending_for(s.store.db(), &answerer(user)).await?;
    Ok(pending
        .into_iter()
        .map(|(p, k)| Task {
            kind: "self_check".into(),
            title: format!("填报自查：{}", k.title),
            link: format!("/campaigns/participations/{}", p.id),
            due: Some(k.period_end),
            overdue: today > k.period_end,
        })
        .collect())
}
