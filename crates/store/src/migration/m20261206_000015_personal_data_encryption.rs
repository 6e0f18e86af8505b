//! Personal data encrypted at rest (decision 0030): people's and supervisors' mobile numbers move
//! to `mobile_sealed` (an SM4-GCM envelope) with `mobile_index` (an HMAC-SM3 blind index) beside.
//!
//! A migration cannot see the key, which lives outside the database, so the numbers already
//! stored are encrypted by the application right after the migrations run, in the same
//! transaction (`personal::seal_clear_values`), and the clear `mobile` columns emptied. From here
//! on the database refuses a number in them: a trigger on SQLite, a `CHECK` on PostgreSQL
//! (`NOT VALID`: it holds for every row written, and the rows still holding a number are emptied
//! before the transaction commits). An older binary started against this schema cannot write a
//! number in clear.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000015_personal_data_encryption"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
        for table in ["people", "supervisors"] {
            c.execute_unprepared(&format!("ALTER TABLE {table} ADD COLUMN mobile_sealed TEXT")).await?;
            c.execute_unprepared(&format!("ALTER TABLE {table} ADD COLUMN mobile_index VARCHAR(64)")).await?;
            c.execute_unprepared(&format!("CREATE INDEX idx_{table}_mobile_index ON {table} (mobile_index)")).await?;
            if pg {
                c.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {table}_mobile_not_in_clear CHECK (mobile IS NULL) NOT VALID"
                ))
                .await?;
            } else {
                let refuse = format!("SELECT RAISE(ABORT, '{table}.mobile is kept encrypted, in mobile_sealed')");
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_mobile_not_in_clear_insert BEFORE INSERT ON {table} \
                     WHEN NEW.mobile IS NOT NULL BEGIN {refuse}; END"
                ))
                .await?;
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_mobile_not_in_clear_update BEFORE UPDATE OF mobile ON {table} \
                     WHEN NEW.mobile IS NOT NULL BEGIN {refuse}; END"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
