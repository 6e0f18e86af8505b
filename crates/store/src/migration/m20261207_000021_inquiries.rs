//! The first-inquiry log (首问负责制): each inquiry with who holds it now and its limits, the
//! departments and people it passed through (what a reader's scope is matched against), and the
//! lapses the office reviews. Complaints keep their sender's address as a blind index, for the
//! rate limit, and where the photo sent with one is kept. Ratings gain the indexes their guards
//! count by at a window. The ledger learns the `inquiry.*` kinds.

use sea_orm_migration::{prelude::*, schema::*};

use super::{
    m20261207_000016_service_cases::{AGGREGATES, EVENT_KINDS},
    m20261207_000018_rating_review::RATING_KINDS,
    m20261207_000019_tickets::TICKET_KINDS,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000021_inquiries"
    }
}

#[derive(DeriveIden)]
enum Inquiries {
    Table,
    Id,
    Channel,
    Asker,
    Content,
    PhoneSealed,
    PhoneIndex,
    FirstPersonId,
    FirstDepartmentId,
    State,
    HolderPersonId,
    HolderDepartmentId,
    HandedByPersonId,
    HandedByDepartmentId,
    HandOvers,
    AcceptDue,
    Due,
    Answer,
    DroppedAt,
    OverdueRaised,
    RecordedBy,
    AskedAt,
    AnsweredAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum InquiryParties {
    Table,
    Id,
    InquiryId,
    DepartmentId,
    PersonId,
}

#[derive(DeriveIden)]
enum InquiryLapses {
    Table,
    Id,
    InquiryId,
    Kind,
    Seq,
    DepartmentId,
    PersonId,
    RaisedAt,
    State,
    FindingId,
    Reason,
    ReviewedBy,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Ratings {
    Table,
    WindowId,
    Quick,
    GivenAt,
    Status,
    HoldReason,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    AddressKey,
    OpenedAt,
    PhotoKey,
    PhotoType,
    PhotoSha256,
}

pub(super) const INQUIRY_KINDS: &[&str] = &[
    "inquiry.recorded",
    "inquiry.handed_over",
    "inquiry.accepted",
    "inquiry.refused",
    "inquiry.answered",
    "inquiry.dropped",
    "inquiry.overdue",
    "inquiry.lapse_upheld",
    "inquiry.lapse_dismissed",
];

fn fk(table: impl IntoIden, col: impl IntoIden, to: &str) -> ForeignKeyCreateStatement {
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
        use Inquiries as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(big_pk_auto(I::Id))
                .col(
                    string_len(I::Channel, 16)
                        .check(Expr::col(I::Channel).is_in(["counter", "phone", "online", "letter"])),
                )
                .col(string_len(I::Asker, 200))
                .col(text(I::Content))
                .col(text_null(I::PhoneSealed))
                .col(string_len_null(I::PhoneIndex, 64))
                .col(big_integer(I::FirstPersonId))
                .col(big_integer(I::FirstDepartmentId))
                .col(string_len(I::State, 16).check(Expr::col(I::State).is_in(["pending", "handling", "answered"])))
                .col(big_integer_null(I::HolderPersonId))
                .col(big_integer(I::HolderDepartmentId))
                .col(big_integer_null(I::HandedByPersonId))
                .col(big_integer_null(I::HandedByDepartmentId))
                .col(integer(I::HandOvers).default(0))
                .col(date_null(I::AcceptDue))
                .col(date(I::Due))
                .col(text_null(I::Answer))
                .col(integer_null(I::DroppedAt))
                .col(boolean(I::OverdueRaised).default(false))
                .col(big_integer(I::RecordedBy))
                .col(timestamp_with_time_zone(I::AskedAt))
                .col(timestamp_with_time_zone_null(I::AnsweredAt))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .col(integer(I::Version).default(0))
                .foreign_key(&mut fk(I::Table, I::FirstPersonId, "people"))
                .foreign_key(&mut fk(I::Table, I::FirstDepartmentId, "departments"))
                .foreign_key(&mut fk(I::Table, I::HolderPersonId, "people"))
                .foreign_key(&mut fk(I::Table, I::HolderDepartmentId, "departments"))
                .foreign_key(&mut fk(I::Table, I::HandedByPersonId, "people"))
                .foreign_key(&mut fk(I::Table, I::HandedByDepartmentId, "departments"))
                .foreign_key(&mut fk(I::Table, I::RecordedBy, "users"))
                .to_owned(),
        )
        .await?;
        for (name, a, b) in [
            ("idx_inquiries_holder", I::HolderDepartmentId, I::State),
            ("idx_inquiries_first", I::FirstDepartmentId, I::AskedAt),
            ("idx_inquiries_state", I::State, I::Due),
        ] {
            m.create_index(Index::create().name(name).table(I::Table).col(a).col(b).to_owned()).await?;
        }

        use InquiryParties as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(big_integer(P::InquiryId))
                .col(big_integer(P::DepartmentId))
                .col(big_integer_null(P::PersonId))
                .foreign_key(&mut fk(P::Table, P::InquiryId, "inquiries"))
                .foreign_key(&mut fk(P::Table, P::DepartmentId, "departments"))
                .foreign_key(&mut fk(P::Table, P::PersonId, "people"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_inquiry_parties_inquiry", P::InquiryId),
            ("idx_inquiry_parties_department", P::DepartmentId),
            ("idx_inquiry_parties_person", P::PersonId),
        ] {
            m.create_index(Index::create().name(name).table(P::Table).col(col).to_owned()).await?;
        }

        use InquiryLapses as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(big_pk_auto(L::Id))
                .col(big_integer(L::InquiryId))
                .col(string_len(L::Kind, 16).check(Expr::col(L::Kind).is_in(["refused", "dropped", "overdue"])))
                .col(integer(L::Seq))
                .col(big_integer(L::DepartmentId))
                .col(big_integer_null(L::PersonId))
                .col(timestamp_with_time_zone(L::RaisedAt))
                .col(string_len(L::State, 16).check(Expr::col(L::State).is_in(["pending", "finding", "dismissed"])))
                .col(big_integer_null(L::FindingId))
                .col(text_null(L::Reason))
                .col(big_integer_null(L::ReviewedBy))
                .col(timestamp_with_time_zone_null(L::ReviewedAt))
                .foreign_key(&mut fk(L::Table, L::InquiryId, "inquiries"))
                .foreign_key(&mut fk(L::Table, L::DepartmentId, "departments"))
                .foreign_key(&mut fk(L::Table, L::PersonId, "people"))
                .foreign_key(&mut fk(L::Table, L::FindingId, "findings"))
                .foreign_key(&mut fk(L::Table, L::ReviewedBy, "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_inquiry_lapses_once")
                .table(L::Table)
                .col(L::InquiryId)
                .col(L::Kind)
                .col(L::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_inquiry_lapses_state").table(L::Table).col(L::State).col(L::RaisedAt).to_owned(),
        )
        .await?;

        // One column at a time: SQLite alters a table one column per statement.
        for col in [
            string_len_null(Tickets::AddressKey, 64),
            string_len_null(Tickets::PhotoKey, 200),
            string_len_null(Tickets::PhotoType, 64),
            string_len_null(Tickets::PhotoSha256, 64),
        ] {
            m.alter_table(Table::alter().table(Tickets::Table).add_column(col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("idx_tickets_address")
                .table(Tickets::Table)
                .col(Tickets::AddressKey)
                .col(Tickets::OpenedAt)
                .to_owned(),
        )
        .await?;

        // What each rating's guards count at its window: its quick ratings of the last minutes,
        // and whether any is held as an outlier — without reading every rating the window had.
        for (name, cols) in [
            ("idx_ratings_window_quick", vec![Ratings::WindowId, Ratings::Quick, Ratings::GivenAt]),
            ("idx_ratings_window_status", vec![Ratings::WindowId, Ratings::Status, Ratings::HoldReason]),
        ] {
            let mut i = Index::create().name(name).table(Ratings::Table).to_owned();
            for c in cols {
                i.col(c);
            }
            m.create_index(i).await?;
        }

        let kinds: Vec<&str> =
            EVENT_KINDS.iter().chain(RATING_KINDS).chain(TICKET_KINDS).chain(INQUIRY_KINDS).copied().collect();
        let aggregates: Vec<&str> = AGGREGATES.iter().copied().chain(["rating", "ticket", "inquiry"]).collect();
        super::widen_ledger_checks(m, &kinds, &aggregates).await
    }
}
