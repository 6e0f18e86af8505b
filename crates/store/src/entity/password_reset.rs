use sea_orm::entity::prelude::*;
use xiaoneng_core::reset::ResetState;

/// A password reset: asked for by the system admin, approved by the security admin, used by the
/// account's user with both halves of its code (only their SHA-256 is kept).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_resets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub state: ResetState,
    pub reason: String,
    pub requested_by: i64,
    pub requested_at: DateTimeUtc,
    pub first_half_hash: String,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub second_half_hash: Option<String>,
    pub attempts: i32,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
