use sea_orm::entity::prelude::*;
use xiaoneng_core::rating::{HoldReason, RatingChannel, RatingLevel, RatingStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ratings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel: RatingChannel,
    pub level: RatingLevel,
    /// The reason codes picked, a JSON array.
    pub reasons: String,
    /// The reason set they were offered under.
    pub reasons_version: i32,
    pub comment: String,
    /// The rater's phone, if left, sealed; its blind index beside it.
    pub phone_sealed: Option<crate::personal::Sealed>,
    pub phone_index: Option<String>,
    pub case_id: Option<i64>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub item_id: Option<i64>,
    /// The counter device it came from.
    pub device_id: Option<i64>,
    pub status: RatingStatus,
    pub hold_reason: Option<HoldReason>,
    pub given_at: DateTimeUtc,
    /// The blind index of the address it came from (never the address).
    pub address_key: Option<String>,
    /// Given on the QR page or the web within seconds of the case's completion.
    pub quick: bool,
    /// The figures it was held on, when its window stood out (an `Outlier`, JSON).
    pub hold_detail: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_reason: Option<String>,
}

impl Model {
    pub fn reason_codes(&self) -> Vec<String> {
        serde_json::from_str(&self.reasons).unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
