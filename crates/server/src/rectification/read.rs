//! The read models bulletins, orders and the inbox share: findings as a bulletin lists them,
//! orders with their deadlines and countdowns, leaders' instructions. Each is built for a whole
//! page at once, with one query per kind of name, never one per row.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use xiaoneng_core::{
    inspection::{FindingState, Severity},
    rbac::Permission,
    rectification::{FollowUpState, InstructionTarget, OrderState, bulletin_number, late, permits_follow_up},
};
use xiaoneng_store::{
    accounts,
    entity::{bulletin, finding, instruction, order},
    inspections, org,
    rectification::{self as rect},
};

use crate::{ApiResult, auth::CurrentUser};

/// A finding as a bulletin lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinFinding {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub window_name: Option<String>,
    pub person_name: Option<String>,
    pub category_name: String,
    pub severity: Severity,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub state: FindingState,
}

/// Findings as bulletins and orders list them, with the names filled in.
pub async fn finding_lines<C: ConnectionTrait>(c: &C, rows: &[finding::Model]) -> ApiResult<Vec<BulletinFinding>> {
    let departments = org::department_names(c, rows.iter().map(|f| f.department_id)).await?;
    let windows = org::window_names(c, rows.iter().filter_map(|f| f.window_id)).await?;
    let people = org::person_names(c, rows.iter().filter_map(|f| f.person_id)).await?;
    let categories = inspections::category_names(c).await?;
    Ok(rows
        .iter()
        .map(|f| BulletinFinding {
            id: f.id,
            department_id: f.department_id,
            department_name: departments.get(&f.department_id).cloned().unwrap_or_default(),
            window_name: f.window_id.and_then(|w| windows.get(&w).cloned()),
            person_name: f.person_id.and_then(|p| people.get(&p).cloned()),
            category_name: categories.get(&f.category_id).cloned().unwrap_or_default(),
            severity: f.severity,
            occurred_at: f.occurred_at,
            description: f.description.clone(),
            state: f.state,
        })
        .collect())
}

/// A bulletin's number as written, once published.
pub fn number_text(b: &bulletin::Model) -> Option<String> {
    Some(bulletin_number(b.year?, b.number?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    pub id: i64,
    pub bulletin_id: Option<i64>,
    /// The bulletin's number, e.g. 效能通报〔2026〕12号.
    pub bulletin_number: Option<String>,
    pub bulletin_title: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub requirement: String,
    /// The last day (city time) to report: the deadline in force (a return may have set a new
    /// one; the earlier ones are in the order's events).
    pub deadline: NaiveDate,
    pub status: OrderState,
    /// Past the deadline with no report in.
    pub overdue: bool,
    /// Calendar days left; negative when overdue.
    pub days_left: i64,
    pub finding_count: u64,
    pub issued_at: DateTime<Utc>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// The first report came in after the deadline in force then — for good, whatever later
    /// returns did to the deadline.
    pub submitted_late: bool,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Orders as lists show them: bulletins, departments, finding counts and first reports fetched
/// once for the page.
pub async fn order_dtos<C: ConnectionTrait>(c: &C, rows: Vec<order::Model>, today: NaiveDate) -> ApiResult<Vec<Order>> {
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let departments = org::department_names(c, rows.iter().map(|o| o.department_id)).await?;
    let counts = rect::order_finding_counts(c, &ids).await?;
    let firsts = rect::first_reports(c, &ids).await?;
    let bulletin_ids: Vec<i64> = rows.iter().filter_map(|o| o.bulletin_id).collect();
    let bulletins = rect::bulletins_by_ids(c, &bulletin_ids).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let b = o.bulletin_id.and_then(|id| bulletins.get(&id));
            let first = firsts.get(&o.id);
            Order {
                id: o.id,
                bulletin_id: o.bulletin_id,
                bulletin_number: b.and_then(number_text),
                bulletin_title: b.map(|b| b.title.clone()),
                department_name: departments.get(&o.department_id).cloned().unwrap_or_default(),
                department_id: o.department_id,
                requirement: o.requirement,
                overdue: o.status.overdue(o.deadline, today),
                days_left: (o.deadline - today).num_days(),
                deadline: o.deadline,
                status: o.status,
                finding_count: counts.get(&o.id).copied().unwrap_or(0),
                issued_at: o.issued_at,
                submitted_late: first.is_some_and(|r| match (r.submitted_at, r.due) {
                    (Some(at), Some(due)) => late(at, due),
                    _ => false,
                }),
                first_submitted_at: o.first_submitted_at,
                accepted_at: o.accepted_at,
            }
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Instruction {
    pub id: i64,
    pub target_kind: InstructionTarget,
    pub target_id: i64,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub follow_up: bool,
    /// Who must follow up: a department, or the office when empty.
    pub follow_up_department_id: Option<i64>,
    pub follow_up_department_name: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    pub follow_up_status: Option<FollowUpState>,
    pub follow_up_note: String,
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Past its due date and not done.
    pub follow_up_overdue: bool,
    /// Whether the caller may report the follow-up done now.
    pub can_complete: bool,
}

/// Whether `user` is who must follow an instruction up: the office for its own items, a head
/// whose `report:submit` reaches the department for the department's (`path`: its path).
pub fn is_assignee(user: &CurrentUser, department: Option<(i64, &str)>) -> bool {
    match department {
        None => user.grants.has(Permission::RectificationManage),
        Some((id, path)) => user.scope(Permission::ReportSubmit).is_some_and(|s| s.covers_department(id, path)),
    }
}

pub async fn instruction_dtos<C: ConnectionTrait>(
    c: &C,
    user: &CurrentUser,
    rows: Vec<instruction::Model>,
    today: NaiveDate,
) -> ApiResult<Vec<Instruction>> {
    let authors = accounts::display_names(c, rows.iter().map(|i| i.author_id)).await?;
    let departments = org::department_names(c, rows.iter().filter_map(|i| i.follow_up_department_id)).await?;
    let paths = org::department_paths(c, rows.iter().filter_map(|i| i.follow_up_department_id)).await?;
    Ok(rows
        .into_iter()
        .map(|i| Instruction {
            can_complete: i.follow_up_status.is_some_and(|state| {
                let dept = i.follow_up_department_id.map(|d| (d, paths.get(&d).map_or("", String::as_str)));
                permits_follow_up(state, is_assignee(user, dept)).is_ok()
            }),
            id: i.id,
            author_name: authors.get(&i.author_id).cloned().unwrap_or_default(),
            follow_up_department_name: i.follow_up_department_id.and_then(|d| departments.get(&d).cloned()),
            target_kind: i.target_kind,
            target_id: i.target_id,
            text: i.text,
            created_at: i.created_at,
            follow_up: i.follow_up,
            follow_up_department_id: i.follow_up_department_id,
            follow_up_overdue: i.follow_up_status == Some(FollowUpState::Open)
                && i.follow_up_due.is_some_and(|d| today > d),
            follow_up_due: i.follow_up_due,
            follow_up_status: i.follow_up_status,
            follow_up_note: i.follow_up_note,
            follow_up_done_at: i.follow_up_done_at,
        })
        .collect())
}

/// Bulletins' numbers and titles as tasks and notices name them: 效能通报〔2026〕3号《…》.
pub async fn bulletin_titles<C: ConnectionTrait>(c: &C, ids: &[i64]) -> ApiResult<HashMap<i64, String>> {
    Ok(rect::bulletins_by_ids(c, ids)
        .await?
        .into_values()
        .map(|b| (b.id, format!("{}《{}》", number_text(&b).unwrap_or_default(), b.title)))
        .collect())
}
