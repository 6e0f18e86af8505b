//! Secret inspection plans: their period, targets, team and visits.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use xiaoneng_core::{
    inspection::{PlanState, VisitFacts, VisitState},
    org::Status,
};

use super::{invalid, member_plans};
use crate::{
    PageReq, Paged, Result, StoreError, contains,
    entity::{plan, plan_member, plan_target, visit},
    one_row,
};

/// `member_of`: `None` for the office (every plan), `Some(user)` for a team member (their plans).
fn plan_condition(member_of: Option<i64>) -> Condition {
    match member_of {
        None => Condition::all(),
        Some(u) => Condition::all().add(plan::Column::Id.in_subquery(member_plans(u))),
    }
}

#[derive(Debug, Default, Clone)]
pub struct PlanFilter {
    pub q: Option<String>,
    pub status: Option<PlanState>,
    /// Plans whose period includes this day.
    pub on: Option<NaiveDate>,
}

pub async fn list_plans<C: ConnectionTrait>(
    c: &C,
    member_of: Option<i64>,
    f: &PlanFilter,
    page: PageReq,
) -> Result<Paged<plan::Model>> {
    let mut cond = plan_condition(member_of);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(contains(plan::Column::Title, q));
    }
    if let Some(s) = f.status {
        cond = cond.add(plan::Column::Status.eq(s));
    }
    if let Some(day) = f.on {
        cond = cond.add(plan::Column::PeriodStart.lte(day)).add(plan::Column::PeriodEnd.gte(day));
    }
    let q = plan::Entity::find().filter(cond);
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_desc(plan::Column::PeriodStart)
        .order_by_desc(plan::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_plan<C: ConnectionTrait>(c: &C, member_of: Option<i64>, id: i64) -> Result<plan::Model> {
    plan::Entity::find_by_id(id).filter(plan_condition(member_of)).one(c).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone)]
pub struct PlanInput {
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub notes: String,
    /// (department, window) pairs; a window must belong to its department.
    pub targets: Vec<(i64, Option<i64>)>,
}

async fn check_targets<C: ConnectionTrait>(c: &C, targets: &[(i64, Option<i64>)]) -> Result<()> {
    use crate::entity::{department, window};
    if targets.is_empty() {
        return Err(invalid("targets", "required", "至少选择一个暗访对象", "Choose at least one target"));
    }
    for (d, w) in targets {
        let dep = department::Entity::find_by_id(*d).one(c).await?;
        if dep.is_none_or(|d| d.status != Status::Active) {
            return Err(invalid(
                "targets",
                "department_not_found",
                "暗访对象部门不存在或已停用",
                "A target department does not exist or is retired",
            ));
        }
        if let Some(w) = w {
            let win = window::Entity::find_by_id(*w).one(c).await?;
            if win.is_none_or(|win| win.department_id != *d || win.status != Status::Active) {
                return Err(invalid(
                    "targets",
                    "window_not_in_department",
                    "暗访窗口须是该部门的在用窗口",
                    "A target window must be an active window of its department",
                ));
            }
        }
    }
    Ok(())
}

/// A new plan in the state its decision starts it in.
pub async fn create_plan<C: ConnectionTrait>(
    c: &C,
    i: PlanInput,
    state: PlanState,
    by: i64,
    now: DateTime<Utc>,
) -> Result<plan::Model> {
    check_targets(c, &i.targets).await?;
    let p = plan::ActiveModel {
        title: Set(i.title),
        period_start: Set(i.period_start),
        period_end: Set(i.period_end),
        notes: Set(i.notes),
        status: Set(state),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    sync_targets(c, p.id, &i.targets, now).await?;
    Ok(p)
}

/// Rewrites a plan and moves it to `to`, conditional on the state it was read in.
pub async fn update_plan<C: ConnectionTrait>(
    c: &C,
    p: &plan::Model,
    i: PlanInput,
    to: PlanState,
    now: DateTime<Utc>,
) -> Result<plan::Model> {
    check_targets(c, &i.targets).await?;
    one_row(
        plan::Entity::update_many()
            .col_expr(plan::Column::Title, Expr::value(i.title.clone()))
            .col_expr(plan::Column::PeriodStart, Expr::value(i.period_start))
            .col_expr(plan::Column::PeriodEnd, Expr::value(i.period_end))
            .col_expr(plan::Column::Notes, Expr::value(i.notes.clone()))
            .col_expr(plan::Column::Status, Expr::value(to))
            .col_expr(plan::Column::UpdatedAt, Expr::value(now))
            .filter(plan::Column::Id.eq(p.id))
            .filter(plan::Column::Status.eq(p.status))
            .exec(c)
            .await?,
    )?;
    sync_targets(c, p.id, &i.targets, now).await?;
    get_plan(c, None, p.id).await
}

/// Targets that leave the plan are marked removed, new ones added: nothing is deleted.
async fn sync_targets<C: ConnectionTrait>(
    c: &C,
    plan_id: i64,
    targets: &[(i64, Option<i64>)],
    now: DateTime<Utc>,
) -> Result<()> {
    let current = plan_targets(c, plan_id).await?;
    for t in &current {
        if !targets.contains(&(t.department_id, t.window_id)) {
            let mut am: plan_target::ActiveModel = t.clone().into();
            am.removed_at = Set(Some(now));
            am.update(c).await?;
        }
    }
    for (d, w) in targets {
        if !current.iter().any(|t| t.department_id == *d && t.window_id == *w) {
            plan_target::ActiveModel {
                plan_id: Set(plan_id),
                department_id: Set(*d),
                window_id: Set(*w),
                removed_at: Set(None),
                ..Default::default()
            }
            .insert(c)
            .await?;
        }
    }
    Ok(())
}

pub async fn plan_targets<C: ConnectionTrait>(c: &C, plan_id: i64) -> Result<Vec<plan_target::Model>> {
    Ok(plan_target::Entity::find()
        .filter(plan_target::Column::PlanId.eq(plan_id))
        .filter(plan_target::Column::RemovedAt.is_null())
        .order_by_asc(plan_target::Column::Id)
        .all(c)
        .await?)
}

pub async fn plan_team<C: ConnectionTrait>(c: &C, plan_id: i64) -> Result<Vec<plan_member::Model>> {
    Ok(plan_member::Entity::find()
        .filter(plan_member::Column::PlanId.eq(plan_id))
        .filter(plan_member::Column::RemovedAt.is_null())
        .order_by_asc(plan_member::Column::Id)
        .all(c)
        .await?)
}

/// Makes the team exactly `user_ids`; members who leave are marked removed, not deleted.
pub async fn set_team<C: ConnectionTrait>(
    c: &C,
    plan_id: i64,
    user_ids: &[i64],
    by: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let current: Vec<i64> = plan_team(c, plan_id).await?.iter().map(|m| m.user_id).collect();
    let added: Vec<i64> = user_ids.iter().copied().filter(|u| !current.contains(u)).collect();
    let removed: Vec<i64> = current.iter().copied().filter(|u| !user_ids.contains(u)).collect();
    for u in &added {
        plan_member::ActiveModel {
            plan_id: Set(plan_id),
            user_id: Set(*u),
            added_at: Set(now),
            added_by: Set(Some(by)),
            removed_at: Set(None),
            removed_by: Set(None),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    if !removed.is_empty() {
        plan_member::Entity::update_many()
            .col_expr(plan_member::Column::RemovedAt, Expr::value(now))
            .col_expr(plan_member::Column::RemovedBy, Expr::value(by))
            .filter(plan_member::Column::PlanId.eq(plan_id))
            .filter(plan_member::Column::UserId.is_in(removed.clone()))
            .filter(plan_member::Column::RemovedAt.is_null())
            .exec(c)
            .await?;
    }
    Ok((added, removed))
}

/// The plans a user is on the team of now.
pub async fn member_plan_ids<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = plan_member::Entity::find()
        .select_only()
        .column(plan_member::Column::PlanId)
        .filter(plan_member::Column::UserId.eq(user_id))
        .filter(plan_member::Column::RemovedAt.is_null())
        .into_tuple()
        .all(c)
        .await?;
    Ok(ids.into_iter().collect())
}

pub async fn plan_visits<C: ConnectionTrait>(c: &C, plan_id: i64) -> Result<Vec<visit::Model>> {
    Ok(visit::Entity::find()
        .filter(visit::Column::PlanId.eq(plan_id))
        .order_by_asc(visit::Column::ScheduledOn)
        .order_by_asc(visit::Column::Id)
        .all(c)
        .await?)
}

#[derive(Debug, Clone)]
pub struct VisitInput {
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub scheduled_on: NaiveDate,
    pub notes: String,
}

/// A visit goes to one of the plan's targets, on a day within the plan's period.
pub async fn add_visit<C: ConnectionTrait>(
    c: &C,
    p: &plan::Model,
    v: VisitInput,
    now: DateTime<Utc>,
) -> Result<visit::Model> {
    if v.scheduled_on < p.period_start || v.scheduled_on > p.period_end {
        return Err(invalid(
            "scheduled_on",
            "outside_period",
            "暗访日期须在计划期间内",
            "The visit must fall within the plan's period",
        ));
    }
    let targets = plan_targets(c, p.id).await?;
    let on_target = targets
        .iter()
        .any(|t| t.department_id == v.department_id && (t.window_id.is_none() || t.window_id == v.window_id));
    if !on_target {
        return Err(invalid(
            "department_id",
            "not_a_target",
            "该部门或窗口不是本计划的暗访对象",
            "That department or window is not a target of this plan",
        ));
    }
    Ok(visit::ActiveModel {
        plan_id: Set(p.id),
        department_id: Set(v.department_id),
        window_id: Set(v.window_id),
        scheduled_on: Set(v.scheduled_on),
        notes: Set(v.notes),
        status: Set(VisitState::Scheduled),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn get_visit<C: ConnectionTrait>(c: &C, id: i64) -> Result<visit::Model> {
    visit::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// Holds a plan in the state it was read in for the rest of the transaction (a row lock on
/// PostgreSQL; SQLite's writer is alone anyway), so that a visit scheduled or a finding recorded
/// cannot slip past the plan's closing: `StateChanged` once it moved on.
pub async fn hold_plan<C: ConnectionTrait>(c: &C, p: &plan::Model) -> Result<()> {
    one_row(
        plan::Entity::update_many()
            .col_expr(plan::Column::Status, Expr::value(p.status))
            .filter(plan::Column::Id.eq(p.id))
            .filter(plan::Column::Status.eq(p.status))
            .exec(c)
            .await?,
    )
}

/// A visit as its rules see it.
pub fn visit_facts(v: &visit::Model, p: &plan::Model) -> VisitFacts {
    VisitFacts {
        id: v.id,
        plan_id: v.plan_id,
        plan_state: p.status,
        state: v.status,
        department_id: v.department_id,
        window_id: v.window_id,
        scheduled_on: v.scheduled_on,
    }
}

/// Moves a visit to `to` (with its notes), conditional on the state it was read in.
pub async fn apply_visit<C: ConnectionTrait>(
    c: &C,
    v: &visit::Model,
    to: VisitState,
    notes: Option<String>,
    now: DateTime<Utc>,
) -> Result<visit::Model> {
    let mut q = visit::Entity::update_many()
        .col_expr(visit::Column::Status, Expr::value(to))
        .col_expr(visit::Column::UpdatedAt, Expr::value(now))
        .filter(visit::Column::Id.eq(v.id))
        .filter(visit::Column::Status.eq(v.status));
    if let Some(n) = notes {
        q = q.col_expr(visit::Column::Notes, Expr::value(n));
    }
    one_row(q.exec(c).await?)?;
    get_visit(c, v.id).await
}
