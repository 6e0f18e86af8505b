//! The first-inquiry rule (首问负责制): the first staff member a member of the public asks records
//! the inquiry and answers it, or hands it over to a named person or department with a note; the
//! receiver accepts it (and answers or hands it on) or refuses it back. The chain is kept whole in
//! the ledger. An inquiry refused, not taken up within the office's limit, or not answered within
//! it is a **lapse**: a candidate finding against whoever held it, which the office reviews —
//! making it a finding or dismissing it, with a reason.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    calendar::WorkCalendar,
    clock::{city_day, city_midnight},
    event::{Event, Payload, Subject},
    org::parse_text,
    workflow::Refusal,
};

labelled_enum! {
    /// How the member of the public asked.
    InquiryChannel {
        Counter = "counter", "现场", "in person";
        Phone = "phone", "电话", "by phone";
        Online = "online", "网上", "online";
        Letter = "letter", "来信", "by letter";
    }
}

labelled_enum! {
    InquiryState {
        Pending = "pending", "待接收", "to take up";
        Handling = "handling", "办理中", "in hand";
        Answered = "answered", "已答复", "answered";
    }
}

labelled_enum! {
    InquiryAction {
        Accept = "accept", "接收", "take up";
        Refuse = "refuse", "退回", "refuse";
        Answer = "answer", "答复", "answer";
        HandOver = "hand_over", "转交", "hand over";
    }
}

labelled_enum! {
    /// How the rule was broken, as the candidate finding names it.
    LapseKind {
        Refused = "refused", "拒收推诿", "refused";
        Dropped = "dropped", "转交后未接收", "not taken up";
        Overdue = "overdue", "逾期未答复", "not answered in time";
    }
}

labelled_enum! {
    /// The office's review of a lapse.
    LapseState {
        Pending = "pending", "待审查", "to review";
        Finding = "finding", "已立为问题", "made a finding";
        Dismissed = "dismissed", "不予认定", "dismissed";
    }
}

/// The office's limits, in working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InquiryPolicy {
    /// A receiver takes up an inquiry handed to them by the end of this many working days after
    /// the day it was handed over (0: the same day).
    pub accept_days: u32,
    /// An inquiry is answered by the end of this many working days after the day it was asked.
    pub answer_days: u32,
}

impl Default for InquiryPolicy {
    fn default() -> Self {
        InquiryPolicy { accept_days: 1, answer_days: 3 }
    }
}

impl InquiryPolicy {
    pub fn checked(self) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        for (name, v, min, max) in [("accept_days", self.accept_days, 0, 5), ("answer_days", self.answer_days, 1, 30)] {
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

/// A staff member, where they work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staff {
    pub person_id: i64,
    pub department_id: i64,
}

/// Whom an inquiry is handed to: a named staff member (in their department) or a department,
/// where any of its staff may take it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receiver {
    pub person_id: Option<i64>,
    pub department_id: i64,
}

/// What the first staff member does once the inquiry is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstMove {
    /// Answered there and then.
    Answer(String),
    /// Handed over with a note.
    HandOver(Receiver, String),
    /// Kept to answer later (looked into, called back).
    Keep,
}

/// A step on an inquiry as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InquiryStep {
    Accept,
    Refuse { reason: String },
    Answer { answer: String },
    HandOver { to: Receiver, note: String },
}

impl InquiryStep {
    pub fn action(&self) -> InquiryAction {
        match self {
            InquiryStep::Accept => InquiryAction::Accept,
            InquiryStep::Refuse { .. } => InquiryAction::Refuse,
            InquiryStep::Answer { .. } => InquiryAction::Answer,
            InquiryStep::HandOver { .. } => InquiryAction::HandOver,
        }
    }
}

/// An inquiry as stored, as its machine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InquiryFacts {
    pub id: i64,
    pub state: InquiryState,
    /// Where it is: with this person, or waiting in this department (no person named).
    pub holder: Receiver,
    /// Who handed it to the holder (a refusal sends it back to them).
    pub handed_by: Option<Staff>,
    /// How many times it has been handed over.
    pub hand_overs: i32,
    /// The day it must be taken up by, while pending.
    pub accept_due: Option<NaiveDate>,
    /// The day it must be answered by.
    pub due: NaiveDate,
    /// The hand-over whose lapse has been raised (`hand_overs` when it was), and whether the
    /// overdue one has.
    pub dropped_at: Option<i32>,
    pub overdue_raised: bool,
}

/// A lapse to put before the office: what, and against whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lapse {
    pub kind: LapseKind,
    pub against: Receiver,
    /// The hand-over it belongs to (0 for the inquiry's own limit).
    pub seq: i32,
}

/// What a step leaves, and what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct InquiryChange {
    pub action: InquiryAction,
    pub next: InquiryState,
    pub holder: Receiver,
    pub handed_by: Option<Staff>,
    pub hand_overs: i32,
    pub accept_due: Option<NaiveDate>,
    pub answer: Option<String>,
    pub lapse: Option<Lapse>,
    /// Whom to tell that the inquiry now waits for them (a hand-over).
    pub tell: Option<Receiver>,
    pub events: Vec<Event>,
}

/// An inquiry recorded (`inquiry.recorded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InquiryRecorded {
    pub channel: InquiryChannel,
    pub due: NaiveDate,
}

/// A step of an inquiry (`inquiry.handed_over`, `inquiry.accepted`, `inquiry.refused`,
/// `inquiry.answered`): who it went to, and the note, answer or reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InquiryMoved {
    pub from: InquiryState,
    pub to: InquiryState,
    /// Whom it went to (a hand-over, or back after a refusal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_person_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_department_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// A limit passed (`inquiry.dropped`, `inquiry.overdue`), dated the first day past it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InquiryLapsed {
    pub due: NaiveDate,
}

/// The office's review of a lapse (`inquiry.lapse_upheld` with the finding it made,
/// `inquiry.lapse_dismissed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LapseReviewed {
    pub lapse_id: i64,
    pub kind: LapseKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<i64>,
    pub reason: String,
}

fn on(r: Receiver) -> Subject {
    Subject { department_id: Some(r.department_id), person_id: r.person_id, ..Default::default() }
}

fn staff(s: Staff) -> Receiver {
    Receiver { person_id: Some(s.person_id), department_id: s.department_id }
}

fn required(field: &str, raw: &str, zh: &str, en: &str) -> Result<String, Refusal> {
    let text = parse_text(field, raw, 1000)?;
    if text.is_empty() {
        return Err(Refusal::invalid(field, "required", zh, en));
    }
    Ok(text)
}

fn hand_over_to(by: Staff, to: Receiver) -> Result<(), Refusal> {
    if to.person_id == Some(by.person_id) || (to.person_id.is_none() && to.department_id == by.department_id) {
        return Err(Refusal::invalid(
            "to",
            "to_self",
            "不能转交给自己或本人所在科室，请直接办理",
            "You cannot hand it to yourself or your own department: deal with it",
        ));
    }
    Ok(())
}

/// An inquiry as first asked, checked: who asked (a name or description, optional), what about,
/// and a mobile number to answer them on if they leave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInquiry {
    pub channel: InquiryChannel,
    pub asker: String,
    pub content: String,
    pub phone: Option<String>,
}

impl NewInquiry {
    pub fn parse(
        channel: InquiryChannel,
        asker: &str,
        content: &str,
        phone: Option<&str>,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        let asker = parse_text("asker", asker, 50).unwrap_or_else(|e| {
            errs.push(e);
            String::new()
        });
        let content = match parse_text("content", content, 1000) {
            Ok(c) if c.is_empty() => {
                errs.push(ValidationError::new("content", "required", "请写明咨询事项", "Say what they asked about"));
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
            Some(p) => crate::org::parse_mobile("phone", p).map_err(|e| errs.push(e)).ok(),
        };
        if errs.is_empty() { Ok(NewInquiry { channel, asker, content, phone }) } else { Err(errs) }
    }
}

/// Records an inquiry the staff member `by` was asked first, with their first move: answered,
/// handed over or kept; its answer is due in `answer_days` working days.
pub fn record(
    channel: InquiryChannel,
    by: Staff,
    first: &FirstMove,
    cal: &WorkCalendar,
    p: &InquiryPolicy,
    now: DateTime<Utc>,
) -> Result<InquiryChange, Refusal> {
    let today = city_day(now);
    let due = cal.add_working_days(today, p.answer_days);
    let asked = Event::of_new(Payload::InquiryRecorded(InquiryRecorded { channel, due }), on(staff(by)), now);
    let kept = InquiryFacts {
        id: 0,
        state: InquiryState::Handling,
        holder: staff(by),
        handed_by: None,
        hand_overs: 0,
        accept_due: None,
        due,
        dropped_at: None,
        overdue_raised: false,
    };
    let step = match first {
        FirstMove::Keep => {
            return Ok(InquiryChange {
                action: InquiryAction::Accept,
                next: kept.state,
                holder: kept.holder,
                handed_by: None,
                hand_overs: 0,
                accept_due: None,
                answer: None,
                lapse: None,
                tell: None,
                events: vec![asked],
            });
        }
        FirstMove::Answer(a) => InquiryStep::Answer { answer: a.clone() },
        FirstMove::HandOver(to, note) => InquiryStep::HandOver { to: *to, note: note.clone() },
    };
    let mut change = kept.decide(&step, by, cal, p, now)?;
    for e in &mut change.events {
        e.aggregate_id = crate::event::AggregateId::Pending;
    }
    change.events.insert(0, asked);
    Ok(change)
}

impl InquiryFacts {
    /// What its holder owes now and by which day: taking it up, or answering it; nothing once
    /// answered.
    pub fn owed(&self) -> Option<(InquiryAction, NaiveDate)> {
        match self.state {
            InquiryState::Pending => Some((InquiryAction::Accept, self.accept_due.unwrap_or(self.due))),
            InquiryState::Handling => Some((InquiryAction::Answer, self.due)),
            InquiryState::Answered => None,
        }
    }

    /// Not answered, and its day has passed.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.state != InquiryState::Answered && today > self.due
    }

    /// Whether `by` holds it: it is with them, or waiting in their department for anyone there.
    pub fn held_by(&self, by: Staff) -> bool {
        match self.holder.person_id {
            Some(p) => p == by.person_id,
            None => self.holder.department_id == by.department_id,
        }
    }

    /// The actions `by` may take now.
    pub fn allowed(&self, by: Staff) -> Vec<InquiryAction> {
        use InquiryAction::*;
        [Accept, Refuse, Answer, HandOver].into_iter().filter(|&a| self.permits(a, by).is_ok()).collect()
    }

    fn permits(&self, action: InquiryAction, by: Staff) -> Result<(), Refusal> {
        let state_ok = match action {
            InquiryAction::Accept | InquiryAction::Refuse => self.state == InquiryState::Pending,
            InquiryAction::Answer | InquiryAction::HandOver => self.state == InquiryState::Handling,
        };
        if !state_ok {
            return Err(Refusal::by_state(crate::labels!(self.state), crate::labels!(action), ("咨询", "inquiry")));
        }
        if !self.held_by(by) {
            return Err(Refusal::by_actor(self.state.code(), crate::labels!(action), ("咨询", "inquiry")));
        }
        Ok(())
    }

    /// Takes a step as `by`: where the inquiry goes, and the events (and any lapse) to record.
    pub fn decide(
        &self,
        step: &InquiryStep,
        by: Staff,
        cal: &WorkCalendar,
        p: &InquiryPolicy,
        now: DateTime<Utc>,
    ) -> Result<InquiryChange, Refusal> {
        let action = step.action();
        self.permits(action, by)?;
        let today = city_day(now);
        let mut c = InquiryChange {
            action,
            next: self.state,
            holder: self.holder,
            handed_by: self.handed_by,
            hand_overs: self.hand_overs,
            accept_due: self.accept_due,
            answer: None,
            lapse: None,
            tell: None,
            events: Vec::new(),
        };
        let mut moved = InquiryMoved {
            from: self.state,
            to: self.state,
            to_person_id: None,
            to_department_id: None,
            accept_due: None,
            text: String::new(),
        };
        let me = staff(by);
        let payload: fn(InquiryMoved) -> Payload = match step {
            InquiryStep::Accept => {
                c.next = InquiryState::Handling;
                c.holder = me;
                c.accept_due = None;
                moved.to_person_id = Some(by.person_id);
                moved.to_department_id = Some(by.department_id);
                Payload::InquiryAccepted
            }
            InquiryStep::Refuse { reason } => {
                moved.text = required("reason", reason, "请说明退回原因", "Say why you refuse it")?;
                // Back to whoever handed it over, to deal with or hand elsewhere.
                let back = self.handed_by.map(staff).unwrap_or(self.holder);
                c.next = InquiryState::Handling;
                c.holder = back;
                c.handed_by = None;
                c.accept_due = None;
                moved.to_person_id = back.person_id;
                moved.to_department_id = Some(back.department_id);
                c.lapse = Some(Lapse { kind: LapseKind::Refused, against: me, seq: self.hand_overs });
                Payload::InquiryRefused
            }
            InquiryStep::Answer { answer } => {
                let a = required("answer", answer, "请填写答复内容", "Say what they were told")?;
                c.next = InquiryState::Answered;
                c.accept_due = None;
                c.answer = Some(a.clone());
                moved.text = a;
                Payload::InquiryAnswered
            }
            InquiryStep::HandOver { to, note } => {
                hand_over_to(by, *to)?;
                moved.text = required("note", note, "请写明转交说明", "Say what the receiver needs to know")?;
                let due = cal.add_working_days(today, p.accept_days);
                c.next = InquiryState::Pending;
                c.holder = *to;
                c.handed_by = Some(by);
                c.hand_overs = self.hand_overs + 1;
                c.accept_due = Some(due);
                c.tell = Some(*to);
                moved.to_person_id = to.person_id;
                moved.to_department_id = Some(to.department_id);
                moved.accept_due = Some(due);
                Payload::InquiryHandedOver
            }
        };
        moved.to = c.next;
        c.events.push(Event::new(payload(moved), self.id, on(me), now));
        Ok(c)
    }

    /// The limits passed by `now` and not yet raised: a hand-over not taken up by its day (against
    /// the receiver) and an inquiry not answered by its day (against whoever holds it); each once,
    /// dated the first day past it.
    pub fn lapses(&self, now: DateTime<Utc>) -> Vec<(Lapse, Event)> {
        let today = city_day(now);
        let mut out = Vec::new();
        let mut raise = |kind: LapseKind, due: NaiveDate, seq: i32| {
            let Some(day) = due.succ_opt() else { return };
            let payload = InquiryLapsed { due };
            let payload = if kind == LapseKind::Dropped {
                Payload::InquiryDropped(payload)
            } else {
                Payload::InquiryOverdue(payload)
            };
            let lapse = Lapse { kind, against: self.holder, seq };
            out.push((lapse, Event::new(payload, self.id, on(self.holder), city_midnight(day))));
        };
        if self.state == InquiryState::Pending
            && let Some(due) = self.accept_due
            && today > due
            && self.dropped_at != Some(self.hand_overs)
        {
            raise(LapseKind::Dropped, due, self.hand_overs);
        }
        if self.overdue(today) && !self.overdue_raised {
            raise(LapseKind::Overdue, self.due, 0);
        }
        out
    }
}

/// A lapse as its review needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LapseFacts {
    pub id: i64,
    pub inquiry_id: i64,
    pub state: LapseState,
    pub kind: LapseKind,
    pub against: Receiver,
}

impl LapseFacts {
    /// The office's review: made a finding (the finding's id) or dismissed, with a reason; once.
    pub fn review(
        &self,
        finding_id: Option<i64>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(LapseState, Event), Refusal> {
        if self.state != LapseState::Pending {
            return Err(Refusal::transition(
                self.state.code(),
                "review",
                "state",
                format!("该线索已审查（{}）", self.state.label_zh()),
                format!("This lapse has been reviewed already ({})", self.state.label_en()),
            ));
        }
        let reason = required("reason", reason, "请填写审查意见", "Give the reason for the decision")?;
        let next = if finding_id.is_some() { LapseState::Finding } else { LapseState::Dismissed };
        let r = LapseReviewed { lapse_id: self.id, kind: self.kind, finding_id, reason };
        let payload =
            if finding_id.is_some() { Payload::InquiryLapseUpheld(r) } else { Payload::InquiryLapseDismissed(r) };
        Ok((next, Event::new(payload, self.inquiry_id, on(self.against), now)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).single().unwrap()
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    const A: Staff = Staff { person_id: 1, department_id: 10 };
    const B: Staff = Staff { person_id: 2, department_id: 20 };
    const C: Staff = Staff { person_id: 3, department_id: 20 };

    fn apply(f: &InquiryFacts, c: &InquiryChange) -> InquiryFacts {
        InquiryFacts {
            state: c.next,
            holder: c.holder,
            handed_by: c.handed_by,
            hand_overs: c.hand_overs,
            accept_due: c.accept_due,
            ..*f
        }
    }

    fn facts_of(c: &InquiryChange, due: NaiveDate) -> InquiryFacts {
        let base = InquiryFacts {
            id: 7,
            state: c.next,
            holder: c.holder,
            handed_by: c.handed_by,
            hand_overs: c.hand_overs,
            accept_due: c.accept_due,
            due,
            dropped_at: None,
            overdue_raised: false,
        };
        apply(&base, c)
    }

    #[test]
    fn answered_at_once_or_handed_over_to_a_department_and_taken_up_there() {
        let cal = WorkCalendar::new([]);
        let p = InquiryPolicy::default();
        let now = at(2026, 12, 7); // Monday
        let c = record(InquiryChannel::Counter, A, &FirstMove::Answer("营业执照在3号窗口办理".into()), &cal, &p, now)
            .unwrap();
        assert_eq!(c.next, InquiryState::Answered);
        let kinds: Vec<&str> = c.events.iter().map(|e| e.kind().code()).collect();
        assert_eq!(kinds, ["inquiry.recorded", "inquiry.answered"]);
        assert!(c.events.iter().all(|e| e.aggregate_id == crate::event::AggregateId::Pending));

        let to = Receiver { person_id: None, department_id: 20 };
        let c =
            record(InquiryChannel::Phone, A, &FirstMove::HandOver(to, "社保转移问题".into()), &cal, &p, now).unwrap();
        assert_eq!((c.next, c.accept_due, c.hand_overs), (InquiryState::Pending, Some(day(12, 8)), 1));
        let f = facts_of(&c, day(12, 10));
        // Anyone in department 20 may take it up; the one who handed it over may not.
        assert_eq!(f.allowed(B), [InquiryAction::Accept, InquiryAction::Refuse]);
        assert_eq!(f.allowed(C), [InquiryAction::Accept, InquiryAction::Refuse]);
        assert!(f.allowed(A).is_empty());
        let taken = f.decide(&InquiryStep::Accept, C, &cal, &p, now).unwrap();
        let f = apply(&f, &taken);
        assert_eq!(f.holder, Receiver { person_id: Some(3), department_id: 20 });
        assert!(f.allowed(B).is_empty());
        let e = f.decide(&InquiryStep::Answer { answer: " ".into() }, C, &cal, &p, now).unwrap_err();
        assert_eq!(e.reason(), "required");
        let done = f.decide(&InquiryStep::Answer { answer: "已电话告知办理流程".into() }, C, &cal, &p, now).unwrap();
        assert_eq!(done.events[0].kind().code(), "inquiry.answered");
        assert_eq!(done.events[0].subject.person_id, Some(3));
        assert_eq!(apply(&f, &done).state, InquiryState::Answered);
    }

    #[test]
    fn a_refusal_goes_back_to_the_sender_and_is_a_lapse_against_the_refuser() {
        let cal = WorkCalendar::new([]);
        let p = InquiryPolicy::default();
        let now = at(2026, 12, 7);
        let to = Receiver { person_id: Some(2), department_id: 20 };
        assert_eq!(
            record(InquiryChannel::Counter, A, &FirstMove::HandOver(to, " ".into()), &cal, &p, now)
                .unwrap_err()
                .reason(),
            "required"
        );
        let me = Receiver { person_id: Some(1), department_id: 10 };
        assert_eq!(
            record(InquiryChannel::Counter, A, &FirstMove::HandOver(me, "x".into()), &cal, &p, now)
                .unwrap_err()
                .reason(),
            "to_self"
        );
        let c = record(InquiryChannel::Counter, A, &FirstMove::HandOver(to, "请答复".into()), &cal, &p, now).unwrap();
        let f = facts_of(&c, day(12, 10));
        assert!(f.allowed(C).is_empty(), "named to a person: not the rest of the department");
        assert_eq!(
            f.decide(&InquiryStep::Refuse { reason: "".into() }, B, &cal, &p, now).unwrap_err().reason(),
            "required"
        );
        let r = f.decide(&InquiryStep::Refuse { reason: "不归我管".into() }, B, &cal, &p, now).unwrap();
        assert_eq!((r.next, r.holder), (InquiryState::Handling, me));
        assert_eq!(r.lapse, Some(Lapse { kind: LapseKind::Refused, against: staff(B), seq: 1 }));
        assert_eq!(r.events[0].kind().code(), "inquiry.refused");
        let back = apply(&f, &r);
        assert_eq!(back.allowed(A), [InquiryAction::Answer, InquiryAction::HandOver]);
    }

    #[test]
    fn limits_on_the_working_day_calendar_raise_each_lapse_once() {
        // National Day 2026: 1–7 October off, Saturday 10 October worked.
        let mut days: Vec<(NaiveDate, bool)> = (1..=7).map(|d| (day(10, d), false)).collect();
        days.push((day(10, 10), true));
        let cal = WorkCalendar::new(days);
        let p = InquiryPolicy::default();
        let to = Receiver { person_id: None, department_id: 20 };
        let c = record(InquiryChannel::Online, A, &FirstMove::HandOver(to, "请答复".into()), &cal, &p, at(2026, 9, 30))
            .unwrap();
        // Answer due 3 working days on: 8, 9, 10 October; taken up by the 8th.
        let recorded = match &c.events[0].payload {
            Payload::InquiryRecorded(r) => r.due,
            _ => unreachable!(),
        };
        assert_eq!((recorded, c.accept_due), (day(10, 10), Some(day(10, 8))));
        let f = facts_of(&c, recorded);
        assert!(f.lapses(at(2026, 10, 8)).is_empty());
        let l = f.lapses(at(2026, 10, 9));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, Lapse { kind: LapseKind::Dropped, against: to, seq: 1 });
        assert_eq!(l[0].1.occurred_at, city_midnight(day(10, 9)));
        let raised = InquiryFacts { dropped_at: Some(1), ..f };
        assert!(raised.lapses(at(2026, 10, 9)).is_empty());
        let both = raised.lapses(at(2026, 10, 12));
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].0.kind, LapseKind::Overdue);
        assert_eq!(both[0].1.kind().code(), "inquiry.overdue");
        assert!(InquiryFacts { overdue_raised: true, ..raised }.lapses(at(2026, 10, 30)).is_empty());
        let answered = InquiryFacts { state: InquiryState::Answered, ..f };
        assert!(answered.lapses(at(2026, 10, 30)).is_empty());
    }

    #[test]
    fn a_lapse_is_reviewed_once_with_a_reason() {
        let against = Receiver { person_id: Some(2), department_id: 20 };
        let now = at(2026, 12, 7);
        let l = LapseFacts { id: 1, inquiry_id: 7, state: LapseState::Pending, kind: LapseKind::Refused, against };
        assert_eq!(l.review(None, " ", now).unwrap_err().reason(), "required");
        let (s, e) = l.review(Some(40), "确属推诿", now).unwrap();
        assert_eq!((s, e.kind().code()), (LapseState::Finding, "inquiry.lapse_upheld"));
        assert_eq!(e.aggregate_id, crate::event::AggregateId::Known(7));
        let (s, _) = l.review(None, "已电话答复未登记", now).unwrap();
        assert_eq!(s, LapseState::Dismissed);
        let done = LapseFacts { state: LapseState::Finding, ..l };
        assert_eq!(done.review(None, "x", now).unwrap_err().reason(), "state");
    }
}
