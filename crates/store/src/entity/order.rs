use sea_orm::entity::prelude::*;
use xiaoneng_core::rectification::OrderState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rectification_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bulletin_id: Option<i64>,
    pub department_id: i64,
    pub requirement: String,
    pub deadline: Date,
    pub status: OrderState,
    pub issued_by: i64,
    pub issued_at: DateTimeUtc,
    pub first_submitted_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub overdue_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
