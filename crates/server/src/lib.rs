//! Xiaoneng's HTTP API: axum routes under `/api/v1`, cut by domain — the platform, the
//! organisation, inspections, rectification, campaigns, the inbox and the event ledger — with the
//! auth and permission extractors, the OpenAPI document, and the background jobs.
//!
//! A handler parses, authorises, loads, asks core's machine and applies its decision; the
//! commands that do the last three are functions of their module, so the demo city is built
//! through the very same ones.

pub mod api;
pub mod auth;
pub mod campaigns;
pub mod error;
pub mod events;
pub mod excel;
pub mod extract;
pub mod idempotency;
pub mod identity_cache;
pub mod inbox;
pub mod inquiries;
pub mod inspections;
pub mod jobs;
pub mod notify;
pub mod organisation;
pub mod platform;
pub mod ratings;
pub mod rectification;
pub mod service;
pub mod tasks;
pub mod tickets;
pub mod web;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, middleware};
use tokio::sync::RwLock;
use tower_http::trace::TraceLayer;
use xiaoneng_core::{auth::SecurityPolicy, clock::Clock};
use xiaoneng_store::{Store, settings};

pub use error::{ApiError, ApiResult};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark cookies `Secure` (set when serving over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Believe `X-Forwarded-For` / `X-Forwarded-Proto` (only behind a proxy you run).
    pub trust_forwarded_headers: bool,
    /// How many proxies of ours stand in front of the server: the client's address is the one
    /// this many entries from the right of `X-Forwarded-For` (each proxy appends one).
    pub trusted_proxies: usize,
    /// Argon2 hashes (logins, password changes) run at once at most: each takes a core and
    /// ~19 MiB for tens of milliseconds, and logins come from anyone.
    pub max_concurrent_hashes: usize,
    /// How long a request waits for a hashing permit before it is answered 503 `busy`.
    pub hash_wait: Duration,
    /// Largest request body, in bytes (imports are the largest).
    pub max_body_bytes: usize,
    /// Where the CJK fonts for PDF documents are looked for (searched recursively).
    pub fonts_dir: std::path::PathBuf,
    /// Where the office's message channels may send (`notify.allowed_hosts`).
    pub egress: notify::Egress,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            trust_forwarded_headers: false,
            trusted_proxies: 1,
            max_concurrent_hashes: default_hash_bound(),
            hash_wait: Duration::from_secs(2),
            max_body_bytes: 20 * 1024 * 1024,
            fonts_dir: "/usr/share/fonts".into(),
            egress: notify::Egress::default(),
        }
    }
}

/// Twice the cores this process may use.
pub fn default_hash_bound() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServerConfig>,
    /// Where evidence files live: a local folder by default, an S3-compatible bucket at scale.
    pub objects: Arc<dyn object_store::ObjectStore>,
    policy_cache: Arc<RwLock<Option<(Instant, SecurityPolicy)>>>,
    /// Who each session is, so that a request costs no query for it (decision 0022).
    pub identities: Arc<identity_cache::IdentityCache>,
    /// Built at the first PDF asked for: loading the fonts takes a moment and ~90 MB.
    typesetter: Arc<tokio::sync::OnceCell<Result<xiaoneng_documents::Typesetter, String>>>,
    /// Permits for Argon2 hashing (`ServerConfig::max_concurrent_hashes`).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// The key that hashes user names matching no account (read once from the settings).
    login_name_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// The instance's rating recorder (group commit), started at the first rating.
    ratings: Arc<tokio::sync::OnceCell<ratings::batch::Queue>>,
}

/// The policy is read on every request; other instances' changes are seen within this long.
const POLICY_TTL: Duration = Duration::from_secs(5);

impl AppState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
        objects: Arc<dyn object_store::ObjectStore>,
    ) -> Self {
        Self {
            identities: identity_cache::IdentityCache::start(store.clone()),
            hashing: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_hashes.max(1))),
            login_name_key: Arc::default(),
            store,
            clock,
            config: Arc::new(config),
            objects,
            policy_cache: Arc::default(),
            typesetter: Arc::default(),
            ratings: Arc::default(),
        }
    }

    /// The queue the instance's ratings are recorded from, in shared transactions.
    pub async fn rating_queue(&self) -> ratings::batch::Queue {
        let s = self.clone();
        self.ratings.get_or_init(|| async move { ratings::batch::start(s) }).await.clone()
    }

    /// The PDF typesetter, or why there is none (no CJK fonts installed).
    pub async fn typesetter(&self) -> ApiResult<xiaoneng_documents::Typesetter> {
        let dir = self.config.fonts_dir.clone();
        let t = self
            .typesetter
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    xiaoneng_documents::Typesetter::new(&dir).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            })
            .await;
        t.clone().map_err(|e| {
            tracing::error!(error = %e, "PDF documents cannot be made");
            ApiError::refused(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "pdf_unavailable",
                "服务器未安装中文字体，暂不能生成 PDF；请下载 Word 版，或联系系统管理员",
                "The server has no Chinese fonts installed, so it cannot make PDFs; download the Word file or ask the system administrator",
            )
        })
    }

    pub async fn policy(&self) -> ApiResult<SecurityPolicy> {
        if let Some((at, p)) = self.policy_cache.read().await.as_ref()
            && at.elapsed() < POLICY_TTL
        {
            return Ok(p.clone());
        }
        let p: SecurityPolicy = settings::get(self.store.db(), settings::SECURITY_POLICY).await?;
        *self.policy_cache.write().await = Some((Instant::now(), p.clone()));
        Ok(p)
    }

    /// A permit to run one Argon2 hash, waiting at most `hash_wait` for it.
    pub async fn hash_permit(&self) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        match tokio::time::timeout(self.config.hash_wait, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }

    /// The database's key for hashing unknown user names (made at the first need, shared by
    /// every instance).
    pub async fn login_name_key(&self) -> ApiResult<Vec<u8>> {
        let key = self
            .login_name_key
            .get_or_try_init(|| async {
                use rand::RngCore;
                let mut candidate = [0u8; 32];
                rand::rng().fill_bytes(&mut candidate);
                let stored = settings::get_or_init(
                    &self.store,
                    settings::LOGIN_NAME_KEY,
                    &hex::encode(candidate),
                    self.clock.now(),
                )
                .await?;
                hex::decode(stored).map_err(|e| ApiError::Internal(format!("login_name_key is not hex: {e}")))
            })
            .await?;
        Ok(key.clone())
    }

    pub(crate) async fn set_cached_policy(&self, p: SecurityPolicy) {
        *self.policy_cache.write().await = Some((Instant::now(), p));
    }
}

/// The whole application: API, OpenAPI document and Swagger UI, health checks.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let (api, openapi) = api::api().split_for_parts();
    Router::new()
        .merge(api)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .merge(platform::health::router())
        .fallback(web::serve)
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(middleware::from_fn(auth::csrf_guard))
        .layer(middleware::from_fn(error::localize))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::Internal("a request handler panicked".into()))
        }))
        // Bodies read whole (JSON, imports) are limited; evidence uploads stream and have their own.
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(web::security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), auth::strict_transport))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::api().split_for_parts().1
}
