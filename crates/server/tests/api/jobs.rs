//! Background jobs: two instances on one database never run the same job twice.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use xiaoneng_core::clock::Clock;
use xiaoneng_store::{
    Store,
    entity::job::{self, JobStatus},
    jobs::{self, JobFuture, JobHandler, JobRunner, NewJob, Recurring},
};

use crate::{both, support::TestApp};

/// Records which worker ran which job.
struct Record(Arc<Mutex<Vec<(i64, String)>>>, String);

impl JobHandler for Record {
    fn run<'a>(&'a self, _store: &'a Store, job: &'a job::Model) -> JobFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.0.lock().unwrap().push((job.id, self.1.clone()));
            Ok(())
        })
    }
}

both!(two_instances_run_each_job_exactly_once, |app: TestApp| async move {
    const N: usize = 120;
    let now = app.clock_now();
    for i in 0..N {
        jobs::enqueue(app.store.db(), NewJob::now("test.record", serde_json::json!({ "i": i }), now), now)
            .await
            .unwrap();
    }
    let ran = Arc::new(Mutex::new(Vec::new()));
    let clock: Arc<dyn Clock> = Arc::new(app.clock.clone());
    let mut workers = Vec::new();
    for name in ["instance-1", "instance-2"] {
        // Each instance has its own connection pool, as separate processes would.
        let store = Store::open(&app.db.location, 4).await.unwrap();
        let runner = JobRunner::new(store, clock.clone(), name.into())
            .handle("test.record", Arc::new(Record(ran.clone(), name.into())));
        workers.push(tokio::spawn(async move { while runner.run_one().await.unwrap() {} }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let ran = ran.lock().unwrap().clone();
    let mut times: HashMap<i64, usize> = HashMap::new();
    for (id, _) in &ran {
        *times.entry(*id).or_default() += 1;
    }
    assert_eq!(times.len(), N, "every job ran");
    assert!(times.values().all(|n| *n == 1), "a job ran twice: {times:?}");
    assert_eq!(jobs::count_by_status(&app.store, JobStatus::Done).await.unwrap(), N as u64);
    if app.db.backend() == crate::support::Backend::Postgres {
        let second = ran.iter().filter(|(_, w)| w == "instance-2").count();
        assert!(second > 0 && second < N, "both instances took work: {second}");
    }
});

both!(recurring_jobs_are_enqueued_once_per_slot, |app: TestApp| async move {
    let clock: Arc<dyn Clock> = Arc::new(app.clock.clone());
    for name in ["a", "b", "a"] {
        let store = Store::open(&app.db.location, 2).await.unwrap();
        let r = JobRunner::new(store, clock.clone(), name.into())
            .every(Recurring { kind: "tick", every: chrono::Duration::minutes(10) });
        r.tick_recurring().await.unwrap();
    }
    assert_eq!(jobs::count_by_status(&app.store, JobStatus::Pending).await.unwrap(), 1);
    app.clock.advance(chrono::Duration::minutes(10));
    let r = JobRunner::new(app.store.clone(), clock, "c".into())
        .every(Recurring { kind: "tick", every: chrono::Duration::minutes(10) });
    r.tick_recurring().await.unwrap();
    assert_eq!(jobs::count_by_status(&app.store, JobStatus::Pending).await.unwrap(), 2);
});

both!(a_failing_job_is_retried_then_given_up, |app: TestApp| async move {
    struct Fail;
    impl JobHandler for Fail {
        fn run<'a>(&'a self, _: &'a Store, _: &'a job::Model) -> JobFuture<'a> {
            Box::pin(async { Err("the webhook answered 500".to_string()) })
        }
    }
    let now = app.clock_now();
    let j = NewJob { max_attempts: 2, ..NewJob::now("test.fail", serde_json::Value::Null, now) };
    jobs::enqueue(app.store.db(), j, now).await.unwrap();
    let r =
        JobRunner::new(app.store.clone(), Arc::new(app.clock.clone()), "w".into()).handle("test.fail", Arc::new(Fail));
    assert!(r.run_one().await.unwrap());
    assert!(!r.run_one().await.unwrap(), "the retry waits for its backoff");
    app.clock.advance(chrono::Duration::minutes(1));
    assert!(r.run_one().await.unwrap());
    assert_eq!(jobs::count_by_status(&app.store, JobStatus::Failed).await.unwrap(), 1);
});

both!(session_sweep_ends_stale_sessions, |app: TestApp| async move {
    let s = app.login("office").await;
    let _ = s;
    app.clock.advance(chrono::Duration::minutes(31));
    let r = xiaoneng_server::jobs::runner(
        app.store.clone(),
        Arc::new(app.clock.clone()),
        app.state.objects.clone(),
        xiaoneng_server::notify::Egress::default(),
        "w".into(),
    );
    r.tick_recurring().await.unwrap();
    while r.run_one().await.unwrap() {}
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use xiaoneng_store::entity::session;
    let live = session::Entity::find().filter(session::Column::EndedAt.is_null()).count(app.store.db()).await.unwrap();
    assert_eq!(live, 0);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_instances_migrate_at_once() {
    for backend in [crate::support::Backend::Sqlite, crate::support::Backend::Postgres] {
        let Some(db) = crate::support::TestDb::new(backend).await else { continue };
        let mut stores = Vec::new();
        for _ in 0..3 {
            stores.push(Store::open(&db.location, 2).await.unwrap());
        }
        let runs: Vec<_> = stores.iter().cloned().map(|s| tokio::spawn(async move { s.migrate().await })).collect();
        for r in runs {
            r.await.unwrap().unwrap();
        }
        stores[0]
            .audit(&xiaoneng_store::audit::AuditRecord {
                at: chrono::Utc::now(),
                actor_user_id: None,
                actor: "t".into(),
                ip: "local".into(),
                action: "test".into(),
                target_type: "t".into(),
                target_id: String::new(),
                outcome: xiaoneng_store::audit::Outcome::Ok,
                detail: serde_json::Value::Null,
            })
            .await
            .unwrap();
    }
}
