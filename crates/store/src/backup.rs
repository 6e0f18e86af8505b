//! Consistent backups of the database while the server runs, and what a restore needs of it.
//!
//! SQLite's `VACUUM INTO` copies a snapshot of the database through the engine (so it sees only
//! committed transactions, with WAL readers undisturbed) into a new, compact file. On PostgreSQL
//! the `xiaoneng` binary runs `pg_dump`, which reads one snapshot too; what it needs from the
//! database itself (which schema holds Xiaoneng's tables, whether it is empty, setting the current
//! one aside before a restore and putting it back if the restore fails) is here.

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};

use crate::{Result, Store, StoreError};

fn custom(msg: String) -> StoreError {
    StoreError::Db(DbErr::Custom(msg))
}

/// A PostgreSQL identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        if self.backend() != DbBackend::Sqlite {
            return Err(custom("VACUUM INTO is for SQLite; `xiaoneng backup` runs pg_dump on PostgreSQL".into()));
        }
        if to.exists() {
            return Err(custom(format!("{} exists already; choose a new file", to.display())));
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

    /// PostgreSQL: the schema Xiaoneng's tables live in (or would be created in): the first of the
    /// connection's `search_path` that exists, normally `public`.
    pub async fn pg_schema(&self) -> Result<String> {
        if self.backend() != DbBackend::Postgres {
            return Err(custom("schemas are PostgreSQL's".into()));
        }
        let row = self
            .db()
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT current_schema() AS s"))
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_get::<Option<String>>("", "s")?
            .ok_or_else(|| custom("no schema of the search_path exists: create one (normally public)".into()))
    }

    /// PostgreSQL: how many tables, views and sequences `schema` holds (0: a restore may go there).
    pub async fn pg_relations_in(&self, schema: &str) -> Result<i64> {
        let row = self
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
                [Value::from(schema)],
            ))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get::<i64>("", "n")?)
    }

    /// PostgreSQL: renames `schema` to `kept` and creates an empty `schema` in its place, in one
    /// transaction, so that a restore replaces nothing: the old tables stay, under the new name.
    pub async fn pg_set_aside_schema(&self, schema: &str, kept: &str) -> Result<()> {
        let tx = self.write().await?;
        tx.execute_unprepared(&format!("ALTER SCHEMA {} RENAME TO {}", ident(schema), ident(kept))).await?;
        tx.execute_unprepared(&format!("CREATE SCHEMA {}", ident(schema))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL: undoes [`Store::pg_set_aside_schema`] after a failed restore. Dropping `schema`
    /// without CASCADE fails unless it is empty, so this never throws data away.
    pub async fn pg_put_back_schema(&self, schema: &str, kept: &str) -> Result<()> {
        let tx = self.write().await?;
        tx.execute_unprepared(&format!("DROP SCHEMA {}", ident(schema))).await?;
        tx.execute_unprepared(&format!("ALTER SCHEMA {} RENAME TO {}", ident(kept), ident(schema))).await?;
        tx.commit().await?;
        Ok(())
    }
}
