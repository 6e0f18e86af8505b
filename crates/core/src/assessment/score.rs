//! Scoring a period: each subject's facts through its group's rules into a score and a breakdown
//! in which every point names its event, then each group ranked, banded and held to its quotas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Grade, GroupRules, HonourLevel, Indicator, Measure, Points, Scheme, scheme::Group};

/// The tie-break, as results state it.
pub const TIE_BREAK_ZH: &str = "总分高者在前；总分相同的，扣分少者在前；仍相同的并列同一名次。并列者跨越比例限额时，均按下一等次评定，限额不被突破。";
pub const TIE_BREAK_EN: &str = "Higher total first; on equal totals, fewer points deducted first; still equal, the same rank. \
     Where those sharing a rank would cross a quota, all of them take the grade below, so that no quota is exceeded.";

/// One thing the ledger holds about a subject in the period, as an indicator counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The ledger position of the event behind it: what the breakdown links to.
    pub seq: i64,
    pub indicator: Indicator,
    pub at: DateTime<Utc>,
    /// An honour's level and what it is for: the same honour at several levels counts once.
    pub honour: Option<(HonourLevel, String)>,
}

/// A rate measured over the period: `good` of `total` (ratings satisfied, cases on time, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub measure: Measure,
    pub good: u64,
    pub total: u64,
}

/// A subject of the assessment — a department or a person — and what the period holds about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub id: i64,
    pub group: Group,
    pub facts: Vec<Fact>,
    pub rates: Vec<Rate>,
}

/// Why a line of the breakdown counts what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineNote {
    /// Counted in full.
    Counted,
    /// A veto item: the result is 不合格, nothing else is scored.
    Veto,
    /// Beyond the indicator's cap: counts nothing, or only what was left under it.
    OverCap,
    /// Too few counted for the rate to be judged.
    SmallSample,
    /// The score before the bonus is below the gate: no bonus.
    BelowGate,
    /// The same honour is counted once: at its highest level, the first given of that level.
    LowerLevel,
}

/// One line of a score's breakdown. Points are signed: deductions below zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<Indicator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
    /// The event behind it; a rate's line names its counts instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<(u64, u64)>,
    pub points: Points,
    pub note: LineNote,
}

/// A subject's score: base, veto, each deduction and bonus, total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    pub id: i64,
    pub group: Group,
    pub base: Points,
    /// The veto item that decided the result, if any: its lines are the events behind it.
    pub veto: Option<Indicator>,
    pub lines: Vec<Line>,
    pub deducted: Points,
    pub bonus: Points,
    pub total: Points,
}

/// A score placed in its group: rank (none when vetoed), the grade its total earns, and the grade
/// it gets after the quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    pub score: Score,
    pub rank: Option<u32>,
    pub banded: Grade,
    pub grade: Grade,
}

impl Placed {
    /// Graded below what its total earns because its group's quota was full.
    pub fn cut_by_quota(&self) -> bool {
        self.grade != self.banded
    }
}

/// Scores every subject whose group the scheme assesses (the others are not in the result), and
/// places each within its group. The result lists the groups in the scheme's order, each in rank
/// order, the vetoed last.
pub fn score(scheme: &Scheme, subjects: &[Facts]) -> Vec<Placed> {
    let mut placed = Vec::with_capacity(subjects.len());
    for rules in &scheme.groups {
        let scores: Vec<Score> =
            subjects.iter().filter(|s| s.group == rules.group).map(|s| score_subject(rules, s)).collect();
        placed.extend(place(rules, scores));
    }
    placed
}

/// One subject's score under its group's rules, with its breakdown.
pub fn score_subject(rules: &GroupRules, s: &Facts) -> Score {
    let mut facts: Vec<&Fact> = s.facts.iter().collect();
    facts.sort_by_key(|f| (f.at, f.seq));
    let of = |i: Indicator| facts.iter().copied().filter(move |f| f.indicator == i);
    let mut score = Score {
        id: s.id,
        group: s.group,
        base: rules.base,
        veto: None,
        lines: Vec::new(),
        deducted: Points::ZERO,
        bonus: Points::ZERO,
        total: Points::ZERO,
    };
    for v in &rules.vetoes {
        let hits: Vec<&Fact> = of(v.indicator).collect();
        if hits.len() >= v.at_least as usize {
            score.veto = Some(v.indicator);
            score.lines = hits.iter().map(|f| line(f, Points::ZERO, LineNote::Veto)).collect();
            return score;
        }
    }
    for d in &rules.deductions {
        let mut left = d.cap;
        for f in of(d.indicator) {
            let take = d.each.min(left);
            left = left - take;
            let note = if take == d.each { LineNote::Counted } else { LineNote::OverCap };
            score.lines.push(line(f, Points::ZERO - take, note));
            score.deducted = score.deducted + take;
        }
    }
    for r in &rules.rates {
        let Some(rate) = s.rates.iter().find(|x| x.measure == r.measure) else { continue };
        let (take, note) = if rate.total < r.min_sample {
            (Points::ZERO, LineNote::SmallSample)
        } else {
            // Basis points: the target in hundredths of a percent is already one.
            let achieved = (rate.good.min(rate.total) * 10_000 / rate.total) as i64;
            let short = (r.target.0 - achieved).max(0);
            let full = Points((short * r.per_point.0 + 50) / 100);
            if full > r.cap { (r.cap, LineNote::OverCap) } else { (full, LineNote::Counted) }
        };
        score.lines.push(Line {
            indicator: None,
            measure: Some(r.measure),
            seq: None,
            counts: Some((rate.good, rate.total)),
            points: Points::ZERO - take,
            note,
        });
        score.deducted = score.deducted + take;
    }
    let before_bonus = (rules.base - score.deducted).max(Points::ZERO);
    // The same honour counts once, at its highest level; the first given of that level.
    let mut best: BTreeMap<&str, &Fact> = BTreeMap::new();
    for f in of(Indicator::Honour) {
        if let Some((level, what)) = &f.honour {
            let e = best.entry(what.as_str()).or_insert(f);
            if e.honour.as_ref().is_some_and(|(l, _)| level > l) {
                *e = f;
            }
        }
    }
    let mut left = rules.bonus.cap;
    for f in of(Indicator::Honour) {
        let Some((level, what)) = &f.honour else { continue };
        let (give, note) = if best.get(what.as_str()).is_none_or(|b| b.seq != f.seq) {
            (Points::ZERO, LineNote::LowerLevel)
        } else if before_bonus < rules.bonus.gate {
            (Points::ZERO, LineNote::BelowGate)
        } else {
            let full = rules.bonus.for_level(*level);
            let give = full.min(left);
            left = left - give;
            (give, if give == full { LineNote::Counted } else { LineNote::OverCap })
        };
        score.lines.push(line(f, give, note));
        score.bonus = score.bonus + give;
    }
    score.total = before_bonus + score.bonus;
    score
}

fn line(f: &Fact, points: Points, note: LineNote) -> Line {
    Line { indicator: Some(f.indicator), measure: None, seq: Some(f.seq), counts: None, points, note }
}

fn band(rules: &GroupRules, total: Points) -> Grade {
    let b = &rules.bands;
    if total >= b.excellent {
        Grade::Excellent
    } else if total >= b.good {
        Grade::Good
    } else if total >= b.pass {
        Grade::Pass
    } else {
        Grade::Fail
    }
}

/// Ranks a group (see [`TIE_BREAK_EN`]), bands each total and holds the grades to the quotas,
/// counted on the whole group, the vetoed included.
pub fn place(rules: &GroupRules, mut scores: Vec<Score>) -> Vec<Placed> {
    let n = scores.len();
    scores.sort_by(|a, b| {
        (a.veto.is_some(), std::cmp::Reverse(a.total), a.deducted, a.id).cmp(&(
            b.veto.is_some(),
            std::cmp::Reverse(b.total),
            b.deducted,
            b.id,
        ))
    });
    let mut placed: Vec<Placed> = Vec::with_capacity(n);
    for (i, s) in scores.into_iter().enumerate() {
        let rank = match placed.last() {
            _ if s.veto.is_some() => None,
            Some(p) if p.score.total == s.total && p.score.deducted == s.deducted => p.rank,
            _ => Some(i as u32 + 1),
        };
        let banded = if s.veto.is_some() { Grade::Fail } else { band(rules, s.total) };
        placed.push(Placed { score: s, rank, banded, grade: banded });
    }
    let quota = |pct: u8| n * usize::from(pct) / 100;
    hold(&mut placed, Grade::Excellent, Grade::Good, quota(rules.quotas.excellent_pct));
    if let Some(good) = rules.quotas.good_pct {
        hold(&mut placed, Grade::Good, Grade::Pass, quota(good));
    }
    placed
}

/// Keeps at most `max` of the group at `grade`, in rank order; those sharing a rank are admitted
/// together or not at all, and those not admitted take `below`.
fn hold(placed: &mut [Placed], grade: Grade, below: Grade, max: usize) {
    let mut used = 0;
    let mut full = false;
    let mut i = 0;
    while i < placed.len() {
        let rank = placed[i].rank;
        let mut j = i + 1;
        while j < placed.len() && rank.is_some() && placed[j].rank == rank {
            j += 1;
        }
        let at_grade = placed[i..j].iter().filter(|p| p.grade == grade).count();
        if at_grade > 0 {
            if !full && used + at_grade <= max {
                used += at_grade;
            } else {
                full = true;
                for p in placed[i..j].iter_mut().filter(|p| p.grade == grade) {
                    p.grade = below;
                }
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        assessment::{PeriodKind, Quotas, scheme::tests::window_class},
        org::{DepartmentCategory, PostType},
    };

    fn at(day: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap().and_hms_opt(2, 0, 0).unwrap().and_utc()
    }

    fn fact(seq: i64, indicator: Indicator, day: u32) -> Fact {
        Fact { seq, indicator, at: at(day), honour: None }
    }

    fn honour(seq: i64, level: HonourLevel, what: &str, day: u32) -> Fact {
        Fact { seq, indicator: Indicator::Honour, at: at(day), honour: Some((level, what.into())) }
    }

    const WINDOWS: Group = Group::Class(DepartmentCategory::WindowService);

    fn dept(id: i64, facts: Vec<Fact>, rates: Vec<Rate>) -> Facts {
        Facts { id, group: WINDOWS, facts, rates }
    }

    fn scheme(g: GroupRules) -> Scheme {
        Scheme { period: PeriodKind::Month, groups: vec![g] }
    }

    fn pts(lines: &[Line]) -> Vec<(Option<i64>, i64, LineNote)> {
        lines.iter().map(|l| (l.seq, l.points.0, l.note)).collect()
    }

    #[test]
    fn a_veto_decides_before_any_points() {
        let s = scheme(window_class());
        let facts = vec![
            fact(7, Indicator::FindingGeneral, 2),
            fact(9, Indicator::BulletinMedia, 20),
            honour(11, HonourLevel::National, "青年文明号", 25),
        ];
        let p = &score(&s, &[dept(1, facts, vec![])])[0];
        assert_eq!(p.score.veto, Some(Indicator::BulletinMedia));
        assert_eq!(pts(&p.score.lines), vec![(Some(9), 0, LineNote::Veto)]);
        assert_eq!((p.rank, p.banded, p.grade), (None, Grade::Fail, Grade::Fail));
    }

    #[test]
    fn deductions_count_each_event_until_the_cap() {
        // Six general findings at 2 each, cap 10: 2+2+2+2+2, then 0 for the sixth (over the cap);
        // three overdue orders at 3 each, cap 6: 3, 3, then 0; in the order they happened.
        let mut facts: Vec<Fact> = (1..=6).map(|d| fact(100 + i64::from(d), Indicator::FindingGeneral, d)).collect();
        facts.extend([
            fact(203, Indicator::OrderOverdue, 9),
            fact(201, Indicator::OrderOverdue, 7),
            fact(202, Indicator::OrderOverdue, 8),
        ]);
        let mut g = window_class();
        g.deductions[2].cap = Points(700); // 3 + 3, then 1 of the third's 3
        let p = &score(&scheme(g), &[dept(1, facts, vec![])])[0];
        assert_eq!(
            pts(&p.score.lines),
            vec![
                (Some(101), -200, LineNote::Counted),
                (Some(102), -200, LineNote::Counted),
                (Some(103), -200, LineNote::Counted),
                (Some(104), -200, LineNote::Counted),
                (Some(105), -200, LineNote::Counted),
                (Some(106), 0, LineNote::OverCap),
                (Some(201), -300, LineNote::Counted),
                (Some(202), -300, LineNote::Counted),
                (Some(203), -100, LineNote::OverCap),
            ]
        );
        assert_eq!((p.score.deducted, p.score.total), (Points::whole(17), Points::whole(83)));
        assert_eq!(p.banded, Grade::Good);
    }

    #[test]
    fn a_rate_below_target_deducts_per_point_short_and_a_small_sample_nothing() {
        let g = window_class(); // target 95%, 1 a point, cap 5, at least 30 counted
        let s = scheme(g);
        let rate = |good, total| vec![Rate { measure: Measure::Satisfaction, good, total }];
        // 92.5%: 2.5 points short → 2.5.
        let a = &score(&s, &[dept(1, vec![], rate(370, 400))])[0];
        assert_eq!(pts(&a.score.lines), vec![(None, -250, LineNote::Counted)]);
        assert_eq!(a.score.lines[0].counts, Some((370, 400)));
        // 80%: 15 short, capped at 5.
        let b = &score(&s, &[dept(2, vec![], rate(80, 100))])[0];
        assert_eq!(pts(&b.score.lines), vec![(None, -500, LineNote::OverCap)]);
        // 3 ratings, one satisfied: too few to judge.
        let c = &score(&s, &[dept(3, vec![], rate(1, 3))])[0];
        assert_eq!(pts(&c.score.lines), vec![(None, 0, LineNote::SmallSample)]);
        assert_eq!(c.score.total, Points::whole(100));
    }

    #[test]
    fn a_bonus_is_gated_capped_and_counts_an_honour_once_at_its_highest_level() {
        // City 1, province 2, national 4; gate 80; cap 5.
        let honours = vec![
            honour(1, HonourLevel::City, "青年文明号", 2),
            honour(2, HonourLevel::Province, "青年文明号", 10),
            honour(3, HonourLevel::National, "巾帼文明岗", 12),
            honour(4, HonourLevel::City, "优质服务窗口", 20),
        ];
        let s = scheme(window_class());
        let p = &score(&s, &[dept(1, honours.clone(), vec![])])[0];
        // 青年文明号 at the city level is replaced by its provincial one: 2 + 4 = 6 > 5, so the
        // last (the city's 优质服务窗口, 1) gets nothing.
        assert_eq!(
            pts(&p.score.lines),
            vec![
                (Some(1), 0, LineNote::LowerLevel),
                (Some(2), 200, LineNote::Counted),
                (Some(3), 300, LineNote::OverCap),
                (Some(4), 0, LineNote::OverCap),
            ]
        );
        assert_eq!((p.score.bonus, p.score.total), (Points::whole(5), Points::whole(105)));
        // Below the gate (100 − 10 − 5 − 6 = 79 < 80): no bonus at all.
        let mut facts: Vec<Fact> = (1..=5).map(|d| fact(10 + i64::from(d), Indicator::FindingGeneral, d)).collect();
        facts.extend((1..=10).map(|d| fact(20 + i64::from(d), Indicator::FindingMinor, d)));
        facts.extend([fact(31, Indicator::OrderOverdue, 3), fact(32, Indicator::OrderOverdue, 4)]);
        facts.extend(honours);
        let p = &score(&s, &[dept(2, facts, vec![])])[0];
        assert_eq!(p.score.deducted, Points::whole(21));
        assert_eq!(p.score.bonus, Points::ZERO);
        assert!(
            p.score
                .lines
                .iter()
                .filter(|l| l.indicator == Some(Indicator::Honour))
                .all(|l| l.points == Points::ZERO && matches!(l.note, LineNote::BelowGate | LineNote::LowerLevel))
        );
        assert_eq!(p.score.total, Points::whole(79));
    }

    #[test]
    fn quotas_hold_per_group_and_ties_at_the_edge_all_take_the_grade_below() {
        // Ten departments, 优秀 at most 20% (2). Totals 100, 98, 96, 96 (tied: the same
        // deductions), and six of 94: all above the excellent mark of 90.
        let s = scheme(window_class());
        let general = |seq, n: u32| (0..n).map(move |k| fact(seq + i64::from(k), Indicator::FindingGeneral, k + 1));
        let mut subjects = vec![
            dept(1, vec![], vec![]),                   // 100
            dept(2, general(10, 1).collect(), vec![]), // 98
            dept(3, general(20, 2).collect(), vec![]), // 96, deducted 4
            dept(4, general(30, 2).collect(), vec![]), // 96, deducted 4
        ];
        subjects.extend((5..=10).map(|id| dept(id, general(id * 100, 3).collect(), vec![]))); // 94
        let p = score(&s, &subjects);
        let view: Vec<(i64, Option<u32>, Grade, Grade)> =
            p.iter().map(|p| (p.score.id, p.rank, p.banded, p.grade)).collect();
        assert_eq!(
            view[..4].to_vec(),
            vec![
                (1, Some(1), Grade::Excellent, Grade::Excellent),
                (2, Some(2), Grade::Excellent, Grade::Excellent),
                (3, Some(3), Grade::Excellent, Grade::Good),
                (4, Some(3), Grade::Excellent, Grade::Good),
            ]
        );
        assert!(view[4..].iter().all(|v| v.1 == Some(5) && v.3 == Grade::Good));

        // With three allowed (30%), the two tied at rank 3 would make four: both drop, and so does
        // everyone after them, though one place is left. 良好 at most three: the two of rank 3
        // fit; the six tied at rank 5 would make eight, so they take 合格.
        let mut g3 = window_class();
        g3.quotas = Quotas { excellent_pct: 30, good_pct: Some(30) };
        let p = score(&scheme(g3), &subjects);
        let grades: Vec<Grade> = p.iter().map(|p| p.grade).collect();
        assert_eq!(&grades[..2], &[Grade::Excellent, Grade::Excellent]);
        assert_eq!(&grades[2..4], &[Grade::Good, Grade::Good]);
        assert!(grades[4..].iter().all(|g| *g == Grade::Pass));
        assert!(p[4].cut_by_quota());

        // A tie broken by fewer deductions: same total 96, one by a bonus.
        let tied = vec![
            dept(1, general(10, 2).collect(), vec![]), // 96, deducted 4
            dept(
                2,
                {
                    let mut f: Vec<Fact> = general(20, 3).collect(); // 94 …
                    f.push(honour(29, HonourLevel::Province, "文明窗口", 9)); // … + 2 = 96, deducted 6
                    f
                },
                vec![],
            ),
        ];
        let p = score(&s, &tied);
        assert_eq!(p.iter().map(|p| (p.score.id, p.rank)).collect::<Vec<_>>(), vec![(1, Some(1)), (2, Some(2))]);
    }

    #[test]
    fn groups_are_ranked_apart_and_quotas_count_the_vetoed() {
        let mut tier = window_class();
        tier.group = Group::Tier(PostType::WindowStaff);
        tier.quotas.excellent_pct = 50;
        let s = Scheme { period: PeriodKind::Quarter, groups: vec![window_class(), tier] };
        let person = |id, facts| Facts { id, group: Group::Tier(PostType::WindowStaff), facts, rates: vec![] };
        let subjects = vec![
            person(1, vec![]),
            person(2, vec![fact(5, Indicator::FindingSerious, 3)]),
            dept(9, vec![], vec![]),
            Facts { id: 8, group: Group::Class(DepartmentCategory::General), facts: vec![], rates: vec![] },
        ];
        let p = score(&s, &subjects);
        let view: Vec<(i64, Option<u32>, Grade)> = p.iter().map(|p| (p.score.id, p.rank, p.grade)).collect();
        // The class of windows: one department, 20% of 1 is 0 — no 优秀. The tier: two people,
        // 50% of 2 is 1. Department 8's class is not in the scheme: not assessed.
        assert_eq!(view, vec![(9, Some(1), Grade::Good), (1, Some(1), Grade::Excellent), (2, None, Grade::Fail)]);
    }
}
