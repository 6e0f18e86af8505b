//! What the ledger holds about each department and person, as the assessment counts it: the
//! events read in ledger order, one at a time, so that the same code serves a full recompute
//! (from the first event) and an incremental one (from the cursor on).
//!
//! Whatever stops counting stops counting everywhere: an overturned or withdrawn finding takes its
//! bulletin exposures with it, a held, rejected or overturned rating leaves the satisfaction rate
//! and the bad ratings, an overturned ticket its overdue marks. They stay in the ledger.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{Fact, Facts, Group, Indicator, Measure, Rate};
use crate::{
    clock::city_day,
    event::{Aggregate, Event, Payload, Subject},
    inspection::Severity,
    rectification::BulletinScope,
};

/// Whom a fact is about: a department, or a person (who is also counted in their department).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Whom {
    Department(i64),
    Person(i64),
}

/// A rating as far as the counts need it: when it was given, whether it is good, whether it
/// counts now, whether it can never count again.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: DateTime<Utc>,
    seq: i64,
    good: bool,
    counted: bool,
    overturned: bool,
}

/// The period's facts gathered from the ledger, kept current one event at a time.
#[derive(Debug, Default)]
pub struct Gather {
    /// Each record's facts, so that a record that stops counting takes all of them away.
    records: HashMap<(Aggregate, i64), Vec<(Whom, Fact)>>,
    /// Confirmed findings' subjects: a bulletin names findings, not departments.
    findings: HashMap<i64, Subject>,
    ratings: HashMap<i64, Seen>,
    /// Good and all counted, per subject, measure and city month.
    counts: HashMap<(Whom, Measure, u32), (u64, u64)>,
    /// The last ledger position read: the cursor a later update reads on from.
    pub seen: i64,
}

fn whom(s: &Subject) -> impl Iterator<Item = Whom> {
    s.department_id.map(Whom::Department).into_iter().chain(s.person_id.map(Whom::Person))
}

fn month(at: DateTime<Utc>) -> u32 {
    let d = city_day(at);
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

impl Gather {
    /// Reads one ledger event, at position `seq` (after every earlier one).
    pub fn apply(&mut self, seq: i64, e: &Event) {
        self.seen = self.seen.max(seq);
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
                self.records.remove(&(Aggregate::Finding, id));
            }
            Payload::BulletinPublished(b) => {
                for f in &b.finding_ids {
                    // Exposed at a scope once: a correcting bulletin names the same findings again.
                    let (ind, key) = (exposure(b.scope), (Aggregate::Finding, *f));
                    let done = self.records.get(&key).is_some_and(|v| v.iter().any(|(_, x)| x.indicator == ind));
                    if let (Some(s), false) = (self.findings.get(f).copied(), done) {
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
            Payload::CaseCompleted(c) => self.count(&e.subject, Measure::OnTime, at, c.on_time, 1),
            Payload::TicketCalledBack(t) => {
                if let Some(satisfied) = t.satisfied {
                    self.count(&e.subject, Measure::CallbackSatisfaction, at, satisfied, 1);
                }
            }
            Payload::TicketOverdue(_) => {
                self.add((Aggregate::Ticket, id), &e.subject, Indicator::TicketOverdue, seq, at)
            }
            Payload::TicketOverturned(_) => {
                self.records.remove(&(Aggregate::Ticket, id));
            }
            Payload::InquiryLapseUpheld(_) => {
                self.add((Aggregate::Inquiry, id), &e.subject, Indicator::InquiryLapse, seq, at)
            }
            Payload::RatingGiven(r) => {
                let seen = Seen { at, seq, good: !r.level.is_bad(), counted: false, overturned: false };
                self.ratings.insert(id, seen);
                if r.held.is_none() {
                    self.set_counted(id, &e.subject, true);
                }
            }
            Payload::RatingReleased(_) => self.set_counted(id, &e.subject, true),
            Payload::RatingHeld(_) | Payload::RatingRejected(_) => self.set_counted(id, &e.subject, false),
            Payload::RatingOverturned(_) => {
                self.set_counted(id, &e.subject, false);
                if let Some(r) = self.ratings.get_mut(&id) {
                    r.overturned = true;
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, key: (Aggregate, i64), s: &Subject, indicator: Indicator, seq: i64, at: DateTime<Utc>) {
        let facts = self.records.entry(key).or_default();
        for w in whom(s) {
            facts.push((w, Fact { seq, indicator, at, honour: None }));
        }
    }

    fn count(&mut self, s: &Subject, m: Measure, at: DateTime<Utc>, good: bool, sign: i64) {
        for w in whom(s) {
            let c = self.counts.entry((w, m, month(at))).or_default();
            // A rating leaves the count it entered: never below zero, whatever order events come.
            c.0 = c.0.saturating_add_signed(if good { sign } else { 0 });
            c.1 = c.1.saturating_add_signed(sign);
        }
    }

    /// A rating starts or stops counting: in the satisfaction rate and, if bad, as a fact.
    fn set_counted(&mut self, id: i64, s: &Subject, counted: bool) {
        let Some(r) = self.ratings.get(&id).copied() else { return };
        if r.counted == counted || (counted && r.overturned) {
            return;
        }
        self.ratings.insert(id, Seen { counted, ..r });
        self.count(s, Measure::Satisfaction, r.at, r.good, if counted { 1 } else { -1 });
        if r.good {
            return;
        }
        if counted {
            self.add((Aggregate::Rating, id), s, Indicator::BadRating, r.seq, r.at);
        } else {
            self.records.remove(&(Aggregate::Rating, id));
        }
    }

    /// Everything that counts about each subject in the city days `first..=last`: its facts, and
    /// its rates summed over the months the period covers.
    pub fn period(&self, first: NaiveDate, last: NaiveDate) -> BTreeMap<Whom, (Vec<Fact>, Vec<Rate>)> {
        let mut out: BTreeMap<Whom, (Vec<Fact>, Vec<Rate>)> = BTreeMap::new();
        for (w, f) in self.records.values().flatten() {
            let day = city_day(f.at);
            if first <= day && day <= last {
                out.entry(*w).or_default().0.push(f.clone());
            }
        }
        let (from, to) = (first.year() as u32 * 12 + first.month0(), last.year() as u32 * 12 + last.month0());
        let mut sums: BTreeMap<(Whom, Measure), (u64, u64)> = BTreeMap::new();
        for ((w, m, mo), (good, all)) in &self.counts {
            if (from..=to).contains(mo) && *all > 0 {
                let s = sums.entry((*w, *m)).or_default();
                *s = (s.0 + good, s.1 + all);
            }
        }
        for ((w, measure), (good, total)) in sums {
            out.entry(w).or_default().1.push(Rate { measure, good, total });
        }
        for (facts, _) in out.values_mut() {
            facts.sort_by_key(|f| f.seq);
        }
        out
    }

    /// The subjects to score in the period: every one given — with nothing against it, it is
    /// scored all the same — with what the period holds about it.
    pub fn subjects(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        all: impl IntoIterator<Item = (Whom, Group)>,
    ) -> Vec<Facts> {
        let mut held = self.period(first, last);
        all.into_iter()
            .map(|(w, group)| {
                let (facts, rates) = held.remove(&w).unwrap_or_default();
                let id = match w {
                    Whom::Department(id) | Whom::Person(id) => id,
                };
                Facts { id, group, facts, rates }
            })
            .collect()
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
        g.period(a, b).remove(&w).map(|(f, _)| f.iter().map(|f| (f.seq, f.indicator)).collect()).unwrap_or_default()
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
        let rate = |g: &Gather| g.period(a, b).remove(&Whom::Department(d)).map(|(_, r)| r).unwrap_or_default();
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
