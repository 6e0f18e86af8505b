//! Storage for Xiaoneng on SQLite (embedded default) or PostgreSQL (scale), through one SeaORM
//! code path and one migration set. Every write runs in [`Store::write`]'s transaction, which on
//! SQLite begins IMMEDIATE so that concurrent writers queue instead of failing.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod calendar;
pub mod campaigns;
pub mod entity;
pub mod idempotency;
pub mod inquiries;
pub mod inspections;
pub mod jobs;
pub mod ledger;
pub mod measures;
mod migration;
pub mod org;
pub mod page;
pub mod personal;
pub mod ratings;
pub mod rectification;
pub mod resets;
pub mod second_factor;
pub mod service;
pub mod settings;
pub mod tickets;

use std::{path::Path, time::Duration};

use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    RuntimeErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
pub use xiaoneng_core::audit::HashAlgo;

pub use inspections::evidence;
pub use migration::Migrator;
pub use page::{PageReq, Paged};

pub const SQLITE_FILE: &str = "xiaoneng.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is taken. `field` names it where we know which.
    #[error("{field} already exists")]
    Conflict { field: String },
    /// The change would break a rule (a reference that does not exist, a cycle, a retired parent).
    #[error(transparent)]
    Invalid(#[from] xiaoneng_core::ValidationError),
    /// A change conditional on the state it read found the record moved on: someone else's
    /// change got there first.
    #[error("the record changed meanwhile")]
    StateChanged,
    /// The database is busy past its timeout; the caller may retry.
    #[error("database busy")]
    Busy,
    #[error("database error: {0}")]
    Db(DbErr),
    /// Personal data cannot be sealed or opened: no key, the wrong key, or an altered value.
    #[error("personal data: {0}")]
    Key(String),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return StoreError::Conflict { field: String::new() };
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return StoreError::Invalid(xiaoneng_core::ValidationError::new(
                    "",
                    "reference_not_found",
                    "引用的记录不存在或仍被引用",
                    "A referenced record does not exist or is still referenced",
                ));
            }
            _ => {}
        }
        if is_busy(&e) { StoreError::Busy } else { StoreError::Db(e) }
    }
}

/// SQLite's "database is locked" (5, 517) and PostgreSQL's serialization failure (40001) and
/// deadlock (40P01) are not mapped by SeaORM; they mean "try again", not "broken".
fn is_busy(e: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(s))
    | DbErr::Query(RuntimeErr::SqlxError(s))
    | DbErr::Conn(RuntimeErr::SqlxError(s))) = e
    else {
        return false;
    };
    match s.as_database_error().and_then(|d| d.code()) {
        Some(code) => matches!(code.as_ref(), "5" | "517" | "40001" | "40P01" | "55P03"),
        None => false,
    }
}

/// What [`Store::migrate`] did besides the schema.
#[derive(Debug, Default)]
pub struct Migrated {
    /// The current key was new to the database and is now its key for personal data.
    pub key_registered: Option<String>,
    /// Numbers found in clear and encrypted.
    pub encrypted: u64,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An update conditional on the state it read touched its one row, or the record had moved on.
pub(crate) fn one_row(r: sea_orm::UpdateResult) -> Result<()> {
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
}

#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    audit_algo: HashAlgo,
    vault: std::sync::Arc<personal::Vault>,
}

/// Where the data lives: a directory for the embedded SQLite database, or a PostgreSQL URL.
#[derive(Clone)]
pub enum Location {
    DataDir(std::path::PathBuf),
    Url(String),
}

/// Shown redacted, like [`Location::describe`]: a URL may hold a password.
impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::DataDir(d) => f.debug_tuple("DataDir").field(d).finish(),
            Location::Url(u) => f.debug_tuple("Url").field(&redact_url(u)).finish(),
        }
    }
}

impl Location {
    pub fn describe(&self) -> String {
        match self {
            Location::DataDir(d) => format!("sqlite:{}", d.join(SQLITE_FILE).display()),
            Location::Url(u) => redact_url(u),
        }
    }
}

/// Drops the passwords from a URL before it is shown or logged: the one after the user name, and
/// any in the query string (`?password=…`, which PostgreSQL's drivers accept too).
pub fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s && base[s + 3..at].contains(':') => {
            let creds = &base[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &base[..s + 3], user, &base[at..])
        }
        _ => base.to_owned(),
    };
    let Some(query) = query else { return base };
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        matches!(k.as_str(), "password" | "passwd" | "pwd" | "sslpassword") || k.ends_with("secret")
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if secret(k) => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

impl Store {
    pub async fn open(location: &Location, max_connections: u32) -> Result<Self> {
        let db = match location {
            Location::DataDir(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Db(DbErr::Custom(format!("cannot create {}: {e}", dir.display()))))?;
                Self::sqlite(&dir.join(SQLITE_FILE), max_connections).await?
            }
            Location::Url(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let mut opt = ConnectOptions::new(url.clone());
                // A connection idle a while may have been cut (a restart, a proxy): it is tested
                // before use; one in steady use is not, which spares each request a round trip.
                opt.max_connections(max_connections)
                    .min_connections(1)
                    .connect_timeout(Duration::from_secs(10))
                    .acquire_timeout(Duration::from_secs(30))
                    .test_before_acquire_if_idle_for(Duration::from_secs(5))
                    .sqlx_logging(false);
                Database::connect(opt).await?
            }
            Location::Url(url) if url.starts_with("sqlite:") => {
                let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                Self::sqlite(Path::new(path), max_connections).await?
            }
            Location::Url(url) => {
                return Err(StoreError::Db(DbErr::Custom(format!(
                    "unsupported database URL {} (use postgres://… or sqlite:PATH)",
                    redact_url(url)
                ))));
            }
        };
        Ok(Self { db, audit_algo: HashAlgo::Sha256, vault: Default::default() })
    }

    async fn sqlite(path: &Path, max_connections: u32) -> Result<DatabaseConnection> {
        let mut opt = ConnectOptions::new(format!("sqlite://{}", path.display()));
        // A file opened in this process cannot be cut off as a server's socket can: a connection
        // is not tested before each use (a round trip to its thread each time).
        opt.max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
                    .pragma("wal_autocheckpoint", CHECKPOINT_BACKSTOP_PAGES.to_string())
            });
        let db = Database::connect(opt).await?;
        checkpoint_in_background(db.clone());
        Ok(db)
    }

    /// Opens a SQLite file read-only, as it is: for checking a backup without changing it.
    pub async fn open_sqlite_read_only(path: &Path) -> Result<Self> {
        let mut opt = ConnectOptions::new(format!("sqlite://{}", path.display()));
        opt.max_connections(1).sqlx_logging(false).map_sqlx_sqlite_opts(|o| {
            o.read_only(true).create_if_missing(false).journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Delete)
        });
        Ok(Self { db: Database::connect(opt).await?, audit_algo: HashAlgo::Sha256, vault: Default::default() })
    }

    pub fn with_audit_algo(mut self, algo: HashAlgo) -> Self {
        self.audit_algo = algo;
        self
    }

    pub fn audit_algo(&self) -> HashAlgo {
        self.audit_algo
    }

    /// The keys for personal data (decision 0030); without them the store neither seals nor opens
    /// personal fields, and [`Store::migrate`] checks nothing about keys.
    pub fn with_vault(mut self, vault: std::sync::Arc<personal::Vault>) -> Self {
        self.vault = vault;
        self
    }

    pub fn vault(&self) -> &personal::Vault {
        &self.vault
    }

    pub fn vault_arc(&self) -> std::sync::Arc<personal::Vault> {
        self.vault.clone()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Brings the schema up to date, then checks the personal-data keys against the database and
    /// encrypts any number still kept in clear ([`personal::prepare`],
    /// [`personal::seal_clear_values`]). Several instances starting at once take turns: the whole
    /// run is one write transaction, under an advisory lock on PostgreSQL. Numbers encrypted
    /// here are then wiped from the database files ([`Store::compact_personal_tables`]).
    pub async fn migrate(&self) -> Result<Migrated> {
        use xiaoneng_core::clock::Clock;
        let now = xiaoneng_core::clock::SystemClock.now();
        let tx = self.write().await?;
        if self.backend() == DbBackend::Postgres {
            tx.execute_unprepared("SELECT pg_advisory_xact_lock(7411650001)").await?;
        }
        Migrator::up(&tx, None).await?;
        let prepared = personal::prepare(&tx, self.audit_algo, &self.vault, now).await?;
        let encrypted = personal::seal_clear_values(&tx, self.audit_algo, &self.vault, now).await?;
        tx.commit().await?;
        if encrypted > 0 {
            self.compact_personal_tables().await?;
        }
        self.optimize().await?;
        Ok(Migrated { key_registered: prepared.registered, encrypted })
    }

    /// Keeps the query planner's statistics fresh. SQLite has none until they are gathered, and
    /// without them it may read a large table once per row of another (decision 0038): this
    /// gathers them for the tables that have none or have grown tenfold, each from a bounded
    /// sample. PostgreSQL's autovacuum does this itself.
    pub async fn optimize(&self) -> Result<()> {
        if self.backend() == DbBackend::Sqlite {
            self.db.execute_unprepared("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;").await?;
        }
        Ok(())
    }

    /// Gathers the planner's statistics of every table now, after a load of many rows.
    pub async fn analyze(&self) -> Result<()> {
        self.db.execute_unprepared("ANALYZE").await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// A transaction for writing. IMMEDIATE on SQLite: a deferred one that later writes fails
    /// with "database is locked" whatever the busy timeout.
    pub async fn write(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            isolation_level: None,
            access_mode: Some(AccessMode::ReadWrite).filter(|_| self.backend() == DbBackend::Postgres),
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        };
        Ok(self.db.begin_with_options(opts).await?)
    }

    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}

/// How many pages the SQLite log may hold before the writer that commits copies them back into
/// the database itself: a backstop, should the background checkpoint stop.
const CHECKPOINT_BACKSTOP_PAGES: u32 = 10_000;

/// Copies SQLite's write-ahead log back into the database every so often, off the writers' path
/// (decision 0037): left to SQLite, the writer whose commit crosses a thousand pages does it,
/// and the requests waiting on that commit — a batch of ratings — wait for the copy and its
/// sync. A passive checkpoint blocks nobody; it stops when the store is closed.
fn checkpoint_in_background(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(200));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!(error = %e, "the background checkpoint stops");
                return;
            }
        }
    });
}

/// A case-insensitive "contains" match that behaves the same on SQLite and PostgreSQL: both
/// sides lower-cased, and the user's `%`, `_` and `\\` taken literally.
pub fn contains(col: impl sea_orm::sea_query::IntoColumnRef, q: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(col)))
        .like(LikeExpr::new(format!("%{}%", like_escape(&q.to_lowercase()))).escape('\\'))
}

/// A prefix match, case-sensitive, with the user's wildcards taken literally.
pub fn starts_with(col: impl sea_orm::sea_query::IntoColumnRef, q: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
    Expr::col(col).like(LikeExpr::new(format!("{}%", like_escape(q))).escape('\\'))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redacted() {
        assert_eq!(super::redact_url("postgres://xn:secret@db:5432/x"), "postgres://xn:***@db:5432/x");
        assert_eq!(super::redact_url("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn passwords_in_the_query_string_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://xn@db/x?sslmode=require&password=s3cr%40t&application_name=xn"),
            "postgres://xn@db/x?sslmode=require&password=***&application_name=xn"
        );
        assert_eq!(
            super::redact_url("postgres://xn:one@db/x?PASSWORD=two&sslpassword=three"),
            "postgres://xn:***@db/x?PASSWORD=***&sslpassword=***"
        );
        // An @ in the query string is not the end of the credentials.
        assert_eq!(super::redact_url("postgres://db/x?user=a@b"), "postgres://db/x?user=a@b");
    }
}
