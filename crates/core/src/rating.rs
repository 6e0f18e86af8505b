//! The public's ratings (政务服务"好差评", GB/T 39734-2020): five levels, reasons the office
//! configures per level (a bad rating names at least one), a comment and, if the rater leaves
//! one, a phone number for the callback. A rating comes through a channel — the QR page (扫码),
//! the counter device (评价器) or the web (网上, for a finished case) — and a case is rated once
//! per channel (一次一评, 一事一评), also after it is reopened.
//!
//! A rating that names no case is held for review instead of counted: nothing ties it to a
//! service that happened. Held ratings stay on record; nothing held counts until released.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ValidationError,
    event::{Event, Payload, Subject},
    org::{parse_mobile, parse_text},
    service::CaseStatus,
    workflow::Refusal,
};

labelled_enum! {
    /// The five levels of GB/T 39734, best first.
    RatingLevel {
        VerySatisfied = "very_satisfied", "非常满意", "very satisfied";
        Satisfied = "satisfied", "满意", "satisfied";
        Basic = "basic", "基本满意", "fairly satisfied";
        Dissatisfied = "dissatisfied", "不满意", "dissatisfied";
        VeryDissatisfied = "very_dissatisfied", "非常不满意", "very dissatisfied";
    }
}

impl RatingLevel {
    /// 5 for 非常满意 down to 1 for 非常不满意.
    pub fn score(self) -> u8 {
        match self {
            RatingLevel::VerySatisfied => 5,
            RatingLevel::Satisfied => 4,
            RatingLevel::Basic => 3,
            RatingLevel::Dissatisfied => 2,
            RatingLevel::VeryDissatisfied => 1,
        }
    }

    /// A bad rating (差评): it must name a reason, and it opens a ticket.
    pub fn is_bad(self) -> bool {
        matches!(self, RatingLevel::Dissatisfied | RatingLevel::VeryDissatisfied)
    }
}

labelled_enum! {
    /// Where a rating came from.
    RatingChannel {
        Qr = "qr", "扫码评价", "QR code";
        Device = "device", "评价器", "counter device";
        Web = "web", "网上评价", "web";
    }
}

labelled_enum! {
    RatingStatus {
        Counted = "counted", "有效", "counted";
        Held = "held", "待审核", "held for review";
    }
}

labelled_enum! {
    /// Why a rating is held for review.
    HoldReason {
        NoCase = "no_case", "未关联办件", "names no case";
    }
}

labelled_enum! {
    /// What a counter device says of itself in its heartbeat.
    DeviceStatus {
        Ok = "ok", "正常", "working";
        Fault = "fault", "故障", "fault";
    }
}

/// One reason a rater may pick for a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonTag {
    /// A stable code: lowercase letters, digits and `_`.
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// The reasons offered for each level. The office edits them; each saved set is a new version,
/// and a rating keeps the version it was given under, so its reasons read as they were offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonSet {
    pub very_satisfied: Vec<ReasonTag>,
    pub satisfied: Vec<ReasonTag>,
    pub basic: Vec<ReasonTag>,
    pub dissatisfied: Vec<ReasonTag>,
    pub very_dissatisfied: Vec<ReasonTag>,
}

/// The version of the built-in set, in force until the office saves its own. Never change the
/// built-in set: ratings given under version 1 read their reasons from it.
pub const BUILT_IN_VERSION: i32 = 1;
/// At most this many reasons per level.
pub const MAX_REASONS: usize = 12;
/// A comment is at most this many characters.
pub const MAX_COMMENT: usize = 500;

fn tags(list: &[(&str, &str, &str)]) -> Vec<ReasonTag> {
    list.iter().map(|(code, zh, en)| ReasonTag { code: (*code).into(), zh: (*zh).into(), en: (*en).into() }).collect()
}

impl Default for ReasonSet {
    /// The built-in reasons, after the evaluation items of GB/T 39735-2020.
    fn default() -> Self {
        let good = [
            ("attitude", "服务态度好", "Courteous staff"),
            ("efficient", "办事效率高", "Handled quickly"),
            ("one_visit", "一次办成", "Done in one visit"),
            ("clear_guidance", "告知清楚", "Clearly explained"),
            ("simple_process", "流程简便", "Simple procedure"),
        ];
        let bad = [
            ("attitude", "服务态度差", "Discourteous staff"),
            ("long_wait", "等待时间长", "Long wait"),
            ("many_visits", "多次跑腿", "Had to come back several times"),
            ("unclear_guidance", "未一次性告知", "Not told everything at once"),
            ("too_many_documents", "材料要求繁琐", "Too many documents asked for"),
            ("overdue", "超时未办结", "Not finished on time"),
            ("improper_conduct", "不廉洁或违规收费", "Improper conduct or charges"),
        ];
        ReasonSet {
            very_satisfied: tags(&good),
            satisfied: tags(&good),
            basic: tags(&[
                ("wait_acceptable", "等待时间尚可", "Acceptable wait"),
                ("guidance_could_improve", "告知有待改进", "Explanations could be clearer"),
                ("process_could_improve", "流程有待简化", "Procedure could be simpler"),
            ]),
            dissatisfied: tags(&bad),
            very_dissatisfied: tags(&bad),
        }
    }
}

impl ReasonSet {
    pub fn for_level(&self, level: RatingLevel) -> &[ReasonTag] {
        match level {
            RatingLevel::VerySatisfied => &self.very_satisfied,
            RatingLevel::Satisfied => &self.satisfied,
            RatingLevel::Basic => &self.basic,
            RatingLevel::Dissatisfied => &self.dissatisfied,
            RatingLevel::VeryDissatisfied => &self.very_dissatisfied,
        }
    }

    /// A set the office saves, its codes and labels trimmed, then checked ([`ReasonSet::validate`]).
    pub fn checked(mut self) -> Result<Self, Vec<ValidationError>> {
        for list in [
            &mut self.very_satisfied,
            &mut self.satisfied,
            &mut self.basic,
            &mut self.dissatisfied,
            &mut self.very_dissatisfied,
        ] {
            for t in list.iter_mut() {
                for v in [&mut t.code, &mut t.zh, &mut t.en] {
                    *v = v.trim().to_owned();
                }
            }
        }
        self.validate().map(|()| self)
    }

    /// Checks a set the office saves: per level at most [`MAX_REASONS`] tags with distinct
    /// codes and labels of sensible length; the two bad levels at least one each, since a bad
    /// rating must name a reason.
    pub fn validate(&self) -> Result<(), Vec<ValidationError>> {
        let mut errs = Vec::new();
        for &level in RatingLevel::ALL {
            let list = self.for_level(level);
            let field = level.code();
            if level.is_bad() && list.is_empty() {
                errs.push(ValidationError::new(
                    field,
                    "required",
                    format!("“{}”至少需要一个原因", level.label_zh()),
                    format!("'{}' needs at least one reason", level.label_en()),
                ));
            }
            if list.len() > MAX_REASONS {
                errs.push(ValidationError::new(
                    field,
                    "too_many",
                    format!("每个等级最多 {MAX_REASONS} 个原因"),
                    format!("At most {MAX_REASONS} reasons per level"),
                ));
            }
            for (i, t) in list.iter().enumerate() {
                let at = format!("{field}[{i}]");
                if t.code.is_empty()
                    || t.code.len() > 32
                    || !t.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    errs.push(ValidationError::new(
                        format!("{at}.code"),
                        "invalid_code",
                        "原因编码须为 1 至 32 位小写字母、数字或“_”",
                        "A reason code is 1 to 32 lowercase letters, digits or '_'",
                    ));
                }
                if list[..i].iter().any(|o| o.code == t.code) {
                    errs.push(ValidationError::new(
                        format!("{at}.code"),
                        "duplicate",
                        "同一等级的原因编码不能重复",
                        "Reason codes repeat within a level",
                    ));
                }
                for (name, label, max) in [("zh", &t.zh, 20), ("en", &t.en, 60)] {
                    let n = label.trim().chars().count();
                    if n == 0 || n > max || label.chars().any(char::is_control) {
                        errs.push(ValidationError::new(
                            format!("{at}.{name}"),
                            "length",
                            format!("原因名称须为 1 至 {max} 个字"),
                            format!("A reason's label is 1 to {max} characters"),
                        ));
                    }
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The label of a reason code under `level`, if this set has it.
    pub fn label(&self, level: RatingLevel, code: &str, english: bool) -> Option<&str> {
        self.for_level(level)
            .iter()
            .find(|t| t.code == code)
            .map(|t| if english { t.en.as_str() } else { t.zh.as_str() })
    }
}

/// The office's settings for ratings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RatingPolicy {
    /// The address the public reaches the rating pages at (`https://pj.example.gov.cn`), which
    /// every printed QR code carries. Empty until set.
    pub public_url: String,
}

impl RatingPolicy {
    /// Trimmed, without a trailing `/`; an `http(s)://` address of at most 200 characters with no
    /// query, or empty.
    pub fn checked(self) -> Result<Self, ValidationError> {
        let url = self.public_url.trim().trim_end_matches('/').to_owned();
        let ok = url.is_empty()
            || ((url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 200
                && url.split_once("://").is_some_and(|(_, rest)| !rest.is_empty())
                && !url.contains(['?', '#'])
                && url.chars().all(|c| c.is_ascii_graphic()));
        if ok {
            Ok(RatingPolicy { public_url: url })
        } else {
            Err(ValidationError::new(
                "public_url",
                "invalid_url",
                "公众评价地址须为 http:// 或 https:// 开头的网址，不含参数",
                "The public address is an http:// or https:// address without a query",
            ))
        }
    }
}

/// A rating as the rater states it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingSpec {
    pub level: RatingLevel,
    /// Reason codes of the level, in the order offered.
    pub reasons: Vec<String>,
    pub comment: String,
    /// A mainland mobile number, normalised; kept sealed.
    pub phone: Option<String>,
}

impl RatingSpec {
    /// Checks what a rater sent against the reasons in force: a known level, reasons the level
    /// offers (at least one for a bad rating), a comment of at most [`MAX_COMMENT`] characters,
    /// a mobile number if any. Every bad field is named at once.
    pub fn parse(
        level: &str,
        reasons: &[String],
        comment: &str,
        phone: Option<&str>,
        set: &ReasonSet,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        let level = RatingLevel::from_code(level.trim());
        if level.is_none() {
            errs.push(ValidationError::new(
                "level",
                "invalid_choice",
                format!("评价等级须为 {} 之一", RatingLevel::codes().join("、")),
                format!("The level is one of {}", RatingLevel::codes().join(", ")),
            ));
        }
        let mut picked = Vec::new();
        if let Some(level) = level {
            let offered = set.for_level(level);
            if reasons.iter().any(|r| !offered.iter().any(|t| &t.code == r)) {
                errs.push(ValidationError::new(
                    "reasons",
                    "unknown",
                    "所选原因不属于该评价等级",
                    "A reason picked is not offered for this level",
                ));
            }
            picked = offered.iter().filter(|t| reasons.contains(&t.code)).map(|t| t.code.clone()).collect();
            if level.is_bad() && picked.is_empty() {
                errs.push(ValidationError::new(
                    "reasons",
                    "required",
                    "差评须至少选择一个原因",
                    "A bad rating names at least one reason",
                ));
            }
        }
        let comment = match parse_text("comment", &comment.replace(['\r', '\n'], " "), MAX_COMMENT) {
            Ok(c) if c.chars().any(char::is_control) => {
                errs.push(ValidationError::new(
                    "comment",
                    "invalid_characters",
                    "含有不可见字符",
                    "contains control characters",
                ));
                String::new()
            }
            Ok(c) => c,
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => match parse_mobile("phone", p) {
                Ok(p) => Some(p),
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        match level {
            Some(level) if errs.is_empty() => Ok(RatingSpec { level, reasons: picked, comment, phone }),
            _ => Err(errs),
        }
    }
}

/// The case a rating names, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatedCase {
    pub id: i64,
    pub status: CaseStatus,
    /// Whether this channel has already rated it.
    pub rated_here: bool,
}

/// What a rating is about: the case if one is named, and the department, window, staff member
/// and item it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingTarget {
    pub case: Option<RatedCase>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub item_id: Option<i64>,
}

/// A rating accepted: whether it counts or is held (and why), and its event.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingDecision {
    pub status: RatingStatus,
    pub hold: Option<HoldReason>,
    pub event: Event,
}

/// A rating given (`rating.given`): its level and channel, and whether it was held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingGiven {
    pub level: RatingLevel,
    pub channel: RatingChannel,
    pub reasons: Vec<String>,
    pub reasons_version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<HoldReason>,
}

/// Decides a rating: one per case per channel (a reopened case keeps its rating); the web rates
/// only a finished case; a rating that names no case is held.
pub fn decide(
    target: &RatingTarget,
    channel: RatingChannel,
    spec: &RatingSpec,
    reasons_version: i32,
    now: DateTime<Utc>,
) -> Result<RatingDecision, Refusal> {
    if let Some(c) = target.case {
        if c.rated_here {
            return Err(Refusal::transition(
                "rated",
                "rate",
                "already_rated",
                format!("该办件已通过{}评价过", channel.label_zh()),
                format!("This case has already been rated by {}", channel.label_en()),
            ));
        }
        if channel == RatingChannel::Web && c.status != CaseStatus::Completed {
            return Err(Refusal::transition(
                c.status.code(),
                "rate",
                "case_not_finished",
                "办件办结后才能网上评价",
                "A case is rated on the web once it is finished",
            ));
        }
    } else if channel == RatingChannel::Web {
        return Err(Refusal::Invalid(ValidationError::new(
            "code",
            "required",
            "网上评价须输入办件回执上的评价码",
            "Rating on the web needs the code on the case receipt",
        )));
    }
    let hold = target.case.is_none().then_some(HoldReason::NoCase);
    let status = if hold.is_some() { RatingStatus::Held } else { RatingStatus::Counted };
    let subject = Subject {
        department_id: Some(target.department_id),
        window_id: target.window_id,
        person_id: target.person_id,
        post_id: None,
    };
    let given = RatingGiven {
        level: spec.level,
        channel,
        reasons: spec.reasons.clone(),
        reasons_version,
        case_id: target.case.map(|c| c.id),
        item_id: target.item_id,
        held: hold,
    };
    Ok(RatingDecision { status, hold, event: Event::of_new(Payload::RatingGiven(given), subject, now) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(level: &str, reasons: &[&str]) -> Result<RatingSpec, Vec<ValidationError>> {
        let reasons: Vec<String> = reasons.iter().map(|r| (*r).to_owned()).collect();
        RatingSpec::parse(level, &reasons, "", None, &ReasonSet::default())
    }

    #[test]
    fn the_built_in_reasons_are_valid_and_a_bad_rating_names_one() {
        ReasonSet::default().validate().unwrap();
        assert!(spec("satisfied", &[]).is_ok(), "a good rating may name no reason");
        let e = spec("dissatisfied", &[]).unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].code), ("reasons", "required"));
        let e = spec("dissatisfied", &["efficient"]).unwrap_err();
        assert_eq!(e[0].code, "unknown", "a good level's reason is not a bad level's");
        let ok = spec("very_dissatisfied", &["overdue", "attitude", "attitude"]).unwrap();
        assert_eq!(ok.reasons, ["attitude", "overdue"], "in the order offered, once each");
        assert_eq!(spec("excellent", &[]).unwrap_err()[0].field, "level");
    }

    #[test]
    fn comment_and_phone_are_checked() {
        let set = ReasonSet::default();
        let r = RatingSpec::parse("basic", &[], " 还行\n下次快点 ", Some("138 1234 5678"), &set).unwrap();
        assert_eq!(r.comment, "还行 下次快点");
        assert_eq!(r.phone.as_deref(), Some("13812345678"));
        let e = RatingSpec::parse("basic", &[], &"长".repeat(501), Some("12345"), &set).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["comment", "phone"]);
        assert_eq!(RatingSpec::parse("basic", &[], "", Some("  "), &set).unwrap().phone, None);
    }

    #[test]
    fn the_public_address_is_checked() {
        let p = |u: &str| RatingPolicy { public_url: u.into() }.checked().map(|p| p.public_url);
        assert_eq!(p(" https://pj.city.gov.cn/ ").unwrap(), "https://pj.city.gov.cn");
        assert_eq!(p("").unwrap(), "");
        for bad in ["ftp://x", "pj.city.gov.cn", "https://", "https://x/?a=1", "https://x y"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_set_the_office_saves_is_checked() {
        let mut set = ReasonSet::default();
        set.dissatisfied.clear();
        set.satisfied[1].code = "attitude".into();
        set.basic[0].zh = String::new();
        let e = set.validate().unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["satisfied[1].code", "basic[0].zh", "dissatisfied"]);
    }

    #[test]
    fn one_rating_per_case_per_channel_the_web_only_when_finished_and_no_case_is_held() {
        let now = DateTime::<Utc>::default();
        let good = spec("satisfied", &[]).unwrap();
        let case = RatedCase { id: 7, status: CaseStatus::Open, rated_here: false };
        let target = RatingTarget {
            case: Some(case),
            department_id: 3,
            window_id: Some(5),
            person_id: Some(9),
            item_id: Some(2),
        };
        let d = decide(&target, RatingChannel::Device, &good, 1, now).unwrap();
        assert_eq!((d.status, d.hold), (RatingStatus::Counted, None));
        assert_eq!(d.event.subject.person_id, Some(9));
        let refused = |t: &RatingTarget, ch| match decide(t, ch, &good, 1, now) {
            Err(Refusal::Transition(t)) => t.reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(&target, RatingChannel::Web), "case_not_finished");
        let rated = RatingTarget { case: Some(RatedCase { rated_here: true, ..case }), ..target };
        assert_eq!(refused(&rated, RatingChannel::Qr), "already_rated");
        let done = RatingTarget { case: Some(RatedCase { status: CaseStatus::Completed, ..case }), ..target };
        assert!(decide(&done, RatingChannel::Web, &good, 1, now).is_ok());
        let none = RatingTarget { case: None, ..target };
        let d = decide(&none, RatingChannel::Qr, &good, 1, now).unwrap();
        assert_eq!((d.status, d.hold), (RatingStatus::Held, Some(HoldReason::NoCase)));
        assert!(matches!(decide(&none, RatingChannel::Web, &good, 1, now), Err(Refusal::Invalid(_))));
    }
}
