//! Covert inspections: the finding taxonomy, secret plans (targets, team, visits) and findings
//! with their history. Plans are read only through `member_of`, findings only through a
//! [`FindingVisibility`], both applied inside the queries.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use xiaoneng_core::{
    ValidationError,
    inspection::{FindingAction, FindingState},
};

use crate::{
    PageReq, Paged, Result, StoreError, contains,
    entity::{finding, finding_category, finding_event, plan, plan_member, plan_target, visit},
    org::{Scope, in_dept_scope},
};

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, code, zh, en))
}

// ------------------------------------------------------------------ taxonomy

pub async fn list_categories<C: ConnectionTrait>(c: &C, include_retired: bool) -> Result<Vec<finding_category::Model>> {
    let mut q = finding_category::Entity::find();
    if !include_retired {
        q = q.filter(finding_category::Column::Status.eq("active"));
    }
    Ok(q.order_by_asc(finding_category::Column::SortOrder).order_by_asc(finding_category::Column::Id).all(c).await?)
}

#[derive(Debug, Clone)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub default_severity: String,
    pub sort_order: i32,
}

pub async fn save_category<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    i: CategoryInput,
    now: DateTime<Utc>,
) -> Result<(Option<finding_category::Model>, finding_category::Model)> {
    let taken = finding_category::Entity::find().filter(finding_category::Column::Code.eq(&i.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(finding_category::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => finding_category::ActiveModel {
            status: Set("active".into()),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(i.code);
    am.name = Set(i.name);
    am.name_en = Set(i.name_en);
    am.default_severity = Set(i.default_severity);
    am.sort_order = Set(i.sort_order);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_category<C: ConnectionTrait>(
    c: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<finding_category::Model> {
    let cat = finding_category::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if cat.status != "active" {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: finding_category::ActiveModel = cat.into();
    am.status = Set("retired".into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

// ------------------------------------------------------------------ plans

/// Plans a user is on the team of (now).
fn member_plans(user_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(plan_member::Column::PlanId)
        .from(plan_member::Entity)
        .and_where(plan_member::Column::UserId.eq(user_id))
        .and_where(plan_member::Column::RemovedAt.is_null())
        .to_owned()
}

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
    pub status: Option<String>,
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
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
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
    pub status: String,
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
        if dep.is_none_or(|d| d.status != "active") {
            return Err(invalid(
                "targets",
                "department_not_found",
                "暗访对象部门不存在或已停用",
                "A target department does not exist or is retired",
            ));
        }
        if let Some(w) = w {
            let win = window::Entity::find_by_id(*w).one(c).await?;
            if win.is_none_or(|win| win.department_id != *d || win.status != "active") {
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

pub async fn save_plan<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    i: PlanInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<plan::Model> {
    check_targets(c, &i.targets).await?;
    let before = match id {
        Some(id) => Some(plan::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => plan::ActiveModel { created_by: Set(by), created_at: Set(now), ..Default::default() },
    };
    am.title = Set(i.title);
    am.period_start = Set(i.period_start);
    am.period_end = Set(i.period_end);
    am.notes = Set(i.notes);
    am.status = Set(i.status);
    am.updated_at = Set(now);
    let p = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    // Targets that leave the plan are marked removed, new ones added: nothing is deleted.
    let current = plan_targets(c, p.id).await?;
    for t in &current {
        if !i.targets.contains(&(t.department_id, t.window_id)) {
            let mut am: plan_target::ActiveModel = t.clone().into();
            am.removed_at = Set(Some(now));
            am.update(c).await?;
        }
    }
    for (d, w) in i.targets {
        if !current.iter().any(|t| t.department_id == d && t.window_id == w) {
            plan_target::ActiveModel {
                plan_id: Set(p.id),
                department_id: Set(d),
                window_id: Set(w),
                removed_at: Set(None),
                ..Default::default()
            }
            .insert(c)
            .await?;
        }
    }
    Ok(p)
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
        status: Set("scheduled".into()),
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

/// Records what became of a visit: `scheduled`, `done` or `cancelled`, with notes.
pub async fn update_visit<C: ConnectionTrait>(
    c: &C,
    v: visit::Model,
    status: &str,
    notes: String,
    now: DateTime<Utc>,
) -> Result<visit::Model> {
    let mut am: visit::ActiveModel = v.into();
    am.status = Set(status.into());
    am.notes = Set(notes);
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

// ------------------------------------------------------------------ findings

/// Who sees which findings. A user may be several of these at once; they see the union.
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
    fn condition(&self) -> Condition {
        if self.all {
            return Condition::all();
        }
        let mut any = Condition::any();
        if let Some(u) = self.member {
            any = any.add(finding::Column::PlanId.in_subquery(member_plans(u)));
        }
        if let Some(scope) = &self.subject {
            let visible: Vec<&str> =
                FindingState::ALL.iter().filter(|s| s.visible_to_subject()).map(|s| s.code()).collect();
            let whose = match scope {
                Scope::Person(Some(p)) => Condition::all().add(finding::Column::PersonId.eq(*p)),
                other => in_dept_scope(finding::Column::DepartmentId, other),
            };
            any = any.add(Condition::all().add(finding::Column::State.is_in(visible)).add(whose));
        }
        if self.member.is_none() && self.subject.is_none() {
            return Condition::all().add(Expr::val(1).eq(0));
        }
        any
    }
}

#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    pub q: Option<String>,
    /// Any of these states.
    pub states: Vec<String>,
    /// This department and, unless `exact_department`, its sub-departments.
    pub department_id: Option<i64>,
    pub exact_department: bool,
    pub category_id: Option<i64>,
    pub severity: Option<String>,
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
    if let Some(s) = f.severity.as_deref().filter(|s| !s.is_empty()) {
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
    let mut by_id: std::collections::HashMap<i64, finding::Model> = finding::Entity::find()
        .filter(finding::Column::Id.is_in(ids.to_vec()))
        .all(c)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub async fn finding_history<C: ConnectionTrait>(c: &C, finding_id: i64) -> Result<Vec<finding_event::Model>> {
    Ok(finding_event::Entity::find()
        .filter(finding_event::Column::FindingId.eq(finding_id))
        .order_by_asc(finding_event::Column::Id)
        .all(c)
        .await?)
}

#[derive(Debug, Clone)]
pub struct FindingInput {
    pub visit: visit::Model,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
    pub category_id: i64,
    pub severity: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
}

/// Records a draft finding of a visit. What it names must belong to the department it names.
pub async fn create_finding<C: ConnectionTrait>(
    c: &C,
    i: FindingInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<finding::Model> {
    use crate::entity::{person, post, window};
    if i.department_id != i.visit.department_id {
        return Err(invalid(
            "department_id",
            "not_the_visited_department",
            "问题须属于本次暗访的部门",
            "The finding must name the department this visit went to",
        ));
    }
    let cat =
        finding_category::Entity::find_by_id(i.category_id).one(c).await?.filter(|c| c.status == "active").ok_or_else(
            || {
                invalid(
                    "category_id",
                    "category_not_found",
                    "问题类别不存在或已停用",
                    "No active finding category with that id",
                )
            },
        )?;
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
    let f = finding::ActiveModel {
        plan_id: Set(Some(i.visit.plan_id)),
        visit_id: Set(Some(i.visit.id)),
        department_id: Set(i.department_id),
        window_id: Set(i.window_id),
        person_id: Set(i.person_id),
        post_id: Set(i.post_id),
        category_id: Set(cat.id),
        severity: Set(i.severity.unwrap_or(cat.default_severity)),
        occurred_at: Set(i.occurred_at),
        description: Set(i.description),
        state: Set(FindingState::Draft.code().into()),
        recorded_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        notified_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?;
    finding_event::ActiveModel {
        finding_id: Set(f.id),
        action: Set("record".into()),
        from_state: Set(None),
        to_state: Set(f.state.clone()),
        actor_user_id: Set(by),
        reason: Set(String::new()),
        at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(f)
}

/// Moves a finding to `to` and records who, when and why. The caller has asked the state
/// machine (`FindingState::after`) whether the step is allowed.
pub async fn record_step<C: ConnectionTrait>(
    c: &C,
    f: finding::Model,
    action: FindingAction,
    to: FindingState,
    by: i64,
    reason: String,
    now: DateTime<Utc>,
) -> Result<finding::Model> {
    let from = f.state.clone();
    let mut am: finding::ActiveModel = f.into();
    am.state = Set(to.code().into());
    am.updated_at = Set(now);
    if to == FindingState::Notified {
        am.notified_at = Set(Some(now));
    }
    let f = am.update(c).await?;
    finding_event::ActiveModel {
        finding_id: Set(f.id),
        action: Set(action.code().into()),
        from_state: Set(Some(from)),
        to_state: Set(to.code().into()),
        actor_user_id: Set(by),
        reason: Set(reason),
        at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(f)
}
