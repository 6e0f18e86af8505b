//! One forward-only migration set for SQLite and PostgreSQL. Never edit a migration that has
//! landed: add a new one.

use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_inspections;
mod m20261129_000003_evidence;
mod m20261129_000004_calendar;
mod m20261129_000005_rectification;
mod m20261203_000006_ledger;
mod m20261203_000007_backfill_ledger;
mod m20261205_000008_identity_epoch;
mod m20261206_000009_password_resets;
mod m20261206_000010_login_limits;
mod m20261206_000011_idempotency_keys;
mod m20261206_000012_evidence_hardening;
mod m20261206_000013_supervisor_epoch;
mod m20261206_000014_second_factor;
mod m20261206_000015_personal_data_encryption;
mod m20261207_000016_service_cases;
mod m20261207_000017_ratings;
mod m20261207_000018_rating_review;
mod m20261207_000019_tickets;
mod m20261207_000020_published_rankings;
mod m20261207_000021_inquiries;
mod m20261207_000022_rating_partial_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_inspections::Migration),
            Box::new(m20261129_000003_evidence::Migration),
            Box::new(m20261129_000004_calendar::Migration),
            Box::new(m20261129_000005_rectification::Migration),
            Box::new(m20261203_000006_ledger::Migration),
            Box::new(m20261203_000007_backfill_ledger::Migration),
            Box::new(m20261205_000008_identity_epoch::Migration),
            Box::new(m20261206_000009_password_resets::Migration),
            Box::new(m20261206_000010_login_limits::Migration),
            Box::new(m20261206_000011_idempotency_keys::Migration),
            Box::new(m20261206_000012_evidence_hardening::Migration),
            Box::new(m20261206_000013_supervisor_epoch::Migration),
            Box::new(m20261206_000014_second_factor::Migration),
            Box::new(m20261206_000015_personal_data_encryption::Migration),
            Box::new(m20261207_000016_service_cases::Migration),
            Box::new(m20261207_000017_ratings::Migration),
            Box::new(m20261207_000018_rating_review::Migration),
            Box::new(m20261207_000019_tickets::Migration),
            Box::new(m20261207_000020_published_rankings::Migration),
            Box::new(m20261207_000021_inquiries::Migration),
            Box::new(m20261207_000022_rating_partial_indexes::Migration),
        ]
    }
}

/// Sets the ledger's checks of `kind` and `aggregate` to these lists: a CHECK constraint on
/// PostgreSQL, insert and update triggers on SQLite (as `m20261203_000006_ledger` made them). A
/// migration that adds event kinds passes its own lists, frozen in it.
async fn widen_ledger_checks(m: &SchemaManager<'_>, kinds: &[&str], aggregates: &[&str]) -> Result<(), DbErr> {
    let db = m.get_connection();
    let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
    for (col, values) in [("kind", kinds), ("aggregate", aggregates)] {
        let list = values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ");
        if pg {
            db.execute_unprepared(&format!(
                "ALTER TABLE domain_events DROP CONSTRAINT ck_domain_events_{col};
                 ALTER TABLE domain_events ADD CONSTRAINT ck_domain_events_{col} CHECK ({col} IN ({list}))"
            ))
            .await?;
        } else {
            for (when, on) in [("insert", "INSERT".to_owned()), ("update", format!("UPDATE OF {col}"))] {
                db.execute_unprepared(&format!("DROP TRIGGER ck_domain_events_{col}_{when}")).await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER ck_domain_events_{col}_{when} BEFORE {on} ON domain_events FOR EACH ROW
                     WHEN NOT (NEW.{col} IN ({list}))
                     BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: domain_events.{col}'); END"
                ))
                .await?;
            }
        }
    }
    Ok(())
}
