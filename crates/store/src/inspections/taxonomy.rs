//! The office's taxonomy of findings, seeded from the speech.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use xiaoneng_core::{inspection::Severity, org::Status};

use super::invalid;
use crate::{Result, StoreError, entity::finding_category};

pub async fn list_categories<C: ConnectionTrait>(c: &C, include_retired: bool) -> Result<Vec<finding_category::Model>> {
    let mut q = finding_category::Entity::find();
    if !include_retired {
        q = q.filter(finding_category::Column::Status.eq(Status::Active));
    }
    Ok(q.order_by_asc(finding_category::Column::SortOrder).order_by_asc(finding_category::Column::Id).all(c).await?)
}

/// Category names by id, retired ones included (old findings keep their names).
pub async fn category_names<C: ConnectionTrait>(c: &C) -> Result<std::collections::HashMap<i64, String>> {
    Ok(list_categories(c, true).await?.into_iter().map(|k| (k.id, k.name)).collect())
}

#[derive(Debug, Clone)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub default_severity: Severity,
    pub sort_order: i32,
}

pub async fn save_category<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    i: CategoryInput,
    now: DateTime<Utc>,
) -> Result<(Option<finding_category::Model>, finding_category::Model)> {
    let taken = finding_category::Entity::find().filter(finding_category::Column::Code.eq(&i.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(finding_category::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => finding_category::ActiveModel {
            status: Set(Status::Active),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(i.code);
    am.name = Set(i.name);
    am.name_en = Set(i.name_en);
    am.default_severity = Set(i.default_severity);
    am.sort_order = Set(i.sort_order);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_category<C: ConnectionTrait>(
    c: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<finding_category::Model> {
    let cat = finding_category::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if cat.status != Status::Active {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: finding_category::ActiveModel = cat.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}
