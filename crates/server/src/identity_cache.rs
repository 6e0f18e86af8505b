//! Who a session is, kept in this instance's memory so that a request costs no query for it
//! (decision 0022).
//!
//! The cache is only a cache: an entry is used while the cache's generation is the one it was
//! loaded under, and the generation moves
//! - at once, on this instance, after a change that alters an identity commits here
//!   ([`IdentityCache::forget`]: logout, password, account status, roles, profile, departments);
//! - within [`POLL`] on every instance, when the database's identity epoch moves — triggers move
//!   it on every such change, whoever makes it (another instance, the command line).
//!
//! If the epoch cannot be read for a while the cache is not trusted and every request reads the
//! database, as it would without a cache.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use xiaoneng_store::{Store, accounts, entity::session};

/// How often each instance reads the identity epoch.
pub const POLL: Duration = Duration::from_millis(200);
/// The cache is trusted only while the epoch was read this recently.
const TRUST: Duration = Duration::from_secs(1);
/// More live sessions than this on one instance: start again rather than grow without bound.
const CAPACITY: usize = 20_000;

#[derive(Debug, Clone)]
pub struct Cached {
    pub session: session::Model,
    pub identity: accounts::Identity,
}

#[derive(Debug)]
pub struct IdentityCache {
    store: Store,
    generation: AtomicU64,
    entries: RwLock<HashMap<String, (u64, Arc<Cached>)>>,
    started: Instant,
    /// Milliseconds after `started` when the epoch was last read; 0 before the first read.
    heard_ms: AtomicU64,
}

impl IdentityCache {
    /// A cache over `store`, and its watcher on the current Tokio runtime (none outside one: then
    /// the cache is never trusted). The watcher ends when the cache is dropped.
    pub fn start(store: Store) -> Arc<Self> {
        let cache = Arc::new(IdentityCache {
            store,
            generation: AtomicU64::new(1),
            entries: RwLock::default(),
            started: Instant::now(),
            heard_ms: AtomicU64::new(0),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(watch(Arc::downgrade(&cache)));
        }
        cache
    }

    /// The generation to tag an identity loaded from now on with.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn trusted(&self) -> bool {
        let heard = self.heard_ms.load(Ordering::Acquire);
        heard > 0 && self.started.elapsed().as_millis() < u128::from(heard) + TRUST.as_millis()
    }

    pub fn get(&self, token_hash: &str) -> Option<Arc<Cached>> {
        if !self.trusted() {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (generation, c) = entries.get(token_hash)?;
        (*generation == self.generation()).then(|| c.clone())
    }

    /// Keeps an identity read from the database under the generation taken before reading it,
    /// so that a change committed meanwhile leaves it unused.
    pub fn put(&self, token_hash: &str, generation: u64, cached: Arc<Cached>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(token_hash.to_owned(), (generation, cached));
        }
    }

    /// Every cached identity is stale: call after committing a change to sessions, accounts,
    /// roles or departments.
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    fn heard(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
        self.heard_ms.store(ms, Ordering::Release);
    }
}

async fn watch(cache: Weak<IdentityCache>) {
    let mut last: Option<i64> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(cache) = cache.upgrade() else { return };
        match accounts::identity_epoch(cache.store.db()).await {
            Ok(epoch) => {
                // The first reading forgets too: what was cached before it is of unknown age.
                if last != Some(epoch) {
                    cache.forget();
                }
                last = Some(epoch);
                cache.heard();
                failing = false;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot read the identity epoch; sessions are read from the database");
                }
                failing = true;
            }
        }
    }
}
