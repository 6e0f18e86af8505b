//! The audit log, for the audit admin: search, and a check of the hash chain.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_store::{
    audit::{self, AuditFilter},
    entity::audit_entry,
};

use crate::api::{Checks, Page, page_req};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::ErrorBody,
    extract::ApiQuery,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(verify))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    /// The user name (or, for a failed login, the name tried).
    pub actor: String,
    pub ip: String,
    /// Such as `person.update`, `auth.login`, `permission.denied`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// `sha256` or `sm3`.
    pub algo: String,
    pub hash: String,
    /// How many more times the same caller did the same (a refused request, a failed login)
    /// within this entry's ten-minute window: rolled up into this entry rather than recorded one
    /// by one. Once the window has closed, a summary entry (`target_type` `audit_entry`, naming
    /// this one, `detail.rollup.repeats`) puts the count into the chain.
    pub repeats: i64,
}

impl From<audit_entry::Model> for AuditEntry {
    fn from(e: audit_entry::Model) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor_user_id: e.actor_user_id,
            actor: e.actor,
            ip: e.ip,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            outcome: e.outcome,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            algo: e.algo,
            hash: e.hash,
            repeats: 0,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Part of the user name.
    pub actor: Option<String>,
    /// An action, or its start (`person.` for every change to people).
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// From this time (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Until this time (RFC 3339), exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// Entries newest first.
#[utoipa::path(operation_id = "audit_search", get, path = "/api/v1/audit", tag = "audit", params(SearchParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn search(
    State(s): State<AppState>,
    auth: Authorized<perm::AuditRead>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = AuditFilter {
        actor: p.actor,
        action: p.action,
        outcome: p.outcome,
        target_type: p.target_type,
        target_id: p.target_id,
        from: p.from,
        to: p.to,
    };
    let found = s.store.search_audit(&f, page).await?;
    let repeats = audit::rollup_repeats(s.store.db(), found.items.iter().map(|e| e.seq)).await?;
    // Who read the log is itself on the record.
    let detail = json!({ "actor": f.actor, "action": f.action, "outcome": f.outcome, "target_type": f.target_type,
                         "target_id": f.target_id, "from": f.from, "to": f.to, "page": page.page });
    s.store.audit(&auth.user.audit(&s, "audit.search", "audit", "", detail)).await?;
    Ok(Json(Page::from(found, |e| {
        let mut entry = AuditEntry::from(e);
        entry.repeats = repeats.get(&entry.seq).copied().unwrap_or(0);
        entry
    })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainStatus {
    /// True when every entry matches its hash and links to the one before.
    pub intact: bool,
    /// Entries checked (all of them when intact).
    pub entries: i64,
    /// The first entry that does not check out.
    pub broken_at: Option<i64>,
    /// Why it does not check out, in the request's language.
    pub reason: Option<String>,
}

/// Walks the whole chain and reports whether it is intact.
#[utoipa::path(operation_id = "audit_verify", get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = ChainStatus), (status = 403, body = ErrorBody)))]
async fn verify(
    State(s): State<AppState>,
    auth: Authorized<perm::AuditRead>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<ChainStatus>> {
    let en = crate::error::wants_english(&headers);
    let status = match s.store.verify_audit().await? {
        Ok(n) => ChainStatus { intact: true, entries: n, broken_at: None, reason: None },
        Err(b) => ChainStatus {
            intact: false,
            entries: b.seq - 1,
            broken_at: Some(b.seq),
            reason: Some(if en { b.reason } else { b.reason_zh }),
        },
    };
    let detail = json!({ "intact": status.intact, "entries": status.entries, "broken_at": status.broken_at });
    s.store.audit(&auth.user.audit(&s, "audit.verify", "audit", "", detail)).await?;
    Ok(Json(status))
}
