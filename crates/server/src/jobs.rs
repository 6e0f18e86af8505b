//! The background jobs this server runs, and the runner wired with them.

use std::sync::Arc;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use xiaoneng_core::{auth::SecurityPolicy, clock::Clock};
use xiaoneng_store::{
    Store, accounts,
    entity::job,
    jobs::{JobFuture, JobHandler, JobRunner, Recurring},
    settings,
};

pub const SESSION_SWEEP: &str = "session.sweep";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const AUDIT_LAST_VERIFY: &str = "audit_last_verify";

/// Ends sessions past their idle or absolute limit, so the sessions table tells the truth about
/// who is logged in even for users who never come back.
struct SessionSweep(Arc<dyn Clock>);

impl JobHandler for SessionSweep {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let now = self.0.now();
            let p: SecurityPolicy =
                settings::get(store.db(), settings::SECURITY_POLICY).await.map_err(|e| e.to_string())?;
            let tx = store.write().await.map_err(|e| e.to_string())?;
            let n = accounts::sweep_sessions(
                &tx,
                now - Duration::minutes(i64::from(p.idle_minutes)),
                now - Duration::hours(i64::from(p.absolute_hours)),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            if n > 0 {
                tracing::info!(ended = n, "expired sessions ended");
            }
            Ok(())
        })
    }
}

/// The last scheduled check of the audit chain, kept for the audit admin's page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastVerify {
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub intact: bool,
    pub entries: i64,
    pub broken_at: Option<i64>,
}

/// Walks the audit chain every night; a break is logged as an error and recorded.
struct AuditVerify(Arc<dyn Clock>);

impl JobHandler for AuditVerify {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let result = store.verify_audit().await.map_err(|e| e.to_string())?;
            let last = match &result {
                Ok(n) => LastVerify { at: Some(self.0.now()), intact: true, entries: *n, broken_at: None },
                Err(b) => {
                    tracing::error!(seq = b.seq, reason = %b.reason, "audit chain is broken");
                    LastVerify { at: Some(self.0.now()), intact: false, entries: b.seq - 1, broken_at: Some(b.seq) }
                }
            };
            let tx = store.write().await.map_err(|e| e.to_string())?;
            settings::put(&tx, AUDIT_LAST_VERIFY, &last, None, self.0.now()).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        })
    }
}

pub fn runner(store: Store, clock: Arc<dyn Clock>, worker: String) -> JobRunner {
    JobRunner::new(store, clock.clone(), worker)
        .handle(SESSION_SWEEP, Arc::new(SessionSweep(clock.clone())))
        .handle(AUDIT_VERIFY, Arc::new(AuditVerify(clock)))
        .every(Recurring { kind: SESSION_SWEEP, every: Duration::minutes(10) })
        .every(Recurring { kind: AUDIT_VERIFY, every: Duration::hours(24) })
}
