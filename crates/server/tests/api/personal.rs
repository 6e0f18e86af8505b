//! Personal data at rest (decision 0030), on both databases: a mobile number given to the API or
//! an import is found nowhere in the database in clear (SQLite: the bytes of the database file
//! and its WAL, what `grep` reads; PostgreSQL: every row of every table as text), yet lists show
//! it masked, an editor sees it in full (audited) and a whole number finds its person; the
//! database refuses a number written in clear; a rotation moves every number to a new key, after
//! which the old key opens none and an instance given only the old key stops at start; a city
//! stored before encryption has its numbers encrypted at its first start with a key.

use std::sync::Arc;

use axum::http::{Method, Request, header};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use xiaoneng_core::crypto::envelope_prefix;
use xiaoneng_store::{
    Location, Store, StoreError,
    personal::{self, Field, Sealed},
};

use crate::{
    both,
    support::{TestApp, send_to, test_config, test_vault, vault_of},
};

async fn strings(c: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    c.query_all_raw(Statement::from_string(c.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<Option<String>>(0).unwrap().unwrap_or_default())
        .collect()
}

async fn number(c: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = c.query_one_raw(Statement::from_string(c.get_database_backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Where `needle` can be found in the database as it is stored.
pub async fn places_holding(location: &Location, db: &impl ConnectionTrait, needle: &str) -> Vec<String> {
    match location {
        Location::DataDir(dir) => {
            let mut found = Vec::new();
            for f in [xiaoneng_store::SQLITE_FILE.to_owned(), format!("{}-wal", xiaoneng_store::SQLITE_FILE)] {
                let bytes = std::fs::read(dir.join(&f)).unwrap_or_default();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(f);
                }
            }
            found
        }
        Location::Url(_) => {
            let tables = strings(
                db,
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .await;
            assert!(tables.len() > 30, "{tables:?}");
            let mut found = Vec::new();
            for t in tables {
                let n = number(db, &format!("SELECT COUNT(*) FROM \"{t}\" x WHERE x::text LIKE '%{needle}%'")).await;
                if n > 0 {
                    found.push(t);
                }
            }
            found
        }
    }
}

async fn import(app: &TestApp, s: &crate::support::Session, rows: &[&[&str]]) -> crate::support::Resp {
    crate::organisation::upload(app, s, crate::organisation::workbook(rows)).await
}

both!(numbers_are_never_stored_in_clear, |app: TestApp| async move {
    let office = app.login("office").await;
    let a = app.ids["dept_a"];
    let p = app
        .post(
            "/api/v1/people",
            &office,
            json!({"employee_no": "PX-1", "name": "钱一", "gender": "male", "department_id": a, "mobile": "139 1234 5001"}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.json);
    let px1 = p.json["id"].as_i64().unwrap();
    assert_eq!(p.json["mobile"], "13912345001", "the one who typed it sees it back");
    let header: &[&str] = &["工号", "姓名", "性别", "部门编码", "手机号"];
    let r = import(
        &app,
        &office,
        &[
            header,
            &["PX-2", "钱二", "女", "A", "13912345002"],
            &["PX-3", "钱三", "男", "B", "13912345003"],
            &["P-B", "李娜", "女", "B", "13912345004"],
        ],
    )
    .await;
    assert_eq!((r.ok()["created"].as_i64(), r.json["updated"].as_i64()), (Some(2), Some(1)), "{}", r.json);
    let s = app
        .post(
            "/api/v1/supervisors",
            &office,
            json!({"code": "JD-X", "name": "孙监督", "kind": "npc_deputy", "organisation": "市人大",
                   "mobile": "13712345005", "term_start": "2026-01-01", "term_end": "2027-12-31"}),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.json);
    let sid = s.json["id"].as_i64().unwrap();
    // A member of the public's number, left with the staff member they asked first.
    let staff_a = app.login("staff_a").await;
    let asked = json!({"channel": "counter", "content": "营业执照补办", "phone": "13512345006", "then": "keep"});
    let i = app.post("/api/v1/inquiries", &staff_a, asked).await;
    assert_eq!(i.json["phone"], "135****5006", "{}", i.json);

    // Nowhere in clear: not in a column, not in the audit log, not in the files.
    let db = app.store.db();
    for n in ["13912345001", "13912345002", "13912345003", "13912345004", "13712345005", "13812345678", "13512345006"] {
        let found = places_holding(&app.db.location, db, n).await;
        assert!(found.is_empty(), "{n} is stored in clear in {found:?}");
    }
    // What the search looks at is there: the scan finds what is stored in clear.
    assert!(!places_holding(&app.db.location, db, "PX-1").await.is_empty(), "the scan reads the data");
    assert_eq!(number(db, "SELECT COUNT(*) FROM people WHERE mobile IS NOT NULL").await, 0);
    assert_eq!(number(db, "SELECT COUNT(*) FROM people WHERE mobile_sealed LIKE 'sm4gcm:%'").await, 6);
    assert_eq!(number(db, "SELECT COUNT(*) FROM people WHERE length(mobile_index) = 64").await, 6);
    let prefix = envelope_prefix(app.store.vault().current_id().unwrap());
    let sealed = strings(db, &format!("SELECT mobile_sealed FROM people WHERE id = {px1}")).await;
    assert!(sealed[0].starts_with(&prefix), "{sealed:?}");
    // Each value has its own nonce: the seed's three equal numbers are three different envelopes.
    let seeds = strings(db, "SELECT mobile_sealed FROM people WHERE employee_no IN ('P-A', 'P-A1')").await;
    assert_ne!(seeds[0], seeds[1]);

    // The database refuses a number written in clear, whoever writes it.
    let refused = db
        .execute_unprepared(&format!("UPDATE people SET mobile = '13800000000' WHERE id = {px1}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("mobile"), "{refused}");
    let insert = |code: &str, mobile: &str| {
        format!(
            "INSERT INTO supervisors (code, name, kind, organisation, mobile, term_start, term_end, status, created_at, updated_at) \
             VALUES ('{code}', 'x', 'npc_deputy', 'y', {mobile}, '2026-01-01', '2026-12-31', 'active', '{now}', '{now}')",
            now = app.clock_now().to_rfc3339()
        )
    };
    db.execute_unprepared(&insert("JD-Y", "NULL")).await.unwrap();
    let refused = db.execute_unprepared(&insert("JD-Z", "'13800000000'")).await.unwrap_err().to_string();
    assert!(refused.contains("mobile"), "{refused}");

    // Lists masked; one person in full for an editor, audited; masked for a head.
    let list = app.get("/api/v1/people?q=%E9%92%B1&sort=employee_no", &office).await;
    let shown: Vec<&str> =
        list.ok()["items"].as_array().unwrap().iter().map(|p| p["mobile"].as_str().unwrap()).collect();
    assert_eq!(shown, ["139****5001", "139****5002", "139****5003"]);
    let viewed = "SELECT COUNT(*) FROM audit_log WHERE action = 'person.mobile_viewed'";
    assert_eq!(number(db, viewed).await, 0);
    assert_eq!(app.get(&format!("/api/v1/people/{px1}"), &office).await.ok()["mobile"], "13912345001");
    assert_eq!(number(db, viewed).await, 1);
    let head_a = app.login("head_a").await;
    assert_eq!(app.get(&format!("/api/v1/people/{px1}"), &head_a).await.ok()["mobile"], "139****5001");
    assert_eq!(number(db, viewed).await, 1, "a masked answer reveals nothing");
    assert_eq!(app.get(&format!("/api/v1/supervisors/{sid}"), &office).await.ok()["mobile"], "13712345005");
    assert_eq!(number(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'supervisor.mobile_viewed'").await, 1);
    let sup = app.get("/api/v1/supervisors?q=JD-X", &office).await;
    assert_eq!(sup.ok()["items"][0]["mobile"], "137****5005");
    // Retiring someone answers masked.
    let r = app.post(&format!("/api/v1/people/{px1}/retire"), &office, json!({"reason": "调离"})).await;
    assert_eq!(r.ok()["mobile"], "139****5001");
    // The audit log keeps the masked number only.
    let details =
        strings(db, "SELECT detail FROM audit_log WHERE action IN ('person.create', 'supervisor.create')").await;
    assert!(details.iter().all(|d| d.contains("****")), "{details:?}");

    // A whole number finds its person through the blind index; within the caller's scope only.
    let found = app.get("/api/v1/people?q=13912345002", &office).await;
    assert_eq!(found.ok()["total"], 1);
    assert_eq!(found.json["items"][0]["employee_no"], "PX-2");
    assert_eq!(app.get("/api/v1/people?q=139-1234-5004", &office).await.ok()["items"][0]["employee_no"], "P-B");
    assert_eq!(app.get("/api/v1/people?q=13912345009", &office).await.ok()["total"], 0);
    assert_eq!(app.get("/api/v1/people?q=13912345003", &head_a).await.ok()["total"], 0, "PX-3 is in B");
    // Only those who see numbers in full search by them: a reader who sees 139****5002 could
    // otherwise find the number by trying the 10,000 it may be. PX-2 is in the head's department.
    assert_eq!(app.get("/api/v1/people?q=%E9%92%B1%E4%BA%8C", &head_a).await.ok()["total"], 1, "found by name");
    assert_eq!(app.get("/api/v1/people?q=13912345002", &head_a).await.ok()["total"], 0, "not by number");
    // An export searched by number keeps the number out of the audit log.
    assert_eq!(app.get("/api/v1/people/export?q=13912345002", &office).await.status, 200);
    let exported = strings(db, "SELECT detail FROM audit_log WHERE action = 'person.export'").await;
    assert!(exported.iter().any(|d| d.contains("139****5002")), "{exported:?}");
    assert!(!exported.iter().any(|d| d.contains("13912345002")), "{exported:?}");
    // The export, masked; and an export imported back keeps the numbers.
    let export = app.get("/api/v1/people/export", &office).await;
    assert_eq!(export.status, 200);
    let r = crate::organisation::upload(&app, &office, export.bytes.to_vec()).await;
    assert_eq!(r.ok()["updated"], 6, "{}", r.json);
    assert_eq!(
        app.get(&format!("/api/v1/people/{}", app.ids["person_b"]), &office).await.ok()["mobile"],
        "13912345004"
    );
});

both!(a_rotation_moves_every_number_and_the_old_key_opens_none, |app: TestApp| async move {
    let office = app.login("office").await;
    let a = app.ids["dept_a"];
    let p = app
        .post(
            "/api/v1/people",
            &office,
            json!({"employee_no": "R-1", "name": "周一", "gender": "female", "department_id": a, "mobile": "15012340001"}),
        )
        .await;
    let r1 = p.json["id"].as_i64().unwrap();
    let s = app
        .post(
            "/api/v1/supervisors",
            &office,
            json!({"code": "JD-R", "name": "吴监督", "kind": "npc_deputy", "organisation": "市人大",
                   "mobile": "13712340002", "term_start": "2026-01-01", "term_end": "2027-12-31"}),
        )
        .await;
    assert_eq!(s.status, 201);
    let complaint = app
        .call(
            Method::POST,
            &format!("/api/v1/public/rating-pages/s{}/complaints", app.ids["person_a"]),
            None,
            Some(json!({"content": "推诿不办", "phone": "13612340003"})),
        )
        .await;
    assert_eq!(complaint.status, 201, "{}", complaint.json);
    let staff_a = app.login("staff_a").await;
    let asked = json!({"channel": "phone", "content": "营业执照补办", "phone": "13512340004", "then": "keep"});
    assert_eq!(app.post("/api/v1/inquiries", &staff_a, asked).await.status, 201);
    let old = app.key;
    let old_id = app.store.vault().current_id().unwrap().to_owned();
    let new: [u8; 32] = rand::random();

    // The rotation, as `xiaoneng crypto rotate --new-key-file` runs it: the new key current, the
    // configured one previous.
    let rotating = Store::open(&app.db.location, 3).await.unwrap().with_vault(Arc::new(vault_of(&new, &[old])));
    rotating.migrate().await.unwrap();
    let new_id = rotating.vault().current_id().unwrap().to_owned();
    // An instance still running with the old key and the new one as previous serves meanwhile.
    let mut batches = Vec::new();
    let r =
        personal::rotate(&rotating, "test", || app.clock_now(), |f, n| batches.push((f.to_owned(), n))).await.unwrap();
    assert_eq!(r.to, new_id);
    assert_eq!(r.retired, vec![old_id.clone()]);
    assert_eq!(
        r.moved,
        [
            ("people.mobile".to_owned(), 4),
            ("supervisors.mobile".to_owned(), 1),
            ("ratings.phone".to_owned(), 0),
            ("tickets.phone".to_owned(), 1),
            ("inquiries.phone".to_owned(), 1)
        ]
    );
    assert_eq!(batches.iter().map(|(_, n)| n).sum::<u64>(), 7);
    let db = app.store.db();
    let sealed = strings(
        db,
        "SELECT mobile_sealed FROM people UNION ALL SELECT mobile_sealed FROM supervisors
         UNION ALL SELECT phone_sealed FROM tickets UNION ALL SELECT phone_sealed FROM inquiries",
    )
    .await;
    assert_eq!(sealed.len(), 7);
    assert!(sealed.iter().all(|s| s.starts_with(&envelope_prefix(&new_id))), "{sealed:?}");
    let rotations = strings(db, "SELECT detail FROM audit_log WHERE action = 'crypto.rotate'").await;
    assert_eq!(rotations.len(), 1);
    assert!(rotations[0].contains(&old_id) && rotations[0].contains("\"people.mobile\":4"), "{rotations:?}");
    let status = personal::status(db).await.unwrap();
    let by_key: Vec<(String, Vec<(String, u64)>)> = status.into_iter().map(|c| (c.column, c.by_key)).collect();
    assert_eq!(
        by_key,
        [
            ("people.mobile".to_owned(), vec![(new_id.clone(), 4)]),
            ("supervisors.mobile".to_owned(), vec![(new_id.clone(), 1)]),
            ("ratings.phone".to_owned(), vec![]),
            ("tickets.phone".to_owned(), vec![(new_id.clone(), 1)]),
            ("inquiries.phone".to_owned(), vec![(new_id.clone(), 1)])
        ]
    );
    // Run again, it finds nothing to do.
    let again = personal::rotate(&rotating, "test", || app.clock_now(), |_, _| {}).await.unwrap();
    assert!(again.retired.is_empty());
    assert!(again.moved.iter().all(|(_, n)| *n == 0), "{:?}", again.moved);

    // An instance given only the new key: the same masked and full numbers, the same search.
    let (router, _) = app.instance_with(test_config(), Arc::new(vault_of(&new, &[]))).await;
    let get = |path: String| {
        let cookie = office.cookie.clone();
        let router = router.clone();
        async move {
            let req = Request::builder().method(Method::GET).uri(path).header(header::COOKIE, cookie);
            send_to(&router, req.body(axum::body::Body::empty()).unwrap()).await
        }
    };
    let list = get("/api/v1/people?q=15012340001".into()).await;
    assert_eq!(list.ok()["total"], 1, "found by the index under the new key");
    assert_eq!(list.json["items"][0]["mobile"], "150****0001");
    assert_eq!(get(format!("/api/v1/people/{r1}")).await.ok()["mobile"], "15012340001");
    assert_eq!(get(format!("/api/v1/people/{}", app.ids["person_a"])).await.ok()["mobile"], "13812345678");
    assert_eq!(get("/api/v1/supervisors?q=JD-R".into()).await.ok()["items"][0]["mobile"], "137****0002");

    // The old key opens none of them any more.
    let old_only = vault_of(&old, &[]);
    for s in &sealed {
        let e = old_only.open(Field::PersonMobile, &Sealed(s.clone())).unwrap_err().to_string();
        assert!(e.contains(&new_id) && e.contains("not given"), "{e}");
    }
    // An instance given only the old key stops at start, naming the key it needs.
    let stale = Store::open(&app.db.location, 2).await.unwrap().with_vault(Arc::new(old_only));
    match stale.migrate().await {
        Err(StoreError::Key(m)) => assert!(m.contains(&new_id) && m.contains("not given"), "{m}"),
        other => panic!("started with the old key: {other:?}"),
    }
    // And so does one given a key the database has never seen.
    let stranger = Store::open(&app.db.location, 2).await.unwrap().with_vault(Arc::new(test_vault()));
    match stranger.migrate().await {
        Err(StoreError::Key(m)) => assert!(m.contains(&new_id), "{m}"),
        other => panic!("started with a wrong key: {other:?}"),
    }
    // The old key made current again with the new as previous (going back) is accepted.
    let back = Store::open(&app.db.location, 2).await.unwrap().with_vault(Arc::new(vault_of(&old, &[new])));
    back.migrate().await.unwrap();
    for s in [stale, stranger, back, rotating] {
        s.close().await.unwrap();
    }
});

/// A city stored before encryption (the demo of 30 November 2026): its numbers, read in clear
/// before, are encrypted at the first start with a key, each to the same number, and are then
/// gone from the database; without a key the start stops and says why.
async fn a_city_from_before_encryption(location: Location) {
    let bare = Store::open(&location, 2).await.unwrap();
    let before: Vec<String> =
        strings(bare.db(), "SELECT mobile FROM people WHERE mobile IS NOT NULL ORDER BY id").await;
    let supervisors = strings(bare.db(), "SELECT mobile FROM supervisors WHERE mobile IS NOT NULL ORDER BY id").await;
    assert!(before.len() > 500, "{}", before.len());
    assert!(!places_holding(&location, bare.db(), &before[0]).await.is_empty(), "the scan finds a number in clear");
    match bare.migrate().await {
        Err(StoreError::Key(m)) => assert!(m.contains("in clear") && m.contains("crypto.key_file"), "{m}"),
        other => panic!("encrypted without a key: {other:?}"),
    }
    assert_eq!(strings(bare.db(), "SELECT mobile FROM people WHERE mobile IS NOT NULL ORDER BY id").await, before);
    bare.close().await.unwrap();

    let store = Store::open(&location, 2).await.unwrap().with_vault(Arc::new(test_vault()));
    let m = store.migrate().await.unwrap();
    assert_eq!(m.encrypted as usize, before.len() + supervisors.len());
    assert!(m.key_registered.is_some());
    let db = store.db();
    assert_eq!(number(db, "SELECT COUNT(*) FROM people WHERE mobile IS NOT NULL").await, 0);
    assert_eq!(number(db, "SELECT COUNT(*) FROM supervisors WHERE mobile IS NOT NULL").await, 0);
    let sealed = strings(db, "SELECT mobile_sealed FROM people WHERE mobile_sealed IS NOT NULL ORDER BY id").await;
    let opened: Vec<String> =
        sealed.iter().map(|s| store.vault().open(Field::PersonMobile, &Sealed(s.clone())).unwrap()).collect();
    assert_eq!(opened, before);
    let indexes = strings(db, "SELECT mobile_index FROM people WHERE mobile_sealed IS NOT NULL ORDER BY id").await;
    assert_eq!(indexes[0], store.vault().index(Field::PersonMobile, &before[0]).unwrap());
    for n in before.iter().step_by(25).chain(&supervisors) {
        let found = places_holding(&location, db, n).await;
        assert!(found.is_empty(), "{n} is still in clear in {found:?}");
    }
    let audit = strings(db, "SELECT detail FROM audit_log WHERE action = 'personal_data.encrypted'").await;
    assert_eq!(audit.len(), 1);
    assert!(audit[0].contains(&format!("\"people.mobile\":{}", before.len())), "{audit:?}");
    // Started again, there is nothing left to encrypt.
    assert_eq!(store.migrate().await.unwrap().encrypted, 0);
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_city_from_before_encryption_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(xiaoneng_store::SQLITE_FILE);
    std::fs::copy(crate::backfill::fixture("demo-2026-11-30-before-ledger.db"), &file).unwrap();
    a_city_from_before_encryption(Location::DataDir(dir.path().to_owned())).await;
}

#[tokio::test]
#[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
async fn a_city_from_before_encryption_on_postgres() {
    let Some(admin) = crate::support::pg_admin_url() else { return };
    let name = format!("xn_legacy_{}", std::process::id());
    let conn = sea_orm::Database::connect(&admin).await.unwrap();
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = crate::support::pg_url_for(&admin, &name);
    let dump = std::fs::read_to_string(crate::backfill::fixture("demo-2026-11-30-before-ledger.postgres.sql")).unwrap();
    let db = sea_orm::Database::connect(&url).await.unwrap();
    db.execute_unprepared(&dump).await.unwrap();
    db.close().await.unwrap();
    a_city_from_before_encryption(Location::Url(url)).await;
    conn.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
}
