use sea_orm::entity::prelude::*;
use xiaoneng_core::inquiry::{LapseKind, LapseState};

/// A candidate finding from the first-inquiry log, for the office to review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiry_lapses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inquiry_id: i64,
    pub kind: LapseKind,
    /// The hand-over it belongs to (0: the inquiry's own limit).
    pub seq: i32,
    pub department_id: i64,
    pub person_id: Option<i64>,
    pub raised_at: DateTimeUtc,
    pub state: LapseState,
    pub finding_id: Option<i64>,
    pub reason: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
