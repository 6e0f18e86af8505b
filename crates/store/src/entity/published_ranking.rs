use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "published_rankings")]
pub struct Model {
    /// `2026-11`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    /// The ranked windows as published (JSON), frozen.
    pub rows: String,
    pub published_by: i64,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
