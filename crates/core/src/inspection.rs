//! Covert inspection (暗访): finding severities and the life of a finding, as a state machine
//! that says which steps are allowed, to whom, and what happened.
//!
//! draft ─confirm→ confirmed ─notify→ notified ─appeal→ appealed ─uphold→ upheld
//!   └─withdraw→ withdrawn                                        └─overturn→ overturned
//!
//! A finding counts against its department once confirmed, unless an appeal overturns it; an
//! overturned or withdrawn finding stays on record and counts nowhere.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ValidationError;

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

/// Who is acting, as far as a finding is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The Efficiency Office, which reviews findings.
    Office,
    /// A member of the inspection team that recorded it.
    Recorder,
    /// The department the finding names, or the person it names.
    Subject,
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

    /// The state after `action` by `actor`, or why it is refused.
    pub fn after(self, action: FindingAction, actor: Actor) -> Result<FindingState, ValidationError> {
        use Actor::*;
        use FindingAction::*;
        use FindingState::*;
        let next = match (self, action) {
            (Draft, Confirm) => Confirmed,
            (Draft, Withdraw) => Withdrawn,
            (Confirmed, Notify) => Notified,
            (Notified, Appeal) => Appealed,
            (Appealed, Uphold) => Upheld,
            (Appealed, Overturn) => Overturned,
            _ => {
                return Err(ValidationError::new(
                    "action",
                    "transition_not_allowed",
                    format!("“{}”状态的问题不能{}", self.label_zh(), action.label_zh()),
                    format!("Cannot {} a finding that is {}", action.code(), self.label_en()),
                ));
            }
        };
        let allowed = match action {
            Confirm | Notify | Uphold | Overturn => actor == Office,
            Withdraw => matches!(actor, Office | Recorder),
            Appeal => actor == Subject,
        };
        if !allowed {
            return Err(ValidationError::new(
                "action",
                "not_your_step",
                format!("您不能对该问题执行“{}”", action.label_zh()),
                format!("You may not {} this finding", action.code()),
            ));
        }
        Ok(next)
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
}

impl Default for InspectionPolicy {
    fn default() -> Self {
        Self {
            appeal_working_days: 5,
            evidence_max_mb: 4096,
            evidence_kinds: crate::evidence::EvidenceKind::ALL.to_vec(),
        }
    }
}

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
        Ok(())
    }

    /// Largest evidence file, in bytes.
    pub fn evidence_max_bytes(&self) -> u64 {
        u64::from(self.evidence_max_mb) * 1024 * 1024
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
    use super::*;
    use Actor::*;
    use FindingAction::*;
    use FindingState::*;

    /// Every (state, action, actor): exactly the transitions in the diagram are allowed, each
    /// only to its actor.
    #[test]
    fn every_transition_allowed_and_refused() {
        let allowed: &[(FindingState, FindingAction, Actor, FindingState)] = &[
            (Draft, Confirm, Office, Confirmed),
            (Draft, Withdraw, Office, Withdrawn),
            (Draft, Withdraw, Recorder, Withdrawn),
            (Confirmed, Notify, Office, Notified),
            (Notified, Appeal, Subject, Appealed),
            (Appealed, Uphold, Office, Upheld),
            (Appealed, Overturn, Office, Overturned),
        ];
        let mut checked = 0;
        for &state in FindingState::ALL {
            for &action in FindingAction::ALL {
                for actor in [Office, Recorder, Subject] {
                    let expected = allowed.iter().find(|(s, a, who, _)| *s == state && *a == action && *who == actor);
                    match (state.after(action, actor), expected) {
                        (Ok(next), Some((_, _, _, want))) => assert_eq!(next, *want),
                        (Err(e), None) => assert!(
                            matches!(e.code, "transition_not_allowed" | "not_your_step"),
                            "{state:?} {action:?} {actor:?}: {}",
                            e.code
                        ),
                        (got, want) => panic!("{state:?} {action:?} {actor:?}: got {got:?}, expected {want:?}"),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 6 * 3);
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(Draft.after(Notify, Office).unwrap_err().code, "transition_not_allowed");
        assert_eq!(Draft.after(Confirm, Recorder).unwrap_err().code, "not_your_step");
        assert_eq!(Notified.after(Appeal, Office).unwrap_err().code, "not_your_step");
        assert_eq!(Overturned.after(Appeal, Subject).unwrap_err().zh, "“已撤销”状态的问题不能申诉");
    }

    #[test]
    fn visibility_and_counting() {
        assert!(!Draft.visible_to_subject() && !Confirmed.visible_to_subject());
        assert!(Notified.visible_to_subject() && Overturned.visible_to_subject());
        assert!(Confirmed.counts() && Upheld.counts());
        assert!(!Overturned.counts() && !Withdrawn.counts() && !Draft.counts());
    }

    #[test]
    fn seed_codes_are_unique() {
        let mut codes: Vec<_> = SEED_CATEGORIES.iter().map(|c| c.0).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), SEED_CATEGORIES.len());
    }
}
