use sea_orm::entity::prelude::*;
use xiaoneng_core::ticket::{ComplaintAbout, TicketSource, TicketState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source: TicketSource,
    /// The bad rating it was opened for (one ticket per rating).
    pub rating_id: Option<i64>,
    /// What a complaint is about.
    pub about: Option<ComplaintAbout>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub case_id: Option<i64>,
    /// The complaint, or the bad rating's comment.
    pub content: String,
    /// A complainant's phone, sealed (a rating's phone stays on the rating).
    pub phone_sealed: Option<crate::personal::Sealed>,
    pub phone_index: Option<String>,
    /// A complaint's sender's address, as a blind index: what its rate limit counts by.
    pub address_key: Option<String>,
    /// A photo sent with a complaint: where the object store keeps it, its type and SHA-256.
    pub photo_key: Option<String>,
    pub photo_type: Option<String>,
    pub photo_sha256: Option<String>,
    pub state: TicketState,
    pub due: Option<Date>,
    pub reopened: bool,
    pub appealed: bool,
    pub appealed_from: Option<TicketState>,
    pub reminded_due: Option<Date>,
    pub overdue_due: Option<Date>,
    pub verification: Option<String>,
    pub rectification: Option<String>,
    pub callback_satisfied: Option<bool>,
    pub callback_note: Option<String>,
    pub appeal_reason: Option<String>,
    pub decision_reason: Option<String>,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
