//! Rectification orders, their written reports (one row per version), files attached to reports,
//! and the reminders sent before deadlines.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use xiaoneng_core::rectification::{OrderFacts, OrderState, ReportFacts, ReportState, ReportStep};

use crate::{
    Result, StoreError,
    entity::{attachment, order, order_finding, order_reminder, report},
    one_row,
    org::{Scope, in_dept_scope},
    page::{PageReq, Paged},
};

#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub status: Vec<OrderState>,
    pub department_id: Option<i64>,
    pub bulletin_id: Option<i64>,
    /// Only orders past their deadline with no report in, as of this day.
    pub overdue_on: Option<NaiveDate>,
}

fn order_scope(scope: &Scope) -> Condition {
    in_dept_scope(order::Column::DepartmentId, scope)
}

fn owed() -> Vec<OrderState> {
    OrderState::ALL.iter().copied().filter(|s| s.awaits_department()).collect()
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
        cond = cond.add(order::Column::Status.is_in(owed())).add(order::Column::Deadline.lt(today));
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

/// Orders the department still owes a report on, in a scope (`None`: everywhere).
pub async fn orders_owed<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<order::Model>> {
    orders_in_states(c, scope, &owed()).await
}

pub async fn orders_in_states<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    states: &[OrderState],
) -> Result<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order_scope(scope))
        .filter(order::Column::Status.is_in(states.to_vec()))
        .order_by_asc(order::Column::Deadline)
        .order_by_asc(order::Column::Id)
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
pub async fn order_finding_counts<C: ConnectionTrait>(c: &C, order_ids: &[i64]) -> Result<HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = order_finding::Entity::find()
        .select_only()
        .column(order_finding::Column::OrderId)
        .column_as(order_finding::Column::Id.count(), "n")
        .filter(order_finding::Column::OrderId.is_in(order_ids.to_vec()))
        .group_by(order_finding::Column::OrderId)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(|(o, n)| (o, u64::try_from(n).unwrap_or(0))).collect())
}

// ------------------------------------------------------------------ reports

pub async fn reports_of<C: ConnectionTrait>(c: &C, order_id: i64) -> Result<Vec<report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::OrderId.eq(order_id))
        .order_by_asc(report::Column::Version)
        .all(c)
        .await?)
}

/// Each order's latest report version, in one query.
pub async fn latest_reports<C: ConnectionTrait>(c: &C, order_ids: &[i64]) -> Result<HashMap<i64, report::Model>> {
    let mut out: HashMap<i64, report::Model> = HashMap::new();
    for r in report::Entity::find()
        .filter(report::Column::OrderId.is_in(order_ids.to_vec()))
        .order_by_asc(report::Column::Version)
        .all(c)
        .await?
    {
        out.insert(r.order_id, r);
    }
    Ok(out)
}

/// Each order's first report version (the one judged on time or late), in one query.
pub async fn first_reports<C: ConnectionTrait>(c: &C, order_ids: &[i64]) -> Result<HashMap<i64, report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::OrderId.is_in(order_ids.to_vec()))
        .filter(report::Column::Version.eq(1))
        .all(c)
        .await?
        .into_iter()
        .map(|r| (r.order_id, r))
        .collect())
}

pub async fn get_report<C: ConnectionTrait>(c: &C, id: i64) -> Result<report::Model> {
    report::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// Holds a draft as a draft for the rest of the transaction (a file is being added to it): the
/// row is touched only while it is still a draft, so a submit racing the file waits for it, and
/// a draft submitted meanwhile is `StateChanged`.
pub async fn hold_draft<C: ConnectionTrait>(c: &C, r: &report::Model, now: DateTime<Utc>) -> Result<()> {
    let q = report::Entity::update_many()
        .col_expr(report::Column::UpdatedAt, Expr::value(now))
        .filter(report::Column::Id.eq(r.id))
        .filter(report::Column::Status.eq(ReportState::Draft));
    crate::one_row(q.exec(c).await?)
}

/// Reports by id, in one query.
pub async fn reports_by_ids<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<HashMap<i64, report::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(report::Entity::find()
        .filter(report::Column::Id.is_in(ids.to_vec()))
        .all(c)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}

/// An order and its latest report as their rules see them.
pub fn order_facts(o: &order::Model, latest: Option<&report::Model>) -> OrderFacts {
    OrderFacts {
        id: o.id,
        department_id: o.department_id,
        state: o.status,
        deadline: o.deadline,
        latest: latest.map(|r| ReportFacts {
            id: r.id,
            version: r.version,
            state: r.status,
            has_content: !r.cause.trim().is_empty() || !r.measures.trim().is_empty(),
        }),
        overdue_marked: o.overdue_at.is_some(),
    }
}

#[derive(Debug, Clone)]
pub struct ReportInput {
    pub cause: String,
    pub measures: String,
    pub results: String,
    pub responsible: String,
}

/// Writes the order's current draft, or starts the next version when the latest is not a draft
/// (the first, or after a return). The rules have allowed drafting; this is conditional on the
/// draft still being one.
pub async fn save_draft<C: ConnectionTrait>(
    c: &C,
    o: &order::Model,
    latest: Option<&report::Model>,
    input: ReportInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<report::Model> {
    match latest {
        Some(r) if r.status == ReportState::Draft => {
            one_row(
                report::Entity::update_many()
                    .col_expr(report::Column::Cause, Expr::value(input.cause))
                    .col_expr(report::Column::Measures, Expr::value(input.measures))
                    .col_expr(report::Column::Results, Expr::value(input.results))
                    .col_expr(report::Column::Responsible, Expr::value(input.responsible))
                    .col_expr(report::Column::DraftedBy, Expr::value(by))
                    .col_expr(report::Column::UpdatedAt, Expr::value(now))
                    .filter(report::Column::Id.eq(r.id))
                    .filter(report::Column::Status.eq(ReportState::Draft))
                    .exec(c)
                    .await?,
            )?;
            get_report(c, r.id).await
        }
        other => report::ActiveModel {
            order_id: Set(o.id),
            version: Set(other.map_or(1, |r| r.version + 1)),
            status: Set(ReportState::Draft),
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
            due: Set(None),
            ..Default::default()
        }
        .insert(c)
        .await
        // Two first drafts at once: the unique version decides; the other is told.
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::StateChanged,
            e => e,
        }),
    }
}

/// Applies a report step to the report and its order, each conditional on the state it was
/// decided from. A submission keeps the deadline it was judged against.
pub async fn apply_report_step<C: ConnectionTrait>(
    c: &C,
    o: &order::Model,
    r: &report::Model,
    step: &ReportStep,
    by: i64,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<(order::Model, report::Model)> {
    let mut q = report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(step.report))
        .col_expr(report::Column::UpdatedAt, Expr::value(now))
        .filter(report::Column::Id.eq(r.id))
        .filter(report::Column::Status.eq(r.status));
    q = match step.report {
        ReportState::Submitted => q
            .col_expr(report::Column::SubmittedBy, Expr::value(by))
            .col_expr(report::Column::SubmittedAt, Expr::value(now))
            .col_expr(report::Column::Due, Expr::value(o.deadline)),
        _ => q
            .col_expr(report::Column::ReviewedBy, Expr::value(by))
            .col_expr(report::Column::ReviewedAt, Expr::value(now))
            .col_expr(report::Column::ReviewComment, Expr::value(comment.trim())),
    };
    one_row(q.exec(c).await?)?;
    let mut q = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(step.order))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Status.eq(o.status));
    if step.report == ReportState::Submitted && o.first_submitted_at.is_none() {
        q = q.col_expr(order::Column::FirstSubmittedAt, Expr::value(now));
    }
    if step.report == ReportState::Accepted {
        q = q.col_expr(order::Column::AcceptedAt, Expr::value(now));
    }
    if let Some(d) = step.deadline {
        // The old deadline and its overdue are in the ledger; these columns follow the new one.
        q = q
            .col_expr(order::Column::Deadline, Expr::value(d))
            .col_expr(order::Column::OverdueAt, Expr::value(Option::<DateTime<Utc>>::None));
    }
    one_row(q.exec(c).await?)?;
    Ok((get_order(c, &Scope::All, o.id).await?, get_report(c, r.id).await?))
}

/// Owed orders past their deadline whose overdue is not yet recorded.
pub async fn overdue_unmarked<C: ConnectionTrait>(c: &C, today: NaiveDate) -> Result<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::Status.is_in(owed()))
        .filter(order::Column::Deadline.lt(today))
        .filter(order::Column::OverdueAt.is_null())
        .order_by_asc(order::Column::Id)
        .all(c)
        .await?)
}

/// Marks an order overdue against the deadline it was read with, once: `false` when another
/// instance (or a new deadline) got there first.
pub async fn mark_overdue<C: ConnectionTrait>(c: &C, o: &order::Model, now: DateTime<Utc>) -> Result<bool> {
    let r = order::Entity::update_many()
        .col_expr(order::Column::OverdueAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Status.eq(o.status))
        .filter(order::Column::Deadline.eq(o.deadline))
        .filter(order::Column::OverdueAt.is_null())
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
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
