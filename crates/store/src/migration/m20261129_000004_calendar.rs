//! The office's own working-day calendar: days that differ from the published arrangements, or
//! lie beyond them (the State Council publishes each year's in the autumn before).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000004_calendar"
    }
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Id,
    Day,
    Working,
    Note,
    UpdatedBy,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CalendarDays::Table)
                .col(big_pk_auto(CalendarDays::Id))
                .col(date_uniq(CalendarDays::Day))
                .col(boolean(CalendarDays::Working))
                .col(string_len(CalendarDays::Note, 100))
                .col(big_integer(CalendarDays::UpdatedBy))
                .col(timestamp_with_time_zone(CalendarDays::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CalendarDays::Table, CalendarDays::UpdatedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Restrict)
                        .on_update(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await
    }
}
