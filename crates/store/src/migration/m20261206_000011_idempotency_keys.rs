//! Idempotency keys: a create sent again with the same `Idempotency-Key` (a phone retrying on a
//! bad network) answers the first result instead of creating twice (decision 0027).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_idempotency_keys"
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Principal,
    Key,
    RequestHash,
    State,
    Status,
    ContentType,
    Location,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(big_integer(IdempotencyKeys::Principal))
                .col(string_len(IdempotencyKeys::Key, 255))
                .col(string_len(IdempotencyKeys::RequestHash, 64))
                .col(
                    string_len(IdempotencyKeys::State, 10)
                        .check(Expr::col(IdempotencyKeys::State).is_in(["pending", "done"])),
                )
                .col(integer_null(IdempotencyKeys::Status))
                .col(string_len_null(IdempotencyKeys::ContentType, 255))
                .col(string_len_null(IdempotencyKeys::Location, 1000))
                .col(blob_null(IdempotencyKeys::Body))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .primary_key(Index::create().col(IdempotencyKeys::Principal).col(IdempotencyKeys::Key))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_idempotency_keys_created")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::CreatedAt)
                .to_owned(),
        )
        .await
    }
}
