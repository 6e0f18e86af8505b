//! The background jobs this server runs, and the runner wired with them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use xiaoneng_core::{
    audit::HashAlgo,
    auth::SecurityPolicy,
    clock::{Clock, city_day, office_hours},
    rbac::Role,
    rectification::RectificationPolicy,
};
use xiaoneng_store::{
    Store, accounts,
    audit::{AuditRecord, Outcome},
    entity::job,
    jobs::{JobFuture, JobHandler, JobRunner, NewJob, Recurring, enqueue},
    ledger,
    rectification::{self as rect, Note},
    settings,
};

use crate::notify::NotifyChannels;

pub const SESSION_SWEEP: &str = "session.sweep";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const UPLOAD_SWEEP: &str = "upload.sweep";
pub const RECTIFICATION_REMIND: &str = "rectification.remind";
pub const NOTIFY_SEND: &str = "notify.send";
pub const AUDIT_ROLLUP: &str = "audit.rollup";
pub const SERVICE_CARDS: &str = "service.cards";
pub const RATING_OUTLIERS: &str = "rating.outliers";
pub const DB_OPTIMIZE: &str = "db.optimize";

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

/// Keeps the planner's statistics fresh as the tables grow ([`Store::optimize`]).
struct DbOptimize;

impl JobHandler for DbOptimize {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move { store.optimize().await.map_err(|e| e.to_string()) })
    }
}

/// Appends the summary entries of roll-up windows that have closed (decision 0023), so that the
/// chain holds the count of repeated refusals and failed logins even when the caller never comes
/// back.
struct AuditRollup(Arc<dyn Clock>);

impl JobHandler for AuditRollup {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let n = store.flush_audit_rollups(self.0.now()).await.map_err(|e| e.to_string())?;
            if n > 0 {
                tracing::info!(summaries = n, "audit roll-ups summed up");
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
            let n = crate::inspections::evidence::sweep_abandoned(store, self.1.as_ref(), self.0.now())
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

/// An entry for a step the system takes itself (no user, no address): `actor` is `system`, or
/// `system:<name>` for a connected system.
pub fn system_audit(
    actor: &str,
    action: &str,
    target: (&str, i64),
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AuditRecord {
    AuditRecord {
        at: now,
        actor_user_id: None,
        actor: actor.into(),
        ip: String::new(),
        action: action.into(),
        target_type: target.0.into(),
        target_id: target.1.to_string(),
        outcome: Outcome::Ok,
        detail,
    }
}

/// Records each owed order past its deadline as overdue, once per deadline, as its machine
/// decides (the event is dated the first day past the deadline), and tells the department and
/// the office. Returns how many became overdue.
pub async fn mark_overdue<C: sea_orm::ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<usize> {
    let candidates = rect::overdue_unmarked(c, city_day(now)).await?;
    let office = rect::users_with_roles(c, &[Role::OfficeAdmin]).await?;
    let names = xiaoneng_store::org::department_names(c, candidates.iter().map(|o| o.department_id)).await?;
    let mut n = 0;
    for o in &candidates {
        let Some(event) = rect::order_facts(o, None).overdue(now) else { continue };
        // Another instance (or a new deadline) got there first: nothing to record.
        if !rect::mark_overdue(c, o, now).await? {
            continue;
        }
        let rec = system_audit("system", "order.overdue", ("order", o.id), json!({ "deadline": o.deadline }), now);
        ledger::append(c, algo, &rec, &[event], None).await?;
        let dept = names.get(&o.department_id).cloned().unwrap_or_default();
        let key = format!("order.overdue:{}:{}", o.id, o.deadline);
        let note = Note {
            kind: "order.overdue",
            title: format!("整改通知已逾期：{dept}"),
            body: format!("整改期限 {} 已过，尚未报送整改情况。", o.deadline),
            link: format!("/rectification/{}", o.id),
            due: Some(o.deadline),
        };
        let mut users = rect::department_users(c, o.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        users.extend(&office);
        rect::notify(c, &users, &note, Some(&key), now).await?;
        let text = format!("【效能办】{dept}的整改通知已逾期（期限 {}），请尽快书面报送整改情况。", o.deadline);
        enqueue_notice(c, &text, Some(key), now).await?;
        n += 1;
    }
    Ok(n)
}

/// Sends the reminders due today before deadlines, each once (a unique row per order, deadline
/// and point), with its event. Returns how many went out.
pub async fn send_reminders<C: sea_orm::ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<usize> {
    let policy: RectificationPolicy = settings::get(c, settings::RECTIFICATION_POLICY).await?;
    let calendar = xiaoneng_store::calendar::work_calendar(c).await?;
    let owed = rect::orders_owed(c, &xiaoneng_store::org::Scope::All).await?;
    let names = xiaoneng_store::org::department_names(c, owed.iter().map(|o| o.department_id)).await?;
    let mut sent = 0;
    for o in &owed {
        let Some((point, event)) = rect::order_facts(o, None).reminder(&policy, &calendar, now) else { continue };
        if !rect::claim_reminder(c, o.id, o.deadline, point, now).await? {
            continue;
        }
        let rec = system_audit(
            "system",
            "order.remind",
            ("order", o.id),
            json!({ "deadline": o.deadline, "point": point }),
            now,
        );
        ledger::append(c, algo, &rec, &[event], None).await?;
        let dept = names.get(&o.department_id).cloned().unwrap_or_default();
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
        let users = rect::department_users(c, o.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        rect::notify(c, &users, &note, Some(&key), now).await?;
        let text = format!("【效能办】提醒：{dept}的整改报告{when}到期（{}），请按时书面报送。", o.deadline);
        enqueue_notice(c, &text, Some(key), now).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The rectification job: overdue orders recorded at any hour; reminders sent in office hours
/// (the day's reminders go out when offices open).
pub async fn remind(store: &Store, now: DateTime<Utc>) -> xiaoneng_store::Result<()> {
    let tx = store.write().await?;
    let overdue = mark_overdue(&tx, store.audit_algo(), now).await?;
    tx.commit().await?;
    if overdue > 0 {
        tracing::info!(orders = overdue, "orders became overdue");
    }
    let tx = store.write().await?;
    let tickets = crate::tickets::remind(&tx, store.audit_algo(), now, office_hours(now)).await?;
    tx.commit().await?;
    if tickets > 0 {
        tracing::info!(tickets, "ticket deadlines reminded or marked overdue");
    }
    let tx = store.write().await?;
    let lapses = crate::inquiries::raise_lapses(&tx, store.audit_algo(), now).await?;
    tx.commit().await?;
    if lapses > 0 {
        tracing::info!(lapses, "first-inquiry lapses raised for review");
    }
    if !office_hours(now) {
        return Ok(());
    }
    let tx = store.write().await?;
    let sent = send_reminders(&tx, store.audit_algo(), now).await?;
    tx.commit().await?;
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
struct NotifySend(Arc<dyn Clock>, crate::notify::Egress);

impl JobHandler for NotifySend {
    fn run<'a>(&'a self, store: &'a Store, job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
            let text = payload.get("text").and_then(|t| t.as_str()).unwrap_or_default();
            let channels: NotifyChannels =
                settings::get(store.db(), settings::NOTIFY_CHANNELS).await.map_err(|e| e.to_string())?;
            channels.send(text, self.0.now().timestamp_millis(), &self.1).await
        })
    }
}

/// Gives open cases the cards now due (core decides, each case updated if still as read), and
/// moves the next card day of those the calendar has pushed back.
struct ServiceCards(Arc<dyn Clock>);

impl JobHandler for ServiceCards {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move { give_cards(store, self.0.now()).await.map(|_| ()).map_err(|e| e.to_string()) })
    }
}

/// Holds the ratings of windows whose satisfaction sits far above their peers'.
struct RatingOutliers(Arc<dyn Clock>);

impl JobHandler for RatingOutliers {
    fn run<'a>(&'a self, store: &'a Store, _job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            crate::ratings::hold_outliers(store, self.0.now()).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}

/// What the open cases' card days were computed from. When the office changes the yellow share
/// or the calendar, every open case is computed again: a lowered share or a day off taken back
/// brings a card forward, which the pass over the cases already due would never see.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct CardBasis {
    yellow_percent: u32,
    calendar: String,
}

/// One pass of the card job: the cards given. First, when the share or the calendar changed
/// since the last pass, every open case; then the cases whose next card is due.
pub async fn give_cards(store: &Store, now: DateTime<Utc>) -> xiaoneng_store::Result<usize> {
    use xiaoneng_core::service::ServicePolicy;
    use xiaoneng_store::{calendar, service};
    let today = city_day(now);
    let mut given = 0;
    let basis = {
        let db = store.db();
        let policy: ServicePolicy = settings::get(db, settings::SERVICE_POLICY).await?;
        CardBasis { yellow_percent: policy.yellow_percent, calendar: calendar::work_calendar(db).await?.fingerprint() }
    };
    let last: CardBasis = settings::get(store.db(), settings::SERVICE_CARD_BASIS).await?;
    if last != basis {
        let mut after = 0;
        loop {
            let tx = store.write().await?;
            let batch = service::open_cases_after(&tx, after, 200).await?;
            given += card_batch(store, &tx, &batch, now).await?.0;
            tx.commit().await?;
            match batch.last() {
                Some(m) if batch.len() == 200 => after = m.id,
                _ => break,
            }
        }
        // Unless a change meanwhile asked for another pass over all of them.
        let tx = store.write().await?;
        if settings::get::<_, CardBasis>(&tx, settings::SERVICE_CARD_BASIS).await? == last {
            settings::put(&tx, settings::SERVICE_CARD_BASIS, &basis, None, now).await?;
        }
        tx.commit().await?;
    }
    loop {
        let tx = store.write().await?;
        let batch = service::card_candidates(&tx, today, 200).await?;
        let (carded, moved) = card_batch(store, &tx, &batch, now).await?;
        tx.commit().await?;
        given += carded;
        if batch.len() < 200 || moved == 0 {
            break;
        }
    }
    if given > 0 {
        tracing::info!(cards = given, "service cases carded");
    }
    Ok(given)
}

/// Asks for a pass of the card job over every open case, now (in `c`'s transaction): the yellow
/// share or the calendar changed, so cards may be due that were not. (The basis is forgotten, not
/// left to the comparison: a day given off and taken back before the job runs leaves the calendar
/// as it was, but cases decided in between need computing again.)
pub async fn cards_now<C: sea_orm::ConnectionTrait>(c: &C, now: DateTime<Utc>) -> xiaoneng_store::Result<()> {
    settings::put(c, settings::SERVICE_CARD_BASIS, &CardBasis::default(), None, now).await?;
    xiaoneng_store::jobs::enqueue(c, xiaoneng_store::jobs::NewJob::now(SERVICE_CARDS, json!({}), now), now).await?;
    Ok(())
}

/// Gives `batch` the cards now due, or computes its next card day again: (cards given, cases
/// whose next card day moved).
async fn card_batch(
    store: &Store,
    tx: &sea_orm::DatabaseTransaction,
    batch: &[xiaoneng_store::entity::service_case::Model],
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<(usize, usize)> {
    use xiaoneng_core::service::ServicePolicy;
    use xiaoneng_store::{calendar, service};
    let cal = calendar::work_calendar(tx).await?;
    let policy: ServicePolicy = settings::get(tx, settings::SERVICE_POLICY).await?;
    let (mut given, mut moved) = (0, 0);
    for m in batch {
        let facts = service::case_facts(m);
        match facts.card_check(&cal, &policy, now) {
            Some(d) => {
                // A push that changed the case meanwhile decided its cards itself.
                match service::apply_card(tx, m, &d, now).await {
                    Ok(()) => {}
                    Err(xiaoneng_store::StoreError::StateChanged) => continue,
                    Err(e) => return Err(e),
                }
                let detail = json!({ "number": m.number, "card": d.card });
                let rec = system_audit("system", "service_case.card", ("service_case", m.id), detail, now);
                ledger::append(tx, store.audit_algo(), &rec, &d.events, Some(m.id)).await?;
                given += 1;
                moved += 1;
            }
            None => {
                let d = facts.reschedule(&cal, &policy, now);
                if d.next_card_on != m.next_card_on {
                    moved += 1;
                }
                service::set_next_card_on(tx, m, d.next_card_on, d.timing.deadline).await?;
            }
        }
    }
    Ok((given, moved))
}

pub fn runner(
    store: Store,
    clock: Arc<dyn Clock>,
    objects: Arc<dyn ObjectStore>,
    egress: crate::notify::Egress,
    worker: String,
) -> JobRunner {
    JobRunner::new(store, clock.clone(), worker)
        .handle(SESSION_SWEEP, Arc::new(SessionSweep(clock.clone())))
        .handle(AUDIT_VERIFY, Arc::new(AuditVerify))
        .handle(UPLOAD_SWEEP, Arc::new(UploadSweep(clock.clone(), objects)))
        .handle(RECTIFICATION_REMIND, Arc::new(RectificationRemind(clock.clone())))
        .handle(NOTIFY_SEND, Arc::new(NotifySend(clock.clone(), egress)))
        .handle(AUDIT_ROLLUP, Arc::new(AuditRollup(clock.clone())))
        .handle(SERVICE_CARDS, Arc::new(ServiceCards(clock.clone())))
        .handle(RATING_OUTLIERS, Arc::new(RatingOutliers(clock.clone())))
        .handle(DB_OPTIMIZE, Arc::new(DbOptimize))
        .every(Recurring { kind: RECTIFICATION_REMIND, every: Duration::minutes(15) })
        .every(Recurring { kind: UPLOAD_SWEEP, every: Duration::hours(1) })
        .every(Recurring { kind: SESSION_SWEEP, every: Duration::minutes(10) })
        .every(Recurring { kind: AUDIT_VERIFY, every: Duration::hours(24) })
        .every(Recurring { kind: AUDIT_ROLLUP, every: Duration::minutes(5) })
        .every(Recurring { kind: SERVICE_CARDS, every: Duration::minutes(15) })
        .every(Recurring { kind: RATING_OUTLIERS, every: Duration::hours(6) })
        .every(Recurring { kind: DB_OPTIMIZE, every: Duration::hours(1) })
}
