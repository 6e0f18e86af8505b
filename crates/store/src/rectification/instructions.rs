//! City leaders' instructions (批示) on bulletins and reports, and their follow-up items.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};
use xiaoneng_core::rectification::{FollowUp, FollowUpState, InstructionTarget};

use crate::{
    Result, StoreError,
    entity::instruction,
    one_row,
    org::{Scope, in_dept_scope},
};

pub struct NewInstruction {
    pub target_kind: InstructionTarget,
    pub target_id: i64,
    pub text: String,
    pub follow_up: Option<FollowUp>,
}

pub async fn add_instruction<C: ConnectionTrait>(
    c: &C,
    i: NewInstruction,
    state: Option<FollowUpState>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<instruction::Model> {
    Ok(instruction::ActiveModel {
        target_kind: Set(i.target_kind),
        target_id: Set(i.target_id),
        author_id: Set(by),
        text: Set(i.text),
        created_at: Set(now),
        follow_up: Set(i.follow_up.is_some()),
        follow_up_department_id: Set(i.follow_up.and_then(|f| f.department_id)),
        follow_up_due: Set(i.follow_up.map(|f| f.due)),
        follow_up_status: Set(state),
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
    target_kind: InstructionTarget,
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
    let mut q = instruction::Entity::find().filter(instruction::Column::FollowUpStatus.eq(FollowUpState::Open));
    q = match for_scope {
        None => q.filter(instruction::Column::FollowUpDepartmentId.is_null()),
        Some(s) => q.filter(in_dept_scope(instruction::Column::FollowUpDepartmentId, s)),
    };
    Ok(q.order_by_asc(instruction::Column::FollowUpDue).all(c).await?)
}

/// Records a follow-up done, conditional on its still being open.
pub async fn complete_follow_up<C: ConnectionTrait>(
    c: &C,
    i: &instruction::Model,
    note: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<instruction::Model> {
    one_row(
        instruction::Entity::update_many()
            .col_expr(instruction::Column::FollowUpStatus, Expr::value(FollowUpState::Done))
            .col_expr(instruction::Column::FollowUpNote, Expr::value(note.trim()))
            .col_expr(instruction::Column::FollowUpDoneBy, Expr::value(by))
            .col_expr(instruction::Column::FollowUpDoneAt, Expr::value(now))
            .filter(instruction::Column::Id.eq(i.id))
            .filter(instruction::Column::FollowUpStatus.eq(FollowUpState::Open))
            .exec(c)
            .await?,
    )?;
    get_instruction(c, i.id).await
}
