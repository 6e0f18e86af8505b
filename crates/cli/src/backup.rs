//! `xiaoneng backup` and `xiaoneng restore`, one command pair for both databases.
//!
//! - SQLite: `VACUUM INTO` a new file (one snapshot, the server keeps running); a restore checks
//!   the file before it touches anything and copies it into place, keeping the replaced database
//!   beside it.
//! - PostgreSQL: `pg_dump --format=custom` of Xiaoneng's schema (one snapshot, the server keeps
//!   running); a restore runs `pg_restore` in one transaction into an empty schema — with
//!   `--force` the current one is first renamed `public_before_restore_<UTC time>`, never dropped
//!   — and then checks the audit chain and replays the ledger.
//!
//! The database password reaches `pg_dump` and `pg_restore` through `PGPASSWORD` in their own
//! environment only: never on a command line (which every user of the machine can read) or in a
//! message.

use std::{
    path::{Path, PathBuf},
    process::{ExitCode, Stdio},
};

use anyhow::{Context, bail};
use xiaoneng_store::{Location, SQLITE_FILE, Store};

use crate::{Db, open_db, settings::Settings};

/// What a backup file is, told from its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    PgDump,
}

fn kind_of(file: &Path) -> anyhow::Result<Kind> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let n = f.read(&mut head)?;
    match &head[..n] {
        h if h.starts_with(b"SQLite format 3\0") => Ok(Kind::Sqlite),
        h if h.starts_with(b"PGDMP") => Ok(Kind::PgDump),
        _ => bail!("{} is neither a SQLite backup nor a pg_dump archive made by `xiaoneng backup`", file.display()),
    }
}

/// Where a command's database is, as backup and restore see it.
enum Target {
    SqliteFile(PathBuf),
    Postgres(String),
}

fn target(settings: &Settings, db: &Db) -> anyhow::Result<(Target, Location)> {
    let location = settings.location(db.data_dir.clone(), db.database_url.clone());
    let t = match &location {
        Location::DataDir(dir) => Target::SqliteFile(dir.join(SQLITE_FILE)),
        Location::Url(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Target::Postgres(u.clone())
        }
        Location::Url(u) if u.starts_with("sqlite:") => {
            Target::SqliteFile(PathBuf::from(u.trim_start_matches("sqlite://").trim_start_matches("sqlite:")))
        }
        Location::Url(_) => bail!("unsupported database URL {} (use postgres://… or sqlite:PATH)", location.describe()),
    };
    Ok((t, location))
}

pub async fn backup(settings: &Settings, db: Db, to: &Path) -> anyhow::Result<ExitCode> {
    if to.exists() {
        bail!("{} exists already; choose a new file", to.display());
    }
    let (target, _) = target(settings, &db)?;
    match target {
        Target::SqliteFile(_) => {
            let store = open_db(settings, db, false).await?;
            store.backup_to(to).await?;
            store.close().await?;
            let check = Store::open_sqlite_read_only(to).await?;
            let problems = check.integrity_problems().await?;
            check.close().await?;
            if !problems.is_empty() {
                bail!("the backup at {} failed its integrity check: {}", to.display(), problems.join("; "));
            }
            println!("backup written to {}", to.display());
        }
        Target::Postgres(url) => {
            let pg_dump = find_tool("pg_dump")?;
            let pg_restore = find_tool("pg_restore")?;
            let store = open_db(settings, db, false).await?;
            let schema = store.pg_schema().await?;
            store.close().await?;
            let conn = Libpq::from_url(&url)?;
            // pg_dump reads everything in one transaction, from one snapshot: what the server
            // commits meanwhile is either wholly in the backup or not at all.
            let out = conn
                .command(&pg_dump)
                .arg("--format=custom")
                .arg(format!("--schema={schema}"))
                .arg("--file")
                .arg(to)
                .output()
                .await
                .context("cannot run pg_dump")?;
            if !out.status.success() {
                // pg_dump made the file, if any: it did not exist before.
                let _ = std::fs::remove_file(to);
                bail!("pg_dump failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
            }
            // The archive must read back, and hold the tables a restore checks.
            let toc = list_archive(&pg_restore, to).await?;
            let tables = toc.tables_with_data(&schema);
            for needed in ["audit_log", "domain_events"] {
                if !tables.iter().any(|t| t == needed) {
                    bail!(
                        "the backup at {} holds no table {schema}.{needed}: is this Xiaoneng's database?",
                        to.display()
                    );
                }
            }
            println!(
                "backup written to {} (pg_dump custom format of schema {schema}: {} tables, one snapshot)",
                to.display(),
                tables.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(settings: &Settings, db: Db, from: &Path, force: bool) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(from.is_file(), "no backup file at {}", from.display());
    let kind = kind_of(from)?;
    let (target, location) = target(settings, &db)?;
    match (kind, target) {
        (Kind::Sqlite, Target::SqliteFile(file)) => restore_sqlite(from, &file, force).await,
        (Kind::PgDump, Target::Postgres(url)) => restore_postgres(settings, db, &location, &url, from, force).await,
        (Kind::Sqlite, Target::Postgres(_)) => {
            bail!("{} is a SQLite backup: restore it with --data-dir, not into PostgreSQL", from.display())
        }
        (Kind::PgDump, Target::SqliteFile(_)) => {
            bail!("{} is a PostgreSQL backup (pg_dump): restore it with --database-url postgres://…", from.display())
        }
    }
}

/// Reads the backup's verdicts: the database's own integrity check, the audit chain and the
/// ledger replay. Empty when all pass.
async fn verdicts(store: &Store) -> anyhow::Result<(Vec<String>, String)> {
    let mut problems = store.integrity_problems().await?;
    let entries = match store.verify_audit().await? {
        Ok(n) => n,
        Err(b) => {
            problems.push(format!("the audit chain is BROKEN at entry {}: {}", b.seq, b.reason));
            0
        }
    };
    let differ = xiaoneng_store::ledger::check(store.db()).await?;
    let events = xiaoneng_store::ledger::count(store.db()).await?;
    if !differ.is_empty() {
        problems.push(format!("{} records differ from their events: {}", differ.len(), differ.join("; ")));
    }
    let keys: xiaoneng_store::personal::KeyRegistry =
        xiaoneng_store::settings::get(store.db(), xiaoneng_store::personal::KEY_REGISTRY).await?;
    let keys: Vec<&str> = keys.active().map(|k| k.id.as_str()).collect();
    let keys = if keys.is_empty() {
        String::new()
    } else {
        // The key is not in the backup: the server needs it from where it was kept.
        format!("; its personal data is encrypted under key {}, which the server must be given", keys.join(", "))
    };
    Ok((
        problems,
        format!("audit chain intact ({entries} entries); the ledger ({events} events) and the records agree{keys}"),
    ))
}

async fn restore_sqlite(from: &Path, target: &Path, force: bool) -> anyhow::Result<ExitCode> {
    // A SQLite backup can be checked before anything is touched.
    let check = Store::open_sqlite_read_only(from).await?;
    let verdict = verdicts(&check).await;
    check.close().await?;
    let (problems, fine) = verdict?;
    if !problems.is_empty() {
        bail!("the backup {} fails its checks, nothing was restored: {}", from.display(), problems.join("; "));
    }
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    if target.exists() {
        if !force {
            bail!("{} exists; stop the server and pass --force to replace it (the old one is kept)", target.display());
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| SQLITE_FILE.into());
        let kept = dir.join(format!("{name}.before-restore-{stamp}"));
        std::fs::rename(target, &kept)?;
        for ext in ["-wal", "-shm"] {
            let side = dir.join(format!("{name}{ext}"));
            if side.exists() {
                std::fs::rename(&side, dir.join(format!("{name}.before-restore-{stamp}{ext}")))?;
            }
        }
        println!("kept the replaced database as {}", kept.display());
    }
    std::fs::copy(from, target)?;
    println!("restored {} into {}: {fine}", from.display(), target.display());
    Ok(ExitCode::SUCCESS)
}

async fn restore_postgres(
    settings: &Settings,
    db: Db,
    location: &Location,
    url: &str,
    from: &Path,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let pg_restore = find_tool("pg_restore")?;
    let conn = Libpq::from_url(url)?;
    // Reading the archive's table of contents checks it before anything is touched.
    let toc = list_archive(&pg_restore, from).await?;
    let store = open_db(settings, db.clone(), false).await?;
    let schema = store.pg_schema().await?;
    if !toc.tables_with_data(&schema).iter().any(|t| t == "audit_log") {
        let other = toc.schema_of("audit_log").unwrap_or_else(|| "none".into());
        store.close().await?;
        bail!(
            "{} holds no Xiaoneng tables in schema {schema}, where this database keeps them (its audit log is in: {other})",
            from.display()
        );
    }
    let present = store.pg_relations_in(&schema).await?;
    let mut kept = None;
    if present > 0 {
        if !force {
            store.close().await?;
            bail!(
                "{} holds {present} tables and sequences in schema {schema}; stop the servers and pass --force \
                 to restore anyway (the current schema is kept, renamed {schema}_before_restore_<UTC time>)",
                location.describe()
            );
        }
        let name = format!("{schema}_before_restore_{}", chrono::Utc::now().format("%Y%m%d_%H%M%S"));
        store.pg_set_aside_schema(&schema, &name).await.context("cannot set the current schema aside")?;
        println!("kept the replaced tables as schema {name}");
        kept = Some(name);
    }
    store.close().await?;

    let list = ListFile::write(&toc.without_schema_itself(&schema))?;
    // One transaction: the restore lands whole or not at all. Owners and grants of the source
    // are left out: the tables belong to the user restoring, who is the one the servers use.
    let out = conn
        .command(&pg_restore)
        .args(["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"])
        .arg("--use-list")
        .arg(&list.0)
        .arg(from)
        .output()
        .await
        .context("cannot run pg_restore")?;
    drop(list);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if let Some(name) = &kept {
            let store = open_db(settings, db, false).await?;
            let back = store.pg_put_back_schema(&schema, name).await;
            store.close().await?;
            if let Err(e) = back {
                bail!(
                    "pg_restore failed ({}): {err}\nthe replaced tables are in schema {name}; putting them back failed: {e}",
                    out.status
                );
            }
        }
        bail!("pg_restore failed ({}), nothing was changed: {err}", out.status);
    }

    let store = open_db(settings, db, false).await?;
    let verdict = verdicts(&store).await;
    store.close().await?;
    let (problems, fine) = verdict?;
    let kept_note = kept.map(|k| format!("; the replaced tables are kept in schema {k}")).unwrap_or_default();
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "restored {} into {}, but it FAILS its checks: do not serve it{kept_note}",
            from.display(),
            location.describe()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("restored {} into {}: {fine}{kept_note}", from.display(), location.describe());
    Ok(ExitCode::SUCCESS)
}

/// A program of the PostgreSQL client tools, from PATH.
fn find_tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if is_executable(&p) {
            return Ok(p);
        }
    }
    bail!(
        "{name} was not found on PATH: install the PostgreSQL client tools (Debian and Ubuntu: \
         apt-get install postgresql-client), of the server's major version or newer"
    )
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// How libpq's tools reach the database: the URL without its password, and the password apart.
struct Libpq {
    dbname: String,
    password: Option<String>,
}

impl Libpq {
    fn from_url(raw: &str) -> anyhow::Result<Self> {
        let mut url = url::Url::parse(raw)
            .map_err(|e| anyhow::anyhow!("cannot read the database URL {}: {e}", xiaoneng_store::redact_url(raw)))?;
        let mut password = url
            .password()
            .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
            .filter(|p| !p.is_empty());
        if url.set_password(None).is_err() {
            bail!("cannot read the database URL {}", xiaoneng_store::redact_url(raw));
        }
        // libpq refuses parameters it does not know: sqlx's own spellings are translated.
        let mut query = Vec::new();
        for (k, v) in url.query_pairs().into_owned() {
            match k.as_str() {
                "password" => password = Some(v),
                "statement-cache-capacity" => {}
                "ssl-mode" => query.push(("sslmode".to_owned(), v)),
                "ssl-root-cert" => query.push(("sslrootcert".to_owned(), v)),
                "ssl-client-cert" => query.push(("sslcert".to_owned(), v)),
                "ssl-client-key" => query.push(("sslkey".to_owned(), v)),
                "application-name" => query.push(("application_name".to_owned(), v)),
                _ => query.push((k, v)),
            }
        }
        // Percent-encoded, not form-encoded: libpq reads a `+` as a plus, not a space.
        const PART: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, PART).to_string();
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        url.set_query(Some(&query.join("&")).filter(|q| !q.is_empty()).map(String::as_str));
        Ok(Self { dbname: url.into(), password })
    }

    /// A client tool set up to reach the database: never asking for a password on a terminal.
    fn command(&self, program: &Path) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(program);
        c.arg("--no-password").arg(format!("--dbname={}", self.dbname));
        if let Some(p) = &self.password {
            c.env("PGPASSWORD", p);
        }
        c.env("PGCONNECT_TIMEOUT", "10").stdin(Stdio::null()).kill_on_drop(true);
        c
    }
}

/// A pg_dump archive's table of contents, as `pg_restore --list` prints it.
struct Toc(Vec<String>);

async fn list_archive(pg_restore: &Path, file: &Path) -> anyhow::Result<Toc> {
    let out = tokio::process::Command::new(pg_restore)
        .arg("--list")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run pg_restore")?;
    if !out.status.success() {
        bail!("{} is not a readable pg_dump archive: {}", file.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(Toc(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()))
}

impl Toc {
    /// An entry's words after its id and object ids: `TABLE DATA public audit_log owner`.
    fn words(line: &str) -> Option<Vec<&str>> {
        if line.starts_with(';') {
            return None;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        (words.len() > 3).then(|| words[3..].to_vec())
    }

    fn tables_with_data(&self, schema: &str) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|l| Self::words(l))
            .filter(|w| w.len() >= 4 && w[0] == "TABLE" && w[1] == "DATA" && w[2] == schema)
            .map(|w| w[3].to_owned())
            .collect()
    }

    fn schema_of(&self, table: &str) -> Option<String> {
        self.0
            .iter()
            .filter_map(|l| Self::words(l))
            .find(|w| w.len() >= 4 && w[0] == "TABLE" && w[1] == "DATA" && w[3] == table)
            .map(|w| w[2].to_owned())
    }

    /// The list for `pg_restore --use-list`, without creating `schema` itself (or commenting on
    /// it): the restore goes into the empty schema that is there.
    fn without_schema_itself(&self, schema: &str) -> String {
        let mut out = String::new();
        for line in &self.0 {
            let skip = Self::words(line).is_some_and(|w| {
                (w.len() >= 3 && w[0] == "SCHEMA" && w[1] == "-" && w[2] == schema)
                    || (w.len() >= 4 && w[0] == "COMMENT" && w[1] == "-" && w[2] == "SCHEMA" && w[3] == schema)
            });
            if skip {
                out.push(';');
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// A temporary file for `--use-list`, removed when dropped.
struct ListFile(PathBuf);

impl ListFile {
    fn write(content: &str) -> anyhow::Result<Self> {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!(
            "xiaoneng-restore-{}-{}.list",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        ));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(content.as_bytes())?;
        Ok(Self(path))
    }
}

impl Drop for ListFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let c = Libpq::from_url("postgres://xn:p%40ss%3Aw@db.internal:5433/xiaoneng?sslmode=require").unwrap();
        assert_eq!(c.dbname, "postgres://xn@db.internal:5433/xiaoneng?sslmode=require");
        assert_eq!(c.password.as_deref(), Some("p@ss:w"));
        let c = Libpq::from_url("postgresql://xn@db/x?password=s3cret&ssl-mode=verify-full&statement-cache-capacity=5")
            .unwrap();
        assert_eq!(c.dbname, "postgresql://xn@db/x?sslmode=verify-full");
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        let c = Libpq::from_url("postgres://xn:pw@db/x?options=-c%20search_path%3Dxn").unwrap();
        assert_eq!(c.dbname, "postgres://xn@db/x?options=-c%20search_path%3Dxn");
        let c = Libpq::from_url("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
        assert_eq!((c.dbname.as_str(), c.password), ("postgres://postgres@127.0.0.1:5432/postgres", None));
    }

    #[test]
    fn the_restore_list_leaves_out_only_the_schema_itself() {
        let toc = Toc(vec![
            ";".into(),
            "; Archive created at 2026-12-06".into(),
            "4; 2615 2200 SCHEMA - public pg_database_owner".into(),
            "3354; 0 0 COMMENT - SCHEMA public pg_database_owner".into(),
            "216; 1259 1459434 TABLE public audit_log postgres".into(),
            "3347; 0 1459434 TABLE DATA public audit_log postgres".into(),
            "3348; 0 1459435 TABLE DATA public domain_events postgres".into(),
        ]);
        let list = toc.without_schema_itself("public");
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines[2], ";4; 2615 2200 SCHEMA - public pg_database_owner");
        assert_eq!(lines[3], ";3354; 0 0 COMMENT - SCHEMA public pg_database_owner");
        assert_eq!(lines[4], "216; 1259 1459434 TABLE public audit_log postgres");
        assert_eq!(toc.tables_with_data("public"), ["audit_log", "domain_events"]);
        assert_eq!(toc.schema_of("audit_log").as_deref(), Some("public"));
        assert!(toc.tables_with_data("other").is_empty());
    }

    #[test]
    fn a_backup_file_tells_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&a, b"SQLite format 3\0rest").unwrap();
        std::fs::write(&b, b"PGDMP\x01\x0f").unwrap();
        std::fs::write(&c, b"hello").unwrap();
        assert_eq!(kind_of(&a).unwrap(), Kind::Sqlite);
        assert_eq!(kind_of(&b).unwrap(), Kind::PgDump);
        assert!(kind_of(&c).is_err());
    }
}
