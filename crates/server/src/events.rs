//! The regime's event ledger as the API shows it: `GET /api/v1/events`, in sequence order with a
//! cursor, within the reader's `event:read` scope. The office alone sees the events of covert
//! plans and visits and of findings before notification, and who acted.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    event::{Aggregate, EventKind, Payload},
    rbac::Permission,
};
use xiaoneng_store::{
    ledger::{self, EventFilter, Reader},
    org,
};

use crate::{
    ApiResult, AppState,
    api::{Checks, parse_codes, parse_opt},
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::ApiQuery,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEvent {
    /// Its place in the ledger: strictly increasing in commit order.
    pub seq: i64,
    pub kind: EventKind,
    pub aggregate: Aggregate,
    pub aggregate_id: i64,
    /// Whom it is about.
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
    /// When it happened (an order's overdue: the first day past its deadline).
    pub occurred_at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who acted: shown to the office only; `None` for the system's own steps.
    pub actor_user_id: Option<i64>,
    /// The facts of the event, by kind.
    pub payload: Payload,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<LedgerEvent>,
    /// Pass as `after` for the next page; equal to `after` when there is nothing new.
    pub next_after: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// One kind or several separated by commas (`report.submitted,order.overdue`).
    pub kind: Option<String>,
    /// This department and those below it.
    pub department_id: Option<i64>,
    /// `plan`, `visit`, `finding`, `evidence`, `bulletin`, `order`, `instruction`, `campaign`,
    /// `participation`, `case`.
    pub aggregate: Option<String>,
    /// With `aggregate`: one record's events.
    pub aggregate_id: Option<i64>,
    /// Happened from this time (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Happened before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only events after this sequence number (the cursor; default 0).
    pub after: Option<i64>,
    /// At most this many (1–1000, default 100).
    pub limit: Option<u64>,
}

/// What happened, in order: the events the caller may see.
#[utoipa::path(get, operation_id = "events_list", path = "/api/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = EventPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    auth: Authorized<perm::EventRead>,
    ApiQuery(p): ApiQuery<EventParams>,
) -> ApiResult<Json<EventPage>> {
    let mut v = Checks::default();
    let kinds = parse_codes("kind", p.kind.as_deref(), &mut v);
    let aggregate = parse_opt("aggregate", p.aggregate.as_deref(), &mut v);
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        v.push(ValidationError::new(
            "limit",
            "out_of_range",
            "条数须在 1 到 1000 之间",
            "limit must be between 1 and 1000",
        ));
    }
    if p.after.is_some_and(|a| a < 0) {
        v.push(ValidationError::new("after", "out_of_range", "游标不能为负数", "after cannot be negative"));
    }
    if p.aggregate_id.is_some() && aggregate.is_none() {
        v.push(ValidationError::new(
            "aggregate",
            "required",
            "按记录查询时须指明记录类型",
            "Say which kind of record aggregate_id is",
        ));
    }
    v.done()?;
    let db = s.store.db();
    // A department outside the caller's reach is one they cannot name.
    let department_path = match p.department_id {
        Some(d) => Some(
            org::get_department(db, &auth.scope, d)
                .await
                .map_err(|_| {
                    ApiError::invalid("department_id", "unknown_department", "部门不存在", "No such department")
                })?
                .path,
        ),
        None => None,
    };
    let office = auth.user.grants.has(Permission::InspectionManage);
    let reader = Reader { scope: auth.scope.clone(), office };
    let after = p.after.unwrap_or(0);
    let f = EventFilter {
        kinds,
        department_path,
        aggregate,
        aggregate_id: p.aggregate_id,
        from: p.from,
        to: p.to,
        after,
        limit,
    };
    let rows = ledger::read(db, &reader, &f).await?;
    let next_after = rows.last().map_or(after, |e| e.seq);
    let mut items = Vec::with_capacity(rows.len());
    for e in rows {
        items.push(LedgerEvent {
            payload: ledger::payload(&e)?,
            seq: e.seq,
            kind: e.kind,
            aggregate: e.aggregate,
            aggregate_id: e.aggregate_id,
            department_id: e.department_id,
            window_id: e.window_id,
            person_id: e.person_id,
            post_id: e.post_id,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor_user_id: e.actor_user_id.filter(|_| office),
        });
    }
    Ok(Json(EventPage { items, next_after }))
}
