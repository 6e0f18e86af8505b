//! Settings the office changes at run time (the security policy), stored as JSON by key.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::{Serialize, de::DeserializeOwned};

use crate::{Result, StoreError, entity::setting};

pub const SECURITY_POLICY: &str = "security_policy";
pub const INSPECTION_POLICY: &str = "inspection_policy";
pub const RECTIFICATION_POLICY: &str = "rectification_policy";
pub const NOTIFY_CHANNELS: &str = "notify_channels";
pub const SERVICE_POLICY: &str = "service_policy";
pub const RATING_POLICY: &str = "rating_policy";
pub const TICKET_POLICY: &str = "ticket_policy";
pub const INQUIRY_POLICY: &str = "inquiry_policy";
/// The yellow share and the calendar that open cases' card days were last computed from.
pub const SERVICE_CARD_BASIS: &str = "service_card_basis";
/// The key of the keyed hash under which user names that match no account are kept (hex).
pub const LOGIN_NAME_KEY: &str = "login_name_key";

pub async fn get<C: ConnectionTrait, T: DeserializeOwned + Default>(c: &C, key: &str) -> Result<T> {
    match setting::Entity::find_by_id(key.to_owned()).one(c).await? {
        Some(row) => serde_json::from_str(&row.value)
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("setting {key} is unreadable: {e}")))),
        None => Ok(T::default()),
    }
}

pub async fn put<C: ConnectionTrait, T: Serialize>(
    c: &C,
    key: &str,
    value: &T,
    by: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    let exists = setting::Entity::find_by_id(key.to_owned()).one(c).await?.is_some();
    let row =
        setting::ActiveModel { key: Set(key.to_owned()), value: Set(json), updated_at: Set(at), updated_by: Set(by) };
    if exists {
        row.update(c).await?;
    } else {
        row.insert(c).await?;
    }
    Ok(())
}

/// A value made once and then kept, such as a key: the stored one, or else `candidate`, stored
/// now. Of instances racing to store theirs, the first wins and the others read it.
pub async fn get_or_init(store: &crate::Store, key: &str, candidate: &str, at: DateTime<Utc>) -> Result<String> {
    if let Some(v) = get::<_, Option<String>>(store.db(), key).await? {
        return Ok(v);
    }
    let tx = store.write().await?;
    if let Some(v) = get::<_, Option<String>>(&tx, key).await? {
        return Ok(v);
    }
    match put(&tx, key, &candidate, None, at).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(candidate.to_owned())
        }
        Err(StoreError::Conflict { .. }) => {
            drop(tx);
            get::<_, Option<String>>(store.db(), key).await?.ok_or(StoreError::NotFound)
        }
        Err(e) => Err(e),
    }
}
