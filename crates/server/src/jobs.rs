//! The background jobs this server runs, and the runner wired with them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use object_store::ObjectStore;
use xiaoneng_core::{
    auth::SecurityPolicy,
    clock::{Clock, city_day, office_hours},
    rbac::Role,
    rectification::RectificationPolicy,
};
use xiaoneng_store::{
    Store, accounts,
    entity::job,
    jobs::{JobFuture, JobHandler, JobRunner, NewJob, Recurring, enqueue},
    rectification::{self as rect, Note},
    settings,
};

use crate::notify::NotifyChannels;

pub const SESSION_SWEEP: &str = "session.sweep";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const UPLOAD_SWEEP: &str = "upload.sweep";
pub const RECTIFICATION_REMIND: &str = "rectification.remind";
pub const NOTIFY_SEND: &str = "notify.send";

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

/// Flags orders that passed their deadline and sends the reminders due before deadlines, during
/// office hours: in the app to the department's head and liaison, and to the office's robots and
/// mailboxes. Each reminder goes out
/// once, however many instances run this job (a unique row per order, deadline and point).
struct RectificationRemind(Arc<dyn Clock>);

impl JobHandler for RectificationRemind {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move { remind(store, self.0.now()).await.map_err(|e| e.to_string()) })
    }
}

pub async fn remind(store: &Store, now: DateTime<Utc>) -> xiaoneng_store::Result<()> {
    // Outside office hours nothing is due yet: the day's reminders go out when offices open.
    if !office_hours(now) {
        return Ok(());
    }
    let today = city_day(now);
    let db = store.db();
    let policy: RectificationPolicy = settings::get(db, settings::RECTIFICATION_POLICY).await?;
    let calendar = xiaoneng_store::calendar::work_calendar(db).await?;
    let dept_roles = [Role::DeptHead, Role::DeptLiaison];

    let tx = store.write().await?;
    let overdue = rect::mark_overdue(&tx, today, now).await?;
    let office = rect::users_with_roles(&tx, &[Role::OfficeAdmin]).await?;
    let names = xiaoneng_store::org::department_names(&tx, overdue.iter().map(|o| o.department_id)).await?;
    for o in &overdue {
        let dept = names.get(&o.department_id).cloned().unwrap_or_default();
        let key = format!("order.overdue:{}:{}", o.id, o.deadline);
        let note = Note {
            kind: "order.overdue",
            title: format!("整改通知已逾期：{dept}"),
            body: format!("整改期限 {} 已过，尚未报送整改情况。", o.deadline),
            link: format!("/rectification/{}", o.id),
            due: Some(o.deadline),
        };
        let mut users = rect::department_users(&tx, o.department_id, &dept_roles).await?;
        users.extend(&office);
        rect::notify(&tx, &users, &note, Some(&key), now).await?;
        let text = format!("【效能办】{dept}的整改通知已逾期（期限 {}），请尽快书面报送整改情况。", o.deadline);
        enqueue_notice(&tx, &text, Some(key), now).await?;
    }
    tx.commit().await?;
    if !overdue.is_empty() {
        tracing::info!(orders = overdue.len(), "orders became overdue");
    }

    let mut sent = 0;
    for o in rect::orders_owed(db, &xiaoneng_store::org::Scope::All).await? {
        let Some(point) = policy.reminders_due(&calendar, o.deadline, today) else { continue };
        let tx = store.write().await?;
        if rect::claim_reminder(&tx, o.id, o.deadline, point, now).await? {
            let dept = xiaoneng_store::org::department_names(&tx, [o.department_id])
                .await?
                .remove(&o.department_id)
                .unwrap_or_default();
            let when =
                if point == 0 { "今天".to_owned() } else { format!("{} 个工作日后（{}）", point, o.deadline) };
            let key = format!("order.remind:{}:{}:{point}", o.id, o.deadline);
            let note = Note {
                kind: "order.reminder",
                title: format!("整改期限提醒：{when}到期"),
                body: format!("请于 {} 前书面报送整改情况。", o.deadline),
                link: format!("/rectification/{}", o.id),
                due: Some(o.deadline),
            };
            let users = rect::department_users(&tx, o.department_id, &dept_roles).await?;
            rect::notify(&tx, &users, &note, Some(&key), now).await?;
            let text = format!("【效能办】提醒：{dept}的整改报告{when}到期（{}），请按时书面报送。", o.deadline);
            enqueue_notice(&tx, &text, Some(key), now).await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    if sent > 0 {
        tracing::info!(reminders = sent, "rectification reminders sent");
    }
    Ok(())
}

/// Queues a message for the office's robots — only when one is configured. With a key, the same
/// message is queued once ever.
pub async fn enqueue_notice<C: sea_orm::ConnectionTrait>(
    c: &C,
    text: &str,
    dedupe: Option<String>,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<()> {
    let channels: NotifyChannels = settings::get(c, settings::NOTIFY_CHANNELS).await?;
    if !channels.any() {
        return Ok(());
    }
    let job = NewJob {
        dedupe_key: dedupe.map(|k| format!("notify:{k}")),
        ..NewJob::now(NOTIFY_SEND, serde_json::json!({ "text": text }), now)
    };
    enqueue(c, job, now).await?;
    Ok(())
}

/// Sends a queued message to the robots configured now.
struct NotifySend(Arc<dyn Clock>);

impl JobHandler for NotifySend {
    fn run<'a>(&'a self, store: &'a Store, job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
            let text = payload.get("text").and_then(|t| t.as_str()).unwrap_or_default();
            let channels: NotifyChannels =
                settings::get(store.db(), settings::NOTIFY_CHANNELS).await.map_err(|e| e.to_string())?;
            channels.send(text, self.0.now().timestamp_millis()).await
        })
    }
}

pub fn runner(store: Store, clock: Arc<dyn Clock>, objects: Arc<dyn ObjectStore>, worker: String) -> JobRunner {
    JobRunner::new(store, clock.clone(), worker)
        .handle(SESSION_SWEEP, Arc::new(SessionSweep(clock.clone())))
        .handle(AUDIT_VERIFY, Arc::new(AuditVerify))
        .handle(UPLOAD_SWEEP, Arc::new(UploadSweep(clock.clone(), objects)))
        .handle(RECTIFICATION_REMIND, Arc::new(RectificationRemind(clock.clone())))
        .handle(NOTIFY_SEND, Arc::new(NotifySend(clock.clone())))
        .every(Recurring { kind: RECTIFICATION_REMIND, every: Duration::minutes(15) })
        .every(Recurring { kind: UPLOAD_SWEEP, every: Duration::hours(1) })
        .every(Recurring { kind: SESSION_SWEEP, every: Duration::minutes(10) })
        .every(Recurring { kind: AUDIT_VERIFY, every: Duration::hours(24) })
}
