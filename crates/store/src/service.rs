//! Service commitments: items, connection keys, and the cases pushed or imported under them.
//! Reads take a [`Scope`] applied inside the query (a staff member's own cases are those they
//! accepted); every change to a case is conditional on the version it was decided from.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func},
};
use xiaoneng_core::{
    org::Status,
    service::{CaseCard, CaseDecision, CaseFacts, CaseSpec, CaseStatus, ClientKey, ClientKind, ClientStatus, ItemSpec},
};

use crate::{
    PageReq, Paged, Result, StoreError, contains,
    entity::{api_client, service_case, service_item},
    one_row,
    org::{Scope, in_dept_scope},
};

// ------------------------------------------------------------------ items

#[derive(Debug, Default, Clone)]
pub struct ItemFilter {
    pub department_id: Option<i64>,
    pub status: Option<Status>,
    pub q: Option<String>,
}

fn item_scope(scope: &Scope) -> Condition {
    match scope {
        // A staff member reads the items of their own department.
        Scope::Person(Some(p)) => Condition::all().add(
            service_item::Column::DepartmentId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(crate::entity::person::Column::DepartmentId)
                    .from(crate::entity::person::Entity)
                    .and_where(crate::entity::person::Column::Id.eq(*p))
                    .to_owned(),
            ),
        ),
        other => in_dept_scope(service_item::Column::DepartmentId, other),
    }
}

pub async fn list_items<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &ItemFilter,
    page: PageReq,
) -> Result<Paged<service_item::Model>> {
    let mut q = service_item::Entity::find().filter(item_scope(scope));
    if let Some(d) = f.department_id {
        q = q.filter(crate::org::in_department(c, service_item::Column::DepartmentId, d, false).await?);
    }
    if let Some(s) = f.status {
        q = q.filter(service_item::Column::Status.eq(s));
    }
    if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q = q.filter(
            Condition::any()
                .add(contains(service_item::Column::Name, text.trim()))
                .add(contains(service_item::Column::Code, text.trim())),
        );
    }
    let q = q.order_by_asc(service_item::Column::DepartmentId).order_by_asc(service_item::Column::Code);
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_item<C: ConnectionTrait>(c: &C, id: i64, scope: &Scope) -> Result<service_item::Model> {
    service_item::Entity::find_by_id(id).filter(item_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

/// Items by code, for resolving pushed and imported cases.
pub async fn items_by_code<C: ConnectionTrait>(
    c: &C,
    codes: &[String],
) -> Result<HashMap<String, service_item::Model>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        for i in
            service_item::Entity::find().filter(service_item::Column::Code.is_in(chunk.iter().cloned())).all(c).await?
        {
            out.insert(i.code.clone(), i);
        }
    }
    Ok(out)
}

pub async fn item_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, (String, String)>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = service_item::Entity::find()
        .select_only()
        .column(service_item::Column::Id)
        .column(service_item::Column::Code)
        .column(service_item::Column::Name)
        .filter(service_item::Column::Id.is_in(ids))
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(|(id, code, name)| (id, (code, name))).collect())
}

/// Creates an item (`before` is `None`) or changes one: its department, code, name, limits and
/// whether it is still offered. A new limit applies to cases that arrive from now on.
pub async fn save_item<C: ConnectionTrait>(
    c: &C,
    before: Option<&service_item::Model>,
    department_id: i64,
    spec: ItemSpec,
    status: Status,
    now: DateTime<Utc>,
) -> Result<service_item::Model> {
    let mut m = match before {
        Some(b) => service_item::ActiveModel::from(b.clone()),
        None => service_item::ActiveModel { created_at: Set(now), ..Default::default() },
    };
    m.department_id = Set(department_id);
    m.code = Set(spec.code);
    m.name = Set(spec.name);
    m.promised_days = Set(spec.promised_days as i32);
    m.legal_days = Set(spec.legal_days as i32);
    m.status = Set(status);
    m.updated_at = Set(now);
    let out = match before {
        Some(_) => m.update(c).await,
        None => m.insert(c).await,
    };
    out.map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict { field: "code".into() },
        other => other,
    })
}

// ------------------------------------------------------------------ connection keys

/// What holds a key: a system (optionally held to one department's items) or a device at a window.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub kind: ClientKind,
    pub name: String,
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
}

/// Makes a key for a system or a device; the key itself is in the answer and nowhere else.
pub async fn create_client<C: ConnectionTrait>(
    c: &C,
    new: &NewClient,
    key: &ClientKey,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<api_client::Model> {
    Ok(api_client::ActiveModel {
        kind: Set(new.kind),
        name: Set(new.name.clone()),
        key_prefix: Set(key.prefix.clone()),
        key_hash: Set(key.hash.clone()),
        department_id: Set(new.department_id),
        window_id: Set(new.window_id),
        status: Set(ClientStatus::Active),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn list_clients<C: ConnectionTrait>(c: &C, kind: Option<ClientKind>) -> Result<Vec<api_client::Model>> {
    let mut q = api_client::Entity::find();
    if let Some(k) = kind {
        q = q.filter(api_client::Column::Kind.eq(k));
    }
    Ok(q.order_by_asc(api_client::Column::Id).all(c).await?)
}

pub async fn get_client<C: ConnectionTrait>(c: &C, id: i64) -> Result<api_client::Model> {
    api_client::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// The active client a key belongs to, if any (compared in constant time).
pub async fn client_by_key<C: ConnectionTrait>(c: &C, key: &str) -> Result<Option<api_client::Model>> {
    let Some(prefix) = ClientKey::prefix_of(key) else { return Ok(None) };
    let row = api_client::Entity::find().filter(api_client::Column::KeyPrefix.eq(prefix)).one(c).await?;
    Ok(row.filter(|k| k.status == ClientStatus::Active && ClientKey::matches(key, &k.key_hash)))
}

/// Notes when a key was last used, at most once a minute per key.
pub async fn touch_client<C: ConnectionTrait>(c: &C, k: &api_client::Model, now: DateTime<Utc>) -> Result<()> {
    if k.last_used_at.is_some_and(|t| now - t < chrono::Duration::minutes(1)) {
        return Ok(());
    }
    api_client::Entity::update_many()
        .col_expr(api_client::Column::LastUsedAt, Expr::value(now))
        .filter(api_client::Column::Id.eq(k.id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn revoke_client<C: ConnectionTrait>(
    c: &C,
    k: &api_client::Model,
    now: DateTime<Utc>,
) -> Result<api_client::Model> {
    one_row(
        api_client::Entity::update_many()
            .col_expr(api_client::Column::Status, Expr::value(ClientStatus::Revoked))
            .col_expr(api_client::Column::RevokedAt, Expr::value(now))
            .filter(api_client::Column::Id.eq(k.id))
            .filter(api_client::Column::Status.eq(ClientStatus::Active))
            .exec(c)
            .await?,
    )?;
    get_client(c, k.id).await
}

// ------------------------------------------------------------------ cases

pub fn case_facts(m: &service_case::Model) -> CaseFacts {
    CaseFacts {
        id: m.id,
        card: m.card,
        spec: CaseSpec {
            number: m.number.clone(),
            item_id: m.item_id,
            department_id: m.department_id,
            promised_days: u32::try_from(m.promised_days).unwrap_or(0),
            window_id: m.window_id,
            person_id: m.person_id,
            applicant: m.applicant_type,
            accepted_at: m.accepted_at,
            stage: m.stage.clone(),
            stage_at: m.stage_at,
            completed_at: m.completed_at,
        },
    }
}

pub async fn cases_by_number<C: ConnectionTrait>(
    c: &C,
    numbers: &[String],
) -> Result<HashMap<String, service_case::Model>> {
    let mut out = HashMap::new();
    for chunk in numbers.chunks(500) {
        for m in service_case::Entity::find()
            .filter(service_case::Column::Number.is_in(chunk.iter().cloned()))
            .all(c)
            .await?
        {
            out.insert(m.number.clone(), m);
        }
    }
    Ok(out)
}

fn new_case(
    spec: &CaseSpec,
    d: &CaseDecision,
    system_id: Option<i64>,
    now: DateTime<Utc>,
) -> service_case::ActiveModel {
    service_case::ActiveModel {
        number: Set(spec.number.clone()),
        item_id: Set(spec.item_id),
        department_id: Set(spec.department_id),
        window_id: Set(spec.window_id),
        person_id: Set(spec.person_id),
        applicant_type: Set(spec.applicant),
        accepted_at: Set(spec.accepted_at),
        stage: Set(spec.stage.clone()),
        stage_at: Set(spec.stage_at),
        completed_at: Set(spec.completed_at),
        promised_days: Set(spec.promised_days as i32),
        deadline: Set(d.timing.deadline),
        on_time: Set(d.on_time),
        card: Set(d.card),
        next_card_on: Set(d.next_card_on),
        system_id: Set(system_id),
        rating_code: Set(Some(crate::ratings::new_rating_code())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Stores new cases, each decided at its moment, in multi-row inserts; returns them in order.
pub async fn insert_cases<C: ConnectionTrait>(
    c: &C,
    new: &[(CaseSpec, CaseDecision, DateTime<Utc>)],
    system_id: Option<i64>,
) -> Result<Vec<service_case::Model>> {
    let mut out = Vec::with_capacity(new.len());
    for chunk in new.chunks(crate::audit::INSERT_ROWS / 2) {
        let rows = chunk.iter().map(|(spec, d, at)| new_case(spec, d, system_id, *at));
        let mut made =
            service_case::Entity::insert_many(rows).exec_with_returning(c).await.map_err(
                |e| match StoreError::from(e) {
                    StoreError::Conflict { .. } => StoreError::StateChanged,
                    other => other,
                },
            )?;
        // Ids are given in the order the rows were written; RETURNING's order is not promised.
        made.sort_by_key(|m| m.id);
        if made.len() != chunk.len() || made.iter().zip(chunk).any(|(m, (spec, _, _))| m.number != spec.number) {
            return Err(StoreError::Db(sea_orm::DbErr::Custom("cases came back out of order".into())));
        }
        out.extend(made);
    }
    Ok(out)
}

/// Stores a case as decided: inserted when `before` is `None` (a number taken meanwhile is
/// `StateChanged`), else updated if still at the version read.
pub async fn apply_case<C: ConnectionTrait>(
    c: &C,
    before: Option<&service_case::Model>,
    spec: &CaseSpec,
    d: &CaseDecision,
    system_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<service_case::Model> {
    match before {
        None => new_case(spec, d, system_id, now).insert(c).await.map_err(|e| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::StateChanged,
            other => other,
        }),
        Some(b) => {
            use service_case::Column as K;
            one_row(
                service_case::Entity::update_many()
                    .col_expr(K::ItemId, Expr::value(spec.item_id))
                    .col_expr(K::DepartmentId, Expr::value(spec.department_id))
                    .col_expr(K::WindowId, Expr::value(spec.window_id))
                    .col_expr(K::PersonId, Expr::value(spec.person_id))
                    .col_expr(K::ApplicantType, Expr::value(spec.applicant))
                    .col_expr(K::AcceptedAt, Expr::value(spec.accepted_at))
                    .col_expr(K::Stage, Expr::value(spec.stage.clone()))
                    .col_expr(K::StageAt, Expr::value(spec.stage_at))
                    .col_expr(K::CompletedAt, Expr::value(spec.completed_at))
                    .col_expr(K::PromisedDays, Expr::value(spec.promised_days as i32))
                    .col_expr(K::Deadline, Expr::value(d.timing.deadline))
                    .col_expr(K::OnTime, Expr::value(d.on_time))
                    .col_expr(K::Card, Expr::value(d.card))
                    .col_expr(K::NextCardOn, Expr::value(d.next_card_on))
                    .col_expr(K::Version, Expr::value(b.version + 1))
                    .col_expr(K::UpdatedAt, Expr::value(now))
                    .filter(K::Id.eq(b.id))
                    .filter(K::Version.eq(b.version))
                    .exec(c)
                    .await?,
            )?;
            get_case(c, b.id, &Scope::All).await
        }
    }
}

/// Gives a stored case the card the job decided, if it is still at the version read.
pub async fn apply_card<C: ConnectionTrait>(
    c: &C,
    m: &service_case::Model,
    d: &CaseDecision,
    now: DateTime<Utc>,
) -> Result<()> {
    use service_case::Column as K;
    one_row(
        service_case::Entity::update_many()
            .col_expr(K::Card, Expr::value(d.card))
            .col_expr(K::NextCardOn, Expr::value(d.next_card_on))
            .col_expr(K::Deadline, Expr::value(d.timing.deadline))
            .col_expr(K::Version, Expr::value(m.version + 1))
            .col_expr(K::UpdatedAt, Expr::value(now))
            .filter(K::Id.eq(m.id))
            .filter(K::Version.eq(m.version))
            .exec(c)
            .await?,
    )
}

/// Keeps an open case's next card day in step with the calendar, when the job finds nothing due
/// on the day it had (the office gave a day off meanwhile).
pub async fn set_next_card_on<C: ConnectionTrait>(
    c: &C,
    m: &service_case::Model,
    next: Option<NaiveDate>,
    deadline: NaiveDate,
) -> Result<()> {
    use service_case::Column as K;
    service_case::Entity::update_many()
        .col_expr(K::NextCardOn, Expr::value(next))
        .col_expr(K::Deadline, Expr::value(deadline))
        .filter(K::Id.eq(m.id))
        .filter(K::Version.eq(m.version))
        .exec(c)
        .await?;
    Ok(())
}

/// Open cases still to be carded (a next card day set), by id after `after`: a pass over all of
/// them, when what their card days were computed from has changed.
pub async fn open_cases_after<C: ConnectionTrait>(c: &C, after: i64, limit: u64) -> Result<Vec<service_case::Model>> {
    Ok(service_case::Entity::find()
        .filter(service_case::Column::NextCardOn.is_not_null())
        .filter(service_case::Column::Id.gt(after))
        .order_by_asc(service_case::Column::Id)
        .limit(limit)
        .all(c)
        .await?)
}

/// Open cases whose next card is due by `today`, oldest first.
pub async fn card_candidates<C: ConnectionTrait>(
    c: &C,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<service_case::Model>> {
    Ok(service_case::Entity::find()
        .filter(service_case::Column::NextCardOn.lte(today))
        .order_by_asc(service_case::Column::NextCardOn)
        .order_by_asc(service_case::Column::Id)
        .limit(limit)
        .all(c)
        .await?)
}

fn case_scope(scope: &Scope) -> Condition {
    match scope {
        Scope::Person(Some(p)) => Condition::all().add(service_case::Column::PersonId.eq(*p)),
        other => in_dept_scope(service_case::Column::DepartmentId, other),
    }
}

pub async fn get_case<C: ConnectionTrait>(c: &C, id: i64, scope: &Scope) -> Result<service_case::Model> {
    service_case::Entity::find_by_id(id).filter(case_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub status: Option<CaseStatus>,
    pub card: Option<CaseCard>,
    /// Open and past the deadline.
    pub overdue_on: Option<NaiveDate>,
    pub number: Option<String>,
    pub accepted_from: Option<DateTime<Utc>>,
    pub accepted_before: Option<DateTime<Utc>>,
}

/// The cases a filter selects within `scope`; a department is the department and those below it.
async fn case_filter<C: ConnectionTrait>(c: &C, scope: &Scope, f: &CaseFilter) -> Result<Condition> {
    use service_case::Column as K;
    let mut cond = case_scope(scope);
    if let Some(d) = f.department_id {
        cond = cond.add(crate::org::in_department(c, K::DepartmentId, d, false).await?);
    }
    for (col, v) in [(K::ItemId, f.item_id), (K::WindowId, f.window_id), (K::PersonId, f.person_id)] {
        if let Some(v) = v {
            cond = cond.add(col.eq(v));
        }
    }
    match f.status {
        Some(CaseStatus::Open) => cond = cond.add(K::CompletedAt.is_null()),
        Some(CaseStatus::Completed) => cond = cond.add(K::CompletedAt.is_not_null()),
        None => {}
    }
    if let Some(card) = f.card {
        cond = cond.add(K::Card.eq(card));
    }
    if let Some(day) = f.overdue_on {
        cond = cond.add(K::CompletedAt.is_null()).add(K::Deadline.lt(day));
    }
    if let Some(n) = f.number.as_deref().filter(|n| !n.trim().is_empty()) {
        cond = cond.add(contains(K::Number, n.trim()));
    }
    if let Some(t) = f.accepted_from {
        cond = cond.add(K::AcceptedAt.gte(t));
    }
    if let Some(t) = f.accepted_before {
        cond = cond.add(K::AcceptedAt.lt(t));
    }
    Ok(cond)
}

/// Cases, newest first.
pub async fn list_cases<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &CaseFilter,
    page: PageReq,
) -> Result<Paged<service_case::Model>> {
    let q = service_case::Entity::find()
        .filter(case_filter(c, scope, f).await?)
        .order_by_desc(service_case::Column::AcceptedAt)
        .order_by_desc(service_case::Column::Id);
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

/// Counts of one department's cases in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromQueryResult)]
pub struct CaseCounts {
    pub department_id: i64,
    pub cases: i64,
    pub completed: i64,
    pub on_time: i64,
    pub open_overdue: i64,
    pub yellow: i64,
    pub red: i64,
}

/// Per department: cases accepted in the period, completed, completed on time, open past their
/// deadline on `today`, and the cards they hold (a red card was yellow first, but counts red).
pub async fn case_counts<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &CaseFilter,
    today: NaiveDate,
) -> Result<Vec<CaseCounts>> {
    use service_case::Column as K;
    let when = |cond: sea_orm::sea_query::SimpleExpr| Expr::from(Func::sum(Expr::case(cond, 1).finally(0)));
    Ok(service_case::Entity::find()
        .select_only()
        .column(K::DepartmentId)
        .column_as(K::Id.count(), "cases")
        .column_as(when(K::CompletedAt.is_not_null()), "completed")
        .column_as(when(K::OnTime.eq(true)), "on_time")
        .column_as(when(K::CompletedAt.is_null().and(K::Deadline.lt(today))), "open_overdue")
        .column_as(when(K::Card.eq(CaseCard::Yellow)), "yellow")
        .column_as(when(K::Card.eq(CaseCard::Red)), "red")
        .filter(case_filter(c, scope, f).await?)
        .group_by(K::DepartmentId)
        .order_by_asc(K::DepartmentId)
        .into_model::<CaseCounts>()
        .all(c)
        .await?)
}
