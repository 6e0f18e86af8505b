//! Service commitments (服务承诺制): the office's service items, the keys of the systems that push
//! cases, the cases with their cards, and the push itself. Every case change is `core::service`'s
//! decision, applied conditionally on the version read.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{StatusCode, header, request::Parts},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    audit::HashAlgo,
    clock::city_day,
    org::Status,
    rating::DeviceStatus,
    service::{
        self as core_service, ApplicantType, CaseCard, CaseSpec, CaseStatus, ClientKey, ClientKind, ClientStatus,
        ItemSpec, ServicePolicy,
    },
};
use xiaoneng_store::{
    StoreError,
    audit::AuditRecord,
    calendar,
    entity::{api_client, service_case, service_item},
    ledger, org,
    service::{self as store, CaseFilter, ItemFilter, NewClient},
    settings,
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, PageParams, page_req, parse_opt},
    auth::{Act, Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(update_item))
        .routes(routes!(list_cases))
        .routes(routes!(case_summary))
        .routes(routes!(import_cases))
        .routes(routes!(get_case))
        .routes(routes!(push_case))
        .routes(routes!(list_clients, create_client))
        .routes(routes!(revoke_client))
        .routes(routes!(get_policy, put_policy))
}

// ------------------------------------------------------------------ items

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ServiceItem)]
pub struct Item {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub code: String,
    pub name: String,
    /// The limit the department promises, in working days (0: on the day).
    pub promised_days: i32,
    /// The limit the law allows, in working days.
    pub legal_days: i32,
    pub status: Status,
    pub updated_at: DateTime<Utc>,
}

fn item_dto(m: service_item::Model, names: &HashMap<i64, String>) -> Item {
    Item {
        department_name: names.get(&m.department_id).cloned().unwrap_or_default(),
        id: m.id,
        department_id: m.department_id,
        code: m.code,
        name: m.name,
        promised_days: m.promised_days,
        legal_days: m.legal_days,
        status: m.status,
        updated_at: m.updated_at,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ServiceItemBody)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub department_id: i64,
    /// 事项编码, as the province's catalogue names it.
    pub code: String,
    pub name: String,
    pub promised_days: i64,
    pub legal_days: i64,
    /// `active` (default) or `retired`: a retired item takes no new cases.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches the name or the code.
    pub q: Option<String>,
    pub department_id: Option<i64>,
    pub status: Option<String>,
}

#[utoipa::path(get, operation_id = "service_items_list", path = "/api/v1/service-items", tag = "service", params(ItemParams),
    responses((status = 200, body = Page<Item>), (status = 422, body = ErrorBody)))]
async fn list_items(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(p): ApiQuery<ItemParams>,
) -> ApiResult<Json<Page<Item>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let status = parse_opt::<Status>("status", p.status.as_deref(), &mut v);
    v.done()?;
    let f = ItemFilter { department_id: p.department_id, status, q: p.q };
    let items = store::list_items(s.store.db(), &auth.scope, &f, page).await?;
    let names = crate::api::department_names(&s, items.items.iter().map(|i| i.department_id)).await?;
    Ok(Json(Page::from(items, |m| item_dto(m, &names))))
}

async fn save_item(
    s: &AppState,
    auth: &Authorized<perm::ServiceManage>,
    id: Option<i64>,
    b: ItemBody,
) -> ApiResult<Item> {
    let mut v = Checks::default();
    let spec = match ItemSpec::parse(&b.code, &b.name, b.promised_days, b.legal_days) {
        Ok(spec) => Some(spec),
        Err(errs) => {
            errs.into_iter().for_each(|e| v.push(e));
            None
        }
    };
    let status = parse_opt::<Status>("status", b.status.as_deref(), &mut v).unwrap_or(Status::Active);
    v.done()?;
    let spec = crate::error::checked(spec)?;
    let tx = s.store.write().await?;
    crate::api::known_department(&tx, "department_id", b.department_id).await?;
    let before = match id {
        Some(id) => Some(store::get_item(&tx, id, &xiaoneng_store::org::Scope::All).await?),
        None => None,
    };
    let m = record_item(&tx, &Act::new(s, &auth.user), before, b.department_id, spec, status).await?;
    tx.commit().await?;
    let names = crate::api::department_names(s, [m.department_id]).await?;
    Ok(item_dto(m, &names))
}

/// Saves an item as checked (new when `before` is `None`), with its audit entry.
pub async fn record_item<C: sea_orm::ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    before: Option<service_item::Model>,
    department_id: i64,
    spec: ItemSpec,
    status: Status,
) -> ApiResult<service_item::Model> {
    let m = store::save_item(tx, before.as_ref(), department_id, spec, status, act.now).await?;
    let action = if before.is_some() { "service_item.update" } else { "service_item.create" };
    let d = json!({
        "code": m.code, "department_id": m.department_id, "promised_days": m.promised_days, "legal_days": m.legal_days,
        "status": m.status, "before": before.map(|b| json!({ "code": b.code, "promised_days": b.promised_days, "legal_days": b.legal_days, "status": b.status })),
    });
    ledger::append(tx, act.algo, &act.audit(action, "service_item", m.id, d), &[], None).await?;
    Ok(m)
}

/// Adds a service item with its promised and legal time limits.
#[utoipa::path(post, operation_id = "service_items_create", path = "/api/v1/service-items", tag = "service", request_body = ItemBody,
    responses((status = 201, body = Item), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_item(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(b): ApiJson<ItemBody>,
) -> ApiResult<(StatusCode, Json<Item>)> {
    Ok((StatusCode::CREATED, Json(save_item(&s, &auth, None, b).await?)))
}

/// Changes an item; a new limit applies to the cases that arrive from now on.
#[utoipa::path(put, operation_id = "service_items_update", path = "/api/v1/service-items/{id}", tag = "service", request_body = ItemBody,
    responses((status = 200, body = Item), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_item(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ItemBody>,
) -> ApiResult<Json<Item>> {
    Ok(Json(save_item(&s, &auth, Some(id), b).await?))
}

// ------------------------------------------------------------------ cases

#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    pub id: i64,
    /// 办件编号, as the approval system numbers it.
    pub number: String,
    pub item_id: i64,
    pub item_code: String,
    pub item_name: String,
    pub department_id: i64,
    pub department_name: String,
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub applicant_type: ApplicantType,
    pub accepted_at: DateTime<Utc>,
    pub stage: String,
    pub stage_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub status: CaseStatus,
    pub promised_days: i32,
    /// The last day of the promised period.
    pub deadline: NaiveDate,
    pub card: Option<CaseCard>,
    /// Completed by the deadline (none while open).
    pub on_time: Option<bool>,
    /// Only in the answer to the connected system's push: the code to print on the case's
    /// receipt, as a QR code of `<public address>/r/c<code>` and as text for `/rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating_code: Option<String>,
    pub version: i32,
}

struct CaseNames {
    items: HashMap<i64, (String, String)>,
    departments: HashMap<i64, String>,
    windows: HashMap<i64, String>,
    people: HashMap<i64, String>,
}

async fn case_names(s: &AppState, cases: &[service_case::Model]) -> ApiResult<CaseNames> {
    let db = s.store.db();
    Ok(CaseNames {
        items: store::item_names(db, cases.iter().map(|c| c.item_id)).await?,
        departments: org::department_names(db, cases.iter().map(|c| c.department_id)).await?,
        windows: org::window_names(db, cases.iter().filter_map(|c| c.window_id)).await?,
        people: org::person_names(db, cases.iter().filter_map(|c| c.person_id)).await?,
    })
}

fn case_dto(m: service_case::Model, n: &CaseNames) -> Case {
    let (item_code, item_name) = n.items.get(&m.item_id).cloned().unwrap_or_default();
    Case {
        item_code,
        item_name,
        department_name: n.departments.get(&m.department_id).cloned().unwrap_or_default(),
        window_name: m.window_id.and_then(|w| n.windows.get(&w).cloned()),
        person_name: m.person_id.and_then(|p| n.people.get(&p).cloned()),
        status: CaseStatus::of(m.completed_at),
        id: m.id,
        number: m.number,
        item_id: m.item_id,
        department_id: m.department_id,
        window_id: m.window_id,
        person_id: m.person_id,
        applicant_type: m.applicant_type,
        accepted_at: m.accepted_at,
        stage: m.stage,
        stage_at: m.stage_at,
        completed_at: m.completed_at,
        promised_days: m.promised_days,
        deadline: m.deadline,
        card: m.card,
        on_time: m.on_time,
        rating_code: None,
        version: m.version,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseParams {
    /// Part of a case number.
    pub number: Option<String>,
    /// This department and its sub-departments.
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    /// `open` or `completed`.
    pub status: Option<String>,
    /// `yellow` or `red`.
    pub card: Option<String>,
    /// Only open cases past their deadline.
    pub overdue: Option<bool>,
    /// Accepted on or after this day (city time).
    pub from: Option<NaiveDate>,
    /// Accepted on or before this day (city time).
    pub to: Option<NaiveDate>,
}

impl CaseParams {
    fn filter(&self, today: NaiveDate, v: &mut Checks) -> CaseFilter {
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            v.push(ValidationError::new("from", "after_to", "开始日期不能晚于结束日期", "from cannot be after to"));
        }
        CaseFilter {
            department_id: self.department_id,
            item_id: self.item_id,
            window_id: self.window_id,
            person_id: self.person_id,
            status: parse_opt("status", self.status.as_deref(), v),
            card: parse_opt("card", self.card.as_deref(), v),
            overdue_on: self.overdue.unwrap_or(false).then_some(today),
            number: self.number.clone(),
            accepted_from: self.from.map(xiaoneng_core::clock::city_midnight),
            accepted_before: self.to.map(|t| xiaoneng_core::clock::city_midnight(t + chrono::Duration::days(1))),
        }
    }
}

/// Cases within the caller's reach, newest first: the office and leaders all, a department its
/// tree, a staff member the cases they accepted.
#[utoipa::path(get, operation_id = "service_cases_list", path = "/api/v1/service-cases", tag = "service", params(PageParams, CaseParams),
    responses((status = 200, body = Page<Case>), (status = 422, body = ErrorBody)))]
async fn list_cases(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(pg): ApiQuery<PageParams>,
    ApiQuery(p): ApiQuery<CaseParams>,
) -> ApiResult<Json<Page<Case>>> {
    let mut v = Checks::default();
    let page = page_req(pg.page, pg.page_size, &mut v);
    let f = p.filter(city_day(s.clock.now()), &mut v);
    v.done()?;
    let cases = store::list_cases(s.store.db(), &auth.scope, &f, page).await?;
    let names = case_names(&s, &cases.items).await?;
    Ok(Json(Page::from(cases, |m| case_dto(m, &names))))
}

/// A service record over the cases a filter selects.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CaseCounts {
    /// Cases accepted in the period.
    pub cases: i64,
    pub completed: i64,
    pub completed_on_time: i64,
    /// Completed on time, in percent of those completed (one decimal; none with none completed).
    pub on_time_rate: Option<f64>,
    /// Open and past their deadline today.
    pub open_overdue: i64,
    /// Cases holding a yellow card (and not a red one).
    pub yellow_cards: i64,
    pub red_cards: i64,
}

impl CaseCounts {
    fn of(cases: i64, completed: i64, on_time: i64, open_overdue: i64, yellow: i64, red: i64) -> Self {
        CaseCounts {
            on_time_rate: core_service::on_time_rate(completed as u64, on_time as u64),
            cases,
            completed,
            completed_on_time: on_time,
            open_overdue,
            yellow_cards: yellow,
            red_cards: red,
        }
    }
}

/// A department's service record.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentCases {
    pub department_id: i64,
    pub department_name: String,
    #[serde(flatten)]
    pub counts: CaseCounts,
}

/// All the departments within reach together, and each of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub total: CaseCounts,
    pub departments: Vec<DepartmentCases>,
}

/// Cases, on-time rate and cards over the cases the filter selects: in total and per department.
#[utoipa::path(get, operation_id = "service_cases_summary", path = "/api/v1/service-cases/summary", tag = "service", params(CaseParams),
    responses((status = 200, body = CaseSummary), (status = 422, body = ErrorBody)))]
async fn case_summary(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(p): ApiQuery<CaseParams>,
) -> ApiResult<Json<CaseSummary>> {
    let mut v = Checks::default();
    let today = city_day(s.clock.now());
    let f = p.filter(today, &mut v);
    v.done()?;
    let rows = store::case_counts(s.store.db(), &auth.scope, &f, today).await?;
    let names = crate::api::department_names(&s, rows.iter().map(|r| r.department_id)).await?;
    let sum = |f: fn(&store::CaseCounts) -> i64| rows.iter().map(f).sum::<i64>();
    let total = CaseCounts::of(
        sum(|r| r.cases),
        sum(|r| r.completed),
        sum(|r| r.on_time),
        sum(|r| r.open_overdue),
        sum(|r| r.yellow),
        sum(|r| r.red),
    );
    let departments = rows
        .iter()
        .map(|r| DepartmentCases {
            department_name: names.get(&r.department_id).cloned().unwrap_or_default(),
            department_id: r.department_id,
            counts: CaseCounts::of(r.cases, r.completed, r.on_time, r.open_overdue, r.yellow, r.red),
        })
        .collect();
    Ok(Json(CaseSummary { total, departments }))
}

/// A case with how far along it is (what happened to it: `GET /api/v1/events?aggregate=case`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    /// Working days used so far (after the day of acceptance, through completion or today).
    pub working_days_used: u32,
    /// The day its yellow card falls or fell due (none for a case promised on the day).
    pub yellow_on: Option<NaiveDate>,
}

#[utoipa::path(get, operation_id = "service_cases_get", path = "/api/v1/service-cases/{id}", tag = "service",
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseDetail>> {
    let db = s.store.db();
    let m = store::get_case(db, id, &auth.scope).await?;
    let cal = calendar::work_calendar(db).await?;
    let policy: ServicePolicy = settings::get(db, settings::SERVICE_POLICY).await?;
    let t = store::case_facts(&m).spec.timing(&cal, &policy, s.clock.now());
    let names = case_names(&s, std::slice::from_ref(&m)).await?;
    Ok(Json(CaseDetail { case: case_dto(m, &names), working_days_used: t.working_days_used, yellow_on: t.yellow_on }))
}

// ------------------------------------------------------------------ the push

/// The active client of `kind` whose key the request carries as `Authorization: Bearer <key>`;
/// anything else — no key, an unknown or revoked one, a key of the other kind — is the same 401.
pub async fn keyed_client(parts: &Parts, s: &AppState, kind: ClientKind) -> Result<api_client::Model, ApiError> {
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let client = store::client_by_key(s.store.db(), key).await?;
    client.filter(|c| c.kind == kind).ok_or_else(|| {
        ApiError::refused(
            StatusCode::UNAUTHORIZED,
            "invalid_key",
            "接入密钥无效或已停用",
            "The connection key is missing, unknown or revoked",
        )
    })
}

/// The connected system a request comes from: an active system key ([`keyed_client`]).
pub struct SystemClient(pub api_client::Model);

impl FromRequestParts<AppState> for SystemClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        Ok(SystemClient(keyed_client(parts, s, ClientKind::System).await?))
    }
}

/// A case as a connected system states it. Times are RFC 3339 (`2026-12-04T09:30:00+08:00`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasePush {
    /// 事项编码 of an active service item.
    pub item_code: String,
    /// The window that accepted it (absent for a case applied for online).
    #[serde(default)]
    pub window_code: Option<String>,
    /// 工号 of the staff member who accepted it.
    #[serde(default)]
    pub staff_no: Option<String>,
    /// `person` or `enterprise`.
    pub applicant_type: String,
    pub accepted_at: String,
    /// The stage it is at (受理, 审查, 决定, 办结 …), as the system names it.
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub stage_at: Option<String>,
    /// Set once the case is completed; cleared when it is reopened.
    #[serde(default)]
    pub completed_at: Option<String>,
}

fn parse_time(field: &str, raw: &str, v: &mut Checks) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(raw.trim()).ok().map(|t| t.with_timezone(&Utc));
    if t.is_none() {
        v.push(ValidationError::new(
            field,
            "invalid_time",
            "时间格式须为 RFC 3339，如 2026-12-04T09:30:00+08:00",
            "A time is RFC 3339, like 2026-12-04T09:30:00+08:00",
        ));
    }
    t
}

fn unknown(field: &str, zh: &str, en: &str) -> ValidationError {
    ValidationError::new(field, "unknown", zh, en)
}

/// Resolves a push's codes into what core decides from; every bad field is named at once.
/// `before` is the case stored under the number: its item, window and staff member stay
/// acceptable when since retired, closed or gone (a case accepted then is still finished), and it
/// keeps the promise it arrived with. A system held to a department sees nothing outside it: an
/// item, window or staff member elsewhere is as unknown as one that does not exist, and a number
/// used by a case elsewhere is refused.
/// The items, windows and staff that pushes name, read once each while pushes are resolved.
#[derive(Default)]
struct Named {
    items: HashMap<String, Option<xiaoneng_store::entity::service_item::Model>>,
    windows: HashMap<String, Option<xiaoneng_store::entity::window::Model>>,
    people: HashMap<String, Option<xiaoneng_store::entity::person::Model>>,
}

impl Named {
    async fn item<C: sea_orm::ConnectionTrait>(
        &mut self,
        c: &C,
        code: &str,
    ) -> ApiResult<Option<xiaoneng_store::entity::service_item::Model>> {
        if !self.items.contains_key(code) {
            let found = store::items_by_code(c, &[code.to_owned()]).await?.into_values().next();
            self.items.insert(code.to_owned(), found);
        }
        Ok(self.items[code].clone())
    }

    async fn window<C: sea_orm::ConnectionTrait>(
        &mut self,
        c: &C,
        code: &str,
    ) -> ApiResult<Option<xiaoneng_store::entity::window::Model>> {
        if !self.windows.contains_key(code) {
            let found = org::window_by_code(c, code).await?;
            self.windows.insert(code.to_owned(), found);
        }
        Ok(self.windows[code].clone())
    }

    async fn person<C: sea_orm::ConnectionTrait>(
        &mut self,
        c: &C,
        no: &str,
    ) -> ApiResult<Option<xiaoneng_store::entity::person::Model>> {
        if !self.people.contains_key(no) {
            let found = org::people_by_employee_no(c, &[no.to_owned()]).await?.remove(no);
            self.people.insert(no.to_owned(), found);
        }
        Ok(self.people[no].clone())
    }
}

async fn resolve<C: sea_orm::ConnectionTrait>(
    c: &C,
    named: &mut Named,
    held_to: Option<i64>,
    before: Option<&service_case::Model>,
    number: &str,
    b: &CasePush,
) -> ApiResult<CaseSpec> {
    let mut v = Checks::default();
    let number = v.take(core_service::parse_case_number(number));
    let applicant = v.choice::<ApplicantType>("applicant_type", &b.applicant_type);
    let accepted_at = parse_time("accepted_at", &b.accepted_at, &mut v);
    let stage_at = b.stage_at.as_deref().and_then(|t| parse_time("stage_at", t, &mut v));
    let completed_at = b.completed_at.as_deref().and_then(|t| parse_time("completed_at", t, &mut v));
    let item = named.item(c, b.item_code.trim()).await?;
    let window = match b.window_code.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(code) => Some(named.window(c, &code.to_ascii_uppercase()).await?),
        None => None,
    };
    let staff_no = b.staff_no.as_deref().map(str::trim).filter(|x| !x.is_empty());
    let person = match staff_no {
        Some(no) => Some(named.person(c, no).await?),
        None => None,
    };
    // The departments a held system may touch: its own and those under it.
    let within = |paths: &HashMap<i64, String>, d: i64| match (held_to, paths.get(&d)) {
        (None, _) => true,
        (Some(own), Some(path)) => paths.get(&own).is_some_and(|o| path.starts_with(o.as_str())),
        (Some(_), None) => false,
    };
    let depts = [
        held_to,
        item.as_ref().map(|i| i.department_id),
        window.as_ref().and_then(|w| w.as_ref().map(|w| w.department_id)),
        person.as_ref().and_then(|p| p.as_ref().map(|p| p.department_id)),
        before.map(|b| b.department_id),
    ];
    let paths = match held_to {
        Some(_) => org::department_paths(c, depts.into_iter().flatten()).await?,
        None => HashMap::new(),
    };
    if before.is_some_and(|b| !within(&paths, b.department_id)) {
        v.push(ValidationError::new(
            "number",
            "taken",
            "该办件编号已被其他部门的办件使用",
            "This case number belongs to a case of a department this system does not serve",
        ));
    }
    let kept = |id: i64, was: Option<i64>| was == Some(id);
    let item = match item.filter(|i| within(&paths, i.department_id)) {
        Some(i) if i.status != Status::Active && !kept(i.id, before.map(|b| b.item_id)) => {
            v.push(ValidationError::new("item_code", "retired", "该事项已停用", "This item is no longer offered"));
            None
        }
        Some(i) => Some(i),
        None => {
            v.push(unknown("item_code", "事项编码不存在", "No service item has this code"));
            None
        }
    };
    let window_id = match window.map(|w| w.filter(|w| within(&paths, w.department_id))) {
        None => None,
        Some(Some(w)) if w.status == Status::Active || kept(w.id, before.and_then(|b| b.window_id)) => Some(w.id),
        Some(_) => {
            v.push(unknown("window_code", "窗口编码不存在或已撤销", "No active window has this code"));
            None
        }
    };
    let person_id = match person.map(|p| p.filter(|p| within(&paths, p.department_id))) {
        None => None,
        Some(Some(p)) if p.status == Status::Active || kept(p.id, before.and_then(|b| b.person_id)) => Some(p.id),
        Some(_) => {
            v.push(unknown("staff_no", "工号不存在或人员已离岗", "No active staff member has this number"));
            None
        }
    };
    v.done()?;
    let (Some(item), Some(applicant), Some(accepted_at)) = (item, applicant, accepted_at) else {
        return Err(ApiError::Internal("a checked value was missing".into()));
    };
    // The promise a case arrived with is its promise; a changed item limit is for new cases.
    let promised_days = match before {
        Some(b) if b.item_id == item.id => b.promised_days,
        _ => item.promised_days,
    };
    Ok(CaseSpec {
        number,
        item_id: item.id,
        department_id: item.department_id,
        promised_days: u32::try_from(promised_days).unwrap_or(0),
        window_id,
        person_id,
        applicant,
        accepted_at,
        stage: b.stage.trim().to_owned(),
        stage_at,
        completed_at,
    })
}

/// For connected systems, with `Authorization: Bearer <key>` instead of a session. Creates or
/// updates the case under `number`: 201 when new, 200 when it updates the case the
/// number already names (a repeated push never makes a second case). A push that moves nothing
/// records nothing. A bad field is 422 naming it; nothing is stored.
#[utoipa::path(put, operation_id = "intake_push_case", path = "/api/v1/intake/cases/{number}", tag = "service", request_body = CasePush,
    params(("number" = String, Path, description = "办件编号")),
    responses((status = 201, body = Case), (status = 200, body = Case), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn push_case(
    State(s): State<AppState>,
    SystemClient(client): SystemClient,
    Path(number): Path<String>,
    ApiJson(b): ApiJson<CasePush>,
) -> ApiResult<(StatusCode, Json<Case>)> {
    // A push racing another push or the card job on the same case decides again from what won.
    for _ in 0..3 {
        match push_once(&s, &client, &number, &b).await {
            Err(ApiError::StateChanged { .. }) => continue,
            other => return other,
        }
    }
    Err(ApiError::Busy)
}

async fn push_once(
    s: &AppState,
    client: &api_client::Model,
    number: &str,
    b: &CasePush,
) -> ApiResult<(StatusCode, Json<Case>)> {
    let tx = s.store.write().await?;
    let (created, m) = record_push(&tx, s.store.audit_algo(), client, number, b, s.clock.now()).await?;
    tx.commit().await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let names = case_names(s, std::slice::from_ref(&m)).await?;
    let rating_code = m.rating_code.clone();
    Ok((status, Json(Case { rating_code, ..case_dto(m, &names) })))
}

/// A push as the system states it, decided by core and applied in `tx` with its events and audit
/// entry: whether it made a new case, and the case. The intake route and the demo city's
/// approval system both push through it.
pub async fn record_push<C: sea_orm::ConnectionTrait>(
    tx: &C,
    algo: HashAlgo,
    client: &api_client::Model,
    number: &str,
    b: &CasePush,
    now: DateTime<Utc>,
) -> ApiResult<(bool, service_case::Model)> {
    let stored = number.trim().to_owned();
    let before = store::cases_by_number(tx, std::slice::from_ref(&stored)).await?.remove(&stored);
    let spec = resolve(tx, &mut Named::default(), client.department_id, before.as_ref(), number, b).await?;
    let cal = calendar::work_calendar(tx).await?;
    let policy: ServicePolicy = settings::get(tx, settings::SERVICE_POLICY).await?;
    let d = decide_case(&spec, before.as_ref(), Some(client.id), &cal, &policy, now).map_err(ApiError::Validation)?;
    let m = apply_decided(tx, algo, Sender::System(client), &spec, before, &d, now).await?;
    store::touch_client(tx, client, now).await?;
    Ok(m)
}

/// Pushes of new cases, each at its moment, recorded as [`record_push`] would record them one by
/// one, in a handful of statements whatever their number: what the system sent of a year's
/// history at once. Every number must be new and named once; any bad push refuses them all.
pub async fn record_new_pushes<C: sea_orm::ConnectionTrait>(
    tx: &C,
    algo: HashAlgo,
    client: &api_client::Model,
    pushes: &[(String, CasePush, DateTime<Utc>)],
) -> ApiResult<Vec<service_case::Model>> {
    let Some(last) = pushes.iter().map(|p| p.2).max() else { return Ok(Vec::new()) };
    let numbers: Vec<String> = pushes.iter().map(|(n, _, _)| n.trim().to_owned()).collect();
    let mut seen = std::collections::HashSet::new();
    let known = store::cases_by_number(tx, &numbers).await?;
    if let Some(n) = numbers.iter().find(|n| known.contains_key(*n) || !seen.insert(n.as_str())) {
        return Err(ApiError::invalid(
            "number",
            "taken",
            format!("办件编号 {n} 已存在"),
            format!("Case {n} exists already"),
        ));
    }
    let cal = calendar::work_calendar(tx).await?;
    let policy: ServicePolicy = settings::get(tx, settings::SERVICE_POLICY).await?;
    let mut named = Named::default();
    let mut decided = Vec::with_capacity(pushes.len());
    for (number, b, at) in pushes {
        let spec = resolve(tx, &mut named, client.department_id, None, number, b).await?;
        let d = decide_case(&spec, None, Some(client.id), &cal, &policy, *at).map_err(ApiError::Validation)?;
        decided.push((spec, d, *at));
    }
    let made = store::insert_cases(tx, &decided, Some(client.id)).await?;
    let actor = format!("system:{}", client.name);
    let recs: Vec<AuditRecord> = made
        .iter()
        .zip(&decided)
        .map(|(m, (_, d, at))| {
            let detail = json!({ "number": m.number, "events": d.events.iter().map(|e| e.kind().code().to_owned()).collect::<Vec<_>>() });
            crate::jobs::system_audit(&actor, "service_case.create", ("service_case", m.id), detail, *at)
        })
        .collect();
    let changes: Vec<ledger::Change<'_>> = recs
        .iter()
        .zip(&decided)
        .zip(&made)
        .map(|((rec, (_, d, _)), m)| ledger::Change { rec, events: &d.events, created: Some(m.id) })
        .collect();
    ledger::append_many(tx, algo, &changes).await?;
    store::touch_client(tx, client, last).await?;
    Ok(made)
}

/// Who states a case: a connected system pushing it, or the office importing a file.
enum Sender<'a> {
    System(&'a api_client::Model),
    Office(&'a Act<'a>),
}

fn decide_case(
    spec: &CaseSpec,
    before: Option<&service_case::Model>,
    system_id: Option<i64>,
    cal: &xiaoneng_core::calendar::WorkCalendar,
    policy: &ServicePolicy,
    now: DateTime<Utc>,
) -> Result<core_service::CaseDecision, Vec<ValidationError>> {
    core_service::push_case(before.map(store::case_facts).as_ref(), spec, system_id, cal, policy, now)
}

/// Applies what core decided for a case with its events and an audit entry in the sender's
/// name; a case that nothing changed is left as it was. (Whether it is new, the case.)
async fn apply_decided<C: sea_orm::ConnectionTrait>(
    tx: &C,
    algo: HashAlgo,
    sender: Sender<'_>,
    spec: &CaseSpec,
    before: Option<service_case::Model>,
    d: &core_service::CaseDecision,
    now: DateTime<Utc>,
) -> ApiResult<(bool, service_case::Model)> {
    let system_id = match sender {
        Sender::System(c) => Some(c.id),
        Sender::Office(_) => None,
    };
    if let Some(b) = &before
        && d.events.is_empty()
        && store::case_facts(b).spec == *spec
    {
        return Ok((false, b.clone()));
    }
    let m = store::apply_case(tx, before.as_ref(), spec, d, system_id, now).await?;
    let action = if before.is_some() { "service_case.update" } else { "service_case.create" };
    let detail = json!({ "number": m.number, "events": d.events.iter().map(|e| e.kind().code().to_owned()).collect::<Vec<_>>() });
    let rec = match sender {
        Sender::System(c) => {
            crate::jobs::system_audit(&format!("system:{}", c.name), action, ("service_case", m.id), detail, now)
        }
        Sender::Office(act) => act.audit(action, "service_case", m.id, detail),
    };
    ledger::append(tx, algo, &rec, &d.events, Some(m.id)).await?;
    Ok((before.is_none(), m))
}

// ------------------------------------------------------------------ import

/// Up to 20,000 cases a file, in columns A to L.
const CASE_IMPORT_LIMITS: crate::excel::Limits =
    crate::excel::Limits { max_rows: 20_001, max_cols: 12, max_uncompressed: 64 << 20 };

/// (the push's field, the column as named in the file, the names a header may have)
const CASE_COLUMNS: &[(&str, &str, &[&str])] = &[
    ("number", "办件编号", &["办件编号", "number"]),
    ("item_code", "事项编码", &["事项编码", "item_code"]),
    ("window_code", "窗口编码", &["窗口编码", "window_code"]),
    ("staff_no", "受理人工号", &["受理人工号", "工号", "staff_no"]),
    ("applicant_type", "申请人类型", &["申请人类型", "applicant_type"]),
    ("accepted_at", "受理时间", &["受理时间", "accepted_at"]),
    ("stage", "办理环节", &["办理环节", "stage"]),
    ("stage_at", "环节时间", &["环节时间", "stage_at"]),
    ("completed_at", "办结时间", &["办结时间", "completed_at"]),
];

/// A time as a sheet holds it: `2026-12-04 09:30`, with seconds, with `/`, a day alone (its
/// midnight), or RFC 3339; city time unless it says otherwise. Returned as RFC 3339 for the
/// push's own check.
fn sheet_time(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.to_rfc3339());
    }
    let at = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"].iter().find_map(|f| {
        let t = chrono::NaiveDateTime::parse_from_str(raw, f).ok()?;
        Some(xiaoneng_core::clock::city_midnight(t.date()) + (t - t.date().and_hms_opt(0, 0, 0)?))
    });
    // A day alone (a date-time cell at midnight comes out so) is its midnight.
    let at = at.or_else(|| {
        ["%Y-%m-%d", "%Y/%m/%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
            .map(xiaoneng_core::clock::city_midnight)
    });
    at.map(|t| t.to_rfc3339())
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseImport {
    pub created: usize,
    pub updated: usize,
    /// Rows that changed nothing (the case as the file states it was there already).
    pub unchanged: usize,
}

/// Imports cases from an .xlsx sheet (the approval system's export, for a system not yet
/// connected): 办件编号, 事项编码, 窗口编码, 受理人工号, 申请人类型 (个人 / 企业), 受理时间, 办理环节,
/// 环节时间, 办结时间. A number already there is updated, as a push would. All or nothing: a file
/// with any bad row changes nothing and reports every bad row.
#[utoipa::path(post, operation_id = "service_cases_import", path = "/api/v1/service-cases/import", tag = "service",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = CaseImport), (status = 400, body = ErrorBody),
        (status = 422, description = "row-by-row report, or a file bigger than an import reads (`file`); nothing imported", body = ErrorBody)))]
async fn import_cases(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    body: axum::body::Bytes,
) -> ApiResult<Json<CaseImport>> {
    use crate::error::RowError;
    let rows = crate::excel::read_sheet_guarded(body, CASE_IMPORT_LIMITS).await?;
    let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::bad_request("empty_file", "文件中没有数据", "The file has no rows"));
    };
    let at: HashMap<&str, usize> = CASE_COLUMNS
        .iter()
        .filter_map(|(field, _, names)| {
            header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n))).map(|i| (*field, i))
        })
        .collect();
    let required = ["number", "item_code", "applicant_type", "accepted_at"];
    if required.iter().any(|f| !at.contains_key(f)) {
        return Err(ApiError::bad_request(
            "missing_columns",
            "缺少必需的列：办件编号、事项编码、申请人类型、受理时间",
            "Required columns are missing: 办件编号 (number), 事项编码 (item), 申请人类型 (applicant), 受理时间 (accepted)",
        ));
    }
    let column = |field: &str| CASE_COLUMNS.iter().find(|c| c.0 == field).map_or(field, |c| c.1).to_owned();
    let as_row =
        |row: u32, e: ValidationError| RowError { row, column: column(&e.field), code: e.code, zh: e.zh, en: e.en };
    let act = Act::new(&s, &auth.user);
    let tx = s.store.write().await?;
    let cal = calendar::work_calendar(&tx).await?;
    let policy: ServicePolicy = settings::get(&tx, settings::SERVICE_POLICY).await?;
    let (mut specs, mut errors) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<(u32, Vec<String>)> = rows.collect();
    let numbers: Vec<String> =
        rows.iter().filter_map(|(_, cells)| cells.get(at["number"]).map(|n| n.trim().to_owned())).collect();
    let mut stored = store::cases_by_number(&tx, &numbers).await?;
    let mut named = Named::default();
    for (row, cells) in rows {
        let cell = |f: &str| at.get(f).and_then(|i| cells.get(*i)).map_or("", |c| c.trim()).to_owned();
        let mut row_errors = Vec::new();
        let mut time = |f: &str| {
            let raw = cell(f);
            if raw.is_empty() {
                return None;
            }
            let t = sheet_time(&raw);
            if t.is_none() {
                row_errors.push(RowError {
                    row,
                    column: column(f),
                    code: "invalid_time",
                    zh: format!("时间“{raw}”无效（如 2026-12-04 09:30）"),
                    en: format!("\"{raw}\" is not a time (like 2026-12-04 09:30)"),
                });
                return Some(String::new());
            }
            t
        };
        let push = CasePush {
            accepted_at: time("accepted_at").unwrap_or_default(),
            stage_at: time("stage_at"),
            completed_at: time("completed_at"),
            item_code: cell("item_code"),
            window_code: Some(cell("window_code")).filter(|c| !c.is_empty()),
            staff_no: Some(cell("staff_no")).filter(|c| !c.is_empty()),
            applicant_type: match cell("applicant_type").as_str() {
                "个人" | "自然人" => "person".to_owned(),
                "企业" | "法人" => "enterprise".to_owned(),
                other => other.to_owned(),
            },
            stage: cell("stage"),
        };
        let number = cell("number");
        if !number.is_empty() && !seen.insert(number.clone()) {
            row_errors.push(RowError {
                row,
                column: column("number"),
                code: "duplicate",
                zh: format!("办件编号 {number} 在文件中重复出现"),
                en: format!("Case number {number} appears twice in the file"),
            });
        }
        let checked = match resolve(&tx, &mut named, None, stored.get(&number), &number, &push).await {
            Ok(spec) => Some(spec),
            Err(ApiError::Validation(errs)) => {
                // A time already reported as unreadable is not reported again as missing.
                let errs = errs.into_iter().filter(|e| !row_errors.iter().any(|r| r.column == column(&e.field)));
                let errs: Vec<RowError> = errs.map(|e| as_row(row, e)).collect();
                row_errors.extend(errs);
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(spec) = checked
            && row_errors.is_empty()
        {
            specs.push((row, spec));
        }
        errors.extend(row_errors);
    }
    let mut decided = Vec::new();
    for (row, spec) in specs {
        let before = stored.remove(&spec.number);
        match decide_case(&spec, before.as_ref(), None, &cal, &policy, act.now) {
            Ok(d) => decided.push((spec, before, d)),
            Err(errs) => errors.extend(errs.into_iter().map(|e| RowError {
                row,
                column: column(&e.field),
                code: e.code,
                zh: e.zh,
                en: e.en,
            })),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ApiError::ImportRejected(errors));
    }
    let mut out = CaseImport { created: 0, updated: 0, unchanged: 0 };
    for (spec, before, d) in decided {
        let version = before.as_ref().map(|b| b.version);
        let (created, m) = apply_decided(&tx, act.algo, Sender::Office(&act), &spec, before, &d, act.now).await?;
        match (created, version) {
            (true, _) => out.created += 1,
            (false, Some(v)) if v == m.version => out.unchanged += 1,
            _ => out.updated += 1,
        }
    }
    let d = json!({ "created": out.created, "updated": out.updated, "unchanged": out.unchanged });
    ledger::append(&tx, act.algo, &act.audit("service_case.import", "service_case", "import", d), &[], None).await?;
    tx.commit().await?;
    Ok(Json(out))
}

// ------------------------------------------------------------------ connection keys

#[derive(Debug, Serialize, ToSchema)]
pub struct Client {
    pub id: i64,
    pub kind: ClientKind,
    pub name: String,
    /// The key's first part, to tell keys apart (the key itself is shown once, when made).
    pub key_prefix: String,
    /// The department it is held to (its items and those below it), if any.
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    /// A device's window.
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    pub status: ClientStatus,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// A device's own report in its last heartbeat, and when that was.
    pub device_status: Option<DeviceStatus>,
    pub device_firmware: Option<String>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// A device heard from in the last three minutes.
    pub online: bool,
}

/// Names beside a client's department and window.
#[derive(Default)]
struct ClientNames {
    departments: HashMap<i64, String>,
    windows: HashMap<i64, String>,
}

async fn client_names(s: &AppState, clients: &[api_client::Model]) -> ApiResult<ClientNames> {
    Ok(ClientNames {
        departments: crate::api::department_names(s, clients.iter().filter_map(|c| c.department_id)).await?,
        windows: org::window_names(s.store.db(), clients.iter().filter_map(|c| c.window_id)).await?,
    })
}

fn client_dto(m: api_client::Model, names: &ClientNames, now: DateTime<Utc>) -> Client {
    Client {
        department_name: m.department_id.and_then(|d| names.departments.get(&d).cloned()),
        window_name: m.window_id.and_then(|w| names.windows.get(&w).cloned()),
        online: m.heartbeat_at.is_some_and(|t| now - t < chrono::Duration::minutes(3)),
        device_status: m.device_status,
        device_firmware: m.device_firmware,
        heartbeat_at: m.heartbeat_at,
        id: m.id,
        kind: m.kind,
        name: m.name,
        key_prefix: m.key_prefix,
        department_id: m.department_id,
        window_id: m.window_id,
        status: m.status,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
        last_used_at: m.last_used_at,
    }
}

#[utoipa::path(get, operation_id = "api_clients_list", path = "/api/v1/api-clients", tag = "service",
    responses((status = 200, body = Vec<Client>), (status = 403, body = ErrorBody)))]
async fn list_clients(State(s): State<AppState>, _a: Authorized<perm::ServiceManage>) -> ApiResult<Json<Vec<Client>>> {
    let clients = store::list_clients(s.store.db(), None).await?;
    let names = client_names(&s, &clients).await?;
    let now = s.clock.now();
    Ok(Json(clients.into_iter().map(|c| client_dto(c, &names, now)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    /// `system` (an approval system pushing cases) or `device` (a counter rating device).
    pub kind: String,
    pub name: String,
    /// Holds a system to this department's items (and its sub-departments').
    #[serde(default)]
    pub department_id: Option<i64>,
    /// A device's window (required for a device, refused for a system).
    #[serde(default)]
    pub window_id: Option<i64>,
}

/// A new key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewKey {
    #[serde(flatten)]
    pub client: Client,
    /// `Authorization: Bearer <key>`. Kept nowhere: lost, it is revoked and a new one made.
    pub key: String,
}

#[utoipa::path(post, operation_id = "api_clients_create", path = "/api/v1/api-clients", tag = "service", request_body = ClientBody,
    responses((status = 201, body = NewKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_client(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(b): ApiJson<ClientBody>,
) -> ApiResult<(StatusCode, Json<NewKey>)> {
    let mut v = Checks::default();
    let kind = v.choice::<ClientKind>("kind", &b.kind);
    match (kind, b.window_id, b.department_id) {
        (Some(ClientKind::Device), None, _) => v.push(ValidationError::new(
            "window_id",
            "required",
            "评价器须指定所在窗口",
            "A rating device belongs to a window",
        )),
        (Some(ClientKind::Device), _, Some(_)) => v.push(ValidationError::new(
            "department_id",
            "not_allowed",
            "评价器随窗口所属部门，不另指定部门",
            "A device serves its window's department; name no department",
        )),
        (Some(ClientKind::System), Some(_), _) => v.push(ValidationError::new(
            "window_id",
            "not_allowed",
            "业务系统不属于某个窗口",
            "A connected system belongs to no window",
        )),
        _ => {}
    }
    let name = v.take(xiaoneng_core::org::parse_name("name", &b.name, 100));
    v.done()?;
    let tx = s.store.write().await?;
    if let Some(d) = b.department_id {
        crate::api::known_department(&tx, "department_id", d).await?;
    }
    let window = match b.window_id {
        Some(w) => match org::get_window(&tx, &xiaoneng_store::org::Scope::All, w).await {
            Ok(w) if w.status == Status::Active => Some(w),
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::invalid(
                    "window_id",
                    "unknown",
                    "窗口不存在或已撤销",
                    "No active window has this id",
                ));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let act = Act::new(&s, &auth.user);
    let (m, key) = match window {
        Some(w) => add_client(&tx, &act, ClientKind::Device, name, Some(w.department_id), Some(w.id)).await?,
        None => add_client(&tx, &act, ClientKind::System, name, b.department_id, None).await?,
    };
    tx.commit().await?;
    let names = client_names(&s, std::slice::from_ref(&m)).await?;
    Ok((StatusCode::CREATED, Json(NewKey { client: client_dto(m, &names, s.clock.now()), key })))
}

/// Connects a system that pushes cases, with its audit entry: the client and its key, which is
/// in the answer and nowhere else.
pub async fn add_system<C: sea_orm::ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    name: String,
    department_id: Option<i64>,
) -> ApiResult<(api_client::Model, String)> {
    add_client(tx, act, ClientKind::System, name, department_id, None).await
}

/// Makes a key for a system or a window's device, with its audit entry.
pub async fn add_client<C: sea_orm::ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    kind: ClientKind,
    name: String,
    department_id: Option<i64>,
    window_id: Option<i64>,
) -> ApiResult<(api_client::Model, String)> {
    use rand::RngCore;
    let (mut prefix, mut secret) = ([0u8; 5], [0u8; 32]);
    rand::rng().fill_bytes(&mut prefix);
    rand::rng().fill_bytes(&mut secret);
    let key = ClientKey::from_random(prefix, secret);
    let new = NewClient { kind, name, department_id, window_id };
    let m = store::create_client(tx, &new, &key, act.user.id, act.now).await?;
    let d = json!({ "kind": m.kind, "name": m.name, "key_prefix": m.key_prefix, "department_id": m.department_id, "window_id": m.window_id });
    ledger::append(tx, act.algo, &act.audit("api_client.create", "api_client", m.id, d), &[], None).await?;
    Ok((m, key.key))
}

/// Stops a key at once; the cases it pushed stay.
#[utoipa::path(post, operation_id = "api_clients_revoke", path = "/api/v1/api-clients/{id}/revoke", tag = "service",
    responses((status = 200, body = Client), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_client(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Client>> {
    let tx = s.store.write().await?;
    let k = store::get_client(&tx, id).await?;
    let act = Act::new(&s, &auth.user);
    let m = match store::revoke_client(&tx, &k, act.now).await {
        Err(StoreError::StateChanged | StoreError::NotFound) => {
            return Err(ApiError::StateChanged { current: Some(ClientStatus::Revoked.code().to_owned()) });
        }
        other => other?,
    };
    let d = json!({ "name": m.name, "key_prefix": m.key_prefix });
    ledger::append(&tx, act.algo, &act.audit("api_client.revoke", "api_client", m.id, d), &[], None).await?;
    tx.commit().await?;
    let names = client_names(&s, std::slice::from_ref(&m)).await?;
    Ok(Json(client_dto(m, &names, s.clock.now())))
}

// ------------------------------------------------------------------ policy

#[utoipa::path(get, operation_id = "service_get_policy", path = "/api/v1/settings/service-policy", tag = "service",
    responses((status = 200, body = ServicePolicy)))]
async fn get_policy(State(s): State<AppState>, _r: Authorized<perm::ServiceRead>) -> ApiResult<Json<ServicePolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::SERVICE_POLICY).await?))
}

/// Sets the share of the promise after which a case gets its yellow card; cases already carded
/// keep their cards, open ones are carded by the new share by the card job, which runs at once.
#[utoipa::path(put, operation_id = "service_put_policy", path = "/api/v1/settings/service-policy", tag = "service",
    request_body = ServicePolicy, responses((status = 200, body = ServicePolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(p): ApiJson<ServicePolicy>,
) -> ApiResult<Json<ServicePolicy>> {
    p.validate()?;
    crate::api::save_setting(&s, &auth.user, settings::SERVICE_POLICY, &p).await?;
    let tx = s.store.write().await?;
    crate::jobs::cards_now(&tx, s.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(p))
}

#[cfg(test)]
mod tests {
    use super::sheet_time;

    #[test]
    fn a_sheets_times_are_city_time() {
        let t = |s: &str| sheet_time(s);
        assert_eq!(t("2026-12-04 09:30").as_deref(), Some("2026-12-04T01:30:00+00:00"));
        assert_eq!(t("2026/12/04 09:30:15").as_deref(), Some("2026-12-04T01:30:15+00:00"));
        assert_eq!(t("2026-12-04").as_deref(), Some("2026-12-03T16:00:00+00:00"), "a day alone is its midnight");
        assert_eq!(t("2026-12-04T09:30:00+08:00").as_deref(), Some("2026-12-04T09:30:00+08:00"));
        assert_eq!(t("2026-12-04 9点"), None);
        assert_eq!(t("46447"), None);
    }
}
