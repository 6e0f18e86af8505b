//! The test harness: the real router in-process, a fresh database per test (a SQLite file, or a
//! PostgreSQL database made for the test), a clock the test moves, and a small city with one
//! account per role, whose security policy requires a second factor of no role.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use xiaoneng_core::{
    auth::{SecurityPolicy, hash_password},
    clock::ManualClock,
    rbac::Role,
};
use xiaoneng_server::{AppState, ServerConfig, app};
use xiaoneng_store::{
    Location, Store,
    accounts::{self, NewUser},
    org::{self, DepartmentInput, PersonInput},
};

pub const PASSWORD: &str = "Xiaoneng#2026";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite, and on PostgreSQL when `XIAONENG_TEST_POSTGRES_URL` is set (which
/// CI requires); built without it, the PostgreSQL half is reported as ignored (see build.rs).
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await {
                    let f = $body;
                    f(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await {
                    let f = $body;
                    f(app).await;
                }
            }
        }
    };
}

pub fn pg_admin_url() -> Option<String> {
    match std::env::var("XIAONENG_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !matches!(std::env::var("CI").ok().as_deref(), Some("true" | "1")),
                "CI=true but XIAONENG_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI"
            );
            None
        }
    }
}

/// A URL like the admin URL but naming database `db`.
pub fn pg_url_for(admin: &str, db: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let host_at = base.find("://").map_or(0, |p| p + 3);
    let root = base[host_at..].find('/').map_or(base, |i| &base[..host_at + i]);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A database of the test's own; dropped when the test ends.
pub struct TestDb {
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                Some(TestDb { location: Location::DataDir(dir.path().to_owned()), _dir: Some(dir), pg: None })
            }
            Backend::Postgres => {
                let admin = pg_admin_url()?;
                let name = format!("xn_test_{}", hex::encode(rand::random::<[u8; 6]>()));
                let conn = sea_orm::Database::connect(&admin).await.expect("connect to XIAONENG_TEST_POSTGRES_URL");
                use sea_orm::ConnectionTrait;
                conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                conn.close().await.ok();
                Some(TestDb { location: Location::Url(pg_url_for(&admin, &name)), _dir: None, pg: Some((admin, name)) })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        if self.pg.is_some() { Backend::Postgres } else { Backend::Sqlite }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async; a thread of its own keeps this off the test's runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    use sea_orm::ConnectionTrait;
                    if let Ok(c) = sea_orm::Database::connect(&admin).await {
                        let _ = c.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                        let _ = c.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub store: Store,
    pub clock: ManualClock,
    pub db: TestDb,
    /// The evidence store's folder.
    pub objects_dir: tempfile::TempDir,
    /// Fixture ids by name: departments, people, users.
    pub ids: HashMap<&'static str, i64>,
    /// The key for personal data this test's store holds, as an operator's key file would.
    pub key: [u8; 32],
}

/// The server's defaults, but a hashing permit is waited for long enough that a test on a busy
/// 2-core machine never meets 503 `busy` by accident, and the tests' robots and mail server on
/// 127.0.0.1 are allowed as the operator would allow an office relay.
pub fn test_config() -> ServerConfig {
    ServerConfig { hash_wait: std::time::Duration::from_secs(60), egress: local_egress(), ..ServerConfig::default() }
}

/// A vault of these keys (the first current), as the cli builds from key files.
pub fn vault_of(current: &[u8; 32], previous: &[[u8; 32]]) -> xiaoneng_store::personal::Vault {
    let key = |b: &[u8; 32]| xiaoneng_core::crypto::MasterKey::from_bytes(b).expect("key");
    xiaoneng_store::personal::Vault::new(key(current), previous.iter().map(key).collect())
}

/// A vault of a key of its own.
pub fn test_vault() -> xiaoneng_store::personal::Vault {
    vault_of(&rand::random(), &[])
}

fn shared_hash() -> String {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password(PASSWORD).expect("hash")).clone()
}

/// (username, role, department key) of the fixture's accounts.
pub const ACCOUNTS: &[(&str, Role, Option<&str>)] = &[
    ("office", Role::OfficeAdmin, None),
    ("inspector", Role::Inspector, None),
    ("head_a", Role::DeptHead, Some("dept_a")),
    ("liaison_a", Role::DeptLiaison, Some("dept_a")),
    ("staff_a", Role::Staff, Some("dept_a")),
    ("leader", Role::CityLeader, None),
    ("sysadmin", Role::SysAdmin, None),
    ("secadmin", Role::SecAdmin, None),
    ("auditor", Role::AuditAdmin, None),
    ("head_b", Role::DeptHead, Some("dept_b")),
];

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        let db = TestDb::new(backend).await?;
        let key: [u8; 32] = rand::random();
        let store = Store::open(&db.location, 5).await.expect("open store").with_vault(Arc::new(vault_of(&key, &[])));
        store.migrate().await.expect("migrate");
        // Monday 2026-11-02, 09:00 in Shanghai.
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).single().expect("time"));
        let objects_dir = tempfile::tempdir().expect("objects dir");
        let objects = object_store::local::LocalFileSystem::new_with_prefix(objects_dir.path()).expect("objects");
        let state = AppState::new(store.clone(), Arc::new(clock.clone()), test_config(), Arc::new(objects));
        let router = app(state.clone());
        let mut t = TestApp { router, state, store, clock, db, objects_dir, ids: HashMap::new(), key };
        t.seed().await;
        Some(t)
    }

    /// City → bureau A (with division A1) and bureau B; a person in each; one account per role.
    async fn seed(&mut self) {
        let now = self.clock_now();
        let tx = self.store.write().await.expect("tx");
        let dep = |code: &str, name: &str, parent: Option<i64>, cat: &str| DepartmentInput {
            code: code.into(),
            name: name.into(),
            parent_id: parent,
            category: xiaoneng_core::org::DepartmentCategory::parse(cat).unwrap(),
            is_focus: false,
            sort_order: 0,
        };
        let city = org::create_department(&tx, dep("CITY", "市直机关", None, "general"), now).await.expect("city");
        let a = org::create_department(&tx, dep("A", "市场监督管理局", Some(city.id), "law_enforcement"), now)
            .await
            .expect("a");
        let a1 =
            org::create_department(&tx, dep("A1", "登记注册科", Some(a.id), "window_service"), now).await.expect("a1");
        let b = org::create_department(&tx, dep("B", "发展和改革委员会", Some(city.id), "economic_service"), now)
            .await
            .expect("b");
        let person = |no: &str, name: &str, d: i64| PersonInput {
            employee_no: no.into(),
            name: name.into(),
            gender: xiaoneng_core::org::Gender::Male,
            department_id: d,
            post_id: None,
            window_id: None,
            mobile: Some("13812345678".into()),
            is_head: false,
            is_leader_in_charge: false,
        };
        let v = self.store.vault();
        let (_, pa) = org::save_person(&tx, v, None, person("P-A", "张伟", a.id), now).await.expect("pa");
        let (_, pa1) = org::save_person(&tx, v, None, person("P-A1", "王芳", a1.id), now).await.expect("pa1");
        let (_, pb) = org::save_person(&tx, v, None, person("P-B", "李娜", b.id), now).await.expect("pb");
        for (k, v) in [
            ("city", city.id),
            ("dept_a", a.id),
            ("dept_a1", a1.id),
            ("dept_b", b.id),
            ("person_a", pa.id),
            ("person_a1", pa1.id),
            ("person_b", pb.id),
        ] {
            self.ids.insert(k, v);
        }
        for (username, role, dept) in ACCOUNTS {
            let department_id = dept.map(|d| self.ids[d]);
            let person_id = (*username == "staff_a").then_some(pa.id);
            let u = accounts::create_user(
                &tx,
                NewUser {
                    username: (*username).into(),
                    display_name: (*username).into(),
                    password_hash: shared_hash(),
                    person_id,
                    department_id,
                    must_change_password: false,
                },
                now,
            )
            .await
            .expect("user");
            accounts::set_roles(&tx, u.id, &[*role], None, now).await.expect("roles");
            self.ids.insert(username, u.id);
        }
        // The city requires a second factor of nobody, so that the other tests log in with a
        // password alone; second_factor.rs puts the requirement back where it tests it.
        let policy = SecurityPolicy { second_factor_roles: Vec::new(), ..SecurityPolicy::default() };
        xiaoneng_store::settings::put(&tx, xiaoneng_store::settings::SECURITY_POLICY, &policy, None, now)
            .await
            .expect("policy");
        tx.commit().await.expect("commit");
    }

    /// Another account, for tests that need more than one of a role.
    pub async fn add_user(&self, username: &str, role: Role, department: Option<i64>) -> i64 {
        self.add_linked_user(username, role, department, None).await
    }

    /// Another account, linked to a staff member.
    pub async fn add_linked_user(
        &self,
        username: &str,
        role: Role,
        department: Option<i64>,
        person_id: Option<i64>,
    ) -> i64 {
        let now = self.clock_now();
        let tx = self.store.write().await.expect("tx");
        let u = accounts::create_user(
            &tx,
            NewUser {
                username: username.into(),
                display_name: username.into(),
                password_hash: shared_hash(),
                person_id,
                department_id: department,
                must_change_password: false,
            },
            now,
        )
        .await
        .expect("user");
        accounts::set_roles(&tx, u.id, &[role], None, now).await.expect("roles");
        tx.commit().await.expect("commit");
        u.id
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use xiaoneng_core::clock::Clock;
        self.clock.now()
    }

    pub async fn login(&self, username: &str) -> Session {
        self.login_with(username, PASSWORD).await.expect("login")
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Result<Session, Resp> {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({ "username": username, "password": password })),
            )
            .await;
        if r.status != StatusCode::OK {
            return Err(r);
        }
        Ok(Session::from_answer(&r))
    }

    /// Another instance of the server on the test's database and clock (its own pool, caches
    /// and hashing permits), configured as given.
    pub async fn instance(&self, config: ServerConfig) -> (Router, AppState) {
        self.instance_with(config, self.store.vault_arc()).await
    }

    /// Another instance, given these keys for personal data.
    pub async fn instance_with(
        &self,
        config: ServerConfig,
        vault: Arc<xiaoneng_store::personal::Vault>,
    ) -> (Router, AppState) {
        let store = Store::open(&self.db.location, 3).await.expect("open store").with_vault(vault);
        let objects = object_store::local::LocalFileSystem::new_with_prefix(self.objects_dir.path()).expect("objects");
        let state = AppState::new(store, Arc::new(self.clock.clone()), config, Arc::new(objects));
        (app(state.clone()), state)
    }

    pub async fn call(&self, method: Method, path: &str, s: Option<&Session>, body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(s) = s {
            b = b.header(header::COOKIE, &s.cookie);
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        send_to(&self.router, req).await
    }

    pub async fn get(&self, path: &str, s: &Session) -> Resp {
        self.call(Method::GET, path, Some(s), None).await
    }

    pub async fn post(&self, path: &str, s: &Session, body: Value) -> Resp {
        self.call(Method::POST, path, Some(s), Some(body)).await
    }

    pub async fn put(&self, path: &str, s: &Session, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(s), Some(body)).await
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    /// `name=token`, as the browser sends it back.
    pub cookie: String,
    /// The session's whole `Set-Cookie` value.
    pub set_cookie: String,
}

impl Session {
    /// The session a login answer set (the `…xn_session` cookie, not the `xn_signed_in` hint).
    #[track_caller]
    pub fn from_answer(r: &Resp) -> Session {
        let cookie = set_cookies(r)
            .into_iter()
            .find(|c| c.starts_with("xn_session=") || c.starts_with("__Host-xn_session="))
            .unwrap_or_else(|| panic!("no session cookie in {:?}", r.headers));
        let pair = cookie.split(';').next().expect("pair").to_owned();
        Session { cookie: pair, set_cookie: cookie }
    }

    /// The token alone.
    pub fn token(&self) -> &str {
        self.cookie.split_once('=').map_or("", |(_, v)| v)
    }
}

/// Sends a request to a router (this test's, or another instance's) and reads the answer.
pub async fn send_to(router: &Router, req: Request<Body>) -> Resp {
    let res = router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes().to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp { status, headers, json, bytes }
}

/// A login request, from `forwarded_for` when given (only a server that trusts its proxy
/// believes it).
pub fn login_request(username: &str, password: &str, forwarded_for: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(ip) = forwarded_for {
        b = b.header("x-forwarded-for", ip);
    }
    b.body(Body::from(serde_json::json!({ "username": username, "password": password }).to_string())).expect("request")
}

/// Every `Set-Cookie` of an answer.
pub fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().expect("ascii").to_owned()).collect()
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "expected success, got {} {}", self.status, self.json);
        &self.json
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.json);
        assert_eq!(self.code(), code, "body: {}", self.json);
    }
}

/// Where the tests' robots and mail server are allowed to be: 127.0.0.1 only.
pub fn local_egress() -> xiaoneng_server::notify::Egress {
    xiaoneng_server::notify::Egress { allowed_hosts: vec!["127.0.0.1".into()] }
}
