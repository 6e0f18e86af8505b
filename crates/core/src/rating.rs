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
    workflow::{Refusal, TooMany},
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

impl RatingChannel {
    /// Whether ratings of this channel count towards their address's limit: not the counter
    /// devices, which share the service hall's network and have their own.
    pub fn limited_by_address(self) -> bool {
        self != RatingChannel::Device
    }
}

labelled_enum! {
    /// Counted; held for the office's review; rejected by it; or, a bad rating, overturned on the
    /// department's appeal. Rejected and overturned ratings stay on record and count nowhere.
    RatingStatus {
        Counted = "counted", "有效", "counted";
        Held = "held", "待审核", "held for review";
        Rejected = "rejected", "已驳回", "rejected";
        Overturned = "overturned", "申诉撤销", "overturned on appeal";
    }
}

labelled_enum! {
    /// Why a rating is held for review.
    HoldReason {
        NoCase = "no_case", "未关联办件", "names no case";
        PhoneBurst = "phone_burst", "同一手机号短时间内多次评价", "many ratings from one phone in a short time";
        DeviceBurst = "device_burst", "同一评价器短时间内多次评价", "many ratings from one device in a short time";
        QuickBulk = "quick_bulk", "办结即评且成批出现", "rated seconds after completion, in bulk";
        WindowOutlier = "window_outlier", "窗口满意度远高于同类窗口", "the window's satisfaction is far above its peers'";
    }
}

labelled_enum! {
    /// The office's decision on a held rating.
    ReviewDecision {
        Release = "release", "放行", "release";
        Reject = "reject", "驳回", "reject";
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
    /// What keeps ballot-stuffing out.
    pub guards: RatingGuards,
}

/// At most `max` ratings in the last `minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub max: u32,
    pub minutes: u32,
}

impl Limit {
    const fn new(max: u32, minutes: u32) -> Self {
        Limit { max, minutes }
    }
}

/// Rate limits, which refuse a rating (429), and holding rules, which keep it for the office's
/// review instead of counting it. The limits count the ratings already given in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RatingGuards {
    /// Refused beyond this many from one network address. A service hall's Wi-Fi puts many
    /// citizens behind one address, so it is generous.
    pub per_address: Limit,
    /// Refused beyond this many naming one phone number.
    pub per_phone: Limit,
    /// Refused beyond this many from one counter device.
    pub per_device: Limit,
    /// Held beyond this many naming one phone number.
    pub phone_burst: Limit,
    /// Held beyond this many from one counter device.
    pub device_burst: Limit,
    /// A rating on the QR page or the web given within this many seconds of its case's
    /// completion is quick (at the counter device that is the rule, so it is not counted there).
    pub quick_seconds: u32,
    /// Held beyond this many quick ratings at one window (or of one staff member).
    pub quick_bulk: Limit,
    /// The outlier check looks at each window's counted ratings of the last this many days.
    pub outlier_days: u32,
    /// ... among windows with at least this many ratings ...
    pub outlier_min_ratings: u32,
    /// ... and holds a window whose share of ratings below 非常满意 is at most its peers' share
    /// divided by this, when chance alone would give so few less than once in a thousand.
    pub outlier_factor: u32,
}

impl Default for RatingGuards {
    fn default() -> Self {
        RatingGuards {
            per_address: Limit::new(60, 60),
            per_phone: Limit::new(10, 24 * 60),
            per_device: Limit::new(10, 1),
            phone_burst: Limit::new(3, 60),
            device_burst: Limit::new(3, 2),
            quick_seconds: 30,
            quick_bulk: Limit::new(5, 10),
            outlier_days: 30,
            outlier_min_ratings: 50,
            outlier_factor: 4,
        }
    }
}

impl RatingGuards {
    fn validate(&self, errs: &mut Vec<ValidationError>) {
        let limits = [
            ("per_address", self.per_address),
            ("per_phone", self.per_phone),
            ("per_device", self.per_device),
            ("phone_burst", self.phone_burst),
            ("device_burst", self.device_burst),
            ("quick_bulk", self.quick_bulk),
        ];
        for (name, l) in limits {
            if !(1..=100_000).contains(&l.max) {
                errs.push(ValidationError::new(
                    format!("guards.{name}.max"),
                    "out_of_range",
                    "次数须在 1 至 100000 之间",
                    "The count is between 1 and 100000",
                ));
            }
            if !(1..=7 * 24 * 60).contains(&l.minutes) {
                errs.push(ValidationError::new(
                    format!("guards.{name}.minutes"),
                    "out_of_range",
                    "时间窗须在 1 分钟至 7 天之间",
                    "The window is between 1 minute and 7 days",
                ));
            }
        }
        for (name, v, range) in [
            ("quick_seconds", self.quick_seconds, 1..=3600),
            ("outlier_days", self.outlier_days, 7..=366),
            ("outlier_min_ratings", self.outlier_min_ratings, 10..=100_000),
            ("outlier_factor", self.outlier_factor, 2..=100),
        ] {
            if !range.contains(&v) {
                errs.push(ValidationError::new(
                    format!("guards.{name}"),
                    "out_of_range",
                    format!("须在 {} 至 {} 之间", range.start(), range.end()),
                    format!("Between {} and {}", range.start(), range.end()),
                ));
            }
        }
    }
}

impl RatingPolicy {
    /// The address trimmed, without a trailing `/`: an `http(s)://` address of at most 200
    /// characters with no query, or empty; the guards within their ranges.
    pub fn checked(self) -> Result<Self, Vec<ValidationError>> {
        let mut errs = Vec::new();
        self.guards.validate(&mut errs);
        match Self::checked_url(&self.public_url) {
            Ok(public_url) if errs.is_empty() => Ok(RatingPolicy { public_url, guards: self.guards }),
            Ok(_) => Err(errs),
            Err(e) => {
                errs.insert(0, e);
                Err(errs)
            }
        }
    }

    fn checked_url(url: &str) -> Result<String, ValidationError> {
        let url = url.trim().trim_end_matches('/').to_owned();
        let ok = url.is_empty()
            || ((url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 200
                && url.split_once("://").is_some_and(|(_, rest)| !rest.is_empty())
                && !url.contains(['?', '#'])
                && url.chars().all(|c| c.is_ascii_graphic()));
        if ok {
            Ok(url)
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
    pub completed_at: Option<DateTime<Utc>>,
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

/// The ratings already given that the guards count, each in its own window of
/// [`RatingGuards`]: from the rater's address, naming their phone, from their device, the quick
/// ones at the window; and whether the window is held as an outlier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recent {
    pub from_address: u32,
    /// In the `per_phone` window and in the `phone_burst` window.
    pub phone: (u32, u32),
    /// In the `per_device` window and in the `device_burst` window.
    pub device: (u32, u32),
    pub quick_at_window: u32,
    pub window_held: bool,
}

/// A rating accepted: whether it counts or is held (and why), and its event.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingDecision {
    pub status: RatingStatus,
    pub hold: Option<HoldReason>,
    /// Given on the QR page or the web within `quick_seconds` of the case's completion.
    pub quick: bool,
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

/// A counted rating held after the fact (`rating.held`): its window stands out from its peers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RatingHeld {
    pub reason: HoldReason,
    pub outlier: Option<Outlier>,
}

/// The office's decision on a held rating (`rating.released`, `rating.rejected`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingReviewed {
    pub hold: Option<HoldReason>,
    pub reason: String,
}

/// Decides a rating. First the rate limits, which refuse it: too many from the address, naming
/// the phone or from the device. Then one per case per channel (a reopened case keeps its
/// rating), and the web rates only a finished case. Then the holding rules: a rating naming no
/// case, one at a window held as an outlier, a burst from one phone or device, or one of many
/// given seconds after completion at one window is held for review, not counted.
pub fn decide(
    target: &RatingTarget,
    channel: RatingChannel,
    spec: &RatingSpec,
    reasons_version: i32,
    recent: &Recent,
    guards: &RatingGuards,
    now: DateTime<Utc>,
) -> Result<RatingDecision, Refusal> {
    let over = |count: u32, l: Limit| count >= l.max;
    let limited = |scope: &'static str, l: Limit, zh: &str, en: &str| {
        Refusal::TooMany(TooMany {
            scope,
            retry_after_secs: u64::from(l.minutes) * 60,
            zh: format!("{zh}评价过于频繁（{} 分钟内至多 {} 次），请稍后再试", l.minutes, l.max),
            en: format!("Too many ratings {en} (at most {} in {} minutes); try again later", l.max, l.minutes),
        })
    };
    if channel.limited_by_address() && over(recent.from_address, guards.per_address) {
        return Err(limited("address", guards.per_address, "您所在网络地址", "from your network address"));
    }
    if spec.phone.is_some() && over(recent.phone.0, guards.per_phone) {
        return Err(limited("phone", guards.per_phone, "该手机号", "naming this phone number"));
    }
    if channel == RatingChannel::Device && over(recent.device.0, guards.per_device) {
        return Err(limited("device", guards.per_device, "该评价器", "from this device"));
    }
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
    let quick = channel != RatingChannel::Device
        && target
            .case
            .and_then(|c| c.completed_at)
            .is_some_and(|done| now >= done && (now - done).num_seconds() <= i64::from(guards.quick_seconds));
    let hold = if target.case.is_none() {
        Some(HoldReason::NoCase)
    } else if recent.window_held {
        Some(HoldReason::WindowOutlier)
    } else if spec.phone.is_some() && over(recent.phone.1, guards.phone_burst) {
        Some(HoldReason::PhoneBurst)
    } else if channel == RatingChannel::Device && over(recent.device.1, guards.device_burst) {
        Some(HoldReason::DeviceBurst)
    } else if quick && over(recent.quick_at_window, guards.quick_bulk) {
        Some(HoldReason::QuickBulk)
    } else {
        None
    };
    let status = if hold.is_some() { RatingStatus::Held } else { RatingStatus::Counted };
    let given = RatingGiven {
        level: spec.level,
        channel,
        reasons: spec.reasons.clone(),
        reasons_version,
        case_id: target.case.map(|c| c.id),
        item_id: target.item_id,
        held: hold,
    };
    let event = Event::of_new(Payload::RatingGiven(given), subject_of(target), now);
    Ok(RatingDecision { status, hold, quick, event })
}

fn subject_of(target: &RatingTarget) -> Subject {
    Subject {
        department_id: Some(target.department_id),
        window_id: target.window_id,
        person_id: target.person_id,
        post_id: None,
    }
}

/// Whether a rating opens a ticket for its department: a bad one that counts (a held one opens
/// it when released).
pub fn opens_ticket(level: RatingLevel, status: RatingStatus) -> bool {
    level.is_bad() && status == RatingStatus::Counted
}

/// A stored rating, as review sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRating {
    pub id: i64,
    pub status: RatingStatus,
    pub hold: Option<HoldReason>,
    pub target: RatingTarget,
}

/// The office releases a held rating (it counts from now on) or rejects it (it stays on record
/// and counts nowhere), with a reason. Only a held rating is reviewed.
pub fn review(
    r: &StoredRating,
    decision: ReviewDecision,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(RatingStatus, Event), Refusal> {
    if r.status != RatingStatus::Held {
        return Err(Refusal::by_state(crate::labels!(r.status), crate::labels!(decision), ("评价", "rating")));
    }
    let reason = parse_text("reason", reason, 200)?;
    if reason.is_empty() {
        return Err(Refusal::invalid("reason", "required", "请说明理由", "Give a reason"));
    }
    let body = RatingReviewed { hold: r.hold, reason };
    let (next, payload) = match decision {
        ReviewDecision::Release => (RatingStatus::Counted, Payload::RatingReleased(body)),
        ReviewDecision::Reject => (RatingStatus::Rejected, Payload::RatingRejected(body)),
    };
    Ok((next, Event::new(payload, r.id, subject_of(&r.target), now)))
}

/// A counted rating held because its window stands out ([`outliers`]).
pub fn hold_as_outlier(r: &StoredRating, outlier: &Outlier, now: DateTime<Utc>) -> Option<Event> {
    (r.status == RatingStatus::Counted).then(|| {
        let held = RatingHeld { reason: HoldReason::WindowOutlier, outlier: Some(outlier.clone()) };
        Event::new(Payload::RatingHeld(held), r.id, subject_of(&r.target), now)
    })
}

/// One window's counted ratings in the outlier check's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowTally {
    pub window_id: i64,
    pub ratings: u32,
    /// Ratings below 非常满意.
    pub below_top: u32,
}

/// A window whose satisfaction sits far above its peers', and the figures that say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Outlier {
    pub window_id: i64,
    pub ratings: u32,
    pub below_top: u32,
    /// The share of the other windows' ratings below 非常满意.
    pub peers_share: f64,
    /// The chance of a window rated like its peers getting at most `below_top` such ratings.
    pub chance: f64,
}

/// The windows whose satisfaction sits far above their peers': with at least
/// `outlier_min_ratings` ratings, a share below 非常满意 at most the other windows' share divided
/// by `outlier_factor`, and a chance under 1 in 1,000 of so few if they were rated like the
/// others (binomial). Satisfaction rates sit near 100% everywhere, so the share below the top
/// level is what tells a stuffed window apart.
pub fn outliers(tallies: &[WindowTally], g: &RatingGuards) -> Vec<Outlier> {
    let (all_n, all_x) =
        tallies.iter().fold((0u64, 0u64), |(n, x), t| (n + u64::from(t.ratings), x + u64::from(t.below_top)));
    tallies
        .iter()
        .filter(|t| t.ratings >= g.outlier_min_ratings)
        .filter_map(|t| {
            let peers_n = all_n - u64::from(t.ratings);
            let peers_x = all_x - u64::from(t.below_top);
            if peers_n == 0 || peers_x == 0 {
                return None;
            }
            let q = peers_x as f64 / peers_n as f64;
            let share = f64::from(t.below_top) / f64::from(t.ratings);
            if share * f64::from(g.outlier_factor) > q {
                return None;
            }
            let chance = binomial_cdf(t.below_top, t.ratings, q);
            (chance < 1e-3).then_some(Outlier {
                window_id: t.window_id,
                ratings: t.ratings,
                below_top: t.below_top,
                peers_share: q,
                chance,
            })
        })
        .collect()
}

/// P(X ≤ k) for X ~ Binomial(n, q), summed in logarithms so that large `n` does not underflow.
fn binomial_cdf(k: u32, n: u32, q: f64) -> f64 {
    if q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (lq, lp) = (q.ln(), (1.0 - q).ln());
    // ln C(n, i), built up term by term.
    let mut ln_choose = 0.0;
    let mut total = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            ln_choose += f64::from(n - i + 1).ln() - f64::from(i).ln();
        }
        total += (ln_choose + f64::from(i) * lq + f64::from(n - i) * lp).exp();
    }
    total.min(1.0)
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
        let p = |u: &str| RatingPolicy { public_url: u.into(), ..Default::default() }.checked().map(|p| p.public_url);
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
        let g = RatingGuards::default();
        let good = spec("satisfied", &[]).unwrap();
        let case = RatedCase { id: 7, status: CaseStatus::Open, completed_at: None, rated_here: false };
        let target = RatingTarget {
            case: Some(case),
            department_id: 3,
            window_id: Some(5),
            person_id: Some(9),
            item_id: Some(2),
        };
        let d = decide(&target, RatingChannel::Device, &good, 1, &Recent::default(), &g, now).unwrap();
        assert_eq!((d.status, d.hold), (RatingStatus::Counted, None));
        assert_eq!(d.event.subject.person_id, Some(9));
        let refused = |t: &RatingTarget, ch| match decide(t, ch, &good, 1, &Recent::default(), &g, now) {
            Err(Refusal::Transition(t)) => t.reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(&target, RatingChannel::Web), "case_not_finished");
        let rated = RatingTarget { case: Some(RatedCase { rated_here: true, ..case }), ..target };
        assert_eq!(refused(&rated, RatingChannel::Qr), "already_rated");
        let done = RatingTarget { case: Some(RatedCase { status: CaseStatus::Completed, ..case }), ..target };
        assert!(decide(&done, RatingChannel::Web, &good, 1, &Recent::default(), &g, now).is_ok());
        let none = RatingTarget { case: None, ..target };
        let d = decide(&none, RatingChannel::Qr, &good, 1, &Recent::default(), &g, now).unwrap();
        assert_eq!((d.status, d.hold), (RatingStatus::Held, Some(HoldReason::NoCase)));
        assert!(matches!(
            decide(&none, RatingChannel::Web, &good, 1, &Recent::default(), &g, now),
            Err(Refusal::Invalid(_))
        ));
    }
    fn target(completed_at: Option<DateTime<Utc>>) -> RatingTarget {
        RatingTarget {
            case: Some(RatedCase { id: 7, status: CaseStatus::of(completed_at), completed_at, rated_here: false }),
            department_id: 3,
            window_id: Some(5),
            person_id: Some(9),
            item_id: Some(2),
        }
    }

    #[test]
    fn rate_limits_refuse_and_say_when_to_come_back() {
        let now = DateTime::<Utc>::default();
        let g = RatingGuards::default();
        let mut with_phone = spec("satisfied", &[]).unwrap();
        with_phone.phone = Some("13812345678".into());
        let t = target(None);
        let run = |recent: Recent, ch, s: &RatingSpec| decide(&t, ch, s, 1, &recent, &g, now);
        let limited = |r: Result<RatingDecision, Refusal>| match r {
            Err(Refusal::TooMany(t)) => (t.scope, t.retry_after_secs),
            other => panic!("{other:?}"),
        };
        // The 60th from an address is taken, the 61st refused for up to the hour.
        assert!(run(Recent { from_address: 59, ..Recent::default() }, RatingChannel::Qr, &with_phone).is_ok());
        assert_eq!(
            limited(run(Recent { from_address: 60, ..Recent::default() }, RatingChannel::Qr, &with_phone)),
            ("address", 3600)
        );
        assert_eq!(
            limited(run(Recent { phone: (10, 0), ..Recent::default() }, RatingChannel::Qr, &with_phone)),
            ("phone", 86_400)
        );
        // A count of the phone's ratings means nothing to a rating that names no phone.
        let good = spec("satisfied", &[]).unwrap();
        assert!(run(Recent { phone: (10, 10), ..Recent::default() }, RatingChannel::Qr, &good).is_ok());
        assert_eq!(
            limited(run(Recent { device: (10, 0), ..Recent::default() }, RatingChannel::Device, &good)),
            ("device", 60)
        );
        assert!(run(Recent { device: (10, 0), ..Recent::default() }, RatingChannel::Qr, &good).is_ok());
    }

    #[test]
    fn each_holding_rule_holds_with_its_reason() {
        let now = DateTime::<Utc>::default() + chrono::Duration::hours(1);
        let g = RatingGuards::default();
        let mut s = spec("very_satisfied", &[]).unwrap();
        s.phone = Some("13812345678".into());
        let open = target(None);
        let hold = |t: &RatingTarget, ch, r: Recent| decide(t, ch, &s, 1, &r, &g, now).unwrap().hold;
        assert_eq!(hold(&open, RatingChannel::Qr, Recent { phone: (3, 2), ..Recent::default() }), None);
        assert_eq!(
            hold(&open, RatingChannel::Qr, Recent { phone: (3, 3), ..Recent::default() }),
            Some(HoldReason::PhoneBurst)
        );
        assert_eq!(
            hold(&open, RatingChannel::Device, Recent { device: (3, 3), ..Recent::default() }),
            Some(HoldReason::DeviceBurst)
        );
        assert_eq!(
            hold(&open, RatingChannel::Qr, Recent { window_held: true, ..Recent::default() }),
            Some(HoldReason::WindowOutlier)
        );
        // Quick: given within 30 s of completion on the QR page; the sixth such at a window is held.
        let just_done = target(Some(now - chrono::Duration::seconds(20)));
        let d =
            decide(&just_done, RatingChannel::Qr, &s, 1, &Recent { quick_at_window: 4, ..Recent::default() }, &g, now)
                .unwrap();
        assert!(d.quick && d.hold.is_none());
        assert_eq!(
            hold(&just_done, RatingChannel::Qr, Recent { quick_at_window: 5, ..Recent::default() }),
            Some(HoldReason::QuickBulk)
        );
        // At the counter a rating at completion is the rule; later is not quick.
        assert_eq!(hold(&just_done, RatingChannel::Device, Recent { quick_at_window: 5, ..Recent::default() }), None);
        let done_earlier = target(Some(now - chrono::Duration::seconds(31)));
        let d = decide(
            &done_earlier,
            RatingChannel::Web,
            &s,
            1,
            &Recent { quick_at_window: 50, ..Recent::default() },
            &g,
            now,
        )
        .unwrap();
        assert!(!d.quick && d.hold.is_none());
        // Naming no case comes first.
        let none = RatingTarget { case: None, ..open };
        assert_eq!(
            hold(&none, RatingChannel::Qr, Recent { window_held: true, ..Recent::default() }),
            Some(HoldReason::NoCase)
        );
        let d = decide(&none, RatingChannel::Qr, &s, 1, &Recent::default(), &g, now).unwrap();
        assert_eq!(d.status, RatingStatus::Held);
    }

    #[test]
    fn the_office_releases_or_rejects_a_held_rating_with_a_reason() {
        let now = DateTime::<Utc>::default();
        let held = StoredRating {
            id: 4,
            status: RatingStatus::Held,
            hold: Some(HoldReason::PhoneBurst),
            target: target(None),
        };
        let (next, e) = review(&held, ReviewDecision::Release, " 核实为本人多次办事 ", now).unwrap();
        assert_eq!(next, RatingStatus::Counted);
        assert!(matches!(e.payload, Payload::RatingReleased(ref r) if r.reason == "核实为本人多次办事"));
        let (next, e) = review(&held, ReviewDecision::Reject, "刷单", now).unwrap();
        assert_eq!(next, RatingStatus::Rejected);
        assert_eq!(e.kind().code(), "rating.rejected");
        assert_eq!(review(&held, ReviewDecision::Reject, "  ", now).unwrap_err().reason(), "required");
        for status in [RatingStatus::Counted, RatingStatus::Rejected] {
            let r = StoredRating { status, ..held };
            assert_eq!(review(&r, ReviewDecision::Release, "x", now).unwrap_err().reason(), "state");
        }
    }

    #[test]
    fn a_window_far_above_its_peers_stands_out_and_a_small_one_does_not() {
        let g = RatingGuards::default();
        let w = |window_id, ratings, below_top| WindowTally { window_id, ratings, below_top };
        // Peers: 1,000 ratings, 200 below the top level (20%).
        let peers = [w(1, 500, 100), w(2, 500, 100)];
        let found = |t: WindowTally| {
            let mut all = peers.to_vec();
            all.push(t);
            outliers(&all, &g).into_iter().map(|o| o.window_id).collect::<Vec<_>>()
        };
        assert_eq!(found(w(9, 100, 0)), [9], "0 of 100: chance 0.8^100");
        assert_eq!(found(w(9, 100, 5)), [9], "5% is at most a quarter of 20%, and unlikely");
        assert!(found(w(9, 100, 6)).is_empty(), "6% is more than a quarter of 20%");
        assert!(found(w(9, 30, 0)).is_empty(), "under 50 ratings nobody is judged");
        assert!(found(w(9, 50, 0)) == [9], "0.8^50 = 1.4e-5");
        // The chance is the binomial tail.
        let o = &outliers(&[peers[0], peers[1], w(9, 100, 0)], &g)[0];
        assert!((o.chance - 0.8f64.powi(100)).abs() < 1e-15 && (o.peers_share - 0.2).abs() < 1e-12);
        assert!((binomial_cdf(1, 10, 0.5) - 11.0 / 1024.0).abs() < 1e-12);
    }

    #[test]
    fn guards_out_of_range_are_named() {
        let mut p = RatingPolicy::default();
        p.guards.per_address.max = 0;
        p.guards.outlier_factor = 1;
        p.public_url = "ftp://x".into();
        let e = p.checked().unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["public_url", "guards.per_address.max", "guards.outlier_factor"]);
    }
}
