//! The monthly rankings of windows the office publishes: frozen as they were computed, one per
//! month, what the public pages show.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000020_published_rankings"
    }
}

#[derive(DeriveIden)]
enum PublishedRankings {
    Table,
    Month,
    Rows,
    PublishedBy,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use PublishedRankings as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(string_len(P::Month, 7).primary_key())
                .col(text(P::Rows))
                .col(big_integer(P::PublishedBy))
                .col(timestamp_with_time_zone(P::PublishedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(P::Table, P::PublishedBy)
                        .to(Alias::new("users"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Restrict)
                        .on_update(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await
    }
}
