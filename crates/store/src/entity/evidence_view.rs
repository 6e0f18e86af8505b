use sea_orm::entity::prelude::*;

/// A session that has been recorded viewing (or downloading) a file: audited once, then not again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_views")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evidence_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub download: bool,
    pub first_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
