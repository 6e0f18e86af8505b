//! Evidence hardening (decision 0026).
//!
//! - `evidence_views`: which session has already been recorded viewing or downloading which
//!   file, so that each is audited once per session and file whatever range is asked, by
//!   whichever instance answers.
//! - `evidence_counters`: running totals about evidence storage (abandoned uploads removed,
//!   bytes freed), shared by all instances.
//! - Indexes for the per-user and per-finding quotas.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_evidence_hardening"
    }
}

#[derive(DeriveIden)]
enum EvidenceViews {
    Table,
    SessionHash,
    EvidenceId,
    Download,
    FirstAt,
}

#[derive(DeriveIden)]
enum EvidenceCounters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    UploadedBy,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    FindingId,
    CreatedBy,
    EvidenceId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EvidenceViews::Table)
                .col(string_len(EvidenceViews::SessionHash, 64))
                .col(big_integer(EvidenceViews::EvidenceId))
                .col(boolean(EvidenceViews::Download))
                .col(timestamp_with_time_zone(EvidenceViews::FirstAt))
                .primary_key(
                    Index::create()
                        .col(EvidenceViews::SessionHash)
                        .col(EvidenceViews::EvidenceId)
                        .col(EvidenceViews::Download),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(EvidenceViews::Table, EvidenceViews::EvidenceId)
                        .to(Evidence::Table, Evidence::Id)
                        .on_delete(ForeignKeyAction::Restrict)
                        .on_update(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EvidenceCounters::Table)
                .col(string_len(EvidenceCounters::Name, 64).primary_key())
                .col(big_integer(EvidenceCounters::Value).default(0))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(EvidenceCounters::Table)
                .columns([EvidenceCounters::Name, EvidenceCounters::Value])
                .values_panic(["uploads_swept".into(), 0i64.into()])
                .values_panic(["upload_bytes_freed".into(), 0i64.into()])
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_uploads_created_by")
                .table(Uploads::Table)
                .col(Uploads::CreatedBy)
                .col(Uploads::EvidenceId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_uploads_finding")
                .table(Uploads::Table)
                .col(Uploads::FindingId)
                .col(Uploads::EvidenceId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_evidence_uploaded_by")
                .table(Evidence::Table)
                .col(Evidence::UploadedBy)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
