//! A scheme as the office writes it, and the checks it must pass before it is saved: each error
//! names the part of the scheme it is about (`groups[1].deductions[0].cap`).

use serde::{Deserialize, Serialize};

use super::{HonourLevel, Indicator, Measure, PeriodKind, Points};
use crate::{
    ValidationError,
    org::{DepartmentCategory, PostType},
};

/// A scheme: the rules of each class of departments and each tier of people it assesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    pub period: PeriodKind,
    pub groups: Vec<GroupRules>,
}

/// Whom a set of rules assesses: departments of a category, or people of a post type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Class(DepartmentCategory),
    Tier(PostType),
}

impl Group {
    pub fn label(self, english: bool) -> &'static str {
        match self {
            Group::Class(c) => c.label(english),
            Group::Tier(t) => t.label(english),
        }
    }
}

/// One class's or tier's rules, applied in this order: vetoes, base less deductions, bonus,
/// bands, quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRules {
    pub group: Group,
    pub base: Points,
    #[serde(default)]
    pub vetoes: Vec<Veto>,
    #[serde(default)]
    pub deductions: Vec<Deduction>,
    #[serde(default)]
    pub rates: Vec<RateRule>,
    pub bonus: Bonus,
    pub bands: Bands,
    pub quotas: Quotas,
}

/// 一票否决: this many facts of the indicator in the period make the result 不合格.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Veto {
    pub indicator: Indicator,
    pub at_least: u32,
}

/// Each fact of the indicator deducts `each`, the indicator `cap` at most in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    pub indicator: Indicator,
    pub each: Points,
    pub cap: Points,
}

/// A rate below its target deducts `per_point` for each percentage point short, `cap` at most;
/// fewer than `min_sample` counted (a window with three ratings) deducts nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRule {
    pub measure: Measure,
    /// The target in percent, up to two decimals (95.5).
    pub target: Points,
    pub per_point: Points,
    pub cap: Points,
    pub min_sample: u64,
}

/// Honours add points by level, only to a score at or above the gate, and no more than the cap
/// in all; the same honour counts once, at its highest level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bonus {
    pub gate: Points,
    pub cap: Points,
    pub city: Points,
    pub province: Points,
    pub national: Points,
}

impl Bonus {
    pub fn for_level(&self, level: HonourLevel) -> Points {
        match level {
            HonourLevel::City => self.city,
            HonourLevel::Province => self.province,
            HonourLevel::National => self.national,
        }
    }
}

/// The lowest total of each grade; below `pass` is 不合格.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bands {
    pub excellent: Points,
    pub good: Points,
    pub pass: Points,
}

/// At most this percentage of the class or tier (rounded down) may be graded 优秀, and 良好 where
/// set; those beyond it, in rank order, take the grade below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    pub excellent_pct: u8,
    #[serde(default)]
    pub good_pct: Option<u8>,
}

impl Default for Quotas {
    /// 优秀 at most 20%, the usual rule.
    fn default() -> Self {
        Quotas { excellent_pct: 20, good_pct: None }
    }
}

const MAX_BASE: Points = Points(100_000);

fn err(field: String, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ValidationError {
    ValidationError::new(field, code, zh, en)
}

impl Scheme {
    pub fn rules(&self, group: Group) -> Option<&GroupRules> {
        self.groups.iter().find(|g| g.group == group)
    }

    /// Every rule the scheme breaks, each naming its part; empty when the scheme can be saved.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errs = Vec::new();
        if self.groups.is_empty() {
            errs.push(err("groups".into(), "required", "至少设置一个考核类别或层级", "Set at least one class or tier"));
        }
        for (i, g) in self.groups.iter().enumerate() {
            let at = format!("groups[{i}]");
            if self.groups[..i].iter().any(|o| o.group == g.group) {
                errs.push(err(
                    format!("{at}.group"),
                    "duplicate",
                    format!("{}重复设置", g.group.label(false)),
                    format!("{} is set twice", g.group.label(true)),
                ));
            }
            g.check(&at, &mut errs);
        }
        errs
    }
}

impl GroupRules {
    /// The highest total a subject of this group can reach: the base and the whole bonus.
    pub fn ceiling(&self) -> Points {
        self.base + self.bonus.cap
    }

    fn check(&self, at: &str, errs: &mut Vec<ValidationError>) {
        if self.base <= Points::ZERO || self.base > MAX_BASE {
            errs.push(err(
                format!("{at}.base"),
                "out_of_range",
                "基础分须在 0 到 1000 之间",
                "The base must be above 0 and at most 1000",
            ));
        }
        for (j, v) in self.vetoes.iter().enumerate() {
            if v.at_least == 0 {
                errs.push(err(
                    format!("{at}.vetoes[{j}].at_least"),
                    "out_of_range",
                    "否决次数至少为 1",
                    "A veto needs at least 1",
                ));
            }
            if v.indicator == Indicator::Honour {
                errs.push(not_a_penalty(format!("{at}.vetoes[{j}].indicator")));
            }
            if self.vetoes[..j].iter().any(|o| o.indicator == v.indicator) {
                errs.push(twice(format!("{at}.vetoes[{j}].indicator"), v.indicator.label_zh(), v.indicator.label_en()));
            }
        }
        for (j, d) in self.deductions.iter().enumerate() {
            let f = format!("{at}.deductions[{j}]");
            if d.indicator == Indicator::Honour {
                errs.push(not_a_penalty(format!("{f}.indicator")));
            }
            if self.deductions[..j].iter().any(|o| o.indicator == d.indicator) {
                errs.push(twice(format!("{f}.indicator"), d.indicator.label_zh(), d.indicator.label_en()));
            }
            if d.each <= Points::ZERO {
                errs.push(err(
                    format!("{f}.each"),
                    "out_of_range",
                    "每次扣分须大于 0",
                    "Points per fact must be above 0",
                ));
            }
            if d.cap < d.each || d.cap > self.base {
                errs.push(err(
                    format!("{f}.cap"),
                    "out_of_range",
                    "扣分上限须不小于每次扣分，且不超过基础分",
                    "The cap must be at least the points per fact and at most the base",
                ));
            }
        }
        for (j, r) in self.rates.iter().enumerate() {
            let f = format!("{at}.rates[{j}]");
            if self.rates[..j].iter().any(|o| o.measure == r.measure) {
                errs.push(twice(format!("{f}.measure"), r.measure.label_zh(), r.measure.label_en()));
            }
            if r.target <= Points::ZERO || r.target > Points::whole(100) {
                errs.push(err(
                    format!("{f}.target"),
                    "out_of_range",
                    "目标值须在 0 到 100% 之间",
                    "The target must be above 0 and at most 100%",
                ));
            }
            if r.per_point <= Points::ZERO {
                errs.push(err(
                    format!("{f}.per_point"),
                    "out_of_range",
                    "每低一个百分点的扣分须大于 0",
                    "Points per percentage point must be above 0",
                ));
            }
            if r.cap <= Points::ZERO || r.cap > self.base {
                errs.push(err(
                    format!("{f}.cap"),
                    "out_of_range",
                    "扣分上限须大于 0，且不超过基础分",
                    "The cap must be above 0 and at most the base",
                ));
            }
            if r.min_sample == 0 {
                errs.push(err(
                    format!("{f}.min_sample"),
                    "out_of_range",
                    "最少样本数至少为 1",
                    "The smallest sample must be at least 1",
                ));
            }
        }
        let b = &self.bonus;
        if b.cap < Points::ZERO || b.cap > self.base {
            errs.push(err(
                format!("{at}.bonus.cap"),
                "out_of_range",
                "加分上限须在 0 到基础分之间",
                "The bonus cap must be between 0 and the base",
            ));
        }
        if b.gate < Points::ZERO || b.gate > self.base {
            errs.push(err(
                format!("{at}.bonus.gate"),
                "out_of_range",
                "加分门槛须在 0 到基础分之间",
                "The bonus gate must be between 0 and the base",
            ));
        }
        for (level, p) in [("city", b.city), ("province", b.province), ("national", b.national)] {
            if p < Points::ZERO || p > b.cap {
                errs.push(err(
                    format!("{at}.bonus.{level}"),
                    "out_of_range",
                    "各级表彰加分须在 0 到加分上限之间",
                    "An honour's points must be between 0 and the bonus cap",
                ));
            }
        }
        if !(b.city <= b.province && b.province <= b.national) {
            errs.push(err(
                format!("{at}.bonus.province"),
                "out_of_order",
                "加分须市级 ≤ 省级 ≤ 国家级",
                "Points must rise from city to province to national",
            ));
        }
        let n = &self.bands;
        if n.pass <= Points::ZERO {
            errs.push(err(
                format!("{at}.bands.pass"),
                "out_of_range",
                "合格分数线须大于 0",
                "The pass mark must be above 0",
            ));
        }
        if n.good <= n.pass {
            errs.push(err(
                format!("{at}.bands.good"),
                "out_of_order",
                "良好分数线须高于合格分数线",
                "The good mark must be above the pass mark",
            ));
        }
        if n.excellent <= n.good {
            errs.push(err(
                format!("{at}.bands.excellent"),
                "out_of_order",
                "优秀分数线须高于良好分数线",
                "The excellent mark must be above the good mark",
            ));
        }
        if n.excellent > self.ceiling() {
            errs.push(err(
                format!("{at}.bands.excellent"),
                "unreachable",
                format!("优秀分数线高于可得最高分 {}（基础分加加分上限），无人能达到", self.ceiling()),
                format!(
                    "No one can reach the excellent mark: the highest total is {} (the base and the bonus cap)",
                    self.ceiling()
                ),
            ));
        }
        let q = &self.quotas;
        if q.excellent_pct > 100 {
            errs.push(err(
                format!("{at}.quotas.excellent_pct"),
                "out_of_range",
                "优秀比例须在 0 到 100% 之间",
                "The excellent quota must be between 0 and 100%",
            ));
        }
        if let Some(good) = q.good_pct
            && (good > 100 || u16::from(good) + u16::from(q.excellent_pct) > 100)
        {
            errs.push(err(
                format!("{at}.quotas.good_pct"),
                "out_of_range",
                "优秀与良好比例之和不能超过 100%",
                "The excellent and good quotas together cannot exceed 100%",
            ));
        }
    }
}

fn not_a_penalty(field: String) -> ValidationError {
    err(field, "not_a_penalty", "表彰只能作为加分项", "An honour can only be a bonus")
}

fn twice(field: String, zh: &str, en: &str) -> ValidationError {
    err(field, "duplicate", format!("{zh}重复设置"), format!("{en} is set twice"))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A window-service class as many cities write it: base 100, a serious finding or a media
    /// exposure vetoes, findings and overdue rectification deducted under caps, satisfaction
    /// below 95% deducted, honours above 80 points, bands 90 / 80 / 60, 优秀 at most 20%.
    pub fn window_class() -> GroupRules {
        GroupRules {
            group: Group::Class(DepartmentCategory::WindowService),
            base: Points::whole(100),
            vetoes: vec![
                Veto { indicator: Indicator::FindingSerious, at_least: 1 },
                Veto { indicator: Indicator::BulletinMedia, at_least: 1 },
            ],
            deductions: vec![
                Deduction { indicator: Indicator::FindingGeneral, each: Points::whole(2), cap: Points::whole(10) },
                Deduction { indicator: Indicator::FindingMinor, each: Points(50), cap: Points::whole(5) },
                Deduction { indicator: Indicator::OrderOverdue, each: Points::whole(3), cap: Points::whole(6) },
                Deduction { indicator: Indicator::RedCard, each: Points::whole(1), cap: Points::whole(5) },
            ],
            rates: vec![RateRule {
                measure: Measure::Satisfaction,
                target: Points::whole(95),
                per_point: Points::whole(1),
                cap: Points::whole(5),
                min_sample: 30,
            }],
            bonus: Bonus {
                gate: Points::whole(80),
                cap: Points::whole(5),
                city: Points::whole(1),
                province: Points::whole(2),
                national: Points::whole(4),
            },
            bands: Bands { excellent: Points::whole(90), good: Points::whole(80), pass: Points::whole(60) },
            quotas: Quotas::default(),
        }
    }

    #[test]
    fn a_sound_scheme_passes_and_reads_back_from_json() {
        let s = Scheme { period: PeriodKind::Month, groups: vec![window_class()] };
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""group":{"class":"window_service"}"#), "{json}");
        assert_eq!(serde_json::from_str::<Scheme>(&json).unwrap(), s);
    }

    #[test]
    fn each_broken_rule_is_named_by_its_part() {
        let mut g = window_class();
        g.deductions[1].cap = Points(20); // below its 0.5 each
        g.deductions.push(Deduction { indicator: Indicator::FindingGeneral, each: Points(100), cap: Points(100) });
        g.vetoes.push(Veto { indicator: Indicator::Honour, at_least: 0 });
        g.bonus.province = Points::whole(6); // above the cap of 5, and above national
        g.bands.excellent = Points::whole(106); // above 100 + 5
        g.quotas.good_pct = Some(90); // 20 + 90 > 100
        g.rates[0].target = Points::whole(101);
        let mut tier = window_class();
        tier.group = Group::Tier(PostType::WindowStaff);
        let s = Scheme { period: PeriodKind::Quarter, groups: vec![g, tier.clone(), tier] };
        let got: Vec<(String, &str)> = s.validate().into_iter().map(|e| (e.field, e.code)).collect();
        let want = [
            ("groups[0].vetoes[2].at_least", "out_of_range"),
            ("groups[0].vetoes[2].indicator", "not_a_penalty"),
            ("groups[0].deductions[1].cap", "out_of_range"),
            ("groups[0].deductions[4].indicator", "duplicate"),
            ("groups[0].rates[0].target", "out_of_range"),
            ("groups[0].bonus.province", "out_of_range"),
            ("groups[0].bonus.province", "out_of_order"),
            ("groups[0].bands.excellent", "unreachable"),
            ("groups[0].quotas.good_pct", "out_of_range"),
            ("groups[2].group", "duplicate"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(f, c)| (f.to_string(), *c)).collect();
        assert_eq!(got, want);
        assert!(Scheme { period: PeriodKind::Year, groups: vec![] }.validate().iter().any(|e| e.field == "groups"));
    }
}
