//! Findings of covert inspections. Who sees which is a [`FindingVisibility`], applied inside the
//! queries; a finding's steps are applied conditional on the state they were decided from, and
//! its history is its events in the ledger.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use xiaoneng_core::{
    event::Subject,
    inspection::{FindingFacts, FindingState, Severity},
    org::Status,
};

use super::{invalid, member_plans};
use crate::{
    PageReq, Paged, Result, StoreError, contains,
    entity::{finding, finding_category, visit},
    one_row,
    org::{Scope, in_dept_scope},
};

/// Who sees which findings. A user may be several of these at once; they see the union. The
/// same rule as `core::inspection::FindingAccess::sees`, as a query condition.
#[derive(Debug, Clone, Default)]
pub struct FindingVisibility {
    /// The office: every finding in every state.
    pub all: bool,
    /// A team member: every finding of the plans they are on.
    pub member: Option<i64>,
    /// A department (or a person, with `Scope::Person`): findings about them, once notified.
    pub subject: Option<Scope>,
}

impl FindingVisibility {
    pub fn sees_any(&self) -> bool {
        self.all || self.member.is_some() || self.subject.is_some()
    }

    fn condition(&self) -> Condition {
        if self.all {
            return Condition::all();
        }
        let mut any = Condition::any();
        if let Some(u) = self.member {
            any = any.add(finding::Column::PlanId.in_subquery(member_plans(u)));
        }
        if let Some(scope) = &self.subject {
            let visible: Vec<FindingState> =
                FindingState::ALL.iter().copied().filter(|s| s.visible_to_subject()).collect();
            let whose = match scope {
                Scope::Person(Some(p)) => Condition::all().add(finding::Column::PersonId.eq(*p)),
                other => in_dept_scope(finding::Column::DepartmentId, other),
            };
            any = any.add(Condition::all().add(finding::Column::State.is_in(visible)).add(whose));
        }
        if !self.sees_any() {
            return Condition::all().add(Expr::val(1).eq(0));
        }
        any
    }
}

#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    pub q: Option<String>,
    /// Any of these states.
    pub states: Vec<FindingState>,
    /// This department and, unless `exact_department`, its sub-departments.
    pub department_id: Option<i64>,
    pub exact_department: bool,
    pub category_id: Option<i64>,
    pub severity: Option<Severity>,
    pub plan_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// One of [`FINDING_SORTS`], `-` in front for descending; newest first by default.
    pub sort: Option<String>,
}

pub const FINDING_SORTS: &[(&str, finding::Column)] = &[
    ("occurred_at", finding::Column::OccurredAt),
    ("created_at", finding::Column::CreatedAt),
    ("severity", finding::Column::Severity),
    ("state", finding::Column::State),
    ("department_id", finding::Column::DepartmentId),
];

pub async fn list_findings<C: ConnectionTrait>(
    c: &C,
    vis: &FindingVisibility,
    f: &FindingFilter,
    page: PageReq,
) -> Result<Paged<finding::Model>> {
    let mut cond = Condition::all().add(vis.condition());
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(contains(finding::Column::Description, q));
    }
    if !f.states.is_empty() {
        cond = cond.add(finding::Column::State.is_in(f.states.clone()));
    }
    if let Some(d) = f.department_id {
        cond = cond.add(crate::org::in_department(c, finding::Column::DepartmentId, d, f.exact_department).await?);
    }
    if let Some(cat) = f.category_id {
        cond = cond.add(finding::Column::CategoryId.eq(cat));
    }
    if let Some(s) = f.severity {
        cond = cond.add(finding::Column::Severity.eq(s));
    }
    if let Some(p) = f.plan_id {
        cond = cond.add(finding::Column::PlanId.eq(p));
    }
    if let Some(from) = f.from {
        cond = cond.add(finding::Column::OccurredAt.gte(from));
    }
    if let Some(to) = f.to {
        cond = cond.add(finding::Column::OccurredAt.lt(to));
    }
    let q = finding::Entity::find().filter(cond);
    let total = q.clone().count(c).await?;
    let sort = f.sort.as_deref().unwrap_or("-occurred_at");
    let items = crate::org::order(q, Some(sort), FINDING_SORTS, finding::Column::OccurredAt)
        .order_by_desc(finding::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_finding<C: ConnectionTrait>(c: &C, vis: &FindingVisibility, id: i64) -> Result<finding::Model> {
    finding::Entity::find_by_id(id).filter(vis.condition()).one(c).await?.ok_or(StoreError::NotFound)
}

/// Findings by id, in the order asked (for lists built elsewhere: bulletins, orders).
pub async fn findings_by_ids<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<Vec<finding::Model>> {
    let mut by_id: HashMap<i64, finding::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for f in finding::Entity::find().filter(finding::Column::Id.is_in(chunk.to_vec())).all(c).await? {
            by_id.insert(f.id, f);
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// A finding as its rules see it.
pub fn finding_facts(f: &finding::Model) -> FindingFacts {
    FindingFacts {
        id: f.id,
        state: f.state,
        subject: Subject {
            department_id: Some(f.department_id),
            window_id: f.window_id,
            person_id: f.person_id,
            post_id: f.post_id,
        },
        category_id: f.category_id,
        severity: f.severity,
        notified_at: f.notified_at,
    }
}

#[derive(Debug, Clone)]
pub struct FindingInput {
    /// The visit it was found on; none for a finding the office makes from a lapse of the
    /// first-inquiry rule.
    pub visit: Option<visit::Model>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
    pub category_id: i64,
    pub severity: Option<Severity>,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
}

/// Checks what a new finding names against the records: an active category, and a window,
/// person and post of the department it names. Returns the severity it will have (the
/// category's unless given).
pub async fn check_refs<C: ConnectionTrait>(c: &C, i: &FindingInput) -> Result<Severity> {
    use crate::entity::{person, post, window};
    let cat = finding_category::Entity::find_by_id(i.category_id)
        .one(c)
        .await?
        .filter(|c| c.status == Status::Active)
        .ok_or_else(|| {
            invalid(
                "category_id",
                "category_not_found",
                "问题类别不存在或已停用",
                "No active finding category with that id",
            )
        })?;
    if let Some(w) = i.window_id {
        let ok = window::Entity::find_by_id(w).one(c).await?.is_some_and(|w| w.department_id == i.department_id);
        if !ok {
            return Err(invalid(
                "window_id",
                "window_not_in_department",
                "窗口须属于该部门",
                "The window must belong to the department",
            ));
        }
    }
    if let Some(p) = i.person_id {
        let ok = person::Entity::find_by_id(p).one(c).await?.is_some_and(|p| p.department_id == i.department_id);
        if !ok {
            return Err(invalid(
                "person_id",
                "person_not_in_department",
                "人员须属于该部门",
                "The person must belong to the department",
            ));
        }
    }
    if let Some(p) = i.post_id {
        let ok = post::Entity::find_by_id(p).one(c).await?.is_some_and(|p| p.department_id == i.department_id);
        if !ok {
            return Err(invalid(
                "post_id",
                "post_not_in_department",
                "岗位须属于该部门",
                "The post must belong to the department",
            ));
        }
    }
    Ok(i.severity.unwrap_or(cat.default_severity))
}

/// Inserts a finding as recorded (a draft).
pub async fn insert_finding<C: ConnectionTrait>(
    c: &C,
    i: FindingInput,
    severity: Severity,
    state: FindingState,
    by: i64,
    now: DateTime<Utc>,
) -> Result<finding::Model> {
    Ok(finding::ActiveModel {
        plan_id: Set(i.visit.as_ref().map(|v| v.plan_id)),
        visit_id: Set(i.visit.as_ref().map(|v| v.id)),
        department_id: Set(i.department_id),
        window_id: Set(i.window_id),
        person_id: Set(i.person_id),
        post_id: Set(i.post_id),
        category_id: Set(i.category_id),
        severity: Set(severity),
        occurred_at: Set(i.occurred_at),
        description: Set(i.description),
        state: Set(state),
        recorded_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        notified_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

/// Moves a finding from `from` to `to`, conditional on it still being in `from`.
pub async fn apply_finding<C: ConnectionTrait>(
    c: &C,
    id: i64,
    from: FindingState,
    to: FindingState,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut q = finding::Entity::update_many()
        .col_expr(finding::Column::State, Expr::value(to))
        .col_expr(finding::Column::UpdatedAt, Expr::value(now))
        .filter(finding::Column::Id.eq(id))
        .filter(finding::Column::State.eq(from));
    if to == FindingState::Notified {
        q = q.col_expr(finding::Column::NotifiedAt, Expr::value(now));
    }
    one_row(q.exec(c).await?)
}
