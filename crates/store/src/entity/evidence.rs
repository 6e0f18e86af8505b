use sea_orm::entity::prelude::*;
use xiaoneng_core::evidence::{EvidenceKind, EvidencePurpose};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub finding_id: i64,
    pub purpose: EvidencePurpose,
    pub kind: EvidenceKind,
    pub mime: String,
    pub filename: String,
    pub bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub object_key: String,
    pub uploaded_by: i64,
    pub uploaded_at: DateTimeUtc,
    pub verified_tag: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    pub corrupt_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
