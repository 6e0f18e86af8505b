//! `xiaoneng`: the one binary. Serves the web application and API, and carries the operator's
//! commands: migrate, demo, user, audit, backup, restore, crypto.

mod backup;
mod demo;
mod demo_evidence;
mod demo_inquiries;
mod demo_inspections;
mod demo_ratings;
mod demo_rectification;
mod demo_service;
mod keys;
mod settings;

use std::{io::Read, net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use xiaoneng_core::{
    auth::{AccountStatus, SecurityPolicy, hash_password},
    clock::{Clock, SystemClock},
    org::parse_username,
    rbac::Role,
};
use xiaoneng_server::{AppState, ServerConfig, notify::Egress};
use xiaoneng_store::{
    Store, StoreError, accounts, audit,
    audit::{AuditRecord, Outcome},
    org, settings as store_settings,
};

use crate::settings::Settings;

#[derive(Parser)]
#[command(name = "xiaoneng", version, about = "效能 Xiaoneng — supervising the efficiency of government services")]
struct Cli {
    /// A TOML settings file (default: ./xiaoneng.toml when it exists).
    #[arg(long, global = true, env = "XIAONENG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Db {
    /// Directory of the embedded SQLite database (default ./data).
    #[arg(long, conflicts_with = "database_url")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL, postgres://user:password@host:5432/db.
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the application until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on.
        #[arg(long)]
        bind: Option<String>,
        /// Fill the database with the demo city first (changes nothing if already done).
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        db: Db,
    },
    /// Bring the database schema up to date.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Fill the database with a demo city and print its accounts. Running it again changes nothing.
    Demo {
        /// Make the city as it would stand at this moment (RFC 3339, e.g. 2027-01-04T09:00:00+08:00)
        /// instead of now: to see its story on another day of the month or the year.
        #[arg(long, value_name = "TIME")]
        as_of: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Months of service cases and ratings behind the city, at a real city's volume (about
        /// 1,000 cases a working day). 0 keeps only the weeks its story needs, as the tests do.
        #[arg(long, default_value_t = demo::MONTHS, value_parser = clap::value_parser!(u32).range(0..=36))]
        months: u32,
        #[command(flatten)]
        db: Db,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The event ledger.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Write a consistent copy of the database to FILE while the server runs: SQLite's
    /// `VACUUM INTO`, or on PostgreSQL `pg_dump --format=custom` (needs postgresql-client).
    Backup {
        /// The backup file to create (must not exist).
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// The key that personal data (mobile numbers) is encrypted under.
    Crypto {
        #[command(subcommand)]
        command: CryptoCommand,
    },
    /// Restore a backup made by `backup` into an empty database, then check its audit chain and
    /// its ledger. Stop the servers first.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Restore over an existing database. Nothing is dropped: a SQLite file is kept beside,
        /// renamed; a PostgreSQL schema is kept, renamed `public_before_restore_<UTC time>`.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account with a role. The password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// One of: office_admin, inspector, dept_head, dept_liaison, staff, city_leader,
        /// sys_admin, sec_admin, audit_admin.
        #[arg(long)]
        role: String,
        /// The department's code (required for dept_head, dept_liaison and staff).
        #[arg(long)]
        department: Option<String>,
        /// The name shown in the application (default: the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Link the account to this person (employee number).
        #[arg(long)]
        person: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: Db,
    },
    /// Set a new password (read from standard input) and unlock the account. The way to recover
    /// the accounts of the three IT admins, which the web application does not manage.
    ResetPassword {
        #[arg(long)]
        username: String,
        /// Make the user choose a new password at next login.
        #[arg(long)]
        must_change: bool,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: Db,
    },
    /// Disable an account (it is kept) and end its sessions.
    Disable {
        #[arg(long)]
        username: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        db: Db,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        username: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        db: Db,
    },
    /// Reset an account's two-step verification (a lost phone and no recovery code left): its app
    /// and recovery codes stop working, its sessions end, and the user sets up an app again at
    /// next login. The way for the security admins' own accounts, which the web application
    /// does not let them reset themselves.
    ResetSecondFactor {
        #[arg(long)]
        username: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum CryptoCommand {
    /// Write a new random key (256 bits, hex) to FILE, readable by its owner only.
    NewKey {
        /// The key file to create (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Which keys the database's personal data is under, and how many values each holds.
    Status {
        #[command(flatten)]
        db: Db,
    },
    /// Re-encrypt every value under one key, in batches: the configured key (crypto.key_file or
    /// key_env) with the old one listed in crypto.previous_key_files, or --new-key-file with the
    /// configured key as the old one. Resumable: run again after an interruption. Audited. The old
    /// key is no longer needed once it finishes.
    Rotate {
        /// The new key; the configured key is then the old one. Without it, the configured key is
        /// the new one and crypto.previous_key_files the old.
        #[arg(long)]
        new_key_file: Option<PathBuf>,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Replay every record's events and compare with the state stored: exit 0 when they agree,
    /// 1 naming each record that differs.
    Check {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain: exit 0 when intact, 1 naming the first broken entry.
    Verify {
        #[command(flatten)]
        db: Db,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&s.log.level));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if s.log.format == "json" { b.json().init() } else { b.init() }
}

/// Opens the database; `migrate` brings its schema up to date first and checks the key for
/// personal data against it, making one in the data folder if none is configured (commands that
/// only read, such as backup and audit verify, leave it as it is and hold no key).
async fn open_db(settings: &Settings, db: Db, migrate: bool) -> anyhow::Result<Store> {
    let vault = if migrate {
        keys::vault(settings, db.data_dir.as_deref(), keys::Missing::Generate)?
    } else {
        xiaoneng_store::personal::Vault::none()
    };
    open_with(settings, db, migrate, vault).await
}

async fn open_with(
    settings: &Settings,
    db: Db,
    migrate: bool,
    vault: xiaoneng_store::personal::Vault,
) -> anyhow::Result<Store> {
    let location = settings.location(db.data_dir, db.database_url);
    let store = Store::open(&location, settings.database.max_connections)
        .await
        .with_context(|| format!("cannot open the database at {}", location.describe()))?
        .with_audit_algo(settings.audit_algo()?)
        .with_vault(keys::shared(vault));
    if migrate {
        let m = store.migrate().await.map_err(|e| match e {
            StoreError::Key(m) => anyhow::anyhow!("the key for personal data does not fit this database: {m}"),
            e => anyhow::Error::from(e).context("cannot migrate the database"),
        })?;
        if let Some(id) = m.key_registered {
            tracing::info!(key_id = %id, "personal data in this database is now encrypted under this key");
        }
        if m.encrypted > 0 {
            tracing::info!(values = m.encrypted, "encrypted the mobile numbers that were stored in clear");
        }
    }
    Ok(store)
}

async fn open(settings: &Settings, db: Db) -> anyhow::Result<Store> {
    open_db(settings, db, true).await
}

fn cli_record(action: &str, target_type: &str, target_id: impl ToString, detail: serde_json::Value) -> AuditRecord {
    AuditRecord {
        at: SystemClock.now(),
        actor_user_id: None,
        actor: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into())),
        ip: "local".into(),
        action: action.into(),
        target_type: target_type.into(),
        target_id: target_id.to_string(),
        outcome: Outcome::Ok,
        detail,
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { bind, demo, db } => serve(settings, bind, demo, db).await,
        Command::Migrate { db } => {
            let store = open(&settings, db).await?;
            store.close().await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { as_of, months, db } => {
            let objects = settings.objects(db.data_dir.as_deref())?;
            let store = open(&settings, db).await?;
            let now = as_of.map_or_else(|| SystemClock.now(), |t| t.with_timezone(&chrono::Utc));
            demo::seed(&store, objects.as_ref(), months, now).await?;
            demo::print_accounts();
            store.close().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Add { username, role, department, display_name, person, password_stdin: _, db },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let store = open(&settings, db).await?;
            let id = add_user(
                &store,
                &username,
                &role,
                department.as_deref(),
                display_name.as_deref(),
                person.as_deref(),
                &password,
            )
            .await?;
            store.close().await?;
            println!("created user {username} (id {id}) with role {role}");
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::ResetPassword { username, must_change, password_stdin: _, db } } => {
            let password = read_password()?;
            let store = open(&settings, db).await?;
            let u = find_user(&store, &username).await?;
            let policy: SecurityPolicy = store_settings::get(store.db(), store_settings::SECURITY_POLICY).await?;
            policy.check_password(&u.username, &password).map_err(|e| anyhow::anyhow!("password refused: {}", e.en))?;
            let now = SystemClock.now();
            let tx = store.write().await?;
            accounts::set_password(&tx, u.id, hash_password(&password)?, must_change, now).await?;
            let ended = accounts::end_user_sessions(&tx, u.id, None, "password_reset", now).await?;
            let rec = cli_record("user.reset_password", "user", u.id, json!({ "sessions_ended": ended }));
            audit::append(&tx, store.audit_algo(), &rec).await?;
            tx.commit().await?;
            store.close().await?;
            println!("password of {username} reset; account unlocked");
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Disable { username, reason, db } } => {
            set_status(&settings, db, &username, AccountStatus::Disabled, &reason).await
        }
        Command::User { command: UserCommand::Enable { username, reason, db } } => {
            set_status(&settings, db, &username, AccountStatus::Active, &reason).await
        }
        Command::User { command: UserCommand::ResetSecondFactor { username, reason, db } } => {
            let store = open(&settings, db).await?;
            let u = find_user(&store, &username).await?;
            let now = SystemClock.now();
            let tx = store.write().await?;
            let mut ended = Vec::new();
            use xiaoneng_store::second_factor as factors;
            for f in [factors::active_of(&tx, u.id).await?, factors::pending_of(&tx, u.id).await?].into_iter().flatten()
            {
                let step = factors::Step::Ended { by: None, reason: reason.clone() };
                ended.push(
                    factors::apply(&tx, &f, xiaoneng_core::second_factor::FactorState::Reset, step, now).await?.id,
                );
            }
            factors::set_must_enrol(&tx, u.id, true, now).await?;
            let sessions = accounts::end_user_sessions(&tx, u.id, None, "factor_reset", now).await?;
            factors::end_challenges_of(&tx, u.id, "second_factor_reset", now).await?;
            let detail = json!({ "reason": reason, "enrolments": ended, "sessions_ended": sessions });
            audit::append(&tx, store.audit_algo(), &cli_record("user.second_factor.reset", "user", u.id, detail))
                .await?;
            tx.commit().await?;
            store.close().await?;
            println!("two-step verification of {username} reset; the user sets it up again at next login");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { db } } => {
            let store = open_db(&settings, db, false).await?;
            let r = store.verify_audit().await?;
            store.close().await?;
            match r {
                Ok(n) => {
                    println!("audit chain intact: {n} entries");
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    eprintln!("audit chain BROKEN at entry {}: {}", b.seq, b.reason);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Events { command: EventsCommand::Check { db } } => {
            let store = open_db(&settings, db, false).await?;
            let problems = xiaoneng_store::ledger::check(store.db()).await?;
            let events = xiaoneng_store::ledger::count(store.db()).await?;
            store.close().await?;
            if problems.is_empty() {
                println!("the ledger ({events} events) and the records agree");
                return Ok(ExitCode::SUCCESS);
            }
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} records differ from their events", problems.len());
            Ok(ExitCode::FAILURE)
        }
        Command::Backup { to, db } => backup::backup(&settings, db, &to).await,
        Command::Crypto { command } => crypto(&settings, command).await,
        Command::Restore { from, force, db } => backup::restore(&settings, db, &from, force).await,
    }
}

async fn crypto(settings: &Settings, command: CryptoCommand) -> anyhow::Result<ExitCode> {
    use xiaoneng_store::personal::{self, KEY_REGISTRY, KeyRegistry, Vault};

    match command {
        CryptoCommand::NewKey { to } => {
            let k = keys::write_new_key(&to)?;
            println!(
                "wrote a new key (id {}) to {}, readable by its owner only. Back it up apart from the database.",
                k.id(),
                to.display()
            );
        }
        CryptoCommand::Status { db } => {
            let vault = keys::vault(settings, db.data_dir.as_deref(), keys::Missing::Allow)?;
            let store = open_db(settings, db, false).await?;
            let reg: KeyRegistry = store_settings::get(store.db(), KEY_REGISTRY).await?;
            let status = personal::status(store.db()).await?;
            store.close().await?;
            match vault.current_id() {
                Some(id) => println!("configured key: {id} (current){}", {
                    let prev: Vec<&str> = vault.ids().into_iter().skip(1).collect();
                    if prev.is_empty() { String::new() } else { format!(", previous: {}", prev.join(", ")) }
                }),
                None => println!("configured key: none"),
            }
            for k in &reg.keys {
                match k.retired_at {
                    None => println!("database key {}: in use since {}", k.id, k.added_at.format("%Y-%m-%d %H:%M UTC")),
                    Some(at) => println!("database key {}: retired {}", k.id, at.format("%Y-%m-%d %H:%M UTC")),
                }
            }
            for c in &status {
                let under: Vec<String> = c.by_key.iter().map(|(k, n)| format!("{n} under {k}")).collect();
                let under = if under.is_empty() { "none".to_owned() } else { under.join(", ") };
                let clear = if c.in_clear > 0 { format!(", {} still in clear", c.in_clear) } else { String::new() };
                println!("{}: {under}{clear}", c.column);
            }
        }
        CryptoCommand::Rotate { new_key_file, db } => {
            let keys = keys::configured(settings, db.data_dir.as_deref(), keys::Missing::Allow)?;
            let Some(current) = keys.current else {
                bail!("no key is configured: a rotation needs the key the data is under (crypto.key_file or key_env)")
            };
            let (vault, next_step) = match &new_key_file {
                Some(f) => {
                    let new = keys::read_key_file(f).context("--new-key-file")?;
                    let old = std::iter::once(current).chain(keys.previous).collect();
                    (
                        Vault::new(new, old),
                        format!(
                            "now set crypto.key_file to {} and restart every instance (until then they cannot read \
                             the numbers); keep the old key until every instance runs with the new one",
                            f.display()
                        ),
                    )
                }
                None => {
                    anyhow::ensure!(
                        !keys.previous.is_empty(),
                        "nothing to rotate from: give --new-key-file, or set the new key as crypto.key_file and \
                         list the old one in crypto.previous_key_files"
                    );
                    (
                        Vault::new(current, keys.previous),
                        "now remove crypto.previous_key_files and restart every instance".to_owned(),
                    )
                }
            };
            let store = open_with(settings, db, true, vault).await?;
            let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
            let mut batches = 0u32;
            let r = personal::rotate(
                &store,
                &actor,
                || SystemClock.now(),
                |field, n| {
                    batches += 1;
                    if n > 0 {
                        println!("{field}: {n} re-encrypted");
                    }
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Key(m) => anyhow::anyhow!("rotation stopped: {m}"),
                e => e.into(),
            })?;
            store.close().await?;
            let moved: Vec<String> = r.moved.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            println!("every value is now under key {} ({}; {batches} batches)", r.to, moved.join(", "));
            if r.retired.is_empty() {
                println!("no other key held values");
            } else {
                println!("key {} no longer holds any value and is retired; {next_step}", r.retired.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).context("cannot read the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

async fn find_user(store: &Store, username: &str) -> anyhow::Result<xiaoneng_store::entity::user::Model> {
    accounts::find_by_username(store.db(), &username.to_ascii_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user named {username}"))
}

async fn set_status(
    settings: &Settings,
    db: Db,
    username: &str,
    status: AccountStatus,
    reason: &str,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!reason.trim().is_empty(), "--reason must say why");
    let store = open(settings, db).await?;
    let u = find_user(&store, username).await?;
    anyhow::ensure!(u.status != status, "{username} is already {status}");
    let tx = store.write().await?;
    accounts::set_status(&tx, u.id, status, SystemClock.now()).await?;
    let action = if status == AccountStatus::Disabled { "user.disable" } else { "user.enable" };
    audit::append(&tx, store.audit_algo(), &cli_record(action, "user", u.id, json!({ "reason": reason }))).await?;
    tx.commit().await?;
    store.close().await?;
    println!("{username} is now {status}");
    Ok(ExitCode::SUCCESS)
}

async fn add_user(
    store: &Store,
    username: &str,
    role: &str,
    department: Option<&str>,
    display_name: Option<&str>,
    person: Option<&str>,
    password: &str,
) -> anyhow::Result<i64> {
    let username = parse_username(username).map_err(|e| anyhow::anyhow!(e.en))?;
    let role = Role::parse(role).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown role {role:?}; one of: {}",
            Role::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let policy: SecurityPolicy = store_settings::get(store.db(), store_settings::SECURITY_POLICY).await?;
    policy.check_password(&username, password).map_err(|e| anyhow::anyhow!("password refused: {}", e.en))?;
    let department_id = match department {
        Some(code) => Some(
            org::department_by_code(store.db(), &code.to_ascii_uppercase())
                .await?
                .filter(|d| d.status == xiaoneng_core::org::Status::Active)
                .ok_or_else(|| anyhow::anyhow!("no active department with code {code}"))?
                .id,
        ),
        None if role.needs_department() => bail!("role {role} needs --department CODE"),
        None => None,
    };
    let person_id = match person {
        Some(no) => {
            let p = org::person_by_employee_no(store.db(), no)
                .await?
                .filter(|p| p.status == xiaoneng_core::org::Status::Active)
                .ok_or_else(|| anyhow::anyhow!("no active person with employee number {no}"))?;
            if department_id.is_some_and(|d| d != p.department_id) {
                bail!("person {no} does not belong to department {}", department.unwrap_or_default());
            }
            Some(p.id)
        }
        None => None,
    };
    let hash = hash_password(password)?;
    let now = SystemClock.now();
    let tx = store.write().await?;
    let u = accounts::create_user(
        &tx,
        accounts::NewUser {
            username: username.clone(),
            display_name: display_name.unwrap_or(&username).to_owned(),
            password_hash: hash,
            person_id,
            department_id,
            // The operator chose this password: no forced change at first login.
            must_change_password: false,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => anyhow::anyhow!("user {username} exists already"),
        e => e.into(),
    })?;
    accounts::set_roles(&tx, u.id, &[role], None, now).await?;
    audit::append(
        &tx,
        store.audit_algo(),
        &cli_record("user.create", "user", u.id, json!({ "username": username, "role": role.code() })),
    )
    .await?;
    tx.commit().await?;
    Ok(u.id)
}

async fn serve(settings: Settings, bind: Option<String>, demo: bool, db: Db) -> anyhow::Result<ExitCode> {
    let location = settings.location(db.data_dir.clone(), db.database_url.clone());
    let objects = settings.objects(db.data_dir.as_deref())?;
    let mut store = open(&settings, db.clone()).await?;
    if demo {
        demo::seed(&store, objects.as_ref(), demo::MONTHS, SystemClock.now()).await?;
        demo::print_accounts();
        // SQLite reads the planner's statistics when a connection opens: those the seeding
        // opened before its ANALYZE would plan the year's measures without them (minutes a
        // query, decision 0038). Serve from connections opened after it.
        store.close().await?;
        store = open(&settings, db).await?;
    }
    let bind = bind.unwrap_or_else(|| settings.server.bind.clone());
    let addr: SocketAddr =
        bind.parse().with_context(|| format!("--bind {bind:?} is not an address like 127.0.0.1:8080"))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = ServerConfig {
        secure_cookies: settings.server.secure_cookies,
        trust_forwarded_headers: settings.server.trust_forwarded_headers,
        trusted_proxies: settings.server.trusted_proxies,
        max_body_bytes: settings.server.max_body_mb * 1024 * 1024,
        fonts_dir: settings.server.fonts_dir.clone(),
        egress: Egress { allowed_hosts: settings.notify.allowed_hosts.clone() },
        ..ServerConfig::default()
    };
    let egress = config.egress.clone();
    let state = AppState::new(store.clone(), clock.clone(), config, objects.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let jobs = settings.server.jobs.then(|| {
        let worker =
            format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "xiaoneng".into()), std::process::id());
        tokio::spawn(xiaoneng_server::jobs::runner(store.clone(), clock.clone(), objects, egress, worker).run(stop_rx))
    });
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %location.describe(), web = xiaoneng_server::web::embedded(), "xiaoneng is serving");
    if !xiaoneng_server::web::embedded() {
        eprintln!("note: this build carries no web application (build it with `bash scripts/run.sh`); the API works");
    }
    let shutdown = shutdown_signal().context("cannot listen for SIGTERM and SIGINT")?;
    println!("xiaoneng is serving on http://{addr}  (database: {})", location.describe());
    axum::serve(listener, xiaoneng_server::app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    if let Some(j) = jobs {
        let _ = j.await;
    }
    store.close().await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// What stops the server: SIGTERM or SIGINT (Ctrl-C). The handlers are installed here, before the
/// server says it is serving, so that a signal sent as soon as it answers stops it cleanly instead
/// of killing it (a handler installed only when the shutdown future is first polled could be late).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}
