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
    let first = xn(&["demo", "--data-dir", d]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("xnb_admin"), "prints the accounts");
    let db = sqlite(dir.path()).await;
    let (people, departments, audit) =
        (count(&db, "people").await, count(&db, "departments").await, count(&db, "audit_log").await);
    assert!((550..=700).contains(&people), "{people}");
    assert!((35..=45).contains(&departments), "{departments}");
    let second = xn(&["demo", "--data-dir", d]);
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
    assert!(xn(&["demo", "--data-dir", d]).status.success());
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
    let o = xn(&["demo", "--database-url", &url]);
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
    assert!(xn(&["demo", "--data-dir", &d]).status.success());
    // Writers keep adding departments and audit entries while backups are taken.
    let store =
        xiaoneng_store::Store::open(&xiaoneng_store::Location::DataDir(dir.path().to_owned()), 4).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tx = store.write().await.unwrap();
                let now = chrono::Utc::now();
                let dep = xiaoneng_store::org::create_department(
                    &tx,
                    xiaoneng_store::org::DepartmentInput {
                        code: format!("W{i}"),
                        name: format!("写入{i}"),
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
                    detail: serde_json::json!({ "i": i }),
                };
                xiaoneng_store::audit::append(&tx, store.audit_algo(), &rec).await.unwrap();
                tx.commit().await.unwrap();
                i += 1;
            }
            i
        })
    };
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
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
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
