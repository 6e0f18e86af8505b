//! A task in someone's inbox: what awaits their action now. Each module works out its own from
//! its records (so a task is never stale); the inbox gathers them.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

/// What kind of work a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// The department owes a report: write it.
    AnswerOrder,
    /// A returned report: write the next version.
    ResubmitReport,
    /// A drafted report awaits the head's signature.
    SubmitReport,
    /// A submitted report awaits the office's review.
    ReviewReport,
    /// An order past its deadline with no report in (the office's view).
    OverdueOrder,
    /// A draft bulletin awaits publication.
    DraftBulletin,
    /// A leader's instruction to follow up.
    FollowUp,
    /// A self-check to fill in and submit.
    SelfCheck,
    /// Next year's holidays and swapped weekends are not entered yet (the office).
    EnterHolidays,
    /// A password reset awaits the security admin's approval.
    ApproveReset,
    /// An inquiry handed to the user (or their department) to take up, or one they hold to answer.
    Inquiry,
    /// Lapses of the first-inquiry rule await the office's review.
    ReviewLapses,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    pub kind: TaskKind,
    pub title: String,
    /// The page where it is done.
    pub link: String,
    pub due: Option<NaiveDate>,
    pub overdue: bool,
}
