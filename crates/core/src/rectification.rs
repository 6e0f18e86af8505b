//! Bulletins (通报), rectification orders (整改通知) with the departments' written reports, and
//! leaders' instructions (批示) with their follow-up, as state machines that return the events
//! recording each step; deadlines and reminder days on the working-day calendar; masking names for
//! the public.
//!
//! bulletin:  draft ─publish→ published (final; a correction is a new bulletin)
//!              └─withdraw→ withdrawn
//! report:    draft ─submit→ submitted ─accept→ accepted
//!                                     └─return→ returned   (a new version is then drafted)
//! order:     open → submitted → accepted, or → returned → submitted … following its reports;
//!            overdue while open or returned after its deadline.
//! follow-up: open ─complete→ done

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    calendar::WorkCalendar,
    clock::city_day,
    event::{
        self, BulletinCorrected, BulletinPublished, DeadlineChanged, Event, OrderIssued, OrderOverdue, OrderReminded,
        Payload, Reason, ReportReviewed, ReportSubmitted, Subject,
    },
    inspection::{FindingFacts, FindingRules, FindingState},
    labels,
    workflow::{Decision, Refusal},
};

labelled_enum! {
    /// Who a bulletin is for.
    BulletinScope {
        Internal = "internal", "内部通报", "internal";
        Public = "public", "公开通报", "public";
        Media = "media", "媒体曝光", "media exposure";
    }
}

labelled_enum! {
    BulletinState {
        Draft = "draft", "草稿", "draft";
        Published = "published", "已发布", "published";
        Withdrawn = "withdrawn", "已作废", "withdrawn";
    }
}

labelled_enum! {
    /// What may be done with a bulletin.
    BulletinAction {
        Edit = "edit", "修改", "edit";
        Publish = "publish", "发布", "publish";
        Withdraw = "withdraw", "作废", "withdraw";
        Correct = "correct", "更正", "correct";
        Instruct = "instruct", "批示", "write an instruction on";
    }
}

labelled_enum! {
    /// Where a rectification order stands, after its latest report.
    OrderState {
        Open = "open", "待整改", "open";
        Submitted = "submitted", "待审核", "awaiting review";
        Returned = "returned", "已退回", "returned";
        Accepted = "accepted", "已办结", "accepted";
    }
}

labelled_enum! {
    ReportState {
        Draft = "draft", "草稿", "draft";
        Submitted = "submitted", "已报送", "submitted";
        Returned = "returned", "已退回", "returned";
        Accepted = "accepted", "已采纳", "accepted";
    }
}

labelled_enum! {
    /// What may be done with an order's report.
    OrderAction {
        DraftReport = "draft_report", "填写报告", "draft the report";
        SubmitReport = "submit_report", "签发报送", "submit the report";
        Accept = "accept", "采纳", "accept";
        Return = "return", "退回", "return";
    }
}

labelled_enum! {
    /// What a leader's instruction is written on.
    InstructionTarget {
        Bulletin = "bulletin", "通报", "bulletin";
        Report = "report", "整改报告", "report";
    }
}

labelled_enum! {
    /// An instruction's follow-up item.
    FollowUpState {
        Open = "open", "待落实", "open";
        Done = "done", "已落实", "done";
    }
}

labelled_enum! {
    FollowUpAction {
        Complete = "complete", "报告落实情况", "report done";
    }
}

impl BulletinScope {
    /// Public and media bulletins are readable without logging in.
    pub fn is_public(self) -> bool {
        !matches!(self, BulletinScope::Internal)
    }
}

// ------------------------------------------------------------------ bulletins

/// Who acts on a bulletin: the office composes and publishes; a city leader writes instructions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulletinActor {
    pub office: bool,
    pub instructor: bool,
}

const BULLETIN: (&str, &str) = ("通报", "bulletin");

impl BulletinState {
    /// A draft is the office's to edit, publish or abandon; a published bulletin is final, may be
    /// corrected by a new one, and takes leaders' instructions.
    pub fn permits(self, action: BulletinAction, who: BulletinActor) -> Result<(), Refusal> {
        use BulletinAction::*;
        use BulletinState::*;
        let ok_state = match action {
            Edit | Publish | Withdraw => self == Draft,
            Correct | Instruct => self == Published,
        };
        if !ok_state {
            return Err(Refusal::by_state(labels!(self), labels!(action), BULLETIN));
        }
        let ok_actor = match action {
            Instruct => who.instructor,
            _ => who.office,
        };
        if !ok_actor {
            return Err(Refusal::by_actor(self.code(), labels!(action), BULLETIN));
        }
        Ok(())
    }

    pub fn allowed_actions(self, who: BulletinActor) -> Vec<BulletinAction> {
        BulletinAction::ALL.iter().copied().filter(|a| self.permits(*a, who).is_ok()).collect()
    }

    /// Abandons a draft; it stays on record as withdrawn.
    pub fn withdraw(
        self,
        id: i64,
        who: BulletinActor,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Decision<BulletinState>, Refusal> {
        self.permits(BulletinAction::Withdraw, who)?;
        let reason = Reason { reason: reason.trim().to_owned() };
        Ok(Decision::new(
            BulletinState::Withdrawn,
            vec![Event::new(Payload::BulletinWithdrawn(reason), id, Subject::default(), now)],
        ))
    }
}

/// What a draft may hold: findings that exist and count (confirmed, not overturned), and, for a
/// correction, another bulletin that is published. `findings` are the listed ids with the state
/// each was found in (`None`: no such finding); `corrects` the bulletin corrected, likewise.
pub fn check_contents(
    draft_id: Option<i64>,
    findings: &[(i64, Option<FindingState>)],
    corrects: Option<(i64, Option<BulletinState>)>,
) -> Result<(), Refusal> {
    for (id, state) in findings {
        match state {
            None => {
                return Err(Refusal::invalid(
                    "finding_ids",
                    "unknown_finding",
                    format!("问题 {id} 不存在"),
                    format!("Finding {id} does not exist"),
                ));
            }
            Some(s) if !s.counts() => {
                return Err(Refusal::invalid(
                    "finding_ids",
                    "finding_not_confirmed",
                    format!("问题 {id} 尚未确认或已撤销，不能通报"),
                    format!("Finding {id} is not confirmed (or was overturned) and cannot be bulletined"),
                ));
            }
            Some(_) => {}
        }
    }
    match corrects {
        None => Ok(()),
        Some((_, None)) => Err(Refusal::invalid(
            "corrects_id",
            "unknown_bulletin",
            "被更正的通报不存在",
            "The bulletin to correct does not exist",
        )),
        Some((id, Some(state))) if state != BulletinState::Published || draft_id == Some(id) => Err(Refusal::invalid(
            "corrects_id",
            "not_published",
            "只能更正已发布的通报",
            "Only a published bulletin can be corrected",
        )),
        Some(_) => Ok(()),
    }
}

/// A finding a bulletin lists, as publishing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFinding {
    pub facts: FindingFacts,
    /// Already under an order (of an earlier bulletin): no second order for it.
    pub has_order: bool,
}

/// What publishing needs to know of a draft.
#[derive(Debug, Clone, Copy)]
pub struct PublishFacts<'a> {
    pub id: i64,
    pub state: BulletinState,
    pub scope: BulletinScope,
    pub corrects_id: Option<i64>,
    pub deadline: Deadline,
    pub findings: &'a [ListedFinding],
    /// The highest number given this year so far.
    pub last_number: Option<i32>,
}

/// An order publishing issues: one per department, for its findings not yet under an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub department_id: i64,
    pub finding_ids: Vec<i64>,
    pub deadline: NaiveDate,
}

/// What publishing decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub year: i32,
    pub number: i32,
    pub number_text: String,
    /// The orders' last day to report.
    pub deadline: NaiveDate,
    /// The bulletin becomes published: `bulletin.published` (and `bulletin.corrected` on the one
    /// it corrects).
    pub bulletin: Decision<BulletinState>,
    /// Each confirmed finding becomes notified, by the finding's own machine.
    pub findings: Vec<(i64, FindingState, Decision<FindingState>)>,
    pub orders: Vec<NewOrder>,
}

/// Publishes a draft: the year's next number; its confirmed findings notified to their
/// departments (their appeal period starts); one order per department for the findings not yet
/// under an order, due by the bulletin's deadline counted from today.
pub fn publish(
    b: PublishFacts<'_>,
    who: BulletinActor,
    now: DateTime<Utc>,
    calendar: &WorkCalendar,
    rules: FindingRules<'_>,
) -> Result<Publication, Refusal> {
    b.state.permits(BulletinAction::Publish, who)?;
    let today = city_day(now);
    if b.findings.is_empty() && b.corrects_id.is_none() {
        return Err(Refusal::invalid(
            "finding_ids",
            "no_findings",
            "通报至少要列出一个问题",
            "A bulletin must list at least one finding",
        ));
    }
    if let Some(f) = b.findings.iter().find(|f| !f.facts.state.counts()) {
        return Err(Refusal::invalid(
            "finding_ids",
            "finding_not_confirmed",
            format!("问题 {} 已撤销或未确认，请从通报中移除", f.facts.id),
            format!("Finding {} was overturned or is not confirmed: remove it from the bulletin", f.facts.id),
        ));
    }
    b.deadline.validate(today)?;
    let year = chrono::Datelike::year(&today);
    let number = b.last_number.unwrap_or(0) + 1;
    let number_text = bulletin_number(year, number);
    let deadline = b.deadline.resolve(calendar, today);

    let mut findings = Vec::new();
    for f in b.findings.iter().filter(|f| f.facts.state == FindingState::Confirmed) {
        findings.push((f.facts.id, f.facts.state, f.facts.notify_with(b.id, &number_text, now, rules)?));
    }
    let mut by_dept: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for f in b.findings.iter().filter(|f| !f.has_order) {
        if let Some(d) = f.facts.subject.department_id {
            by_dept.entry(d).or_default().push(f.facts.id);
        }
    }
    let orders = by_dept
        .into_iter()
        .map(|(department_id, finding_ids)| NewOrder { department_id, finding_ids, deadline })
        .collect();

    let published = BulletinPublished {
        year,
        number,
        number_text: number_text.clone(),
        scope: b.scope,
        finding_ids: b.findings.iter().map(|f| f.facts.id).collect(),
        corrects_id: b.corrects_id,
    };
    let mut events = vec![Event::new(Payload::BulletinPublished(published), b.id, Subject::default(), now)];
    if let Some(old) = b.corrects_id {
        let corrected = BulletinCorrected { corrected_by: b.id, number_text: number_text.clone() };
        events.push(Event::new(Payload::BulletinCorrected(corrected), old, Subject::default(), now));
    }
    Ok(Publication {
        year,
        number,
        number_text,
        deadline,
        bulletin: Decision::new(BulletinState::Published, events),
        findings,
        orders,
    })
}

/// The event of an order publishing issued, once its row exists.
pub fn order_issued(order_id: i64, bulletin_id: Option<i64>, o: &NewOrder, now: DateTime<Utc>) -> Event {
    let issued = OrderIssued { bulletin_id, deadline: o.deadline, finding_ids: o.finding_ids.clone() };
    Event::new(Payload::OrderIssued(issued), order_id, Subject::department(o.department_id), now)
}

// ------------------------------------------------------------------ orders and reports

impl OrderState {
    /// The department still owes a report.
    pub fn awaits_department(self) -> bool {
        matches!(self, OrderState::Open | OrderState::Returned)
    }

    /// Past its deadline with no report in: counts against the department.
    pub fn overdue(self, deadline: NaiveDate, today: NaiveDate) -> bool {
        self.awaits_department() && today > deadline
    }

    /// The order's state once its latest report is in `r`.
    pub fn after_report(r: ReportState) -> OrderState {
        match r {
            ReportState::Draft => OrderState::Open,
            ReportState::Submitted => OrderState::Submitted,
            ReportState::Returned => OrderState::Returned,
            ReportState::Accepted => OrderState::Accepted,
        }
    }
}

/// Whether a report came in late: after the deadline in force (city time).
pub fn late(submitted_at: DateTime<Utc>, deadline: NaiveDate) -> bool {
    city_day(submitted_at) > deadline
}

/// Who acts on an order: the department's liaison drafts, its head signs and submits (一把手负责),
/// the office reviews.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderActor {
    pub drafter: bool,
    pub signer: bool,
    pub office: bool,
}

/// An order's latest report, as its rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportFacts {
    pub id: i64,
    pub version: i32,
    pub state: ReportState,
    /// Cause analysis or measures written.
    pub has_content: bool,
}

/// An order as its rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFacts {
    pub id: i64,
    pub department_id: i64,
    pub state: OrderState,
    /// The deadline in force.
    pub deadline: NaiveDate,
    pub latest: Option<ReportFacts>,
    /// When the current deadline's overdue was recorded.
    pub overdue_marked: bool,
}

/// Where a report step leaves the report and its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportStep {
    pub report: ReportState,
    pub order: OrderState,
    /// A return sets the date by which to resubmit.
    pub deadline: Option<NaiveDate>,
}

const ORDER: (&str, &str) = ("整改通知", "order");

impl OrderFacts {
    fn latest_state(&self) -> Option<ReportState> {
        self.latest.map(|r| r.state)
    }

    pub fn permits(&self, action: OrderAction, who: OrderActor) -> Result<(), Refusal> {
        use OrderAction::*;
        let ok_state = match action {
            DraftReport => self.state.awaits_department(),
            SubmitReport => self.state.awaits_department() && self.latest_state() == Some(ReportState::Draft),
            Accept | Return => {
                self.state == OrderState::Submitted && self.latest_state() == Some(ReportState::Submitted)
            }
        };
        if !ok_state {
            return Err(Refusal::by_state(labels!(self.state), labels!(action), ORDER));
        }
        let ok_actor = match action {
            DraftReport => who.drafter,
            SubmitReport => who.signer,
            Accept | Return => who.office,
        };
        if !ok_actor {
            return Err(Refusal::by_actor(self.state.code(), labels!(action), ORDER));
        }
        Ok(())
    }

    pub fn allowed_actions(&self, who: OrderActor) -> Vec<OrderAction> {
        OrderAction::ALL.iter().copied().filter(|a| self.permits(*a, who).is_ok()).collect()
    }

    /// A file goes with the draft being written: the caller may draft, and the report (in
    /// `state`) is the order's draft.
    pub fn permits_attaching(&self, report_id: i64, state: ReportState, who: OrderActor) -> Result<(), Refusal> {
        self.permits(OrderAction::DraftReport, who)?;
        match self.latest {
            Some(r) if r.id == report_id && r.state == ReportState::Draft => Ok(()),
            _ => Err(Refusal::by_state(
                labels!(state),
                ("attach", "添加附件", "attach a file to"),
                ("整改报告", "report"),
            )),
        }
    }

    fn report(&self, action: OrderAction) -> Result<ReportFacts, Refusal> {
        self.latest.ok_or_else(|| Refusal::by_state(labels!(self.state), labels!(action), ORDER))
    }

    /// The head submits the latest draft: on time or late against the deadline in force now,
    /// recorded so for good, whatever later returns do to the deadline.
    pub fn submit(&self, who: OrderActor, now: DateTime<Utc>) -> Result<Decision<ReportStep>, Refusal> {
        self.permits(OrderAction::SubmitReport, who)?;
        let r = self.report(OrderAction::SubmitReport)?;
        if !r.has_content {
            return Err(Refusal::invalid(
                "measures",
                "required",
                "请先填写原因分析和整改措施再报送",
                "Write the cause analysis and the measures before submitting",
            ));
        }
        let submitted = ReportSubmitted {
            report_id: r.id,
            version: r.version,
            deadline: self.deadline,
            late: late(now, self.deadline),
        };
        let step = ReportStep { report: ReportState::Submitted, order: OrderState::Submitted, deadline: None };
        Ok(Decision::new(step, vec![self.event(Payload::ReportSubmitted(submitted), now)]))
    }

    /// The office accepts the report, or returns it with comments and a date to resubmit by:
    /// the one given, or the office's number of working days from today. The deadline's change
    /// is an event of its own, so the old one is never lost.
    #[allow(clippy::too_many_arguments)]
    pub fn review(
        &self,
        action: OrderAction,
        who: OrderActor,
        comment: &str,
        resubmit_by: Option<NaiveDate>,
        now: DateTime<Utc>,
        calendar: &WorkCalendar,
        policy: &RectificationPolicy,
    ) -> Result<Decision<ReportStep>, Refusal> {
        if !matches!(action, OrderAction::Accept | OrderAction::Return) {
            return Err(Refusal::by_state(labels!(self.state), labels!(action), ORDER));
        }
        self.permits(action, who)?;
        let r = self.report(action)?;
        let comment = comment.trim().to_owned();
        let today = city_day(now);
        if action == OrderAction::Accept {
            let reviewed = ReportReviewed { report_id: r.id, version: r.version, comment, resubmit_by: None };
            let step = ReportStep { report: ReportState::Accepted, order: OrderState::Accepted, deadline: None };
            return Ok(Decision::new(step, vec![self.event(Payload::ReportAccepted(reviewed), now)]));
        }
        if comment.is_empty() {
            return Err(Refusal::invalid("comment", "required", "退回时请写明意见", "Say why the report is returned"));
        }
        let due = match resubmit_by {
            Some(d) if d < today => {
                return Err(Refusal::invalid(
                    "resubmit_by",
                    "in_the_past",
                    "重新报送期限不能早于今天",
                    "The resubmission date cannot be in the past",
                ));
            }
            Some(d) => d,
            None => calendar.add_working_days(today, policy.resubmit_working_days),
        };
        let reviewed = ReportReviewed { report_id: r.id, version: r.version, comment, resubmit_by: Some(due) };
        let mut events = vec![self.event(Payload::ReportReturned(reviewed), now)];
        if due != self.deadline {
            let changed = DeadlineChanged { from: self.deadline, to: due, report_id: r.id, version: r.version };
            events.push(self.event(Payload::OrderDeadlineChanged(changed), now));
        }
        let step = ReportStep { report: ReportState::Returned, order: OrderState::Returned, deadline: Some(due) };
        Ok(Decision::new(step, events))
    }

    /// Past its deadline with no report in, and not yet recorded so: the overdue event, dated the
    /// first day after the deadline (city time).
    pub fn overdue(&self, now: DateTime<Utc>) -> Option<Event> {
        if self.overdue_marked || !self.state.overdue(self.deadline, city_day(now)) {
            return None;
        }
        let from = crate::clock::city_midnight(self.deadline.succ_opt()?);
        Some(self.event(Payload::OrderOverdue(OrderOverdue { deadline: self.deadline }), from))
    }

    /// The reminder due by today, if any: its point (working days before the deadline) and event.
    pub fn reminder(
        &self,
        policy: &RectificationPolicy,
        calendar: &WorkCalendar,
        now: DateTime<Utc>,
    ) -> Option<(u32, Event)> {
        if !self.state.awaits_department() {
            return None;
        }
        let point = policy.reminders_due(calendar, self.deadline, city_day(now))?;
        let reminded = OrderReminded { deadline: self.deadline, point };
        Some((point, self.event(Payload::OrderReminded(reminded), now)))
    }

    fn event(&self, p: Payload, at: DateTime<Utc>) -> Event {
        Event::new(p, self.id, Subject::department(self.department_id), at)
    }
}

// ------------------------------------------------------------------ instructions

/// The state of what an instruction is written on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstructionOn {
    Bulletin(BulletinState),
    Report(ReportState),
}

impl InstructionOn {
    /// A leader instructs on a published bulletin, or on a report once it is submitted.
    pub fn permits(self, instructor: bool) -> Result<(), Refusal> {
        let (state, ok, what) = match self {
            InstructionOn::Bulletin(s) => (labels!(s), s == BulletinState::Published, BULLETIN),
            InstructionOn::Report(s) => (labels!(s), s != ReportState::Draft, ("整改报告", "report")),
        };
        let action = ("instruct", "批示", "write an instruction on");
        if !ok {
            return Err(Refusal::by_state(state, action, what));
        }
        if !instructor {
            return Err(Refusal::by_actor(state.0, action, what));
        }
        Ok(())
    }

    pub fn target(self) -> InstructionTarget {
        match self {
            InstructionOn::Bulletin(_) => InstructionTarget::Bulletin,
            InstructionOn::Report(_) => InstructionTarget::Report,
        }
    }
}

/// A follow-up an instruction asks for: by a department, or the office (`None`), by a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUp {
    pub department_id: Option<i64>,
    pub due: NaiveDate,
}

/// A leader's instruction on a bulletin or report; with a follow-up, a tracked item for its
/// assignee. The events are about the new instruction.
pub fn instruct(
    on: InstructionOn,
    target_id: i64,
    about: Subject,
    follow_up: Option<FollowUp>,
    instructor: bool,
    now: DateTime<Utc>,
) -> Result<Decision<Option<FollowUpState>>, Refusal> {
    on.permits(instructor)?;
    if let Some(f) = follow_up
        && f.due < city_day(now)
    {
        return Err(Refusal::invalid(
            "follow_up.due",
            "in_the_past",
            "落实期限不能早于今天",
            "The due date cannot be in the past",
        ));
    }
    let written = event::InstructionWritten { target_kind: on.target(), target_id, follow_up: follow_up.is_some() };
    let mut events = vec![Event::of_new(Payload::InstructionWritten(written), about, now)];
    if let Some(f) = follow_up {
        let required = event::FollowUpRequired { department_id: f.department_id, due: f.due };
        let whose = Subject { department_id: f.department_id, ..Default::default() };
        events.push(Event::of_new(Payload::FollowUpRequired(required), whose, now));
    }
    Ok(Decision::new(follow_up.map(|_| FollowUpState::Open), events))
}

/// Whether a follow-up may be reported done now: it is open, and the caller is its assignee.
pub fn permits_follow_up(state: FollowUpState, by_assignee: bool) -> Result<(), Refusal> {
    let what = ("批示落实事项", "follow-up");
    let action = labels!(FollowUpAction::Complete);
    if state != FollowUpState::Open {
        return Err(Refusal::by_state(labels!(state), action, what));
    }
    if !by_assignee {
        return Err(Refusal::by_actor(state.code(), action, what));
    }
    Ok(())
}

/// Reports an instruction's follow-up done: by its assignee (the office for its own items, the
/// department's head for the department's), once.
pub fn complete_follow_up(
    id: i64,
    state: FollowUpState,
    assignee: Option<i64>,
    due: Option<NaiveDate>,
    by_assignee: bool,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Decision<FollowUpState>, Refusal> {
    permits_follow_up(state, by_assignee)?;
    if note.trim().is_empty() {
        return Err(Refusal::invalid("note", "required", "请填写落实情况", "Say what was done"));
    }
    let done = event::FollowUpDone { note: note.trim().to_owned(), due, late: due.is_some_and(|d| city_day(now) > d) };
    let whose = Subject { department_id: assignee, ..Default::default() };
    Ok(Decision::new(FollowUpState::Done, vec![Event::new(Payload::FollowUpDone(done), id, whose, now)]))
}

/// When a department must report: a calendar date ("before the 20th") or N working days after
/// the order is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Deadline {
    Date { date: NaiveDate },
    WorkingDays { days: u32 },
}

impl Deadline {
    pub fn validate(&self, issued: NaiveDate) -> Result<(), ValidationError> {
        match *self {
            Deadline::Date { date } if date < issued => Err(ValidationError::new(
                "deadline",
                "in_the_past",
                format!("整改期限 {date} 已过"),
                format!("The deadline {date} has passed"),
            )),
            Deadline::WorkingDays { days } if !(1..=120).contains(&days) => Err(ValidationError::new(
                "deadline",
                "out_of_range",
                "工作日数须在 1 至 120 之间",
                "Working days must be between 1 and 120",
            )),
            _ => Ok(()),
        }
    }

    /// The last day to report, for an order issued on `issued`.
    pub fn resolve(&self, cal: &WorkCalendar, issued: NaiveDate) -> NaiveDate {
        match *self {
            Deadline::Date { date } => date,
            Deadline::WorkingDays { days } => cal.add_working_days(issued, days),
        }
    }

    pub fn describe_zh(&self) -> String {
        match *self {
            Deadline::Date { date } => format!("{date} 前"),
            Deadline::WorkingDays { days } => format!("{days} 个工作日内"),
        }
    }
}

/// The office's rules for rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RectificationPolicy {
    /// Working days a department gets to report when a bulletin does not say otherwise.
    #[schema(minimum = 1, maximum = 120)]
    pub default_working_days: u32,
    /// Remind the department this many working days before its deadline (0: on the day).
    pub remind_working_days_before: Vec<u32>,
    /// Working days a returned report gets for resubmission, unless the office sets a date.
    #[schema(minimum = 1, maximum = 60)]
    pub resubmit_working_days: u32,
    /// The red masthead of the office's documents.
    pub masthead: String,
    /// The signature under its documents.
    pub issuer: String,
}

impl Default for RectificationPolicy {
    fn default() -> Self {
        Self {
            default_working_days: 10,
            remind_working_days_before: vec![3, 1, 0],
            resubmit_working_days: 5,
            masthead: "市机关效能建设领导小组办公室".into(),
            issuer: "市效能办".into(),
        }
    }
}

impl RectificationPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=120).contains(&self.default_working_days) {
            return Err(ValidationError::new(
                "default_working_days",
                "out_of_range",
                "默认整改期限须在 1 至 120 个工作日之间",
                "The default period must be 1 to 120 working days",
            ));
        }
        if !(1..=60).contains(&self.resubmit_working_days) {
            return Err(ValidationError::new(
                "resubmit_working_days",
                "out_of_range",
                "重新报送期限须在 1 至 60 个工作日之间",
                "The resubmission period must be 1 to 60 working days",
            ));
        }
        for (field, v) in [("masthead", &self.masthead), ("issuer", &self.issuer)] {
            if v.trim().is_empty() || v.chars().count() > 40 {
                return Err(ValidationError::new(field, "length", "请填写 1 至 40 个字", "Enter 1 to 40 characters"));
            }
        }
        if self.remind_working_days_before.len() > 5 || self.remind_working_days_before.iter().any(|d| *d > 30) {
            return Err(ValidationError::new(
                "remind_working_days_before",
                "out_of_range",
                "提醒最多 5 次，每次在期限前 0 至 30 个工作日",
                "At most 5 reminders, each 0 to 30 working days before the deadline",
            ));
        }
        Ok(())
    }

    /// The reminder point due by `today` for a deadline (working days before it): the nearest
    /// one already reached, so that a late start sends only the most pressing reminder.
    pub fn reminders_due(&self, cal: &WorkCalendar, deadline: NaiveDate, today: NaiveDate) -> Option<u32> {
        let mut points: Vec<u32> = self.remind_working_days_before.clone();
        points.sort_unstable();
        points.dedup();
        points.into_iter().find(|&n| today <= deadline && reminder_day(cal, deadline, n) <= today)
    }
}

/// The working day `n` working days before `deadline` (`n = 0`: the deadline itself).
pub fn reminder_day(cal: &WorkCalendar, deadline: NaiveDate, n: u32) -> NaiveDate {
    let mut d = deadline;
    let mut left = n;
    let mut guard = 0u32;
    while left > 0 && guard < 3660 {
        d -= chrono::Duration::days(1);
        guard += 1;
        if cal.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

/// A bulletin's number as the office writes it: 效能通报〔2026〕12号.
pub fn bulletin_number(year: i32, n: i32) -> String {
    format!("效能通报〔{year}〕{n}号")
}

/// A name as the public sees it: the surname and a mark for each further character (张**).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// `text` with every one of `names` masked (张伟 → 张*): for what the public reads of a bulletin,
/// whose free text may name the people its findings are about. Longer names first, so that 欧阳明
/// is masked whole before 欧阳 could be.
pub fn mask_names_in(text: &str, names: &[String]) -> String {
    let mut names: Vec<&str> = names.iter().map(|n| n.trim()).filter(|n| n.chars().count() >= 2).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.dedup();
    names.iter().fold(text.to_owned(), |t, n| t.replace(n, &mask_name(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_free_text_are_masked() {
        let names = vec!["张伟".to_owned(), "欧阳明月".to_owned(), "李".to_owned()];
        assert_eq!(
            mask_names_in("张伟离岗二十分钟，欧阳明月在场；李科长另行处理。张伟已检讨。", &names),
            "张*离岗二十分钟，欧***在场；李科长另行处理。张*已检讨。"
        );
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str, h: u32) -> DateTime<Utc> {
        crate::clock::city_time(d(s), h, 0)
    }

    const HEAD: OrderActor = OrderActor { drafter: true, signer: true, office: false };
    const LIAISON: OrderActor = OrderActor { drafter: true, signer: false, office: false };
    const OFFICE: OrderActor = OrderActor { drafter: false, signer: false, office: true };

    fn order(state: OrderState, latest: Option<ReportState>) -> OrderFacts {
        OrderFacts {
            id: 40,
            department_id: 4,
            state,
            deadline: d("2026-11-20"),
            latest: latest.map(|s| ReportFacts { id: 9, version: 2, state: s, has_content: true }),
            overdue_marked: false,
        }
    }

    #[test]
    fn a_draft_holds_counted_findings_and_corrects_a_published_bulletin() {
        use FindingState as F;
        let ok = |f: &[(i64, Option<F>)], c| check_contents(Some(7), f, c).map_err(|r| r.reason());
        assert_eq!(ok(&[(1, Some(F::Confirmed)), (2, Some(F::Upheld))], None), Ok(()));
        assert_eq!(ok(&[(1, None)], None), Err("unknown_finding"));
        for s in [F::Draft, F::Withdrawn, F::Overturned] {
            assert_eq!(ok(&[(1, Some(s))], None), Err("finding_not_confirmed"), "{s:?}");
        }
        assert_eq!(ok(&[], Some((3, Some(BulletinState::Published)))), Ok(()));
        assert_eq!(ok(&[], Some((3, None))), Err("unknown_bulletin"));
        assert_eq!(ok(&[], Some((3, Some(BulletinState::Draft)))), Err("not_published"));
        assert_eq!(ok(&[], Some((7, Some(BulletinState::Published)))), Err("not_published"), "not itself");
    }

    /// Every (order state, latest report, action, actor): only these are allowed.
    #[test]
    fn every_order_step_allowed_and_refused() {
        use OrderAction::*;
        use ReportState as R;
        let allowed: &[(OrderState, Option<R>, OrderAction, &str)] = &[
            (OrderState::Open, None, DraftReport, "head"),
            (OrderState::Open, None, DraftReport, "liaison"),
            (OrderState::Open, Some(R::Draft), DraftReport, "head"),
            (OrderState::Open, Some(R::Draft), DraftReport, "liaison"),
            (OrderState::Open, Some(R::Draft), SubmitReport, "head"),
            (OrderState::Returned, Some(R::Returned), DraftReport, "head"),
            (OrderState::Returned, Some(R::Returned), DraftReport, "liaison"),
            (OrderState::Returned, Some(R::Draft), DraftReport, "head"),
            (OrderState::Returned, Some(R::Draft), DraftReport, "liaison"),
            (OrderState::Returned, Some(R::Draft), SubmitReport, "head"),
            (OrderState::Submitted, Some(R::Submitted), Accept, "office"),
            (OrderState::Submitted, Some(R::Submitted), Return, "office"),
        ];
        let cases = [
            (OrderState::Open, None),
            (OrderState::Open, Some(R::Draft)),
            (OrderState::Submitted, Some(R::Submitted)),
            (OrderState::Returned, Some(R::Returned)),
            (OrderState::Returned, Some(R::Draft)),
            (OrderState::Accepted, Some(R::Accepted)),
        ];
        for (state, latest) in cases {
            for &action in OrderAction::ALL {
                for (who, actor) in [("head", HEAD), ("liaison", LIAISON), ("office", OFFICE)] {
                    let o = order(state, latest);
                    let want =
                        allowed.iter().any(|(s, l, a, w)| *s == state && *l == latest && *a == action && *w == who);
                    let got = o.permits(action, actor);
                    assert_eq!(got.is_ok(), want, "{state:?} {latest:?} {action:?} {who}: {got:?}");
                    assert_eq!(o.allowed_actions(actor).contains(&action), want);
                }
            }
        }
    }

    #[test]
    fn a_late_report_stays_late_when_returned_and_resubmitted() {
        let cal = WorkCalendar::default();
        let policy = RectificationPolicy::default();
        // Due Friday 20 November; the head submits on Monday the 23rd: late.
        let o = order(OrderState::Open, Some(ReportState::Draft));
        let d1 = o.submit(HEAD, at("2026-11-23", 10)).unwrap();
        assert_eq!(d1.next.order, OrderState::Submitted);
        match &d1.events[0].payload {
            Payload::ReportSubmitted(s) => assert!(s.late && s.deadline == d("2026-11-20")),
            p => panic!("{p:?}"),
        }
        // Returned on the 24th with five working days: a new deadline, recorded as a change.
        let o = order(OrderState::Submitted, Some(ReportState::Submitted));
        let back = o.review(OrderAction::Return, OFFICE, "请补充", None, at("2026-11-24", 15), &cal, &policy).unwrap();
        assert_eq!(back.next.deadline, Some(d("2026-12-01")));
        let kinds: Vec<_> = back.events.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds, [event::EventKind::ReportReturned, event::EventKind::OrderDeadlineChanged]);
        match &back.events[1].payload {
            Payload::OrderDeadlineChanged(c) => assert_eq!((c.from, c.to), (d("2026-11-20"), d("2026-12-01"))),
            p => panic!("{p:?}"),
        }
        // Resubmitted on time against the new deadline: that event says so; the first still says late.
        let o = OrderFacts { deadline: d("2026-12-01"), ..order(OrderState::Returned, Some(ReportState::Draft)) };
        match &o.submit(HEAD, at("2026-11-30", 9)).unwrap().events[0].payload {
            Payload::ReportSubmitted(s) => assert!(!s.late && s.deadline == d("2026-12-01")),
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn review_input_is_checked_after_the_step() {
        let cal = WorkCalendar::default();
        let policy = RectificationPolicy::default();
        let o = order(OrderState::Submitted, Some(ReportState::Submitted));
        let now = at("2026-11-24", 15);
        let r = o.review(OrderAction::Return, OFFICE, " ", None, now, &cal, &policy).unwrap_err();
        assert!(matches!(&r, Refusal::Invalid(v) if v.field == "comment"));
        let r = o.review(OrderAction::Return, OFFICE, "x", Some(d("2026-11-23")), now, &cal, &policy).unwrap_err();
        assert!(matches!(&r, Refusal::Invalid(v) if v.field == "resubmit_by"));
        assert_eq!(o.review(OrderAction::Accept, HEAD, "", None, now, &cal, &policy).unwrap_err().reason(), "actor");
        let accepted = o.review(OrderAction::Accept, OFFICE, "同意", None, now, &cal, &policy).unwrap();
        assert_eq!(
            accepted.next,
            ReportStep { report: ReportState::Accepted, order: OrderState::Accepted, deadline: None }
        );
        let empty = OrderFacts {
            latest: Some(ReportFacts { id: 9, version: 1, state: ReportState::Draft, has_content: false }),
            ..order(OrderState::Open, None)
        };
        assert!(matches!(empty.submit(HEAD, now).unwrap_err(), Refusal::Invalid(v) if v.field == "measures"));
        assert_eq!(
            order(OrderState::Accepted, Some(ReportState::Accepted)).submit(HEAD, now).unwrap_err().reason(),
            "state"
        );
    }

    #[test]
    fn overdue_once_per_deadline_dated_the_day_after() {
        let o = order(OrderState::Open, None);
        assert!(o.overdue(at("2026-11-20", 17)).is_none());
        let e = o.overdue(at("2026-11-23", 9)).unwrap();
        assert_eq!(e.kind(), event::EventKind::OrderOverdue);
        assert_eq!(e.occurred_at, at("2026-11-21", 0));
        assert!(OrderFacts { overdue_marked: true, ..o }.overdue(at("2026-11-23", 9)).is_none());
        assert!(order(OrderState::Submitted, Some(ReportState::Submitted)).overdue(at("2026-11-23", 9)).is_none());
        let p = RectificationPolicy::default();
        let cal = WorkCalendar::default();
        assert_eq!(o.reminder(&p, &cal, at("2026-11-19", 9)).map(|r| r.0), Some(1));
        assert!(order(OrderState::Accepted, None).reminder(&p, &cal, at("2026-11-19", 9)).is_none());
    }

    fn confirmed(id: i64, dept: i64, state: FindingState) -> ListedFinding {
        ListedFinding {
            facts: FindingFacts {
                id,
                state,
                subject: Subject::department(dept),
                category_id: 1,
                severity: crate::inspection::Severity::General,
                notified_at: None,
            },
            has_order: false,
        }
    }

    #[test]
    fn publishing_numbers_notifies_and_issues_one_order_per_department() {
        let cal = WorkCalendar::default();
        let policy = crate::inspection::InspectionPolicy::default();
        let rules = FindingRules { policy: &policy, calendar: &cal };
        let office = BulletinActor { office: true, instructor: false };
        let mut listed = vec![
            confirmed(1, 4, FindingState::Confirmed),
            confirmed(2, 4, FindingState::Notified),
            confirmed(3, 5, FindingState::Confirmed),
        ];
        listed[1].has_order = true;
        let b = PublishFacts {
            id: 12,
            state: BulletinState::Draft,
            scope: BulletinScope::Public,
            corrects_id: None,
            deadline: Deadline::WorkingDays { days: 5 },
            findings: &listed,
            last_number: Some(11),
        };
        let now = at("2026-11-02", 10);
        let p = publish(b, office, now, &cal, rules).unwrap();
        assert_eq!((p.number, p.number_text.as_str()), (12, "效能通报〔2026〕12号"));
        assert_eq!(p.deadline, d("2026-11-09"));
        let notified: Vec<i64> = p.findings.iter().map(|(id, _, _)| *id).collect();
        assert_eq!(notified, [1, 3], "the already notified one is not notified again");
        assert!(p.findings.iter().all(|(_, _, d)| d.events[0].kind() == event::EventKind::FindingNotified));
        assert_eq!(
            p.orders,
            [
                NewOrder { department_id: 4, finding_ids: vec![1], deadline: d("2026-11-09") },
                NewOrder { department_id: 5, finding_ids: vec![3], deadline: d("2026-11-09") }
            ]
        );
        assert_eq!(p.bulletin.events.len(), 1);
        // Again: it is published.
        let again = PublishFacts { state: BulletinState::Published, ..b };
        assert_eq!(publish(again, office, now, &cal, rules).unwrap_err().reason(), "state");
        assert_eq!(publish(b, BulletinActor::default(), now, &cal, rules).unwrap_err().reason(), "actor");
        let empty = PublishFacts { findings: &[], ..b };
        assert_eq!(publish(empty, office, now, &cal, rules).unwrap_err().reason(), "no_findings");
        let bad = [confirmed(9, 4, FindingState::Overturned)];
        assert_eq!(
            publish(PublishFacts { findings: &bad, ..b }, office, now, &cal, rules).unwrap_err().reason(),
            "finding_not_confirmed"
        );
        // A correction may list nothing, and marks the one it corrects.
        let correction = PublishFacts { findings: &[], corrects_id: Some(3), ..b };
        let c = publish(correction, office, now, &cal, rules).unwrap();
        assert!(c.orders.is_empty());
        assert_eq!(c.bulletin.events[1].kind(), event::EventKind::BulletinCorrected);
        assert_eq!(c.bulletin.events[1].aggregate_id, event::AggregateId::Known(3));
    }

    #[test]
    fn bulletin_actions_by_state_and_actor() {
        use BulletinAction::*;
        let office = BulletinActor { office: true, instructor: false };
        let leader = BulletinActor { office: false, instructor: true };
        assert_eq!(BulletinState::Draft.allowed_actions(office), [Edit, Publish, Withdraw]);
        assert_eq!(BulletinState::Published.allowed_actions(office), [Correct]);
        assert_eq!(BulletinState::Published.allowed_actions(leader), [Instruct]);
        assert!(BulletinState::Withdrawn.allowed_actions(office).is_empty());
        assert!(BulletinState::Draft.allowed_actions(leader).is_empty());
        let w = BulletinState::Draft.withdraw(3, office, "重复", at("2026-11-02", 10)).unwrap();
        assert!(w.events[0].office_only());
        assert_eq!(
            BulletinState::Published.withdraw(3, office, "x", at("2026-11-02", 10)).unwrap_err().reason(),
            "state"
        );
    }

    #[test]
    fn instructions_and_their_follow_up() {
        let now = at("2026-11-02", 10);
        let f = FollowUp { department_id: Some(4), due: d("2026-11-20") };
        let i = instruct(InstructionOn::Report(ReportState::Submitted), 9, Subject::department(4), Some(f), true, now)
            .unwrap();
        assert_eq!(i.next, Some(FollowUpState::Open));
        let kinds: Vec<_> = i.events.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds, [event::EventKind::InstructionWritten, event::EventKind::FollowUpRequired]);
        assert_eq!(
            instruct(InstructionOn::Report(ReportState::Draft), 9, Subject::default(), None, true, now)
                .unwrap_err()
                .reason(),
            "state"
        );
        assert_eq!(
            instruct(InstructionOn::Bulletin(BulletinState::Draft), 9, Subject::default(), None, true, now)
                .unwrap_err()
                .reason(),
            "state"
        );
        assert_eq!(
            instruct(InstructionOn::Bulletin(BulletinState::Published), 9, Subject::default(), None, false, now)
                .unwrap_err()
                .reason(),
            "actor"
        );
        let past = FollowUp { department_id: None, due: d("2026-11-01") };
        assert!(matches!(
            instruct(InstructionOn::Bulletin(BulletinState::Published), 9, Subject::default(), Some(past), true, now),
            Err(Refusal::Invalid(_))
        ));
        let done = complete_follow_up(
            5,
            FollowUpState::Open,
            Some(4),
            Some(d("2026-11-20")),
            true,
            "已落实",
            at("2026-11-23", 9),
        )
        .unwrap();
        match &done.events[0].payload {
            Payload::FollowUpDone(x) => assert!(x.late),
            p => panic!("{p:?}"),
        }
        assert_eq!(
            complete_follow_up(5, FollowUpState::Done, None, None, true, "x", now).unwrap_err().reason(),
            "state"
        );
        assert_eq!(
            complete_follow_up(5, FollowUpState::Open, None, None, false, "x", now).unwrap_err().reason(),
            "actor"
        );
    }

    #[test]
    fn deadlines_count_working_days_across_the_national_day() {
        let cal = WorkCalendar::new([]);
        // Issued Monday 28 September 2026: 29, 30 Sep, then the holiday to 7 October, then 8 and 9
        // (Friday); Saturday 10 October is worked.
        let dl = Deadline::WorkingDays { days: 5 }.resolve(&cal, d("2026-09-28"));
        assert_eq!(dl, d("2026-10-10"));
        assert_eq!(Deadline::Date { date: d("2026-12-20") }.resolve(&cal, d("2026-12-01")), d("2026-12-20"));
        assert_eq!(Deadline::Date { date: d("2026-11-01") }.validate(d("2026-11-02")).unwrap_err().code, "in_the_past");
        assert_eq!(Deadline::WorkingDays { days: 0 }.validate(d("2026-11-02")).unwrap_err().code, "out_of_range");
    }

    #[test]
    fn overdue_only_while_the_department_owes_a_report() {
        let dl = d("2026-11-20");
        assert!(!OrderState::Open.overdue(dl, d("2026-11-20")));
        assert!(OrderState::Open.overdue(dl, d("2026-11-21")));
        assert!(OrderState::Returned.overdue(dl, d("2026-11-21")));
        assert!(!OrderState::Submitted.overdue(dl, d("2026-11-21")));
        assert!(!OrderState::Accepted.overdue(dl, d("2026-12-30")));
    }

    #[test]
    fn reminders_fall_on_working_days_before_the_deadline() {
        let cal = WorkCalendar::new([]);
        let p = RectificationPolicy::default(); // 3, 1 and 0 working days before
        // Deadline Monday 12 October 2026; Saturday 10 October is a worked day (调休).
        let dl = d("2026-10-12");
        assert_eq!(reminder_day(&cal, dl, 1), d("2026-10-10"));
        assert_eq!(reminder_day(&cal, dl, 3), d("2026-10-08"));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-07")), None);
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-08")), Some(3));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-09")), Some(3));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-11")), Some(1));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-12")), Some(0));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-13")), None);
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳明月"), "欧***");
        assert_eq!(mask_name(""), "");
        assert_eq!(bulletin_number(2026, 12), "效能通报〔2026〕12号");
        assert!(RectificationPolicy { remind_working_days_before: vec![40], ..Default::default() }.validate().is_err());
    }
}
