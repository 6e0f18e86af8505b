//! Bulletins: drafts the office composes from findings, published once under a number.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use xiaoneng_core::rectification::{BulletinScope, BulletinState, Deadline, ListedFinding, OrderState, Publication};

use crate::{
    Result, StoreError, contains,
    entity::{bulletin, bulletin_finding, finding, order, order_finding},
    inspections::finding_facts,
    one_row,
    page::{PageReq, Paged},
};

#[derive(Debug, Clone)]
pub struct BulletinInput {
    pub scope: BulletinScope,
    pub title: String,
    pub body: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub mask_names: bool,
    pub corrects_id: Option<i64>,
    pub requirement: String,
    pub deadline: Deadline,
    pub finding_ids: Vec<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct BulletinFilter {
    pub q: Option<String>,
    pub status: Option<BulletinState>,
    pub scope: Option<BulletinScope>,
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
        cond = cond.add(bulletin::Column::Status.eq(BulletinState::Published));
    }
    if f.public_only {
        cond = cond.add(bulletin::Column::Scope.ne(BulletinScope::Internal));
    }
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond
            .add(Condition::any().add(contains(bulletin::Column::Title, q)).add(contains(bulletin::Column::Body, q)));
    }
    if let Some(s) = f.status {
        cond = cond.add(bulletin::Column::Status.eq(s));
    }
    if let Some(s) = f.scope {
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

pub async fn bulletins_by_ids<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<HashMap<i64, bulletin::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(bulletin::Entity::find()
        .filter(bulletin::Column::Id.is_in(ids.to_vec()))
        .all(c)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect())
}

pub async fn bulletin_by_number<C: ConnectionTrait>(c: &C, year: i32, number: i32) -> Result<bulletin::Model> {
    bulletin::Entity::find()
        .filter(bulletin::Column::Year.eq(year))
        .filter(bulletin::Column::Number.eq(number))
        .filter(bulletin::Column::Status.eq(BulletinState::Published))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The published bulletins that correct each of these, in the order they were published.
pub async fn corrections_of<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<HashMap<i64, Vec<bulletin::Model>>> {
    let mut out: HashMap<i64, Vec<bulletin::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for b in bulletin::Entity::find()
        .filter(bulletin::Column::CorrectsId.is_in(ids.to_vec()))
        .filter(bulletin::Column::Status.eq(BulletinState::Published))
        .order_by_asc(bulletin::Column::PublishedAt)
        .all(c)
        .await?
    {
        if let Some(old) = b.corrects_id {
            out.entry(old).or_default().push(b);
        }
    }
    Ok(out)
}

/// The findings a bulletin gathers, in its order.
pub async fn bulletin_findings<C: ConnectionTrait>(c: &C, bulletin_id: i64) -> Result<Vec<finding::Model>> {
    let ids: Vec<i64> = bulletin_finding::Entity::find()
        .select_only()
        .column(bulletin_finding::Column::FindingId)
        .filter(bulletin_finding::Column::BulletinId.eq(bulletin_id))
        .order_by_asc(bulletin_finding::Column::Position)
        .into_tuple()
        .all(c)
        .await?;
    crate::inspections::findings_by_ids(c, &ids).await
}

/// The names of the people each bulletin's findings name (for masking what the public reads),
/// in three queries whatever the number of bulletins.
pub async fn named_people<C: ConnectionTrait>(c: &C, bulletin_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
    let links: Vec<(i64, i64)> = bulletin_finding::Entity::find()
        .select_only()
        .column(bulletin_finding::Column::BulletinId)
        .column(bulletin_finding::Column::FindingId)
        .filter(bulletin_finding::Column::BulletinId.is_in(bulletin_ids.to_vec()))
        .into_tuple()
        .all(c)
        .await?;
    let findings = crate::inspections::findings_by_ids(c, &links.iter().map(|(_, f)| *f).collect::<Vec<_>>()).await?;
    let names = crate::org::person_names(c, findings.iter().filter_map(|f| f.person_id)).await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (b, f) in links {
        if let Some(n) = findings.iter().find(|x| x.id == f).and_then(|x| x.person_id).and_then(|p| names.get(&p)) {
            out.entry(b).or_default().push(n.clone());
        }
    }
    Ok(out)
}

/// How many findings each bulletin lists, in one query.
pub async fn finding_counts<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = bulletin_finding::Entity::find()
        .select_only()
        .column(bulletin_finding::Column::BulletinId)
        .column_as(bulletin_finding::Column::Id.count(), "n")
        .filter(bulletin_finding::Column::BulletinId.is_in(ids.to_vec()))
        .group_by(bulletin_finding::Column::BulletinId)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(|(b, n)| (b, u64::try_from(n).unwrap_or(0))).collect())
}

/// The rule for a bulletin's orders' deadline.
pub fn deadline_of(b: &bulletin::Model) -> Deadline {
    serde_json::from_str(&b.deadline).unwrap_or(Deadline::WorkingDays { days: 10 })
}

/// Creates a draft, or rewrites one (conditional on its still being a draft), with its findings
/// (what a draft may hold is core's `check_contents`, asked before).
pub async fn save_bulletin<C: ConnectionTrait>(
    c: &C,
    draft: Option<&bulletin::Model>,
    input: BulletinInput,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bulletin::Model> {
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = input.finding_ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    let deadline =
        serde_json::to_string(&input.deadline).map_err(|e| StoreError::Db(sea_orm::DbErr::Json(e.to_string())))?;
    let b = match draft {
        Some(d) => {
            one_row(
                bulletin::Entity::update_many()
                    .col_expr(bulletin::Column::Scope, Expr::value(input.scope))
                    .col_expr(bulletin::Column::Title, Expr::value(input.title))
                    .col_expr(bulletin::Column::Body, Expr::value(input.body))
                    .col_expr(bulletin::Column::PeriodStart, Expr::value(input.period_start))
                    .col_expr(bulletin::Column::PeriodEnd, Expr::value(input.period_end))
                    .col_expr(bulletin::Column::MaskNames, Expr::value(input.mask_names))
                    .col_expr(bulletin::Column::CorrectsId, Expr::value(input.corrects_id))
                    .col_expr(bulletin::Column::Requirement, Expr::value(input.requirement))
                    .col_expr(bulletin::Column::Deadline, Expr::value(deadline))
                    .col_expr(bulletin::Column::UpdatedAt, Expr::value(now))
                    .filter(bulletin::Column::Id.eq(d.id))
                    .filter(bulletin::Column::Status.eq(BulletinState::Draft))
                    .exec(c)
                    .await?,
            )?;
            get_bulletin(c, d.id).await?
        }
        None => {
            bulletin::ActiveModel {
                status: Set(BulletinState::Draft),
                scope: Set(input.scope),
                title: Set(input.title),
                body: Set(input.body),
                period_start: Set(input.period_start),
                period_end: Set(input.period_end),
                mask_names: Set(input.mask_names),
                corrects_id: Set(input.corrects_id),
                requirement: Set(input.requirement),
                deadline: Set(deadline),
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
    // A draft's list of findings is its own to rewrite: a draft has been seen by no one else
    // (decision 0015).
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

/// Moves a bulletin from `from` to `to` (withdrawing a draft), conditionally.
pub async fn apply_bulletin_state<C: ConnectionTrait>(
    c: &C,
    id: i64,
    from: BulletinState,
    to: BulletinState,
    now: DateTime<Utc>,
) -> Result<bulletin::Model> {
    one_row(
        bulletin::Entity::update_many()
            .col_expr(bulletin::Column::Status, Expr::value(to))
            .col_expr(bulletin::Column::UpdatedAt, Expr::value(now))
            .filter(bulletin::Column::Id.eq(id))
            .filter(bulletin::Column::Status.eq(from))
            .exec(c)
            .await?,
    )?;
    get_bulletin(c, id).await
}

/// A draft's findings as publishing sees them: their facts, and whether each is already under
/// an order.
pub async fn listed_findings<C: ConnectionTrait>(c: &C, bulletin_id: i64) -> Result<Vec<ListedFinding>> {
    let findings = bulletin_findings(c, bulletin_id).await?;
    let under: Vec<i64> = order_finding::Entity::find()
        .select_only()
        .column(order_finding::Column::FindingId)
        .filter(order_finding::Column::FindingId.is_in(findings.iter().map(|f| f.id).collect::<Vec<_>>()))
        .into_tuple()
        .all(c)
        .await?;
    Ok(findings.iter().map(|f| ListedFinding { facts: finding_facts(f), has_order: under.contains(&f.id) }).collect())
}

/// The highest number given in a year, holding the year's numbering until the transaction
/// ends: two drafts published at once are numbered one after the other (an advisory lock on
/// PostgreSQL; SQLite's one writer is alone anyway).
pub async fn last_number<C: ConnectionTrait>(c: &C, year: i32) -> Result<Option<i32>> {
    if c.get_database_backend() == sea_orm::DbBackend::Postgres {
        c.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(741165, $1)",
            [year.into()],
        ))
        .await?;
    }
    let last: Option<Option<i32>> = bulletin::Entity::find()
        .select_only()
        .column_as(bulletin::Column::Number.max(), "n")
        .filter(bulletin::Column::Year.eq(year))
        .into_tuple()
        .one(c)
        .await?;
    Ok(last.flatten())
}

/// A unique value taken by a concurrent change (a number, a finding under an order): that change
/// got there first.
fn lost_race(e: sea_orm::DbErr) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::StateChanged,
        e => e,
    }
}

/// Applies a publication: the draft numbered and published, its findings notified, its orders
/// issued — each conditional on the state it was decided from, all in the caller's transaction.
/// Returns the bulletin and the orders (in the publication's order).
pub async fn apply_publication<C: ConnectionTrait>(
    c: &C,
    b: &bulletin::Model,
    p: &Publication,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(bulletin::Model, Vec<order::Model>)> {
    let published = bulletin::Entity::update_many()
        .col_expr(bulletin::Column::Status, Expr::value(p.bulletin.next))
        .col_expr(bulletin::Column::Year, Expr::value(p.year))
        .col_expr(bulletin::Column::Number, Expr::value(p.number))
        .col_expr(bulletin::Column::PublishedBy, Expr::value(by))
        .col_expr(bulletin::Column::PublishedAt, Expr::value(now))
        .col_expr(bulletin::Column::UpdatedAt, Expr::value(now))
        .filter(bulletin::Column::Id.eq(b.id))
        .filter(bulletin::Column::Status.eq(b.status))
        .exec(c)
        .await
        .map_err(lost_race)?;
    one_row(published)?;
    for (id, from, d) in &p.findings {
        crate::inspections::apply_finding(c, *id, *from, d.next, now).await?;
    }
    let mut orders = Vec::with_capacity(p.orders.len());
    for o in &p.orders {
        let row = order::ActiveModel {
            bulletin_id: Set(Some(b.id)),
            department_id: Set(o.department_id),
            requirement: Set(b.requirement.clone()),
            deadline: Set(o.deadline),
            status: Set(OrderState::Open),
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
        let links = o.finding_ids.iter().map(|f| order_finding::ActiveModel {
            order_id: Set(row.id),
            finding_id: Set(*f),
            ..Default::default()
        });
        // A finding is under one order, ever: a unique index; another publication that took it
        // meanwhile makes this one lose.
        order_finding::Entity::insert_many(links).exec_without_returning(c).await.map_err(lost_race)?;
        orders.push(row);
    }
    Ok((get_bulletin(c, b.id).await?, orders))
}
