//! Tickets for bad ratings and the public's complaints: the responsible department, the stage and
//! its deadline, what was verified, rectified and heard back, the appeal and the office's
//! decision; a complainant's phone sealed like a rater's. The ledger learns the `ticket.*` kinds.

use sea_orm_migration::{prelude::*, schema::*};

use super::{
    m20261207_000016_service_cases::{AGGREGATES, EVENT_KINDS},
    m20261207_000018_rating_review::RATING_KINDS,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000019_tickets"
    }
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    Source,
    RatingId,
    About,
    DepartmentId,
    WindowId,
    PersonId,
    CaseId,
    Content,
    PhoneSealed,
    PhoneIndex,
    State,
    Due,
    Reopened,
    Appealed,
    AppealedFrom,
    RemindedDue,
    OverdueDue,
    Verification,
    Rectification,
    CallbackSatisfied,
    CallbackNote,
    AppealReason,
    DecisionReason,
    OpenedAt,
    ClosedAt,
    UpdatedAt,
    Version,
}

pub(super) const TICKET_KINDS: &[&str] = &[
    "ticket.opened",
    "ticket.verified",
    "ticket.rectified",
    "ticket.called_back",
    "ticket.reopened",
    "ticket.appealed",
    "ticket.overturned",
    "ticket.upheld",
    "ticket.reminded",
    "ticket.overdue",
];

const STATES: [&str; 6] = ["verifying", "rectifying", "calling_back", "appealed", "closed", "overturned"];

fn fk(col: Tickets, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Tickets::Table, col)
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Tickets as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(big_pk_auto(T::Id))
                .col(string_len(T::Source, 20).check(Expr::col(T::Source).is_in(["bad_rating", "complaint"])))
                .col(big_integer_null(T::RatingId).unique_key())
                .col(string_len_null(T::About, 20).check(
                    Expr::col(T::About).is_null().or(Expr::col(T::About).is_in([
                        "window",
                        "person",
                        "case",
                        "department",
                    ])),
                ))
                .col(big_integer(T::DepartmentId))
                .col(big_integer_null(T::WindowId))
                .col(big_integer_null(T::PersonId))
                .col(big_integer_null(T::CaseId))
                .col(text(T::Content))
                .col(text_null(T::PhoneSealed))
                .col(string_len_null(T::PhoneIndex, 64))
                .col(string_len(T::State, 20).check(Expr::col(T::State).is_in(STATES)))
                .col(date_null(T::Due))
                .col(boolean(T::Reopened).default(false))
                .col(boolean(T::Appealed).default(false))
                .col(
                    string_len_null(T::AppealedFrom, 20)
                        .check(Expr::col(T::AppealedFrom).is_null().or(Expr::col(T::AppealedFrom).is_in(STATES))),
                )
                .col(date_null(T::RemindedDue))
                .col(date_null(T::OverdueDue))
                .col(text_null(T::Verification))
                .col(text_null(T::Rectification))
                .col(boolean_null(T::CallbackSatisfied))
                .col(text_null(T::CallbackNote))
                .col(text_null(T::AppealReason))
                .col(text_null(T::DecisionReason))
                .col(timestamp_with_time_zone(T::OpenedAt))
                .col(timestamp_with_time_zone_null(T::ClosedAt))
                .col(timestamp_with_time_zone(T::UpdatedAt))
                .col(integer(T::Version).default(0))
                .foreign_key(&mut fk(T::RatingId, "ratings"))
                .foreign_key(&mut fk(T::DepartmentId, "departments"))
                .foreign_key(&mut fk(T::WindowId, "windows"))
                .foreign_key(&mut fk(T::PersonId, "people"))
                .foreign_key(&mut fk(T::CaseId, "service_cases"))
                .to_owned(),
        )
        .await?;
        for (name, a, b) in [
            ("idx_tickets_department", T::DepartmentId, T::OpenedAt),
            ("idx_tickets_state", T::State, T::Due),
            ("idx_tickets_phone", T::PhoneIndex, T::OpenedAt),
        ] {
            m.create_index(Index::create().name(name).table(T::Table).col(a).col(b).to_owned()).await?;
        }
        let kinds: Vec<&str> = EVENT_KINDS.iter().chain(RATING_KINDS).chain(TICKET_KINDS).copied().collect();
        let aggregates: Vec<&str> = AGGREGATES.iter().copied().chain(["rating", "ticket"]).collect();
        super::widen_ledger_checks(m, &kinds, &aggregates).await
    }
}
