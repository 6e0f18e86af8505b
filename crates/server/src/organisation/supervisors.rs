//! External supervisors (外部监督员): efficiency supervisors, NPC deputies, CPPCC members and
//! enterprise representatives, each active only within their term of appointment. Their mobile
//! numbers are stored encrypted (decision 0030), masked in lists and the audit log, and shown in
//! full, audited, only to those who may edit supervisors.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    org::{Status, SupervisorKind, mask_mobile, parse_code, parse_mobile, parse_name, parse_text},
    rbac::Permission,
};
use xiaoneng_store::{
    audit,
    entity::supervisor,
    org::{self, SupervisorInput, UnitFilter},
    personal::{Field, Vault},
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
pub struct Supervisor {
    pub id: i64,
    /// Certificate number (证号).
    pub code: String,
    pub name: String,
    /// `efficiency_supervisor`, `npc_deputy`, `cppcc_member` or `enterprise_rep`.
    pub kind: SupervisorKind,
    /// Where they work or which body appointed them.
    pub organisation: String,
    /// Masked (`138****5678`) in lists; in full on `GET /api/v1/supervisors/{id}` for those who may
    /// edit supervisors.
    pub mobile: Option<String>,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    /// Active and today within the term: may be assigned to inspections.
    pub in_term: bool,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

fn dto(vault: &Vault, s: supervisor::Model, today: NaiveDate, unmasked: bool) -> ApiResult<Supervisor> {
    let mobile = vault.open_opt(Field::SupervisorMobile, s.mobile_sealed.as_ref())?;
    Ok(Supervisor {
        id: s.id,
        code: s.code,
        name: s.name,
        kind: s.kind,
        organisation: s.organisation,
        mobile: mobile.map(|m| if unmasked { m } else { mask_mobile(&m) }),
        term_start: s.term_start,
        term_end: s.term_end,
        in_term: s.status == Status::Active && s.term_start <= today && today <= s.term_end,
        status: s.status,
        created_at: s.created_at,
        updated_at: s.updated_at,
        retired_at: s.retired_at,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SupervisorBody {
    pub code: String,
    pub name: String,
    /// `efficiency_supervisor`, `npc_deputy`, `cppcc_member` or `enterprise_rep`.
    pub kind: String,
    #[serde(default)]
    pub organisation: String,
    pub mobile: Option<String>,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
}

impl SupervisorBody {
    fn parse(&self) -> ApiResult<SupervisorInput> {
        let mut v = Checks::default();
        let code = v.take(parse_code("code", &self.code));
        let name = v.take(parse_name("name", &self.name, 50));
        let kind = v.choice::<SupervisorKind>("kind", &self.kind);
        let organisation = v.take(parse_text("organisation", &self.organisation, 100));
        let mobile =
            self.mobile.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(|m| v.take(parse_mobile("mobile", m)));
        if self.term_end < self.term_start {
            v.push(ValidationError::new(
                "term_end",
                "term_ends_before_start",
                "任期结束日期早于开始日期",
                "The term ends before it starts",
            ));
        }
        v.done()?;
        Ok(SupervisorInput {
            code,
            name,
            kind: crate::error::checked(kind)?,
            organisation,
            mobile,
            term_start: self.term_start,
            term_end: self.term_end,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Matches name, code or organisation.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Only those whose term covers today.
    pub in_term: Option<bool>,
    /// `code`, `name`, `term_start`, `term_end`; `-` in front for descending.
    pub sort: Option<String>,
}

#[utoipa::path(operation_id = "supervisors_list", get, path = "/api/v1/supervisors", tag = "organisation", params(ListParams),
    responses((status = 200, body = Page<Supervisor>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    _auth: Authorized<perm::SupervisorRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Supervisor>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let today = s.clock.today();
    let f = UnitFilter {
        q: p.q,
        department_id: None,
        exact_department: false,
        status: p.status,
        kind: p.kind,
        sort: p.sort,
    };
    let rows = org::list_supervisors(s.store.db(), &f, p.in_term.filter(|b| *b).map(|_| today), page).await?;
    Ok(Json(Page::try_from(rows, |r| dto(s.store.vault(), r, today, false))?))
}

#[utoipa::path(operation_id = "supervisors_get_one", get, path = "/api/v1/supervisors/{id}", tag = "organisation",
    responses((status = 200, body = Supervisor), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    auth: Authorized<perm::SupervisorRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Supervisor>> {
    let unmasked = auth.user.grants.has(Permission::SupervisorWrite);
    let r = org::get_supervisor(s.store.db(), id).await?;
    if unmasked && r.mobile_sealed.is_some() {
        // The number in full, decrypted for one reader: on the record.
        s.store.audit(&auth.user.audit(&s, "supervisor.mobile_viewed", "supervisor", id, json!({}))).await?;
    }
    Ok(Json(dto(s.store.vault(), r, s.clock.today(), unmasked)?))
}

#[utoipa::path(operation_id = "supervisors_create", post, path = "/api/v1/supervisors", tag = "organisation", request_body = SupervisorBody,
    responses((status = 201, body = Supervisor), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Authorized<perm::SupervisorWrite>,
    ApiJson(b): ApiJson<SupervisorBody>,
) -> ApiResult<(StatusCode, Json<Supervisor>)> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (_, r) = org::save_supervisor(&tx, s.store.vault(), None, input, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "supervisor.create", "supervisor", r.id, json!({ "after": s_json(s.store.vault(), &r)? })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto(s.store.vault(), r, s.clock.today(), true)?)))
}

#[utoipa::path(operation_id = "supervisors_update", put, path = "/api/v1/supervisors/{id}", tag = "organisation", request_body = SupervisorBody,
    responses((status = 200, body = Supervisor), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Authorized<perm::SupervisorWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SupervisorBody>,
) -> ApiResult<Json<Supervisor>> {
    let input = b.parse()?;
    let tx = s.store.write().await?;
    let (before, r) = org::save_supervisor(&tx, s.store.vault(), Some(id), input, s.clock.now()).await?;
    let before = before.as_ref().map(|b| s_json(s.store.vault(), b)).transpose()?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(
            &s,
            "supervisor.update",
            "supervisor",
            id,
            json!({ "before": before, "after": s_json(s.store.vault(), &r)? }),
        ),
    )
    .await?;
    tx.commit().await?;
    // A linked account's permissions follow the supervisor's status and term.
    s.identities.forget();
    Ok(Json(dto(s.store.vault(), r, s.clock.today(), true)?))
}

#[utoipa::path(operation_id = "supervisors_retire", post, path = "/api/v1/supervisors/{id}/retire", tag = "organisation", request_body = RetireRequest,
    responses((status = 200, body = Supervisor), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire(
    State(s): State<AppState>,
    auth: Authorized<perm::SupervisorWrite>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RetireRequest>,
) -> ApiResult<Json<Supervisor>> {
    let reason = b.reason()?;
    let tx = s.store.write().await?;
    let r = org::retire_supervisor(&tx, id, s.clock.now()).await?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "supervisor.retire", "supervisor", id, json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    // A linked account's permissions follow the supervisor's status and term.
    s.identities.forget();
    // Masked: retiring someone is no reason to read their number.
    Ok(Json(dto(s.store.vault(), r, s.clock.today(), false)?))
}

/// What the audit log keeps of a supervisor: the phone number masked.
fn s_json(vault: &Vault, r: &supervisor::Model) -> ApiResult<serde_json::Value> {
    let mobile = vault.open_opt(Field::SupervisorMobile, r.mobile_sealed.as_ref())?;
    Ok(json!({ "code": r.code, "name": r.name, "kind": r.kind, "organisation": r.organisation,
            "mobile": mobile.as_deref().map(mask_mobile), "term_start": r.term_start, "term_end": r.term_end }))
}
