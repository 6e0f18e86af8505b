//! Settings: defaults, then a TOML file, then `XIAONENG__SECTION__KEY` environment variables, then
//! command-line flags. Secrets (the database URL, which may hold a password) are never printed.

use std::path::{Path, PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use xiaoneng_store::{HashAlgo, Location};

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub audit: AuditSettings,
    pub log: LogSettings,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host/db`; when unset, SQLite under `data_dir`.
    #[serde(serialize_with = "skip_secret")]
    pub url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub max_connections: u32,
}

fn skip_secret<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some("***"),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    /// Mark the session cookie Secure: set it when users reach the server over HTTPS.
    pub secure_cookies: bool,
    /// Trust X-Forwarded-For/-Proto: only behind a reverse proxy that sets them.
    pub trust_forwarded_headers: bool,
    pub max_body_mb: usize,
    /// Run background jobs in this instance.
    pub jobs: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// `sha256` or `sm3` (the national standard) for new audit entries.
    pub algo: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A tracing filter, such as `info` or `xiaoneng=debug,info`.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings { url: None, data_dir: PathBuf::from("./data"), max_connections: 10 },
            server: ServerSettings {
                bind: "127.0.0.1:8080".into(),
                secure_cookies: false,
                trust_forwarded_headers: false,
                max_body_mb: 20,
                jobs: true,
            },
            audit: AuditSettings { algo: "sha256".into() },
            log: LogSettings { level: "info,sea_orm_migration=warn".into(), format: "text".into() },
        }
    }
}

impl Settings {
    pub fn load(config: Option<&Path>) -> anyhow::Result<Self> {
        let mut f = Figment::from(Serialized::defaults(Settings::default()));
        match config {
            Some(p) => {
                anyhow::ensure!(p.exists(), "config file {} does not exist", p.display());
                f = f.merge(Toml::file(p));
            }
            None => f = f.merge(Toml::file("xiaoneng.toml")),
        }
        let s: Settings = f
            .merge(Env::prefixed("XIAONENG__").split("__").lowercase(true))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
        s.audit_algo()?;
        Ok(s)
    }

    pub fn audit_algo(&self) -> anyhow::Result<HashAlgo> {
        HashAlgo::parse(&self.audit.algo)
            .ok_or_else(|| anyhow::anyhow!("audit.algo must be sha256 or sm3, not {:?}", self.audit.algo))
    }

    /// Flags win over the file and the environment.
    pub fn location(&self, data_dir: Option<PathBuf>, database_url: Option<String>) -> Location {
        match (database_url, data_dir) {
            (Some(url), _) => Location::Url(url),
            (None, Some(dir)) => Location::DataDir(dir),
            (None, None) => match &self.database.url {
                Some(url) => Location::Url(url.expose_secret().to_owned()),
                None => Location::DataDir(self.database.data_dir.clone()),
            },
        }
    }
}
