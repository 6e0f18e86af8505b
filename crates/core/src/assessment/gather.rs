//! What the ledger holds about each department and person, as the assessment counts it: the
//! events read in ledger order, one at a time, so that the same code serves a full recompute
//! (from the first event) and an incremental one (from the cursor on).
//!
//! Whatever stops counting stops counting everywhere: an overturned or withdrawn finding takes its
//! bulletin exposures with it, a held, rejected or overturned rating leaves the satisfaction rate
//! and the bad ratings, an overturned ticket its overdue marks. They stay in the ledger.

use rustc_hash::FxHashMap as HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{Fact, Facts, Group, Indicator, Measure, Rate};
use crate::{
    clock::city_day,
    event::{Aggregate, Event, EventKind, Payload, Subject},
    inspection::Severity,
    rectification::BulletinScope,
};

/// Whom a fact is about: a department, or a person (who is also counted in their department).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Whom {
    Department(i64),
    Person(i64),
}

impl Whom {
    pub fn id(self) -> i64 {
        let (Whom::Department(id) | Whom::Person(id)) = self;
        id
    }
}

/// A rating as far as the counts need it, kept small (a province's year holds millions): whom
/// it is about, the city minute it was given, and whether it is good, counts now, or can never
/// count again. A later review counts it or takes it away under its own subject, whatever the
/// review's event names.
#[derive(Debug, Clone, Copy)]
struct Seen {
    department: i64,
    person: i64,
    minute: u32,
    flags: u8,
}

impl Seen {
    fn subject(&self) -> Subject {
        let some = |id: i64| (id != 0).then_some(id);
        Subject { department_id: some(self.department), person_id: some(self.person), ..Subject::default() }
    }
}

const GOOD: u8 = 1;
const COUNTED: u8 = 2;
const OVERTURNED: u8 = 4;

/// Minutes since 2000-01-01 UTC: a rating's time to the minute, in four bytes.
const EPOCH_2000: i64 = 946_684_800;

fn minute_of(at: DateTime<Utc>) -> u32 {
    u32::try_from((at.timestamp() - EPOCH_2000).max(0) / 60).unwrap_or(u32::MAX)
}

fn at_minute(m: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(EPOCH_2000 + i64::from(m) * 60, 0).unwrap_or_default()
}

type Key = (Aggregate, i64);

/// Every rating seen, by id. Ratings arrive in the order of their ids almost always, so they are
/// appended to a sorted list (a push, not a hash insert: a province's year holds millions) and
/// found again by binary search — which only the few reviewed or overturned ever need; the rare
/// one that arrives out of order (two instances committing in turn) goes to a map.
#[derive(Debug, Default)]
struct Ratings {
    sorted: Vec<(i64, Seen)>,
    others: HashMap<i64, Seen>,
}

impl Ratings {
    fn insert(&mut self, id: i64, seen: Seen) {
        match self.sorted.last() {
            Some((last, _)) if *last >= id => {
                if let Some(r) = self.get_mut(id) {
                    *r = seen;
                } else {
                    self.others.insert(id, seen);
                }
            }
            _ => self.sorted.push((id, seen)),
        }
    }

    fn get_mut(&mut self, id: i64) -> Option<&mut Seen> {
        match self.sorted.binary_search_by_key(&id, |(i, _)| *i) {
            Ok(i) => self.sorted.get_mut(i).map(|(_, s)| s),
            Err(_) => self.others.get_mut(&id),
        }
    }
}

/// One subject's counts in one city month: good and all, per measure.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    month: u32,
    good: [u32; 3],
    all: [u32; 3],
}

/// The tally of `month` among a subject's: the latest month's, which nearly every event
/// touches, or one of the earlier ones, kept in order.
fn tally<'a>(latest: &'a mut Tally, earlier: &'a mut Vec<Tally>, month: u32) -> &'a mut Tally {
    if latest.month < month {
        if latest.all != [0; 3] {
            earlier.push(*latest);
        }
        *latest = Tally { month, ..Tally::default() };
    }
    if latest.month == month {
        return latest;
    }
    let i = match earlier.binary_search_by_key(&month, |t| t.month) {
        Ok(i) => i,
        Err(i) => {
            earlier.insert(i, Tally { month, ..Tally::default() });
            i
        }
    };
    &mut earlier[i]
}

fn slot(m: Measure) -> usize {
    match m {
        Measure::Satisfaction => 0,
        Measure::OnTime => 1,
        Measure::CallbackSatisfaction => 2,
    }
}

/// A fact as it is kept: 32 bytes, with the record it comes from.
#[derive(Debug, Clone, Copy)]
struct Kept {
    key: Key,
    seq: i64,
    minute: u32,
    indicator: Indicator,
}

/// What is kept about one subject besides its latest month's tally.
#[derive(Debug, Default)]
struct Held {
    earlier: Vec<Tally>,
    facts: Vec<Kept>,
}

/// Departments or people by id: lists indexed by id up to the largest the organisation had
/// when the gathering began (the ids a database gives: dense, from 1), a map for the rest. The
/// latest tallies are a list of their own: every rating reads and writes one at random, and
/// 28 bytes a subject keep a province's people in the processor's cache far better than the
/// whole of what is held.
#[derive(Debug, Default)]
struct Subjects {
    latest: Vec<Tally>,
    dense: Vec<Held>,
    sparse: HashMap<i64, (Tally, Held)>,
}

impl Subjects {
    fn with_ids(max: i64) -> Self {
        let n = usize::try_from(max.clamp(0, 1 << 24)).unwrap_or_default() + 1;
        Subjects {
            latest: vec![Tally::default(); n],
            dense: std::iter::repeat_with(Held::default).take(n).collect(),
            sparse: HashMap::default(),
        }
    }

    fn get(&self, id: i64) -> Option<(&Tally, &Held)> {
        match usize::try_from(id).ok().filter(|i| *i < self.dense.len()) {
            Some(i) => Some((&self.latest[i], &self.dense[i])),
            None => self.sparse.get(&id).map(|(t, h)| (t, h)),
        }
    }

    fn get_mut(&mut self, id: i64) -> (&mut Tally, &mut Held) {
        match usize::try_from(id).ok().filter(|i| *i < self.dense.len()) {
            Some(i) => (&mut self.latest[i], &mut self.dense[i]),
            None => {
                let (t, h) = self.sparse.entry(id).or_default();
                (t, h)
            }
        }
    }
}

/// One part of a gathering: the facts of the events that fell to it.
#[derive(Debug, Default)]
struct Part {
    departments: Subjects,
    people: Subjects,
    /// Whom the facts of each record that can stop counting (a finding, a ticket, a bad rating)
    /// are about, so that it takes them away.
    records: HashMap<Key, Subject>,
    /// Confirmed findings' subjects: a bulletin names findings, not departments.
    findings: HashMap<i64, Subject>,
    ratings: Ratings,
    /// The ledger position of each bad rating's `rating.given`: what its fact names.
    bad: HashMap<i64, i64>,
    /// The city month last counted in, and the instants it runs between (events come in time
    /// order: the next is nearly always in the same month).
    month: (i64, i64, u32),
}

/// The period's facts gathered from the ledger, kept current one event at a time. It is split
/// into parts by department, so that a full recompute folds the ledger on every core: an event
/// that adds a fact goes to its department's part, one that changes what is there already (a
/// review, an overturn, a bulletin) to every part, and each part acts on what it holds. A
/// subject's facts are summed over the parts when read (a person who moved is in two).
#[derive(Debug)]
pub struct Gather {
    parts: Vec<Part>,
    /// The last ledger position read: the cursor a later update reads on from.
    pub seen: i64,
}

impl Default for Gather {
    fn default() -> Self {
        Gather { parts: vec![Part::default()], seen: 0 }
    }
}

/// Events handed to a part's thread at a time.
const BATCH: usize = 4096;

impl Gather {
    /// A gathering in `parts` parts (one per core to fold on), sized for an organisation whose
    /// departments' and people's ids go up to these.
    pub fn with_ids(parts: usize, max_department: i64, max_person: i64) -> Self {
        let parts = (0..parts.max(1))
            .map(|_| Part {
                departments: Subjects::with_ids(max_department),
                people: Subjects::with_ids(max_person),
                ..Default::default()
            })
            .collect();
        Gather { parts, seen: 0 }
    }

    /// Reads one ledger event, at position `seq` (after every earlier one).
    pub fn apply(&mut self, seq: i64, e: &Event) {
        self.seen = self.seen.max(seq);
        match part_of(e.kind(), e.subject.department_id, self.parts.len()) {
            Some(i) => self.parts[i].apply(seq, e),
            None => self.parts.iter_mut().for_each(|p| p.apply(seq, e)),
        }
    }

    /// Reads events in ledger order, each part on a thread of its own.
    pub fn fold(&mut self, events: impl IntoIterator<Item = (i64, Event)>) {
        let route = |(_, e): &(i64, Event)| (e.kind(), e.subject.department_id);
        let Ok(()) = self.fold_records(events, route, Ok::<_, std::convert::Infallible>);
    }

    /// Reads records in ledger order — rows, lines, whatever the caller reads the ledger as —
    /// each part on a thread of its own, which decodes the records that fall to it: `route` says
    /// a record's kind and department, `decode` makes it a ledger position and an event. The
    /// first record that does not decode is the error; the reading stops soon after, and what was
    /// gathered is then incomplete: it is for the caller to drop.
    pub fn fold_records<R, E>(
        &mut self,
        records: impl IntoIterator<Item = R>,
        route: impl Fn(&R) -> (EventKind, Option<i64>),
        decode: impl Fn(R) -> Result<(i64, Event), E> + Sync,
    ) -> Result<(), E>
    where
        R: Clone + Send,
        E: Send,
    {
        let n = self.parts.len();
        let decode = &decode;
        let failed = std::thread::scope(|scope| {
            let (senders, done): (Vec<_>, Vec<_>) = self
                .parts
                .iter_mut()
                .map(|part| {
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<R>>(4);
                    let done = scope.spawn(move || {
                        let mut seen = i64::MIN;
                        for batch in rx {
                            for r in batch {
                                let (seq, e) = decode(r)?;
                                part.apply(seq, &e);
                                seen = seen.max(seq);
                            }
                        }
                        Ok(seen)
                    });
                    (tx, done)
                })
                .unzip();
            let mut batches: Vec<Vec<R>> = (0..n).map(|_| Vec::with_capacity(BATCH)).collect();
            let send = |i: usize, batches: &mut Vec<Vec<R>>| {
                // A part's thread that stopped (a record that did not decode) has its error
                // taken below; the others read on to the end of what they were given.
                let full = std::mem::replace(&mut batches[i], Vec::with_capacity(BATCH));
                senders[i].send(full).is_ok()
            };
            'read: for r in records {
                let (kind, department) = route(&r);
                match part_of(kind, department, n) {
                    Some(i) => batches[i].push(r),
                    None => (0..n).for_each(|i| batches[i].push(r.clone())),
                }
                for i in 0..n {
                    if batches[i].len() >= BATCH && !send(i, &mut batches) {
                        break 'read;
                    }
                }
            }
            for i in 0..n {
                send(i, &mut batches);
            }
            drop(senders);
            let mut failed = None;
            for d in done {
                match d.join() {
                    Ok(Ok(seen)) => self.seen = self.seen.max(seen),
                    Ok(Err(e)) => failed = failed.or(Some(e)),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            failed
        });
        failed.map_or(Ok(()), Err)
    }

    /// Everything that counts about a subject in the city days `first..=last`: its facts in
    /// ledger order, and its rates summed over the months the period covers.
    pub fn facts_of(&self, w: Whom, first: NaiveDate, last: NaiveDate) -> (Vec<Fact>, Vec<Rate>) {
        let (mut facts, mut good, mut all) = (Vec::new(), [0u64; 3], [0u64; 3]);
        for p in &self.parts {
            p.collect(w, first, last, &mut facts, &mut good, &mut all);
        }
        facts.sort_by_key(|f| f.seq);
        let rates = Measure::ALL
            .iter()
            .filter(|m| all[slot(**m)] > 0)
            .map(|&measure| Rate { measure, good: good[slot(measure)], total: all[slot(measure)] })
            .collect();
        (facts, rates)
    }

    /// The subjects to score in the period: every one given — with nothing against it, it is
    /// scored all the same — with what the period holds about it.
    pub fn subjects(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        all: impl IntoIterator<Item = (Whom, Group)>,
    ) -> Vec<Facts> {
        all.into_iter()
            .map(|(w, group)| {
                let (facts, rates) = self.facts_of(w, first, last);
                Facts { id: w.id(), group, facts, rates }
            })
            .collect()
    }
}

/// The part an event goes to among `n`, or none for every part: an event that adds a fact goes
/// to one part; one that changes what may be in any part goes to all of them.
fn part_of(kind: EventKind, department: Option<i64>, n: usize) -> Option<usize> {
    use EventKind as K;
    let adds = matches!(
        kind,
        K::FindingConfirmed
            | K::OrderOverdue
            | K::ReportReturned
            | K::FollowUpDone
            | K::SelfCheckSubmitted
            | K::CaseYellowCard
            | K::CaseRedCard
            | K::CaseCompleted
            | K::TicketCalledBack
            | K::TicketOverdue
            | K::InquiryLapseUpheld
            | K::RatingGiven
    );
    // An event that adds goes to one part only — its department's, or the first if it names
    // none: given to every part, its fact would be counted once in each.
    if !adds {
        return None;
    }
    usize::try_from(department.unwrap_or_default().rem_euclid(n.max(1) as i64)).ok()
}

fn whom(s: &Subject) -> impl Iterator<Item = Whom> {
    s.department_id.map(Whom::Department).into_iter().chain(s.person_id.map(Whom::Person))
}

fn month_of(d: NaiveDate) -> u32 {
    d.year() as u32 * 12 + d.month0()
}

fn severity(s: Severity) -> Indicator {
    match s {
        Severity::Minor => Indicator::FindingMinor,
        Severity::General => Indicator::FindingGeneral,
        Severity::Serious => Indicator::FindingSerious,
    }
}

fn exposure(s: BulletinScope) -> Indicator {
    match s {
        BulletinScope::Internal => Indicator::BulletinInternal,
        BulletinScope::Public => Indicator::BulletinPublic,
        BulletinScope::Media => Indicator::BulletinMedia,
    }
}

impl Part {
    fn held_mut(&mut self, w: Whom) -> (&mut Tally, &mut Held) {
        match w {
            Whom::Department(id) => self.departments.get_mut(id),
            Whom::Person(id) => self.people.get_mut(id),
        }
    }

    fn held(&self, w: Whom) -> Option<(&Tally, &Held)> {
        match w {
            Whom::Department(id) => self.departments.get(id),
            Whom::Person(id) => self.people.get(id),
        }
    }

    fn apply(&mut self, seq: i64, e: &Event) {
        let id = match e.aggregate_id {
            crate::event::AggregateId::Known(id) => id,
            crate::event::AggregateId::Pending => return,
        };
        let at = e.occurred_at;
        match &e.payload {
            Payload::FindingConfirmed(f) => {
                self.findings.insert(id, e.subject);
                self.add((Aggregate::Finding, id), &e.subject, severity(f.severity), seq, at);
            }
            Payload::FindingWithdrawn(_) | Payload::FindingOverturned(_) => {
                self.findings.remove(&id);
                self.drop_record((Aggregate::Finding, id));
            }
            Payload::BulletinPublished(b) => {
                for f in &b.finding_ids {
                    let Some(s) = self.findings.get(f).copied() else { continue };
                    // Exposed at a scope once: a correcting bulletin names the same findings again.
                    let (ind, key) = (exposure(b.scope), (Aggregate::Finding, *f));
                    let done = whom(&s)
                        .next()
                        .and_then(|w| self.held(w))
                        .is_some_and(|(_, h)| h.facts.iter().any(|k| k.key == key && k.indicator == ind));
                    if !done {
                        self.add(key, &s, ind, seq, at);
                    }
                }
            }
            Payload::OrderOverdue(_) => self.add((Aggregate::Order, id), &e.subject, Indicator::OrderOverdue, seq, at),
            Payload::ReportReturned(_) => {
                self.add((Aggregate::Order, id), &e.subject, Indicator::ReportReturned, seq, at)
            }
            Payload::FollowUpDone(f) if f.late => {
                self.add((Aggregate::Instruction, id), &e.subject, Indicator::FollowUpLate, seq, at)
            }
            Payload::SelfCheckSubmitted(s) if s.late => {
                self.add((Aggregate::Participation, id), &e.subject, Indicator::SelfCheckLate, seq, at)
            }
            Payload::CaseYellowCard(_) => self.add((Aggregate::Case, id), &e.subject, Indicator::YellowCard, seq, at),
            Payload::CaseRedCard(_) => self.add((Aggregate::Case, id), &e.subject, Indicator::RedCard, seq, at),
            Payload::CaseCompleted(c) => self.count(&e.subject, Measure::OnTime, at.timestamp(), c.on_time, 1),
            Payload::TicketCalledBack(t) => {
                if let Some(satisfied) = t.satisfied {
                    self.count(&e.subject, Measure::CallbackSatisfaction, at.timestamp(), satisfied, 1);
                }
            }
            Payload::TicketOverdue(_) => {
                self.add((Aggregate::Ticket, id), &e.subject, Indicator::TicketOverdue, seq, at)
            }
            Payload::TicketOverturned(_) => self.drop_record((Aggregate::Ticket, id)),
            Payload::InquiryLapseUpheld(_) => {
                self.add((Aggregate::Inquiry, id), &e.subject, Indicator::InquiryLapse, seq, at)
            }
            Payload::RatingGiven(r) => {
                let good = !r.level.is_bad();
                let mut seen = Seen {
                    department: e.subject.department_id.unwrap_or_default(),
                    person: e.subject.person_id.unwrap_or_default(),
                    minute: minute_of(at),
                    flags: if good { GOOD } else { 0 },
                };
                if !good {
                    self.bad.insert(id, seq);
                }
                if r.held.is_none() {
                    self.counted(id, &mut seen, true);
                }
                self.ratings.insert(id, seen);
            }
            Payload::RatingReleased(_) => self.set_counted(id, true),
            Payload::RatingHeld(_) | Payload::RatingRejected(_) => self.set_counted(id, false),
            Payload::RatingOverturned(_) => {
                self.set_counted(id, false);
                if let Some(r) = self.ratings.get_mut(id) {
                    r.flags |= OVERTURNED;
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, key: Key, s: &Subject, indicator: Indicator, seq: i64, at: DateTime<Utc>) {
        if matches!(key.0, Aggregate::Finding | Aggregate::Ticket | Aggregate::Rating) {
            self.records.insert(key, *s);
        }
        let kept = Kept { key, seq, minute: minute_of(at), indicator };
        for w in whom(s) {
            self.held_mut(w).1.facts.push(kept);
        }
    }

    fn drop_record(&mut self, key: Key) {
        let Some(s) = self.records.remove(&key) else { return };
        for w in whom(&s) {
            self.held_mut(w).1.facts.retain(|k| k.key != key);
        }
    }

    /// Counts in the city month of the instant `ts` (Unix seconds), as `clock::city_time` reckons it (UTC+8, kept since
    /// 1991) without the time-zone table: this runs for every rating of a province's year.
    fn count(&mut self, s: &Subject, m: Measure, ts: i64, good: bool, sign: i64) {
        if !(self.month.0..self.month.1).contains(&ts) {
            let d = DateTime::from_timestamp(ts + 8 * 3600, 0).unwrap_or_default().date_naive();
            let first = d.with_day(1).unwrap_or(d);
            let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
            let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp() - 8 * 3600;
            self.month = (start(first), start(next), month_of(d));
        }
        let (mo, k) = (self.month.2, slot(m));
        for w in whom(s) {
            let (latest, held) = self.held_mut(w);
            let t = tally(latest, &mut held.earlier, mo);
            // A rating leaves the count it entered: never below zero, whatever order events come.
            let step = |n: u32| if sign > 0 { n.saturating_add(1) } else { n.saturating_sub(1) };
            if good {
                t.good[k] = step(t.good[k]);
            }
            t.all[k] = step(t.all[k]);
        }
    }

    /// A rating starts or stops counting: in the satisfaction rate and, if bad, as a fact.
    fn set_counted(&mut self, id: i64, counted: bool) {
        let Some(mut r) = self.ratings.get_mut(id).map(|r| *r) else { return };
        self.counted(id, &mut r, counted);
        if let Some(stored) = self.ratings.get_mut(id) {
            *stored = r;
        }
    }

    fn counted(&mut self, id: i64, r: &mut Seen, counted: bool) {
        if (r.flags & COUNTED != 0) == counted || (counted && r.flags & OVERTURNED != 0) {
            return;
        }
        r.flags ^= COUNTED;
        let (good, s) = (r.flags & GOOD != 0, &r.subject());
        self.count(s, Measure::Satisfaction, EPOCH_2000 + i64::from(r.minute) * 60, good, if counted { 1 } else { -1 });
        match (good, counted, self.bad.get(&id).copied()) {
            (false, true, Some(seq)) => {
                self.add((Aggregate::Rating, id), s, Indicator::BadRating, seq, at_minute(r.minute))
            }
            (false, false, _) => self.drop_record((Aggregate::Rating, id)),
            _ => {}
        }
    }

    /// Adds what this part holds about a subject in the city days `first..=last`: its facts, and
    /// its good and all counts per measure over the months the period covers.
    fn collect(
        &self,
        w: Whom,
        first: NaiveDate,
        last: NaiveDate,
        facts: &mut Vec<Fact>,
        good: &mut [u64; 3],
        all: &mut [u64; 3],
    ) {
        let held = self.held(w);
        let days = first..=last;
        facts.extend(
            held.into_iter()
                .flat_map(|(_, h)| &h.facts)
                .map(|k| Fact { seq: k.seq, indicator: k.indicator, at: at_minute(k.minute), honour: None })
                .filter(|f| days.contains(&city_day(f.at))),
        );
        let months = month_of(first)..=month_of(last);
        let tallies = held.into_iter().flat_map(|(latest, h)| h.earlier.iter().chain(std::iter::once(latest)));
        for t in tallies.filter(|t| months.contains(&t.month)) {
            for k in 0..3 {
                good[k] += u64::from(t.good[k]);
                all[k] += u64::from(t.all[k]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        event::{FindingStep, OrderOverdue},
        inspection::FindingState,
        rating::{HoldReason, RatingChannel, RatingGiven, RatingLevel, RatingReviewed},
        ticket::RatingOverturned,
    };

    fn at(m: u32, d: u32) -> DateTime<Utc> {
        crate::clock::city_midnight(NaiveDate::from_ymd_opt(2026, m, d).unwrap()) + chrono::Duration::hours(10)
    }

    fn ev(p: Payload, id: i64, dept: i64, person: Option<i64>, when: DateTime<Utc>) -> Event {
        Event::new(p, id, Subject { department_id: Some(dept), person_id: person, ..Default::default() }, when)
    }

    fn step(to: FindingState, severity: Severity) -> FindingStep {
        FindingStep {
            from: None,
            to,
            category_id: 1,
            severity,
            reason: String::new(),
            plan_id: None,
            visit_id: None,
            bulletin_id: None,
        }
    }

    fn given(level: RatingLevel, held: Option<HoldReason>) -> Payload {
        Payload::RatingGiven(RatingGiven {
            level,
            channel: RatingChannel::Qr,
            reasons: vec![],
            reasons_version: 1,
            case_id: None,
            item_id: None,
            held,
        })
    }

    fn reviewed() -> RatingReviewed {
        RatingReviewed { hold: Some(HoldReason::NoCase), reason: "核实".into() }
    }

    fn march() -> (NaiveDate, NaiveDate) {
        (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())
    }

    fn indicators(g: &Gather, w: Whom) -> Vec<(i64, Indicator)> {
        let (a, b) = march();
        g.facts_of(w, a, b).0.iter().map(|f| (f.seq, f.indicator)).collect()
    }

    #[test]
    fn an_overturned_finding_takes_its_exposure_with_it_and_a_person_counts_in_their_department() {
        let mut g = Gather::default();
        g.apply(
            1,
            &ev(Payload::FindingConfirmed(step(FindingState::Confirmed, Severity::General)), 10, 5, Some(50), at(3, 2)),
        );
        g.apply(
            2,
            &ev(Payload::FindingConfirmed(step(FindingState::Confirmed, Severity::Minor)), 11, 5, None, at(3, 3)),
        );
        let published = |ids: Vec<i64>| {
            Payload::BulletinPublished(crate::event::BulletinPublished {
                year: 2026,
                number: 3,
                number_text: "效能通报〔2026〕3号".into(),
                scope: BulletinScope::Public,
                finding_ids: ids,
                corrects_id: None,
            })
        };
        g.apply(3, &Event::new(published(vec![10, 11]), 7, Subject::default(), at(3, 10)));
        // A correcting bulletin names finding 10 again: exposed publicly once.
        g.apply(4, &Event::new(published(vec![10]), 8, Subject::default(), at(3, 12)));
        g.apply(
            5,
            &ev(
                Payload::OrderOverdue(OrderOverdue { deadline: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap() }),
                30,
                5,
                None,
                at(3, 21),
            ),
        );
        // An April event is outside March.
        g.apply(
            6,
            &ev(Payload::FindingConfirmed(step(FindingState::Confirmed, Severity::Serious)), 12, 5, None, at(4, 1)),
        );
        assert_eq!(
            indicators(&g, Whom::Department(5)),
            vec![
                (1, Indicator::FindingGeneral),
                (2, Indicator::FindingMinor),
                (3, Indicator::BulletinPublic),
                (3, Indicator::BulletinPublic),
                (5, Indicator::OrderOverdue),
            ]
        );
        assert_eq!(
            indicators(&g, Whom::Person(50)),
            vec![(1, Indicator::FindingGeneral), (3, Indicator::BulletinPublic)]
        );
        // Finding 10 overturned on appeal in April: it and its exposure count nowhere in March.
        g.apply(
            7,
            &ev(
                Payload::FindingOverturned(step(FindingState::Overturned, Severity::General)),
                10,
                5,
                Some(50),
                at(4, 12),
            ),
        );
        assert_eq!(
            indicators(&g, Whom::Department(5)),
            vec![(2, Indicator::FindingMinor), (3, Indicator::BulletinPublic), (5, Indicator::OrderOverdue)]
        );
        assert_eq!(indicators(&g, Whom::Person(50)), vec![]);
        assert_eq!(g.seen, 7);
        // Person 50 and department 6 have nothing against them in March: scored all the same.
        let (a, b) = march();
        let tier = Group::Tier(crate::org::PostType::WindowStaff);
        let windows = Group::Class(crate::org::DepartmentCategory::WindowService);
        let subjects = g.subjects(
            a,
            b,
            [(Whom::Department(5), windows), (Whom::Department(6), windows), (Whom::Person(50), tier)],
        );
        let view: Vec<(i64, Group, usize)> = subjects.iter().map(|s| (s.id, s.group, s.facts.len())).collect();
        assert_eq!(view, vec![(5, windows, 3), (6, windows, 0), (50, tier, 0)]);
    }

    #[test]
    fn a_fold_in_parts_on_threads_gathers_what_one_part_does() {
        // Departments 1–7 on three parts: findings, a bulletin naming findings of several
        // departments, overturns, ratings held, released, rejected and overturned, cards.
        let mut events = Vec::new();
        for k in 0..600i64 {
            let (d, p) = (1 + k % 7, Some(10 + k % 13));
            let day = 1 + (k % 28) as u32;
            let e = match k % 10 {
                0 => {
                    ev(Payload::FindingConfirmed(step(FindingState::Confirmed, Severity::General)), k, d, p, at(3, day))
                }
                // Some findings and bad ratings overturned, not all.
                1 if k % 20 == 1 && k > 20 => ev(
                    Payload::FindingOverturned(step(FindingState::Overturned, Severity::General)),
                    k - 21,
                    0,
                    None,
                    at(3, day),
                ),
                2 => Event::new(
                    Payload::BulletinPublished(crate::event::BulletinPublished {
                        year: 2026,
                        number: 1,
                        number_text: String::new(),
                        scope: BulletinScope::Public,
                        finding_ids: vec![k - 2, k - 12, k - 22],
                        corrects_id: None,
                    }),
                    k,
                    Subject::default(),
                    at(3, day),
                ),
                3 => ev(given(RatingLevel::Dissatisfied, None), k, d, p, at(3, day)),
                4 => ev(given(RatingLevel::Satisfied, Some(HoldReason::NoCase)), k, d, p, at(3, day)),
                5 if k > 10 => ev(Payload::RatingReleased(reviewed()), k - 1, d, p, at(3, day)),
                6 if k % 20 == 6 => ev(
                    Payload::RatingOverturned(RatingOverturned { ticket_id: 1, reason: "x".into() }),
                    k - 3,
                    0,
                    None,
                    at(3, day),
                ),
                7 => ev(Payload::RatingRejected(reviewed()), k - 3, d, p, at(3, day)),
                // An overdue ticket naming a person and no department: counted once, not per part.
                9 if k % 50 == 9 => Event::new(
                    Payload::TicketOverdue(crate::ticket::TicketDeadline {
                        state: crate::ticket::TicketState::Verifying,
                        due: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                    }),
                    k,
                    Subject { person_id: p, ..Subject::default() },
                    at(3, day),
                ),
                _ => ev(given(RatingLevel::VerySatisfied, None), k, d, p, at(3, day)),
            };
            events.push((k + 1, e));
        }
        let mut one = Gather::default();
        events.iter().for_each(|(seq, e)| one.apply(*seq, e));
        let mut dense = Gather::with_ids(1, 5, 20);
        dense.fold(events.clone());
        let mut three = Gather::with_ids(3, 5, 20);
        three.fold(events);
        assert_eq!((one.seen, three.seen), (600, 600));
        let (a, b) = march();
        let whoms = (1..=7).map(Whom::Department).chain((10..23).map(Whom::Person));
        for w in whoms {
            let (f1, r1) = one.facts_of(w, a, b);
            let (f3, r3) = three.facts_of(w, a, b);
            assert_eq!(dense.facts_of(w, a, b), (f1.clone(), r1.clone()), "dense {w:?}");
            assert!(!f1.is_empty() && !r1.is_empty(), "{w:?} has facts and rates to compare: {f1:?} {r1:?}");
            assert_eq!((f1, r1), (f3, r3), "{w:?}");
        }
    }

    #[test]
    fn a_record_that_does_not_decode_is_the_error() {
        let mut g = Gather::with_ids(2, 10, 10);
        let rating = |seq: i64| (seq, ev(given(RatingLevel::Satisfied, None), seq, 1 + seq % 2, None, at(3, 2)));
        let got = g.fold_records(
            1..=10_000i64,
            |seq| (EventKind::RatingGiven, Some(1 + seq % 2)),
            |seq| if seq == 5_000 { Err(format!("record {seq} is torn")) } else { Ok(rating(seq)) },
        );
        assert_eq!(got, Err("record 5000 is torn".to_owned()));
        let mut g = Gather::with_ids(2, 10, 10);
        let got = g.fold_records(
            1..=10_000i64,
            |seq| (EventKind::RatingGiven, Some(1 + seq % 2)),
            |seq| Ok::<_, String>(rating(seq)),
        );
        assert_eq!(got, Ok(()));
        assert_eq!(g.seen, 10_000);
        let (a, b) = march();
        let counted: u64 = (1..=2).map(|d| g.facts_of(Whom::Department(d), a, b).1[0].total).sum();
        assert_eq!(counted, 10_000);
    }

    #[test]
    fn monthly_tallies_take_months_in_any_order() {
        let (mut latest, mut earlier) = (Tally::default(), Vec::new());
        for (month, n) in [(5, 1), (7, 2), (3, 4), (7, 8), (6, 16), (3, 32)] {
            tally(&mut latest, &mut earlier, month).all[0] += n;
        }
        let got: Vec<(u32, u32)> = earlier.iter().chain([&latest]).map(|t| (t.month, t.all[0])).collect();
        assert_eq!(got, vec![(3, 36), (5, 1), (6, 16), (7, 10)]);
    }

    #[test]
    fn held_rejected_and_overturned_ratings_count_nowhere() {
        let mut g = Gather::default();
        let d = 9;
        // Counted at once: 2 good, 1 bad.
        g.apply(1, &ev(given(RatingLevel::VerySatisfied, None), 100, d, None, at(3, 1)));
        g.apply(2, &ev(given(RatingLevel::Satisfied, None), 101, d, None, at(3, 2)));
        g.apply(3, &ev(given(RatingLevel::Dissatisfied, None), 102, d, None, at(3, 3)));
        // Held: one good released (counts), one bad released then overturned, one good rejected,
        // one bad held and never reviewed.
        g.apply(4, &ev(given(RatingLevel::Satisfied, Some(HoldReason::NoCase)), 103, d, None, at(3, 4)));
        g.apply(5, &ev(given(RatingLevel::VeryDissatisfied, Some(HoldReason::NoCase)), 104, d, None, at(3, 5)));
        g.apply(6, &ev(given(RatingLevel::Satisfied, Some(HoldReason::NoCase)), 105, d, None, at(3, 6)));
        g.apply(7, &ev(given(RatingLevel::Dissatisfied, Some(HoldReason::NoCase)), 106, d, None, at(3, 7)));
        g.apply(8, &ev(Payload::RatingReleased(reviewed()), 103, d, None, at(4, 2)));
        g.apply(9, &ev(Payload::RatingReleased(reviewed()), 104, d, None, at(4, 2)));
        g.apply(10, &ev(Payload::RatingRejected(reviewed()), 105, d, None, at(4, 2)));
        let (a, b) = march();
        let rate = |g: &Gather| g.facts_of(Whom::Department(d), a, b).1;
        // Counted in March, when given: 100, 101, 102, 103, 104 — 3 good of 5; bad: 102 and 104.
        assert_eq!(rate(&g), vec![Rate { measure: Measure::Satisfaction, good: 3, total: 5 }]);
        assert_eq!(indicators(&g, Whom::Department(d)), vec![(3, Indicator::BadRating), (5, Indicator::BadRating)]);
        // 104 overturned on appeal: out of the rate and the bad ratings; a later release cannot
        // bring it back.
        let o = RatingOverturned { ticket_id: 1, reason: "恶意差评".into() };
        g.apply(11, &ev(Payload::RatingOverturned(o), 104, d, None, at(4, 20)));
        g.apply(12, &ev(Payload::RatingReleased(reviewed()), 104, d, None, at(4, 21)));
        assert_eq!(rate(&g), vec![Rate { measure: Measure::Satisfaction, good: 3, total: 4 }]);
        assert_eq!(indicators(&g, Whom::Department(d)), vec![(3, Indicator::BadRating)]);
        // A counted rating held after the fact (its window an outlier) stops counting.
        g.apply(
            13,
            &ev(
                Payload::RatingHeld(crate::rating::RatingHeld { reason: HoldReason::WindowOutlier, outlier: None }),
                100,
                d,
                None,
                at(4, 22),
            ),
        );
        assert_eq!(rate(&g), vec![Rate { measure: Measure::Satisfaction, good: 2, total: 3 }]);
    }
}
