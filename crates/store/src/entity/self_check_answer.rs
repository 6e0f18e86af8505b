use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_check_answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub participant_id: i64,
    pub item_id: i64,
    pub found: String,
    pub measures: String,
    pub due: Option<Date>,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
