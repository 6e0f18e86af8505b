//! Tickets (工单) for bad ratings and the public's complaints (GB/T 39734-2020 差评整改): the
//! responsible department verifies (核实), rectifies (整改) and calls the rater back (回访), each
//! within working days the office sets (5, 15 and 15 by default), reminded before each deadline
//! and marked overdue after it. A callback that finds the rater unsatisfied sends the ticket back
//! to rectification once; the second time it closes unsatisfied, on record. The department may
//! appeal once while verifying or rectifying; the office overturns (the ticket and, for a bad
//! rating, the rating count nowhere) or upholds (the stage starts again).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    calendar::WorkCalendar,
    clock::{city_day, city_midnight},
    event::{Event, Payload, Subject},
    org::parse_text,
    rating::RatingGuards,
    rectification::reminder_day,
    workflow::{Refusal, TooMany},
};

labelled_enum! {
    /// What opened a ticket.
    TicketSource {
        BadRating = "bad_rating", "差评", "bad rating";
        Complaint = "complaint", "投诉", "complaint";
    }
}

labelled_enum! {
    /// What a complaint is about.
    ComplaintAbout {
        Window = "window", "窗口", "window";
        Person = "person", "工作人员", "staff member";
        Case = "case", "办件", "case";
        Department = "department", "部门", "department";
    }
}

labelled_enum! {
    TicketState {
        Verifying = "verifying", "待核实", "to verify";
        Rectifying = "rectifying", "待整改", "to rectify";
        CallingBack = "calling_back", "待回访", "to call back";
        Appealed = "appealed", "申诉中", "appealed";
        Closed = "closed", "已办结", "closed";
        Overturned = "overturned", "已撤销", "overturned";
    }
}

labelled_enum! {
    TicketAction {
        Verify = "verify", "核实", "verify";
        Rectify = "rectify", "整改", "rectify";
        CallBack = "call_back", "回访", "call back";
        Appeal = "appeal", "申诉", "appeal";
        Overturn = "overturn", "撤销", "overturn";
        Uphold = "uphold", "维持", "uphold";
    }
}

impl TicketState {
    /// The states with a deadline the department works to.
    pub fn stage_days(self, p: &TicketPolicy) -> Option<u32> {
        match self {
            TicketState::Verifying => Some(p.verify_days),
            TicketState::Rectifying => Some(p.rectify_days),
            TicketState::CallingBack => Some(p.callback_days),
            TicketState::Appealed | TicketState::Closed | TicketState::Overturned => None,
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, TicketState::Closed | TicketState::Overturned)
    }
}

/// The office's limits for tickets, in working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TicketPolicy {
    pub verify_days: u32,
    pub rectify_days: u32,
    pub callback_days: u32,
    /// Remind the department this many working days before a deadline (0: on the day).
    pub remind_days_before: u32,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        TicketPolicy { verify_days: 5, rectify_days: 15, callback_days: 15, remind_days_before: 1 }
    }
}

impl TicketPolicy {
    pub fn checked(self) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        for (name, v, max) in [
            ("verify_days", self.verify_days, 60),
            ("rectify_days", self.rectify_days, 120),
            ("callback_days", self.callback_days, 60),
            ("remind_days_before", self.remind_days_before, 10),
        ] {
            let min = u32::from(name != "remind_days_before");
            if !(min..=max).contains(&v) {
                errs.push(ValidationError::new(
                    name,
                    "out_of_range",
                    format!("须在 {min} 至 {max} 个工作日之间"),
                    format!("Between {min} and {max} working days"),
                ));
            }
        }
        if errs.is_empty() { Ok(self) } else { Err(errs) }
    }
}

/// Who acts: the responsible department (its head or liaison) or the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketActor {
    Department,
    Office,
}

/// A step as asked for, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketStep {
    Verify { note: String },
    Rectify { note: String },
    CallBack { satisfied: bool, note: String },
    Appeal { reason: String },
    Overturn { reason: String },
    Uphold { reason: String },
}

impl TicketStep {
    pub fn action(&self) -> TicketAction {
        match self {
            TicketStep::Verify { .. } => TicketAction::Verify,
            TicketStep::Rectify { .. } => TicketAction::Rectify,
            TicketStep::CallBack { .. } => TicketAction::CallBack,
            TicketStep::Appeal { .. } => TicketAction::Appeal,
            TicketStep::Overturn { .. } => TicketAction::Overturn,
            TicketStep::Uphold { .. } => TicketAction::Uphold,
        }
    }

    fn text(&self) -> &str {
        match self {
            TicketStep::Verify { note } | TicketStep::Rectify { note } | TicketStep::CallBack { note, .. } => note,
            TicketStep::Appeal { reason } | TicketStep::Overturn { reason } | TicketStep::Uphold { reason } => reason,
        }
    }
}

/// A ticket as stored, as its machine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketFacts {
    pub id: i64,
    pub state: TicketState,
    pub source: TicketSource,
    pub rating_id: Option<i64>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    /// The deadline of the stage it is in; none while appealed or closed.
    pub due: Option<NaiveDate>,
    /// Sent back to rectification once after an unsatisfied callback.
    pub reopened: bool,
    /// The stage an appeal came from; whether the department has appealed.
    pub appealed_from: Option<TicketState>,
    pub appealed: bool,
    /// The deadline reminded about, and the one marked overdue.
    pub reminded_due: Option<NaiveDate>,
    pub overdue_due: Option<NaiveDate>,
}

/// What a step leaves: the state and its deadline, and what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketChange {
    pub action: TicketAction,
    pub next: TicketState,
    pub due: Option<NaiveDate>,
    pub reopened: bool,
    pub appealed_from: Option<TicketState>,
    /// Whether the rater was satisfied, when a callback says.
    pub satisfied: Option<bool>,
    pub text: String,
    pub events: Vec<Event>,
}

/// A ticket's step (`ticket.verified`, `ticket.rectified`, `ticket.called_back`, `ticket.reopened`,
/// `ticket.appealed`, `ticket.overturned`, `ticket.upheld`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketStepped {
    pub from: TicketState,
    pub to: TicketState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied: Option<bool>,
    pub text: String,
}

/// A ticket opened (`ticket.opened`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketOpened {
    pub source: TicketSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_id: Option<i64>,
    pub due: NaiveDate,
}

/// A deadline reminded (`ticket.reminded`) or passed (`ticket.overdue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketDeadline {
    pub state: TicketState,
    pub due: NaiveDate,
}

/// A bad rating overturned on appeal (`rating.overturned`): it counts nowhere, and stays on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingOverturned {
    pub ticket_id: i64,
    pub reason: String,
}

fn subject(department_id: i64, window_id: Option<i64>, person_id: Option<i64>) -> Subject {
    Subject { department_id: Some(department_id), window_id, person_id, post_id: None }
}

/// Who a ticket is about: the responsible department, and the window and staff member if known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketAbout {
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
}

/// The deadline of a stage begun on `today`.
fn due_from(today: NaiveDate, days: u32, cal: &WorkCalendar) -> NaiveDate {
    cal.add_working_days(today, days)
}

/// Opens a ticket for the department: verifying, due in `verify_days` working days.
pub fn open(
    source: TicketSource,
    rating_id: Option<i64>,
    about: TicketAbout,
    cal: &WorkCalendar,
    p: &TicketPolicy,
    now: DateTime<Utc>,
) -> (NaiveDate, Event) {
    let due = due_from(city_day(now), p.verify_days, cal);
    let opened = TicketOpened { source, rating_id, due };
    let on = subject(about.department_id, about.window_id, about.person_id);
    (due, Event::of_new(Payload::TicketOpened(opened), on, now))
}

impl TicketFacts {
    fn refuse(&self, action: TicketAction) -> Refusal {
        Refusal::by_state(crate::labels!(self.state), crate::labels!(action), ("工单", "ticket"))
    }

    /// The actions `actor` may take now.
    pub fn allowed(&self, actor: TicketActor) -> Vec<TicketAction> {
        use TicketAction::*;
        [Verify, Rectify, CallBack, Appeal, Overturn, Uphold]
            .into_iter()
            .filter(|&a| self.permits(a, actor).is_ok())
            .collect()
    }

    fn permits(&self, action: TicketAction, actor: TicketActor) -> Result<(), Refusal> {
        use TicketState as S;
        let (state_ok, who) = match action {
            TicketAction::Verify => (self.state == S::Verifying, TicketActor::Department),
            TicketAction::Rectify => (self.state == S::Rectifying, TicketActor::Department),
            // The department calls back; the office may too (it often runs the hotline).
            TicketAction::CallBack => (self.state == S::CallingBack, actor),
            TicketAction::Appeal => {
                if self.appealed && matches!(self.state, S::Verifying | S::Rectifying) {
                    return Err(Refusal::transition(
                        self.state.code(),
                        action.code(),
                        "appealed_once",
                        "该工单已申诉过一次",
                        "This ticket has been appealed once already",
                    ));
                }
                (matches!(self.state, S::Verifying | S::Rectifying), TicketActor::Department)
            }
            TicketAction::Overturn | TicketAction::Uphold => (self.state == S::Appealed, TicketActor::Office),
        };
        if !state_ok {
            return Err(self.refuse(action));
        }
        if who != actor {
            return Err(Refusal::by_actor(self.state.code(), crate::labels!(action), ("工单", "ticket")));
        }
        Ok(())
    }

    /// Takes a step: the state it leads to, its deadline, and the events that record it.
    pub fn decide(
        &self,
        step: &TicketStep,
        actor: TicketActor,
        cal: &WorkCalendar,
        p: &TicketPolicy,
        now: DateTime<Utc>,
    ) -> Result<TicketChange, Refusal> {
        let action = step.action();
        self.permits(action, actor)?;
        let text = parse_text(
            if matches!(action, TicketAction::Verify | TicketAction::Rectify | TicketAction::CallBack) {
                "note"
            } else {
                "reason"
            },
            step.text(),
            1000,
        )?;
        if text.is_empty() && action != TicketAction::CallBack {
            let field = if matches!(action, TicketAction::Verify | TicketAction::Rectify) { "note" } else { "reason" };
            return Err(Refusal::invalid(field, "required", "请填写说明", "Say what was done or why"));
        }
        let today = city_day(now);
        let stage = |s: TicketState| s.stage_days(p).map(|d| due_from(today, d, cal));
        let mut change = TicketChange {
            action,
            next: self.state,
            due: self.due,
            reopened: self.reopened,
            appealed_from: self.appealed_from,
            satisfied: None,
            text: text.clone(),
            events: Vec::new(),
        };
        let mut extra = None;
        match step {
            TicketStep::Verify { .. } => change.next = TicketState::Rectifying,
            TicketStep::Rectify { .. } => change.next = TicketState::CallingBack,
            TicketStep::CallBack { satisfied, .. } => {
                change.satisfied = Some(*satisfied);
                change.next = if *satisfied || self.reopened { TicketState::Closed } else { TicketState::Rectifying };
                if !*satisfied && !self.reopened {
                    change.reopened = true;
                }
            }
            TicketStep::Appeal { .. } => {
                change.next = TicketState::Appealed;
                change.appealed_from = Some(self.state);
            }
            TicketStep::Overturn { reason } => {
                change.next = TicketState::Overturned;
                if let Some(r) = self.rating_id {
                    let o = RatingOverturned { ticket_id: self.id, reason: reason.trim().to_owned() };
                    let about = subject(self.department_id, self.window_id, self.person_id);
                    extra = Some(Event::new(Payload::RatingOverturned(o), r, about, now));
                }
            }
            TicketStep::Uphold { .. } => {
                change.next = self.appealed_from.unwrap_or(TicketState::Verifying);
                change.appealed_from = None;
            }
        }
        change.due = stage(change.next);
        let stepped =
            TicketStepped { from: self.state, to: change.next, due: change.due, satisfied: change.satisfied, text };
        let payload = match action {
            TicketAction::Verify => Payload::TicketVerified(stepped),
            TicketAction::Rectify => Payload::TicketRectified(stepped),
            TicketAction::CallBack if change.reopened && !self.reopened => Payload::TicketReopened(stepped),
            TicketAction::CallBack => Payload::TicketCalledBack(stepped),
            TicketAction::Appeal => Payload::TicketAppealed(stepped),
            TicketAction::Overturn => Payload::TicketOverturned(stepped),
            TicketAction::Uphold => Payload::TicketUpheld(stepped),
        };
        change.events.push(self.event(payload, now));
        change.events.extend(extra);
        Ok(change)
    }

    /// The reminder due by today, once per deadline.
    pub fn reminder(&self, cal: &WorkCalendar, p: &TicketPolicy, now: DateTime<Utc>) -> Option<Event> {
        let due = self.due?;
        let today = city_day(now);
        if !self.state.is_open() || self.reminded_due == Some(due) || today > due {
            return None;
        }
        (reminder_day(cal, due, p.remind_days_before) <= today)
            .then(|| self.event(Payload::TicketReminded(TicketDeadline { state: self.state, due }), now))
    }

    /// Overdue once the deadline has passed, once per deadline; dated the first day past it.
    pub fn overdue(&self, now: DateTime<Utc>) -> Option<Event> {
        let due = self.due?;
        if !self.state.is_open() || self.overdue_due == Some(due) || city_day(now) <= due {
            return None;
        }
        let from = city_midnight(due.succ_opt()?);
        Some(self.event(Payload::TicketOverdue(TicketDeadline { state: self.state, due }), from))
    }

    fn event(&self, p: Payload, at: DateTime<Utc>) -> Event {
        Event::new(p, self.id, subject(self.department_id, self.window_id, self.person_id), at)
    }
}

/// A complaint as the public sends it, checked: what happened (1 to 1,000 characters) and a
/// mobile number for the callback if they leave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintSpec {
    pub content: String,
    pub phone: Option<String>,
}

impl ComplaintSpec {
    pub fn parse(content: &str, phone: Option<&str>) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        let content = match parse_text("content", content, 1000) {
            Ok(c) if c.is_empty() => {
                errs.push(ValidationError::new("content", "required", "请写明投诉内容", "Say what happened"));
                c
            }
            Ok(c) => c,
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => match crate::org::parse_mobile("phone", p) {
                Ok(p) => Some(p),
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        if errs.is_empty() { Ok(ComplaintSpec { content, phone }) } else { Err(errs) }
    }
}

/// Whether one more complaint may be taken: complaints are held to the same limits per network
/// address and per phone number as ratings (the office's `rating_policy.guards`), counted apart.
/// `from_address` and `phone` are the complaints already taken within each limit's minutes.
pub fn complaint_allowed(guards: &RatingGuards, from_address: u32, phone: u32) -> Result<(), Refusal> {
    for (scope, count, l, zh, en) in [
        ("address", from_address, guards.per_address, "您所在网络地址", "from your network address"),
        ("phone", phone, guards.per_phone, "该手机号", "naming this phone number"),
    ] {
        if count >= l.max {
            return Err(Refusal::TooMany(TooMany {
                scope,
                retry_after_secs: u64::from(l.minutes) * 60,
                zh: format!("{zh}投诉过于频繁（{} 分钟内至多 {} 次），请稍后再试", l.minutes, l.max),
                en: format!("Too many complaints {en} (at most {} in {} minutes); try again later", l.max, l.minutes),
            }));
        }
    }
    Ok(())
}

/// The largest photo a complaint may carry.
pub const COMPLAINT_PHOTO_MAX: usize = 5 * 1024 * 1024;

/// Checks a photo sent with a complaint by its bytes, not by what the sender calls it: a photo
/// (JPEG, PNG, WebP, HEIF/HEIC or GIF) of at most [`COMPLAINT_PHOTO_MAX`] bytes. Its media type.
pub fn complaint_photo(bytes: &[u8]) -> Result<&'static str, ValidationError> {
    if bytes.len() > COMPLAINT_PHOTO_MAX {
        return Err(ValidationError::new(
            "photo",
            "too_large",
            format!("照片不能超过 {} MB", COMPLAINT_PHOTO_MAX / 1024 / 1024),
            format!("The photo may be at most {} MB", COMPLAINT_PHOTO_MAX / 1024 / 1024),
        ));
    }
    match crate::evidence::sniff(bytes) {
        Some((mime, crate::evidence::EvidenceKind::Photo)) => Ok(mime),
        _ => Err(ValidationError::new(
            "photo",
            "not_a_photo",
            "只能上传照片（JPG、PNG、WebP、HEIC 或 GIF）",
            "Only a photo can be attached (JPG, PNG, WebP, HEIC or GIF)",
        )),
    }
}

/// What a complaint is about, from where it was made: a case when one is named; else the
/// department when the complainant says so; else the staff member or the window whose code it is.
pub fn complaint_about(case: bool, department: bool, person: bool) -> ComplaintAbout {
    match (case, department, person) {
        (true, _, _) => ComplaintAbout::Case,
        (false, true, _) => ComplaintAbout::Department,
        (false, false, true) => ComplaintAbout::Person,
        (false, false, false) => ComplaintAbout::Window,
    }
}

/// A ticket's number as the office writes it: GD-2026-000123.
pub fn ticket_number(year: i32, n: i64) -> String {
    format!("GD-{year}-{n:06}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        // 10:00 in the city.
        Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).single().unwrap()
    }

    fn facts(state: TicketState, due: NaiveDate) -> TicketFacts {
        TicketFacts {
            id: 1,
            state,
            source: TicketSource::BadRating,
            rating_id: Some(9),
            department_id: 3,
            window_id: Some(4),
            person_id: Some(5),
            due: Some(due),
            reopened: false,
            appealed_from: None,
            appealed: false,
            reminded_due: None,
            overdue_due: None,
        }
    }

    fn apply(t: &TicketFacts, c: &TicketChange) -> TicketFacts {
        TicketFacts {
            state: c.next,
            due: c.due,
            reopened: c.reopened,
            appealed_from: c.appealed_from,
            appealed: t.appealed || c.next == TicketState::Appealed,
            ..*t
        }
    }

    fn note(s: &str) -> String {
        s.to_owned()
    }

    #[test]
    fn deadlines_follow_the_working_day_calendar_across_a_holiday() {
        // National Day 2026: 1–7 October off, Saturday 10 October worked.
        let mut days: Vec<(NaiveDate, bool)> =
            (1..=7).map(|d| (NaiveDate::from_ymd_opt(2026, 10, d).unwrap(), false)).collect();
        days.push((NaiveDate::from_ymd_opt(2026, 10, 10).unwrap(), true));
        let cal = WorkCalendar::new(days);
        let p = TicketPolicy::default();
        let (due, e) = open(
            TicketSource::BadRating,
            Some(9),
            TicketAbout { department_id: 3, window_id: Some(4), person_id: None },
            &cal,
            &p,
            at(2026, 9, 29),
        );
        // 30 Sep, 8, 9, 10 (Saturday worked), 12 Oct.
        assert_eq!(due, NaiveDate::from_ymd_opt(2026, 10, 12).unwrap());
        assert_eq!(e.kind().code(), "ticket.opened");
    }

    #[test]
    fn verify_rectify_call_back_and_an_unsatisfied_rater_reopens_it_once() {
        let cal = WorkCalendar::new([]);
        let p = TicketPolicy::default();
        let now = at(2026, 12, 7); // a Monday
        let t = facts(TicketState::Verifying, NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
        let dept = TicketActor::Department;
        assert_eq!(t.allowed(dept), [TicketAction::Verify, TicketAction::Appeal]);
        assert!(t.allowed(TicketActor::Office).is_empty());
        let e = t.decide(&TicketStep::Verify { note: note("  ") }, dept, &cal, &p, now).unwrap_err();
        assert_eq!(e.reason(), "required");
        let c = t.decide(&TicketStep::Verify { note: note("属实：窗口人员态度生硬") }, dept, &cal, &p, now).unwrap();
        assert_eq!((c.next, c.due), (TicketState::Rectifying, NaiveDate::from_ymd_opt(2026, 12, 28)));
        let t = apply(&t, &c);
        let c = t.decide(&TicketStep::Rectify { note: note("已批评教育并调岗") }, dept, &cal, &p, now).unwrap();
        let t = apply(&t, &c);
        assert_eq!(t.state, TicketState::CallingBack);
        // Unsatisfied: back to rectifying, once.
        let c = t.decide(&TicketStep::CallBack { satisfied: false, note: note("") }, dept, &cal, &p, now).unwrap();
        assert_eq!((c.next, c.reopened, c.satisfied), (TicketState::Rectifying, true, Some(false)));
        assert_eq!(c.events[0].kind().code(), "ticket.reopened");
        let t = apply(&t, &c);
        let t = apply(&t, &t.decide(&TicketStep::Rectify { note: note("再次整改") }, dept, &cal, &p, now).unwrap());
        let c = t
            .decide(
                &TicketStep::CallBack { satisfied: false, note: note("仍不满意") },
                TicketActor::Office,
                &cal,
                &p,
                now,
            )
            .unwrap();
        assert_eq!((c.next, c.due, c.satisfied), (TicketState::Closed, None, Some(false)));
        assert_eq!(c.events[0].kind().code(), "ticket.called_back");
        let closed = apply(&t, &c);
        assert_eq!(
            closed.decide(&TicketStep::Rectify { note: note("x") }, dept, &cal, &p, now).unwrap_err().reason(),
            "state"
        );
    }

    #[test]
    fn an_appeal_is_decided_by_the_office_once_and_overturning_clears_the_rating() {
        let cal = WorkCalendar::new([]);
        let p = TicketPolicy::default();
        let now = at(2026, 12, 7);
        let t = facts(TicketState::Rectifying, NaiveDate::from_ymd_opt(2026, 12, 9).unwrap());
        let office = TicketActor::Office;
        let dept = TicketActor::Department;
        assert_eq!(
            t.decide(&TicketStep::Appeal { reason: note("x") }, office, &cal, &p, now).unwrap_err().reason(),
            "actor"
        );
        let c = t.decide(&TicketStep::Appeal { reason: note("评价人系同行恶意差评") }, dept, &cal, &p, now).unwrap();
        assert_eq!((c.next, c.due, c.appealed_from), (TicketState::Appealed, None, Some(TicketState::Rectifying)));
        let appealed = apply(&t, &c);
        assert_eq!(appealed.allowed(office), [TicketAction::Overturn, TicketAction::Uphold]);
        // Upheld: the stage starts again with its full days; no second appeal.
        let up = appealed.decide(&TicketStep::Uphold { reason: note("证据不足") }, office, &cal, &p, now).unwrap();
        assert_eq!((up.next, up.due), (TicketState::Rectifying, NaiveDate::from_ymd_opt(2026, 12, 28)));
        let again = apply(&appealed, &up);
        assert_eq!(
            again.decide(&TicketStep::Appeal { reason: note("再诉") }, dept, &cal, &p, now).unwrap_err().reason(),
            "appealed_once"
        );
        // Overturned: the ticket and the rating count nowhere.
        let over =
            appealed.decide(&TicketStep::Overturn { reason: note("监控显示系误评") }, office, &cal, &p, now).unwrap();
        assert_eq!(over.next, TicketState::Overturned);
        let kinds: Vec<&str> = over.events.iter().map(|e| e.kind().code()).collect();
        assert_eq!(kinds, ["ticket.overturned", "rating.overturned"]);
        assert_eq!(over.events[1].aggregate_id, crate::event::AggregateId::Known(9));
    }

    #[test]
    fn complaints_are_held_to_the_rating_limits_per_address_and_phone() {
        let g = RatingGuards::default();
        assert!(complaint_allowed(&g, 59, 9).is_ok());
        let scope = |r: Result<(), Refusal>| match r {
            Err(Refusal::TooMany(t)) => (t.scope, t.retry_after_secs),
            other => panic!("{other:?}"),
        };
        assert_eq!(scope(complaint_allowed(&g, 60, 0)), ("address", 3600));
        assert_eq!(scope(complaint_allowed(&g, 0, 10)), ("phone", 86_400));
    }

    #[test]
    fn a_complaint_photo_is_told_by_its_bytes_and_bounded() {
        let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 64]].concat();
        assert_eq!(complaint_photo(&png), Ok("image/png"));
        assert_eq!(complaint_photo(b"<svg onload=alert(1)></svg>").map_err(|e| e.code), Err("not_a_photo"));
        assert_eq!(complaint_photo(b"%PDF-1.4 a document").map_err(|e| e.code), Err("not_a_photo"));
        assert_eq!(complaint_photo(b"").map_err(|e| e.code), Err("not_a_photo"));
        let big = [png.clone(), vec![0u8; COMPLAINT_PHOTO_MAX]].concat();
        assert_eq!(complaint_photo(&big).map_err(|e| e.code), Err("too_large"));
    }

    #[test]
    fn reminded_before_the_deadline_and_overdue_after_each_once() {
        let cal = WorkCalendar::new([]);
        let p = TicketPolicy::default();
        // Due Friday 11 December; reminded from Thursday the 10th.
        let t = facts(TicketState::Verifying, NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
        assert!(t.reminder(&cal, &p, at(2026, 12, 9)).is_none());
        assert_eq!(t.reminder(&cal, &p, at(2026, 12, 10)).unwrap().kind().code(), "ticket.reminded");
        let reminded = TicketFacts { reminded_due: t.due, ..t };
        assert!(reminded.reminder(&cal, &p, at(2026, 12, 11)).is_none());
        assert!(t.overdue(at(2026, 12, 11)).is_none());
        let o = t.overdue(at(2026, 12, 14)).unwrap();
        assert_eq!(o.occurred_at, city_midnight(NaiveDate::from_ymd_opt(2026, 12, 12).unwrap()));
        assert!(TicketFacts { overdue_due: t.due, ..t }.overdue(at(2026, 12, 14)).is_none());
        let appealed = TicketFacts { state: TicketState::Appealed, due: None, ..t };
        assert!(
            appealed.overdue(at(2026, 12, 30)).is_none() && appealed.reminder(&cal, &p, at(2026, 12, 10)).is_none()
        );
    }
}
