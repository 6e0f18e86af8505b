//! The background jobs this server runs, and the runner wired with them.

use std::sync::Arc;

use chrono::Duration;
use object_store::ObjectStore;
use xiaoneng_core::{auth::SecurityPolicy, clock::Clock};
use xiaoneng_store::{
    Store, accounts,
    entity::job,
    jobs::{JobFuture, JobHandler, JobRunner, Recurring},
    settings,
};

pub const SESSION_SWEEP: &str = "session.sweep";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const UPLOAD_SWEEP: &str = "upload.sweep";

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

/// Walks the audit chain every day; a break is logged as an error, for the operators' alerting
/// (the audit admin checks the chain at will with `GET /api/v1/audit/verify`).
struct AuditVerify;

impl JobHandler for AuditVerify {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            match store.verify_audit().await.map_err(|e| e.to_string())? {
                Ok(n) => tracing::info!(entries = n, "audit chain intact"),
                Err(b) => tracing::error!(seq = b.seq, reason = %b.reason, "audit chain is broken"),
            }
            Ok(())
        })
    }
}

/// Removes evidence uploads that were started and then abandoned, with the parts they stored.
struct UploadSweep(Arc<dyn Clock>, Arc<dyn ObjectStore>);

impl JobHandler for UploadSweep {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let n = crate::routes::evidence::sweep_abandoned(store, self.1.as_ref(), self.0.now())
                .await
                .map_err(|e| e.to_string())?;
            if n > 0 {
                tracing::info!(removed = n, "abandoned uploads removed");
            }
            Ok(())
        })
    }
}

pub fn runner(store: Store, clock: Arc<dyn Clock>, objects: Arc<dyn ObjectStore>, worker: String) -> JobRunner {
    JobRunner::new(store, clock.clone(), worker)
        .handle(SESSION_SWEEP, Arc::new(SessionSweep(clock.clone())))
        .handle(AUDIT_VERIFY, Arc::new(AuditVerify))
        .handle(UPLOAD_SWEEP, Arc::new(UploadSweep(clock.clone(), objects)))
        .every(Recurring { kind: UPLOAD_SWEEP, every: Duration::hours(1) })
        .every(Recurring { kind: SESSION_SWEEP, every: Duration::minutes(10) })
        .every(Recurring { kind: AUDIT_VERIFY, every: Duration::hours(24) })
}
