//! The regime's domain events: what happened, to whom, when. The workflows' machines return
//! them with their decisions; the store records them in the ledger (`domain_events`) in the same
//! transaction as the change and its audit entry. Scores, trends and the assessment are computed
//! from them, so nothing they count is ever overwritten: a changed deadline is a new event.
//!
//! Each kind has one typed payload, stored as JSON with a version. An event is about an aggregate
//! (a finding, an order, …) and, where they apply, a department, window, person and post. Events
//! of a covert plan, a visit and a finding before its department is told are the office's alone
//! ([`Event::office_only`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    campaign::ParticipantKind,
    evidence::{EvidenceKind, EvidencePurpose},
    inquiry::{InquiryLapsed, InquiryMoved, InquiryRecorded, LapseReviewed},
    inspection::{FindingState, PlanState, Severity, VisitState},
    rating::{RatingGiven, RatingHeld, RatingReviewed},
    rectification::{BulletinScope, InstructionTarget},
    service::{ApplicantType, CaseCard},
    ticket::{RatingOverturned, TicketDeadline, TicketOpened, TicketStepped},
};

labelled_enum! {
    /// What happened.
    EventKind {
        PlanActivated = "plan.activated", "暗访计划开始", "plan activated";
        PlanClosed = "plan.closed", "暗访计划结束", "plan closed";
        VisitDone = "visit.done", "暗访已完成", "visit done";
        VisitCancelled = "visit.cancelled", "暗访已取消", "visit cancelled";
        VisitReopened = "visit.reopened", "暗访重新安排", "visit reopened";
        FindingRecorded = "finding.recorded", "问题已记录", "finding recorded";
        FindingConfirmed = "finding.confirmed", "问题已确认", "finding confirmed";
        FindingWithdrawn = "finding.withdrawn", "问题已撤回", "finding withdrawn";
        FindingNotified = "finding.notified", "问题已通知", "finding notified";
        FindingAppealed = "finding.appealed", "问题被申诉", "finding appealed";
        FindingUpheld = "finding.upheld", "申诉被驳回", "appeal rejected, finding upheld";
        FindingOverturned = "finding.overturned", "问题被撤销", "finding overturned";
        EvidenceFiled = "evidence.filed", "证据已归档", "evidence filed";
        BulletinPublished = "bulletin.published", "通报已发布", "bulletin published";
        BulletinCorrected = "bulletin.corrected", "通报被更正", "bulletin corrected";
        BulletinWithdrawn = "bulletin.withdrawn", "通报草稿作废", "bulletin draft withdrawn";
        OrderIssued = "order.issued", "整改通知下发", "order issued";
        OrderReminded = "order.reminded", "整改提醒", "order reminded";
        OrderOverdue = "order.overdue", "整改逾期", "order overdue";
        OrderDeadlineChanged = "order.deadline_changed", "整改期限变更", "order deadline changed";
        ReportSubmitted = "report.submitted", "整改报告报送", "report submitted";
        ReportReturned = "report.returned", "整改报告退回", "report returned";
        ReportAccepted = "report.accepted", "整改报告采纳", "report accepted";
        InstructionWritten = "instruction.written", "领导批示", "instruction written";
        FollowUpRequired = "follow_up.required", "批示要求落实", "follow-up required";
        FollowUpDone = "follow_up.done", "批示已落实", "follow-up done";
        CampaignOpened = "campaign.opened", "自查活动开始", "campaign opened";
        CampaignClosed = "campaign.closed", "自查活动结束", "campaign closed";
        SelfCheckSubmitted = "self_check.submitted", "自查已提交", "self-check submitted";
        CaseAccepted = "case.accepted", "办件受理", "case accepted";
        CaseCompleted = "case.completed", "办件办结", "case completed";
        CaseReopened = "case.reopened", "办件重新办理", "case reopened";
        CaseYellowCard = "case.yellow_card", "办件黄牌预警", "case yellow card";
        CaseRedCard = "case.red_card", "办件红牌", "case red card";
        RatingGiven = "rating.given", "收到评价", "rating given";
        RatingHeld = "rating.held", "评价转入待审核", "rating held for review";
        RatingReleased = "rating.released", "评价审核放行", "rating released";
        RatingRejected = "rating.rejected", "评价审核驳回", "rating rejected";
        RatingOverturned = "rating.overturned", "差评申诉撤销", "bad rating overturned";
        TicketOpened = "ticket.opened", "工单生成", "ticket opened";
        TicketVerified = "ticket.verified", "工单已核实", "ticket verified";
        TicketRectified = "ticket.rectified", "工单已整改", "ticket rectified";
        TicketCalledBack = "ticket.called_back", "工单已回访", "ticket called back";
        TicketReopened = "ticket.reopened", "回访不满意重新整改", "ticket reopened";
        TicketAppealed = "ticket.appealed", "工单申诉", "ticket appealed";
        TicketOverturned = "ticket.overturned", "申诉成立撤销", "ticket overturned";
        TicketUpheld = "ticket.upheld", "申诉不成立", "appeal upheld";
        TicketReminded = "ticket.reminded", "工单期限提醒", "ticket reminded";
        TicketOverdue = "ticket.overdue", "工单逾期", "ticket overdue";
        InquiryRecorded = "inquiry.recorded", "首问登记", "inquiry recorded";
        InquiryHandedOver = "inquiry.handed_over", "首问转交", "inquiry handed over";
        InquiryAccepted = "inquiry.accepted", "转交已接收", "inquiry taken up";
        InquiryRefused = "inquiry.refused", "转交被退回", "inquiry refused";
        InquiryAnswered = "inquiry.answered", "咨询已答复", "inquiry answered";
        InquiryDropped = "inquiry.dropped", "转交逾期未接收", "inquiry not taken up";
        InquiryOverdue = "inquiry.overdue", "咨询逾期未答复", "inquiry overdue";
        InquiryLapseUpheld = "inquiry.lapse_upheld", "首问线索立为问题", "inquiry lapse made a finding";
        InquiryLapseDismissed = "inquiry.lapse_dismissed", "首问线索不予认定", "inquiry lapse dismissed";
    }
}

labelled_enum! {
    /// What an event is about.
    Aggregate {
        Plan = "plan", "暗访计划", "plan";
        Visit = "visit", "暗访", "visit";
        Finding = "finding", "问题", "finding";
        Evidence = "evidence", "证据", "evidence";
        Bulletin = "bulletin", "通报", "bulletin";
        Order = "order", "整改通知", "order";
        Instruction = "instruction", "批示", "instruction";
        Campaign = "campaign", "自查活动", "campaign";
        Participation = "participation", "自查", "self-check";
        Case = "case", "办件", "service case";
        Rating = "rating", "评价", "rating";
        Ticket = "ticket", "工单", "ticket";
        Inquiry = "inquiry", "首问咨询", "inquiry";
    }
}

/// Whom an event is about, where that applies: what scores and trends are broken down by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subject {
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
}

impl Subject {
    pub fn department(id: i64) -> Self {
        Subject { department_id: Some(id), ..Default::default() }
    }
}

/// The aggregate an event is about: known, or the one being created by the same decision (the
/// store fills in its id once the row exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateId {
    Known(i64),
    Pending,
}

/// A domain event, before it is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub payload: Payload,
    pub aggregate_id: AggregateId,
    pub subject: Subject,
    /// When it happened in the regime: the visit's time, the deadline that passed, the step.
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    pub fn new(payload: Payload, id: i64, subject: Subject, occurred_at: DateTime<Utc>) -> Self {
        Event { payload, aggregate_id: AggregateId::Known(id), subject, occurred_at }
    }

    /// An event about the record the same decision creates.
    pub fn of_new(payload: Payload, subject: Subject, occurred_at: DateTime<Utc>) -> Self {
        Event { payload, aggregate_id: AggregateId::Pending, subject, occurred_at }
    }

    pub fn kind(&self) -> EventKind {
        self.payload.kind()
    }

    pub fn aggregate(&self) -> Aggregate {
        self.kind().aggregate()
    }

    /// Whether only the office may read it: a covert plan's and its visits' events, a finding's
    /// before its department is told, the inspection's own evidence, abandoned drafts.
    pub fn office_only(&self) -> bool {
        self.payload.office_only()
    }
}

impl EventKind {
    pub fn aggregate(self) -> Aggregate {
        use EventKind::*;
        match self {
            PlanActivated | PlanClosed => Aggregate::Plan,
            VisitDone | VisitCancelled | VisitReopened => Aggregate::Visit,
            FindingRecorded | FindingConfirmed | FindingWithdrawn | FindingNotified | FindingAppealed
            | FindingUpheld | FindingOverturned => Aggregate::Finding,
            EvidenceFiled => Aggregate::Evidence,
            BulletinPublished | BulletinCorrected | BulletinWithdrawn => Aggregate::Bulletin,
            OrderIssued | OrderReminded | OrderOverdue | OrderDeadlineChanged | ReportSubmitted | ReportReturned
            | ReportAccepted => Aggregate::Order,
            InstructionWritten | FollowUpRequired | FollowUpDone => Aggregate::Instruction,
            CampaignOpened | CampaignClosed => Aggregate::Campaign,
            SelfCheckSubmitted => Aggregate::Participation,
            CaseAccepted | CaseCompleted | CaseReopened | CaseYellowCard | CaseRedCard => Aggregate::Case,
            RatingGiven | RatingHeld | RatingReleased | RatingRejected | RatingOverturned => Aggregate::Rating,
            TicketOpened | TicketVerified | TicketRectified | TicketCalledBack | TicketReopened | TicketAppealed
            | TicketOverturned | TicketUpheld | TicketReminded | TicketOverdue => Aggregate::Ticket,
            InquiryRecorded
            | InquiryHandedOver
            | InquiryAccepted
            | InquiryRefused
            | InquiryAnswered
            | InquiryDropped
            | InquiryOverdue
            | InquiryLapseUpheld
            | InquiryLapseDismissed => Aggregate::Inquiry,
        }
    }
}

// ------------------------------------------------------------------ payloads

/// A plan's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanStep {
    pub from: PlanState,
    pub to: PlanState,
}

/// A visit's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitStep {
    pub plan_id: i64,
    pub from: VisitState,
    pub to: VisitState,
    pub scheduled_on: NaiveDate,
}

/// A step in a finding's life: what it is, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FindingStep {
    /// `None` when recorded.
    pub from: Option<FindingState>,
    pub to: FindingState,
    pub category_id: i64,
    pub severity: Severity,
    /// Why (withdrawing, appealing, deciding an appeal), or how it was notified.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The plan and visit it was found on (on `finding.recorded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<i64>,
    /// The bulletin that notified it (on `finding.notified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulletin_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceFiled {
    pub finding_id: i64,
    pub purpose: EvidencePurpose,
    pub kind: EvidenceKind,
    pub bytes: i64,
    pub sha256: String,
    pub sm3: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BulletinPublished {
    pub year: i32,
    pub number: i32,
    /// 效能通报〔2026〕12号
    pub number_text: String,
    pub scope: BulletinScope,
    pub finding_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects_id: Option<i64>,
}

/// A published bulletin that a later one corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BulletinCorrected {
    pub corrected_by: i64,
    pub number_text: String,
}

/// Why a record was dropped or a step taken: a reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderIssued {
    pub bulletin_id: Option<i64>,
    pub deadline: NaiveDate,
    pub finding_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderReminded {
    /// The deadline the reminder was for.
    pub deadline: NaiveDate,
    /// Working days before it.
    pub point: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderOverdue {
    /// The deadline that passed with no report in.
    pub deadline: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineChanged {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The report whose return set the new date.
    pub report_id: i64,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportSubmitted {
    pub report_id: i64,
    pub version: i32,
    /// The deadline in force when it was submitted.
    pub deadline: NaiveDate,
    /// Submitted after that deadline (city time).
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportReviewed {
    pub report_id: i64,
    pub version: i32,
    pub comment: String,
    /// On a return: the last day to resubmit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resubmit_by: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstructionWritten {
    pub target_kind: InstructionTarget,
    pub target_id: i64,
    pub follow_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowUpRequired {
    /// The department that must follow up; the office when `None`.
    pub department_id: Option<i64>,
    pub due: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowUpDone {
    pub note: String,
    pub due: Option<NaiveDate>,
    /// Done after its due date.
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CampaignOpened {
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub participants: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CampaignClosed {
    pub participants: u32,
    pub submitted: u32,
}

/// One checklist item as it was answered when submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmittedAnswer {
    pub item_id: i64,
    pub title: String,
    pub found: String,
    pub measures: String,
    pub due: Option<NaiveDate>,
    /// A problem was found (anything but "无" / "none").
    pub problem: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SelfCheckSubmitted {
    pub campaign_id: i64,
    pub kind: ParticipantKind,
    /// Submitted after the campaign's period ended.
    pub late: bool,
    /// Every answer as submitted: the record does not change afterwards.
    pub answers: Vec<SubmittedAnswer>,
}

/// A service case arrived (受理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseAccepted {
    pub number: String,
    pub item_id: i64,
    /// The item's promise when the case arrived, in working days.
    pub promised_days: u32,
    pub deadline: NaiveDate,
    pub applicant: ApplicantType,
    /// The connected system that pushed it; none for an import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseCompleted {
    pub number: String,
    /// The deadline in force when it was completed.
    pub deadline: NaiveDate,
    pub on_time: bool,
    pub working_days_used: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseReopened {
    pub number: String,
}

/// A yellow or red card given to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseCarded {
    pub number: String,
    pub card: CaseCard,
    pub deadline: NaiveDate,
    pub promised_days: u32,
    pub working_days_used: u32,
}

macro_rules! payloads {
    ($($kind:ident($ty:ty)),+ $(,)?) => {
        /// An event's payload, typed by its kind. Stored as JSON with [`PAYLOAD_VERSION`].
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Payload { $($kind($ty)),+ }

        /// `anyOf` the distinct payload types (several kinds share one, e.g. `PlanStep`): the
        /// event's `kind` says which, so a payload may match more than one (`oneOf` would be false).
        impl utoipa::PartialSchema for Payload {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let mut names: Vec<String> = vec![$(<$ty as ToSchema>::name().into_owned()),+];
                names.sort();
                names.dedup();
                names
                    .into_iter()
                    .fold(utoipa::openapi::schema::AnyOfBuilder::new(), |b, n| b.item(utoipa::openapi::Ref::from_schema_name(n)))
                    .into()
            }
        }

        impl ToSchema for Payload {
            fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                $(
                    out.push((<$ty as ToSchema>::name().into_owned(), <$ty as utoipa::PartialSchema>::schema()));
                    <$ty as ToSchema>::schemas(out);
                )+
            }
        }

        impl Payload {
            pub fn kind(&self) -> EventKind {
                match self { $(Payload::$kind(_) => EventKind::$kind),+ }
            }

            /// Reads a stored payload of a kind and version.
            pub fn decode(kind: EventKind, version: i32, value: serde_json::Value) -> Result<Payload, String> {
                if version != PAYLOAD_VERSION {
                    return Err(format!("{kind}: payload version {version} is not known"));
                }
                Ok(match kind {
                    $(EventKind::$kind => Payload::$kind(serde_json::from_value(value).map_err(|e| format!("{kind}: {e}"))?)),+
                })
            }
        }
    };
}

payloads! {
    PlanActivated(PlanStep),
    PlanClosed(PlanStep),
    VisitDone(VisitStep),
    VisitCancelled(VisitStep),
    VisitReopened(VisitStep),
    FindingRecorded(FindingStep),
    FindingConfirmed(FindingStep),
    FindingWithdrawn(FindingStep),
    FindingNotified(FindingStep),
    FindingAppealed(FindingStep),
    FindingUpheld(FindingStep),
    FindingOverturned(FindingStep),
    EvidenceFiled(EvidenceFiled),
    BulletinPublished(BulletinPublished),
    BulletinCorrected(BulletinCorrected),
    BulletinWithdrawn(Reason),
    OrderIssued(OrderIssued),
    OrderReminded(OrderReminded),
    OrderOverdue(OrderOverdue),
    OrderDeadlineChanged(DeadlineChanged),
    ReportSubmitted(ReportSubmitted),
    ReportReturned(ReportReviewed),
    ReportAccepted(ReportReviewed),
    InstructionWritten(InstructionWritten),
    FollowUpRequired(FollowUpRequired),
    FollowUpDone(FollowUpDone),
    CampaignOpened(CampaignOpened),
    CampaignClosed(CampaignClosed),
    SelfCheckSubmitted(SelfCheckSubmitted),
    CaseAccepted(CaseAccepted),
    CaseCompleted(CaseCompleted),
    CaseReopened(CaseReopened),
    CaseYellowCard(CaseCarded),
    CaseRedCard(CaseCarded),
    RatingGiven(RatingGiven),
    RatingHeld(RatingHeld),
    RatingReleased(RatingReviewed),
    RatingRejected(RatingReviewed),
    RatingOverturned(RatingOverturned),
    TicketOpened(TicketOpened),
    TicketVerified(TicketStepped),
    TicketRectified(TicketStepped),
    TicketCalledBack(TicketStepped),
    TicketReopened(TicketStepped),
    TicketAppealed(TicketStepped),
    TicketOverturned(TicketStepped),
    TicketUpheld(TicketStepped),
    TicketReminded(TicketDeadline),
    TicketOverdue(TicketDeadline),
    InquiryRecorded(InquiryRecorded),
    InquiryHandedOver(InquiryMoved),
    InquiryAccepted(InquiryMoved),
    InquiryRefused(InquiryMoved),
    InquiryAnswered(InquiryMoved),
    InquiryDropped(InquiryLapsed),
    InquiryOverdue(InquiryLapsed),
    InquiryLapseUpheld(LapseReviewed),
    InquiryLapseDismissed(LapseReviewed),
}

/// The version every payload is written with today. A payload's shape changes only with a new
/// version, and [`Payload::decode`] keeps reading the old ones.
pub const PAYLOAD_VERSION: i32 = 1;

impl Payload {
    pub fn encode(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn office_only(&self) -> bool {
        use Payload::*;
        match self {
            PlanActivated(_) | PlanClosed(_) | VisitDone(_) | VisitCancelled(_) | VisitReopened(_) => true,
            FindingRecorded(_) | FindingConfirmed(_) | FindingWithdrawn(_) => true,
            EvidenceFiled(e) => e.purpose == EvidencePurpose::Evidence,
            BulletinWithdrawn(_) => true,
            // The office's review of a candidate finding: the finding it made is a draft.
            InquiryLapseUpheld(_) | InquiryLapseDismissed(_) => true,
            _ => false,
        }
    }
}

/// A finding step's event, of the kind its target state names.
pub fn finding_step_payload(step: FindingStep) -> Payload {
    match (step.from, step.to) {
        (None, _) | (_, FindingState::Draft) => Payload::FindingRecorded(step),
        (_, FindingState::Confirmed) => Payload::FindingConfirmed(step),
        (_, FindingState::Withdrawn) => Payload::FindingWithdrawn(step),
        (_, FindingState::Notified) => Payload::FindingNotified(step),
        (_, FindingState::Appealed) => Payload::FindingAppealed(step),
        (_, FindingState::Upheld) => Payload::FindingUpheld(step),
        (_, FindingState::Overturned) => Payload::FindingOverturned(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_aggregate_and_reads_back() {
        let at = DateTime::<Utc>::default();
        let step = FindingStep {
            from: Some(FindingState::Draft),
            to: FindingState::Confirmed,
            category_id: 3,
            severity: Severity::Serious,
            reason: String::new(),
            plan_id: None,
            visit_id: None,
            bulletin_id: None,
        };
        let e = Event::new(finding_step_payload(step.clone()), 812, Subject::department(4), at);
        assert_eq!(e.kind(), EventKind::FindingConfirmed);
        assert_eq!(e.aggregate(), Aggregate::Finding);
        assert!(e.office_only(), "a confirmed finding is the office's until notified");
        let json = e.payload.encode();
        assert_eq!(
            json,
            serde_json::json!({"from": "draft", "to": "confirmed", "category_id": 3, "severity": "serious"})
        );
        assert_eq!(Payload::decode(EventKind::FindingConfirmed, 1, json.clone()).unwrap(), e.payload);
        assert!(Payload::decode(EventKind::FindingConfirmed, 2, json).is_err());
        assert!(Payload::decode(EventKind::OrderOverdue, 1, serde_json::json!({})).is_err());
        for k in EventKind::ALL {
            assert!(
                k.code().starts_with(k.aggregate().code().split('_').next().unwrap_or_default())
                    || matches!(
                        k,
                        EventKind::ReportSubmitted
                            | EventKind::ReportReturned
                            | EventKind::ReportAccepted
                            | EventKind::FollowUpRequired
                            | EventKind::FollowUpDone
                            | EventKind::SelfCheckSubmitted
                    )
            );
        }
        let notified = Event::new(
            finding_step_payload(FindingStep {
                from: Some(FindingState::Confirmed),
                to: FindingState::Notified,
                ..step
            }),
            812,
            Subject::department(4),
            at,
        );
        assert!(!notified.office_only());
    }
}
