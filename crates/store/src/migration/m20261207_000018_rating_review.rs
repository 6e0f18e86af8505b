//! Keeping ballot-stuffing out: a rating may now be rejected, and held for a burst from one phone
//! or device, for being one of many given seconds after completion, or because its window stands
//! out from its peers. A rating keeps a keyed hash of the address it came from (for the rate
//! limit, never the address itself), whether it was quick, the outlier figures it was held on,
//! and the office's review. The ledger learns `rating.held`, `rating.released` and
//! `rating.rejected`.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261207_000016_service_cases::{AGGREGATES, EVENT_KINDS};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_rating_review"
    }
}

#[derive(DeriveIden)]
enum Ratings {
    Table,
    AddressKey,
    Quick,
    HoldDetail,
    ReviewedBy,
    ReviewedAt,
    ReviewReason,
    PhoneIndex,
    DeviceId,
    GivenAt,
}

/// The ratings' event kinds from here on.
pub(super) const RATING_KINDS: &[&str] =
    &["rating.given", "rating.held", "rating.released", "rating.rejected", "rating.overturned"];

const STATUSES: (&str, &str) = ("'counted', 'held'", "'counted', 'held', 'rejected', 'overturned'");
const HOLD_REASONS: (&str, &str) =
    ("'no_case'", "'no_case', 'phone_burst', 'device_burst', 'quick_bulk', 'window_outlier'");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            // The checks 000017 declared with its columns, under PostgreSQL's names for them.
            for (col, (_, wide)) in [("status", STATUSES), ("hold_reason", HOLD_REASONS)] {
                let null = if col == "hold_reason" { format!("{col} IS NULL OR ") } else { String::new() };
                db.execute_unprepared(&format!(
                    "ALTER TABLE ratings DROP CONSTRAINT ratings_{col}_check;
                     ALTER TABLE ratings ADD CONSTRAINT ratings_{col}_check CHECK ({null}{col} IN ({wide}))"
                ))
                .await?;
            }
        } else {
            // SQLite cannot alter a check: the table is made again with the wider lists, as its
            // documentation describes (nothing refers to ratings yet).
            sqlite_widen_checks(db, "ratings", &[STATUSES, HOLD_REASONS]).await?;
        }

        use Ratings as R;
        for col in [
            string_len_null(R::AddressKey, 64),
            boolean(R::Quick).default(false).to_owned(),
            text_null(R::HoldDetail),
            big_integer_null(R::ReviewedBy),
            timestamp_with_time_zone_null(R::ReviewedAt),
            text_null(R::ReviewReason),
        ] {
            m.alter_table(Table::alter().table(R::Table).add_column(col).to_owned()).await?;
        }
        // What the guards count: the ratings of one address, phone or device in a recent window.
        for (name, col) in [
            ("idx_ratings_address", R::AddressKey),
            ("idx_ratings_phone", R::PhoneIndex),
            ("idx_ratings_device", R::DeviceId),
        ] {
            m.create_index(Index::create().name(name).table(R::Table).col(col).col(R::GivenAt).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("idx_ratings_phone_index").table(R::Table).to_owned()).await?;

        let kinds: Vec<&str> = EVENT_KINDS.iter().chain(RATING_KINDS).copied().collect();
        let aggregates: Vec<&str> = AGGREGATES.iter().copied().chain(["rating"]).collect();
        super::widen_ledger_checks(m, &kinds, &aggregates).await
    }
}

/// Makes `table` again with each `(narrow, wide)` list of its checks widened: the new table from
/// the old one's own statement, the rows copied, the old dropped, the new renamed, its indexes
/// made again. Fails if a list is not found, rather than leave a check as it was.
async fn sqlite_widen_checks<C: ConnectionTrait>(db: &C, table: &str, lists: &[(&str, &str)]) -> Result<(), DbErr> {
    let q = |sql: &str| Statement::from_sql_and_values(DbBackend::Sqlite, sql, [table.into()]);
    let create: String = db
        .query_one_raw(q("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no table {table}")))?
        .try_get("", "sql")?;
    let mut indexes = Vec::new();
    for r in db
        .query_all_raw(q("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"))
        .await?
    {
        indexes.push(r.try_get::<String>("", "sql")?);
    }
    let rebuilt = format!("{table}_rebuilt");
    let mut sql = create.replacen(&format!("\"{table}\""), &format!("\"{rebuilt}\""), 1);
    for (narrow, wide) in lists {
        let (from, to) = (format!("IN ({narrow})"), format!("IN ({wide})"));
        if !sql.contains(&from) {
            return Err(DbErr::Custom(format!("{table}: no check IN ({narrow}) to widen")));
        }
        sql = sql.replacen(&from, &to, 1);
    }
    db.execute_unprepared(&sql).await?;
    db.execute_unprepared(&format!("INSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\"")).await?;
    db.execute_unprepared(&format!("DROP TABLE \"{table}\"")).await?;
    db.execute_unprepared(&format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\"")).await?;
    for i in indexes {
        db.execute_unprepared(&i).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};
    use sea_orm_migration::MigratorTrait;

    /// A rating stored before the checks were widened is there after, and the wider checks hold.
    #[tokio::test]
    async fn sqlite_keeps_the_ratings_and_widens_their_checks() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
        let db = Database::connect(ConnectOptions::new(url).max_connections(1).to_owned()).await.unwrap();
        use sea_orm_migration::MigrationName;
        let this = crate::Migrator::migrations().iter().position(|m| m.name() == super::Migration.name()).unwrap();
        let before = u32::try_from(this).unwrap();
        crate::Migrator::up(&db, Some(before)).await.unwrap();
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.unwrap();
        db.execute_unprepared(
            "INSERT INTO ratings (channel, level, reasons, reasons_version, comment, department_id, status, hold_reason, given_at)
             VALUES ('qr', 'satisfied', '[]', 1, '好', 1, 'held', 'no_case', '2026-12-07T00:00:00Z')",
        )
        .await
        .unwrap();
        crate::Migrator::up(&db, None).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT comment, quick, hold_reason FROM ratings".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<String>("", "comment").unwrap(), "好");
        assert!(!row.try_get::<bool>("", "quick").unwrap());
        db.execute_unprepared("UPDATE ratings SET status = 'rejected', hold_reason = 'window_outlier'").await.unwrap();
        assert!(db.execute_unprepared("UPDATE ratings SET status = 'lost'").await.is_err());
        assert!(db.execute_unprepared("UPDATE ratings SET hold_reason = 'whim'").await.is_err());
        let indexes = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ratings'".to_owned(),
            ))
            .await
            .unwrap();
        let names: Vec<String> = indexes.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
        for want in ["ux_ratings_case_channel", "idx_ratings_window", "idx_ratings_address"] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
    }
}
