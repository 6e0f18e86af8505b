//! The accountability ladder (责任追究制, `DOMAIN.md` §4): rules over rolling windows that
//! **propose** a sanction — "2 confirmed findings within 12 months → 效能告诫", "ranked last two
//! months running → 提醒谈话", "不合格 two quarters running → 诫勉谈话". A person decides; this
//! module only finds what the rules propose and on what basis, so that the same situation is
//! proposed once however often the rules are run.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ValidationError,
    assessment::{Fact, Grade, Indicator},
    clock::city_day,
};

labelled_enum! {
    /// The ladder, mildest first.
    Sanction {
        ReminderTalk = "reminder_talk", "提醒谈话", "reminder talk";
        AdmonitionTalk = "admonition_talk", "诫勉谈话", "admonition talk";
        EfficiencyWarning = "efficiency_warning", "效能告诫", "efficiency warning";
        CirculatedCriticism = "circulated_criticism", "通报批评", "criticism circulated";
        Reassignment = "reassignment", "调离岗位", "removal from post";
        Retraining = "retraining", "待岗学习", "suspension for retraining";
    }
}

/// What makes a rule propose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Trigger {
    /// At least `count` facts of the indicator within the last `months` months.
    Facts { indicator: Indicator, count: u32, months: u32 },
    /// Last in its class or tier in `periods` published results running.
    RankedLast { periods: u32 },
    /// Graded `grade` in `periods` published results running.
    Graded { grade: Grade, periods: u32 },
}

/// A rule of the ladder: its trigger and the sanction it proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub trigger: Trigger,
    pub propose: Sanction,
}

/// One published result of a subject, as the rules read it: oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placing {
    /// The published result's id.
    pub result_id: i64,
    pub grade: Grade,
    /// Last in its class or tier (alone or tied).
    pub last: bool,
}

/// What a rule proposes, and the basis: the events or the published results that met it. The
/// basis's last item is its key: the same rule on the same last item proposes nothing new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub rule: usize,
    pub sanction: Sanction,
    pub events: Vec<i64>,
    pub results: Vec<i64>,
}

impl Proposal {
    /// What makes the proposal the same one when the rules run again.
    pub fn basis_key(&self) -> i64 {
        self.events.last().or(self.results.last()).copied().unwrap_or_default()
    }
}

/// Checks a ladder before it is saved; each error names its rule.
pub fn validate(rules: &[Rule]) -> Vec<ValidationError> {
    let mut errs = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let bad = |part: &str, zh: &str, en: &str| {
            ValidationError::new(format!("rules[{i}].trigger.{part}"), "out_of_range", zh, en)
        };
        match r.trigger {
            Trigger::Facts { indicator, count, months } => {
                if indicator == Indicator::Honour {
                    errs.push(ValidationError::new(
                        format!("rules[{i}].trigger.indicator"),
                        "not_a_penalty",
                        "表彰不能引起问责",
                        "An honour cannot lead to a sanction",
                    ));
                }
                if count == 0 {
                    errs.push(bad("count", "次数至少为 1", "The count must be at least 1"));
                }
                if !(1..=60).contains(&months) {
                    errs.push(bad("months", "期间须为 1 到 60 个月", "The window must be 1 to 60 months"));
                }
            }
            Trigger::RankedLast { periods } | Trigger::Graded { periods, .. } => {
                if !(1..=24).contains(&periods) {
                    errs.push(bad("periods", "连续期数须为 1 到 24", "The periods running must be 1 to 24"));
                }
            }
        }
    }
    errs
}

/// What the rules propose for one subject on `today` (a city day), from its facts (any order) and
/// its published results (oldest first). A facts rule looks back `months` months from `today`;
/// a results rule reads the latest results.
pub fn propose(rules: &[Rule], facts: &[Fact], placings: &[Placing], today: NaiveDate) -> Vec<Proposal> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let hit = match r.trigger {
            Trigger::Facts { indicator, count, months } => {
                let since = today.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN);
                let within = |at: DateTime<Utc>| {
                    let d = city_day(at);
                    since < d && d <= today
                };
                let mut seqs: Vec<i64> =
                    facts.iter().filter(|f| f.indicator == indicator && within(f.at)).map(|f| f.seq).collect();
                seqs.sort_unstable();
                (seqs.len() >= count as usize).then_some((seqs, Vec::new()))
            }
            Trigger::RankedLast { periods } => running(placings, periods, |p| p.last),
            Trigger::Graded { grade, periods } => running(placings, periods, |p| p.grade == grade),
        };
        if let Some((events, results)) = hit {
            out.push(Proposal { rule: i, sanction: r.propose, events, results });
        }
    }
    out
}

/// The last `periods` results, if each of them meets `meets`.
fn running(placings: &[Placing], periods: u32, meets: impl Fn(&Placing) -> bool) -> Option<(Vec<i64>, Vec<i64>)> {
    let n = periods as usize;
    let tail = placings.get(placings.len().checked_sub(n)?..)?;
    (n > 0 && tail.iter().all(meets)).then(|| (Vec::new(), tail.iter().map(|p| p.result_id).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(seq: i64, y: i32, m: u32, d: u32) -> Fact {
        let at = crate::clock::city_midnight(NaiveDate::from_ymd_opt(y, m, d).unwrap()) + chrono::Duration::hours(9);
        Fact { seq, indicator: Indicator::FindingGeneral, at, honour: None }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn ladder() -> Vec<Rule> {
        vec![
            Rule {
                trigger: Trigger::Facts { indicator: Indicator::FindingGeneral, count: 2, months: 12 },
                propose: Sanction::EfficiencyWarning,
            },
            Rule { trigger: Trigger::RankedLast { periods: 2 }, propose: Sanction::ReminderTalk },
            Rule { trigger: Trigger::Graded { grade: Grade::Fail, periods: 2 }, propose: Sanction::AdmonitionTalk },
        ]
    }

    #[test]
    fn two_findings_within_twelve_months_propose_a_warning_and_the_window_rolls() {
        let facts = [finding(5, 2025, 12, 10), finding(9, 2026, 6, 1)];
        // On 2026-12-09 both are within the last 12 months.
        let p = propose(&ladder(), &facts, &[], day(2026, 12, 9));
        assert_eq!(
            p,
            vec![Proposal { rule: 0, sanction: Sanction::EfficiencyWarning, events: vec![5, 9], results: vec![] }]
        );
        assert_eq!(p[0].basis_key(), 9);
        // On 2026-12-10 the first is twelve months old: out of the window, nothing proposed.
        assert!(propose(&ladder(), &facts, &[], day(2026, 12, 10)).is_empty());
        // A finding dated after today (a clock behind the ledger) is not counted.
        assert!(propose(&ladder(), &facts, &[], day(2026, 5, 31)).is_empty());
    }

    #[test]
    fn results_running_propose_only_while_every_one_of_them_meets_the_rule() {
        let r = |result_id, grade, last| Placing { result_id, grade, last };
        let today = day(2026, 12, 9);
        // Last in October and November: a reminder talk on those two results.
        let p = propose(
            &ladder(),
            &[],
            &[r(1, Grade::Pass, false), r(2, Grade::Pass, true), r(3, Grade::Pass, true)],
            today,
        );
        assert_eq!(
            p,
            vec![Proposal { rule: 1, sanction: Sanction::ReminderTalk, events: vec![], results: vec![2, 3] }]
        );
        // Last, then not: nothing. One result only: nothing.
        assert!(propose(&ladder(), &[], &[r(2, Grade::Pass, true), r(3, Grade::Good, false)], today).is_empty());
        assert!(propose(&ladder(), &[], &[r(3, Grade::Fail, true)], today).is_empty());
        // 不合格 two quarters running, and last in both: both rules.
        let p = propose(&ladder(), &[], &[r(7, Grade::Fail, true), r(8, Grade::Fail, true)], today);
        assert_eq!(
            p.iter().map(|p| p.sanction).collect::<Vec<_>>(),
            vec![Sanction::ReminderTalk, Sanction::AdmonitionTalk]
        );
    }

    #[test]
    fn a_ladder_is_checked_rule_by_rule() {
        let rules = vec![
            Rule {
                trigger: Trigger::Facts { indicator: Indicator::Honour, count: 0, months: 0 },
                propose: Sanction::Retraining,
            },
            Rule { trigger: Trigger::RankedLast { periods: 0 }, propose: Sanction::ReminderTalk },
        ];
        let got: Vec<(String, &str)> = validate(&rules).into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            got,
            vec![
                ("rules[0].trigger.indicator".to_owned(), "not_a_penalty"),
                ("rules[0].trigger.count".to_owned(), "out_of_range"),
                ("rules[0].trigger.months".to_owned(), "out_of_range"),
                ("rules[1].trigger.periods".to_owned(), "out_of_range"),
            ]
        );
        assert!(validate(&ladder()).is_empty());
        let json = serde_json::to_string(&ladder()[1]).unwrap();
        assert_eq!(json, r#"{"trigger":{"kind":"ranked_last","periods":2},"propose":"reminder_talk"}"#);
    }
}
