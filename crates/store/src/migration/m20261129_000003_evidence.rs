//! Evidence files on findings, and the resumable uploads (tus) that bring them in.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_evidence"
    }
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    FindingId,
    Purpose,
    Filename,
    TotalBytes,
    ReceivedBytes,
    Head,
    Mime,
    Kind,
    DigestState,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    EvidenceId,
}
#[derive(DeriveIden)]
enum UploadParts {
    Table,
    Id,
    UploadId,
    StartByte,
    Bytes,
    ObjectKey,
}
#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    FindingId,
    Purpose,
    Kind,
    Mime,
    Filename,
    Bytes,
    Sha256,
    Sm3,
    ObjectKey,
    UploadedBy,
    UploadedAt,
    VerifiedTag,
    VerifiedAt,
    CorruptAt,
}
#[derive(DeriveIden)]
enum Findings {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A stored file: immutable, named by its object key, with the digests taken as it
        // streamed in. `verified_tag` is the object's version when its digest last matched.
        m.create_table(
            Table::create()
                .table(Evidence::Table)
                .col(big_pk_auto(Evidence::Id))
                .col(big_integer(Evidence::FindingId))
                .col(string_len(Evidence::Purpose, 16))
                .col(string_len(Evidence::Kind, 16))
                .col(string_len(Evidence::Mime, 100))
                .col(string_len(Evidence::Filename, 255))
                .col(big_integer(Evidence::Bytes))
                .col(string_len(Evidence::Sha256, 64))
                .col(string_len(Evidence::Sm3, 64))
                .col(string_len_uniq(Evidence::ObjectKey, 255))
                .col(big_integer(Evidence::UploadedBy))
                .col(timestamp_with_time_zone(Evidence::UploadedAt))
                .col(string_len_null(Evidence::VerifiedTag, 255))
                .col(timestamp_with_time_zone_null(Evidence::VerifiedAt))
                .col(timestamp_with_time_zone_null(Evidence::CorruptAt))
                .foreign_key(&mut fk(Evidence::Table, Evidence::FindingId, Findings::Table, Findings::Id))
                .foreign_key(&mut fk(Evidence::Table, Evidence::UploadedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_evidence_finding").table(Evidence::Table).col(Evidence::FindingId).to_owned(),
        )
        .await?;

        // An upload in progress: how much has arrived, the first bytes (to tell the type), and
        // the digests' state, so that any instance can take the next request.
        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .col(string_len(Uploads::Id, 64).primary_key())
                .col(big_integer(Uploads::FindingId))
                .col(string_len(Uploads::Purpose, 16))
                .col(string_len(Uploads::Filename, 255))
                .col(big_integer(Uploads::TotalBytes))
                .col(big_integer(Uploads::ReceivedBytes))
                .col(blob(Uploads::Head))
                .col(string_len_null(Uploads::Mime, 100))
                .col(string_len_null(Uploads::Kind, 16))
                .col(blob(Uploads::DigestState))
                .col(big_integer(Uploads::CreatedBy))
                .col(timestamp_with_time_zone(Uploads::CreatedAt))
                .col(timestamp_with_time_zone(Uploads::UpdatedAt))
                .col(big_integer_null(Uploads::EvidenceId))
                .foreign_key(&mut fk(Uploads::Table, Uploads::FindingId, Findings::Table, Findings::Id))
                .foreign_key(&mut fk(Uploads::Table, Uploads::CreatedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(Uploads::Table, Uploads::EvidenceId, Evidence::Table, Evidence::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UploadParts::Table)
                .col(big_pk_auto(UploadParts::Id))
                .col(string_len(UploadParts::UploadId, 64))
                .col(big_integer(UploadParts::StartByte))
                .col(big_integer(UploadParts::Bytes))
                .col(string_len(UploadParts::ObjectKey, 255))
                .foreign_key(&mut fk(UploadParts::Table, UploadParts::UploadId, Uploads::Table, Uploads::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_upload_parts_upload")
                .table(UploadParts::Table)
                .col(UploadParts::UploadId)
                .col(UploadParts::StartByte)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
