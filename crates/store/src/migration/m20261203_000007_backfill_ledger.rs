//! Fills the ledger from the records a city already has, so that an existing city keeps its
//! history: every step its findings, evidence, plans, visits, bulletins, orders, reports,
//! reminders, instructions, campaigns and self-checks show becomes the event it would have been.
//!
//! What the records no longer hold is taken from where it was kept: an order's first deadline
//! and each later one from the audit log (`bulletin.publish`, `report.return`), or else from the
//! bulletin's rule counted on the working calendar; an overdue that
//! no job marked is derived from the deadline and the day the report came in (and marked on the
//! order, as the job would have). Events are written in the order they happened, so `seq`
//! follows time. Frozen: it writes the payloads' version 1 shapes itself, depending on no code
//! that may change later — which is also why it compares states as the text its tables held then
//! (`status == "closed"`) instead of through core's enums, whose codes may change after it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Statement, TryGetable};
use sea_orm_migration::prelude::*;
use serde_json::{Value, json};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000007_backfill_ledger"
    }
}

fn city_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

fn city_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(8)
}

fn number_text(year: i32, n: i32) -> String {
    format!("效能通报〔{year}〕{n}号")
}

fn is_problem(found: &str) -> bool {
    let f = found.trim();
    !f.is_empty() && !matches!(f, "无" | "无问题" | "未发现问题" | "none" | "None")
}

#[derive(Debug, Default)]
struct Ev {
    kind: &'static str,
    aggregate: &'static str,
    id: i64,
    department_id: Option<i64>,
    window_id: Option<i64>,
    person_id: Option<i64>,
    post_id: Option<i64>,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    actor: Option<i64>,
    office_only: bool,
    payload: Value,
}

impl Ev {
    fn at(kind: &'static str, aggregate: &'static str, id: i64, at: DateTime<Utc>, payload: Value) -> Self {
        Ev { kind, aggregate, id, occurred_at: at, recorded_at: at, payload, ..Default::default() }
    }

    fn dept(mut self, d: Option<i64>) -> Self {
        self.department_id = d;
        self
    }

    fn by(mut self, actor: Option<i64>) -> Self {
        self.actor = actor;
        self
    }

    fn secret(mut self) -> Self {
        self.office_only = true;
        self
    }
}

struct Db<'a> {
    c: &'a SchemaManagerConnection<'a>,
}

impl Db<'_> {
    async fn rows(&self, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
        self.c.query_all_raw(Statement::from_string(self.c.get_database_backend(), sql.to_owned())).await
    }
}

fn get<T: TryGetable>(r: &QueryResult, col: &str) -> Result<T, DbErr> {
    r.try_get("", col)
}

/// `detail` of the audit entries of an action, by target id.
async fn audit_details(
    db: &Db<'_>,
    action: &str,
) -> Result<HashMap<String, Vec<(DateTime<Utc>, Option<i64>, Value)>>, DbErr> {
    let mut out: HashMap<String, Vec<_>> = HashMap::new();
    for r in db
        .rows(&format!(
            "SELECT target_id, at, actor_user_id, detail FROM audit_log WHERE action = '{action}' ORDER BY seq"
        ))
        .await?
    {
        let detail: String = get(&r, "detail")?;
        let v = serde_json::from_str(&detail).unwrap_or(Value::Null);
        out.entry(get(&r, "target_id")?).or_default().push((get(&r, "at")?, get(&r, "actor_user_id")?, v));
    }
    Ok(out)
}

fn date_in(v: &Value, key: &str) -> Option<NaiveDate> {
    v.get(key).and_then(Value::as_str).and_then(|s| s.parse().ok())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = Db { c: m.get_connection() };
        let mut evs: Vec<Ev> = Vec::new();

        // ---------------------------------------------------------- findings and evidence
        struct F {
            dept: i64,
            window: Option<i64>,
            person: Option<i64>,
            post: Option<i64>,
            category: i64,
            severity: String,
            plan: Option<i64>,
            visit: Option<i64>,
            occurred: DateTime<Utc>,
        }
        let mut findings = HashMap::new();
        for r in db.rows("SELECT id, plan_id, visit_id, department_id, window_id, person_id, post_id, category_id, severity, occurred_at FROM findings").await? {
            findings.insert(
                get::<i64>(&r, "id")?,
                F {
                    dept: get(&r, "department_id")?,
                    window: get(&r, "window_id")?,
                    person: get(&r, "person_id")?,
                    post: get(&r, "post_id")?,
                    category: get(&r, "category_id")?,
                    severity: get(&r, "severity")?,
                    plan: get(&r, "plan_id")?,
                    visit: get(&r, "visit_id")?,
                    occurred: get(&r, "occurred_at")?,
                },
            );
        }
        let subject =
            |e: Ev, f: &F| Ev { window_id: f.window, person_id: f.person, post_id: f.post, ..e.dept(Some(f.dept)) };
        // Which bulletin notified a finding: the one published at the moment of its notify step.
        let mut published_with: HashMap<i64, Vec<(i64, DateTime<Utc>)>> = HashMap::new();
        for r in db.rows("SELECT bf.finding_id, b.id, b.published_at FROM bulletin_findings bf JOIN bulletins b ON b.id = bf.bulletin_id WHERE b.status = 'published'").await? {
            published_with.entry(get(&r, "finding_id")?).or_default().push((get(&r, "id")?, get(&r, "published_at")?));
        }
        for r in db.rows("SELECT finding_id, action, from_state, to_state, actor_user_id, reason, at FROM finding_events ORDER BY id").await? {
            let fid: i64 = get(&r, "finding_id")?;
            let Some(f) = findings.get(&fid) else { continue };
            let to: String = get(&r, "to_state")?;
            let from: Option<String> = get(&r, "from_state")?;
            let at: DateTime<Utc> = get(&r, "at")?;
            let action: String = get(&r, "action")?;
            let reason: String = get(&r, "reason")?;
            let mut p = json!({ "from": from, "to": to, "category_id": f.category, "severity": f.severity });
            if !reason.is_empty() {
                p["reason"] = json!(reason);
            }
            let (kind, secret) = match (action.as_str(), to.as_str()) {
                ("record", _) => {
                    p["from"] = Value::Null;
                    if let Some(pl) = f.plan {
                        p["plan_id"] = json!(pl);
                    }
                    if let Some(v) = f.visit {
                        p["visit_id"] = json!(v);
                    }
                    ("finding.recorded", true)
                }
                (_, "confirmed") => ("finding.confirmed", true),
                (_, "withdrawn") => ("finding.withdrawn", true),
                (_, "notified") => {
                    if let Some((b, _)) = published_with.get(&fid).and_then(|bs| bs.iter().find(|(_, t)| *t == at)) {
                        p["bulletin_id"] = json!(b);
                    }
                    ("finding.notified", false)
                }
                (_, "appealed") => ("finding.appealed", false),
                (_, "upheld") => ("finding.upheld", false),
                (_, "overturned") => ("finding.overturned", false),
                _ => continue,
            };
            let mut e = subject(Ev::at(kind, "finding", fid, at, p), f).by(Some(get(&r, "actor_user_id")?));
            if kind == "finding.recorded" {
                e.occurred_at = f.occurred;
            }
            evs.push(if secret { e.secret() } else { e });
        }
        for r in db
            .rows("SELECT id, finding_id, purpose, kind, bytes, sha256, sm3, uploaded_by, uploaded_at FROM evidence")
            .await?
        {
            let fid: i64 = get(&r, "finding_id")?;
            let Some(f) = findings.get(&fid) else { continue };
            let purpose: String = get(&r, "purpose")?;
            let p = json!({ "finding_id": fid, "purpose": purpose, "kind": get::<String>(&r, "kind")?,
                            "bytes": get::<i64>(&r, "bytes")?, "sha256": get::<String>(&r, "sha256")?, "sm3": get::<String>(&r, "sm3")? });
            let e = subject(Ev::at("evidence.filed", "evidence", get(&r, "id")?, get(&r, "uploaded_at")?, p), f)
                .by(Some(get(&r, "uploaded_by")?));
            evs.push(if purpose == "evidence" { e.secret() } else { e });
        }

        // ---------------------------------------------------------- plans and visits
        let plan_updates = audit_details(&db, "plan.update").await?;
        for r in db.rows("SELECT id, status, created_by, created_at, updated_at FROM inspection_plans").await? {
            let id: i64 = get(&r, "id")?;
            let status: String = get(&r, "status")?;
            let created: DateTime<Utc> = get(&r, "created_at")?;
            let by: Option<i64> = get(&r, "created_by")?;
            if status == "active" || status == "closed" {
                let p = json!({ "from": "planned", "to": "active" });
                evs.push(Ev::at("plan.activated", "plan", id, created, p).by(by).secret());
            }
            if status == "closed" {
                let closer = plan_updates.get(&id.to_string()).and_then(|u| u.last()).and_then(|u| u.1).or(by);
                let p = json!({ "from": "active", "to": "closed" });
                evs.push(Ev::at("plan.closed", "plan", id, get(&r, "updated_at")?, p).by(closer).secret());
            }
        }
        let visit_updates = audit_details(&db, "visit.update").await?;
        for r in db
            .rows("SELECT id, plan_id, department_id, window_id, scheduled_on, status, updated_at FROM visits")
            .await?
        {
            let id: i64 = get(&r, "id")?;
            let status: String = get(&r, "status")?;
            let kind = match status.as_str() {
                "done" => "visit.done",
                "cancelled" => "visit.cancelled",
                _ => continue,
            };
            let by = visit_updates.get(&id.to_string()).and_then(|u| u.last()).and_then(|u| u.1);
            let p = json!({ "plan_id": get::<i64>(&r, "plan_id")?, "from": "scheduled", "to": status,
                            "scheduled_on": get::<NaiveDate>(&r, "scheduled_on")? });
            let mut e =
                Ev::at(kind, "visit", id, get(&r, "updated_at")?, p).dept(get(&r, "department_id")?).by(by).secret();
            e.window_id = get(&r, "window_id")?;
            evs.push(e);
        }

        // ---------------------------------------------------------- bulletins
        let mut listed: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in db.rows("SELECT bulletin_id, finding_id FROM bulletin_findings ORDER BY bulletin_id, position").await?
        {
            listed.entry(get(&r, "bulletin_id")?).or_default().push(get(&r, "finding_id")?);
        }
        let withdrawals = audit_details(&db, "bulletin.withdraw").await?;
        let publications = audit_details(&db, "bulletin.publish").await?;
        for r in db.rows("SELECT id, status, scope, year, number, corrects_id, published_by, published_at, updated_at FROM bulletins").await? {
            let id: i64 = get(&r, "id")?;
            let status: String = get(&r, "status")?;
            match status.as_str() {
                "published" => {
                    let (year, number): (Option<i32>, Option<i32>) = (get(&r, "year")?, get(&r, "number")?);
                    let (Some(year), Some(number)) = (year, number) else { continue };
                    let at: DateTime<Utc> = get::<Option<DateTime<Utc>>>(&r, "published_at")?.unwrap_or(get(&r, "updated_at")?);
                    let corrects: Option<i64> = get(&r, "corrects_id")?;
                    let mut p = json!({ "year": year, "number": number, "number_text": number_text(year, number),
                                        "scope": get::<String>(&r, "scope")?, "finding_ids": listed.get(&id).cloned().unwrap_or_default() });
                    if let Some(c) = corrects {
                        p["corrects_id"] = json!(c);
                    }
                    let by: Option<i64> = get(&r, "published_by")?;
                    evs.push(Ev::at("bulletin.published", "bulletin", id, at, p).by(by));
                    if let Some(old) = corrects {
                        let p = json!({ "corrected_by": id, "number_text": number_text(year, number) });
                        evs.push(Ev::at("bulletin.corrected", "bulletin", old, at, p).by(by));
                    }
                }
                "withdrawn" => {
                    let w = withdrawals.get(&id.to_string()).and_then(|w| w.last());
                    let reason = w.and_then(|w| w.2.get("reason")).and_then(Value::as_str).unwrap_or_default();
                    let p = json!({ "reason": reason });
                    evs.push(Ev::at("bulletin.withdrawn", "bulletin", id, get(&r, "updated_at")?, p).by(w.and_then(|w| w.1)).secret());
                }
                _ => {}
            }
        }

        // ---------------------------------------------------------- orders and reports
        let mut order_findings: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in db.rows("SELECT order_id, finding_id FROM order_findings ORDER BY id").await? {
            order_findings.entry(get(&r, "order_id")?).or_default().push(get(&r, "finding_id")?);
        }
        struct R {
            id: i64,
            version: i32,
            status: String,
            submitted_by: Option<i64>,
            submitted_at: Option<DateTime<Utc>>,
            reviewed_by: Option<i64>,
            reviewed_at: Option<DateTime<Utc>>,
            comment: String,
        }
        let mut reports: BTreeMap<i64, Vec<R>> = BTreeMap::new();
        for r in db.rows("SELECT id, order_id, version, status, submitted_by, submitted_at, reviewed_by, reviewed_at, review_comment FROM rectification_reports ORDER BY order_id, version").await? {
            reports.entry(get(&r, "order_id")?).or_default().push(R {
                id: get(&r, "id")?,
                version: get(&r, "version")?,
                status: get(&r, "status")?,
                submitted_by: get(&r, "submitted_by")?,
                submitted_at: get(&r, "submitted_at")?,
                reviewed_by: get(&r, "reviewed_by")?,
                reviewed_at: get(&r, "reviewed_at")?,
                comment: get(&r, "review_comment")?,
            });
        }
        let returns = audit_details(&db, "report.return").await?;
        // Where the audit log does not say a bulletin's orders' first deadline, its rule does,
        // counted on the working calendar from the day it was published.
        let mut overrides = Vec::new();
        for r in db.rows("SELECT day, working FROM calendar_days").await? {
            overrides.push((get::<NaiveDate>(&r, "day")?, get::<bool>(&r, "working")?));
        }
        let calendar = xiaoneng_core::calendar::WorkCalendar::new(overrides);
        let mut rule_deadlines: HashMap<i64, NaiveDate> = HashMap::new();
        for r in db.rows("SELECT id, deadline, published_at FROM bulletins WHERE status = 'published'").await? {
            let rule: Value = serde_json::from_str(&get::<String>(&r, "deadline")?).unwrap_or(Value::Null);
            let Some(at) = get::<Option<DateTime<Utc>>>(&r, "published_at")? else { continue };
            let d = match rule.get("kind").and_then(Value::as_str) {
                Some("date") => date_in(&rule, "date"),
                Some("working_days") => rule
                    .get("days")
                    .and_then(Value::as_u64)
                    .and_then(|n| <u32 as TryFrom<u64>>::try_from(n).ok())
                    .map(|n| calendar.add_working_days(city_day(at), n)),
                _ => None,
            };
            if let Some(d) = d {
                rule_deadlines.insert(get(&r, "id")?, d);
            }
        }
        let mut reminders: BTreeMap<i64, Vec<(NaiveDate, i32, DateTime<Utc>)>> = BTreeMap::new();
        for r in db.rows("SELECT order_id, deadline, point, sent_at FROM order_reminders ORDER BY id").await? {
            reminders.entry(get(&r, "order_id")?).or_default().push((
                get(&r, "deadline")?,
                get(&r, "point")?,
                get(&r, "sent_at")?,
            ));
        }
        let mut dues: Vec<(i64, NaiveDate)> = Vec::new();
        let mut marks: Vec<(i64, DateTime<Utc>)> = Vec::new();
        for r in db.rows("SELECT id, bulletin_id, department_id, deadline, status, issued_by, issued_at, overdue_at FROM rectification_orders").await? {
            let id: i64 = get(&r, "id")?;
            let dept: Option<i64> = Some(get(&r, "department_id")?);
            let current: NaiveDate = get(&r, "deadline")?;
            let bulletin: Option<i64> = get(&r, "bulletin_id")?;
            let issued: DateTime<Utc> = get(&r, "issued_at")?;
            let overdue_at: Option<DateTime<Utc>> = get(&r, "overdue_at")?;
            let status: String = get(&r, "status")?;
            let rs = reports.remove(&id).unwrap_or_default();
            let returned: Vec<&R> = rs.iter().filter(|x| x.status == "returned").collect();
            // Deadlines in force: the first, then one after each return.
            let first = if returned.is_empty() {
                current
            } else {
                bulletin
                    .and_then(|b| publications.get(&b.to_string()))
                    .and_then(|p| p.last())
                    .and_then(|p| date_in(&p.2, "deadline"))
                    .or_else(|| bulletin.and_then(|b| rule_deadlines.get(&b).copied()))
                    .or_else(|| reminders.get(&id).and_then(|rm| rm.iter().map(|x| x.0).min()))
                    .unwrap_or(current)
            };
            let mut deadlines = vec![first];
            for (i, x) in returned.iter().enumerate() {
                let given = returns.get(&x.id.to_string()).and_then(|r| r.last()).and_then(|r| date_in(&r.2, "resubmit_by"));
                deadlines.push(if i + 1 == returned.len() { current } else { given.unwrap_or(current) });
            }
            let p = json!({ "bulletin_id": bulletin, "deadline": first, "finding_ids": order_findings.get(&id).cloned().unwrap_or_default() });
            evs.push(Ev::at("order.issued", "order", id, issued, p).dept(dept).by(get(&r, "issued_by")?));
            for (deadline, point, sent) in reminders.get(&id).cloned().unwrap_or_default() {
                evs.push(Ev::at("order.reminded", "order", id, sent, json!({ "deadline": deadline, "point": point })).dept(dept));
            }
            // Each period a deadline was in force: from its start to the next report in.
            let mut k = 0usize;
            let mut period_start = issued;
            let mut overdue_marked_last = None;
            let mut periods: Vec<(NaiveDate, DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
            for x in &rs {
                if let Some(at) = x.submitted_at {
                    let d = deadlines[k.min(deadlines.len() - 1)];
                    periods.push((d, period_start, Some(at)));
                    dues.push((x.id, d));
                    let p = json!({ "report_id": x.id, "version": x.version, "deadline": d, "late": city_day(at) > d });
                    evs.push(Ev::at("report.submitted", "order", id, at, p).dept(dept).by(x.submitted_by));
                }
                if let Some(at) = x.reviewed_at {
                    match x.status.as_str() {
                        "returned" => {
                            let from = deadlines[k.min(deadlines.len() - 1)];
                            let to = deadlines[(k + 1).min(deadlines.len() - 1)];
                            let p = json!({ "report_id": x.id, "version": x.version, "comment": x.comment, "resubmit_by": to });
                            evs.push(Ev::at("report.returned", "order", id, at, p).dept(dept).by(x.reviewed_by));
                            if to != from {
                                let p = json!({ "from": from, "to": to, "report_id": x.id, "version": x.version });
                                evs.push(Ev::at("order.deadline_changed", "order", id, at, p).dept(dept).by(x.reviewed_by));
                            }
                            k += 1;
                            period_start = at;
                        }
                        "accepted" => {
                            let p = json!({ "report_id": x.id, "version": x.version, "comment": x.comment });
                            evs.push(Ev::at("report.accepted", "order", id, at, p).dept(dept).by(x.reviewed_by));
                        }
                        _ => {}
                    }
                }
            }
            let owed = status == "open" || status == "returned";
            if owed {
                periods.push((deadlines[k.min(deadlines.len() - 1)], period_start, None));
            }
            let last = periods.len();
            for (i, (d, _start, answered)) in periods.into_iter().enumerate() {
                let from = city_midnight(d + Duration::days(1));
                let overdue = match answered {
                    Some(at) => city_day(at) > d,
                    // Still owed: only what the job has marked.
                    None => overdue_at.is_some(),
                };
                if !overdue {
                    continue;
                }
                let recorded = match (answered, overdue_at) {
                    (None, Some(t)) => t,
                    _ => from,
                };
                evs.push(Ev { recorded_at: recorded, ..Ev::at("order.overdue", "order", id, from, json!({ "deadline": d })).dept(dept) });
                if i + 1 == last {
                    overdue_marked_last = Some(recorded);
                }
            }
            // The current deadline's overdue, as the job would have marked it.
            if let Some(t) = overdue_marked_last
                && overdue_at.is_none()
            {
                marks.push((id, t));
            }
        }
        for (report, due) in dues {
            let s = Query::update()
                .table(Alias::new("rectification_reports"))
                .value(Alias::new("due"), due)
                .and_where(Expr::col(Alias::new("id")).eq(report))
                .to_owned();
            db.c.execute(&s).await?;
        }
        for (order, at) in marks {
            let s = Query::update()
                .table(Alias::new("rectification_orders"))
                .value(Alias::new("overdue_at"), at)
                .and_where(Expr::col(Alias::new("id")).eq(order))
                .to_owned();
            db.c.execute(&s).await?;
        }

        // ---------------------------------------------------------- instructions
        let mut report_dept = HashMap::new();
        for r in db.rows("SELECT r.id, o.department_id FROM rectification_reports r JOIN rectification_orders o ON o.id = r.order_id").await? {
            report_dept.insert(get::<i64>(&r, "id")?, get::<i64>(&r, "department_id")?);
        }
        for r in db.rows("SELECT id, target_kind, target_id, author_id, created_at, follow_up, follow_up_department_id, follow_up_due, follow_up_status, follow_up_note, follow_up_done_by, follow_up_done_at FROM instructions").await? {
            let id: i64 = get(&r, "id")?;
            let kind: String = get(&r, "target_kind")?;
            let target: i64 = get(&r, "target_id")?;
            let at: DateTime<Utc> = get(&r, "created_at")?;
            let follow: bool = get(&r, "follow_up")?;
            let about = if kind == "report" { report_dept.get(&target).copied() } else { None };
            let p = json!({ "target_kind": kind, "target_id": target, "follow_up": follow });
            evs.push(Ev::at("instruction.written", "instruction", id, at, p).dept(about).by(get(&r, "author_id")?));
            let due: Option<NaiveDate> = get(&r, "follow_up_due")?;
            let assignee: Option<i64> = get(&r, "follow_up_department_id")?;
            if follow && let Some(due) = due {
                let p = json!({ "department_id": assignee, "due": due });
                evs.push(Ev::at("follow_up.required", "instruction", id, at, p).dept(assignee));
                let status: Option<String> = get(&r, "follow_up_status")?;
                let done_at: Option<DateTime<Utc>> = get(&r, "follow_up_done_at")?;
                if status.as_deref() == Some("done")
                    && let Some(t) = done_at
                {
                    let p = json!({ "note": get::<String>(&r, "follow_up_note")?, "due": due, "late": city_day(t) > due });
                    evs.push(Ev::at("follow_up.done", "instruction", id, t, p).dept(assignee).by(get(&r, "follow_up_done_by")?));
                }
            }
        }

        // ---------------------------------------------------------- campaigns and self-checks
        let mut counts: HashMap<i64, (u32, u32)> = HashMap::new();
        for r in db.rows("SELECT campaign_id, status FROM campaign_participants").await? {
            let c = counts.entry(get(&r, "campaign_id")?).or_default();
            c.0 += 1;
            if get::<String>(&r, "status")? == "submitted" {
                c.1 += 1;
            }
        }
        let closings = audit_details(&db, "campaign.closed").await?;
        let openings = audit_details(&db, "campaign.open").await?;
        let mut periods = HashMap::new();
        for r in db
            .rows(
                "SELECT id, title, period_start, period_end, status, created_by, opened_at, updated_at FROM campaigns",
            )
            .await?
        {
            let id: i64 = get(&r, "id")?;
            let status: String = get(&r, "status")?;
            let end: NaiveDate = get(&r, "period_end")?;
            periods.insert(id, end);
            let (n, submitted) = counts.get(&id).copied().unwrap_or_default();
            if status == "draft" {
                continue;
            }
            let opened: DateTime<Utc> =
                get::<Option<DateTime<Utc>>>(&r, "opened_at")?.unwrap_or(get(&r, "updated_at")?);
            let by = openings.get(&id.to_string()).and_then(|o| o.last()).and_then(|o| o.1).or(get(&r, "created_by")?);
            let p = json!({ "title": get::<String>(&r, "title")?, "period_start": get::<NaiveDate>(&r, "period_start")?,
                            "period_end": end, "participants": n });
            evs.push(Ev::at("campaign.opened", "campaign", id, opened, p).by(by));
            if status == "closed" {
                let c = closings.get(&id.to_string()).and_then(|c| c.last());
                let at = c.map(|c| c.0).unwrap_or(get(&r, "updated_at")?);
                let p = json!({ "participants": n, "submitted": submitted });
                evs.push(Ev::at("campaign.closed", "campaign", id, at, p).by(c.and_then(|c| c.1)));
            }
        }
        let mut items: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for r in db.rows("SELECT id, campaign_id, title FROM campaign_items ORDER BY campaign_id, position").await? {
            items.entry(get(&r, "campaign_id")?).or_default().push((get(&r, "id")?, get(&r, "title")?));
        }
        let mut answers: HashMap<(i64, i64), (String, String, Option<NaiveDate>)> = HashMap::new();
        for r in db.rows("SELECT participant_id, item_id, found, measures, due FROM self_check_answers").await? {
            answers.insert(
                (get(&r, "participant_id")?, get(&r, "item_id")?),
                (get(&r, "found")?, get(&r, "measures")?, get(&r, "due")?),
            );
        }
        for r in db.rows("SELECT id, campaign_id, kind, department_id, person_id, submitted_by, submitted_at FROM campaign_participants WHERE status = 'submitted'").await? {
            let id: i64 = get(&r, "id")?;
            let campaign: i64 = get(&r, "campaign_id")?;
            let Some(at) = get::<Option<DateTime<Utc>>>(&r, "submitted_at")? else { continue };
            let answered: Vec<Value> = items
                .get(&campaign)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|(item, title)| {
                    answers.get(&(id, *item)).map(|(found, measures, due)| {
                        json!({ "item_id": item, "title": title, "found": found, "measures": measures, "due": due, "problem": is_problem(found) })
                    })
                })
                .collect();
            let late = periods.get(&campaign).is_some_and(|end| city_day(at) > *end);
            let p = json!({ "campaign_id": campaign, "kind": get::<String>(&r, "kind")?, "late": late, "answers": answered });
            let mut e = Ev::at("self_check.submitted", "participation", id, at, p).dept(get(&r, "department_id")?).by(get(&r, "submitted_by")?);
            e.person_id = get(&r, "person_id")?;
            evs.push(e);
        }

        // ---------------------------------------------------------- written in the order they happened
        evs.sort_by_key(|e| e.recorded_at);
        for chunk in evs.chunks(500) {
            let mut q = Query::insert();
            q.into_table(Alias::new("domain_events")).columns(
                [
                    "kind",
                    "aggregate",
                    "aggregate_id",
                    "department_id",
                    "window_id",
                    "person_id",
                    "post_id",
                    "occurred_at",
                    "recorded_at",
                    "actor_user_id",
                    "office_only",
                    "payload",
                    "payload_version",
                ]
                .map(Alias::new),
            );
            for e in chunk {
                q.values_panic([
                    e.kind.into(),
                    e.aggregate.into(),
                    e.id.into(),
                    e.department_id.into(),
                    e.window_id.into(),
                    e.person_id.into(),
                    e.post_id.into(),
                    e.occurred_at.into(),
                    e.recorded_at.into(),
                    e.actor.into(),
                    e.office_only.into(),
                    e.payload.to_string().into(),
                    1i32.into(),
                ]);
            }
            db.c.execute(&q).await?;
        }
        Ok(())
    }
}
