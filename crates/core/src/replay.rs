//! Rebuilding a record's current state from its events alone. The ledger is the regime's memory:
//! an operator's check (`xiaoneng events check`) and the tests replay every record and compare
//! the result with what is stored, so a change that forgot its event shows.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    campaign::{CampaignState, ParticipationState},
    event::Payload,
    inspection::{FindingState, PlanState, VisitState},
    rectification::{BulletinState, FollowUpState, OrderState},
};

/// An event as the ledger holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub payload: Payload,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingReplay {
    pub state: Option<FindingState>,
    pub notified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderReplay {
    pub state: Option<OrderState>,
    pub deadline: Option<NaiveDate>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulletinReplay {
    /// `None` while no event names it: a draft.
    pub state: Option<BulletinState>,
    pub year: Option<i32>,
    pub number: Option<i32>,
    pub published_at: Option<DateTime<Utc>>,
}

pub fn finding(events: &[Recorded]) -> FindingReplay {
    let mut r = FindingReplay::default();
    for e in events {
        if let Payload::FindingRecorded(s)
        | Payload::FindingConfirmed(s)
        | Payload::FindingWithdrawn(s)
        | Payload::FindingNotified(s)
        | Payload::FindingAppealed(s)
        | Payload::FindingUpheld(s)
        | Payload::FindingOverturned(s) = &e.payload
        {
            r.state = Some(s.to);
            if s.to == FindingState::Notified {
                r.notified_at = Some(e.occurred_at);
            }
        }
    }
    r
}

pub fn order(events: &[Recorded]) -> OrderReplay {
    let mut r = OrderReplay::default();
    for e in events {
        match &e.payload {
            Payload::OrderIssued(i) => {
                r.state = Some(OrderState::Open);
                r.deadline = Some(i.deadline);
            }
            Payload::ReportSubmitted(_) => {
                r.state = Some(OrderState::Submitted);
                r.first_submitted_at.get_or_insert(e.occurred_at);
            }
            Payload::ReportReturned(_) => r.state = Some(OrderState::Returned),
            Payload::ReportAccepted(_) => {
                r.state = Some(OrderState::Accepted);
                r.accepted_at = Some(e.occurred_at);
            }
            Payload::OrderDeadlineChanged(c) => {
                r.deadline = Some(c.to);
                // Overdue is against the deadline in force; the old one's event stays.
                r.overdue_at = None;
            }
            Payload::OrderOverdue(_) => r.overdue_at = Some(e.recorded_at),
            _ => {}
        }
    }
    r
}

pub fn bulletin(events: &[Recorded]) -> BulletinReplay {
    let mut r = BulletinReplay::default();
    for e in events {
        match &e.payload {
            Payload::BulletinPublished(p) => {
                r.state = Some(BulletinState::Published);
                r.year = Some(p.year);
                r.number = Some(p.number);
                r.published_at = Some(e.occurred_at);
            }
            Payload::BulletinWithdrawn(_) => r.state = Some(BulletinState::Withdrawn),
            _ => {}
        }
    }
    r
}

/// A plan's state; `None` while no event names it (created planned).
pub fn plan(events: &[Recorded]) -> Option<PlanState> {
    events.iter().rev().find_map(|e| match &e.payload {
        Payload::PlanActivated(s) | Payload::PlanClosed(s) => Some(s.to),
        _ => None,
    })
}

/// A visit's state; `None` while still as scheduled.
pub fn visit(events: &[Recorded]) -> Option<VisitState> {
    events.iter().rev().find_map(|e| match &e.payload {
        Payload::VisitDone(s) | Payload::VisitCancelled(s) | Payload::VisitReopened(s) => Some(s.to),
        _ => None,
    })
}

/// A campaign's state; `None` for a draft.
pub fn campaign(events: &[Recorded]) -> Option<CampaignState> {
    events.iter().rev().find_map(|e| match &e.payload {
        Payload::CampaignOpened(_) => Some(CampaignState::Open),
        Payload::CampaignClosed(_) => Some(CampaignState::Closed),
        _ => None,
    })
}

/// A self-check's state; `None` while pending.
pub fn participation(events: &[Recorded]) -> Option<ParticipationState> {
    events.iter().any(|e| matches!(e.payload, Payload::SelfCheckSubmitted(_))).then_some(ParticipationState::Submitted)
}

/// A service case as its events tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseReplay {
    pub accepted: bool,
    pub completed: bool,
    pub card: Option<crate::service::CaseCard>,
}

pub fn case(events: &[Recorded]) -> CaseReplay {
    let mut r = CaseReplay::default();
    for e in events {
        match &e.payload {
            Payload::CaseAccepted(_) => r.accepted = true,
            Payload::CaseCompleted(_) => r.completed = true,
            Payload::CaseReopened(_) => r.completed = false,
            Payload::CaseYellowCard(c) | Payload::CaseRedCard(c) => r.card = Some(c.card),
            _ => {}
        }
    }
    r
}

/// An instruction's follow-up; `None` when it asked for none.
pub fn follow_up(events: &[Recorded]) -> Option<FollowUpState> {
    events.iter().rev().find_map(|e| match &e.payload {
        Payload::FollowUpRequired(_) => Some(FollowUpState::Open),
        Payload::FollowUpDone(_) => Some(FollowUpState::Done),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        calendar::WorkCalendar,
        event::{Event, OrderIssued, Subject},
        rectification::{OrderAction, OrderActor, OrderFacts, RectificationPolicy, ReportFacts, ReportState},
    };

    fn recorded(e: &Event) -> Recorded {
        Recorded { payload: e.payload.clone(), occurred_at: e.occurred_at, recorded_at: e.occurred_at }
    }

    /// The events an order's machine returns, replayed, give the state the machine reached.
    #[test]
    fn an_orders_decisions_replay_to_its_state() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t = |s: &str, h| crate::clock::city_time(d(s), h, 0);
        let cal = WorkCalendar::default();
        let policy = RectificationPolicy::default();
        let issued = Event::new(
            Payload::OrderIssued(OrderIssued { bulletin_id: Some(1), deadline: d("2026-11-20"), finding_ids: vec![5] }),
            40,
            Subject::department(4),
            t("2026-11-02", 10),
        );
        let mut log = vec![recorded(&issued)];
        let mut o = OrderFacts {
            id: 40,
            department_id: 4,
            state: OrderState::Open,
            deadline: d("2026-11-20"),
            latest: None,
            overdue_marked: false,
        };
        let overdue = o.overdue(t("2026-11-23", 9)).unwrap();
        log.push(Recorded { recorded_at: t("2026-11-23", 9), ..recorded(&overdue) });
        o.overdue_marked = true;
        o.latest = Some(ReportFacts { id: 9, version: 1, state: ReportState::Draft, has_content: true });
        let head = OrderActor { drafter: true, signer: true, office: false };
        let office = OrderActor { office: true, ..Default::default() };
        let sub = o.submit(head, t("2026-11-24", 9)).unwrap();
        log.extend(sub.events.iter().map(recorded));
        o.state = sub.next.order;
        o.latest = Some(ReportFacts { state: sub.next.report, ..o.latest.unwrap() });
        let back = o.review(OrderAction::Return, office, "补充", None, t("2026-11-25", 9), &cal, &policy).unwrap();
        log.extend(back.events.iter().map(recorded));
        let r = order(&log);
        assert_eq!(r.state, Some(OrderState::Returned));
        assert_eq!(r.deadline, back.next.deadline);
        assert_eq!(r.first_submitted_at, Some(t("2026-11-24", 9)));
        assert_eq!(r.overdue_at, None, "the new deadline has not passed");
    }
}
