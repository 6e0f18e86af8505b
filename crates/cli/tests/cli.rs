//! The `xiaoneng` binary as an operator uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use sea_orm::ConnectionTrait;

/// Runs in cargo's scratch folder: a command on PostgreSQL keeps its evidence files in
/// `./data/objects`, which must not land in the source tree.
fn xn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args(args)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn xn_stdin(args: &[&str], input: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args(args)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn sqlite(dir: &Path) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(format!("sqlite://{}", dir.join("xiaoneng.db").display())).await.unwrap()
}

async fn count(db: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    count_where(db, table, "1 = 1").await
}

async fn count_where(db: &sea_orm::DatabaseConnection, table: &str, cond: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {cond}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn demo_twice_changes_nothing_and_user_add_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let first = xn(&["demo", "--months", "0", "--data-dir", d]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("xnb_admin"), "prints the accounts");
    let db = sqlite(dir.path()).await;
    let (people, departments, audit) =
        (count(&db, "people").await, count(&db, "departments").await, count(&db, "audit_log").await);
    assert!((550..=700).contains(&people), "{people}");
    assert!((35..=45).contains(&departments), "{departments}");
    let second = xn(&["demo", "--months", "0", "--data-dir", d]);
    assert!(second.status.success());
    assert_eq!(
        (count(&db, "people").await, count(&db, "departments").await, count(&db, "audit_log").await),
        (people, departments, audit)
    );

    let o = xn_stdin(
        &["user", "add", "--username", "head2", "--role", "dept_head", "--password-stdin", "--data-dir", d],
        "Strong#Pass1\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("needs --department"), "{}", text(&o));
    let o = xn_stdin(
        &[
            "user",
            "add",
            "--username",
            "head2",
            "--role",
            "dept_head",
            "--department",
            "sj",
            "--password-stdin",
            "--data-dir",
            d,
        ],
        "weak\n",
    );
    assert!(text(&o).contains("password refused"), "{}", text(&o));
    let o = xn_stdin(
        &[
            "user",
            "add",
            "--username",
            "head2",
            "--role",
            "dept_head",
            "--department",
            "sj",
            "--password-stdin",
            "--data-dir",
            d,
        ],
        "Strong#Pass1\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = xn_stdin(
        &[
            "user",
            "add",
            "--username",
            "head2",
            "--role",
            "staff",
            "--department",
            "sj",
            "--password-stdin",
            "--data-dir",
            d,
        ],
        "Strong#Pass1\n",
    );
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    let o = xn_stdin(
        &["user", "add", "--username", "xx1", "--role", "root", "--password-stdin", "--data-dir", d],
        "Strong#Pass1\n",
    );
    assert!(text(&o).contains("unknown role"), "{}", text(&o));
    // The operator's password works as chosen: no forced change.
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT must_change_password AS m FROM users WHERE username = 'head2'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(!row.try_get::<bool>("", "m").unwrap());
    // The IT admins' accounts are kept from the command line.
    let o = xn_stdin(
        &["user", "reset-password", "--username", "secadmin", "--password-stdin", "--data-dir", d],
        "Reset#Pass2026\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = xn(&["user", "disable", "--username", "auditor", "--reason", "离职", "--data-dir", d]);
    assert!(o.status.success(), "{}", text(&o));
    let o = xn(&["user", "disable", "--username", "auditor", "--reason", "again", "--data-dir", d]);
    assert!(text(&o).contains("already disabled"), "{}", text(&o));
    let o = xn(&["user", "enable", "--username", "nobody", "--reason", "x", "--data-dir", d]);
    assert!(text(&o).contains("no user named nobody"), "{}", text(&o));
    let actions = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT action FROM audit_log WHERE actor LIKE 'cli:%' ORDER BY seq",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "action").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(actions, ["demo.seed", "user.create", "user.reset_password", "user.disable"]);
    let v = xn(&["audit", "verify", "--data-dir", d]);
    assert!(v.status.success(), "{}", text(&v));
}

/// The demo tells its whole story on whatever day it is made (the 1st, the 4th, the 20th, a
/// month's last evening, early January): orders overdue, returned and awaiting review, a task
/// for each showcase head, bulletins of recent months, and cases done on time, done late, and
/// open with yellow and red cards; its ledger agrees with its records.
#[tokio::test]
async fn the_demo_tells_its_story_on_any_day() {
    // Without its months of history but one, which has a month of it at a city's volume.
    for (as_of, months) in [
        ("2026-12-01T08:10:00+08:00", "0"),
        ("2026-12-04T17:30:00+08:00", "0"),
        ("2026-12-20T12:00:00+08:00", "0"),
        ("2026-11-30T23:30:00+08:00", "0"),
        ("2027-01-02T10:00:00+08:00", "1"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let o = xn(&["demo", "--months", months, "--as-of", as_of, "--data-dir", d]);
        assert!(o.status.success(), "{as_of}: {}", text(&o));
        let db = sqlite(dir.path()).await;
        let three_months_back = (chrono::DateTime::parse_from_rfc3339(as_of).unwrap() - chrono::Duration::days(92))
            .format("%Y-%m-%d")
            .to_string();
        for (what, table, cond) in [
            ("an overdue order", "rectification_orders", "overdue_at IS NOT NULL".to_owned()),
            ("a returned report", "rectification_orders", "status = 'returned'".to_owned()),
            ("a report awaiting review", "rectification_orders", "status = 'submitted'".to_owned()),
            (
                "a task for the market regulator's head",
                "rectification_orders o JOIN departments d ON d.id = o.department_id",
                "(d.code = 'SJ' OR d.code LIKE 'SJ-%') AND o.status IN ('open', 'returned')".to_owned(),
            ),
            (
                "a task for the police chief",
                "rectification_orders o JOIN departments d ON d.id = o.department_id",
                "(d.code = 'GA' OR d.code LIKE 'GA-%') AND o.status IN ('open', 'returned')".to_owned(),
            ),
            ("bulletins of recent months", "bulletins", format!("published_at >= '{three_months_back}'")),
            ("a case done on time", "service_cases", "completed_at IS NOT NULL AND card IS NULL".to_owned()),
            ("a case done late", "service_cases", "completed_at IS NOT NULL AND card = 'red'".to_owned()),
            ("an open case with a yellow card", "service_cases", "completed_at IS NULL AND card = 'yellow'".to_owned()),
            ("an open case with a red card", "service_cases", "completed_at IS NULL AND card = 'red'".to_owned()),
            ("a fresh open case", "service_cases", "completed_at IS NULL AND card IS NULL".to_owned()),
            (
                "an inquiry waiting for the police",
                "inquiries i JOIN departments d ON d.id = i.holder_department_id",
                "d.code = 'GA' AND i.state = 'pending'".to_owned(),
            ),
            ("an inquiry handed over and answered", "inquiries", "state = 'answered' AND hand_overs > 0".to_owned()),
            ("a first-inquiry lapse to review", "inquiry_lapses", "state = 'pending'".to_owned()),
            ("a first-inquiry lapse made a finding", "inquiry_lapses", "state = 'finding'".to_owned()),
            ("a rating from a counter device", "ratings", "channel = 'device'".to_owned()),
            ("a rating held for review", "ratings", "status = 'held'".to_owned()),
            ("a bad rating overturned", "ratings", "status = 'overturned'".to_owned()),
            ("a ticket closed after its callback", "tickets", "state = 'closed' AND callback_satisfied".to_owned()),
            ("a ticket reopened by an unsatisfied callback", "tickets", "reopened".to_owned()),
            ("a ticket being rectified", "tickets", "state = 'rectifying'".to_owned()),
            ("a ticket appealed", "tickets", "state = 'appealed'".to_owned()),
            ("a ticket overdue", "tickets", "overdue_due IS NOT NULL".to_owned()),
        ] {
            assert!(count_where(&db, table, &cond).await > 0, "made as of {as_of}, the demo has no {what}");
        }
        assert!(count_where(&db, "bulletins", &format!("published_at >= '{three_months_back}'")).await >= 2, "{as_of}");
        if months == "1" {
            // A month of a city's ratings: some fifteen thousand, a small share bad.
            let ratings = count_where(&db, "ratings", "1 = 1").await;
            let bad = count_where(&db, "ratings", "level IN ('dissatisfied', 'very_dissatisfied')").await;
            assert!(ratings > 10_000 && bad * 100 < ratings, "{ratings} ratings, {bad} bad");
        }
        let o = xn(&["events", "check", "--data-dir", d]);
        assert!(o.status.success() && text(&o).contains("agree"), "{as_of}: {}", text(&o));
    }
}

async fn tamper_and_verify(args: &[&str], db: &sea_orm::DatabaseConnection) {
    let v = xn(&[&["audit", "verify"], args].concat());
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("intact"));
    db.execute_unprepared("UPDATE audit_log SET detail = '{\"people\":1}' WHERE seq = 1").await.unwrap();
    let v = xn(&[&["audit", "verify"], args].concat());
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("BROKEN at entry 1"), "{}", text(&v));
}

/// The demo's ledger agrees with its records; it cannot be edited; a record changed behind its
/// back is named.
async fn events_check_names_a_record_the_ledger_disagrees_with(args: &[&str], db: &sea_orm::DatabaseConnection) {
    let v = xn(&[&["events", "check"], args].concat());
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("agree"), "{}", text(&v));
    assert!(db.execute_unprepared("DELETE FROM domain_events").await.is_err(), "the ledger is append-only");
    assert!(db.execute_unprepared("UPDATE domain_events SET kind = 'x'").await.is_err(), "the ledger is append-only");
    let id = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT MIN(id) AS id FROM findings WHERE state = 'notified'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "id")
        .unwrap();
    db.execute_unprepared(&format!("UPDATE findings SET state = 'withdrawn' WHERE id = {id}")).await.unwrap();
    let v = xn(&[&["events", "check"], args].concat());
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains(&format!("finding {id}")), "{}", text(&v));
}

#[tokio::test]
async fn audit_verify_names_the_first_broken_entry_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(xn(&["demo", "--months", "0", "--data-dir", d]).status.success());
    let db = sqlite(dir.path()).await;
    tamper_and_verify(&["--data-dir", d], &db).await;
    events_check_names_a_record_the_ledger_disagrees_with(&["--data-dir", d], &db).await;
}

#[tokio::test]
#[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
async fn audit_verify_names_the_first_broken_entry_on_postgres() {
    let Ok(admin) = std::env::var("XIAONENG_TEST_POSTGRES_URL") else {
        assert!(!matches!(std::env::var("CI").as_deref(), Ok("true" | "1")), "CI needs XIAONENG_TEST_POSTGRES_URL");
        return;
    };
    let name = format!("xn_cli_{}", hex::encode(std::process::id().to_le_bytes()));
    let conn = sea_orm::Database::connect(&admin).await.unwrap();
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let o = xn(&["demo", "--months", "0", "--database-url", &url]);
    assert!(o.status.success(), "{}", text(&o));
    let db = sea_orm::Database::connect(&url).await.unwrap();
    tamper_and_verify(&["--database-url", &url], &db).await;
    events_check_names_a_record_the_ledger_disagrees_with(&["--database-url", &url], &db).await;
    db.close().await.unwrap();
    conn.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_restores_to_a_sound_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(xn(&["demo", "--months", "0", "--data-dir", &d]).status.success());
    // Writers keep adding departments and audit entries while backups are taken.
    let store =
        xiaoneng_store::Store::open(&xiaoneng_store::Location::DataDir(dir.path().to_owned()), 4).await.unwrap();
    let writer = Writer::start(store);
    let backups = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let f = backups.path().join(format!("b{n}.db"));
        let o = tokio::task::spawn_blocking({
            let (f, d) = (f.clone(), d.clone());
            move || xn(&["backup", "--to", f.to_str().unwrap(), "--data-dir", &d])
        })
        .await
        .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        files.push(f);
    }
    let written = writer.stop().await;
    assert!(written > 10, "writes went on during the backups: {written}");
    let beside: Vec<String> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside.len(), 3, "checking a backup leaves nothing beside it: {beside:?}");
    let again = xn(&["backup", "--to", files[0].to_str().unwrap(), "--data-dir", &d]);
    assert!(!again.status.success(), "never overwrites a backup");
    for f in &files {
        let target = tempfile::tempdir().unwrap();
        let t = target.path().to_str().unwrap();
        let o = xn(&["restore", "--from", f.to_str().unwrap(), "--data-dir", t]);
        assert!(o.status.success(), "{}", text(&o));
        let v = xn(&["audit", "verify", "--data-dir", t]);
        assert!(v.status.success(), "{}", text(&v));
        let restored = sqlite(target.path()).await;
        let ok = restored
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ok.try_get::<String>("", "integrity_check").unwrap(), "ok");
        // Departments written and their audit entries came together or not at all.
        let deps = count(&restored, "departments").await;
        let entries = count(&restored, "audit_log").await;
        let written = count_where(&restored, "audit_log", "actor = 'test'").await;
        assert_eq!(deps - 41, written, "a backup never splits a transaction");
        assert!(entries > written, "the demo's own entries are there too");
        // Restoring over an existing database needs --force, and keeps the old one.
        let o = xn(&["restore", "--from", f.to_str().unwrap(), "--data-dir", t]);
        assert!(!o.status.success());
        let o = xn(&["restore", "--from", f.to_str().unwrap(), "--data-dir", t, "--force"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            std::fs::read_dir(target.path())
                .unwrap()
                .any(|e| { e.unwrap().file_name().to_string_lossy().contains("before-restore") })
        );
    }
}

/// Kills the server if the test fails before it stops it.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    std::io::Read::read_to_string(&mut s, &mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap().success());
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// Adds departments `BKW-0`, `BKW-1`, … each with its audit entry (actor `test`) in one
/// transaction, one after the other, until stopped; `committed` counts those committed.
struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    committed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<usize>,
}

async fn add_department(store: &xiaoneng_store::Store, code: &str) {
    let tx = store.write().await.unwrap();
    let now = chrono::Utc::now();
    let dep = xiaoneng_store::org::create_department(
        &tx,
        xiaoneng_store::org::DepartmentInput {
            code: code.into(),
            name: format!("写入{code}"),
            parent_id: None,
            category: xiaoneng_core::org::DepartmentCategory::General,
            is_focus: false,
            sort_order: 0,
        },
        now,
    )
    .await
    .unwrap();
    let rec = xiaoneng_store::audit::AuditRecord {
        at: now,
        actor_user_id: None,
        actor: "test".into(),
        ip: "local".into(),
        action: "department.create".into(),
        target_type: "department".into(),
        target_id: dep.id.to_string(),
        outcome: xiaoneng_store::audit::Outcome::Ok,
        detail: serde_json::json!({ "code": code }),
    };
    xiaoneng_store::audit::append(&tx, store.audit_algo(), &rec).await.unwrap();
    tx.commit().await.unwrap();
}

impl Writer {
    fn start(store: xiaoneng_store::Store) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let committed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let task = {
            let (stop, committed) = (stop.clone(), committed.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    add_department(&store, &format!("BKW-{i}")).await;
                    i += 1;
                    committed.store(i, Ordering::SeqCst);
                }
                store.close().await.unwrap();
                i
            })
        };
        Self { stop, committed, task }
    }

    fn committed(&self) -> usize {
        self.committed.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn stop(self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

fn xn_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The PostgreSQL server of XIAONENG_TEST_POSTGRES_URL, where each test makes databases of its
/// own; `None` (outside CI only) when there is none.
struct Pg {
    admin: sea_orm::DatabaseConnection,
    base: String,
    made: Vec<String>,
}

impl Pg {
    async fn from_env() -> Option<Self> {
        let Ok(admin) = std::env::var("XIAONENG_TEST_POSTGRES_URL") else {
            assert!(!matches!(std::env::var("CI").as_deref(), Ok("true" | "1")), "CI needs XIAONENG_TEST_POSTGRES_URL");
            return None;
        };
        let base = admin.rsplit_once('/').unwrap().0.to_owned();
        Some(Self { admin: sea_orm::Database::connect(&admin).await.unwrap(), base, made: Vec::new() })
    }

    /// A new, empty database; its URL.
    async fn create(&mut self, tag: &str) -> String {
        let name = format!("xn_cli_{tag}_{}", hex::encode(std::process::id().to_le_bytes()));
        self.admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        self.admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        self.made.push(name.clone());
        format!("{}/{name}", self.base)
    }

    async fn drop_all(self) {
        for name in &self.made {
            self.admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        }
    }
}

async fn strings(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// The same URL with a password for its user (the test server trusts local connections, so it
/// is not checked; it must only never be shown).
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').expect("XIAONENG_TEST_POSTGRES_URL names its user");
    let user = user.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

/// `backup` on PostgreSQL while a writer keeps writing, `restore` into a new database: the copy
/// is one moment of the source (every department with its audit entry, none after), its audit
/// chain and ledger pass; restoring over data needs `--force` and keeps the replaced schema; a
/// backup whose chain is broken is restored but refused as sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
async fn backup_during_writes_and_restore_on_postgres() {
    let Some(mut pg) = Pg::from_env().await else { return };
    let src = pg.create("bsrc").await;
    let o = xn(&["demo", "--months", "0", "--database-url", &src]);
    assert!(o.status.success(), "{}", text(&o));
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("xiaoneng.dump");
    let f = file.to_str().unwrap();

    // Without the PostgreSQL client tools: a clear error naming the package, no file.
    let o = xn_env(&["backup", "--to", f, "--database-url", &src], &[("PATH", "/nonexistent")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("pg_dump") && text(&o).contains("postgresql-client"), "{}", text(&o));
    assert!(!file.exists());

    let source = sea_orm::Database::connect(&src).await.unwrap();
    let (departments, people, events) =
        (count(&source, "departments").await, count(&source, "people").await, count(&source, "domain_events").await);
    let writer =
        Writer::start(xiaoneng_store::Store::open(&xiaoneng_store::Location::Url(src.clone()), 4).await.unwrap());
    while writer.committed() < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = writer.committed();
    let secret = "Never-Shown-7f3";
    let o = tokio::task::spawn_blocking({
        let (f, url) = (f.to_owned(), with_password(&src, secret));
        move || xn(&["backup", "--to", &f, "--database-url", &url])
    })
    .await
    .unwrap();
    let after = writer.committed();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(secret), "{}", text(&o));
    let written = writer.stop().await;
    assert!(after > before, "writes went on during the backup: {before} → {after}");
    assert!(written >= after);
    let again = xn(&["backup", "--to", f, "--database-url", &src]);
    assert!(!again.status.success() && text(&again).contains("exists already"), "{}", text(&again));

    // The dump, read back as SQL (it is compressed as written), holds no mobile number in clear.
    let key_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data/sm4.key");
    let keyed = xiaoneng_store::Store::open(&xiaoneng_store::Location::Url(src.clone()), 1)
        .await
        .unwrap()
        .with_vault(std::sync::Arc::new(vault_from(&key_file, &[])));
    let demo_numbers = numbers(&keyed).await;
    keyed.close().await.unwrap();
    assert!(demo_numbers.len() > 600);
    let sql = Command::new("pg_restore").args(["--data-only", "--file=-", f]).output().unwrap();
    assert!(sql.status.success(), "{}", String::from_utf8_lossy(&sql.stderr));
    assert!(holds(&sql.stdout, "sm4gcm:") && holds(&sql.stdout, "E00001"), "the listing holds the people");
    for (table, id, n) in &demo_numbers {
        assert!(!holds(&sql.stdout, n), "{n} ({table} {id}) is in clear in the PostgreSQL backup");
    }

    // Into a new database: the restore checks the audit chain and replays the ledger itself.
    let dst = pg.create("bdst").await;
    let o = xn(&["restore", "--from", f, "--database-url", &dst]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("audit chain intact") && text(&o).contains("agree"), "{}", text(&o));
    for check in [&["audit", "verify"], &["events", "check"]] {
        let v = xn(&[&check[..], &["--database-url", &dst]].concat());
        assert!(v.status.success(), "{}", text(&v));
    }
    let restored = sea_orm::Database::connect(&dst).await.unwrap();
    // One moment of the source: the writer's first k departments, each with its audit entry.
    let mut codes = strings(&restored, "SELECT code FROM departments WHERE code LIKE 'BKW-%'").await;
    codes.sort_by_key(|c| c[4..].parse::<usize>().unwrap());
    let k = codes.len();
    assert!((before..=after + 1).contains(&k), "the backup's moment: {before} ≤ {k} ≤ {after}");
    assert_eq!(codes, (0..k).map(|i| format!("BKW-{i}")).collect::<Vec<_>>(), "a prefix of what was written");
    assert_eq!(count_where(&restored, "audit_log", "actor = 'test'").await, k as i64, "no transaction split");
    assert_eq!(count(&restored, "departments").await, departments + k as i64);
    assert_eq!((count(&restored, "people").await, count(&restored, "domain_events").await), (people, events));

    // The kinds do not mix.
    let sqlite_dir = tempfile::tempdir().unwrap();
    let o = xn(&["restore", "--from", f, "--data-dir", sqlite_dir.path().to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("PostgreSQL backup"), "{}", text(&o));

    // Over a database holding data: refused without --force, and nothing changes.
    add_department(
        &xiaoneng_store::Store::open(&xiaoneng_store::Location::Url(dst.clone()), 1).await.unwrap(),
        "KEEP-ME",
    )
    .await;
    let o = xn(&["restore", "--from", f, "--database-url", &dst]);
    assert!(!o.status.success() && text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(count_where(&restored, "departments", "code = 'KEEP-ME'").await, 1);
    let kept_schemas = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public_before_restore_%'";
    assert!(strings(&restored, kept_schemas).await.is_empty());
    // With --force the replaced tables are kept, under another name.
    let o = xn(&["restore", "--from", f, "--database-url", &dst, "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    let kept = strings(&restored, kept_schemas).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(text(&o).contains(&kept[0]), "{}", text(&o));
    assert_eq!(count_where(&restored, "departments", "code = 'KEEP-ME'").await, 0);
    assert_eq!(count_where(&restored, &format!("{}.departments", kept[0]), "code = 'KEEP-ME'").await, 1);
    assert_eq!(count(&restored, "departments").await, departments + k as i64);
    for check in [&["audit", "verify"], &["events", "check"]] {
        let v = xn(&[&check[..], &["--database-url", &dst]].concat());
        assert!(v.status.success(), "{}", text(&v));
    }
    restored.close().await.unwrap();

    // A backup of a tampered log restores, but the restore says it is unsound and fails.
    source.execute_unprepared("UPDATE audit_log SET detail = '{\"people\":1}' WHERE seq = 1").await.unwrap();
    source.close().await.unwrap();
    let tampered = files.path().join("tampered.dump");
    let o = xn(&["backup", "--to", tampered.to_str().unwrap(), "--database-url", &src]);
    assert!(o.status.success(), "{}", text(&o));
    let dst2 = pg.create("bdst2").await;
    let o = xn(&["restore", "--from", tampered.to_str().unwrap(), "--database-url", &dst2]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BROKEN at entry 1") && text(&o).contains("FAILS its checks"), "{}", text(&o));
    pg.drop_all().await;
}

/// A running `xiaoneng serve`, killed when dropped.
struct Server {
    child: Running,
    base: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

fn serve(db: &[&str], log: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args([&["serve", "--bind", "127.0.0.1:0"], db].concat())
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let Some(addr) = line.split("http://").nth(1).and_then(|r| r.split_whitespace().next()) else {
        panic!("the server did not start: {line}{}", std::fs::read_to_string(log).unwrap_or_default());
    };
    // Keeping stdout open: the server must never meet a closed pipe.
    Server { base: format!("http://{addr}"), child, _stdout: out }
}

async fn log_in(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"username":"xnb_admin","password":"Xiaoneng@2026"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with("xn_session="))
        .unwrap()
        .to_owned()
}

/// An answer read to its end: status, the record's id, whether it was a kept answer given again.
type Answer = (u16, Option<i64>, bool);

async fn create_department(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    code: &str,
    key: Option<&str>,
) -> Option<Answer> {
    let body =
        serde_json::json!({ "code": code, "name": format!("压测{code}"), "parent_id": null, "category": "general" });
    let mut req = client
        .post(format!("{base}/api/v1/departments"))
        .header("cookie", cookie)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.ok()?;
    let status = r.status().as_u16();
    let replayed = r.headers().contains_key("idempotent-replayed");
    let body = r.bytes().await.ok()?;
    let id = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["id"].as_i64());
    Some((status, id, replayed))
}

/// One create the load sent: its code, its key, and the answers (`None`: the server died first).
#[derive(Debug)]
struct Sent {
    code: String,
    key: Option<String>,
    answers: Vec<Option<Answer>>,
}

impl Sent {
    fn acknowledged(&self) -> Option<i64> {
        self.answers.iter().flatten().find(|a| (200..300).contains(&a.0)).map(|a| a.1.expect("a created record's id"))
    }
}

/// Many concurrent creates (a third with an `Idempotency-Key`, sent twice), SIGKILL in the middle,
/// a restart: every acknowledged department is there once, with its one audit entry; a keyed
/// repeat gets its first answer again, before and after the crash; the audit chain and the
/// ledger pass.
async fn load_kill_restart(db: &[&str], conn: impl AsyncFn() -> sea_orm::DatabaseConnection) {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };
    let o = xn(&[&["demo", "--months", "0"], db].concat());
    assert!(o.status.success(), "{}", text(&o));
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("serve.log");
    let server = serve(db, &log);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let cookie = log_in(&client, &server.base).await;

    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let acked = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..12)
        .map(|w| {
            let (client, base, cookie) = (client.clone(), server.base.clone(), cookie.clone());
            let (sent, acked, dead) = (sent.clone(), acked.clone(), dead.clone());
            tokio::spawn(async move {
                for n in 0..1000 {
                    let code = format!("LK-{w}-{n}");
                    let key = (n % 3 == 0).then(|| format!("lk-key-{w}-{n}"));
                    let mut s = Sent { code, key, answers: Vec::new() };
                    let sends = if s.key.is_some() { 2 } else { 1 };
                    for _ in 0..sends {
                        let a = create_department(&client, &base, &cookie, &s.code, s.key.as_deref()).await;
                        if s.answers.is_empty() && a.is_some_and(|a| (200..300).contains(&a.0)) {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        let gone = a.is_none();
                        s.answers.push(a);
                        if gone {
                            break;
                        }
                    }
                    let gone = s.answers.iter().any(Option::is_none);
                    sent.lock().unwrap().push(s);
                    if gone || dead.load(Ordering::SeqCst) {
                        break;
                    }
                }
            })
        })
        .collect();
    let started = std::time::Instant::now();
    while acked.load(Ordering::SeqCst) < 300 {
        assert!(started.elapsed() < Duration::from_secs(120), "the load went too slowly: {acked:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // kill -9, with requests in flight.
    let Server { child: mut killed, _stdout, .. } = server;
    killed.0.kill().unwrap();
    killed.0.wait().unwrap();
    dead.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let unanswered = sent.iter().filter(|s| s.answers.iter().any(Option::is_none)).count();
    assert!(unanswered > 0, "the kill came while requests were in flight");
    for s in sent.iter().filter(|s| s.answers.len() == 2 && s.answers.iter().all(Option::is_some)) {
        let (first, again) = (s.answers[0].unwrap(), s.answers[1].unwrap());
        assert_eq!(first.0, 201, "{s:?}");
        assert_eq!(again, (201, first.1, true), "a keyed repeat gets its first answer again: {s:?}");
    }

    let server = serve(db, &log);
    let cookie = log_in(&client, &server.base).await;
    let db_conn = conn().await;
    // Codes are unique in the table; what could double is a create's audit entry.
    let stored: std::collections::HashMap<String, i64> = db_conn
        .query_all_raw(sea_orm::Statement::from_string(
            db_conn.get_database_backend(),
            "SELECT d.code AS code, d.id AS id, \
                    (SELECT COUNT(*) FROM audit_log a WHERE a.action = 'department.create' \
                      AND a.target_id = CAST(d.id AS TEXT)) AS audited \
             FROM departments d WHERE d.code LIKE 'LK-%'",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let code: String = r.try_get("", "code").unwrap();
            assert_eq!(r.try_get::<i64>("", "audited").unwrap(), 1, "{code}: one audit entry");
            (code, r.try_get("", "id").unwrap())
        })
        .collect();
    let mut acknowledged = 0;
    for s in &sent {
        if let Some(id) = s.acknowledged() {
            acknowledged += 1;
            assert_eq!(stored.get(&s.code), Some(&id), "acknowledged, so kept: {s:?}");
        }
    }
    assert!(acknowledged >= 300, "{acknowledged}");
    assert!(stored.len() >= acknowledged && stored.len() <= sent.len());
    // After the crash: an answered key still gives its answer; one caught in flight never doubles.
    let mut fresh = 0;
    for s in sent.iter().filter(|s| s.key.is_some()) {
        let a = create_department(&client, &server.base, &cookie, &s.code, s.key.as_deref()).await.unwrap();
        match (s.acknowledged(), a) {
            (Some(id), a) => assert_eq!(a, (201, Some(id), true), "{s:?}"),
            // Done and kept before the kill, only the answer was lost: it comes now.
            (None, (201, Some(id), true)) => assert_eq!(stored.get(&s.code), Some(&id), "{s:?}"),
            (None, (201, _, false)) => {
                assert!(!stored.contains_key(&s.code), "created twice: {s:?}");
                fresh += 1;
            }
            // Its key is still held by the request the kill cut off.
            (None, a) => assert_eq!(a.0, 409, "{s:?}: {a:?}"),
        }
    }
    eprintln!(
        "{} creates sent, {acknowledged} acknowledged, {unanswered} cut off by the kill, {} stored; \
         after the restart {fresh} keyed ones were new",
        sent.len(),
        stored.len()
    );
    let a = create_department(&client, &server.base, &cookie, "LK-AFTER", None).await.unwrap();
    assert_eq!(a.0, 201, "the restarted server takes writes");
    let n = count_where(&db_conn, "departments", "code LIKE 'LK-%'").await;
    assert_eq!(n, (stored.len() + fresh + 1) as i64, "each new answer one record, each kept answer none");
    db_conn.close().await.unwrap();
    let Server { child: mut running, _stdout, .. } = server;
    assert!(Command::new("kill").args(["-TERM", &running.0.id().to_string()]).status().unwrap().success());
    assert_eq!(running.0.wait().unwrap().code(), Some(0));
    for check in [&["audit", "verify"], &["events", "check"]] {
        let v = xn(&[&check[..], db].concat());
        assert!(v.status.success(), "{}", text(&v));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_then_kill_loses_nothing_acknowledged_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    load_kill_restart(&["--data-dir", d], async || sqlite(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
async fn load_then_kill_loses_nothing_acknowledged_on_postgres() {
    let Some(mut pg) = Pg::from_env().await else { return };
    let url = pg.create("kill").await;
    load_kill_restart(&["--database-url", &url], async || sea_orm::Database::connect(&url).await.unwrap()).await;
    pg.drop_all().await;
}

// ------------------------------------------------------------------ personal data at rest

/// The key a data folder's `sm4.key` holds, as a vault.
fn vault_from(file: &Path, previous: &[&Path]) -> xiaoneng_store::personal::Vault {
    let key = |f: &Path| xiaoneng_core::crypto::MasterKey::parse(&std::fs::read_to_string(f).unwrap()).unwrap();
    xiaoneng_store::personal::Vault::new(key(file), previous.iter().map(|p| key(p)).collect())
}

/// Every mobile number the database holds, opened with the store's keys: (table, id, number).
async fn numbers(store: &xiaoneng_store::Store) -> Vec<(String, i64, String)> {
    use xiaoneng_store::personal::{Field, Sealed};
    let mut out = Vec::new();
    for (table, field) in [("people", Field::PersonMobile), ("supervisors", Field::SupervisorMobile)] {
        let rows = store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                store.backend(),
                format!("SELECT id, mobile_sealed FROM {table} WHERE mobile_sealed IS NOT NULL ORDER BY id"),
            ))
            .await
            .unwrap();
        for r in rows {
            let sealed = Sealed(r.try_get::<String>("", "mobile_sealed").unwrap());
            out.push((
                table.to_owned(),
                r.try_get::<i64>("", "id").unwrap(),
                store.vault().open(field, &sealed).unwrap(),
            ));
        }
    }
    out
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// `grep -c -a NUMBER FILE`, as an operator would check: the count of matching lines.
fn grep_count(needle: &str, file: &Path) -> String {
    let o = Command::new("grep").args(["-c", "-a", needle]).arg(file).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// The demo's mobile numbers and one written while the database is open (so in its WAL) are in
/// neither the database file, nor its WAL, nor a backup, by `grep` and by a scan of every byte;
/// the key was made in the data folder, readable by its owner only, and is not in the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_numbers_are_in_no_database_file_nor_backup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let o = xn(&["demo", "--months", "0", "--data-dir", &d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("made a new key for personal data"), "{}", text(&o));
    let key_file = dir.path().join("sm4.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert!(!text(&o).contains(key_text.trim()), "the key is never printed");

    let store = xiaoneng_store::Store::open(&xiaoneng_store::Location::DataDir(dir.path().to_owned()), 2)
        .await
        .unwrap()
        .with_vault(std::sync::Arc::new(vault_from(&key_file, &[])));
    // A number written now, with the database held open: it is in the WAL, not yet checkpointed.
    let dept = strings(&sqlite(dir.path()).await, "SELECT code FROM departments ORDER BY id LIMIT 1").await.remove(0);
    let department_id = xiaoneng_store::org::department_by_code(store.db(), &dept).await.unwrap().unwrap().id;
    let tx = store.write().await.unwrap();
    xiaoneng_store::org::save_person(
        &tx,
        store.vault(),
        None,
        xiaoneng_store::org::PersonInput {
            employee_no: "WAL-1".into(),
            name: "沈新".into(),
            gender: xiaoneng_core::org::Gender::Female,
            department_id,
            post_id: None,
            window_id: None,
            mobile: Some("13912340000".into()),
            is_head: false,
            is_leader_in_charge: false,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let numbers = numbers(&store).await;
    assert!(numbers.len() > 600, "{}", numbers.len());
    assert!(numbers.iter().any(|(_, _, n)| n == "13912340000"));

    let wal = dir.path().join("xiaoneng.db-wal");
    let backup = dir.path().join("backup.db");
    let o = xn(&["backup", "--to", backup.to_str().unwrap(), "--data-dir", &d]);
    assert!(o.status.success(), "{}", text(&o));
    let files = [dir.path().join("xiaoneng.db"), wal.clone(), backup.clone()];
    let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(contents[1].len() > 4096, "the new person is in the WAL");
    assert!(holds(&contents[1], "WAL-1") && holds(&contents[2], "WAL-1"), "the scan reads what is stored");
    for (file, bytes) in files.iter().zip(&contents) {
        for (table, id, n) in &numbers {
            assert!(!holds(bytes, n), "{n} ({table} {id}) is in clear in {}", file.display());
        }
        assert!(!holds(bytes, key_text.trim()), "the key is in {}", file.display());
        assert_eq!(grep_count("13912340000", file), "0", "{}", file.display());
        assert_eq!(grep_count(&numbers[0].2, file), "0", "{}", file.display());
    }
    assert_ne!(grep_count("WAL-1", &backup), "0", "grep finds what is stored in clear");
    store.close().await.unwrap();
}

/// `crypto rotate` moves every number to a new key: resumable (run again, it moves nothing),
/// audited; the server then started with the new key shows the same masked and full numbers,
/// while started with the old key it stops at once with a message naming the key it needs, and
/// the old key opens no stored number. Key files that others may read, missing files and unset
/// variables stop the start with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(xn(&["demo", "--months", "0", "--data-dir", &d]).status.success());
    let old_key = dir.path().join("sm4.key");
    let new_key = dir.path().join("keys/new.key");
    let before = {
        let store = xiaoneng_store::Store::open(&xiaoneng_store::Location::DataDir(dir.path().to_owned()), 1)
            .await
            .unwrap()
            .with_vault(std::sync::Arc::new(vault_from(&old_key, &[])));
        let n = numbers(&store).await;
        store.close().await.unwrap();
        n
    };
    let config = |name: &str, body: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        f.to_str().unwrap().to_owned()
    };
    let old_cfg = config("old.toml", &format!("[crypto]\nkey_file = {:?}\n", old_key.to_str().unwrap()));
    let new_cfg = config("new.toml", &format!("[crypto]\nkey_file = {:?}\n", new_key.to_str().unwrap()));

    let o = xn(&["crypto", "new-key", "--to", new_key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let new_id = text(&o).split("(id ").nth(1).unwrap()[..8].to_owned();
    assert!(!text(&o).contains(std::fs::read_to_string(&new_key).unwrap().trim()), "the key is never printed");
    let o = xn(&["crypto", "new-key", "--to", new_key.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("exists already"), "{}", text(&o));

    let rotate =
        ["--config", &old_cfg, "crypto", "rotate", "--new-key-file", new_key.to_str().unwrap(), "--data-dir", &d];
    let o = xn(&rotate);
    assert!(o.status.success(), "{}", text(&o));
    let people = before.iter().filter(|(t, _, _)| t == "people").count();
    assert!(
        text(&o)
            .contains(&format!("every value is now under key {new_id} (people.mobile: {people}, supervisors.mobile: ")),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("is retired") && text(&o).contains("crypto.key_file"), "{}", text(&o));
    let o = xn(&rotate);
    assert!(o.status.success() && text(&o).contains("no other key held values"), "{}", text(&o));
    let db = sqlite(dir.path()).await;
    assert_eq!(count_where(&db, "audit_log", "action = 'crypto.rotate'").await, 2);
    let o = xn(&["--config", &new_cfg, "crypto", "status", "--data-dir", &d]);
    assert!(text(&o).contains(&format!("people.mobile: {people} under {new_id}")), "{}", text(&o));
    assert!(text(&o).contains("retired"), "{}", text(&o));

    // The old key: refused at start, and it opens nothing.
    let o = xn(&["--config", &old_cfg, "serve", "--bind", "127.0.0.1:0", "--data-dir", &d]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains(&format!("encrypted under key {new_id}, which this instance is not given")),
        "{}",
        text(&o)
    );
    let old_only = vault_from(&old_key, &[]);
    for s in strings(&db, "SELECT mobile_sealed FROM people UNION ALL SELECT mobile_sealed FROM supervisors").await {
        let sealed = xiaoneng_store::personal::Sealed(s);
        assert!(old_only.open(xiaoneng_store::personal::Field::PersonMobile, &sealed).is_err());
    }

    // The new key: the server shows the same numbers, masked in lists, in full to the office.
    let log = dir.path().join("serve.log");
    let server = serve(&["--data-dir", &d, "--config", &new_cfg], &log);
    let client = reqwest::Client::new();
    let cookie = log_in(&client, &server.base).await;
    let get = |path: String| {
        let (client, cookie, base) = (client.clone(), cookie.clone(), server.base.clone());
        async move {
            let r = client.get(format!("{base}{path}")).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{path}");
            serde_json::from_slice::<serde_json::Value>(&r.bytes().await.unwrap()).unwrap()
        }
    };
    for (_, id, n) in before.iter().filter(|(t, _, _)| t == "people").step_by(97) {
        let list = get(format!("/api/v1/people?q={n}")).await;
        assert_eq!(list["items"][0]["id"], *id, "{n} found by its index under the new key");
        assert_eq!(list["items"][0]["mobile"], format!("{}****{}", &n[..3], &n[7..]));
        assert_eq!(get(format!("/api/v1/people/{id}")).await["mobile"], n.as_str());
    }
    drop(server);

    // Key files and variables that cannot serve stop the start and say why.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = xn(&["--config", &new_cfg, "migrate", "--data-dir", &d]);
        assert!(!o.status.success() && text(&o).contains("chmod 600"), "{}", text(&o));
        std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let missing = config("missing.toml", "[crypto]\nkey_file = \"/nonexistent/sm4.key\"\n");
    let o = xn(&["--config", &missing, "migrate", "--data-dir", &d]);
    assert!(!o.status.success() && text(&o).contains("cannot read the key file /nonexistent/sm4.key"), "{}", text(&o));
    let env_cfg = config("env.toml", "[crypto]\nkey_env = \"XN_TEST_PERSONAL_KEY\"\n");
    let o = xn(&["--config", &env_cfg, "migrate", "--data-dir", &d]);
    assert!(!o.status.success() && text(&o).contains("XN_TEST_PERSONAL_KEY, which is not set"), "{}", text(&o));
    let o = xn_env(&["--config", &env_cfg, "migrate", "--data-dir", &d], &[("XN_TEST_PERSONAL_KEY", "0badc0de")]);
    assert!(!o.status.success() && text(&o).contains("4 bytes"), "{}", text(&o));
    let key_text = std::fs::read_to_string(&new_key).unwrap();
    let o = xn_env(&["--config", &env_cfg, "migrate", "--data-dir", &d], &[("XN_TEST_PERSONAL_KEY", key_text.trim())]);
    assert!(o.status.success(), "the key from a variable serves: {}", text(&o));
    db.close().await.unwrap();
}

/// Killed with SIGKILL while 32 clients rate at full speed, the server loses no rating it
/// answered 2xx for and stores none twice: a 2xx is sent only after the commit that holds it
/// (ratings share commits, decision 0037).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_keeps_every_acknowledged_rating_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(xn(&["demo", "--months", "0", "--data-dir", d]).status.success());
    let db = sqlite(dir.path()).await;
    let window = strings(&db, "SELECT CAST(id AS TEXT) FROM windows ORDER BY id LIMIT 1").await.remove(0);
    db.close().await.unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_xiaoneng"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", d])
        .env("XIAONENG__SERVER__TRUST_FORWARDED_HEADERS", "true")
        .env("XIAONENG__SERVER__JOBS", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let url = format!("http://{addr}/api/v1/public/rating-pages/w{window}/ratings");
    let client = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..32 {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let comment = format!("k{c}-{i}");
                i += 1;
                let body = serde_json::json!({"level": "satisfied", "comment": comment});
                let sent = client
                    .post(&url)
                    .header("x-forwarded-for", format!("10.9.{c}.{}", i % 250 + 1))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        let v: serde_json::Value =
                            serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
                        if let Some(id) = v["id"].as_i64() {
                            acked.push((comment, id));
                        }
                    }
                    Ok(r) => {
                        assert!(r.status().is_server_error(), "{}: {}", r.status(), r.text().await.unwrap_or_default())
                    }
                    // The server is gone: what was not answered may or may not be stored.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(Command::new("kill").args(["-KILL", &server.0.id().to_string()]).status().unwrap().success());
    server.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.unwrap());
    }
    assert!(acked.len() > 100, "the load reached the server: {} acknowledged", acked.len());
    let db = sqlite(dir.path()).await;
    let stored: std::collections::HashMap<String, i64> =
        strings(&db, "SELECT comment || ' ' || CAST(id AS TEXT) FROM ratings WHERE comment LIKE 'k%'")
            .await
            .into_iter()
            .map(|s| {
                let (c, id) = s.split_once(' ').unwrap();
                (c.to_owned(), id.parse().unwrap())
            })
            .collect();
    let rows = count_where(&db, "ratings", "comment LIKE 'k%'").await;
    assert_eq!(rows as usize, stored.len(), "a rating stored twice");
    for (comment, id) in &acked {
        assert_eq!(stored.get(comment), Some(id), "{comment} was acknowledged as {id} but is not stored");
    }
    // And the ledger agrees with what is stored.
    let o = xn(&["events", "check", "--data-dir", d]);
    assert!(o.status.success() && text(&o).contains("agree"), "{}", text(&o));
}
