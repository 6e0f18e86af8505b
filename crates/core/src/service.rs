//! Service commitments (服务承诺制): each department's service items (服务事项) with the time
//! limit it promises and the one the law allows, in working days; and the cases (办件) handled
//! under them, pushed by the approval systems or imported. A case that has used a share of its
//! promised working days gets a yellow card (黄牌预警); one past its promised limit a red card
//! (红牌). Cards are facts: once given they stay, whatever later pushes say.
//!
//! case:  open ─complete→ completed ─reopen→ open …   cards: none → yellow → red (never back)

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    calendar::WorkCalendar,
    clock::{city_day, city_midnight},
    event::{CaseAccepted, CaseCarded, CaseCompleted, CaseReopened, Event, Payload, Subject},
};

labelled_enum! {
    /// Who applied: a person or an enterprise (评价对象的申请人类型).
    ApplicantType {
        Person = "person", "个人", "person";
        Enterprise = "enterprise", "企业", "enterprise";
    }
}

labelled_enum! {
    /// A case's warning: yellow once it has used the configured share of its promised working
    /// days, red once it is past them.
    CaseCard {
        Yellow = "yellow", "黄牌", "yellow card";
        Red = "red", "红牌", "red card";
    }
}

labelled_enum! {
    CaseStatus {
        Open = "open", "办理中", "in progress";
        Completed = "completed", "已办结", "completed";
    }
}

labelled_enum! {
    /// What holds a connection key: an approval system that pushes cases, or a counter rating
    /// device (评价器).
    ClientKind {
        System = "system", "业务系统", "connected system";
        Device = "device", "评价器", "rating device";
    }
}

labelled_enum! {
    ClientStatus {
        Active = "active", "启用", "active";
        Revoked = "revoked", "已停用", "revoked";
    }
}

impl CaseStatus {
    /// Completed once it has a completion time; open (again, if reopened) without one.
    pub fn of(completed_at: Option<DateTime<Utc>>) -> Self {
        if completed_at.is_some() { CaseStatus::Completed } else { CaseStatus::Open }
    }
}

/// A connection key: `xn_<prefix>_<secret>`. The prefix (10 hex digits) finds the key's row;
/// only the SHA-256 of the whole key is kept, so a key is shown once, when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

impl ClientKey {
    /// A key from random bytes (the caller draws them: core does no I/O).
    pub fn from_random(prefix: [u8; 5], secret: [u8; 32]) -> Self {
        use base64::Engine;
        let prefix = hex::encode(prefix);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let key = format!("xn_{prefix}_{secret}");
        ClientKey { hash: Self::hash(&key), key, prefix }
    }

    pub fn hash(key: &str) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(key.as_bytes()))
    }

    /// The prefix of a well-formed key; `None` for anything else.
    pub fn prefix_of(key: &str) -> Option<&str> {
        let rest = key.strip_prefix("xn_")?;
        let (prefix, secret) = rest.split_once('_')?;
        (prefix.len() == 10
            && prefix.bytes().all(|b| b.is_ascii_hexdigit())
            && secret.len() == 43
            && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then_some(prefix)
    }

    /// Whether `key` is the one whose hash is stored, compared in constant time.
    pub fn matches(key: &str, stored_hash: &str) -> bool {
        let a = Self::hash(key);
        a.len() == stored_hash.len() && a.bytes().zip(stored_hash.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The office's rules for service commitments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ServicePolicy {
    /// A yellow card once a case has used this share (percent) of its promised working days.
    #[schema(minimum = 50, maximum = 99)]
    pub yellow_percent: u32,
}

impl Default for ServicePolicy {
    fn default() -> Self {
        Self { yellow_percent: 80 }
    }
}

impl ServicePolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(50..=99).contains(&self.yellow_percent) {
            return Err(ValidationError::new(
                "yellow_percent",
                "out_of_range",
                "黄牌预警比例须在 50% 至 99% 之间",
                "The yellow-card share must be 50% to 99%",
            ));
        }
        Ok(())
    }

    /// Working days used when the yellow card is due: the share of the promise, rounded up,
    /// at least one. `None` for a case promised on the day (即办件): it can only be late.
    pub fn yellow_after(&self, promised_days: u32) -> Option<u32> {
        (promised_days > 0).then(|| (promised_days * self.yellow_percent).div_ceil(100).max(1))
    }
}

/// A service item as entered by the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    pub code: String,
    pub name: String,
    pub promised_days: u32,
    pub legal_days: u32,
}

/// At most a year of working days: a longer limit is a typing error.
pub const MAX_LIMIT_DAYS: u32 = 250;

impl ItemSpec {
    /// Trims and checks: a code of letters, digits, `-`, `_` and `.`; a name; limits of 0 (on
    /// the day) to [`MAX_LIMIT_DAYS`] working days, the promise within the legal limit.
    pub fn parse(code: &str, name: &str, promised_days: i64, legal_days: i64) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        let code = code.trim();
        if code.is_empty()
            || code.chars().count() > 64
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errs.push(ValidationError::new(
                "code",
                "invalid_code",
                "事项编码须为 1 至 64 位字母、数字、“-”“_”或“.”",
                "The item code is 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errs.push(ValidationError::new(
                "name",
                "length",
                "事项名称须为 1 至 100 个字",
                "Enter a name of 1 to 100 characters",
            ));
        }
        let limit = |field: &str, v: i64, errs: &mut Vec<ValidationError>| -> u32 {
            match u32::try_from(v) {
                Ok(d) if d <= MAX_LIMIT_DAYS => d,
                _ => {
                    errs.push(ValidationError::new(
                        field,
                        "out_of_range",
                        format!("时限须在 0 至 {MAX_LIMIT_DAYS} 个工作日之间"),
                        format!("A time limit is 0 to {MAX_LIMIT_DAYS} working days"),
                    ));
                    0
                }
            }
        };
        let promised_days = limit("promised_days", promised_days, &mut errs);
        let legal_days = limit("legal_days", legal_days, &mut errs);
        if errs.is_empty() && promised_days > legal_days {
            errs.push(ValidationError::new(
                "promised_days",
                "exceeds_legal",
                "承诺时限不能长于法定时限",
                "The promised limit cannot be longer than the legal one",
            ));
        }
        if errs.is_empty() {
            Ok(ItemSpec { code: code.to_owned(), name: name.to_owned(), promised_days, legal_days })
        } else {
            Err(errs)
        }
    }
}

/// What a case is, as a push or an import states it, once its codes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSpec {
    pub number: String,
    pub item_id: i64,
    pub department_id: i64,
    pub promised_days: u32,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub applicant: ApplicantType,
    pub accepted_at: DateTime<Utc>,
    pub stage: String,
    pub stage_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A case as stored: what the job and a later push decide from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: i64,
    pub spec: CaseSpec,
    pub card: Option<CaseCard>,
}

/// Checks a case number: what the approval system calls it (办件编号).
pub fn parse_case_number(s: &str) -> Result<String, ValidationError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 64 || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ValidationError::new(
            "number",
            "invalid_number",
            "办件编号须为 1 至 64 个字符，不含空白",
            "The case number is 1 to 64 characters without spaces",
        ));
    }
    Ok(s.to_owned())
}

/// How far along a case is against its promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Timing {
    /// The last day of the promised period.
    pub deadline: NaiveDate,
    /// The day its yellow card is due (`None` for a case promised on the day).
    pub yellow_on: Option<NaiveDate>,
    /// Working days used: after the day of acceptance, through completion or today.
    pub working_days_used: u32,
}

impl CaseSpec {
    pub fn status(&self) -> CaseStatus {
        CaseStatus::of(self.completed_at)
    }

    /// Checks what cannot be true of any case: completed or moved on before it was accepted, or
    /// dated in the future (five minutes of clock skew allowed).
    pub fn check_times(&self, now: DateTime<Utc>) -> Result<(), Vec<ValidationError>> {
        let mut errs = Vec::new();
        let future = now + chrono::Duration::minutes(5);
        for (field, t) in
            [("accepted_at", Some(self.accepted_at)), ("stage_at", self.stage_at), ("completed_at", self.completed_at)]
        {
            if let Some(t) = t {
                if t > future {
                    errs.push(ValidationError::new(
                        field,
                        "in_future",
                        "时间不能晚于当前时间",
                        "The time cannot be in the future",
                    ));
                } else if t < self.accepted_at {
                    errs.push(ValidationError::new(
                        field,
                        "before_accepted",
                        "时间不能早于受理时间",
                        "The time cannot be before acceptance",
                    ));
                }
            }
        }
        if self.stage.chars().count() > 50 {
            errs.push(ValidationError::new(
                "stage",
                "length",
                "办理环节最多 50 个字",
                "The stage is at most 50 characters",
            ));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    pub fn timing(&self, cal: &WorkCalendar, policy: &ServicePolicy, now: DateTime<Utc>) -> Timing {
        let accepted = city_day(self.accepted_at);
        let until = city_day(self.completed_at.unwrap_or(now));
        Timing {
            deadline: cal.add_working_days(accepted, self.promised_days),
            yellow_on: policy.yellow_after(self.promised_days).map(|n| cal.add_working_days(accepted, n)),
            working_days_used: cal.working_days_between(accepted, until),
        }
    }

    /// The cards due now that `held` does not hold yet, in order, each dated when it fell due:
    /// yellow on the morning of the day it has used its share, red on the morning after its
    /// deadline. A case completed before either is never carded.
    pub fn cards_due(
        &self,
        held: Option<CaseCard>,
        cal: &WorkCalendar,
        policy: &ServicePolicy,
        now: DateTime<Utc>,
    ) -> Vec<(CaseCard, DateTime<Utc>)> {
        let t = self.timing(cal, policy, now);
        let until = city_day(self.completed_at.unwrap_or(now));
        let mut out = Vec::new();
        if held.is_none()
            && let Some(y) = t.yellow_on
            && until >= y
        {
            out.push((CaseCard::Yellow, city_midnight(y)));
        }
        if held != Some(CaseCard::Red) && until > t.deadline {
            out.push((CaseCard::Red, city_midnight(t.deadline + chrono::Duration::days(1))));
        }
        out
    }

    fn subject(&self) -> Subject {
        Subject {
            department_id: Some(self.department_id),
            window_id: self.window_id,
            person_id: self.person_id,
            post_id: None,
        }
    }

    fn carded(&self, id: Option<i64>, card: CaseCard, at: DateTime<Utc>, t: &Timing) -> Event {
        let p = CaseCarded {
            number: self.number.clone(),
            card,
            deadline: t.deadline,
            promised_days: self.promised_days,
            working_days_used: t.working_days_used,
        };
        let payload = match card {
            CaseCard::Yellow => Payload::CaseYellowCard(p),
            CaseCard::Red => Payload::CaseRedCard(p),
        };
        match id {
            Some(id) => Event::new(payload, id, self.subject(), at),
            None => Event::of_new(payload, self.subject(), at),
        }
    }

    fn completed(&self, id: Option<i64>, at: DateTime<Utc>, t: &Timing) -> Event {
        let p = Payload::CaseCompleted(CaseCompleted {
            number: self.number.clone(),
            deadline: t.deadline,
            on_time: city_day(at) <= t.deadline,
            working_days_used: t.working_days_used,
        });
        match id {
            Some(id) => Event::new(p, id, self.subject(), at),
            None => Event::of_new(p, self.subject(), at),
        }
    }
}

/// What a push, an import or the card job decides for a case: the card it holds after, its
/// timing, and the events.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDecision {
    pub card: Option<CaseCard>,
    pub timing: Timing,
    pub events: Vec<Event>,
    /// The day its next card falls due: none once completed or red.
    pub next_card_on: Option<NaiveDate>,
    /// Completed by its deadline (none while open).
    pub on_time: Option<bool>,
}

impl CaseDecision {
    fn new(spec: &CaseSpec, card: Option<CaseCard>, timing: Timing, events: Vec<Event>) -> Self {
        let next_card_on = match (spec.completed_at, card, timing.yellow_on) {
            (Some(_), _, _) | (None, Some(CaseCard::Red), _) => None,
            (None, None, Some(y)) => Some(y),
            (None, _, _) => Some(timing.deadline + chrono::Duration::days(1)),
        };
        let on_time = spec.completed_at.map(|at| city_day(at) <= timing.deadline);
        CaseDecision { card, timing, events, next_card_on, on_time }
    }
}

/// A case pushed: new (`before` is `None`) or an update of the one stored under its number.
/// New: accepted, then completed if it is, and any card already due. An update: completed or
/// reopened when that changed, and cards now due; cards held are kept. `system_id` names the
/// connected system that pushed it (none for an import).
pub fn push_case(
    before: Option<&CaseFacts>,
    spec: &CaseSpec,
    system_id: Option<i64>,
    cal: &WorkCalendar,
    policy: &ServicePolicy,
    now: DateTime<Utc>,
) -> Result<CaseDecision, Vec<ValidationError>> {
    spec.check_times(now)?;
    let timing = spec.timing(cal, policy, now);
    let id = before.map(|b| b.id);
    let held = before.and_then(|b| b.card);
    let mut events = Vec::new();
    if before.is_none() {
        events.push(Event::of_new(
            Payload::CaseAccepted(CaseAccepted {
                number: spec.number.clone(),
                item_id: spec.item_id,
                promised_days: spec.promised_days,
                deadline: timing.deadline,
                applicant: spec.applicant,
                system_id,
            }),
            spec.subject(),
            spec.accepted_at,
        ));
    }
    let was_completed = before.and_then(|b| b.spec.completed_at);
    // A case reopened is open again from now: cards then due are dated now, not on days it stood
    // completed.
    let reopened = was_completed.is_some() && spec.completed_at.is_none();
    if reopened {
        let p = Payload::CaseReopened(CaseReopened { number: spec.number.clone() });
        events.push(match id {
            Some(id) => Event::new(p, id, spec.subject(), now),
            None => Event::of_new(p, spec.subject(), now),
        });
    }
    // Cards come before a completion they preceded.
    let mut card = held;
    for (c, at) in spec.cards_due(held, cal, policy, now) {
        events.push(spec.carded(id, c, if reopened { at.max(now) } else { at }, &timing));
        card = Some(c);
    }
    if let (None, Some(at)) = (was_completed, spec.completed_at) {
        events.push(spec.completed(id, at, &timing));
    }
    Ok(CaseDecision::new(spec, card, timing, events))
}

impl CaseFacts {
    /// What the card job decides for a stored case: the cards now due, if any.
    pub fn card_check(&self, cal: &WorkCalendar, policy: &ServicePolicy, now: DateTime<Utc>) -> Option<CaseDecision> {
        let timing = self.spec.timing(cal, policy, now);
        let cards = self.spec.cards_due(self.card, cal, policy, now);
        let last = cards.last()?.0;
        let events = cards.iter().map(|(c, at)| self.spec.carded(Some(self.id), *c, *at, &timing)).collect();
        Some(CaseDecision::new(&self.spec, Some(last), timing, events))
    }

    /// Its deadline and next card day as the calendar and policy now stand, with no card given
    /// (for a case the job found nothing due on: a day off was added meanwhile).
    pub fn reschedule(&self, cal: &WorkCalendar, policy: &ServicePolicy, now: DateTime<Utc>) -> CaseDecision {
        CaseDecision::new(&self.spec, self.card, self.spec.timing(cal, policy, now), Vec::new())
    }
}

/// The on-time rate of completed cases, in percent with one decimal (`None` with none completed).
pub fn on_time_rate(completed: u64, on_time: u64) -> Option<f64> {
    (completed > 0).then(|| (on_time as f64 * 1000.0 / completed as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::city_time, event::EventKind};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn case(accepted: NaiveDate, promised: u32, completed: Option<NaiveDate>) -> CaseSpec {
        CaseSpec {
            number: "SP2026-0001".into(),
            item_id: 7,
            department_id: 3,
            promised_days: promised,
            window_id: Some(11),
            person_id: Some(21),
            applicant: ApplicantType::Enterprise,
            accepted_at: city_time(accepted, 9, 30),
            stage: "审查".into(),
            stage_at: None,
            completed_at: completed.map(|d| city_time(d, 16, 0)),
        }
    }

    fn kinds(d: &CaseDecision) -> Vec<EventKind> {
        d.events.iter().map(Event::kind).collect()
    }

    #[test]
    fn items_are_checked_and_the_promise_stays_within_the_law() {
        assert!(ItemSpec::parse("330100-XK-001", "食品经营许可", 5, 20).is_ok());
        let e = ItemSpec::parse("有 空格", "", -1, 900).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "name", "promised_days", "legal_days"]);
        let e = ItemSpec::parse("X1", "许可", 21, 20).unwrap_err();
        assert_eq!(e[0].code, "exceeds_legal");
        assert_eq!(ServicePolicy::default().yellow_after(5), Some(4));
        assert_eq!(ServicePolicy::default().yellow_after(1), Some(1));
        assert_eq!(ServicePolicy::default().yellow_after(0), None);
        assert_eq!(ServicePolicy { yellow_percent: 50 }.yellow_after(3), Some(2));
        assert!(ServicePolicy { yellow_percent: 100 }.validate().is_err());
    }

    #[test]
    fn cards_across_the_spring_festival() {
        // 2026 Spring Festival: 15–23 February off, Saturday 14 and Saturday 28 worked.
        // Accepted Thursday 12 Feb, promised 5 working days: Fri 13, Sat 14, Tue 24, Wed 25,
        // Thu 26 → deadline 26 February; 80% is 4 days → yellow on Wednesday 25.
        let cal = WorkCalendar::default();
        let p = ServicePolicy::default();
        let c = case(day(2026, 2, 12), 5, None);
        let t = c.timing(&cal, &p, city_time(day(2026, 2, 20), 10, 0));
        assert_eq!(t.deadline, day(2026, 2, 26));
        assert_eq!(t.yellow_on, Some(day(2026, 2, 25)));
        assert_eq!(t.working_days_used, 2, "Friday 13 and the worked Saturday 14, then the holiday");
        // During the holiday nothing is due.
        assert!(c.cards_due(None, &cal, &p, city_time(day(2026, 2, 23), 10, 0)).is_empty());
        // On the 25th: yellow, dated that morning.
        let due = c.cards_due(None, &cal, &p, city_time(day(2026, 2, 25), 8, 0));
        assert_eq!(due, vec![(CaseCard::Yellow, city_midnight(day(2026, 2, 25)))]);
        // On the 27th (still open): red too, dated the morning after the deadline.
        let due = c.cards_due(Some(CaseCard::Yellow), &cal, &p, city_time(day(2026, 2, 27), 8, 0));
        assert_eq!(due, vec![(CaseCard::Red, city_midnight(day(2026, 2, 27)))]);
        assert!(c.cards_due(Some(CaseCard::Red), &cal, &p, city_time(day(2026, 3, 27), 8, 0)).is_empty());
        // Completed on the 24th: never carded, on time.
        let done = case(day(2026, 2, 12), 5, Some(day(2026, 2, 24)));
        assert!(done.cards_due(None, &cal, &p, city_time(day(2026, 3, 10), 8, 0)).is_empty());
    }

    #[test]
    fn cards_across_national_day() {
        // 2026 National Day: 1–7 October off, Sunday 20 September and Saturday 10 October worked.
        // Accepted Tuesday 29 September, promised 3 days: Wed 30, Thu 8, Fri 9 → deadline 9 Oct.
        let cal = WorkCalendar::default();
        let p = ServicePolicy::default();
        let c = case(day(2026, 9, 29), 3, Some(day(2026, 10, 10)));
        let t = c.timing(&cal, &p, city_time(day(2026, 10, 12), 9, 0));
        assert_eq!(t.deadline, day(2026, 10, 9));
        assert_eq!(t.yellow_on, Some(day(2026, 10, 9)), "80% of 3 days is 2.4, rounded up: the third");
        assert_eq!(t.working_days_used, 4, "completed on the worked Saturday");
        // Pushed once, completed a day late: accepted, yellow, red, completed late — in order.
        let d = push_case(None, &c, Some(1), &cal, &p, city_time(day(2026, 10, 12), 9, 0)).unwrap();
        assert_eq!(
            kinds(&d),
            [EventKind::CaseAccepted, EventKind::CaseYellowCard, EventKind::CaseRedCard, EventKind::CaseCompleted]
        );
        assert_eq!(d.card, Some(CaseCard::Red));
        match &d.events[3].payload {
            Payload::CaseCompleted(x) => assert!(!x.on_time),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_push_keeps_cards_and_records_completion_and_reopening() {
        let cal = WorkCalendar::default();
        let p = ServicePolicy::default();
        let now = city_time(day(2026, 11, 30), 18, 0);
        // Accepted Monday 16 November, 10 days promised: deadline 30 Nov, yellow on 26 Nov.
        let open = case(day(2026, 11, 16), 10, None);
        let d = push_case(None, &open, None, &cal, &p, now).unwrap();
        assert_eq!(kinds(&d), [EventKind::CaseAccepted, EventKind::CaseYellowCard]);
        assert_eq!(d.next_card_on, Some(day(2026, 12, 1)), "red is next, the morning after the deadline");
        let stored = CaseFacts { id: 5, spec: open.clone(), card: d.card };
        // The same push again: nothing new.
        assert!(push_case(Some(&stored), &open, None, &cal, &p, now).unwrap().events.is_empty());
        // Completed on the deadline: on time, the yellow card stays.
        let done = case(day(2026, 11, 16), 10, Some(day(2026, 11, 30)));
        let d = push_case(Some(&stored), &done, None, &cal, &p, now).unwrap();
        assert_eq!(kinds(&d), [EventKind::CaseCompleted]);
        assert_eq!(d.card, Some(CaseCard::Yellow));
        assert_eq!((d.on_time, d.next_card_on), (Some(true), None));
        let stored = CaseFacts { id: 5, spec: done, card: d.card };
        // Reopened: an event; the job gives it red once it runs past its deadline.
        let d = push_case(Some(&stored), &open, None, &cal, &p, now).unwrap();
        assert_eq!(kinds(&d), [EventKind::CaseReopened]);
        let reopened = CaseFacts { id: 5, spec: open, card: d.card };
        assert!(reopened.card_check(&cal, &p, now).is_none());
        let later = reopened.card_check(&cal, &p, city_time(day(2026, 12, 1), 0, 5)).unwrap();
        assert_eq!(kinds(&later), [EventKind::CaseRedCard]);
        assert_eq!(later.events[0].aggregate_id, crate::event::AggregateId::Known(5));
        // Completed on time with no card, reopened a week past its deadline: red at once, dated at
        // the reopening — not on 1 December, when it stood completed.
        let quick = case(day(2026, 11, 16), 10, Some(day(2026, 11, 17)));
        let d = push_case(None, &quick, None, &cal, &p, city_time(day(2026, 11, 17), 17, 0)).unwrap();
        assert_eq!(d.card, None);
        let stored = CaseFacts { id: 6, spec: quick, card: None };
        let week_late = city_time(day(2026, 12, 7), 10, 0);
        let d = push_case(Some(&stored), &case(day(2026, 11, 16), 10, None), None, &cal, &p, week_late).unwrap();
        assert_eq!(kinds(&d), [EventKind::CaseReopened, EventKind::CaseYellowCard, EventKind::CaseRedCard]);
        assert!(d.events.iter().all(|e| e.occurred_at == week_late), "{:?}", d.events);
    }

    #[test]
    fn keys_are_shown_once_and_found_by_prefix() {
        let k = ClientKey::from_random([1, 2, 3, 4, 5], [7; 32]);
        assert_eq!(ClientKey::prefix_of(&k.key), Some(k.prefix.as_str()));
        assert!(ClientKey::matches(&k.key, &k.hash));
        let other = ClientKey::from_random([1, 2, 3, 4, 5], [8; 32]);
        assert!(!ClientKey::matches(&other.key, &k.hash));
        assert_eq!(ClientKey::prefix_of("xn_0123456789_short"), None);
        assert_eq!(ClientKey::prefix_of("Bearer xyz"), None);
        assert_eq!(k.prefix, "0102030405");
    }

    #[test]
    fn impossible_times_are_refused() {
        let now = city_time(day(2026, 11, 30), 10, 0);
        let mut c = case(day(2026, 11, 16), 10, Some(day(2026, 11, 10)));
        let e = c.check_times(now).unwrap_err();
        assert_eq!(e[0].field, "completed_at");
        c.completed_at = None;
        c.accepted_at = now + chrono::Duration::days(1);
        assert_eq!(c.check_times(now).unwrap_err()[0].code, "in_future");
        assert!(parse_case_number(" SP 1").is_err() && parse_case_number("").is_err());
        assert_eq!(parse_case_number(" 330100-2026-000123 ").unwrap(), "330100-2026-000123");
        assert_eq!(on_time_rate(3, 2), Some(66.7));
        assert_eq!(on_time_rate(0, 0), None);
    }
}
