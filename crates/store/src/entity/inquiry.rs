use sea_orm::entity::prelude::*;
use xiaoneng_core::inquiry::{InquiryChannel, InquiryState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel: InquiryChannel,
    /// Who asked, as the staff member wrote it down (may be empty).
    pub asker: String,
    pub content: String,
    pub phone_sealed: Option<crate::personal::Sealed>,
    pub phone_index: Option<String>,
    /// The staff member asked first, and their department.
    pub first_person_id: i64,
    pub first_department_id: i64,
    pub state: InquiryState,
    /// With this person, or waiting in this department for anyone there.
    pub holder_person_id: Option<i64>,
    pub holder_department_id: i64,
    pub handed_by_person_id: Option<i64>,
    pub handed_by_department_id: Option<i64>,
    pub hand_overs: i32,
    pub accept_due: Option<Date>,
    pub due: Date,
    pub answer: Option<String>,
    /// The hand-over whose lapse was raised; whether the overdue lapse was.
    pub dropped_at: Option<i32>,
    pub overdue_raised: bool,
    pub recorded_by: i64,
    pub asked_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
