use sea_orm::entity::prelude::*;
use xiaoneng_core::campaign::{ParticipantKind, ParticipationState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub kind: ParticipantKind,
    pub department_id: i64,
    pub person_id: Option<i64>,
    pub target_key: String,
    pub status: ParticipationState,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
