use sea_orm::entity::prelude::*;
use xiaoneng_core::service::{ApplicantType, CaseCard};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: String,
    pub item_id: i64,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub applicant_type: ApplicantType,
    pub accepted_at: DateTimeUtc,
    pub stage: String,
    pub stage_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    /// The item's promise when the case arrived.
    pub promised_days: i32,
    pub deadline: Date,
    pub on_time: Option<bool>,
    pub card: Option<CaseCard>,
    /// The day the next card falls due while the case is open (none once red or completed).
    pub next_card_on: Option<Date>,
    pub system_id: Option<i64>,
    /// The code on the case's receipt that opens its rating page (random, not the id).
    pub rating_code: Option<String>,
    /// Bumped by every change: updates are conditional on the version read.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
