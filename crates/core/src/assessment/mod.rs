//! The classified, tiered assessment (效能考评, `DOMAIN.md` §6): a scheme ([`Scheme`]) turns what
//! the ledger holds about each department or person in a period ([`Facts`]) into a score whose
//! every point names the event behind it, then ranks each class (departments, by category) and
//! tier (people, by post type) and grades them under the scheme's bands and quotas ([`score`]).
//!
//! The order is the one local schemes are written in: veto items first (一票否决: 不合格, no
//! further scoring), then the base score less capped deductions per event and per measure, then
//! bonus items — only above a gate, under a cap, the same honour once at its highest level —
//! then bands with stated cut-offs, and quotas per class and tier with a stated tie-break.
//!
//! Points are kept in hundredths ([`Points`]) so that sums and caps are exact.

mod gather;
mod scheme;
mod score;

pub use gather::{Gather, Whom};

pub use scheme::{Bands, Bonus, Deduction, Group, GroupRules, Quotas, RateRule, Scheme, Veto};
pub use score::{
    Fact, Facts, Line, LineNote, Placed, Rate, Score, TIE_BREAK_EN, TIE_BREAK_ZH, place, score, score_subject,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

labelled_enum! {
    /// The period a scheme assesses.
    PeriodKind {
        Month = "month", "月度", "month";
        Quarter = "quarter", "季度", "quarter";
        Year = "year", "年度", "year";
    }
}

labelled_enum! {
    /// A result's grade (等次).
    Grade {
        Excellent = "excellent", "优秀", "excellent";
        Good = "good", "良好", "good";
        Pass = "pass", "合格", "pass";
        Fail = "fail", "不合格", "fail";
    }
}

labelled_enum! {
    /// What an event counts as in a scheme: the indicators a veto, a deduction or a bonus is
    /// written against. Each is one kind of fact the ledger holds about a department or person.
    Indicator {
        FindingMinor = "finding_minor", "轻微问题", "minor finding";
        FindingGeneral = "finding_general", "一般问题", "general finding";
        FindingSerious = "finding_serious", "严重问题", "serious finding";
        BulletinInternal = "bulletin_internal", "内部通报", "named in an internal bulletin";
        BulletinPublic = "bulletin_public", "公开通报", "named in a public bulletin";
        BulletinMedia = "bulletin_media", "媒体曝光", "exposed in the media";
        OrderOverdue = "order_overdue", "整改逾期", "rectification overdue";
        ReportReturned = "report_returned", "整改报告退回", "rectification report returned";
        FollowUpLate = "follow_up_late", "批示落实逾期", "leader's instruction followed up late";
        SelfCheckLate = "self_check_late", "自查逾期提交", "self-check submitted late";
        BadRating = "bad_rating", "差评", "bad rating";
        TicketOverdue = "ticket_overdue", "差评工单逾期", "bad-rating ticket overdue";
        YellowCard = "yellow_card", "黄牌", "yellow card";
        RedCard = "red_card", "红牌", "red card";
        InquiryLapse = "inquiry_lapse", "违反首问负责", "first-inquiry lapse";
        Sanction = "sanction", "问责处理", "sanction decided";
        Honour = "honour", "表彰", "honour";
    }
}

labelled_enum! {
    /// A rate measured over the period, for rules that deduct below a target.
    Measure {
        Satisfaction = "satisfaction", "好评率", "satisfaction rate";
        OnTime = "on_time", "按时办结率", "on-time rate";
        CallbackSatisfaction = "callback_satisfaction", "回访整改满意率", "satisfaction after callback";
    }
}

labelled_enum! {
    /// The level an honour was given at; the same honour counts once, at its highest.
    HonourLevel {
        City = "city", "市级", "city";
        Province = "province", "省级", "province";
        National = "national", "国家级", "national";
    }
}

/// Points in hundredths: 2.5 points is `Points(250)`. Written and read as a number with at most
/// two decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

impl Points {
    pub const ZERO: Points = Points(0);

    pub fn whole(n: i64) -> Self {
        Points(n * 100)
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, o: Points) -> Points {
        Points(self.0 + o.0)
    }
}

impl std::ops::Sub for Points {
    type Output = Points;
    fn sub(self, o: Points) -> Points {
        Points(self.0 - o.0)
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(it: I) -> Points {
        Points(it.map(|p| p.0).sum())
    }
}

impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sign, v) = if self.0 < 0 { ("-", -self.0) } else { ("", self.0) };
        match v % 100 {
            0 => write!(f, "{sign}{}", v / 100),
            c if c % 10 == 0 => write!(f, "{sign}{}.{}", v / 100, c / 10),
            c => write!(f, "{sign}{}.{c:02}", v / 100),
        }
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        let h = (v * 100.0).round();
        if !v.is_finite() || (v * 100.0 - h).abs() > 1e-6 || h.abs() > 1e9 {
            return Err(serde::de::Error::custom("points are a number with at most two decimals"));
        }
        Ok(Points(h as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_read_and_write_two_decimals() {
        let p: Points = serde_json::from_str("2.5").unwrap();
        assert_eq!(p, Points(250));
        assert_eq!(serde_json::to_string(&p).unwrap(), "2.5");
        assert_eq!(Points(-5).to_string(), "-0.05");
        assert_eq!(Points(1230).to_string(), "12.3");
        assert_eq!(Points::whole(100).to_string(), "100");
        assert!(serde_json::from_str::<Points>("0.125").is_err());
    }
}
