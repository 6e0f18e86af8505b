use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rectification_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub version: i32,
    pub status: String,
    pub cause: String,
    pub measures: String,
    pub results: String,
    pub responsible: String,
    pub drafted_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_comment: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
