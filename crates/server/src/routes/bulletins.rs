//! Bulletins (通报): the office gathers confirmed findings of a period under a number, and
//! publishes them — once. Publishing notifies the findings to their departments and issues their
//! rectification orders. A bulletin exports as Word and PDF, and a public one reads without
//! logging in at `/public/bulletins/{year}/{number}`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{Permission, Role},
    rectification::{BulletinScope, BulletinState, Deadline, RectificationPolicy, bulletin_number, mask_name},
};
use xiaoneng_documents::{FindingRow, OfficialDocument};
use xiaoneng_store::{
    audit,
    entity::{bulletin, finding},
    inspections, org,
    rectification::{self as rect, BulletinFilter, BulletinInput, Note},
    settings,
};

use super::{Checks, Page, RetireRequest, page_req, parse_enum};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(publish))
        .routes(routes!(withdraw))
        .routes(routes!(document))
        .routes(routes!(public_list))
        .routes(routes!(public_page))
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
    /// `draft`, `published` or `withdrawn`.
    pub status: String,
    /// `internal`, `public` or `media`.
    pub scope: String,
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
}

/// A finding as a bulletin lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinFinding {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub window_name: Option<String>,
    pub person_name: Option<String>,
    pub category_name: String,
    pub severity: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinDetail {
    #[serde(flatten)]
    pub bulletin: Bulletin,
    pub findings: Vec<BulletinFinding>,
    /// The orders it issued that the caller may see.
    pub orders: Vec<super::orders::Order>,
    /// City leaders' instructions (批示) on it.
    pub instructions: Vec<super::orders::Instruction>,
}

fn deadline_of(b: &bulletin::Model) -> Deadline {
    serde_json::from_str(&b.deadline).unwrap_or(Deadline::WorkingDays { days: 10 })
}

fn public_path(b: &bulletin::Model) -> Option<String> {
    let scope = BulletinScope::from_code(&b.scope)?;
    match (b.status.as_str(), scope.is_public(), b.year, b.number) {
        ("published", true, Some(y), Some(n)) => Some(format!("/public/bulletins/{y}/{n}")),
        _ => None,
    }
}

fn number_text(b: &bulletin::Model) -> Option<String> {
    Some(bulletin_number(b.year?, b.number?))
}

fn reference(b: &bulletin::Model) -> BulletinRef {
    BulletinRef { id: b.id, number: number_text(b).unwrap_or_else(|| "（草稿）".into()), title: b.title.clone() }
}

async fn dto(s: &AppState, b: bulletin::Model) -> ApiResult<Bulletin> {
    let db = s.store.db();
    let corrects = match b.corrects_id {
        Some(id) => Some(reference(&rect::get_bulletin(db, id).await?)),
        None => None,
    };
    let corrected_by = rect::corrections_of(db, b.id).await?.iter().map(reference).collect();
    let finding_count = rect::finding_count(db, b.id).await?;
    Ok(Bulletin {
        id: b.id,
        corrects,
        corrected_by,
        deadline: deadline_of(&b),
        number_text: number_text(&b),
        public_path: public_path(&b),
        finding_count,
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
}

/// Findings as bulletins and orders list them, with the names filled in; `mask` hides people's
/// names but the surname.
pub(crate) async fn finding_lines(
    s: &AppState,
    rows: &[finding::Model],
    mask: bool,
) -> ApiResult<Vec<BulletinFinding>> {
    let db = s.store.db();
    let departments = org::department_names(db, rows.iter().map(|f| f.department_id)).await?;
    let windows = org::window_names(db, rows.iter().filter_map(|f| f.window_id)).await?;
    let people = org::person_names(db, rows.iter().filter_map(|f| f.person_id)).await?;
    let categories: HashMap<i64, String> =
        inspections::list_categories(db, true).await?.into_iter().map(|c| (c.id, c.name)).collect();
    Ok(rows
        .iter()
        .map(|f| BulletinFinding {
            id: f.id,
            department_id: f.department_id,
            department_name: departments.get(&f.department_id).cloned().unwrap_or_default(),
            window_name: f.window_id.and_then(|w| windows.get(&w).cloned()),
            person_name: f
                .person_id
                .and_then(|p| people.get(&p).cloned())
                .map(|n| if mask { mask_name(&n) } else { n }),
            category_name: categories.get(&f.category_id).cloned().unwrap_or_default(),
            severity: f.severity.clone(),
            occurred_at: f.occurred_at,
            description: f.description.clone(),
            state: f.state.clone(),
        })
        .collect())
}

/// Who may read which bulletins: the office every one, anyone else with `bulletin:read` the
/// published ones.
fn may_read(user: &CurrentUser, b: &bulletin::Model) -> bool {
    user.grants.has(Permission::RectificationManage)
        || (user.grants.has(Permission::BulletinRead) && b.status == BulletinState::Published.code())
}

struct Reader(CurrentUser);

impl axum::extract::FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let perms = [Permission::BulletinRead, Permission::RectificationManage];
        Ok(Reader(crate::auth::any_of(parts, s, &perms).await?))
    }
}

async fn detail(s: &AppState, user: &CurrentUser, b: bulletin::Model) -> ApiResult<BulletinDetail> {
    let db = s.store.db();
    let findings = rect::bulletin_findings(db, b.id).await?;
    let findings = finding_lines(s, &findings, false).await?;
    let orders = match user.scope(Permission::RectificationRead) {
        Some(scope) => {
            let f = rect::OrderFilter { bulletin_id: Some(b.id), ..Default::default() };
            let rows = rect::list_orders(db, &scope, &f, xiaoneng_store::PageReq { page: 1, page_size: 200 }).await?;
            super::orders::order_dtos(s, rows.items).await?
        }
        None => Vec::new(),
    };
    let instructions = super::orders::instruction_dtos(s, rect::instructions_on(db, "bulletin", [b.id]).await?).await?;
    Ok(BulletinDetail { bulletin: dto(s, b).await?, findings, orders, instructions })
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
    let statuses: Vec<&str> = BulletinState::ALL.iter().map(|s| s.code()).collect();
    if let Some(st) = p.status.as_deref().filter(|x| !x.is_empty()) {
        v.take(parse_enum("status", st, BulletinState::from_code, &statuses).map(|_| ()));
    }
    let scopes: Vec<&str> = BulletinScope::ALL.iter().map(|s| s.code()).collect();
    if let Some(sc) = p.scope.as_deref().filter(|x| !x.is_empty()) {
        v.take(parse_enum("scope", sc, BulletinScope::from_code, &scopes).map(|_| ()));
    }
    v.done()?;
    let f = BulletinFilter {
        q: p.q,
        status: p.status,
        scope: p.scope,
        year: p.year,
        published_only: !user.grants.has(Permission::RectificationManage),
        public_only: false,
    };
    let rows = rect::list_bulletins(s.store.db(), &f, page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for b in rows.items {
        items.push(dto(&s, b).await?);
    }
    Ok(Json(Page { items, total: rows.total, page: rows.page, page_size: rows.page_size }))
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulletinBody {
    /// `internal`, `public` or `media`.
    pub scope: String,
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
}

impl BulletinBody {
    async fn parse(self, s: &AppState) -> ApiResult<BulletinInput> {
        let mut v = Checks::default();
        let scopes: Vec<&str> = BulletinScope::ALL.iter().map(|s| s.code()).collect();
        let scope =
            v.take(parse_enum("scope", &self.scope, BulletinScope::from_code, &scopes).map(|s| s.code().to_owned()));
        let title = v.take(parse_name("title", &self.title, 200));
        let body = v.take(parse_text("body", &self.body, 20_000));
        let requirement = v.take(parse_text("requirement", &self.requirement, 2_000));
        if self.period_end < self.period_start {
            v.push(xiaoneng_core::ValidationError::new(
                "period_end",
                "before_start",
                "结束日期不能早于开始日期",
                "The period cannot end before it starts",
            ));
        }
        if self.finding_ids.len() > 500 {
            v.push(xiaoneng_core::ValidationError::new(
                "finding_ids",
                "too_many",
                "一期通报最多列 500 个问题",
                "A bulletin lists at most 500 findings",
            ));
        }
        let policy: RectificationPolicy = settings::get(s.store.db(), settings::RECTIFICATION_POLICY).await?;
        let deadline = self.deadline.unwrap_or(Deadline::WorkingDays { days: policy.default_working_days });
        if let Deadline::WorkingDays { .. } = deadline {
            v.take(deadline.validate(city_day(s.clock.now())));
        }
        v.done()?;
        Ok(BulletinInput {
            scope,
            title,
            body,
            period_start: self.period_start,
            period_end: self.period_end,
            mask_names: self.mask_names.unwrap_or(true),
            corrects_id: self.corrects_id,
            requirement,
            deadline: serde_json::to_string(&deadline).map_err(|e| ApiError::Internal(e.to_string()))?,
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
    let input = b.parse(&s).await?;
    let tx = s.store.write().await?;
    let n = input.finding_ids.len();
    let b = rect::save_bulletin(&tx, None, input, auth.user.id, s.clock.now()).await?;
    let d = json!({ "title": b.title, "scope": b.scope, "findings": n, "corrects_id": b.corrects_id });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "bulletin.create", "bulletin", b.id, d)).await?;
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
    let input = b.parse(&s).await?;
    let tx = s.store.write().await?;
    let n = input.finding_ids.len();
    let b = rect::save_bulletin(&tx, Some(id), input, auth.user.id, s.clock.now()).await.map_err(state_conflict)?;
    let d = json!({ "title": b.title, "scope": b.scope, "findings": n });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "bulletin.update", "bulletin", id, d)).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, b).await?))
}

/// A step refused because of where the record stands is a conflict with its state (409), not a
/// malformed request.
pub(crate) fn state_conflict(e: xiaoneng_store::StoreError) -> ApiError {
    match e {
        xiaoneng_store::StoreError::Invalid(v)
            if matches!(v.code, "not_a_draft" | "already_published" | "not_awaiting_report" | "not_open") =>
        {
            ApiError::refused(StatusCode::CONFLICT, v.code, v.zh, v.en)
        }
        other => other.into(),
    }
}

/// Abandons a draft (kept on record as withdrawn).
#[utoipa::path(post, operation_id = "bulletins_withdraw", path = "/api/v1/bulletins/{id}/withdraw", tag = "rectification", request_body = RetireRequest,
    responses((status = 200, body = BulletinDetail), (status = 409, body = ErrorBody)))]
async fn withdraw(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<BulletinDetail>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    let b = rect::withdraw_bulletin(&tx, id, s.clock.now()).await.map_err(state_conflict)?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "bulletin.withdraw", "bulletin", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, b).await?))
}

/// Publishes a draft: numbered, final. Its findings are notified to their departments, and each
/// department gets an order for its findings not yet under one.
#[utoipa::path(post, operation_id = "bulletins_publish", path = "/api/v1/bulletins/{id}/publish", tag = "rectification",
    responses((status = 200, body = BulletinDetail), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<BulletinDetail>> {
    let now = s.clock.now();
    let today = city_day(now);
    let tx = s.store.write().await?;
    let draft = rect::get_bulletin(&tx, id).await?;
    let rule = deadline_of(&draft);
    rule.validate(today)?;
    let calendar = xiaoneng_store::calendar::work_calendar(&tx).await?;
    let deadline = rule.resolve(&calendar, today);
    let p = rect::publish_bulletin(&tx, id, today.year(), deadline, auth.user.id, now).await.map_err(state_conflict)?;
    let number = number_text(&p.bulletin).unwrap_or_default();
    for o in &p.orders {
        let users = rect::department_users(&tx, o.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        let note = Note {
            kind: "order.issued",
            title: format!("整改通知：{number}"),
            body: format!("{}，请于 {} 前书面报送整改情况。", p.bulletin.title, o.deadline),
            link: format!("/rectification/{}", o.id),
            due: Some(o.deadline),
        };
        rect::notify(&tx, &users, &note, None, now).await?;
    }
    for f in &p.notified {
        let d = json!({ "action": "notify", "from": "confirmed", "to": "notified", "bulletin_id": id });
        audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "finding.notify", "finding", f, d)).await?;
    }
    let d = json!({ "number": number, "notified": p.notified.len(), "orders": p.orders.iter().map(|o| o.id).collect::<Vec<_>>(), "deadline": deadline });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "bulletin.publish", "bulletin", id, d)).await?;
    if !p.orders.is_empty() {
        let text = format!(
            "【效能办】{number}《{}》已发布，{} 个部门收到整改通知，请于 {deadline} 前书面报送整改情况。",
            p.bulletin.title,
            p.orders.len()
        );
        crate::jobs::enqueue_notice(&tx, &text, Some(format!("bulletin.publish:{id}")), now).await?;
    }
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, p.bulletin).await?))
}

// ------------------------------------------------------------------ documents

/// The date in the words of an official document: 2026年11月29日.
pub(crate) fn date_words(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

async fn official(s: &AppState, b: &bulletin::Model, mask: bool) -> ApiResult<OfficialDocument> {
    let db = s.store.db();
    let policy: RectificationPolicy = settings::get(db, settings::RECTIFICATION_POLICY).await?;
    let findings = rect::bulletin_findings(db, b.id).await?;
    let lines = finding_lines(s, &findings, mask).await?;
    let corrects = match b.corrects_id {
        Some(id) => {
            let old = rect::get_bulletin(db, id).await?;
            Some(format!("本通报更正{}《{}》。", number_text(&old).unwrap_or_default(), old.title))
        }
        None => None,
    };
    let day = city_day(b.published_at.unwrap_or(b.updated_at));
    Ok(OfficialDocument {
        masthead: policy.masthead.clone(),
        number: number_text(b).unwrap_or_else(|| "效能通报〔草稿〕".into()),
        title: b.title.clone(),
        corrects,
        body: b.body.clone(),
        findings: lines
            .into_iter()
            .map(|l| FindingRow {
                department: l.department_name,
                where_who: [l.window_name, l.person_name].into_iter().flatten().collect::<Vec<_>>().join(" / "),
                category: l.category_name,
                description: l.description,
                occurred: city_day(l.occurred_at).to_string(),
            })
            .collect(),
        requirement: b.requirement.clone(),
        issuer: policy.issuer.clone(),
        date: date_words(day),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentParams {
    /// `docx` or `pdf`.
    pub format: String,
}

/// The bulletin as an official document: Word (.docx) or PDF. The office may preview a draft.
#[utoipa::path(get, operation_id = "bulletins_document", path = "/api/v1/bulletins/{id}/document", tag = "rectification", params(DocumentParams),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn document(
    State(s): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i64>,
    Query(p): Query<DocumentParams>,
) -> ApiResult<Response> {
    let b = rect::get_bulletin(s.store.db(), id).await?;
    if !may_read(&user, &b) {
        return Err(ApiError::NotFound);
    }
    let doc = official(&s, &b, false).await?;
    let name = number_text(&b).unwrap_or_else(|| format!("通报草稿-{id}"));
    let (bytes, mime, ext) = match p.format.as_str() {
        "docx" => (
            xiaoneng_documents::docx(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        "pdf" => {
            let t = s.typesetter().await?;
            let bytes = tokio::task::spawn_blocking(move || t.pdf(&doc))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            (bytes, "application/pdf", "pdf")
        }
        _ => {
            return Err(ApiError::invalid(
                "format",
                "invalid_choice",
                "取值无效，可选：docx、pdf",
                "Not a valid choice; one of: docx, pdf",
            ));
        }
    };
    let filename = format!("{name}.{ext}");
    let disposition = format!("attachment; filename=\"bulletin-{id}.{ext}\"; filename*=UTF-8''{}", percent(&filename));
    Ok(([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ------------------------------------------------------------------ the public

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicBulletin {
    pub number: String,
    pub title: String,
    pub scope: String,
    pub published_on: NaiveDate,
    pub path: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// Public and media bulletins, for anyone (no login).
#[utoipa::path(get, operation_id = "bulletins_public_list", path = "/api/v1/public/bulletins", tag = "rectification", params(PublicParams),
    responses((status = 200, body = Page<PublicBulletin>)))]
async fn public_list(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<PublicParams>,
) -> ApiResult<Json<Page<PublicBulletin>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = BulletinFilter { public_only: true, ..Default::default() };
    let rows = rect::list_bulletins(s.store.db(), &f, page).await?;
    Ok(Json(Page::from(rows, |b| PublicBulletin {
        number: number_text(&b).unwrap_or_default(),
        path: public_path(&b).unwrap_or_default(),
        published_on: city_day(b.published_at.unwrap_or(b.updated_at)),
        title: b.title,
        scope: b.scope,
    })))
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A public bulletin as a web page, at a stable address, readable without logging in. People's
/// names are masked when the office set it so.
#[utoipa::path(get, operation_id = "bulletins_public_page", path = "/public/bulletins/{year}/{number}", tag = "rectification",
    responses((status = 200, description = "the page", content_type = "text/html"), (status = 404, description = "no such public bulletin")))]
async fn public_page(State(s): State<AppState>, Path((year, number)): Path<(i32, i32)>) -> Response {
    let found = match rect::bulletin_by_number(s.store.db(), year, number).await {
        Ok(b) if BulletinScope::from_code(&b.scope).is_some_and(BulletinScope::is_public) => Some(b),
        Ok(_) | Err(xiaoneng_store::StoreError::NotFound) => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(b) = found else {
        let page = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>未找到</title>\
                    <body style=\"font-family:sans-serif;padding:2em\"><h1>未找到该公开通报</h1>\
                    <p>该通报不存在或未公开。</p><p><a href=\"/public/bulletins\">查看全部公开通报</a></p></body></html>";
        return (StatusCode::NOT_FOUND, Html(page)).into_response();
    };
    match official(&s, &b, b.mask_names).await {
        Ok(doc) => Html(public_html(&doc, &b, &rect::corrections_of(s.store.db(), b.id).await.unwrap_or_default()))
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn public_html(doc: &OfficialDocument, b: &bulletin::Model, corrected_by: &[bulletin::Model]) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!("<title>{} {}</title>", esc(&doc.number), esc(&doc.title)));
    h.push_str(
        "<style>body{margin:0;background:#f4f4f4;font-family:'Noto Serif CJK SC','Songti SC',SimSun,serif;color:#222}\
         main{max-width:820px;margin:0 auto;background:#fff;padding:2.5em 2em 3em;line-height:1.9;font-size:17px}\
         .mast{color:#c00000;text-align:center;font:bold 28px/1.3 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;letter-spacing:2px}\
         .no{text-align:center;margin:.4em 0 .2em}hr.red{border:0;border-top:2px solid #c00000;margin:0 0 1.4em}\
         h1{text-align:center;font:bold 22px/1.5 'Noto Sans CJK SC','Microsoft YaHei',sans-serif}\
         p{text-indent:2em;margin:.3em 0}p.flush{text-indent:0}.note{color:#c00000;text-indent:0}\
         table{border-collapse:collapse;width:100%;font-size:14px;line-height:1.5;margin:1em 0}\
         th,td{border:1px solid #888;padding:4px 6px;vertical-align:top}th{background:#f0f0f0}\
         .sign{text-align:right;margin-top:2em}.wrap{overflow-x:auto}</style></head><body><main>",
    );
    h.push_str(&format!("<div class=\"mast\">{}</div>", esc(&doc.masthead)));
    h.push_str(&format!("<div class=\"no\">{}</div><hr class=\"red\">", esc(&doc.number)));
    h.push_str(&format!("<h1>{}</h1>", esc(&doc.title)));
    for c in corrected_by {
        let n = number_text(c).unwrap_or_default();
        let link = public_path(c).map(|p| format!(" <a href=\"{p}\">查看更正</a>")).unwrap_or_default();
        h.push_str(&format!("<p class=\"note\">本通报已由{}更正。{link}</p>", esc(&n)));
    }
    if let Some(c) = &doc.corrects {
        h.push_str(&format!("<p class=\"note\">{}</p>", esc(c)));
    }
    for p in doc.body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let class = if p.ends_with('：') { " class=\"flush\"" } else { "" };
        h.push_str(&format!("<p{class}>{}</p>", esc(p)));
    }
    if !doc.findings.is_empty() {
        h.push_str("<div class=\"wrap\"><table><thead><tr><th>序号</th><th>单位</th><th>窗口 / 人员</th><th>问题类别</th><th>问题情况</th><th>发现时间</th></tr></thead><tbody>");
        for (i, f) in doc.findings.iter().enumerate() {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&f.department),
                esc(&f.where_who),
                esc(&f.category),
                esc(&f.description),
                esc(&f.occurred)
            ));
        }
        h.push_str("</tbody></table></div>");
    }
    if !doc.requirement.is_empty() {
        h.push_str(&format!("<p>{}</p>", esc(&doc.requirement)));
    }
    h.push_str(&format!("<div class=\"sign\">{}<br>{}</div>", esc(&doc.issuer), esc(&doc.date)));
    let scope = BulletinScope::from_code(&b.scope).map(|s| s.label_zh()).unwrap_or_default();
    h.push_str(&format!("<p class=\"flush\" style=\"color:#888;font-size:13px;margin-top:2em\">{scope}</p>"));
    h.push_str("</main></body></html>");
    h
}
