//! Service commitments: each department's service items with their promised and legal limits,
//! the keys of the systems (and later the rating devices) that connect to Xiaoneng, and the
//! service cases they push, with the card each holds and the day its next card falls due. The
//! ledger learns the cases' event kinds.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000016_service_cases"
    }
}

#[derive(DeriveIden)]
enum ServiceItems {
    Table,
    Id,
    DepartmentId,
    Code,
    Name,
    PromisedDays,
    LegalDays,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    Kind,
    Name,
    KeyPrefix,
    KeyHash,
    DepartmentId,
    WindowId,
    Status,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum ServiceCases {
    Table,
    Id,
    Number,
    ItemId,
    DepartmentId,
    WindowId,
    PersonId,
    ApplicantType,
    AcceptedAt,
    Stage,
    StageAt,
    CompletedAt,
    PromisedDays,
    Deadline,
    OnTime,
    Card,
    NextCardOn,
    SystemId,
    Version,
    CreatedAt,
    UpdatedAt,
}

fn fk<T: IntoIden + 'static>(table: T, col: T, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

/// The ledger's kinds and aggregates from here on (frozen: a later change is a later migration).
pub(super) const EVENT_KINDS: &[&str] = &[
    "plan.activated",
    "plan.closed",
    "visit.done",
    "visit.cancelled",
    "visit.reopened",
    "finding.recorded",
    "finding.confirmed",
    "finding.withdrawn",
    "finding.notified",
    "finding.appealed",
    "finding.upheld",
    "finding.overturned",
    "evidence.filed",
    "bulletin.published",
    "bulletin.corrected",
    "bulletin.withdrawn",
    "order.issued",
    "order.reminded",
    "order.overdue",
    "order.deadline_changed",
    "report.submitted",
    "report.returned",
    "report.accepted",
    "instruction.written",
    "follow_up.required",
    "follow_up.done",
    "campaign.opened",
    "campaign.closed",
    "self_check.submitted",
    "case.accepted",
    "case.completed",
    "case.reopened",
    "case.yellow_card",
    "case.red_card",
];
pub(super) const AGGREGATES: &[&str] =
    &["plan", "visit", "finding", "evidence", "bulletin", "order", "instruction", "campaign", "participation", "case"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ServiceItems as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(big_pk_auto(I::Id))
                .col(big_integer(I::DepartmentId))
                .col(string_len_uniq(I::Code, 64))
                .col(string_len(I::Name, 100))
                .col(integer(I::PromisedDays).check(Expr::col(I::PromisedDays).between(0, 250)))
                .col(integer(I::LegalDays).check(Expr::col(I::LegalDays).between(0, 250)))
                .col(string_len(I::Status, 20).check(Expr::col(I::Status).is_in(["active", "retired"])))
                .col(timestamp_with_time_zone(I::CreatedAt))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .check(Expr::col(I::PromisedDays).lte(Expr::col(I::LegalDays)))
                .foreign_key(&mut fk(I::Table, I::DepartmentId, "departments"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_service_items_department").table(I::Table).col(I::DepartmentId).to_owned(),
        )
        .await?;

        use ApiClients as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(big_pk_auto(K::Id))
                .col(string_len(K::Kind, 20).check(Expr::col(K::Kind).is_in(["system", "device"])))
                .col(string_len(K::Name, 100))
                .col(string_len_uniq(K::KeyPrefix, 16))
                .col(string_len(K::KeyHash, 64))
                .col(big_integer_null(K::DepartmentId))
                .col(big_integer_null(K::WindowId))
                .col(string_len(K::Status, 20).check(Expr::col(K::Status).is_in(["active", "revoked"])))
                .col(big_integer(K::CreatedBy))
                .col(timestamp_with_time_zone(K::CreatedAt))
                .col(timestamp_with_time_zone_null(K::RevokedAt))
                .col(timestamp_with_time_zone_null(K::LastUsedAt))
                .foreign_key(&mut fk(K::Table, K::DepartmentId, "departments"))
                .foreign_key(&mut fk(K::Table, K::WindowId, "windows"))
                .foreign_key(&mut fk(K::Table, K::CreatedBy, "users"))
                .to_owned(),
        )
        .await?;

        use ServiceCases as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(string_len_uniq(C::Number, 64))
                .col(big_integer(C::ItemId))
                .col(big_integer(C::DepartmentId))
                .col(big_integer_null(C::WindowId))
                .col(big_integer_null(C::PersonId))
                .col(
                    string_len(C::ApplicantType, 20).check(Expr::col(C::ApplicantType).is_in(["person", "enterprise"])),
                )
                .col(timestamp_with_time_zone(C::AcceptedAt))
                .col(string_len(C::Stage, 50))
                .col(timestamp_with_time_zone_null(C::StageAt))
                .col(timestamp_with_time_zone_null(C::CompletedAt))
                .col(integer(C::PromisedDays))
                .col(date(C::Deadline))
                .col(boolean_null(C::OnTime))
                .col(
                    string_len_null(C::Card, 10)
                        .check(Expr::col(C::Card).is_null().or(Expr::col(C::Card).is_in(["yellow", "red"]))),
                )
                .col(date_null(C::NextCardOn))
                .col(big_integer_null(C::SystemId))
                .col(integer(C::Version))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .foreign_key(&mut fk(C::Table, C::ItemId, "service_items"))
                .foreign_key(&mut fk(C::Table, C::DepartmentId, "departments"))
                .foreign_key(&mut fk(C::Table, C::WindowId, "windows"))
                .foreign_key(&mut fk(C::Table, C::PersonId, "people"))
                .foreign_key(&mut fk(C::Table, C::SystemId, "api_clients"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_service_cases_department", vec![C::DepartmentId, C::AcceptedAt]),
            ("idx_service_cases_window", vec![C::WindowId, C::AcceptedAt]),
            ("idx_service_cases_person", vec![C::PersonId, C::AcceptedAt]),
            ("idx_service_cases_item", vec![C::ItemId]),
            ("idx_service_cases_next_card", vec![C::NextCardOn]),
        ] {
            let mut i = Index::create();
            i.name(name).table(C::Table);
            for c in cols {
                i.col(c);
            }
            m.create_index(i.to_owned()).await?;
        }

        // The ledger's checks widened to the cases' kinds.
        super::widen_ledger_checks(m, EVENT_KINDS, AGGREGATES).await
    }
}
