//! Consistent backups of the embedded database while the server runs.
//!
//! SQLite's `VACUUM INTO` copies a snapshot of the database through the engine (so it sees only
//! committed transactions, with WAL readers undisturbed) into a new, compact file. PostgreSQL
//! deployments use `pg_dump`, which does the same for them.

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement};

use crate::{Result, Store, StoreError};

impl Store {
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        if self.backend() != DbBackend::Sqlite {
            return Err(StoreError::Db(DbErr::Custom(
                "backup is for the embedded SQLite database; use pg_dump for PostgreSQL".into(),
            )));
        }
        if to.exists() {
            return Err(StoreError::Db(DbErr::Custom(format!("{} exists already; choose a new file", to.display()))));
        }
        let target = to.to_string_lossy().replace('\'', "''");
        self.db().execute_unprepared(&format!("VACUUM INTO '{target}'")).await?;
        Ok(())
    }

    /// `PRAGMA integrity_check` and `foreign_key_check` on SQLite: `Ok(vec![])` when sound.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        #[derive(FromQueryResult)]
        struct Line {
            integrity_check: String,
        }
        if self.backend() != DbBackend::Sqlite {
            return Ok(vec![]);
        }
        let lines = Line::find_by_statement(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
            .all(self.db())
            .await?;
        let mut problems: Vec<String> = lines.into_iter().map(|l| l.integrity_check).filter(|l| l != "ok").collect();
        let fk = self.db().query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA foreign_key_check")).await?;
        if !fk.is_empty() {
            problems.push(format!("{} rows break foreign keys", fk.len()));
        }
        Ok(problems)
    }
}
