use sea_orm::entity::prelude::*;
use xiaoneng_core::rectification::{FollowUpState, InstructionTarget};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instructions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub target_kind: InstructionTarget,
    pub target_id: i64,
    pub author_id: i64,
    pub text: String,
    pub created_at: DateTimeUtc,
    pub follow_up: bool,
    pub follow_up_department_id: Option<i64>,
    pub follow_up_due: Option<Date>,
    pub follow_up_status: Option<FollowUpState>,
    pub follow_up_note: String,
    pub follow_up_done_by: Option<i64>,
    pub follow_up_done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
