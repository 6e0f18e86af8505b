//! Settings: defaults, then a TOML file, then `XIAONENG__SECTION__KEY` environment variables, then
//! command-line flags. Secrets (the database URL, which may hold a password) are never printed.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use object_store::{ObjectStore, aws::AmazonS3Builder, local::LocalFileSystem};
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
    pub storage: StorageSettings,
    pub notify: NotifySettings,
    pub crypto: CryptoSettings,
}

/// The key for personal data at rest (decision 0030): kept outside the database, in a file or an
/// environment variable. With neither set, a key is made at first start as `sm4.key` in the data
/// folder (fine for a demo; a real installation keeps it elsewhere and backs it up apart from the
/// database).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CryptoSettings {
    /// A file holding the key (hex or base64, 16 to 64 bytes), which other users may not read.
    pub key_file: Option<PathBuf>,
    /// Or: the name of an environment variable holding the key, such as `XIAONENG_SM4_KEY`.
    pub key_env: Option<String>,
    /// During a rotation: the key files being replaced, still used to read values not yet moved.
    pub previous_key_files: Vec<PathBuf>,
}

/// Where evidence files are kept.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// `local` (a folder; shared by every instance when there are several) or `s3` (any
    /// S3-compatible store: MinIO, Ceph, Aliyun OSS, Tencent COS, Huawei OBS).
    pub backend: String,
    /// For `local`: the folder; when unset, `objects/` under the database's `data_dir`.
    pub path: Option<PathBuf>,
    pub s3_bucket: String,
    /// For S3-compatible stores other than AWS, such as `https://oss-cn-hangzhou.aliyuncs.com`.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    #[serde(serialize_with = "skip_secret")]
    pub s3_secret_access_key: Option<SecretString>,
    /// Allow plain http to the endpoint (a store on the same private network).
    pub s3_allow_http: bool,
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
    /// With `trust_forwarded_headers`: how many proxies of ours stand in front of the server.
    /// The client's address is the one this many entries from the right of X-Forwarded-For;
    /// anything further left was sent by the client and may be forged.
    pub trusted_proxies: usize,
    pub max_body_mb: usize,
    /// Run background jobs in this instance.
    pub jobs: bool,
    /// Where the Chinese fonts for PDF documents are (searched recursively; Debian's
    /// fonts-noto-cjk installs under the default).
    pub fonts_dir: PathBuf,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Hosts on a loopback, private or link-local network that the office's message channels
    /// may nevertheless use (a mail relay on the office network, say). Any other internal address
    /// is refused, so that the channel settings cannot make the server probe its own network.
    pub allowed_hosts: Vec<String>,
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
                trusted_proxies: 1,
                max_body_mb: 20,
                jobs: true,
                fonts_dir: PathBuf::from("/usr/share/fonts"),
            },
            audit: AuditSettings { algo: "sha256".into() },
            log: LogSettings { level: "info,sea_orm_migration=warn".into(), format: "text".into() },
            storage: StorageSettings {
                backend: "local".into(),
                path: None,
                s3_bucket: String::new(),
                s3_endpoint: None,
                s3_region: "us-east-1".into(),
                s3_access_key_id: None,
                s3_secret_access_key: None,
                s3_allow_http: false,
            },
            notify: NotifySettings::default(),
            crypto: CryptoSettings::default(),
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
        anyhow::ensure!(
            s.crypto.key_file.is_none() || s.crypto.key_env.is_none(),
            "crypto.key_file and crypto.key_env both name a key: set one"
        );
        anyhow::ensure!(
            (1..=10).contains(&s.server.trusted_proxies),
            "server.trusted_proxies must be between 1 and 10, not {}",
            s.server.trusted_proxies
        );
        Ok(s)
    }

    pub fn audit_algo(&self) -> anyhow::Result<HashAlgo> {
        HashAlgo::parse(&self.audit.algo)
            .ok_or_else(|| anyhow::anyhow!("audit.algo must be sha256 or sm3, not {:?}", self.audit.algo))
    }

    /// The evidence store these settings name; a local folder is created if missing.
    pub fn objects(&self, data_dir: Option<&Path>) -> anyhow::Result<Arc<dyn ObjectStore>> {
        let st = &self.storage;
        match st.backend.as_str() {
            "local" => {
                let dir = match &st.path {
                    Some(p) => p.clone(),
                    None => data_dir.unwrap_or(&self.database.data_dir).join("objects"),
                };
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the evidence folder {}: {e}", dir.display()))?;
                Ok(Arc::new(LocalFileSystem::new_with_prefix(&dir)?))
            }
            "s3" => {
                anyhow::ensure!(!st.s3_bucket.is_empty(), "storage.s3_bucket must be set for the s3 backend");
                let mut b = AmazonS3Builder::from_env()
                    .with_bucket_name(&st.s3_bucket)
                    .with_region(&st.s3_region)
                    .with_allow_http(st.s3_allow_http);
                if let Some(e) = &st.s3_endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(k) = &st.s3_access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(k) = &st.s3_secret_access_key {
                    b = b.with_secret_access_key(k.expose_secret());
                }
                Ok(Arc::new(b.build()?))
            }
            other => anyhow::bail!("storage.backend must be local or s3, not {other:?}"),
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xiaoneng.toml");
        std::fs::write(&path, toml).unwrap();
        Settings::load(Some(&path))
    }

    #[test]
    fn trusted_proxies_default_to_one_and_are_checked() {
        let s = load("[server]\ntrust_forwarded_headers = true\n").unwrap();
        assert_eq!(s.server.trusted_proxies, 1);
        assert_eq!(load("[server]\ntrusted_proxies = 2\n").unwrap().server.trusted_proxies, 2);
        let e = load("[server]\ntrusted_proxies = 0\n").unwrap_err().to_string();
        assert!(e.contains("trusted_proxies"), "{e}");
    }
}
