use sea_orm::entity::prelude::*;
use xiaoneng_core::evidence::{EvidenceKind, EvidencePurpose};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub finding_id: i64,
    pub purpose: EvidencePurpose,
    pub filename: String,
    pub total_bytes: i64,
    pub received_bytes: i64,
    pub head: Vec<u8>,
    pub mime: Option<String>,
    pub kind: Option<EvidenceKind>,
    pub digest_state: Vec<u8>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub evidence_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
