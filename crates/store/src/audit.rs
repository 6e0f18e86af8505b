//! The append-only audit log. Entries are written in the same transaction as the change they
//! describe, and chained by hash through a one-row head that each writer locks, so concurrent
//! writers on PostgreSQL cannot fork the chain.

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IsolationLevel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use xiaoneng_core::audit::{AuditContent, ChainBreak, ChainVerifier, HashAlgo};

use crate::{
    PageReq, Paged, Result, Store, StoreError, contains,
    entity::{audit_entry, audit_head},
    starts_with,
};

/// Who did what, where from, and how it ended. Never put a password, a session token or an
/// unmasked phone number in `detail`.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub outcome: Outcome,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// Refused for lack of permission.
    Denied,
    /// Attempted and failed (a wrong password, say).
    Failed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// Appends one entry. Call inside the write transaction of the change it records.
pub async fn append<C: ConnectionTrait>(c: &C, algo: HashAlgo, rec: &AuditRecord) -> Result<i64> {
    let head = audit_head::Entity::find_by_id(1).lock_exclusive().one(c).await?.ok_or(StoreError::NotFound)?;
    let seq = head.seq + 1;
    let at = xiaoneng_core::clock::truncate_micros(rec.at);
    let detail = serde_json::to_string(&rec.detail).unwrap_or_else(|_| "{}".into());
    let content = AuditContent {
        seq,
        at,
        actor_user_id: rec.actor_user_id,
        actor: &rec.actor,
        ip: &rec.ip,
        action: &rec.action,
        target_type: &rec.target_type,
        target_id: &rec.target_id,
        outcome: rec.outcome.code(),
        detail: &detail,
    };
    let hash = content.hash(algo, &head.hash);
    audit_entry::ActiveModel {
        seq: Set(seq),
        at: Set(at),
        actor_user_id: Set(rec.actor_user_id),
        actor: Set(rec.actor.clone()),
        ip: Set(rec.ip.clone()),
        action: Set(rec.action.clone()),
        target_type: Set(rec.target_type.clone()),
        target_id: Set(rec.target_id.clone()),
        outcome: Set(rec.outcome.code().to_owned()),
        detail: Set(detail.clone()),
        algo: Set(algo.code().to_owned()),
        prev_hash: Set(head.hash.clone()),
        hash: Set(hash.clone()),
    }
    .insert(c)
    .await?;
    audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(hash) }.update(c).await?;
    Ok(seq)
}

impl Store {
    /// Records an entry on its own: for events that change nothing else (a refused request, a
    /// failed login, a download).
    pub async fn audit(&self, rec: &AuditRecord) -> Result<i64> {
        let tx = self.write().await?;
        let seq = append(&tx, self.audit_algo(), rec).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Walks the whole chain in one snapshot. `Ok(n)` is the number of intact entries.
    pub async fn verify_audit(&self) -> Result<Result<i64, ChainBreak>> {
        let pg = self.backend() == DbBackend::Postgres;
        let tx = self
            .db()
            .begin_with_options(TransactionOptions {
                isolation_level: pg.then_some(IsolationLevel::RepeatableRead),
                access_mode: pg.then_some(AccessMode::ReadOnly),
                sqlite_transaction_mode: None,
            })
            .await?;
        let head = audit_head::Entity::find_by_id(1).one(&tx).await?.ok_or(StoreError::NotFound)?;
        let mut v = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let batch = audit_entry::Entity::find()
                .filter(audit_entry::Column::Seq.gt(after))
                .order_by_asc(audit_entry::Column::Seq)
                .limit(2000)
                .all(&tx)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in &batch {
                let Some(algo) = HashAlgo::parse(&e.algo) else {
                    return Ok(Err(ChainBreak {
                        seq: e.seq,
                        reason: format!("unknown hash algorithm {:?}", e.algo),
                        reason_zh: format!("未知的哈希算法 {:?}", e.algo),
                    }));
                };
                let content = AuditContent {
                    seq: e.seq,
                    at: e.at,
                    actor_user_id: e.actor_user_id,
                    actor: &e.actor,
                    ip: &e.ip,
                    action: &e.action,
                    target_type: &e.target_type,
                    target_id: &e.target_id,
                    outcome: &e.outcome,
                    detail: &e.detail,
                };
                if let Err(b) = v.check(&content, algo, &e.prev_hash, &e.hash) {
                    return Ok(Err(b));
                }
            }
        }
        tx.commit().await?;
        Ok(v.finish(head.seq, &head.hash))
    }

    pub async fn search_audit(&self, f: &AuditFilter, page: PageReq) -> Result<Paged<audit_entry::Model>> {
        let mut cond = Condition::all();
        if let Some(actor) = f.actor.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(contains(audit_entry::Column::Actor, actor));
        }
        if let Some(action) = f.action.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(starts_with(audit_entry::Column::Action, action));
        }
        if let Some(o) = f.outcome.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(audit_entry::Column::Outcome.eq(o));
        }
        if let Some(t) = f.target_type.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(audit_entry::Column::TargetType.eq(t));
        }
        if let Some(t) = f.target_id.as_deref().filter(|s| !s.is_empty()) {
            cond = cond.add(audit_entry::Column::TargetId.eq(t));
        }
        if let Some(from) = f.from {
            cond = cond.add(audit_entry::Column::At.gte(from));
        }
        if let Some(to) = f.to {
            cond = cond.add(audit_entry::Column::At.lt(to));
        }
        let q = audit_entry::Entity::find().filter(cond);
        let total = q.clone().count(self.db()).await?;
        let items = q
            .order_by_desc(audit_entry::Column::Seq)
            .offset(page.offset())
            .limit(page.page_size)
            .all(self.db())
            .await?;
        Ok(Paged { items, total, page: page.page, page_size: page.page_size })
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
