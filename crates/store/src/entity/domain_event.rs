use sea_orm::entity::prelude::*;
use xiaoneng_core::event::{Aggregate, EventKind};

/// One event of the regime's ledger. Never updated, never deleted (the database refuses both).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domain_events")]
pub struct Model {
    /// The global sequence: a reader's cursor ("everything after seq N").
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: EventKind,
    pub aggregate: Aggregate,
    pub aggregate_id: i64,
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub post_id: Option<i64>,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    pub office_only: bool,
    /// JSON, of the kind's payload at `payload_version`.
    pub payload: String,
    pub payload_version: i32,
    pub audit_seq: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
