//! Password resets that need two people (decision 0025): kept as rows whose state moves only
//! conditionally on the state read; the halves of the code only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
    sea_query::{Expr, ExprTrait},
};
use xiaoneng_core::reset::{ResetFacts, ResetState};

use crate::{PageReq, Paged, Result, StoreError, entity::password_reset, one_row};

const OPEN: [ResetState; 2] = [ResetState::Requested, ResetState::Approved];

pub fn facts(r: &password_reset::Model) -> ResetFacts {
    ResetFacts { state: r.state, requested_at: r.requested_at, approved_at: r.approved_at, attempts: r.attempts }
}

/// Asks for a reset of `user_id`'s password; any reset still open for the account is called off
/// (superseded) in the same transaction.
pub async fn request<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    by: i64,
    reason: &str,
    first_half_hash: String,
    now: DateTime<Utc>,
) -> Result<password_reset::Model> {
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::State, Expr::value(ResetState::Cancelled))
        .col_expr(password_reset::Column::EndedAt, Expr::value(now))
        .col_expr(password_reset::Column::EndReason, Expr::value("superseded"))
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::State.is_in(OPEN))
        .exec(c)
        .await?;
    Ok(password_reset::ActiveModel {
        user_id: Set(user_id),
        state: Set(ResetState::Requested),
        reason: Set(reason.to_owned()),
        requested_by: Set(by),
        requested_at: Set(now),
        first_half_hash: Set(first_half_hash),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn get<C: ConnectionTrait>(c: &C, id: i64) -> Result<password_reset::Model> {
    password_reset::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// The account's latest reset that is still open (requested or approved), if any.
pub async fn open_of_user<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Option<password_reset::Model>> {
    Ok(password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::State.is_in(OPEN))
        .order_by_desc(password_reset::Column::Id)
        .one(c)
        .await?)
}

/// Resets, newest first; only those in `states` when given.
pub async fn list<C: ConnectionTrait>(
    c: &C,
    states: &[ResetState],
    page: PageReq,
) -> Result<Paged<password_reset::Model>> {
    let mut q = password_reset::Entity::find();
    if !states.is_empty() {
        q = q.filter(password_reset::Column::State.is_in(states.iter().copied()));
    }
    let total = q.clone().count(c).await?;
    let items = q.order_by_desc(password_reset::Column::Id).offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

/// What a step writes besides the state.
#[derive(Debug, Clone)]
pub enum Step {
    Approved { by: i64, second_half_hash: String },
    Used,
    Cancelled { reason: String },
}

/// Moves a reset on, conditional on the state it was read in.
pub async fn apply<C: ConnectionTrait>(
    c: &C,
    r: &password_reset::Model,
    to: ResetState,
    step: Step,
    now: DateTime<Utc>,
) -> Result<password_reset::Model> {
    let mut q = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::State, Expr::value(to))
        .filter(password_reset::Column::Id.eq(r.id))
        .filter(password_reset::Column::State.eq(r.state));
    q = match step {
        Step::Approved { by, second_half_hash } => q
            .col_expr(password_reset::Column::ApprovedBy, Expr::value(by))
            .col_expr(password_reset::Column::ApprovedAt, Expr::value(now))
            .col_expr(password_reset::Column::SecondHalfHash, Expr::value(second_half_hash)),
        Step::Used => q.col_expr(password_reset::Column::EndedAt, Expr::value(now)),
        Step::Cancelled { reason } => q
            .col_expr(password_reset::Column::EndedAt, Expr::value(now))
            .col_expr(password_reset::Column::EndReason, Expr::value(reason)),
    };
    one_row(q.exec(c).await?)?;
    get(c, r.id).await
}

/// Counts a wrong code against a reset, atomically; the count now.
pub async fn count_attempt<C: ConnectionTrait>(c: &C, id: i64) -> Result<i32> {
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::Attempts, Expr::col(password_reset::Column::Attempts).add(1))
        .filter(password_reset::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(get(c, id).await?.attempts)
}

/// Accounts' user names by id, in one query.
pub async fn usernames<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    use crate::entity::user;
    crate::org::names_by_id::<_, user::Entity>(c, user::Column::Id, user::Column::Username, ids).await
}
