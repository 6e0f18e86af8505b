//! Password resets that need two people: the system admin asks and holds one half of the code,
//! the security admin approves and holds the other (decision 0025). Only hashes of the halves are
//! kept.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000009_password_resets"
    }
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    State,
    Reason,
    RequestedBy,
    RequestedAt,
    FirstHalfHash,
    ApprovedBy,
    ApprovedAt,
    SecondHalfHash,
    Attempts,
    EndedAt,
    EndReason,
}

fn fk(col: PasswordResets) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(PasswordResets::Table, col)
        .to(Alias::new("users"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PasswordResets::Table)
                .col(big_pk_auto(PasswordResets::Id))
                .col(big_integer(PasswordResets::UserId))
                .col(string_len(PasswordResets::State, 20).check(Expr::col(PasswordResets::State).is_in([
                    "requested",
                    "approved",
                    "used",
                    "cancelled",
                ])))
                .col(string_len(PasswordResets::Reason, 500))
                .col(big_integer(PasswordResets::RequestedBy))
                .col(timestamp_with_time_zone(PasswordResets::RequestedAt))
                .col(string_len(PasswordResets::FirstHalfHash, 64))
                .col(big_integer_null(PasswordResets::ApprovedBy))
                .col(timestamp_with_time_zone_null(PasswordResets::ApprovedAt))
                .col(string_len_null(PasswordResets::SecondHalfHash, 64))
                .col(integer(PasswordResets::Attempts).default(0))
                .col(timestamp_with_time_zone_null(PasswordResets::EndedAt))
                .col(string_len_null(PasswordResets::EndReason, 500))
                .foreign_key(&mut fk(PasswordResets::UserId))
                .foreign_key(&mut fk(PasswordResets::RequestedBy))
                .foreign_key(&mut fk(PasswordResets::ApprovedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_password_resets_user")
                .table(PasswordResets::Table)
                .col(PasswordResets::UserId)
                .col(PasswordResets::State)
                .to_owned(),
        )
        .await
    }
}
