//! The append-only audit log. Entries are written in the same transaction as the change they
//! describe, and chained by hash through a one-row head that each writer locks, so concurrent
//! writers on PostgreSQL cannot fork the chain. Repeated refusals and failed logins of one caller
//! are rolled up: counted in `audit_rollups` beside the chain and summed up in one entry per
//! window (decision 0023), so that a flood of them cannot flood the log.

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IsolationLevel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use xiaoneng_core::audit::{
    AuditContent, ChainBreak, ChainVerifier, HashAlgo, RollupSummary, note_target, rollup_window,
};

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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Outcome::Ok),
            "denied" => Some(Outcome::Denied),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

/// Appends one entry. Call inside the write transaction of the change it records.
pub async fn append<C: ConnectionTrait>(c: &C, algo: HashAlgo, rec: &AuditRecord) -> Result<i64> {
    Ok(append_many(c, algo, &[rec]).await?[0])
}

/// Rows per multi-row insert: well under SQLite's limit of bound values in one statement.
pub(crate) const INSERT_ROWS: usize = 500;

/// Appends entries in order, chained in memory from the head read once, in multi-row inserts,
/// the head written once; returns their sequence numbers. A batch of changes records its entries
/// this way (decision 0037).
pub async fn append_many<C: ConnectionTrait>(c: &C, algo: HashAlgo, recs: &[&AuditRecord]) -> Result<Vec<i64>> {
    if recs.is_empty() {
        return Ok(Vec::new());
    }
    append_many_held(c, algo, serialise(c).await?, recs).await
}

/// [`append_many`] after the head was taken ([`serialise`]) in this transaction, and so not
/// read again.
pub async fn append_many_held<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    Held(head): Held,
    recs: &[&AuditRecord],
) -> Result<Vec<i64>> {
    if recs.is_empty() {
        return Ok(Vec::new());
    }
    let (mut seq, mut prev) = (head.seq, head.hash);
    let mut seqs = Vec::with_capacity(recs.len());
    let mut rows = Vec::with_capacity(recs.len());
    for rec in recs {
        seq += 1;
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
        let hash = content.hash(algo, &prev);
        rows.push(audit_entry::ActiveModel {
            seq: Set(seq),
            at: Set(at),
            actor_user_id: Set(rec.actor_user_id),
            actor: Set(rec.actor.clone()),
            ip: Set(rec.ip.clone()),
            action: Set(rec.action.clone()),
            target_type: Set(rec.target_type.clone()),
            target_id: Set(rec.target_id.clone()),
            outcome: Set(rec.outcome.code().to_owned()),
            detail: Set(detail),
            algo: Set(algo.code().to_owned()),
            prev_hash: Set(std::mem::replace(&mut prev, hash.clone())),
            hash: Set(hash),
        });
        seqs.push(seq);
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        audit_entry::Entity::insert_many(rows.by_ref().take(INSERT_ROWS)).exec_without_returning(c).await?;
    }
    audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(prev) }.update(c).await?;
    Ok(seqs)
}

#[derive(Clone, Copy, sea_orm::DeriveIden)]
enum AuditRollups {
    Table,
    Id,
    Caller,
    WindowStart,
    FirstSeq,
    Repeats,
    LastAt,
    Targets,
    SummarySeq,
}

/// One caller's roll-up in one window.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct RollupRow {
    id: i64,
    window_start: DateTime<Utc>,
    first_seq: i64,
    repeats: i32,
    last_at: DateTime<Utc>,
    targets: String,
}

/// What became of an event that rolls up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rolled {
    /// The first of its caller's window: this entry was appended.
    Recorded(i64),
    /// A repeat: counted beside the chain, to be summed up in one entry when the window closes.
    Counted,
}

/// Who repeats: the same action by the same actor from the same address.
fn caller_key(rec: &AuditRecord) -> String {
    let who = format!(
        "{}\n{}\n{}\n{}",
        rec.action,
        rec.actor_user_id.map(|i| i.to_string()).unwrap_or_default(),
        rec.actor,
        rec.ip
    );
    HashAlgo::Sha256.hex(who.as_bytes())
}

fn rollup_select() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    Query::select()
        .columns([
            AuditRollups::Id,
            AuditRollups::WindowStart,
            AuditRollups::FirstSeq,
            AuditRollups::Repeats,
            AuditRollups::LastAt,
            AuditRollups::Targets,
        ])
        .from(AuditRollups::Table)
        .to_owned()
}

async fn rollup_rows<C: ConnectionTrait>(c: &C, q: &sea_orm::sea_query::SelectStatement) -> Result<Vec<RollupRow>> {
    use sea_orm::FromQueryResult;
    c.query_all(q).await?.iter().map(|r| Ok(RollupRow::from_query_result(r, "")?)).collect()
}

/// Takes the audit chain's head for the rest of the write transaction, so that a writer that
/// counts before it writes (a rate limit) is alone between its count and its write: on PostgreSQL
/// as SQLite's IMMEDIATE transactions already are.
pub async fn serialise<C: ConnectionTrait>(c: &C) -> Result<Held> {
    Ok(Held(audit_head::Entity::find_by_id(1).lock_exclusive().one(c).await?.ok_or(StoreError::NotFound)?))
}

/// The audit chain's head as [`serialise`] took it: what the next entries chain from, until
/// the transaction appends any.
pub struct Held(audit_head::Model);

/// Appends an event that rolls up (a refused request, a failed login): the first of its caller's
/// window is appended at once; a repeat in the same window is only counted, beside the chain,
/// which is never rewritten. When the caller comes back in a later window, the summary of their
/// earlier window is appended first. Call inside a write transaction.
pub async fn append_rolled<C: ConnectionTrait>(c: &C, algo: HashAlgo, rec: &AuditRecord) -> Result<Rolled> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    // Whoever holds the head decides alone whether an event is the first of its window.
    audit_head::Entity::find_by_id(1).lock_exclusive().one(c).await?.ok_or(StoreError::NotFound)?;
    let at = xiaoneng_core::clock::truncate_micros(rec.at);
    let caller = caller_key(rec);
    let (window_start, _) = rollup_window(at);
    // `>=`: an instance whose clock lags counts into the window already open, not an older one.
    let q = rollup_select()
        .and_where(Expr::col(AuditRollups::Caller).eq(caller.as_str()))
        .and_where(Expr::col(AuditRollups::WindowStart).gte(window_start))
        .to_owned();
    if let Some(row) = rollup_rows(c, &q).await?.into_iter().next() {
        let mut targets: Vec<String> = serde_json::from_str(&row.targets).unwrap_or_default();
        note_target(&mut targets, &rec.target_id);
        let u = Query::update()
            .table(AuditRollups::Table)
            .value(AuditRollups::Repeats, Expr::col(AuditRollups::Repeats).add(1))
            .value(AuditRollups::LastAt, std::cmp::max(at, row.last_at))
            .value(AuditRollups::Targets, serde_json::to_string(&targets).unwrap_or_else(|_| "[]".into()))
            .and_where(Expr::col(AuditRollups::Id).eq(row.id))
            .to_owned();
        c.execute(&u).await?;
        return Ok(Rolled::Counted);
    }
    let earlier = rollup_select()
        .and_where(Expr::col(AuditRollups::Caller).eq(caller.as_str()))
        .and_where(Expr::col(AuditRollups::WindowStart).lt(window_start))
        .and_where(Expr::col(AuditRollups::SummarySeq).is_null())
        .and_where(Expr::col(AuditRollups::Repeats).gt(0))
        .to_owned();
    for row in rollup_rows(c, &earlier).await? {
        summarise(c, algo, &row, at).await?;
    }
    let seq = append(c, algo, rec).await?;
    let ins = Query::insert()
        .into_table(AuditRollups::Table)
        .columns([
            AuditRollups::Caller,
            AuditRollups::WindowStart,
            AuditRollups::FirstSeq,
            AuditRollups::Repeats,
            AuditRollups::LastAt,
            AuditRollups::Targets,
        ])
        .values([
            caller.into(),
            window_start.into(),
            seq.into(),
            0.into(),
            at.into(),
            serde_json::to_string(&[&rec.target_id]).unwrap_or_else(|_| "[]".into()).into(),
        ])
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?
        .to_owned();
    c.execute(&ins).await?;
    Ok(Rolled::Recorded(seq))
}

/// Appends the summary of a closed window's repeats, copying who, where and what from the entry
/// recorded at once, and marks the roll-up summarised.
async fn summarise<C: ConnectionTrait>(c: &C, algo: HashAlgo, row: &RollupRow, now: DateTime<Utc>) -> Result<i64> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let first = audit_entry::Entity::find_by_id(row.first_seq).one(c).await?.ok_or(StoreError::NotFound)?;
    let (window_start, window_end) = rollup_window(row.window_start);
    let summary = RollupSummary {
        first_seq: row.first_seq,
        repeats: i64::from(row.repeats),
        window_start,
        window_end,
        last_at: row.last_at,
        targets: serde_json::from_str(&row.targets).unwrap_or_default(),
    };
    let rec = AuditRecord {
        at: now,
        actor_user_id: first.actor_user_id,
        actor: first.actor,
        ip: first.ip,
        action: first.action,
        target_type: "audit_entry".into(),
        target_id: row.first_seq.to_string(),
        outcome: Outcome::parse(&first.outcome).unwrap_or(Outcome::Failed),
        detail: summary.detail(),
    };
    let seq = append(c, algo, &rec).await?;
    let u = Query::update()
        .table(AuditRollups::Table)
        .value(AuditRollups::SummarySeq, seq)
        .and_where(Expr::col(AuditRollups::Id).eq(row.id))
        .to_owned();
    c.execute(&u).await?;
    Ok(seq)
}

/// How many repeats were rolled up into each of these entries (the ones recorded at once), by
/// sequence number; entries without repeats are left out.
pub async fn rollup_repeats<C: ConnectionTrait>(
    c: &C,
    seqs: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, i64>> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let seqs: Vec<i64> = seqs.into_iter().collect();
    if seqs.is_empty() {
        return Ok(Default::default());
    }
    let q = rollup_select()
        .and_where(Expr::col(AuditRollups::FirstSeq).is_in(seqs))
        .and_where(Expr::col(AuditRollups::Repeats).gt(0))
        .to_owned();
    Ok(rollup_rows(c, &q).await?.into_iter().map(|r| (r.first_seq, i64::from(r.repeats))).collect())
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

    /// Records an event that rolls up ([`append_rolled`]) on its own.
    pub async fn audit_rolled(&self, rec: &AuditRecord) -> Result<Rolled> {
        let tx = self.write().await?;
        let r = append_rolled(&tx, self.audit_algo(), rec).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Appends the summaries of every window closed by `now` whose repeats are not yet in the
    /// chain (the roll-up job). Returns how many were appended.
    pub async fn flush_audit_rollups(&self, now: DateTime<Utc>) -> Result<usize> {
        use sea_orm::sea_query::{Expr, ExprTrait};
        let tx = self.write().await?;
        audit_head::Entity::find_by_id(1).lock_exclusive().one(&tx).await?.ok_or(StoreError::NotFound)?;
        let (current, _) = rollup_window(now);
        let q = rollup_select()
            .and_where(Expr::col(AuditRollups::SummarySeq).is_null())
            .and_where(Expr::col(AuditRollups::WindowStart).lt(current))
            .and_where(Expr::col(AuditRollups::Repeats).gt(0))
            .order_by(AuditRollups::Id, sea_orm::Order::Asc)
            .limit(500)
            .to_owned();
        let rows = rollup_rows(&tx, &q).await?;
        for row in &rows {
            summarise(&tx, self.audit_algo(), row, now).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
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
