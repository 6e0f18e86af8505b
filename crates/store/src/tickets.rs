//! Tickets for bad ratings and complaints, read through the reader's scope (a department's tree;
//! a staff member's are those about them) and moved by the decision core took, conditional on the
//! version read.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use xiaoneng_core::{
    rating::RatingStatus,
    ticket::{ComplaintAbout, TicketChange, TicketFacts, TicketSource, TicketState},
};

use crate::{
    PageReq, Paged, Result, StoreError,
    entity::{rating, ticket},
    org::{Scope, in_dept_scope},
    personal::Sealed,
};

/// A ticket as opened.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub source: TicketSource,
    pub rating_id: Option<i64>,
    pub about: Option<ComplaintAbout>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub case_id: Option<i64>,
    pub content: String,
    pub phone: Option<(Sealed, String)>,
    /// A complaint's sender's address, as a blind index.
    pub address_key: Option<String>,
    /// A complaint's photo as stored: (object key, media type, SHA-256).
    pub photo: Option<(String, String, String)>,
    pub due: NaiveDate,
    pub opened_at: DateTime<Utc>,
}

pub async fn insert_ticket<C: ConnectionTrait>(c: &C, t: NewTicket) -> Result<ticket::Model> {
    let (phone_sealed, phone_index) = t.phone.map_or((None, None), |(s, i)| (Some(s), Some(i)));
    Ok(ticket::ActiveModel {
        source: Set(t.source),
        rating_id: Set(t.rating_id),
        about: Set(t.about),
        department_id: Set(t.department_id),
        window_id: Set(t.window_id),
        person_id: Set(t.person_id),
        case_id: Set(t.case_id),
        content: Set(t.content),
        phone_sealed: Set(phone_sealed),
        phone_index: Set(phone_index),
        address_key: Set(t.address_key),
        photo_key: Set(t.photo.as_ref().map(|p| p.0.clone())),
        photo_type: Set(t.photo.as_ref().map(|p| p.1.clone())),
        photo_sha256: Set(t.photo.map(|p| p.2)),
        state: Set(TicketState::Verifying),
        due: Set(Some(t.due)),
        reopened: Set(false),
        appealed: Set(false),
        opened_at: Set(t.opened_at),
        updated_at: Set(t.opened_at),
        version: Set(0),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

/// The ticket as its machine sees it.
pub fn facts(t: &ticket::Model) -> TicketFacts {
    TicketFacts {
        id: t.id,
        state: t.state,
        source: t.source,
        rating_id: t.rating_id,
        department_id: t.department_id,
        window_id: t.window_id,
        person_id: t.person_id,
        due: t.due,
        reopened: t.reopened,
        appealed_from: t.appealed_from,
        appealed: t.appealed,
        reminded_due: t.reminded_due,
        overdue_due: t.overdue_due,
    }
}

fn ticket_scope(scope: &Scope) -> Condition {
    match scope {
        Scope::Person(Some(p)) => Condition::all().add(ticket::Column::PersonId.eq(*p)),
        other => in_dept_scope(ticket::Column::DepartmentId, other),
    }
}

pub async fn get_ticket<C: ConnectionTrait>(c: &C, id: i64, scope: &Scope) -> Result<ticket::Model> {
    ticket::Entity::find_by_id(id).filter(ticket_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct TicketFilter {
    pub department_id: Option<i64>,
    pub state: Option<TicketState>,
    pub source: Option<TicketSource>,
    /// Open and past their deadline on `today`.
    pub overdue_on: Option<NaiveDate>,
}

/// Tickets, the nearest deadline first, then the newest.
pub async fn list_tickets<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &TicketFilter,
    page: PageReq,
) -> Result<Paged<ticket::Model>> {
    use ticket::Column as K;
    let mut cond = ticket_scope(scope);
    if let Some(d) = f.department_id {
        cond = cond.add(crate::org::in_department(c, K::DepartmentId, d, false).await?);
    }
    if let Some(s) = f.state {
        cond = cond.add(K::State.eq(s));
    }
    if let Some(s) = f.source {
        cond = cond.add(K::Source.eq(s));
    }
    if let Some(today) = f.overdue_on {
        cond = cond.add(K::Due.lt(today));
    }
    let q = ticket::Entity::find()
        .filter(cond)
        .order_by(Expr::col(K::Due).is_null(), sea_orm::Order::Asc)
        .order_by_asc(K::Due)
        .order_by_desc(K::Id);
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

/// The complaints taken since `since_address` from any of these address keys, and since
/// `since_phone` naming any of these phone indexes: what a complaint's rate limit counts.
pub async fn recent_complaints<C: ConnectionTrait>(
    c: &C,
    address: &[String],
    since_address: DateTime<Utc>,
    phone: &[String],
    since_phone: DateTime<Utc>,
) -> Result<(u32, u32)> {
    use ticket::Column as K;
    let count = |col: K, keys: &[String], since: DateTime<Utc>| {
        let empty = keys.is_empty();
        let q = ticket::Entity::find()
            .filter(K::Source.eq(TicketSource::Complaint))
            .filter(col.is_in(keys.to_vec()))
            .filter(K::OpenedAt.gte(since));
        async move { if empty { Ok(0) } else { q.count(c).await } }
    };
    let a = count(K::AddressKey, address, since_address).await?;
    let p = count(K::PhoneIndex, phone, since_phone).await?;
    Ok((u32::try_from(a).unwrap_or(u32::MAX), u32::try_from(p).unwrap_or(u32::MAX)))
}

/// Applies a step core decided, conditional on the version read.
pub async fn apply_step<C: ConnectionTrait>(
    c: &C,
    t: &ticket::Model,
    change: &TicketChange,
    now: DateTime<Utc>,
) -> Result<()> {
    use ticket::Column as K;
    use xiaoneng_core::ticket::TicketAction as A;
    let mut u = ticket::Entity::update_many()
        .col_expr(K::State, Expr::value(change.next))
        .col_expr(K::Due, Expr::value(change.due))
        .col_expr(K::Reopened, Expr::value(change.reopened))
        .col_expr(K::AppealedFrom, Expr::value(change.appealed_from))
        .col_expr(K::UpdatedAt, Expr::value(now))
        .col_expr(K::Version, Expr::value(t.version + 1));
    let text = Some(change.text.clone());
    u = match change.action {
        A::Verify => u.col_expr(K::Verification, Expr::value(text)),
        A::Rectify => u.col_expr(K::Rectification, Expr::value(text)),
        A::CallBack => {
            u.col_expr(K::CallbackSatisfied, Expr::value(change.satisfied)).col_expr(K::CallbackNote, Expr::value(text))
        }
        A::Appeal => u.col_expr(K::Appealed, Expr::value(true)).col_expr(K::AppealReason, Expr::value(text)),
        A::Overturn | A::Uphold => u.col_expr(K::DecisionReason, Expr::value(text)),
    };
    if !change.next.is_open() {
        u = u.col_expr(K::ClosedAt, Expr::value(now));
    }
    let done = u.filter(K::Id.eq(t.id)).filter(K::Version.eq(t.version)).exec(c).await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
}

/// Marks a bad rating overturned on appeal: it stays on record and counts nowhere. Only a counted
/// rating has a ticket to appeal; anything else is `StateChanged`.
pub async fn overturn_rating<C: ConnectionTrait>(c: &C, rating_id: i64) -> Result<()> {
    let done = rating::Entity::update_many()
        .col_expr(rating::Column::Status, Expr::value(RatingStatus::Overturned))
        .filter(rating::Column::Id.eq(rating_id))
        .filter(rating::Column::Status.eq(RatingStatus::Counted))
        .exec(c)
        .await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
}

/// Open tickets with a deadline not yet marked overdue: what the reminder job looks at.
pub async fn with_deadlines<C: ConnectionTrait>(c: &C) -> Result<Vec<ticket::Model>> {
    use ticket::Column as K;
    Ok(ticket::Entity::find()
        .filter(K::Due.is_not_null())
        .filter(K::State.is_in([TicketState::Verifying, TicketState::Rectifying, TicketState::CallingBack]))
        .filter(Condition::any().add(K::OverdueDue.is_null()).add(Expr::col(K::OverdueDue).ne(Expr::col(K::Due))))
        .order_by_asc(K::Id)
        .all(c)
        .await?)
}

/// Records that the deadline `due` was reminded of (`overdue`: marked overdue), once: false when
/// another pass or a step got there first.
pub async fn mark_deadline<C: ConnectionTrait>(c: &C, id: i64, due: NaiveDate, overdue: bool) -> Result<bool> {
    use ticket::Column as K;
    let col = if overdue { K::OverdueDue } else { K::RemindedDue };
    let done = ticket::Entity::update_many()
        .col_expr(col, Expr::value(Some(due)))
        .filter(K::Id.eq(id))
        .filter(K::Due.eq(due))
        .filter(Condition::any().add(col.is_null()).add(col.ne(due)))
        .exec(c)
        .await?;
    Ok(done.rows_affected == 1)
}
