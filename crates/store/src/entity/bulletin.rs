use sea_orm::entity::prelude::*;
use xiaoneng_core::rectification::{BulletinScope, BulletinState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulletins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub status: BulletinState,
    pub scope: BulletinScope,
    pub title: String,
    pub body: String,
    pub period_start: Date,
    pub period_end: Date,
    pub mask_names: bool,
    pub corrects_id: Option<i64>,
    pub requirement: String,
    /// The rule for its orders' deadline, as JSON (`core::rectification::Deadline`).
    pub deadline: String,
    pub year: Option<i32>,
    pub number: Option<i32>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
