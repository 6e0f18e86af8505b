//! Bulletins, rectification orders and reports, instructions, notifications and reminders: the
//! rows, and the few multi-row changes (publishing) that must happen together.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, OnConflict, Query},
};
use xiaoneng_core::{
    inspection::{FindingAction, FindingState},
    rbac::Role,
    rectification::{BulletinState, OrderState, ReportState},
};

use crate::{
    Result, StoreError, contains,
    entity::{
        attachment, bulletin, bulletin_finding, finding, instruction, notification, order, order_finding,
        order_reminder, report, user, user_role,
    },
    org::{Scope, in_dept_scope},
    page::{PageReq, Paged},
};

fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> StoreError {
    StoreError::Invalid(xiaoneng_core::ValidationError::new(field, code, zh, en))
}

// ------------------------------------------------------------------ bulletins

#[derive(Debug, Clone)]
pub struct BulletinInput {
    pub scope: String,
    pub title: String,
    pub body: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub mask_names: bool,
    pub corrects_id: Option<i64>,
    pub requirement: String,
    pub deadline: String,
    pub finding_ids: Vec<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct BulletinFilter {
    pub q: Option<String>,
    pub status: Option<String>,
    pub scope: Option<String>,
    pub year: Option<i32>,
    /// Only published bulletins (all a department sees).
    pub published_only: bool,
    /// Only public and media bulletins (the public page).
    pub public_only: bool,
}

pub async fn list_bulletins<C: ConnectionTrait>(
    c: &C,
    f: &BulletinFilter,
    page: PageReq,
) -> Result<Paged<bulletin::Model>> {
    let mut cond = Condition::all();
    if f.published_only || f.public_only {
        cond = cond.add(bulletin::Column::Status.eq(BulletinState::Published.code()));
    }
    if f.public_only {
        cond = cond.add(bulletin::Column::Scope.ne("internal"));
    }
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond
            .add(Condition::any().add(contains(bulletin::Column::Title, q)).add(contains(bulletin::Column::Body, q)));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(bulletin::Column::Status.eq(s));
    }
    if let Some(s) = f.scope.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(bulletin::Column::Scope.eq(s));
    }
    if let Some(y) = f.year {
        cond = cond.add(bulletin::Column::Year.eq(y));
    }
    let q = bulletin::Entity::find().filter(cond);
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_desc(bulletin::Column::PublishedAt)
        .order_by_desc(bulletin::Column::UpdatedAt)
        .order_by_desc(bulletin::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_bulletin<C: ConnectionTrait>(c: &C, id: i64) -> Result<bulletin::Model> {
    bulletin::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

pub async fn bulletin_by_number<C: ConnectionTrait>(c: &C, year: i32, number: i32) -> Result<bulletin::Model> {
    bulletin::Entity::find()
        .filter(bulletin::Column::Year.eq(year))
        .filter(bulletin::Column::Number.eq(number))
        .filter(bulletin::Column::Status.eq(BulletinState::Published.code()))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The published bulletins that correct this one (normally none, or one).
pub async fn corrections_of<C: ConnectionTrait>(c: &C, id: i64) -> Result<Vec<bulletin::Model>> {
    Ok(bulletin::Entity::find()
        .filter(bulletin::Column::CorrectsId.eq(id))
        .filter(bulletin::Column::Status.eq(BulletinState::Published.code()))
        .order_by_asc(bulletin::Column::PublishedAt)
        .all(c)
        .await?)
}

/// The findings a bulletin gathers, in its order.
pub async fn bulletin_findings<C: ConnectionTrait>(c: &C, bulletin_id: i64) -> Result<Vec<finding::Model>> {
    let links = bulletin_finding::Entity::find()
        .filter(bulletin_finding::Column::BulletinId.eq(bulletin_id))
        .order_by_asc(bulletin_finding::Column::Position)
        .all(c)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.finding_id).collect();
    crate::inspections::findings_by_ids(c, &ids).await
}

/// How many findings a bulletin lists.
pub async fn finding_count<C: ConnectionTrait>(c: &C, bulletin_id: i64) -> Result<u64> {
    Ok(bulletin_finding::Entity::find().filter(bulletin_finding::Column::BulletinId.eq(bulletin_id)).count(c).await?)
}

/// Creates or rewrites a draft bulletin with its findings. The findings must be confirmed (or
/// further on) and count; an overturned or draft finding cannot be bulletined.
pub async fn save_bulletin<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    input: BulletinInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bulletin::Model> {
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = input.finding_ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    let found = finding::Entity::find().filter(finding::Column::Id.is_in(ids.clone())).all(c).await?;
    for id in &ids {
        match found.iter().find(|f| f.id == *id) {
            None => {
                return Err(invalid(
                    "finding_ids",
                    "unknown_finding",
                    format!("问题 {id} 不存在"),
                    format!("Finding {id} does not exist"),
                ));
            }
            Some(f) if !FindingState::from_code(&f.state).is_some_and(FindingState::counts) => {
                return Err(invalid(
                    "finding_ids",
                    "finding_not_confirmed",
                    format!("问题 {id} 尚未确认或已撤销，不能通报"),
                    format!("Finding {id} is not confirmed (or was overturned) and cannot be bulletined"),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(cid) = input.corrects_id {
        let old = get_bulletin(c, cid).await.map_err(|_| {
            invalid("corrects_id", "unknown_bulletin", "被更正的通报不存在", "The bulletin to correct does not exist")
        })?;
        if old.status != BulletinState::Published.code() || Some(cid) == id {
            return Err(invalid(
                "corrects_id",
                "not_published",
                "只能更正已发布的通报",
                "Only a published bulletin can be corrected",
            ));
        }
    }
    let b = match id {
        Some(id) => {
            let b = get_bulletin(c, id).await?;
            if b.status != BulletinState::Draft.code() {
                return Err(invalid(
                    "status",
                    "not_a_draft",
                    "通报已发布或作废，不能修改；如需更正请另发更正通报",
                    "The bulletin is no longer a draft; publish a correction instead",
                ));
            }
            let mut am: bulletin::ActiveModel = b.into();
            am.scope = Set(input.scope);
            am.title = Set(input.title);
            am.body = Set(input.body);
            am.period_start = Set(input.period_start);
            am.period_end = Set(input.period_end);
            am.mask_names = Set(input.mask_names);
            am.corrects_id = Set(input.corrects_id);
            am.requirement = Set(input.requirement);
            am.deadline = Set(input.deadline);
            am.updated_at = Set(now);
            am.update(c).await?
        }
        None => {
            bulletin::ActiveModel {
                status: Set(BulletinState::Draft.code().into()),
                scope: Set(input.scope),
                title: Set(input.title),
                body: Set(input.body),
                period_start: Set(input.period_start),
                period_end: Set(input.period_end),
                mask_names: Set(input.mask_names),
                corrects_id: Set(input.corrects_id),
                requirement: Set(input.requirement),
                deadline: Set(input.deadline),
                year: Set(None),
                number: Set(None),
                created_by: Set(by),
                created_at: Set(now),
                updated_at: Set(now),
                published_by: Set(None),
                published_at: Set(None),
                ..Default::default()
            }
            .insert(c)
            .await?
        }
    };
    // A draft's list of findings is its own to rewrite; published bulletins never reach here.
    bulletin_finding::Entity::delete_many().filter(bulletin_finding::Column::BulletinId.eq(b.id)).exec(c).await?;
    if !ids.is_empty() {
        let rows = ids.iter().enumerate().map(|(i, f)| bulletin_finding::ActiveModel {
            bulletin_id: Set(b.id),
            finding_id: Set(*f),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            ..Default::default()
        });
        bulletin_finding::Entity::insert_many(rows).exec_without_returning(c).await?;
    }
    Ok(b)
}

pub async fn withdraw_bulletin<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<bulletin::Model> {
    let b = get_bulletin(c, id).await?;
    if b.status != BulletinState::Draft.code() {
        return Err(invalid(
            "status",
            "not_a_draft",
            "已发布的通报不能作废；如需更正请另发更正通报",
            "A published bulletin cannot be withdrawn; publish a correction instead",
        ));
    }
    let mut am: bulletin::ActiveModel = b.into();
    am.status = Set(BulletinState::Withdrawn.code().into());
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// What publishing did.
#[derive(Debug)]
pub struct Published {
    pub bulletin: bulletin::Model,
    /// Findings that this bulletin made visible to their departments.
    pub notified: Vec<i64>,
    pub orders: Vec<order::Model>,
}

/// Publishes a draft: gives it the year's next number, notifies its confirmed findings, and
/// issues one order per department for the findings not yet under an order. All or nothing: the
/// caller's transaction.
pub async fn publish_bulletin<C: ConnectionTrait>(
    c: &C,
    id: i64,
    year: i32,
    deadline: NaiveDate,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Published> {
    let b = get_bulletin(c, id).await?;
    if b.status != BulletinState::Draft.code() {
        return Err(invalid(
            "status",
            "already_published",
            "通报已发布，不能再次发布",
            "The bulletin has been published already",
        ));
    }
    let findings = bulletin_findings(c, id).await?;
    if findings.is_empty() && b.corrects_id.is_none() {
        return Err(invalid(
            "finding_ids",
            "no_findings",
            "通报至少要列出一个问题",
            "A bulletin must list at least one finding",
        ));
    }
    if let Some(f) = findings.iter().find(|f| !FindingState::from_code(&f.state).is_some_and(FindingState::counts)) {
        return Err(invalid(
            "finding_ids",
            "finding_not_confirmed",
            format!("问题 {} 已撤销或未确认，请从通报中移除", f.id),
            format!("Finding {} was overturned or is not confirmed: remove it from the bulletin", f.id),
        ));
    }
    let last: Option<Option<i32>> = bulletin::Entity::find()
        .select_only()
        .column_as(bulletin::Column::Number.max(), "n")
        .filter(bulletin::Column::Year.eq(year))
        .into_tuple()
        .one(c)
        .await?;
    let number = last.flatten().unwrap_or(0) + 1;
    let mut am: bulletin::ActiveModel = b.into();
    am.status = Set(BulletinState::Published.code().into());
    am.year = Set(Some(year));
    am.number = Set(Some(number));
    am.published_by = Set(Some(by));
    am.published_at = Set(Some(now));
    am.updated_at = Set(now);
    let b = am.update(c).await?;

    let mut notified = Vec::new();
    for f in &findings {
        if f.state == FindingState::Confirmed.code() {
            crate::inspections::record_step(
                c,
                f.clone(),
                FindingAction::Notify,
                FindingState::Notified,
                by,
                format!("随{}发布", xiaoneng_core::rectification::bulletin_number(year, number)),
                now,
            )
            .await?;
            notified.push(f.id);
        }
    }

    let already: Vec<i64> = order_finding::Entity::find()
        .select_only()
        .column(order_finding::Column::FindingId)
        .filter(order_finding::Column::FindingId.is_in(findings.iter().map(|f| f.id)))
        .into_tuple()
        .all(c)
        .await?;
    let mut by_dept: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for f in findings.iter().filter(|f| !already.contains(&f.id)) {
        by_dept.entry(f.department_id).or_default().push(f.id);
    }
    let mut orders = Vec::new();
    for (dept, ids) in by_dept {
        let o = order::ActiveModel {
            bulletin_id: Set(Some(b.id)),
            department_id: Set(dept),
            requirement: Set(b.requirement.clone()),
            deadline: Set(deadline),
            status: Set(OrderState::Open.code().into()),
            issued_by: Set(by),
            issued_at: Set(now),
            first_submitted_at: Set(None),
            accepted_at: Set(None),
            overdue_at: Set(None),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(c)
        .await?;
        let rows = ids.iter().map(|f| order_finding::ActiveModel {
            order_id: Set(o.id),
            finding_id: Set(*f),
            ..Default::default()
        });
        order_finding::Entity::insert_many(rows).exec_without_returning(c).await?;
        orders.push(o);
    }
    Ok(Published { bulletin: b, notified, orders })
}

// ------------------------------------------------------------------ orders

#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub status: Vec<String>,
    pub department_id: Option<i64>,
    pub bulletin_id: Option<i64>,
    /// Only orders past their deadline with no report in, as of this day.
    pub overdue_on: Option<NaiveDate>,
}

fn order_scope(scope: &Scope) -> Condition {
    in_dept_scope(order::Column::DepartmentId, scope)
}

pub async fn list_orders<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &OrderFilter,
    page: PageReq,
) -> Result<Paged<order::Model>> {
    let mut cond = Condition::all().add(order_scope(scope));
    if !f.status.is_empty() {
        cond = cond.add(order::Column::Status.is_in(f.status.clone()));
    }
    if let Some(d) = f.department_id {
        cond = cond.add(crate::org::in_department(c, order::Column::DepartmentId, d, false).await?);
    }
    if let Some(b) = f.bulletin_id {
        cond = cond.add(order::Column::BulletinId.eq(b));
    }
    if let Some(today) = f.overdue_on {
        let owed: Vec<&str> = OrderState::ALL.iter().filter(|s| s.awaits_department()).map(|s| s.code()).collect();
        cond = cond.add(order::Column::Status.is_in(owed)).add(order::Column::Deadline.lt(today));
    }
    let q = order::Entity::find().filter(cond);
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_asc(order::Column::Deadline)
        .order_by_asc(order::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_order<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<order::Model> {
    order::Entity::find_by_id(id).filter(order_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

/// Open orders (the department owes a report) in a scope, for reminders and inboxes.
pub async fn orders_owed<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<order::Model>> {
    let owed: Vec<&str> = OrderState::ALL.iter().filter(|s| s.awaits_department()).map(|s| s.code()).collect();
    Ok(order::Entity::find()
        .filter(order_scope(scope))
        .filter(order::Column::Status.is_in(owed))
        .order_by_asc(order::Column::Deadline)
        .all(c)
        .await?)
}

pub async fn orders_in_state<C: ConnectionTrait>(c: &C, scope: &Scope, state: OrderState) -> Result<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order_scope(scope))
        .filter(order::Column::Status.eq(state.code()))
        .order_by_asc(order::Column::Deadline)
        .all(c)
        .await?)
}

pub async fn order_finding_ids<C: ConnectionTrait>(c: &C, order_id: i64) -> Result<Vec<i64>> {
    Ok(order_finding::Entity::find()
        .select_only()
        .column(order_finding::Column::FindingId)
        .filter(order_finding::Column::OrderId.eq(order_id))
        .order_by_asc(order_finding::Column::FindingId)
        .into_tuple()
        .all(c)
        .await?)
}

/// How many findings each order covers, in one query.
pub async fn order_finding_counts<C: ConnectionTrait>(
    c: &C,
    order_ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = order_finding::Entity::find()
        .select_only()
        .column(order_finding::Column::OrderId)
        .column_as(order_finding::Column::Id.count(), "n")
        .filter(order_finding::Column::OrderId.is_in(order_ids))
        .group_by(order_finding::Column::OrderId)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(|(o, n)| (o, u64::try_from(n).unwrap_or(0))).collect())
}

/// Marks orders past their deadline as overdue (once each); returns those newly marked.
pub async fn mark_overdue<C: ConnectionTrait>(
    c: &C,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<order::Model>> {
    let owed: Vec<&str> = OrderState::ALL.iter().filter(|s| s.awaits_department()).map(|s| s.code()).collect();
    let due = order::Entity::find()
        .filter(order::Column::Status.is_in(owed))
        .filter(order::Column::Deadline.lt(today))
        .filter(order::Column::OverdueAt.is_null())
        .all(c)
        .await?;
    let mut marked = Vec::new();
    for o in due {
        // Conditional, so that two instances marking at once mark each order once.
        let r = order::Entity::update_many()
            .col_expr(order::Column::OverdueAt, Expr::value(now))
            .filter(order::Column::Id.eq(o.id))
            .filter(order::Column::OverdueAt.is_null())
            .exec(c)
            .await?;
        if r.rows_affected == 1 {
            marked.push(o);
        }
    }
    Ok(marked)
}

// ------------------------------------------------------------------ reports

pub async fn reports_of<C: ConnectionTrait>(c: &C, order_id: i64) -> Result<Vec<report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::OrderId.eq(order_id))
        .order_by_asc(report::Column::Version)
        .all(c)
        .await?)
}

pub async fn get_report<C: ConnectionTrait>(c: &C, id: i64) -> Result<report::Model> {
    report::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone)]
pub struct ReportInput {
    pub cause: String,
    pub measures: String,
    pub results: String,
    pub responsible: String,
}

/// Writes the order's current draft report, starting a new version when there is none (the
/// first, or after a return).
pub async fn save_draft<C: ConnectionTrait>(
    c: &C,
    o: &order::Model,
    input: ReportInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<report::Model> {
    let state = OrderState::from_code(&o.status);
    if !state.is_some_and(OrderState::awaits_department) {
        return Err(invalid(
            "order",
            "not_awaiting_report",
            "该整改通知的报告已报送或已办结，不能再修改",
            "This order's report has been submitted or accepted and cannot be changed",
        ));
    }
    let latest = reports_of(c, o.id).await?.pop();
    match latest {
        Some(r) if r.status == ReportState::Draft.code() => {
            let mut am: report::ActiveModel = r.into();
            am.cause = Set(input.cause);
            am.measures = Set(input.measures);
            am.results = Set(input.results);
            am.responsible = Set(input.responsible);
            am.drafted_by = Set(by);
            am.updated_at = Set(now);
            Ok(am.update(c).await?)
        }
        other => Ok(report::ActiveModel {
            order_id: Set(o.id),
            version: Set(other.map_or(1, |r| r.version + 1)),
            status: Set(ReportState::Draft.code().into()),
            cause: Set(input.cause),
            measures: Set(input.measures),
            results: Set(input.results),
            responsible: Set(input.responsible),
            drafted_by: Set(by),
            created_at: Set(now),
            updated_at: Set(now),
            submitted_by: Set(None),
            submitted_at: Set(None),
            reviewed_by: Set(None),
            reviewed_at: Set(None),
            review_comment: Set(String::new()),
            ..Default::default()
        }
        .insert(c)
        .await?),
    }
}

/// Moves a report to `to` and its order after it. `new_deadline` is set on a return.
#[allow(clippy::too_many_arguments)]
pub async fn step_report<C: ConnectionTrait>(
    c: &C,
    o: order::Model,
    r: report::Model,
    to: ReportState,
    by: i64,
    comment: String,
    new_deadline: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(order::Model, report::Model)> {
    // Conditional on the state read, so that two reviewers (or two submits) cannot both win.
    let mut upd = report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(to.code()))
        .col_expr(report::Column::UpdatedAt, Expr::value(now))
        .filter(report::Column::Id.eq(r.id))
        .filter(report::Column::Status.eq(r.status.as_str()));
    upd = match to {
        ReportState::Submitted => upd
            .col_expr(report::Column::SubmittedBy, Expr::value(by))
            .col_expr(report::Column::SubmittedAt, Expr::value(now)),
        _ => upd
            .col_expr(report::Column::ReviewedBy, Expr::value(by))
            .col_expr(report::Column::ReviewedAt, Expr::value(now))
            .col_expr(report::Column::ReviewComment, Expr::value(comment)),
    };
    if upd.exec(c).await?.rows_affected != 1 {
        return Err(StoreError::Conflict { field: "status".into() });
    }
    let mut am: order::ActiveModel = o.clone().into();
    am.status = Set(OrderState::after_report(to).code().into());
    am.updated_at = Set(now);
    if to == ReportState::Submitted && o.first_submitted_at.is_none() {
        am.first_submitted_at = Set(Some(now));
    }
    if to == ReportState::Accepted {
        am.accepted_at = Set(Some(now));
    }
    if let Some(d) = new_deadline {
        am.deadline = Set(d);
        am.overdue_at = Set(None);
    }
    let o = am.update(c).await?;
    Ok((o, get_report(c, r.id).await?))
}

// ------------------------------------------------------------------ attachments

pub struct NewAttachment {
    pub owner_kind: &'static str,
    pub owner_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub object_key: String,
}

pub async fn add_attachment<C: ConnectionTrait>(
    c: &C,
    a: NewAttachment,
    by: i64,
    now: DateTime<Utc>,
) -> Result<attachment::Model> {
    Ok(attachment::ActiveModel {
        owner_kind: Set(a.owner_kind.into()),
        owner_id: Set(a.owner_id),
        filename: Set(a.filename),
        content_type: Set(a.content_type),
        size: Set(a.size),
        sha256: Set(a.sha256),
        object_key: Set(a.object_key),
        uploaded_by: Set(by),
        uploaded_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn attachments_of<C: ConnectionTrait>(
    c: &C,
    owner_kind: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<attachment::Model>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::OwnerKind.eq(owner_kind))
        .filter(attachment::Column::OwnerId.is_in(ids))
        .order_by_asc(attachment::Column::Id)
        .all(c)
        .await?)
}

pub async fn get_attachment<C: ConnectionTrait>(c: &C, id: i64) -> Result<attachment::Model> {
    attachment::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

// ------------------------------------------------------------------ instructions

pub struct NewInstruction {
    pub target_kind: &'static str,
    pub target_id: i64,
    pub text: String,
    pub follow_up: Option<(Option<i64>, NaiveDate)>,
}

pub async fn add_instruction<C: ConnectionTrait>(
    c: &C,
    i: NewInstruction,
    by: i64,
    now: DateTime<Utc>,
) -> Result<instruction::Model> {
    Ok(instruction::ActiveModel {
        target_kind: Set(i.target_kind.into()),
        target_id: Set(i.target_id),
        author_id: Set(by),
        text: Set(i.text),
        created_at: Set(now),
        follow_up: Set(i.follow_up.is_some()),
        follow_up_department_id: Set(i.follow_up.and_then(|f| f.0)),
        follow_up_due: Set(i.follow_up.map(|f| f.1)),
        follow_up_status: Set(i.follow_up.map(|_| "open".to_owned())),
        follow_up_note: Set(String::new()),
        follow_up_done_by: Set(None),
        follow_up_done_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn instructions_on<C: ConnectionTrait>(
    c: &C,
    target_kind: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<instruction::Model>> {
    Ok(instruction::Entity::find()
        .filter(instruction::Column::TargetKind.eq(target_kind))
        .filter(instruction::Column::TargetId.is_in(ids))
        .order_by_asc(instruction::Column::Id)
        .all(c)
        .await?)
}

pub async fn get_instruction<C: ConnectionTrait>(c: &C, id: i64) -> Result<instruction::Model> {
    instruction::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// Open follow-up items for the office (`None`) or for departments in a scope.
pub async fn open_follow_ups<C: ConnectionTrait>(c: &C, for_scope: Option<&Scope>) -> Result<Vec<instruction::Model>> {
    let mut q = instruction::Entity::find().filter(instruction::Column::FollowUpStatus.eq("open"));
    q = match for_scope {
        None => q.filter(instruction::Column::FollowUpDepartmentId.is_null()),
        Some(s) => q.filter(in_dept_scope(instruction::Column::FollowUpDepartmentId, s)),
    };
    Ok(q.order_by_asc(instruction::Column::FollowUpDue).all(c).await?)
}

pub async fn complete_follow_up<C: ConnectionTrait>(
    c: &C,
    i: instruction::Model,
    note: String,
    by: i64,
    now: DateTime<Utc>,
) -> Result<instruction::Model> {
    if i.follow_up_status.as_deref() != Some("open") {
        return Err(invalid(
            "follow_up",
            "not_open",
            "该批示没有待落实的事项",
            "This instruction has no open follow-up",
        ));
    }
    let mut am: instruction::ActiveModel = i.into();
    am.follow_up_status = Set(Some("done".into()));
    am.follow_up_note = Set(note);
    am.follow_up_done_by = Set(Some(by));
    am.follow_up_done_at = Set(Some(now));
    Ok(am.update(c).await?)
}

// ------------------------------------------------------------------ notifications

#[derive(Debug, Clone)]
pub struct Note {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub link: String,
    pub due: Option<NaiveDate>,
}

/// Puts a notification in each user's inbox. With `dedupe`, each user gets it once ever (the key
/// is suffixed with the user's id).
pub async fn notify<C: ConnectionTrait>(
    c: &C,
    users: &[i64],
    n: &Note,
    dedupe: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if users.is_empty() {
        return Ok(0);
    }
    let rows = users.iter().map(|u| notification::ActiveModel {
        user_id: Set(*u),
        kind: Set(n.kind.into()),
        title: Set(n.title.clone()),
        body: Set(n.body.clone()),
        link: Set(n.link.clone()),
        due: Set(n.due),
        dedupe_key: Set(dedupe.map(|k| format!("{k}#{u}"))),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    });
    Ok(notification::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(notification::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(c)
        .await?)
}

pub async fn list_notifications<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    unread_only: bool,
    page: PageReq,
) -> Result<(Paged<notification::Model>, u64)> {
    let mine = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    let unread = mine.clone().filter(notification::Column::ReadAt.is_null()).count(c).await?;
    let q = if unread_only { mine.filter(notification::Column::ReadAt.is_null()) } else { mine };
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok((Paged { items, total, page: page.page, page_size: page.page_size }, unread))
}

/// Marks the user's notifications read: these ids, or all with `None`.
pub async fn mark_read<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    ids: Option<Vec<i64>>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        q = q.filter(notification::Column::Id.is_in(ids));
    }
    Ok(q.exec(c).await?.rows_affected)
}

/// Active accounts holding one of these roles in a department or above it (the head of a bureau
/// answers for its divisions): whom to tell about the department's orders.
pub async fn department_users<C: ConnectionTrait>(c: &C, department_id: i64, roles: &[Role]) -> Result<Vec<i64>> {
    let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
    let path = crate::org::get_department(c, &Scope::All, department_id).await?.path;
    let chain: Vec<i64> = path.split('/').filter_map(|p| p.parse().ok()).collect();
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Status.eq("active"))
        .filter(user::Column::DepartmentId.is_in(chain))
        .filter(
            user::Column::Id.in_subquery(
                Query::select()
                    .column(user_role::Column::UserId)
                    .from(user_role::Entity)
                    .and_where(user_role::Column::Role.is_in(codes))
                    .and_where(user_role::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        )
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(c)
        .await?)
}

/// Active accounts holding any of these roles anywhere.
pub async fn users_with_roles<C: ConnectionTrait>(c: &C, roles: &[Role]) -> Result<Vec<i64>> {
    Ok(crate::accounts::active_users_with_roles(c, roles).await?.into_iter().map(|u| u.id).collect())
}

// ------------------------------------------------------------------ reminders

/// Claims the reminder for an order's deadline at a point: `true` for exactly one caller, however
/// many instances ask at once (the unique index decides).
pub async fn claim_reminder<C: ConnectionTrait>(
    c: &C,
    order_id: i64,
    deadline: NaiveDate,
    point: u32,
    now: DateTime<Utc>,
) -> Result<bool> {
    let row = order_reminder::ActiveModel {
        order_id: Set(order_id),
        deadline: Set(deadline),
        point: Set(i32::try_from(point).unwrap_or(i32::MAX)),
        sent_at: Set(now),
        ..Default::default()
    };
    let n = order_reminder::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                order_reminder::Column::OrderId,
                order_reminder::Column::Deadline,
                order_reminder::Column::Point,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(c)
        .await?;
    Ok(n == 1)
}

pub async fn reminders_sent<C: ConnectionTrait>(c: &C, order_id: i64) -> Result<Vec<order_reminder::Model>> {
    Ok(order_reminder::Entity::find()
        .filter(order_reminder::Column::OrderId.eq(order_id))
        .order_by_asc(order_reminder::Column::Id)
        .all(c)
        .await?)
}
