//! Covert inspection (暗访): plans, visits and findings, each a state machine that says which
//! steps are allowed, to whom and when, and which events record them; and how a user stands to a
//! finding ([`FindingAccess`]), from which all they may see and do with it follows.
//!
//! plan:    planned ─activate→ active ─close→ closed
//! visit:   scheduled ─mark_done→ done, ─cancel→ cancelled; both ─reopen→ scheduled
//! finding:
//!   draft ─confirm→ confirmed ─notify→ notified ─appeal→ appealed ─uphold→ upheld
//!     └─withdraw→ withdrawn                                        └─overturn→ overturned
//!
//! A finding counts against its department once confirmed, unless an appeal overturns it; an
//! overturned or withdrawn finding stays on record and counts nowhere.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    calendar::WorkCalendar,
    clock::city_day,
    event::{Event, FindingStep, Payload, PlanStep, Subject, VisitStep, finding_step_payload},
    evidence::EvidencePurpose,
    labels,
    workflow::{Decision, Refusal},
};

labelled_enum! {
    /// How serious a finding is (轻微 / 一般 / 严重).
    Severity {
        Minor = "minor", "轻微", "minor";
        General = "general", "一般", "general";
        Serious = "serious", "严重", "serious";
    }
}

labelled_enum! {
    /// Where a finding is in its life.
    FindingState {
        Draft = "draft", "草稿", "draft";
        Withdrawn = "withdrawn", "已撤回", "withdrawn";
        Confirmed = "confirmed", "已确认", "confirmed";
        Notified = "notified", "已通知", "notified";
        Appealed = "appealed", "申诉中", "under appeal";
        Upheld = "upheld", "申诉驳回", "upheld";
        Overturned = "overturned", "已撤销", "overturned";
    }
}

labelled_enum! {
    /// A step in a finding's life.
    FindingAction {
        Confirm = "confirm", "确认", "confirm";
        Withdraw = "withdraw", "撤回", "withdraw";
        Notify = "notify", "通知", "notify";
        Appeal = "appeal", "申诉", "appeal";
        Uphold = "uphold", "维持", "uphold";
        Overturn = "overturn", "撤销", "overturn";
    }
}

labelled_enum! {
    /// A covert inspection plan's state. Secret throughout.
    PlanState {
        Planned = "planned", "计划中", "planned";
        Active = "active", "进行中", "active";
        Closed = "closed", "已结束", "closed";
    }
}

labelled_enum! {
    /// What the office does with a plan.
    PlanAction {
        Edit = "edit", "修改", "edit";
        Activate = "activate", "开始", "start";
        Close = "close", "结束", "close";
        Schedule = "schedule", "安排暗访", "schedule a visit";
    }
}

labelled_enum! {
    /// What became of a visit.
    VisitState {
        Scheduled = "scheduled", "待暗访", "scheduled";
        Done = "done", "已完成", "done";
        Cancelled = "cancelled", "已取消", "cancelled";
    }
}

labelled_enum! {
    VisitAction {
        Note = "note", "记录情况", "write notes";
        MarkDone = "mark_done", "标记完成", "mark done";
        Cancel = "cancel", "取消", "cancel";
        Reopen = "reopen", "重新安排", "reopen";
        Record = "record", "记录问题", "record a finding";
    }
}

impl PlanState {
    /// Whether visits may still be recorded and findings taken on it.
    pub fn open(self) -> bool {
        !matches!(self, PlanState::Closed)
    }

    /// The action that takes a plan from this state to `to`; staying put is an edit.
    pub fn action_to(self, to: PlanState) -> PlanAction {
        match to {
            t if t == self => PlanAction::Edit,
            PlanState::Active => PlanAction::Activate,
            PlanState::Closed => PlanAction::Close,
            // Back to planned: no such step; refused as an activation would be.
            PlanState::Planned => PlanAction::Activate,
        }
    }

    /// Only the office acts on plans. planned ─activate→ active ─close→ closed; a planned one may
    /// also be closed (called off); a closed plan is final.
    pub fn decide(
        self,
        action: PlanAction,
        office: bool,
        plan_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Decision<PlanState>, Refusal> {
        use PlanAction::*;
        use PlanState::*;
        let next = match (self, action) {
            (Planned | Active, Edit | Schedule) => self,
            (Planned, Activate) => Active,
            (Planned | Active, Close) => Closed,
            _ => return Err(Refusal::by_state(labels!(self), labels!(action), ("暗访计划", "plan"))),
        };
        if !office {
            return Err(Refusal::by_actor(self.code(), labels!(action), ("暗访计划", "plan")));
        }
        let step = PlanStep { from: self, to: next };
        let events = match next {
            _ if next == self => vec![],
            Active => vec![Event::new(Payload::PlanActivated(step), plan_id, Subject::default(), at)],
            _ => vec![Event::new(Payload::PlanClosed(step), plan_id, Subject::default(), at)],
        };
        Ok(Decision::new(next, events))
    }

    /// A new plan starts planned, or active at once.
    pub fn create(initial: PlanState, at: DateTime<Utc>) -> Result<Decision<PlanState>, Refusal> {
        match initial {
            PlanState::Planned => Ok(Decision::new(initial, vec![])),
            PlanState::Active => Ok(Decision::new(
                initial,
                vec![Event::of_new(
                    Payload::PlanActivated(PlanStep { from: PlanState::Planned, to: PlanState::Active }),
                    Subject::default(),
                    at,
                )],
            )),
            PlanState::Closed => Err(Refusal::invalid(
                "status",
                "closed_at_creation",
                "新计划不能是已结束状态",
                "A new plan cannot start closed",
            )),
        }
    }

    pub fn allowed_actions(self, office: bool) -> Vec<PlanAction> {
        let at = DateTime::<Utc>::default();
        PlanAction::ALL.iter().copied().filter(|a| self.decide(*a, office, 0, at).is_ok()).collect()
    }
}

/// A visit as its rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitFacts {
    pub id: i64,
    pub plan_id: i64,
    pub plan_state: PlanState,
    pub state: VisitState,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub scheduled_on: NaiveDate,
}

/// Who acts on a visit: the office, or a member of the plan's team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitActor {
    pub office: bool,
    pub team: bool,
}

impl VisitFacts {
    /// The team marks a visit done once its day has come (also when nothing was found), and may
    /// take that back; calling a visit off, or taking a called-off visit up again, is the
    /// office's decision. Nothing changes once the plan is closed.
    pub fn decide(
        &self,
        action: VisitAction,
        who: VisitActor,
        now: DateTime<Utc>,
    ) -> Result<Decision<VisitState>, Refusal> {
        use VisitAction::*;
        use VisitState::*;
        let what = ("暗访", "visit");
        if action == Record {
            if !(who.office || who.team) {
                return Err(Refusal::by_actor(self.state.code(), labels!(action), what));
            }
            self.recordable()?;
            return Ok(Decision::new(self.state, Vec::new()));
        }
        let next = match (self.state, action) {
            (s, Note) => s,
            (Scheduled, MarkDone) => Done,
            (Scheduled, Cancel) => Cancelled,
            (Done | Cancelled, Reopen) => Scheduled,
            _ => return Err(Refusal::by_state(labels!(self.state), labels!(action), what)),
        };
        let office_only = matches!(action, Cancel) || (action == Reopen && self.state == Cancelled);
        if !(who.office || (who.team && !office_only)) {
            return Err(Refusal::by_actor(self.state.code(), labels!(action), what));
        }
        if !self.plan_state.open() {
            return Err(Refusal::transition(
                self.state.code(),
                action.code(),
                "plan_closed",
                "该暗访计划已结束",
                "This inspection plan is closed",
            ));
        }
        if action == MarkDone && self.scheduled_on > city_day(now) {
            return Err(Refusal::transition(
                self.state.code(),
                action.code(),
                "not_yet",
                "暗访日期未到，不能标记为已完成",
                "The visit's day has not come: it cannot be done yet",
            ));
        }
        let step = VisitStep { plan_id: self.plan_id, from: self.state, to: next, scheduled_on: self.scheduled_on };
        let subject =
            Subject { department_id: Some(self.department_id), window_id: self.window_id, ..Default::default() };
        let payload = match next {
            _ if next == self.state => None,
            Done => Some(Payload::VisitDone(step)),
            Cancelled => Some(Payload::VisitCancelled(step)),
            Scheduled => Some(Payload::VisitReopened(step)),
        };
        Ok(Decision::new(next, payload.map(|p| Event::new(p, self.id, subject, now)).into_iter().collect()))
    }

    /// Whether a finding may be recorded on the visit: its plan still open, the visit not called
    /// off. The finding itself adds its own checks ([`record`]).
    pub fn recordable(&self) -> Result<(), Refusal> {
        if !self.plan_state.open() {
            return Err(Refusal::transition(
                self.plan_state.code(),
                "record",
                "plan_closed",
                "该暗访计划已结束",
                "This inspection plan is closed",
            ));
        }
        if self.state == VisitState::Cancelled {
            return Err(Refusal::transition(
                self.state.code(),
                "record",
                "visit_cancelled",
                "该次暗访已取消，不能在其上记录问题",
                "This visit was called off: no finding can be recorded on it",
            ));
        }
        Ok(())
    }

    /// The action that takes the visit to `to`; staying put writes notes.
    pub fn action_to(&self, to: VisitState) -> VisitAction {
        match to {
            t if t == self.state => VisitAction::Note,
            VisitState::Done => VisitAction::MarkDone,
            VisitState::Cancelled => VisitAction::Cancel,
            VisitState::Scheduled => VisitAction::Reopen,
        }
    }

    pub fn allowed_actions(&self, who: VisitActor, now: DateTime<Utc>) -> Vec<VisitAction> {
        VisitAction::ALL.iter().copied().filter(|a| self.decide(*a, who, now).is_ok()).collect()
    }
}

/// How a user stands to one finding: worked out by the server from their grants, the plans
/// they are on and how far their permissions reach. Everything a caller may see or do with a
/// finding follows from it (with the finding's state and the time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingAccess {
    /// The Efficiency Office (`inspection:manage`): every finding in every state.
    pub office: bool,
    /// On the team of the plan it was found on.
    pub team: bool,
    /// It is about the caller's department or the caller (`finding:read` reaches it).
    pub reader: bool,
    /// The caller may appeal it: its department's head, or the person named (`finding:appeal`).
    pub appellant: bool,
}

impl FindingAccess {
    /// The office and the plan's team see a finding from the start; its department (or the
    /// person named) only once notified.
    pub fn sees(self, state: FindingState) -> bool {
        self.inside() || ((self.reader || self.appellant) && state.visible_to_subject())
    }

    /// Sees it from the inside: which plan, visit and inspector it came from, and every step.
    pub fn inside(self) -> bool {
        self.office || self.team
    }

    /// Whether a step of its history (the one that led to `to`) is shown.
    pub fn sees_step(self, to: FindingState) -> bool {
        self.inside() || to.visible_to_subject()
    }
}

/// A finding as its rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingFacts {
    pub id: i64,
    pub state: FindingState,
    pub subject: Subject,
    pub category_id: i64,
    pub severity: Severity,
    pub notified_at: Option<DateTime<Utc>>,
}

/// The office's rules and calendar a finding's decisions need.
#[derive(Debug, Clone, Copy)]
pub struct FindingRules<'a> {
    pub policy: &'a InspectionPolicy,
    pub calendar: &'a WorkCalendar,
}

impl FindingFacts {
    /// The last day (city time) it may be appealed, once notified.
    pub fn appeal_deadline(&self, rules: FindingRules<'_>) -> Option<NaiveDate> {
        self.notified_at.map(|t| rules.policy.appeal_deadline(rules.calendar, city_day(t)))
    }

    /// Whether the state, the caller's part and the time allow `action`; the state it leads to.
    pub fn permits(
        &self,
        action: FindingAction,
        access: FindingAccess,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Result<FindingState, Refusal> {
        use FindingAction::*;
        use FindingState::*;
        let what = ("问题", "finding");
        let next = match (self.state, action) {
            (Draft, Confirm) => Confirmed,
            (Draft, Withdraw) => Withdrawn,
            (Confirmed, Notify) => Notified,
            (Notified, Appeal) => Appealed,
            (Appealed, Uphold) => Upheld,
            (Appealed, Overturn) => Overturned,
            _ => return Err(Refusal::by_state(labels!(self.state), labels!(action), what)),
        };
        let allowed = match action {
            Confirm | Notify | Uphold | Overturn => access.office,
            Withdraw => access.office || access.team,
            Appeal => access.appellant,
        };
        if !allowed {
            return Err(Refusal::by_actor(self.state.code(), labels!(action), what));
        }
        if action == Appeal
            && let Some(deadline) = self.appeal_deadline(rules)
            && city_day(now) > deadline
        {
            return Err(Refusal::transition(
                self.state.code(),
                action.code(),
                "appeal_deadline_passed",
                format!("申诉期限已过（截止 {deadline}）"),
                format!("The time to appeal has passed (it ended on {deadline})"),
            ));
        }
        Ok(next)
    }

    /// Takes a step: the state it leads to and the event that records it.
    pub fn decide(
        &self,
        action: FindingAction,
        access: FindingAccess,
        reason: &str,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Result<Decision<FindingState>, Refusal> {
        let next = self.permits(action, access, now, rules)?;
        if FindingState::needs_reason(action) && reason.trim().is_empty() {
            return Err(Refusal::invalid("reason", "required", "请说明理由", "Give a reason"));
        }
        Ok(self.step(next, reason, None, now))
    }

    /// Notified with a bulletin: the office's step, taken by publishing.
    pub fn notify_with(
        &self,
        bulletin_id: i64,
        number: &str,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Result<Decision<FindingState>, Refusal> {
        let office = FindingAccess { office: true, ..Default::default() };
        let next = self.permits(FindingAction::Notify, office, now, rules)?;
        Ok(self.step(next, &format!("随{number}发布"), Some(bulletin_id), now))
    }

    fn step(
        &self,
        next: FindingState,
        reason: &str,
        bulletin_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Decision<FindingState> {
        let step = FindingStep {
            from: Some(self.state),
            to: next,
            category_id: self.category_id,
            severity: self.severity,
            reason: reason.trim().to_owned(),
            plan_id: None,
            visit_id: None,
            bulletin_id,
        };
        Decision::new(next, vec![Event::new(finding_step_payload(step), self.id, self.subject, now)])
    }

    /// The steps open to the caller now.
    pub fn allowed_actions(
        &self,
        access: FindingAccess,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Vec<FindingAction> {
        FindingAction::ALL.iter().copied().filter(|a| self.permits(*a, access, now, rules).is_ok()).collect()
    }

    /// What files the caller may add now: the inspection's evidence (the office and the team to
    /// a draft, the office also to a confirmed finding), or appeal files (the department's head
    /// or the person named, while an appeal may be made or is being decided).
    pub fn attachable(
        &self,
        access: FindingAccess,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Vec<EvidencePurpose> {
        use FindingState::*;
        match self.state {
            Draft if access.inside() => vec![EvidencePurpose::Evidence],
            Confirmed if access.office => vec![EvidencePurpose::Evidence],
            Notified if !access.inside() && self.permits(FindingAction::Appeal, access, now, rules).is_ok() => {
                vec![EvidencePurpose::Appeal]
            }
            Appealed if !access.inside() && access.appellant => vec![EvidencePurpose::Appeal],
            _ => vec![],
        }
    }

    /// Whether the caller may add a file of `purpose` now; refused with reason `actor` when the
    /// finding takes such files now but not from this caller, `not_open_for_files` when it takes
    /// none from anyone.
    pub fn may_attach(
        &self,
        purpose: EvidencePurpose,
        access: FindingAccess,
        now: DateTime<Utc>,
        rules: FindingRules<'_>,
    ) -> Result<(), Refusal> {
        if self.attachable(access, now, rules).contains(&purpose) {
            return Ok(());
        }
        let (action, whose) = match purpose {
            EvidencePurpose::Evidence => (
                ("attach_evidence", "添加取证文件", "add evidence"),
                FindingAccess { office: true, ..Default::default() },
            ),
            EvidencePurpose::Appeal => (
                ("attach_appeal", "提交申诉材料", "add appeal files"),
                FindingAccess { reader: true, appellant: true, ..Default::default() },
            ),
        };
        if self.attachable(whose, now, rules).contains(&purpose) {
            // Said with the state: an upload begun while it was allowed may meet this later.
            return Err(Refusal::transition(
                self.state.code(),
                action.0,
                "actor",
                format!("该问题当前为“{}”，您不能为其{}", self.state.label_zh(), action.1),
                format!("This finding is {}: you may not {} to it", self.state.label_en(), action.2),
            ));
        }
        let (zh, en) = match purpose {
            EvidencePurpose::Evidence => (
                format!("该问题{}，不能再添加取证文件", self.state.label_zh()),
                format!("This finding is {}: evidence can no longer be added", self.state.label_en()),
            ),
            EvidencePurpose::Appeal => (
                format!("该问题{}，不在申诉期内，不能提交申诉材料", self.state.label_zh()),
                format!(
                    "This finding is {} and open to no appeal: appeal files cannot be added",
                    self.state.label_en()
                ),
            ),
        };
        Err(Refusal::transition(self.state.code(), action.0, "not_open_for_files", zh, en))
    }
}

/// A file filed as evidence of a finding (or with an appeal of it): its event, about the
/// finding's subject. Whether it may be added was the finding's to say ([`FindingFacts::attachable`]).
pub fn evidence_filed(
    f: &FindingFacts,
    evidence_id: i64,
    filed: crate::event::EvidenceFiled,
    now: DateTime<Utc>,
) -> Event {
    Event::new(Payload::EvidenceFiled(filed), evidence_id, f.subject, now)
}

/// What a new finding names and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub subject: Subject,
    pub category_id: i64,
    pub severity: Severity,
    pub occurred_at: DateTime<Utc>,
}

/// Where the recorder stands: their plan's period and state, the visit, and an external
/// supervisor's term of appointment.
#[derive(Debug, Clone, Copy)]
pub struct RecordingFacts {
    pub visit: VisitFacts,
    pub plan_period: (NaiveDate, NaiveDate),
    /// `Some` for an external supervisor's account: the term, if any is in force.
    pub supervisor_term: Option<Option<(NaiveDate, NaiveDate)>>,
}

/// Records a draft finding on a visit; a visit still scheduled is done by it (the finding shows
/// the team was there): the finding's decision, and the visit's when it changes.
pub fn record(
    f: &NewFinding,
    at: &RecordingFacts,
    now: DateTime<Utc>,
) -> Result<(Decision<FindingState>, Option<Decision<VisitState>>), Refusal> {
    let today = city_day(now);
    if let Some(term) = at.supervisor_term
        && !term.is_some_and(|(start, end)| start <= today && today <= end)
    {
        return Err(Refusal::transition(
            "draft",
            "record",
            "supervisor_out_of_term",
            "您的监督员任期已结束或尚未开始，不能记录问题",
            "Your term as a supervisor has ended or not begun: you cannot record findings",
        ));
    }
    at.visit.recordable()?;
    if f.occurred_at > now {
        return Err(Refusal::invalid(
            "occurred_at",
            "in_the_future",
            "发生时间不能晚于现在",
            "It cannot have happened in the future",
        ));
    }
    let day = city_day(f.occurred_at);
    if day < at.plan_period.0 || day > at.plan_period.1 {
        return Err(Refusal::invalid(
            "occurred_at",
            "outside_period",
            "发生时间须在暗访计划期间内",
            "It must have happened within the plan's period",
        ));
    }
    if f.subject.department_id != Some(at.visit.department_id) {
        return Err(Refusal::invalid(
            "department_id",
            "not_the_visited_department",
            "问题须属于本次暗访的部门",
            "The finding must name the department this visit went to",
        ));
    }
    let step = FindingStep {
        from: None,
        to: FindingState::Draft,
        category_id: f.category_id,
        severity: f.severity,
        reason: String::new(),
        plan_id: Some(at.visit.plan_id),
        visit_id: Some(at.visit.id),
        bulletin_id: None,
    };
    let finding = Decision::new(
        FindingState::Draft,
        vec![Event::of_new(Payload::FindingRecorded(step), f.subject, f.occurred_at)],
    );
    let visit = (at.visit.state == VisitState::Scheduled).then(|| {
        let v = &at.visit;
        let step = VisitStep { plan_id: v.plan_id, from: v.state, to: VisitState::Done, scheduled_on: v.scheduled_on };
        let subject = Subject { department_id: Some(v.department_id), window_id: v.window_id, ..Default::default() };
        Decision::new(VisitState::Done, vec![Event::new(Payload::VisitDone(step), v.id, subject, now)])
    });
    Ok((finding, visit))
}

/// A draft finding the office makes from a lapse of the first-inquiry rule it reviewed: no plan,
/// no visit; it then goes the way of every finding (confirm, notify, appeal).
pub fn record_from_lapse(f: &NewFinding, now: DateTime<Utc>) -> Result<Decision<FindingState>, Refusal> {
    if f.occurred_at > now {
        return Err(Refusal::invalid(
            "occurred_at",
            "in_the_future",
            "发生时间不能晚于现在",
            "It cannot have happened in the future",
        ));
    }
    let step = FindingStep {
        from: None,
        to: FindingState::Draft,
        category_id: f.category_id,
        severity: f.severity,
        reason: String::new(),
        plan_id: None,
        visit_id: None,
        bulletin_id: None,
    };
    Ok(Decision::new(
        FindingState::Draft,
        vec![Event::of_new(Payload::FindingRecorded(step), f.subject, f.occurred_at)],
    ))
}

impl FindingState {
    /// A department may see a finding only from the moment the office notifies it.
    pub fn visible_to_subject(self) -> bool {
        matches!(
            self,
            FindingState::Notified | FindingState::Appealed | FindingState::Upheld | FindingState::Overturned
        )
    }

    /// Whether the finding counts against its department (scores, sanctions, statistics).
    pub fn counts(self) -> bool {
        matches!(self, FindingState::Confirmed | FindingState::Notified | FindingState::Appealed | FindingState::Upheld)
    }

    /// Whether a reason must be written for the step (every decision against someone's interest).
    pub fn needs_reason(action: FindingAction) -> bool {
        matches!(
            action,
            FindingAction::Withdraw | FindingAction::Appeal | FindingAction::Uphold | FindingAction::Overturn
        )
    }
}

/// The office's rules for findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InspectionPolicy {
    /// Working days after notification within which a finding may be appealed.
    #[schema(minimum = 1, maximum = 30)]
    pub appeal_working_days: u32,
    /// Largest evidence file, in MiB.
    #[schema(minimum = 1, maximum = 16384)]
    pub evidence_max_mb: u32,
    /// The kinds of evidence files accepted (told by content, not by name).
    pub evidence_kinds: Vec<crate::evidence::EvidenceKind>,
    /// Most one user may hold in evidence files and unfinished uploads together, in MiB; at
    /// least the largest file.
    #[schema(minimum = 1, maximum = 4194304)]
    pub user_quota_mb: u32,
    /// Most one finding may hold in evidence files and unfinished uploads together, in MiB; at
    /// least the largest file.
    #[schema(minimum = 1, maximum = 4194304)]
    pub finding_quota_mb: u32,
    /// Unfinished uploads one user may have at once.
    #[schema(minimum = 1, maximum = 32)]
    pub max_open_uploads: u32,
    /// Seconds an upload request may send nothing before it is ended (what arrived is kept, and
    /// the upload resumes from there).
    #[schema(minimum = 5, maximum = 600)]
    pub upload_stall_seconds: u32,
    /// Hours after its last request that an unfinished upload is removed, with what it stored.
    #[schema(minimum = 1, maximum = 720)]
    pub upload_abandon_hours: u32,
}

impl Default for InspectionPolicy {
    fn default() -> Self {
        Self {
            appeal_working_days: 5,
            evidence_max_mb: 4096,
            evidence_kinds: crate::evidence::EvidenceKind::ALL.to_vec(),
            user_quota_mb: 200 * 1024,
            finding_quota_mb: 20 * 1024,
            max_open_uploads: 4,
            upload_stall_seconds: 60,
            upload_abandon_hours: 24,
        }
    }
}

/// What is already stored and under way when someone starts an upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadLoad {
    /// Bytes of the user's evidence files and unfinished uploads.
    pub user_bytes: u64,
    /// Bytes of the finding's evidence files and unfinished uploads.
    pub finding_bytes: u64,
    /// The user's unfinished uploads.
    pub user_open: u64,
}

/// Why an upload cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefusal {
    /// The file is larger than any file may be (MiB).
    TooLarge { limit_mb: u32 },
    /// The user's files would pass their quota (MiB; bytes still free).
    UserQuota { limit_mb: u32, free: u64 },
    /// The finding's files would pass its quota.
    FindingQuota { limit_mb: u32, free: u64 },
    /// The user has this many unfinished uploads already.
    TooManyOpen { limit: u32 },
}

impl UploadRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            UploadRefusal::TooLarge { .. } => "file_too_large",
            UploadRefusal::UserQuota { .. } => "user_quota_exceeded",
            UploadRefusal::FindingQuota { .. } => "finding_quota_exceeded",
            UploadRefusal::TooManyOpen { .. } => "too_many_uploads",
        }
    }

    pub fn zh(&self) -> String {
        match *self {
            UploadRefusal::TooLarge { limit_mb } => format!("文件过大：上限为 {limit_mb} MB"),
            UploadRefusal::UserQuota { limit_mb, free } => format!(
                "您的证据文件（含未完成的上传）将超过每人 {limit_mb} MB 的上限，尚余 {}；请联系效能办",
                mib(free)
            ),
            UploadRefusal::FindingQuota { limit_mb, free } => {
                format!("该问题的证据文件（含未完成的上传）将超过 {limit_mb} MB 的上限，尚余 {}", mib(free))
            }
            UploadRefusal::TooManyOpen { limit } => {
                format!("您已有 {limit} 个未完成的上传：请等其完成或取消后再上传")
            }
        }
    }

    pub fn en(&self) -> String {
        match *self {
            UploadRefusal::TooLarge { limit_mb } => format!("The file is too large: the limit is {limit_mb} MB"),
            UploadRefusal::UserQuota { limit_mb, free } => format!(
                "Your evidence files (with unfinished uploads) would pass the limit of {limit_mb} MB per person; {} is left. Ask the Efficiency Office",
                mib(free)
            ),
            UploadRefusal::FindingQuota { limit_mb, free } => format!(
                "This finding's files (with unfinished uploads) would pass its limit of {limit_mb} MB; {} is left",
                mib(free)
            ),
            UploadRefusal::TooManyOpen { limit } => format!(
                "You have {limit} unfinished uploads: wait for one to finish, or cancel one, before starting another"
            ),
        }
    }
}

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

const MIB: u64 = 1024 * 1024;

impl InspectionPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=30).contains(&self.appeal_working_days) {
            return Err(ValidationError::new(
                "appeal_working_days",
                "out_of_range",
                "申诉期限须在 1 到 30 个工作日之间",
                "The appeal period must be 1 to 30 working days",
            ));
        }
        if !(1..=16384).contains(&self.evidence_max_mb) {
            return Err(ValidationError::new(
                "evidence_max_mb",
                "out_of_range",
                "证据文件大小上限须在 1 MB 到 16 GB 之间",
                "The evidence size limit must be 1 MB to 16 GB",
            ));
        }
        for (field, value, zh, en) in [
            ("user_quota_mb", self.user_quota_mb, "每人", "per person"),
            ("finding_quota_mb", self.finding_quota_mb, "每个问题", "per finding"),
        ] {
            if !(1..=4_194_304).contains(&value) {
                return Err(ValidationError::new(
                    field,
                    "out_of_range",
                    format!("{zh}的证据总量上限须在 1 MB 到 4 TB 之间"),
                    format!("The evidence quota {en} must be 1 MB to 4 TB"),
                ));
            }
            if value < self.evidence_max_mb {
                return Err(ValidationError::new(
                    field,
                    "below_file_limit",
                    format!("{zh}的证据总量上限不能小于单个文件的上限（{} MB）", self.evidence_max_mb),
                    format!("The evidence quota {en} cannot be below the largest file ({} MB)", self.evidence_max_mb),
                ));
            }
        }
        if !(1..=32).contains(&self.max_open_uploads) {
            return Err(ValidationError::new(
                "max_open_uploads",
                "out_of_range",
                "每人同时进行的上传须在 1 到 32 个之间",
                "Unfinished uploads per person must be 1 to 32",
            ));
        }
        if !(5..=600).contains(&self.upload_stall_seconds) {
            return Err(ValidationError::new(
                "upload_stall_seconds",
                "out_of_range",
                "上传停顿的时限须在 5 到 600 秒之间",
                "The upload stall timeout must be 5 to 600 seconds",
            ));
        }
        if !(1..=720).contains(&self.upload_abandon_hours) {
            return Err(ValidationError::new(
                "upload_abandon_hours",
                "out_of_range",
                "未完成上传的保留时间须在 1 到 720 小时之间",
                "Unfinished uploads must be kept 1 to 720 hours",
            ));
        }
        Ok(())
    }

    /// Largest evidence file, in bytes.
    pub fn evidence_max_bytes(&self) -> u64 {
        u64::from(self.evidence_max_mb) * MIB
    }

    /// Whether an upload of `length` bytes may start, given what the user and the finding already
    /// hold. Quotas count unfinished uploads at their full length: what they will take once done.
    pub fn admit_upload(&self, length: u64, load: UploadLoad) -> Result<(), UploadRefusal> {
        if length > self.evidence_max_bytes() {
            return Err(UploadRefusal::TooLarge { limit_mb: self.evidence_max_mb });
        }
        if load.user_open >= u64::from(self.max_open_uploads) {
            return Err(UploadRefusal::TooManyOpen { limit: self.max_open_uploads });
        }
        let user = u64::from(self.user_quota_mb) * MIB;
        if load.user_bytes.saturating_add(length) > user {
            return Err(UploadRefusal::UserQuota {
                limit_mb: self.user_quota_mb,
                free: user.saturating_sub(load.user_bytes),
            });
        }
        let finding = u64::from(self.finding_quota_mb) * MIB;
        if load.finding_bytes.saturating_add(length) > finding {
            return Err(UploadRefusal::FindingQuota {
                limit_mb: self.finding_quota_mb,
                free: finding.saturating_sub(load.finding_bytes),
            });
        }
        Ok(())
    }

    /// How long an upload request may send nothing before it is ended.
    pub fn upload_stall(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.upload_stall_seconds))
    }

    /// Unfinished uploads last touched before this are abandoned.
    pub fn uploads_abandoned_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::hours(i64::from(self.upload_abandon_hours))
    }

    /// The last day an appeal may be made, for a finding notified at `notified` (city time).
    pub fn appeal_deadline(
        &self,
        calendar: &crate::calendar::WorkCalendar,
        notified: chrono::NaiveDate,
    ) -> chrono::NaiveDate {
        calendar.add_working_days(notified, self.appeal_working_days)
    }
}

/// The categories of the speech, with their default severity: the seed of the office's taxonomy.
pub const SEED_CATEGORIES: &[(&str, &str, &str, Severity)] = &[
    ("ABSENT", "脱岗离岗", "Absent from post during working hours", Severity::General),
    ("GAMING", "上班上网游戏聊天玩牌", "Gaming, chatting or playing cards online at work", Severity::Serious),
    ("IMAGE", "着装嬉笑打闹、不注意形象", "Horseplay in uniform, careless of public image", Severity::Minor),
    ("UNSKILLED", "业务不熟、解答不了", "Unable to answer or handle the public's questions", Severity::General),
    ("RUDE", "态度生硬", "Rude attitude", Severity::General),
    ("BUCK", "推诿扯皮", "Passing the buck", Severity::Serious),
    ("LATE", "迟到早退", "Late or leaving early", Severity::Minor),
    ("FIRST_INQUIRY", "违反首问负责", "Breach of the first-inquiry rule", Severity::General),
    ("OVERDUE", "超时办理", "Overdue handling", Severity::General),
];

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::event::EventKind;
    use FindingAction::*;
    use FindingState::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        // h o'clock in the city (UTC+8).
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap() - chrono::Duration::hours(8)
    }

    const OFFICE: FindingAccess = FindingAccess { office: true, team: false, reader: false, appellant: false };
    const TEAM: FindingAccess = FindingAccess { office: false, team: true, reader: false, appellant: false };
    const HEAD: FindingAccess = FindingAccess { office: false, team: false, reader: true, appellant: true };
    const LIAISON: FindingAccess = FindingAccess { office: false, team: false, reader: true, appellant: false };

    fn finding(state: FindingState, notified_at: Option<DateTime<Utc>>) -> FindingFacts {
        FindingFacts {
            id: 7,
            state,
            subject: Subject { department_id: Some(4), window_id: Some(2), person_id: Some(9), post_id: None },
            category_id: 3,
            severity: Severity::General,
            notified_at,
        }
    }

    /// Every (state, action, actor): exactly the transitions in the diagram are allowed, each only
    /// to its actor, and each records one event of its kind about the finding's subject.
    #[test]
    fn every_finding_transition_allowed_and_refused() {
        let allowed: &[(FindingState, FindingAction, &str, FindingState, EventKind)] = &[
            (Draft, Confirm, "office", Confirmed, EventKind::FindingConfirmed),
            (Draft, Withdraw, "office", Withdrawn, EventKind::FindingWithdrawn),
            (Draft, Withdraw, "team", Withdrawn, EventKind::FindingWithdrawn),
            (Confirmed, Notify, "office", Notified, EventKind::FindingNotified),
            (Notified, Appeal, "head", Appealed, EventKind::FindingAppealed),
            (Appealed, Uphold, "office", Upheld, EventKind::FindingUpheld),
            (Appealed, Overturn, "office", Overturned, EventKind::FindingOverturned),
        ];
        let cal = WorkCalendar::default();
        let policy = InspectionPolicy::default();
        let rules = FindingRules { policy: &policy, calendar: &cal };
        let now = at(2026, 11, 3, 10);
        let mut checked = 0;
        for &state in FindingState::ALL {
            for &action in FindingAction::ALL {
                for (who, access) in [("office", OFFICE), ("team", TEAM), ("head", HEAD), ("liaison", LIAISON)] {
                    let f = finding(state, Some(at(2026, 11, 2, 9)));
                    let want = allowed.iter().find(|(s, a, w, _, _)| *s == state && *a == action && *w == who);
                    match (f.decide(action, access, "理由", now, rules), want) {
                        (Ok(d), Some((_, _, _, next, kind))) => {
                            assert_eq!(d.next, *next);
                            assert_eq!(d.events.len(), 1);
                            assert_eq!(d.events[0].kind(), *kind);
                            assert_eq!(d.events[0].aggregate_id, crate::event::AggregateId::Known(7));
                            assert_eq!(d.events[0].subject.department_id, Some(4));
                            assert_eq!(d.events[0].occurred_at, now);
                            assert!(f.allowed_actions(access, now, rules).contains(&action));
                        }
                        (Err(Refusal::Transition(t)), None) => {
                            assert!(matches!(t.reason, "state" | "actor"), "{state:?} {action:?} {who}: {t:?}");
                            assert_eq!((t.state, t.action), (state.code(), action.code()));
                            assert!(!f.allowed_actions(access, now, rules).contains(&action));
                        }
                        (got, want) => panic!("{state:?} {action:?} {who}: got {got:?}, expected {want:?}"),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 6 * 4);
    }

    #[test]
    fn refusals_say_why() {
        let cal = WorkCalendar::default();
        let policy = InspectionPolicy::default();
        let rules = FindingRules { policy: &policy, calendar: &cal };
        let now = at(2026, 11, 3, 10);
        let refusal = |f: FindingFacts, a, who, reason: &str| match f.decide(a, who, reason, now, rules) {
            Err(r) => r,
            Ok(d) => panic!("allowed: {d:?}"),
        };
        assert_eq!(refusal(finding(Draft, None), Notify, OFFICE, "").reason(), "state");
        assert_eq!(refusal(finding(Draft, None), Confirm, TEAM, "").reason(), "actor");
        assert_eq!(refusal(finding(Notified, Some(now)), Appeal, LIAISON, "x").reason(), "actor");
        match refusal(finding(Overturned, None), Appeal, HEAD, "x") {
            Refusal::Transition(t) => assert_eq!(t.zh, "“已撤销”的问题不能申诉"),
            r => panic!("{r:?}"),
        }
        // A reason is input: 422 naming the field, after the transition itself is allowed.
        match refusal(finding(Draft, None), Withdraw, TEAM, "  ") {
            Refusal::Invalid(v) => assert_eq!((v.field.as_str(), v.code), ("reason", "required")),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn appeals_close_after_the_working_days_of_the_policy() {
        let cal = WorkCalendar::default();
        let policy = InspectionPolicy::default(); // 5 working days
        let rules = FindingRules { policy: &policy, calendar: &cal };
        // Notified Monday 2 November 2026: the last day is Monday 9 November.
        let f = finding(Notified, Some(at(2026, 11, 2, 15)));
        assert_eq!(f.appeal_deadline(rules), NaiveDate::from_ymd_opt(2026, 11, 9));
        assert!(f.decide(Appeal, HEAD, "不属实", at(2026, 11, 9, 17), rules).is_ok());
        assert_eq!(
            f.decide(Appeal, HEAD, "不属实", at(2026, 11, 10, 9), rules).unwrap_err().reason(),
            "appeal_deadline_passed"
        );
        assert_eq!(f.attachable(HEAD, at(2026, 11, 9, 17), rules), vec![EvidencePurpose::Appeal]);
        assert!(f.attachable(HEAD, at(2026, 11, 10, 9), rules).is_empty());
        assert!(f.attachable(LIAISON, at(2026, 11, 9, 17), rules).is_empty());
        let appealed = finding(Appealed, f.notified_at);
        assert_eq!(appealed.attachable(HEAD, at(2026, 11, 20, 9), rules), vec![EvidencePurpose::Appeal]);
        assert_eq!(finding(Draft, None).attachable(TEAM, at(2026, 11, 20, 9), rules), vec![EvidencePurpose::Evidence]);
        assert!(finding(Confirmed, None).attachable(TEAM, at(2026, 11, 20, 9), rules).is_empty());
        assert_eq!(
            finding(Confirmed, None).attachable(OFFICE, at(2026, 11, 20, 9), rules),
            vec![EvidencePurpose::Evidence]
        );
        // Refused to this caller while open to another: `actor`; open to nobody: the state says so.
        let why = |f: &FindingFacts, p, who, when| f.may_attach(p, who, when, rules).map_err(|r| r.reason());
        assert_eq!(why(&f, EvidencePurpose::Appeal, LIAISON, at(2026, 11, 9, 17)), Err("actor"));
        assert_eq!(why(&f, EvidencePurpose::Appeal, HEAD, at(2026, 11, 9, 17)), Ok(()));
        assert_eq!(why(&f, EvidencePurpose::Appeal, HEAD, at(2026, 11, 10, 9)), Err("not_open_for_files"));
        let confirmed = finding(Confirmed, None);
        assert_eq!(why(&confirmed, EvidencePurpose::Evidence, TEAM, at(2026, 11, 20, 9)), Err("actor"));
        assert_eq!(why(&f, EvidencePurpose::Evidence, OFFICE, at(2026, 11, 9, 17)), Err("not_open_for_files"));
    }

    #[test]
    fn who_sees_what_of_a_finding() {
        for s in [Draft, Confirmed, Withdrawn] {
            assert!(OFFICE.sees(s) && TEAM.sees(s));
            assert!(!HEAD.sees(s) && !LIAISON.sees(s), "{s:?} is the office's");
        }
        for s in [Notified, Appealed, Upheld, Overturned] {
            assert!(HEAD.sees(s) && LIAISON.sees(s));
        }
        assert!(!FindingAccess::default().sees(Notified));
        assert!(!HEAD.inside() && TEAM.inside());
        assert!(!HEAD.sees_step(Confirmed) && HEAD.sees_step(Notified) && TEAM.sees_step(Draft));
    }

    #[test]
    fn visibility_and_counting() {
        assert!(!Draft.visible_to_subject() && !Confirmed.visible_to_subject());
        assert!(Notified.visible_to_subject() && Overturned.visible_to_subject());
        assert!(Confirmed.counts() && Upheld.counts());
        assert!(!Overturned.counts() && !Withdrawn.counts() && !Draft.counts());
    }

    #[test]
    fn every_plan_transition() {
        use PlanAction::*;
        use PlanState::*;
        let allowed: &[(PlanState, PlanAction, PlanState)] = &[
            (Planned, Edit, Planned),
            (Planned, Schedule, Planned),
            (Planned, Activate, Active),
            (Planned, Close, Closed),
            (Active, Edit, Active),
            (Active, Schedule, Active),
            (Active, Close, Closed),
        ];
        let now = at(2026, 11, 3, 10);
        for &state in PlanState::ALL {
            for &action in PlanAction::ALL {
                for office in [true, false] {
                    let want = allowed.iter().find(|(s, a, _)| *s == state && *a == action);
                    match (state.decide(action, office, 5, now), want) {
                        (Ok(d), Some((_, _, next))) if office => {
                            assert_eq!(d.next, *next);
                            let kinds: Vec<_> = d.events.iter().map(|e| e.kind()).collect();
                            match next {
                                _ if *next == state => assert!(kinds.is_empty()),
                                Active => assert_eq!(kinds, [EventKind::PlanActivated]),
                                _ => assert_eq!(kinds, [EventKind::PlanClosed]),
                            }
                            assert!(d.events.iter().all(|e| e.office_only()));
                        }
                        (Err(r), Some(_)) if !office => assert_eq!(r.reason(), "actor"),
                        (Err(r), None) => assert_eq!(r.reason(), "state"),
                        (got, _) => panic!("{state:?} {action:?} office={office}: {got:?}"),
                    }
                }
            }
        }
        assert_eq!(Planned.action_to(Active), Activate);
        assert_eq!(Active.action_to(Active), Edit);
        assert_eq!(Active.decide(Active.action_to(Planned), true, 5, now).unwrap_err().reason(), "state");
        assert!(PlanState::create(Closed, now).is_err());
        assert_eq!(PlanState::create(Active, now).unwrap().events[0].aggregate_id, crate::event::AggregateId::Pending);
        assert!(Closed.allowed_actions(true).is_empty());
    }

    #[test]
    fn every_visit_transition() {
        use VisitAction::*;
        use VisitState::*;
        let office = VisitActor { office: true, team: false };
        let team = VisitActor { office: false, team: true };
        let nobody = VisitActor { office: false, team: false };
        let now = at(2026, 11, 3, 10);
        let v = |state, plan_state, on: u32| VisitFacts {
            id: 3,
            plan_id: 5,
            plan_state,
            state,
            department_id: 4,
            window_id: None,
            scheduled_on: NaiveDate::from_ymd_opt(2026, 11, on).unwrap(),
        };
        let allowed: &[(VisitState, VisitAction, bool, bool)] = &[
            // (from, action, team may, office may)
            (Scheduled, Note, true, true),
            (Done, Note, true, true),
            (Cancelled, Note, true, true),
            (Scheduled, MarkDone, true, true),
            (Scheduled, Cancel, false, true),
            (Done, Reopen, true, true),
            (Cancelled, Reopen, false, true),
            (Scheduled, Record, true, true),
            (Done, Record, true, true),
        ];
        for &state in VisitState::ALL {
            for &action in VisitAction::ALL {
                for (who, may) in [(team, 0), (office, 1), (nobody, 2)] {
                    let row = allowed.iter().find(|(s, a, _, _)| *s == state && *a == action);
                    let ok = row.is_some_and(|r| match may {
                        0 => r.2,
                        1 => r.3,
                        _ => false,
                    });
                    let got = v(state, PlanState::Active, 3).decide(action, who, now);
                    assert_eq!(got.is_ok(), ok, "{state:?} {action:?} {who:?}: {got:?}");
                    if let Ok(d) = got {
                        assert_eq!(d.events.len(), usize::from(d.next != state));
                    }
                }
            }
        }
        assert_eq!(v(Scheduled, PlanState::Active, 4).decide(MarkDone, team, now).unwrap_err().reason(), "not_yet");
        assert_eq!(v(Scheduled, PlanState::Closed, 3).decide(MarkDone, team, now).unwrap_err().reason(), "plan_closed");
        assert_eq!(v(Done, PlanState::Active, 3).action_to(Scheduled), Reopen);
        assert_eq!(v(Done, PlanState::Closed, 3).decide(Record, team, now).unwrap_err().reason(), "plan_closed");
        assert_eq!(
            v(Cancelled, PlanState::Active, 3).decide(Record, team, now).unwrap_err().reason(),
            "visit_cancelled"
        );
    }

    #[test]
    fn recording_checks_the_plan_the_period_and_the_term() {
        let now = at(2026, 11, 3, 10);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let visit = VisitFacts {
            id: 3,
            plan_id: 5,
            plan_state: PlanState::Active,
            state: VisitState::Scheduled,
            department_id: 4,
            window_id: Some(2),
            scheduled_on: day(3),
        };
        let facts = RecordingFacts { visit, plan_period: (day(1), day(30)), supervisor_term: None };
        let f = NewFinding {
            subject: Subject { department_id: Some(4), window_id: Some(2), person_id: None, post_id: None },
            category_id: 3,
            severity: Severity::Minor,
            occurred_at: at(2026, 11, 3, 9),
        };
        let (d, v) = record(&f, &facts, now).unwrap();
        assert_eq!(d.events[0].kind(), EventKind::FindingRecorded);
        assert_eq!(d.events[0].occurred_at, f.occurred_at, "when it happened, not when it was typed in");
        assert_eq!(v.unwrap().events[0].kind(), EventKind::VisitDone);
        let done = RecordingFacts { visit: VisitFacts { state: VisitState::Done, ..visit }, ..facts };
        assert!(record(&f, &done, now).unwrap().1.is_none());
        let closed = RecordingFacts { visit: VisitFacts { plan_state: PlanState::Closed, ..visit }, ..facts };
        assert_eq!(record(&f, &closed, now).unwrap_err().reason(), "plan_closed");
        let out_of_term = RecordingFacts { supervisor_term: Some(Some((day(4), day(30)))), ..facts };
        assert_eq!(record(&f, &out_of_term, now).unwrap_err().reason(), "supervisor_out_of_term");
        assert_eq!(
            record(&f, &RecordingFacts { supervisor_term: Some(None), ..facts }, now).unwrap_err().reason(),
            "supervisor_out_of_term"
        );
        let future = NewFinding { occurred_at: now + chrono::Duration::hours(1), ..f.clone() };
        assert_eq!(record(&future, &facts, now).unwrap_err().reason(), "in_the_future");
        let elsewhere = NewFinding { subject: Subject::department(9), ..f };
        assert_eq!(record(&elsewhere, &facts, now).unwrap_err().reason(), "not_the_visited_department");
    }

    #[test]
    fn uploads_are_admitted_within_the_quotas() {
        let mib = 1024 * 1024;
        let p = InspectionPolicy {
            evidence_max_mb: 10,
            user_quota_mb: 30,
            finding_quota_mb: 20,
            max_open_uploads: 2,
            ..Default::default()
        };
        assert!(p.validate().is_ok());
        let load = UploadLoad { user_bytes: 15 * mib, finding_bytes: 5 * mib, user_open: 1 };
        assert_eq!(p.admit_upload(10 * mib, load), Ok(()));
        assert_eq!(p.admit_upload(10 * mib + 1, load), Err(UploadRefusal::TooLarge { limit_mb: 10 }));
        let full = UploadLoad { user_bytes: 25 * mib, ..load };
        assert_eq!(p.admit_upload(6 * mib, full), Err(UploadRefusal::UserQuota { limit_mb: 30, free: 5 * mib }));
        assert_eq!(p.admit_upload(5 * mib, full), Ok(()));
        let finding = UploadLoad { finding_bytes: 15 * mib, ..load };
        let r = p.admit_upload(6 * mib, finding).unwrap_err();
        assert_eq!(
            (r.code(), r),
            ("finding_quota_exceeded", UploadRefusal::FindingQuota { limit_mb: 20, free: 5 * mib })
        );
        assert!(r.zh().contains("5.0 MB") && r.en().contains("20 MB"));
        let busy = UploadLoad { user_open: 2, ..load };
        assert_eq!(p.admit_upload(1, busy), Err(UploadRefusal::TooManyOpen { limit: 2 }));
        // Quotas below the largest file, and timeouts out of range, are refused.
        let field = |p: InspectionPolicy| p.validate().unwrap_err().field;
        assert_eq!(field(InspectionPolicy { finding_quota_mb: 9, ..p.clone() }), "finding_quota_mb");
        assert_eq!(field(InspectionPolicy { user_quota_mb: 0, ..p.clone() }), "user_quota_mb");
        assert_eq!(field(InspectionPolicy { max_open_uploads: 0, ..p.clone() }), "max_open_uploads");
        assert_eq!(field(InspectionPolicy { upload_stall_seconds: 1, ..p.clone() }), "upload_stall_seconds");
        assert_eq!(field(InspectionPolicy { upload_abandon_hours: 0, ..p.clone() }), "upload_abandon_hours");
        assert!(InspectionPolicy::default().validate().is_ok());
        // A policy stored before these settings existed reads with their defaults.
        let old: InspectionPolicy =
            serde_json::from_str(r#"{"appeal_working_days":5,"evidence_max_mb":4096,"evidence_kinds":["video"]}"#)
                .unwrap();
        assert_eq!((old.max_open_uploads, old.upload_abandon_hours), (4, 24));
        let now = at(2026, 11, 3, 10);
        assert_eq!(p.uploads_abandoned_before(now), now - chrono::Duration::hours(24));
    }

    #[test]
    fn seed_codes_are_unique() {
        let mut codes: Vec<_> = SEED_CATEGORIES.iter().map(|c| c.0).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), SEED_CATEGORIES.len());
    }
}
