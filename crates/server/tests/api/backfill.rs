//! The ledger's backfill, on databases the demo of the code before the ledger made (on
//! 30 November 2026, when it had orders in every state; a SQLite file and a PostgreSQL dump):
//! migrated, each has an event for every step its records show, and replaying the events gives
//! every record's state as stored.
use sea_orm::{ConnectionTrait, Statement};
use xiaoneng_store::{Location, Store, ledger};

async fn count(store: &Store, sql: &str) -> i64 {
    let row = store.db().query_one_raw(Statement::from_string(store.backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[tokio::test]
async fn a_city_from_before_the_ledger_keeps_its_history_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("demo-2026-11-30-before-ledger.db"), dir.path().join(xiaoneng_store::SQLITE_FILE)).unwrap();
    let store = Store::open(&Location::DataDir(dir.path().to_owned()), 2)
        .await
        .unwrap()
        .with_vault(std::sync::Arc::new(crate::support::test_vault()));
    keeps_its_history(&store).await;
}

#[tokio::test]
#[cfg_attr(not(xn_postgres), ignore = "no PostgreSQL: set XIAONENG_TEST_POSTGRES_URL")]
async fn a_city_from_before_the_ledger_keeps_its_history_on_postgres() {
    let Some(admin) = crate::support::pg_admin_url() else { return };
    let name = format!("xn_backfill_{}", std::process::id());
    let conn = sea_orm::Database::connect(&admin).await.unwrap();
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let dump = std::fs::read_to_string(fixture("demo-2026-11-30-before-ledger.postgres.sql")).unwrap();
    let db = sea_orm::Database::connect(&url).await.unwrap();
    db.execute_unprepared(&dump).await.unwrap();
    db.close().await.unwrap();
    let store = Store::open(&Location::Url(url), 2)
        .await
        .unwrap()
        .with_vault(std::sync::Arc::new(crate::support::test_vault()));
    keeps_its_history(&store).await;
    store.close().await.unwrap();
    conn.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
}

async fn keeps_its_history(store: &Store) {
    store.migrate().await.unwrap();

    // One event per step the records show.
    let pairs = [
        ("SELECT COUNT(*) FROM finding_events", "SELECT COUNT(*) FROM domain_events WHERE aggregate = 'finding'"),
        ("SELECT COUNT(*) FROM evidence", "SELECT COUNT(*) FROM domain_events WHERE kind = 'evidence.filed'"),
        (
            "SELECT COUNT(*) FROM bulletins WHERE status = 'published'",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'bulletin.published'",
        ),
        ("SELECT COUNT(*) FROM rectification_orders", "SELECT COUNT(*) FROM domain_events WHERE kind = 'order.issued'"),
        (
            "SELECT COUNT(*) FROM rectification_reports WHERE submitted_at IS NOT NULL",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'report.submitted'",
        ),
        (
            "SELECT COUNT(*) FROM rectification_reports WHERE status = 'returned'",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'report.returned'",
        ),
        (
            "SELECT COUNT(*) FROM rectification_reports WHERE status = 'accepted'",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'report.accepted'",
        ),
        ("SELECT COUNT(*) FROM instructions", "SELECT COUNT(*) FROM domain_events WHERE kind = 'instruction.written'"),
        (
            "SELECT COUNT(*) FROM instructions WHERE follow_up",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'follow_up.required'",
        ),
        (
            "SELECT COUNT(*) FROM campaigns WHERE status <> 'draft'",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'campaign.opened'",
        ),
        (
            "SELECT COUNT(*) FROM campaign_participants WHERE status = 'submitted'",
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'self_check.submitted'",
        ),
        (
            "SELECT COUNT(*) FROM visits WHERE status <> 'scheduled'",
            "SELECT COUNT(*) FROM domain_events WHERE aggregate = 'visit'",
        ),
    ];
    for (records, events) in pairs {
        let (r, e) = (count(store, records).await, count(store, events).await);
        assert!(r > 0 || records.contains("visits"), "the fixture has none of: {records}");
        assert_eq!(r, e, "{records} vs {events}");
    }
    // The fixture's history includes what the old records overwrote: a returned report's new
    // deadline as a change, and late reports judged against the deadline in force then.
    assert!(count(store, "SELECT COUNT(*) FROM domain_events WHERE kind = 'order.deadline_changed'").await > 0);
    // A report that came in after its deadline was overdue, though no job marked it then.
    let late = count(
        store,
        "SELECT COUNT(*) FROM domain_events WHERE kind = 'report.submitted' AND payload LIKE '%\"late\":true%'",
    )
    .await;
    assert!(late > 0);
    assert!(
        count(store, "SELECT COUNT(DISTINCT aggregate_id) FROM domain_events WHERE kind = 'order.overdue'").await
            >= late
    );
    assert!(
        count(store, "SELECT COUNT(*) FROM rectification_reports WHERE submitted_at IS NOT NULL AND due IS NULL").await
            == 0
    );
    // Events follow time: seq order is recorded_at order.
    let unordered = count(
        store,
        "SELECT COUNT(*) FROM domain_events a JOIN domain_events b ON b.seq = a.seq + 1 WHERE b.recorded_at < a.recorded_at",
    )
    .await;
    assert_eq!(unordered, 0);
    // Every payload reads back as its kind's type, and replay agrees with every record.
    let mismatches = ledger::check(store.db()).await.unwrap();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    // And the ledger cannot be changed.
    let refused = store.db().execute_unprepared("UPDATE domain_events SET kind = 'plan.closed'").await;
    assert!(refused.is_err());
    assert!(store.db().execute_unprepared("DELETE FROM domain_events").await.is_err());
    assert!(store.db().execute_unprepared("UPDATE findings SET state = 'lost'").await.is_err(), "states are checked");
}
