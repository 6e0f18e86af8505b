//! The public's ratings: the office's versioned reason sets, the ratings themselves (one per case
//! per channel; the rater's phone sealed, with a blind index, never in clear), a rating code on
//! every case for its receipt's QR code, and the counter devices' heartbeat. The ledger learns
//! `rating.given`.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261207_000016_service_cases::{AGGREGATES, EVENT_KINDS};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000017_ratings"
    }
}

#[derive(DeriveIden)]
enum RatingReasonSets {
    Table,
    Version,
    Reasons,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Ratings {
    Table,
    Id,
    Channel,
    Level,
    Reasons,
    ReasonsVersion,
    Comment,
    PhoneSealed,
    PhoneIndex,
    CaseId,
    DepartmentId,
    WindowId,
    PersonId,
    ItemId,
    DeviceId,
    Status,
    HoldReason,
    GivenAt,
}

#[derive(DeriveIden)]
enum ServiceCases {
    Table,
    RatingCode,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    DeviceStatus,
    DeviceFirmware,
    HeartbeatAt,
}

fn fk<T: IntoIden + 'static>(table: T, col: T, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use RatingReasonSets as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(integer(S::Version).primary_key())
                .col(text(S::Reasons))
                .col(big_integer(S::CreatedBy))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .foreign_key(&mut fk(S::Table, S::CreatedBy, "users"))
                .to_owned(),
        )
        .await?;

        use Ratings as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(big_pk_auto(R::Id))
                .col(string_len(R::Channel, 20).check(Expr::col(R::Channel).is_in(["qr", "device", "web"])))
                .col(string_len(R::Level, 20).check(Expr::col(R::Level).is_in([
                    "very_satisfied",
                    "satisfied",
                    "basic",
                    "dissatisfied",
                    "very_dissatisfied",
                ])))
                .col(text(R::Reasons))
                .col(integer(R::ReasonsVersion))
                .col(text(R::Comment))
                .col(text_null(R::PhoneSealed))
                .col(string_len_null(R::PhoneIndex, 64))
                .col(big_integer_null(R::CaseId))
                .col(big_integer(R::DepartmentId))
                .col(big_integer_null(R::WindowId))
                .col(big_integer_null(R::PersonId))
                .col(big_integer_null(R::ItemId))
                .col(big_integer_null(R::DeviceId))
                .col(string_len(R::Status, 20).check(Expr::col(R::Status).is_in(["counted", "held"])))
                .col(
                    string_len_null(R::HoldReason, 20)
                        .check(Expr::col(R::HoldReason).is_null().or(Expr::col(R::HoldReason).is_in(["no_case"]))),
                )
                .col(timestamp_with_time_zone(R::GivenAt))
                .foreign_key(&mut fk(R::Table, R::CaseId, "service_cases"))
                .foreign_key(&mut fk(R::Table, R::DepartmentId, "departments"))
                .foreign_key(&mut fk(R::Table, R::WindowId, "windows"))
                .foreign_key(&mut fk(R::Table, R::PersonId, "people"))
                .foreign_key(&mut fk(R::Table, R::ItemId, "service_items"))
                .foreign_key(&mut fk(R::Table, R::DeviceId, "api_clients"))
                .to_owned(),
        )
        .await?;
        // One rating per case per channel (a rating that names no case is not limited here).
        m.create_index(
            Index::create()
                .name("ux_ratings_case_channel")
                .table(R::Table)
                .col(R::CaseId)
                .col(R::Channel)
                .unique()
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_ratings_department", vec![R::DepartmentId, R::GivenAt]),
            ("idx_ratings_window", vec![R::WindowId, R::GivenAt]),
            ("idx_ratings_person", vec![R::PersonId, R::GivenAt]),
            ("idx_ratings_status", vec![R::Status, R::GivenAt]),
            ("idx_ratings_phone_index", vec![R::PhoneIndex]),
        ] {
            let mut i = Index::create();
            i.name(name).table(R::Table);
            for c in cols {
                i.col(c);
            }
            m.create_index(i.to_owned()).await?;
        }

        // Every case gets a code for its receipt's QR code: 16 random hex digits, not its id, so
        // that nobody rates a case they were not served in.
        m.alter_table(
            Table::alter()
                .table(ServiceCases::Table)
                .add_column(string_len_null(ServiceCases::RatingCode, 16))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
        let random = if pg {
            "substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 16)"
        } else {
            "lower(hex(randomblob(8)))"
        };
        db.execute_unprepared(&format!("UPDATE service_cases SET rating_code = {random}")).await?;
        m.create_index(
            Index::create()
                .name("ux_service_cases_rating_code")
                .table(ServiceCases::Table)
                .col(ServiceCases::RatingCode)
                .unique()
                .to_owned(),
        )
        .await?;

        for col in [
            string_len_null(ApiClients::DeviceStatus, 20)
                .check(
                    Expr::col(ApiClients::DeviceStatus)
                        .is_null()
                        .or(Expr::col(ApiClients::DeviceStatus).is_in(["ok", "fault"])),
                )
                .to_owned(),
            string_len_null(ApiClients::DeviceFirmware, 60),
            timestamp_with_time_zone_null(ApiClients::HeartbeatAt),
        ] {
            m.alter_table(Table::alter().table(ApiClients::Table).add_column(col).to_owned()).await?;
        }

        // The ledger's checks widened to the ratings' kind.
        let kinds: Vec<&str> = EVENT_KINDS.iter().copied().chain(["rating.given"]).collect();
        let aggregates: Vec<&str> = AGGREGATES.iter().copied().chain(["rating"]).collect();
        super::widen_ledger_checks(m, &kinds, &aggregates).await
    }
}
