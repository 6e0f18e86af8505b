use sea_orm::entity::prelude::*;
use xiaoneng_core::{
    rating::DeviceStatus,
    service::{ClientKind, ClientStatus},
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: ClientKind,
    pub name: String,
    /// The key's public first part, by which a request's key is found.
    pub key_prefix: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub status: ClientStatus,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    /// A counter device's own report in its last heartbeat.
    pub device_status: Option<DeviceStatus>,
    pub device_firmware: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
