//! Second factors (decision 0029): enrolments whose state moves only conditionally on the state
//! read, the last TOTP step accepted (moved forward in one statement, so a code is good once
//! even when two requests race with it), recovery codes as hashes used up in one statement, and
//! the logins waiting for their second step.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use xiaoneng_core::second_factor::FactorState;

use crate::{
    Result, StoreError,
    entity::{login_challenge, recovery_code, second_factor, user},
    one_row,
};

/// The account's active factor, if any.
pub async fn active_of<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Option<second_factor::Model>> {
    Ok(second_factor::Entity::find()
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::State.eq(FactorState::Active))
        .one(c)
        .await?)
}

/// The account's enrolment waiting for confirmation, if any (the latest).
pub async fn pending_of<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Option<second_factor::Model>> {
    Ok(second_factor::Entity::find()
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::State.eq(FactorState::Pending))
        .order_by_desc(second_factor::Column::Id)
        .one(c)
        .await?)
}

/// Starts an enrolment with a new secret (base32); an earlier one still waiting is abandoned.
pub async fn start<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    secret: String,
    now: DateTime<Utc>,
) -> Result<second_factor::Model> {
    second_factor::Entity::update_many()
        .col_expr(second_factor::Column::State, Expr::value(FactorState::Abandoned))
        .col_expr(second_factor::Column::EndedAt, Expr::value(now))
        .col_expr(second_factor::Column::EndReason, Expr::value("superseded"))
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::State.eq(FactorState::Pending))
        .exec(c)
        .await?;
    Ok(second_factor::ActiveModel {
        user_id: Set(user_id),
        state: Set(FactorState::Pending),
        secret: Set(secret),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn get<C: ConnectionTrait>(c: &C, id: i64) -> Result<second_factor::Model> {
    second_factor::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// What a step writes besides the state.
#[derive(Debug, Clone)]
pub enum Step {
    /// Confirmed with the code of `step`, which is then used.
    Confirmed { step: i64 },
    /// Ended: replaced by a newer enrolment, disabled by its owner, reset by the security admin
    /// (`by` is `None` for the command line).
    Ended { by: Option<i64>, reason: String },
}

/// Moves an enrolment on, conditional on the state it was read in (`StateChanged` otherwise).
/// Ending one also revokes its unused recovery codes.
pub async fn apply<C: ConnectionTrait>(
    c: &C,
    f: &second_factor::Model,
    to: FactorState,
    step: Step,
    now: DateTime<Utc>,
) -> Result<second_factor::Model> {
    let mut q = second_factor::Entity::update_many()
        .col_expr(second_factor::Column::State, Expr::value(to))
        .filter(second_factor::Column::Id.eq(f.id))
        .filter(second_factor::Column::State.eq(f.state));
    let ended = matches!(step, Step::Ended { .. });
    q = match step {
        Step::Confirmed { step } => q
            .col_expr(second_factor::Column::ConfirmedAt, Expr::value(now))
            .col_expr(second_factor::Column::LastUsedStep, Expr::value(step)),
        Step::Ended { by, reason } => q
            .col_expr(second_factor::Column::EndedAt, Expr::value(now))
            .col_expr(second_factor::Column::EndedBy, Expr::value(by))
            .col_expr(second_factor::Column::EndReason, Expr::value(reason)),
    };
    one_row(q.exec(c).await?)?;
    if ended {
        revoke_codes(c, f.id, now).await?;
    }
    get(c, f.id).await
}

/// Records `step` as used, if it is later than the last step used: `false` when this step (or a
/// later one) was used already — a replayed code, or a racing request with the same code.
pub async fn use_step<C: ConnectionTrait>(c: &C, factor_id: i64, step: i64) -> Result<bool> {
    let r = second_factor::Entity::update_many()
        .col_expr(second_factor::Column::LastUsedStep, Expr::value(step))
        .filter(second_factor::Column::Id.eq(factor_id))
        .filter(second_factor::Column::State.eq(FactorState::Active))
        .filter(
            Condition::any()
                .add(second_factor::Column::LastUsedStep.is_null())
                .add(second_factor::Column::LastUsedStep.lt(step)),
        )
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

async fn revoke_codes<C: ConnectionTrait>(c: &C, factor_id: i64, now: DateTime<Utc>) -> Result<u64> {
    let r = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::RevokedAt, Expr::value(now))
        .filter(recovery_code::Column::SecondFactorId.eq(factor_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .filter(recovery_code::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(r.rows_affected)
}

/// Issues new recovery codes (their hashes) for an active factor; its unused ones are revoked.
pub async fn issue_codes<C: ConnectionTrait>(
    c: &C,
    f: &second_factor::Model,
    hashes: Vec<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    revoke_codes(c, f.id, now).await?;
    let rows = hashes.into_iter().map(|h| recovery_code::ActiveModel {
        second_factor_id: Set(f.id),
        user_id: Set(f.user_id),
        code_hash: Set(h),
        created_at: Set(now),
        used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    });
    recovery_code::Entity::insert_many(rows).exec(c).await?;
    Ok(())
}

/// Uses up a recovery code of the active factor, in one statement: `false` when no such code is
/// unused (wrong, used already, revoked, or taken by a racing request).
pub async fn use_code<C: ConnectionTrait>(
    c: &C,
    f: &second_factor::Model,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::Column::SecondFactorId.eq(f.id))
        .filter(recovery_code::Column::UserId.eq(f.user_id))
        .filter(recovery_code::Column::CodeHash.eq(code_hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .filter(recovery_code::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The unused recovery codes of a factor.
pub async fn codes_left<C: ConnectionTrait>(c: &C, factor_id: i64) -> Result<u64> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::SecondFactorId.eq(factor_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .filter(recovery_code::Column::RevokedAt.is_null())
        .count(c)
        .await?)
}

/// Marks an account to enrol again (the security admin's reset), or clears the mark (enrolled).
pub async fn set_must_enrol<C: ConnectionTrait>(c: &C, user_id: i64, must: bool, now: DateTime<Utc>) -> Result<()> {
    user::Entity::update_many()
        .col_expr(user::Column::MustEnrolSecondFactor, Expr::value(must))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::MustEnrolSecondFactor.ne(must))
        .exec(c)
        .await?;
    Ok(())
}

/// Which of these accounts have an active factor, in one query.
pub async fn with_active<C: ConnectionTrait>(c: &C, user_ids: impl IntoIterator<Item = i64>) -> Result<HashSet<i64>> {
    let ids: Vec<i64> = user_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<i64> = second_factor::Entity::find()
        .select_only()
        .column(second_factor::Column::UserId)
        .filter(second_factor::Column::UserId.is_in(ids))
        .filter(second_factor::Column::State.eq(FactorState::Active))
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().collect())
}

// ------------------------------------------------------------------ logins waiting for a code

/// Opens a login's wait for its second step, under the SHA-256 of its cookie's token.
pub async fn open_challenge<C: ConnectionTrait>(
    c: &C,
    token_hash: String,
    user_id: i64,
    ip: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    login_challenge::ActiveModel {
        id: Set(token_hash),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ended_at: Set(None),
        end_reason: Set(None),
        ip: Set(ip.chars().take(64).collect()),
    }
    .insert(c)
    .await?;
    Ok(())
}

/// A login waiting for its second step: not ended, and not past its time at `now`.
pub async fn live_challenge<C: ConnectionTrait>(
    c: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<login_challenge::Model>> {
    Ok(login_challenge::Entity::find_by_id(token_hash.to_owned())
        .filter(login_challenge::Column::EndedAt.is_null())
        .filter(login_challenge::Column::ExpiresAt.gt(now))
        .one(c)
        .await?)
}

/// Ends a login's wait; `false` when it had ended already (a racing second step got there first).
pub async fn end_challenge<C: ConnectionTrait>(
    c: &C,
    token_hash: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = login_challenge::Entity::update_many()
        .col_expr(login_challenge::Column::EndedAt, Expr::value(now))
        .col_expr(login_challenge::Column::EndReason, Expr::value(reason))
        .filter(login_challenge::Column::Id.eq(token_hash))
        .filter(login_challenge::Column::EndedAt.is_null())
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Ends every login of the account still waiting for its second step (a lock, a reset).
pub async fn end_challenges_of<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let r = login_challenge::Entity::update_many()
        .col_expr(login_challenge::Column::EndedAt, Expr::value(now))
        .col_expr(login_challenge::Column::EndReason, Expr::value(reason))
        .filter(login_challenge::Column::UserId.eq(user_id))
        .filter(login_challenge::Column::EndedAt.is_null())
        .exec(c)
        .await?;
    Ok(r.rows_affected)
}
