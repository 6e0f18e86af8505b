//! Bulletins (通报): the office gathers confirmed findings of a period under a number and
//! publishes them — once. Publishing notifies the findings to their departments and issues their
//! rectification orders. Every step is `core::rectification`'s decision.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{Permission, Role},
    rectification::{
        self as core_rect, BulletinAction, BulletinActor, BulletinScope, BulletinState, Deadline, PublishFacts,
        RectificationPolicy, check_contents, order_issued,
    },
};
use xiaoneng_store::{
    entity::{bulletin, order},
    ledger,
    rectification::{self as rect, BulletinFilter, BulletinInput, Note},
    settings,
};

use super::read::{self, BulletinFinding, Instruction, Order, number_text};
use crate::{
    ApiResult, AppState,
    api::{Checks, Page, RetireRequest, page_req, parse_opt},
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody, expect_state},
    extract::{ApiJson, ApiQuery, MaybeJson},
    inspections::access::Rules,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(publish_route))
        .routes(routes!(withdraw_route))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinRef {
    pub id: i64,
    /// 效能通报〔2026〕12号
    pub number: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bulletin {
    pub id: i64,
    pub status: BulletinState,
    pub scope: BulletinScope,
    pub title: String,
    pub body: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Whether people's names are masked (张*) where the public reads it.
    pub mask_names: bool,
    /// The published bulletin this one corrects.
    pub corrects: Option<BulletinRef>,
    /// Published bulletins that correct this one.
    pub corrected_by: Vec<BulletinRef>,
    /// What each department is required to do.
    pub requirement: String,
    pub deadline: Deadline,
    pub year: Option<i32>,
    pub number: Option<i32>,
    /// The number as written, once published.
    pub number_text: Option<String>,
    /// Where the public reads it (public and media bulletins, once published).
    pub public_path: Option<String>,
    pub finding_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<BulletinAction>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinDetail {
    #[serde(flatten)]
    pub bulletin: Bulletin,
    pub findings: Vec<BulletinFinding>,
    /// The orders it issued that the caller may see.
    pub orders: Vec<Order>,
    /// City leaders' instructions (批示) on it.
    pub instructions: Vec<Instruction>,
}

/// Where the public reads a bulletin: public and media ones, once published.
pub fn public_path(b: &bulletin::Model) -> Option<String> {
    match (b.status, b.scope.is_public(), b.year, b.number) {
        (BulletinState::Published, true, Some(y), Some(n)) => Some(format!("/public/bulletins/{y}/{n}")),
        _ => None,
    }
}

fn reference(b: &bulletin::Model) -> BulletinRef {
    BulletinRef { id: b.id, number: number_text(b).unwrap_or_else(|| "（草稿）".into()), title: b.title.clone() }
}

/// How the caller stands to bulletins.
pub fn actor(user: &CurrentUser) -> BulletinActor {
    BulletinActor {
        office: user.grants.has(Permission::RectificationManage),
        instructor: user.grants.has(Permission::InstructionWrite),
    }
}

/// A page of bulletins as lists show them: what they correct, their corrections and their
/// finding counts fetched once for the page.
async fn dtos<C: ConnectionTrait>(c: &C, user: &CurrentUser, rows: Vec<bulletin::Model>) -> ApiResult<Vec<Bulletin>> {
    let ids: Vec<i64> = rows.iter().map(|b| b.id).collect();
    let corrected: Vec<i64> = rows.iter().filter_map(|b| b.corrects_id).collect();
    let olds = rect::bulletins_by_ids(c, &corrected).await?;
    let mut corrections = rect::corrections_of(c, &ids).await?;
    let counts = rect::finding_counts(c, &ids).await?;
    let who = actor(user);
    Ok(rows
        .into_iter()
        .map(|b| Bulletin {
            id: b.id,
            corrects: b.corrects_id.and_then(|id| olds.get(&id)).map(reference),
            corrected_by: corrections.remove(&b.id).unwrap_or_default().iter().map(reference).collect(),
            deadline: rect::deadline_of(&b),
            number_text: number_text(&b),
            public_path: public_path(&b),
            finding_count: counts.get(&b.id).copied().unwrap_or(0),
            allowed_actions: b.status.allowed_actions(who),
            status: b.status,
            scope: b.scope,
            title: b.title,
            body: b.body,
            period_start: b.period_start,
            period_end: b.period_end,
            mask_names: b.mask_names,
            requirement: b.requirement,
            year: b.year,
            number: b.number,
            created_at: b.created_at,
            updated_at: b.updated_at,
            published_at: b.published_at,
        })
        .collect())
}

/// Who may read which bulletins: the office every one, anyone else with `bulletin:read` the
/// published ones.
pub fn may_read(user: &CurrentUser, b: &bulletin::Model) -> bool {
    user.grants.has(Permission::RectificationManage)
        || (user.grants.has(Permission::BulletinRead) && b.status == BulletinState::Published)
}

/// Someone who reads bulletins: `bulletin:read` or the office.
pub struct Reader(pub CurrentUser);

impl axum::extract::FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let perms = [Permission::BulletinRead, Permission::RectificationManage];
        Ok(Reader(crate::auth::any_of(parts, s, &perms).await?))
    }
}

async fn detail(s: &AppState, user: &CurrentUser, b: bulletin::Model) -> ApiResult<BulletinDetail> {
    let db = s.store.db();
    let today = city_day(s.clock.now());
    let findings = rect::bulletin_findings(db, b.id).await?;
    let findings = read::finding_lines(db, &findings).await?;
    let orders = match user.scope(Permission::RectificationRead) {
        Some(scope) => {
            let f = rect::OrderFilter { bulletin_id: Some(b.id), ..Default::default() };
            let rows = rect::list_orders(db, &scope, &f, xiaoneng_store::PageReq { page: 1, page_size: 200 }).await?;
            read::order_dtos(db, rows.items, today).await?
        }
        None => Vec::new(),
    };
    let on = rect::instructions_on(db, core_rect::InstructionTarget::Bulletin, [b.id]).await?;
    let instructions = read::instruction_dtos(db, user, on, today).await?;
    let bulletin = dtos(db, user, vec![b]).await?.pop().ok_or(ApiError::NotFound)?;
    Ok(BulletinDetail { bulletin, findings, orders, instructions })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Part of the title or text.
    pub q: Option<String>,
    /// `draft`, `published` or `withdrawn` (others than the office see only published ones).
    pub status: Option<String>,
    /// `internal`, `public` or `media`.
    pub scope: Option<String>,
    pub year: Option<i32>,
}

/// Bulletins, newest first.
#[utoipa::path(get, operation_id = "bulletins_list", path = "/api/v1/bulletins", tag = "rectification", params(ListParams),
    responses((status = 200, body = Page<Bulletin>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    Reader(user): Reader,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Bulletin>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let status = parse_opt("status", p.status.as_deref(), &mut v);
    let scope = parse_opt("scope", p.scope.as_deref(), &mut v);
    v.done()?;
    let f = BulletinFilter {
        q: p.q,
        status,
        scope,
        year: p.year,
        published_only: !user.grants.has(Permission::RectificationManage),
        public_only: false,
    };
    let db = s.store.db();
    let rows = rect::list_bulletins(db, &f, page).await?;
    let (total, pg, ps) = (rows.total, rows.page, rows.page_size);
    Ok(Json(Page { items: dtos(db, &user, rows.items).await?, total, page: pg, page_size: ps }))
}

#[utoipa::path(get, operation_id = "bulletins_get_one", path = "/api/v1/bulletins/{id}", tag = "rectification",
    responses((status = 200, body = BulletinDetail), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i64>,
) -> ApiResult<Json<BulletinDetail>> {
    let b = rect::get_bulletin(s.store.db(), id).await?;
    if !may_read(&user, &b) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(detail(&s, &user, b).await?))
}

// ------------------------------------------------------------------ commands

/// Starts a draft (`draft` is `None`) or rewrites one, as the bulletin's machine allows.
pub async fn compose<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    draft: Option<&bulletin::Model>,
    input: BulletinInput,
) -> ApiResult<bulletin::Model> {
    let who = actor(act.user);
    match draft {
        Some(d) => d.status.permits(BulletinAction::Edit, who)?,
        None if !who.office => return Err(ApiError::Forbidden),
        None => {}
    }
    let found = xiaoneng_store::inspections::findings_by_ids(c, &input.finding_ids).await?;
    let listed: Vec<_> =
        input.finding_ids.iter().map(|id| (*id, found.iter().find(|f| f.id == *id).map(|f| f.state))).collect();
    let corrects = match input.corrects_id {
        Some(id) => Some((id, rect::bulletins_by_ids(c, &[id]).await?.remove(&id).map(|b| b.status))),
        None => None,
    };
    check_contents(draft.map(|d| d.id), &listed, corrects)?;
    let n = input.finding_ids.len();
    let b = rect::save_bulletin(c, draft, input, act.user.id, act.now).await?;
    let d = json!({ "title": b.title, "scope": b.scope, "findings": n, "corrects_id": b.corrects_id });
    let action = if draft.is_some() { "bulletin.update" } else { "bulletin.create" };
    ledger::append(c, act.algo, &act.audit(action, "bulletin", b.id, d), &[], None).await?;
    Ok(b)
}

/// Abandons a draft; it stays on record as withdrawn.
pub async fn withdraw<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    b: &bulletin::Model,
    reason: &str,
) -> ApiResult<bulletin::Model> {
    let d = b.status.withdraw(b.id, actor(act.user), reason, act.now)?;
    let out = rect::apply_bulletin_state(c, b.id, b.status, d.next, act.now).await?;
    let rec = act.audit("bulletin.withdraw", "bulletin", b.id, json!({ "reason": reason }));
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok(out)
}

/// Publishes a draft: numbered, final; its confirmed findings notified, and each department an
/// order for its findings not yet under one — as `core::rectification::publish` decides. The
/// departments are told, and the office's message robots get a notice.
pub async fn publish<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    b: &bulletin::Model,
) -> ApiResult<(bulletin::Model, Vec<order::Model>)> {
    let today = city_day(act.now);
    let listed = rect::listed_findings(c, b.id).await?;
    let facts = PublishFacts {
        id: b.id,
        state: b.status,
        scope: b.scope,
        corrects_id: b.corrects_id,
        deadline: rect::deadline_of(b),
        findings: &listed,
        last_number: rect::last_number(c, chrono::Datelike::year(&today)).await?,
    };
    let calendar = xiaoneng_store::calendar::work_calendar(c).await?;
    let rules = Rules::load(c).await?;
    let p = core_rect::publish(facts, actor(act.user), act.now, &calendar, rules.get())?;
    let (published, orders) = rect::apply_publication(c, b, &p, act.user.id, act.now).await?;

    let mut events = p.bulletin.events.clone();
    for (_, _, d) in &p.findings {
        events.extend(d.events.iter().cloned());
    }
    for (row, o) in orders.iter().zip(&p.orders) {
        events.push(order_issued(row.id, Some(b.id), o, act.now));
        let users = rect::department_users(c, o.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        let note = Note {
            kind: "order.issued",
            title: format!("整改通知：{}", p.number_text),
            body: format!("{}，请于 {} 前书面报送整改情况。", b.title, o.deadline),
            link: format!("/rectification/{}", row.id),
            due: Some(o.deadline),
        };
        rect::notify(c, &users, &note, None, act.now).await?;
    }
    let notified: Vec<i64> = p.findings.iter().map(|(id, _, _)| *id).collect();
    let d = json!({ "number": p.number_text, "notified": notified, "orders": orders.iter().map(|o| o.id).collect::<Vec<_>>(), "deadline": p.deadline });
    ledger::append(c, act.algo, &act.audit("bulletin.publish", "bulletin", b.id, d), &events, None).await?;
    if !orders.is_empty() {
        let text = format!(
            "【效能办】{}《{}》已发布，{} 个部门收到整改通知，请于 {} 前书面报送整改情况。",
            p.number_text,
            b.title,
            orders.len(),
            p.deadline
        );
        crate::jobs::enqueue_notice(c, &text, Some(format!("bulletin.publish:{}", b.id)), act.now).await?;
    }
    Ok((published, orders))
}

// ------------------------------------------------------------------ routes

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulletinBody {
    pub scope: BulletinScope,
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Mask people's names for the public (default yes).
    pub mask_names: Option<bool>,
    /// Set to correct a published bulletin.
    pub corrects_id: Option<i64>,
    /// The confirmed findings it lists, in order.
    #[serde(default)]
    pub finding_ids: Vec<i64>,
    /// What each department must do; a standard sentence when empty.
    #[serde(default)]
    pub requirement: String,
    /// By when: `{"kind":"date","date":"2026-12-20"}` or `{"kind":"working_days","days":10}`;
    /// the office's default number of working days when left out.
    pub deadline: Option<Deadline>,
    /// On an edit: the state the caller last saw (409 `state_changed` if it moved on).
    pub expected_state: Option<BulletinState>,
}

impl BulletinBody {
    async fn parse<C: ConnectionTrait>(self, c: &C, today: NaiveDate) -> ApiResult<BulletinInput> {
        let mut v = Checks::default();
        let title = v.take(parse_name("title", &self.title, 200));
        let body = v.take(parse_text("body", &self.body, 20_000));
        let requirement = v.take(parse_text("requirement", &self.requirement, 2_000));
        if self.period_end < self.period_start {
            v.push(ValidationError::new(
                "period_end",
                "before_start",
                "结束日期不能早于开始日期",
                "The period cannot end before it starts",
            ));
        }
        if self.finding_ids.len() > 500 {
            v.push(ValidationError::new(
                "finding_ids",
                "too_many",
                "一期通报最多列 500 个问题",
                "A bulletin lists at most 500 findings",
            ));
        }
        let policy: RectificationPolicy = settings::get(c, settings::RECTIFICATION_POLICY).await?;
        let deadline = self.deadline.unwrap_or(Deadline::WorkingDays { days: policy.default_working_days });
        if let Deadline::WorkingDays { .. } = deadline {
            v.take(deadline.validate(today));
        }
        v.done()?;
        Ok(BulletinInput {
            scope: self.scope,
            title,
            body,
            period_start: self.period_start,
            period_end: self.period_end,
            mask_names: self.mask_names.unwrap_or(true),
            corrects_id: self.corrects_id,
            requirement,
            deadline,
            finding_ids: self.finding_ids,
        })
    }
}

/// Starts a draft bulletin.
#[utoipa::path(post, operation_id = "bulletins_create", path = "/api/v1/bulletins", tag = "rectification", request_body = BulletinBody,
    responses((status = 201, body = BulletinDetail), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    ApiJson(b): ApiJson<BulletinBody>,
) -> ApiResult<(StatusCode, Json<BulletinDetail>)> {
    let input = b.parse(s.store.db(), city_day(s.clock.now())).await?;
    let tx = s.store.write().await?;
    let b = compose(&tx, Act::new(&s, &auth.user), None, input).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail(&s, &auth.user, b).await?)))
}

/// Rewrites a draft (a published bulletin cannot change: publish a correction).
#[utoipa::path(put, operation_id = "bulletins_update", path = "/api/v1/bulletins/{id}", tag = "rectification", request_body = BulletinBody,
    responses((status = 200, body = BulletinDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<BulletinBody>,
) -> ApiResult<Json<BulletinDetail>> {
    let expected = b.expected_state;
    let input = b.parse(s.store.db(), city_day(s.clock.now())).await?;
    let tx = s.store.write().await?;
    let draft = rect::get_bulletin(&tx, id).await?;
    expect_state(expected, draft.status)?;
    let b = compose(&tx, Act::new(&s, &auth.user), Some(&draft), input).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, b).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StateBody {
    /// The state the caller last saw: if the bulletin has moved on since, 409 `state_changed`.
    pub expected_state: Option<BulletinState>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawBody {
    pub reason: String,
    pub expected_state: Option<BulletinState>,
}

/// Abandons a draft (kept on record as withdrawn).
#[utoipa::path(post, operation_id = "bulletins_withdraw", path = "/api/v1/bulletins/{id}/withdraw", tag = "rectification", request_body = WithdrawBody,
    responses((status = 200, body = BulletinDetail), (status = 409, body = ErrorBody)))]
async fn withdraw_route(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WithdrawBody>,
) -> ApiResult<Json<BulletinDetail>> {
    let reason = RetireRequest { reason: b.reason }.reason()?;
    let tx = s.store.write().await?;
    let draft = rect::get_bulletin(&tx, id).await?;
    expect_state(b.expected_state, draft.status)?;
    let out = withdraw(&tx, Act::new(&s, &auth.user), &draft, &reason).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, out).await?))
}

/// Publishes a draft: numbered, final. Its findings are notified to their departments, and each
/// department gets an order for its findings not yet under one.
#[utoipa::path(post, operation_id = "bulletins_publish", path = "/api/v1/bulletins/{id}/publish", tag = "rectification", request_body = StateBody,
    responses((status = 200, body = BulletinDetail), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish_route(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    Path(id): Path<i64>,
    MaybeJson(body): MaybeJson<StateBody>,
) -> ApiResult<Json<BulletinDetail>> {
    let expected = body.expected_state;
    let tx = s.store.write().await?;
    let draft = rect::get_bulletin(&tx, id).await?;
    expect_state(expected, draft.status)?;
    let (b, _) = publish(&tx, Act::new(&s, &auth.user), &draft).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, b).await?))
}
