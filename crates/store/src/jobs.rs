//! Background jobs on the database, so that several server instances share one queue.
//!
//! A job is claimed by one worker at a time: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, on
//! SQLite by the IMMEDIATE write transaction that serialises writers. A claim carries a lease; a
//! worker that dies leaves its job to be claimed again after the lease ends. Recurring jobs are
//! enqueued under a dedupe key naming their time slot, so instances that all tick enqueue once.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Set, Statement, sea_query::OnConflict};
use tokio::sync::watch;
use xiaoneng_core::clock::Clock;

use crate::{
    Result, Store,
    entity::job::{self, JobStatus},
};

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// Jobs with the same key are enqueued once, ever.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn now(kind: &str, payload: serde_json::Value, at: DateTime<Utc>) -> Self {
        Self { kind: kind.to_owned(), payload, run_at: at, dedupe_key: None, max_attempts: 5 }
    }
}

/// Enqueues a job. `Ok(false)` when a job with the same dedupe key exists already.
pub async fn enqueue<C: ConnectionTrait>(c: &C, j: NewJob, now: DateTime<Utc>) -> Result<bool> {
    let row = job::ActiveModel {
        kind: Set(j.kind),
        payload: Set(j.payload.to_string()),
        dedupe_key: Set(j.dedupe_key),
        run_at: Set(j.run_at),
        status: Set(JobStatus::Pending),
        attempts: Set(0),
        max_attempts: Set(j.max_attempts.max(1)),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    };
    let n = job::Entity::insert(row)
        .on_conflict(OnConflict::column(job::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(c)
        .await?;
    Ok(n == 1)
}

/// What a job handler returns; the error text is kept on the job row.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait JobHandler: Send + Sync {
    fn run<'a>(&'a self, store: &'a Store, job: &'a job::Model) -> JobFuture<'a>;
}

/// A job that runs every `every`, enqueued once per slot across all instances.
#[derive(Debug, Clone)]
pub struct Recurring {
    pub kind: &'static str,
    pub every: chrono::Duration,
}

#[derive(Clone)]
pub struct JobRunner {
    store: Store,
    clock: Arc<dyn Clock>,
    worker: String,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    recurring: Vec<Recurring>,
    lease: chrono::Duration,
    idle_poll: Duration,
}

impl JobRunner {
    pub fn new(store: Store, clock: Arc<dyn Clock>, worker: String) -> Self {
        Self {
            store,
            clock,
            worker,
            handlers: HashMap::new(),
            recurring: Vec::new(),
            lease: chrono::Duration::minutes(5),
            idle_poll: Duration::from_secs(2),
        }
    }

    pub fn handle(mut self, kind: &'static str, h: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind, h);
        self
    }

    pub fn every(mut self, r: Recurring) -> Self {
        self.recurring.push(r);
        self
    }

    pub fn idle_poll(mut self, d: Duration) -> Self {
        self.idle_poll = d;
        self
    }

    /// Enqueues the current slot of every recurring job (a no-op when another instance did).
    pub async fn tick_recurring(&self) -> Result<()> {
        let now = self.clock.now();
        for r in &self.recurring {
            let secs = r.every.num_seconds().max(1);
            let slot = now.timestamp().div_euclid(secs) * secs;
            let at = DateTime::from_timestamp(slot, 0).unwrap_or(now);
            let job = NewJob {
                dedupe_key: Some(format!("{}@{}", r.kind, at.format("%Y-%m-%dT%H:%M:%SZ"))),
                ..NewJob::now(r.kind, serde_json::Value::Null, at)
            };
            enqueue(self.store.db(), job, now).await?;
        }
        Ok(())
    }

    /// Claims the next due job, if any, for this worker.
    pub async fn claim(&self) -> Result<Option<job::Model>> {
        let now = self.clock.now();
        let until = now + self.lease;
        let backend = self.store.backend();
        let (lock, p) = match backend {
            DbBackend::Postgres => ("FOR UPDATE SKIP LOCKED", ["$1", "$2", "$3"]),
            _ => ("", ["?", "?", "?"]),
        };
        let sql = format!(
            "UPDATE jobs SET status = '{running}', attempts = attempts + 1, locked_by = {w}, locked_until = {u} \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (status = '{pending}' AND run_at <= {n}) \
                    OR (status = '{running}' AND locked_until < {n2} AND attempts < max_attempts) \
                 ORDER BY run_at, id LIMIT 1 {lock}) \
             RETURNING *",
            running = JobStatus::Running.code(),
            pending = JobStatus::Pending.code(),
            w = p[0],
            u = p[1],
            n = p[2],
            n2 = if backend == DbBackend::Postgres { "$3" } else { "?" },
        );
        let mut values: Vec<sea_orm::Value> = vec![self.worker.clone().into(), until.into(), now.into()];
        if backend != DbBackend::Postgres {
            values.push(now.into());
        }
        let tx = self.store.write().await?;
        let row = job::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).one(&tx).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records how a job ended — only if this worker still holds it: a job that outlived its
    /// lease belongs to whoever claimed it next, and their outcome counts.
    async fn finish(&self, j: &job::Model, outcome: Result<(), String>) -> Result<()> {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        let now = self.clock.now();
        let mut q = job::Entity::update_many()
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        q = match outcome {
            Ok(()) => q
                .col_expr(job::Column::Status, Expr::value(JobStatus::Done))
                .col_expr(job::Column::FinishedAt, Expr::value(now)),
            Err(e) => {
                tracing::warn!(job = j.id, kind = %j.kind, attempt = j.attempts, error = %e, "job failed");
                let q = q.col_expr(job::Column::LastError, Expr::value(e));
                if j.attempts >= j.max_attempts {
                    q.col_expr(job::Column::Status, Expr::value(JobStatus::Failed))
                        .col_expr(job::Column::FinishedAt, Expr::value(now))
                } else {
                    let retry = now + chrono::Duration::seconds(30 * i64::from(j.attempts.max(1)));
                    q.col_expr(job::Column::Status, Expr::value(JobStatus::Pending))
                        .col_expr(job::Column::RunAt, Expr::value(retry))
                }
            }
        };
        let tx = self.store.write().await?;
        let r = q
            .filter(job::Column::Id.eq(j.id))
            .filter(job::Column::Status.eq(JobStatus::Running))
            .filter(job::Column::LockedBy.eq(self.worker.as_str()))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        if r.rows_affected == 0 {
            tracing::warn!(job = j.id, kind = %j.kind, "job outlived its lease; its outcome was not recorded");
        }
        Ok(())
    }

    /// Jobs whose worker vanished during their last allowed attempt fail instead of waiting forever.
    async fn fail_abandoned(&self, now: DateTime<Utc>) -> Result<()> {
        use sea_orm::{
            ColumnTrait, QueryFilter,
            sea_query::{Expr, ExprTrait},
        };
        let tx = self.store.write().await?;
        job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Failed))
            .col_expr(job::Column::FinishedAt, Expr::value(now))
            .col_expr(job::Column::LastError, Expr::value("the worker stopped during the last attempt"))
            .filter(job::Column::Status.eq(JobStatus::Running))
            .filter(job::Column::LockedUntil.lt(now))
            .filter(Expr::col(job::Column::Attempts).gte(Expr::col(job::Column::MaxAttempts)))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims and runs one job. `Ok(false)` when nothing was due.
    pub async fn run_one(&self) -> Result<bool> {
        let Some(j) = self.claim().await? else {
            return Ok(false);
        };
        let outcome = match self.handlers.get(j.kind.as_str()) {
            Some(h) => h.run(&self.store, &j).await,
            None => Err(format!("no handler for job kind {:?}", j.kind)),
        };
        self.finish(&j, outcome).await?;
        Ok(true)
    }

    /// Runs until `stop` turns true: ticks recurring jobs, then drains due jobs, then waits.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut last_tick: Option<DateTime<Utc>> = None;
        while !*stop.borrow() {
            let now = self.clock.now();
            if last_tick.is_none_or(|t| now - t >= chrono::Duration::seconds(30)) {
                if let Err(e) = self.tick_recurring().await {
                    tracing::warn!(error = %e, "could not enqueue recurring jobs");
                }
                if let Err(e) = self.fail_abandoned(now).await {
                    tracing::warn!(error = %e, "could not fail abandoned jobs");
                }
                last_tick = Some(now);
            }
            let worked = match self.run_one().await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "job runner error");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(self.idle_poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// Counts jobs by status.
pub async fn count_by_status(store: &Store, status: JobStatus) -> Result<u64> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    Ok(job::Entity::find().filter(job::Column::Status.eq(status)).count(store.db()).await?)
}
