use sea_orm::entity::prelude::*;
use xiaoneng_core::org::{Status, SupervisorKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervisors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: SupervisorKind,
    pub organisation: String,
    /// The mobile number, SM4-GCM under the personal-data key (decision 0030). The clear
    /// `mobile` column is emptied at start and refused by the database: it is not mapped here.
    pub mobile_sealed: Option<crate::personal::Sealed>,
    /// HMAC-SM3 blind index of the number, for finding a person by it.
    pub mobile_index: Option<String>,
    pub term_start: Date,
    pub term_end: Date,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
