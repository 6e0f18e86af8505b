//! Bulletins (通报), rectification orders (整改通知) and the departments' written reports, as state
//! machines; deadlines and reminder days on the working-day calendar; masking names for the
//! public.
//!
//! bulletin: draft ─publish→ published (final; a correction is a new bulletin)
//!             └─withdraw→ withdrawn
//! report:   draft ─submit→ submitted ─accept→ accepted
//!                                    └─return→ returned   (a new version is then drafted)
//! order:    open → submitted → accepted, or → returned → submitted … following its reports;
//!           overdue while open or returned after its deadline.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ValidationError, calendar::WorkCalendar};

labelled_enum! {
    /// Who a bulletin is for.
    BulletinScope {
        Internal = "internal", "内部通报", "internal";
        Public = "public", "公开通报", "public";
        Media = "media", "媒体曝光", "media exposure";
    }
}

labelled_enum! {
    BulletinState {
        Draft = "draft", "草稿", "draft";
        Published = "published", "已发布", "published";
        Withdrawn = "withdrawn", "已作废", "withdrawn";
    }
}

labelled_enum! {
    /// Where a rectification order stands, after its latest report.
    OrderState {
        Open = "open", "待整改", "open";
        Submitted = "submitted", "待审核", "awaiting review";
        Returned = "returned", "已退回", "returned";
        Accepted = "accepted", "已办结", "accepted";
    }
}

labelled_enum! {
    ReportState {
        Draft = "draft", "草稿", "draft";
        Submitted = "submitted", "已报送", "submitted";
        Returned = "returned", "已退回", "returned";
        Accepted = "accepted", "已采纳", "accepted";
    }
}

labelled_enum! {
    ReportAction {
        Submit = "submit", "报送", "submit";
        Accept = "accept", "采纳", "accept";
        Return = "return", "退回", "return";
    }
}

impl BulletinScope {
    /// Public and media bulletins are readable without logging in.
    pub fn is_public(self) -> bool {
        !matches!(self, BulletinScope::Internal)
    }
}

impl OrderState {
    /// The department still owes a report.
    pub fn awaits_department(self) -> bool {
        matches!(self, OrderState::Open | OrderState::Returned)
    }

    /// Past its deadline with no report in: counts against the department.
    pub fn overdue(self, deadline: NaiveDate, today: NaiveDate) -> bool {
        self.awaits_department() && today > deadline
    }

    /// The order's state once its latest report is in `r`.
    pub fn after_report(r: ReportState) -> OrderState {
        match r {
            ReportState::Draft => OrderState::Open,
            ReportState::Submitted => OrderState::Submitted,
            ReportState::Returned => OrderState::Returned,
            ReportState::Accepted => OrderState::Accepted,
        }
    }
}

/// Who acts on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportActor {
    /// The department's head (一把手), who answers for it.
    Head,
    /// The Efficiency Office, which reviews.
    Office,
}

impl ReportState {
    /// The state after `action` by `actor`, or why not.
    pub fn after(self, action: ReportAction, actor: ReportActor) -> Result<ReportState, ValidationError> {
        use ReportAction::*;
        use ReportState::*;
        let (next, who) = match (self, action) {
            (Draft, Submit) => (Submitted, ReportActor::Head),
            (Submitted, Accept) => (Accepted, ReportActor::Office),
            (Submitted, Return) => (Returned, ReportActor::Office),
            _ => {
                return Err(ValidationError::new(
                    "action",
                    "transition_not_allowed",
                    format!("“{}”的报告不能{}", self.label_zh(), action.label_zh()),
                    format!("Cannot {} a report that is {}", action.code(), self.label_en()),
                ));
            }
        };
        if who != actor {
            return Err(ValidationError::new(
                "action",
                "not_your_step",
                format!("您不能{}该报告", action.label_zh()),
                format!("You may not {} this report", action.code()),
            ));
        }
        Ok(next)
    }
}

/// When a department must report: a calendar date ("before the 20th") or N working days after
/// the order is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Deadline {
    Date { date: NaiveDate },
    WorkingDays { days: u32 },
}

impl Deadline {
    pub fn validate(&self, issued: NaiveDate) -> Result<(), ValidationError> {
        match *self {
            Deadline::Date { date } if date < issued => Err(ValidationError::new(
                "deadline",
                "in_the_past",
                format!("整改期限 {date} 已过"),
                format!("The deadline {date} has passed"),
            )),
            Deadline::WorkingDays { days } if !(1..=120).contains(&days) => Err(ValidationError::new(
                "deadline",
                "out_of_range",
                "工作日数须在 1 至 120 之间",
                "Working days must be between 1 and 120",
            )),
            _ => Ok(()),
        }
    }

    /// The last day to report, for an order issued on `issued`.
    pub fn resolve(&self, cal: &WorkCalendar, issued: NaiveDate) -> NaiveDate {
        match *self {
            Deadline::Date { date } => date,
            Deadline::WorkingDays { days } => cal.add_working_days(issued, days),
        }
    }

    pub fn describe_zh(&self) -> String {
        match *self {
            Deadline::Date { date } => format!("{date} 前"),
            Deadline::WorkingDays { days } => format!("{days} 个工作日内"),
        }
    }
}

/// The office's rules for rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RectificationPolicy {
    /// Working days a department gets to report when a bulletin does not say otherwise.
    #[schema(minimum = 1, maximum = 120)]
    pub default_working_days: u32,
    /// Remind the department this many working days before its deadline (0: on the day).
    pub remind_working_days_before: Vec<u32>,
    /// Working days a returned report gets for resubmission, unless the office sets a date.
    #[schema(minimum = 1, maximum = 60)]
    pub resubmit_working_days: u32,
    /// The red masthead of the office's documents.
    pub masthead: String,
    /// The signature under its documents.
    pub issuer: String,
}

impl Default for RectificationPolicy {
    fn default() -> Self {
        Self {
            default_working_days: 10,
            remind_working_days_before: vec![3, 1, 0],
            resubmit_working_days: 5,
            masthead: "市机关效能建设领导小组办公室".into(),
            issuer: "市效能办".into(),
        }
    }
}

impl RectificationPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=120).contains(&self.default_working_days) {
            return Err(ValidationError::new(
                "default_working_days",
                "out_of_range",
                "默认整改期限须在 1 至 120 个工作日之间",
                "The default period must be 1 to 120 working days",
            ));
        }
        if !(1..=60).contains(&self.resubmit_working_days) {
            return Err(ValidationError::new(
                "resubmit_working_days",
                "out_of_range",
                "重新报送期限须在 1 至 60 个工作日之间",
                "The resubmission period must be 1 to 60 working days",
            ));
        }
        for (field, v) in [("masthead", &self.masthead), ("issuer", &self.issuer)] {
            if v.trim().is_empty() || v.chars().count() > 40 {
                return Err(ValidationError::new(field, "length", "请填写 1 至 40 个字", "Enter 1 to 40 characters"));
            }
        }
        if self.remind_working_days_before.len() > 5 || self.remind_working_days_before.iter().any(|d| *d > 30) {
            return Err(ValidationError::new(
                "remind_working_days_before",
                "out_of_range",
                "提醒最多 5 次，每次在期限前 0 至 30 个工作日",
                "At most 5 reminders, each 0 to 30 working days before the deadline",
            ));
        }
        Ok(())
    }

    /// The reminder point due by `today` for a deadline (working days before it): the nearest
    /// one already reached, so that a late start sends only the most pressing reminder.
    pub fn reminders_due(&self, cal: &WorkCalendar, deadline: NaiveDate, today: NaiveDate) -> Option<u32> {
        let mut points: Vec<u32> = self.remind_working_days_before.clone();
        points.sort_unstable();
        points.dedup();
        points.into_iter().find(|&n| today <= deadline && reminder_day(cal, deadline, n) <= today)
    }
}

/// The working day `n` working days before `deadline` (`n = 0`: the deadline itself).
pub fn reminder_day(cal: &WorkCalendar, deadline: NaiveDate, n: u32) -> NaiveDate {
    let mut d = deadline;
    let mut left = n;
    let mut guard = 0u32;
    while left > 0 && guard < 3660 {
        d -= chrono::Duration::days(1);
        guard += 1;
        if cal.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

/// A bulletin's number as the office writes it: 效能通报〔2026〕12号.
pub fn bulletin_number(year: i32, n: i32) -> String {
    format!("效能通报〔{year}〕{n}号")
}

/// A name as the public sees it: the surname and a mark for each further character (张**).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn report_steps_follow_the_machine() {
        use ReportAction::*;
        use ReportActor::*;
        assert_eq!(ReportState::Draft.after(Submit, Head).unwrap(), ReportState::Submitted);
        assert_eq!(ReportState::Submitted.after(Return, Office).unwrap(), ReportState::Returned);
        assert_eq!(ReportState::Submitted.after(Accept, Office).unwrap(), ReportState::Accepted);
        assert_eq!(ReportState::Draft.after(Submit, Office).unwrap_err().code, "not_your_step");
        assert_eq!(ReportState::Submitted.after(Accept, Head).unwrap_err().code, "not_your_step");
        assert_eq!(ReportState::Returned.after(Submit, Head).unwrap_err().code, "transition_not_allowed");
        assert_eq!(ReportState::Accepted.after(Return, Office).unwrap_err().code, "transition_not_allowed");
    }

    #[test]
    fn deadlines_count_working_days_across_the_national_day() {
        let cal = WorkCalendar::new([]);
        // Issued Monday 28 September 2026: 29, 30 Sep, then the holiday to 7 October, then 8 and 9
        // (Friday); Saturday 10 October is worked.
        let dl = Deadline::WorkingDays { days: 5 }.resolve(&cal, d("2026-09-28"));
        assert_eq!(dl, d("2026-10-10"));
        assert_eq!(Deadline::Date { date: d("2026-12-20") }.resolve(&cal, d("2026-12-01")), d("2026-12-20"));
        assert_eq!(Deadline::Date { date: d("2026-11-01") }.validate(d("2026-11-02")).unwrap_err().code, "in_the_past");
        assert_eq!(Deadline::WorkingDays { days: 0 }.validate(d("2026-11-02")).unwrap_err().code, "out_of_range");
    }

    #[test]
    fn overdue_only_while_the_department_owes_a_report() {
        let dl = d("2026-11-20");
        assert!(!OrderState::Open.overdue(dl, d("2026-11-20")));
        assert!(OrderState::Open.overdue(dl, d("2026-11-21")));
        assert!(OrderState::Returned.overdue(dl, d("2026-11-21")));
        assert!(!OrderState::Submitted.overdue(dl, d("2026-11-21")));
        assert!(!OrderState::Accepted.overdue(dl, d("2026-12-30")));
    }

    #[test]
    fn reminders_fall_on_working_days_before_the_deadline() {
        let cal = WorkCalendar::new([]);
        let p = RectificationPolicy::default(); // 3, 1 and 0 working days before
        // Deadline Monday 12 October 2026; Saturday 10 October is a worked day (调休).
        let dl = d("2026-10-12");
        assert_eq!(reminder_day(&cal, dl, 1), d("2026-10-10"));
        assert_eq!(reminder_day(&cal, dl, 3), d("2026-10-08"));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-07")), None);
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-08")), Some(3));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-09")), Some(3));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-11")), Some(1));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-12")), Some(0));
        assert_eq!(p.reminders_due(&cal, dl, d("2026-10-13")), None);
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳明月"), "欧***");
        assert_eq!(mask_name(""), "");
        assert_eq!(bulletin_number(2026, 12), "效能通报〔2026〕12号");
        assert!(RectificationPolicy { remind_working_days_before: vec![40], ..Default::default() }.validate().is_err());
    }
}
