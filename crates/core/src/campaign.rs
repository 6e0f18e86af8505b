//! Self-check campaigns ("look back", 回头看; "five checks, five looks", 五查五看): the office's
//! campaign with its checklist, and each participant's self-check, as state machines.
//!
//! campaign:      draft ─open→ open ─close→ closed
//! participation: pending ─submit→ submitted (answers saved while pending; kept as submitted)

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    clock::city_day,
    event::{CampaignClosed, CampaignOpened, Event, Payload, SelfCheckSubmitted, Subject, SubmittedAnswer},
    labels,
    workflow::{Decision, Refusal},
};

labelled_enum! {
    CampaignState {
        Draft = "draft", "草稿", "draft";
        Open = "open", "进行中", "open";
        Closed = "closed", "已结束", "closed";
    }
}

labelled_enum! {
    CampaignAction {
        Edit = "edit", "修改", "edit";
        Open = "open", "开始", "open";
        Close = "close", "结束", "close";
        Export = "export", "导出", "export";
    }
}

labelled_enum! {
    /// Who takes part: a department, its leadership team, or one person.
    ParticipantKind {
        Department = "department", "部门", "department";
        Leadership = "leadership", "领导班子", "leadership team";
        Person = "person", "个人", "person";
    }
}

labelled_enum! {
    ParticipationState {
        Pending = "pending", "待提交", "pending";
        Submitted = "submitted", "已提交", "submitted";
    }
}

labelled_enum! {
    ParticipationAction {
        Answer = "answer", "填报", "answer";
        Submit = "submit", "提交", "submit";
    }
}

const CAMPAIGN: (&str, &str) = ("自查活动", "campaign");
const SELF_CHECK: (&str, &str) = ("自查", "self-check");

/// A campaign as opening and closing it see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignFacts {
    pub id: i64,
    pub state: CampaignState,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub participants: u32,
    pub submitted: u32,
}

impl CampaignState {
    /// The office edits a draft (its checklist and participants are fixed once it opens), opens
    /// it, closes it; its answers export once it has opened.
    pub fn permits(self, action: CampaignAction, office: bool) -> Result<(), Refusal> {
        use CampaignAction as A;
        use CampaignState as S;
        let ok = matches!(
            (self, action),
            (S::Draft, A::Edit | A::Open) | (S::Open, A::Close) | (S::Open | S::Closed, A::Export)
        );
        if !ok {
            return Err(Refusal::by_state(labels!(self), labels!(action), CAMPAIGN));
        }
        if !office {
            return Err(Refusal::by_actor(self.code(), labels!(action), CAMPAIGN));
        }
        Ok(())
    }

    pub fn allowed_actions(self, office: bool) -> Vec<CampaignAction> {
        CampaignAction::ALL.iter().copied().filter(|a| self.permits(*a, office).is_ok()).collect()
    }
}

impl CampaignFacts {
    pub fn decide(
        &self,
        action: CampaignAction,
        office: bool,
        now: DateTime<Utc>,
    ) -> Result<Decision<CampaignState>, Refusal> {
        self.state.permits(action, office)?;
        let (next, payload) = match action {
            CampaignAction::Open => {
                if self.participants == 0 {
                    return Err(Refusal::invalid(
                        "participants",
                        "required",
                        "请选择参加对象",
                        "Choose who takes part",
                    ));
                }
                let opened = CampaignOpened {
                    title: self.title.clone(),
                    period_start: self.period_start,
                    period_end: self.period_end,
                    participants: self.participants,
                };
                (CampaignState::Open, Some(Payload::CampaignOpened(opened)))
            }
            CampaignAction::Close => {
                let closed = CampaignClosed { participants: self.participants, submitted: self.submitted };
                (CampaignState::Closed, Some(Payload::CampaignClosed(closed)))
            }
            CampaignAction::Edit | CampaignAction::Export => (self.state, None),
        };
        let events = payload.map(|p| Event::new(p, self.id, Subject::default(), now)).into_iter().collect();
        Ok(Decision::new(next, events))
    }
}

/// Who acts on a self-check: those who answer for it (a department's liaison or head, or the
/// person), and those who sign it (the head, or the person).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParticipationActor {
    pub answerer: bool,
    pub signer: bool,
}

/// A participation as its rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParticipationFacts {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_state: CampaignState,
    pub period_end: NaiveDate,
    pub state: ParticipationState,
    pub kind: ParticipantKind,
    pub department_id: i64,
    pub person_id: Option<i64>,
}

/// A checklist item and what was answered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAnswer {
    pub item_id: i64,
    pub title: String,
    /// `None`: not answered.
    pub answer: Option<(String, String, Option<NaiveDate>)>,
}

/// A "none found" answer is not a problem.
pub fn is_problem(found: &str) -> bool {
    let f = found.trim();
    !f.is_empty() && !matches!(f, "无" | "无问题" | "未发现问题" | "none" | "None")
}

impl ParticipationFacts {
    pub fn permits(&self, action: ParticipationAction, who: ParticipationActor) -> Result<(), Refusal> {
        if self.campaign_state != CampaignState::Open {
            return Err(Refusal::transition(
                self.state.code(),
                action.code(),
                "campaign_not_open",
                "活动未在进行中",
                "The campaign is not open",
            ));
        }
        if self.state != ParticipationState::Pending {
            return Err(Refusal::by_state(labels!(self.state), labels!(action), SELF_CHECK));
        }
        let ok = match action {
            ParticipationAction::Answer => who.answerer,
            ParticipationAction::Submit => who.signer,
        };
        if !ok {
            return Err(Refusal::by_actor(self.state.code(), labels!(action), SELF_CHECK));
        }
        Ok(())
    }

    pub fn allowed_actions(&self, who: ParticipationActor) -> Vec<ParticipationAction> {
        ParticipationAction::ALL.iter().copied().filter(|a| self.permits(*a, who).is_ok()).collect()
    }

    /// Submits once every item is answered; the answers as submitted travel with the event.
    pub fn submit(
        &self,
        who: ParticipationActor,
        items: &[ItemAnswer],
        now: DateTime<Utc>,
    ) -> Result<Decision<ParticipationState>, Refusal> {
        self.permits(ParticipationAction::Submit, who)?;
        let mut answers = Vec::with_capacity(items.len());
        for i in items {
            match &i.answer {
                Some((found, measures, due)) if !found.trim().is_empty() => answers.push(SubmittedAnswer {
                    item_id: i.item_id,
                    title: i.title.clone(),
                    found: found.clone(),
                    measures: measures.clone(),
                    due: *due,
                    problem: is_problem(found),
                }),
                _ => {
                    return Err(Refusal::invalid(
                        "answers",
                        "incomplete",
                        format!("“{}”尚未填写自查情况", i.title),
                        format!("\u{201c}{}\u{201d} has not been answered", i.title),
                    ));
                }
            }
        }
        let submitted = SelfCheckSubmitted {
            campaign_id: self.campaign_id,
            kind: self.kind,
            late: city_day(now) > self.period_end,
            answers,
        };
        let subject =
            Subject { department_id: Some(self.department_id), person_id: self.person_id, ..Default::default() };
        Ok(Decision::new(
            ParticipationState::Submitted,
            vec![Event::new(Payload::SelfCheckSubmitted(submitted), self.id, subject, now)],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    #[test]
    fn every_campaign_transition() {
        use CampaignAction as A;
        use CampaignState::*;
        let allowed = [(Draft, A::Edit), (Draft, A::Open), (Open, A::Close), (Open, A::Export), (Closed, A::Export)];
        for &s in CampaignState::ALL {
            for &a in CampaignAction::ALL {
                let want = allowed.contains(&(s, a));
                assert_eq!(s.permits(a, true).is_ok(), want, "{s:?} {a:?}");
                if want {
                    assert_eq!(s.permits(a, false).unwrap_err().reason(), "actor");
                } else {
                    assert_eq!(s.permits(a, true).unwrap_err().reason(), "state");
                }
            }
        }
        let k = CampaignFacts {
            id: 2,
            state: Draft,
            title: "回头看".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            participants: 3,
            submitted: 0,
        };
        let now = DateTime::<Utc>::default();
        let opened = k.decide(A::Open, true, now).unwrap();
        assert_eq!((opened.next, opened.events[0].kind()), (CampaignState::Open, EventKind::CampaignOpened));
        assert!(CampaignFacts { participants: 0, ..k.clone() }.decide(A::Open, true, now).is_err());
        let closed =
            CampaignFacts { state: CampaignState::Open, submitted: 2, ..k }.decide(A::Close, true, now).unwrap();
        assert_eq!(closed.events[0].kind(), EventKind::CampaignClosed);
    }

    #[test]
    fn a_self_check_is_answered_then_signed_once_complete() {
        let p = ParticipationFacts {
            id: 8,
            campaign_id: 2,
            campaign_state: CampaignState::Open,
            period_end: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            state: ParticipationState::Pending,
            kind: ParticipantKind::Department,
            department_id: 4,
            person_id: None,
        };
        let liaison = ParticipationActor { answerer: true, signer: false };
        let head = ParticipationActor { answerer: true, signer: true };
        assert_eq!(p.allowed_actions(liaison), [ParticipationAction::Answer]);
        assert_eq!(p.allowed_actions(head), [ParticipationAction::Answer, ParticipationAction::Submit]);
        let item = |id, answer: Option<&str>| ItemAnswer {
            item_id: id,
            title: format!("第{id}项"),
            answer: answer.map(|f| (f.to_owned(), String::new(), None)),
        };
        let now = DateTime::<Utc>::default();
        let half = [item(1, Some("无")), item(2, None)];
        assert!(matches!(p.submit(head, &half, now), Err(Refusal::Invalid(v)) if v.code == "incomplete"));
        assert_eq!(p.submit(liaison, &half, now).unwrap_err().reason(), "actor");
        let all = [item(1, Some("无")), item(2, Some("窗口人员玩手机"))];
        let d = p.submit(head, &all, now).unwrap();
        match &d.events[0].payload {
            Payload::SelfCheckSubmitted(s) => {
                assert_eq!(s.answers.len(), 2);
                assert_eq!(s.answers.iter().filter(|a| a.problem).count(), 1);
            }
            e => panic!("{e:?}"),
        }
        let done = ParticipationFacts { state: ParticipationState::Submitted, ..p };
        assert_eq!(done.submit(head, &all, now).unwrap_err().reason(), "state");
        let closed = ParticipationFacts { campaign_state: CampaignState::Closed, ..p };
        assert_eq!(closed.permits(ParticipationAction::Answer, head).unwrap_err().reason(), "campaign_not_open");
    }
}
