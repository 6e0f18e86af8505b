//! The regime's event ledger (`domain_events`), append-only in the database itself; every state
//! and code column checked against its values; and the deadline each report was submitted
//! against, which a later return must not be able to change.
//!
//! PostgreSQL checks columns with CHECK constraints. SQLite cannot add a constraint to a table
//! that exists, so there triggers refuse the same values (decision 0017).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000006_ledger"
    }
}

#[derive(DeriveIden)]
enum DomainEvents {
    Table,
    Seq,
    Kind,
    Aggregate,
    AggregateId,
    DepartmentId,
    WindowId,
    PersonId,
    PostId,
    OccurredAt,
    RecordedAt,
    ActorUserId,
    OfficeOnly,
    Payload,
    PayloadVersion,
    AuditSeq,
}

fn fk(col: DomainEvents, table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(DomainEvents::Table, col)
        .to(Alias::new(table), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

/// (table, column, nullable, the values it may hold). Frozen here: a later change of values is a
/// later migration.
const CHECKED: &[(&str, &str, bool, &[&str])] = &[
    ("departments", "status", false, &["active", "retired"]),
    ("departments", "category", false, &["law_enforcement", "economic_service", "window_service", "general"]),
    ("windows", "status", false, &["active", "retired"]),
    ("posts", "status", false, &["active", "retired"]),
    (
        "posts",
        "post_type",
        false,
        &["leadership", "middle_manager", "window_staff", "law_enforcement_officer", "general_staff"],
    ),
    ("people", "status", false, &["active", "retired"]),
    ("people", "gender", false, &["male", "female"]),
    ("supervisors", "status", false, &["active", "retired"]),
    ("supervisors", "kind", false, &["efficiency_supervisor", "npc_deputy", "cppcc_member", "enterprise_rep"]),
    ("users", "status", false, &["active", "disabled"]),
    ("finding_categories", "status", false, &["active", "retired"]),
    ("finding_categories", "default_severity", false, &["minor", "general", "serious"]),
    ("inspection_plans", "status", false, &["planned", "active", "closed"]),
    ("visits", "status", false, &["scheduled", "done", "cancelled"]),
    ("findings", "state", false, &["draft", "withdrawn", "confirmed", "notified", "appealed", "upheld", "overturned"]),
    ("findings", "severity", false, &["minor", "general", "serious"]),
    ("evidence", "purpose", false, &["evidence", "appeal"]),
    ("evidence", "kind", false, &["video", "photo", "audio", "document"]),
    ("uploads", "purpose", false, &["evidence", "appeal"]),
    ("bulletins", "status", false, &["draft", "published", "withdrawn"]),
    ("bulletins", "scope", false, &["internal", "public", "media"]),
    ("rectification_orders", "status", false, &["open", "submitted", "returned", "accepted"]),
    ("rectification_reports", "status", false, &["draft", "submitted", "returned", "accepted"]),
    ("instructions", "target_kind", false, &["bulletin", "report"]),
    ("instructions", "follow_up_status", true, &["open", "done"]),
    ("campaigns", "status", false, &["draft", "open", "closed"]),
    ("campaign_participants", "kind", false, &["department", "leadership", "person"]),
    ("campaign_participants", "status", false, &["pending", "submitted"]),
    (
        "domain_events",
        "kind",
        false,
        &[
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
        ],
    ),
    (
        "domain_events",
        "aggregate",
        false,
        &["plan", "visit", "finding", "evidence", "bulletin", "order", "instruction", "campaign", "participation"],
    ),
];

fn in_list(values: &[&str]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DomainEvents::Table)
                .col(big_pk_auto(DomainEvents::Seq))
                .col(string_len(DomainEvents::Kind, 40))
                .col(string_len(DomainEvents::Aggregate, 20))
                .col(big_integer(DomainEvents::AggregateId))
                .col(big_integer_null(DomainEvents::DepartmentId))
                .col(big_integer_null(DomainEvents::WindowId))
                .col(big_integer_null(DomainEvents::PersonId))
                .col(big_integer_null(DomainEvents::PostId))
                .col(timestamp_with_time_zone(DomainEvents::OccurredAt))
                .col(timestamp_with_time_zone(DomainEvents::RecordedAt))
                .col(big_integer_null(DomainEvents::ActorUserId))
                .col(boolean(DomainEvents::OfficeOnly))
                .col(text(DomainEvents::Payload))
                .col(integer(DomainEvents::PayloadVersion))
                .col(big_integer_null(DomainEvents::AuditSeq))
                .foreign_key(&mut fk(DomainEvents::DepartmentId, "departments"))
                .foreign_key(&mut fk(DomainEvents::WindowId, "windows"))
                .foreign_key(&mut fk(DomainEvents::PersonId, "people"))
                .foreign_key(&mut fk(DomainEvents::PostId, "posts"))
                .foreign_key(&mut fk(DomainEvents::ActorUserId, "users"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_domain_events_aggregate", &["aggregate", "aggregate_id", "seq"][..]),
            ("idx_domain_events_kind", &["kind", "occurred_at"]),
            ("idx_domain_events_department", &["department_id", "occurred_at"]),
            ("idx_domain_events_occurred", &["occurred_at"]),
        ] {
            let mut i = Index::create();
            i.name(name).table(DomainEvents::Table);
            for c in cols {
                i.col(Alias::new(*c));
            }
            m.create_index(i.to_owned()).await?;
        }

        // The deadline in force when a report was submitted: late or on time is judged against
        // it, for good.
        m.alter_table(
            Table::alter()
                .table(Alias::new("rectification_reports"))
                .add_column(date_null(Alias::new("due")))
                .to_owned(),
        )
        .await?;

        let db = m.get_connection();
        let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
        for (table, col, nullable, values) in CHECKED {
            let values = in_list(values);
            let allowed = |c: &str| {
                if *nullable { format!("{c} IS NULL OR {c} IN ({values})") } else { format!("{c} IN ({values})") }
            };
            if pg {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD CONSTRAINT ck_{table}_{col} CHECK ({})",
                    allowed(col)
                ))
                .await?;
            } else {
                for (when, on) in [("INSERT", "INSERT"), ("UPDATE", &format!("UPDATE OF {col}") as &str)] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER ck_{table}_{col}_{w} BEFORE {on} ON {table} FOR EACH ROW WHEN NOT ({})
                         BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {table}.{col}'); END",
                        allowed(&format!("NEW.{col}")),
                        w = when.to_lowercase(),
                    ))
                    .await?;
                }
            }
        }

        // Append-only: no statement of the application (or anyone's) may change or remove an event.
        if pg {
            db.execute_unprepared(
                "CREATE FUNCTION domain_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'domain_events is append-only'; END $$",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER domain_events_append_only BEFORE UPDATE OR DELETE ON domain_events
                 FOR EACH ROW EXECUTE FUNCTION domain_events_append_only()",
            )
            .await?;
        } else {
            for op in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER domain_events_no_{} BEFORE {op} ON domain_events
                     BEGIN SELECT RAISE(ABORT, 'domain_events is append-only'); END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
        Ok(())
    }
}
