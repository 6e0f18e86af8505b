//! Login limits and the audit roll-up (decision 0023).
//!
//! - `login_failures`: failed logins counted per window, per address (`ip:…`) and overall (`*`),
//!   so that every instance sees the same counts.
//! - `unknown_logins`: the failure count and lock of user names that match no account, kept under
//!   a keyed hash of the name, so that an unknown name answers exactly as a real one does.
//! - `audit_rollups`: beside the append-only audit chain, the repeats of one caller's refusal or
//!   failed login within a window, until a summary entry is appended to the chain.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000010_login_limits"
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Bucket,
    WindowStart,
    Failures,
}

#[derive(DeriveIden)]
enum UnknownLogins {
    Table,
    NameKey,
    FailedLogins,
    LockedUntil,
}

#[derive(DeriveIden)]
enum AuditRollups {
    Table,
    Id,
    Caller,
    WindowStart,
    FirstSeq,
    Repeats,
    LastAt,
    Targets,
    SummarySeq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                .col(string_len(LoginFailures::Bucket, 80))
                .col(timestamp_with_time_zone(LoginFailures::WindowStart))
                .col(integer(LoginFailures::Failures))
                .primary_key(Index::create().col(LoginFailures::Bucket).col(LoginFailures::WindowStart))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UnknownLogins::Table)
                .col(string_len(UnknownLogins::NameKey, 64).primary_key())
                .col(integer(UnknownLogins::FailedLogins))
                .col(timestamp_with_time_zone_null(UnknownLogins::LockedUntil))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditRollups::Table)
                .col(big_pk_auto(AuditRollups::Id))
                .col(string_len(AuditRollups::Caller, 64))
                .col(timestamp_with_time_zone(AuditRollups::WindowStart))
                .col(big_integer(AuditRollups::FirstSeq))
                .col(integer(AuditRollups::Repeats).default(0))
                .col(timestamp_with_time_zone(AuditRollups::LastAt))
                .col(text(AuditRollups::Targets))
                .col(big_integer_null(AuditRollups::SummarySeq))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_rollups_caller_window")
                .table(AuditRollups::Table)
                .col(AuditRollups::Caller)
                .col(AuditRollups::WindowStart)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_rollups_first_seq")
                .table(AuditRollups::Table)
                .col(AuditRollups::FirstSeq)
                .to_owned(),
        )
        .await?;
        // The flush job looks for windows closed with repeats not yet summarised.
        m.create_index(
            Index::create()
                .name("audit_rollups_open")
                .table(AuditRollups::Table)
                .col(AuditRollups::SummarySeq)
                .col(AuditRollups::WindowStart)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
