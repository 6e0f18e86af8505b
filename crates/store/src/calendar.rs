//! The office's overrides of the working-day calendar.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use xiaoneng_core::calendar::WorkCalendar;

use crate::{Result, entity::calendar_day};

/// The calendar as the office has it: the published arrangements with its overrides.
pub async fn work_calendar<C: ConnectionTrait>(c: &C) -> Result<WorkCalendar> {
    let days = calendar_day::Entity::find().all(c).await?;
    Ok(WorkCalendar::new(days.into_iter().map(|d| (d.day, d.working))))
}

pub async fn overrides_in<C: ConnectionTrait>(
    c: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<calendar_day::Model>> {
    Ok(calendar_day::Entity::find()
        .filter(calendar_day::Column::Day.gte(from))
        .filter(calendar_day::Column::Day.lte(to))
        .order_by_asc(calendar_day::Column::Day)
        .all(c)
        .await?)
}

/// Sets a day: a working day or not, and why. Returns what it was before, if anything.
pub async fn set_day<C: ConnectionTrait>(
    c: &C,
    day: NaiveDate,
    working: bool,
    note: String,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Option<calendar_day::Model>> {
    let before = calendar_day::Entity::find().filter(calendar_day::Column::Day.eq(day)).one(c).await?;
    match before.clone() {
        Some(m) => {
            let mut am: calendar_day::ActiveModel = m.into();
            am.working = Set(working);
            am.note = Set(note);
            am.updated_by = Set(by);
            am.updated_at = Set(now);
            am.update(c).await?;
        }
        None => {
            calendar_day::ActiveModel {
                day: Set(day),
                working: Set(working),
                note: Set(note),
                updated_by: Set(by),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(c)
            .await?;
        }
    }
    Ok(before)
}

/// Drops the office's override of a day: it follows the published arrangement (or Monday–Friday)
/// again. Returns what was removed.
pub async fn clear_day<C: ConnectionTrait>(c: &C, day: NaiveDate) -> Result<Option<calendar_day::Model>> {
    let before = calendar_day::Entity::find().filter(calendar_day::Column::Day.eq(day)).one(c).await?;
    if let Some(m) = &before {
        calendar_day::Entity::delete_by_id(m.id).exec(c).await?;
    }
    Ok(before)
}
