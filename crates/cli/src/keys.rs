//! The key for personal data at rest (decision 0030): read from the file or environment variable
//! the settings name, or, when they name none, from `sm4.key` in the data folder, made there at
//! first start. A key file others may read is refused. A key is never printed or logged: only
//! its id, which reveals nothing of it.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use xiaoneng_core::crypto::{MasterKey, NEW_KEY_BYTES};
use xiaoneng_store::personal::Vault;

use crate::settings::Settings;

pub const DEFAULT_KEY_FILE: &str = "sm4.key";

/// What to do when no key is configured and the data folder has none yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Make one (a command that starts using the database: serve, migrate, demo).
    Generate,
    /// Go on without (a command that only looks).
    Allow,
}

/// The keys the settings name: the current one, and the previous ones of a rotation.
pub struct Keys {
    pub current: Option<MasterKey>,
    pub previous: Vec<MasterKey>,
}

impl Keys {
    pub fn into_vault(self) -> Vault {
        match self.current {
            Some(c) => Vault::new(c, self.previous),
            None => Vault::none(),
        }
    }
}

pub fn vault(settings: &Settings, data_dir: Option<&Path>, missing: Missing) -> anyhow::Result<Vault> {
    Ok(configured(settings, data_dir, missing)?.into_vault())
}

pub fn configured(settings: &Settings, data_dir: Option<&Path>, missing: Missing) -> anyhow::Result<Keys> {
    let c = &settings.crypto;
    let current = match (&c.key_file, &c.key_env) {
        (Some(f), _) => read_key_file(f).context("crypto.key_file")?,
        (None, Some(var)) => {
            let text = std::env::var(var).map_err(|_| {
                anyhow::anyhow!("crypto.key_env names the environment variable {var}, which is not set")
            })?;
            MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("the key in {var} (crypto.key_env): {e}"))?
        }
        (None, None) => {
            let dir = data_dir.unwrap_or(&settings.database.data_dir);
            let path = dir.join(DEFAULT_KEY_FILE);
            if path.exists() {
                read_key_file(&path)?
            } else if missing == Missing::Generate {
                generate_default(&path)?
            } else {
                return Ok(Keys { current: None, previous: Vec::new() });
            }
        }
    };
    let mut previous = Vec::new();
    for f in &c.previous_key_files {
        previous.push(read_key_file(f).context("crypto.previous_key_files")?);
    }
    Ok(Keys { current: Some(current), previous })
}

pub fn shared(v: Vault) -> Arc<Vault> {
    Arc::new(v)
}

/// Reads a key file, refusing one that other users may read or write.
pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    if !meta.is_file() {
        bail!("the key file {} is not a file", path.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            bail!(
                "the key file {} can be read or written by every user of this machine (mode {mode:03o}): \
                 run `chmod 600 {}` (or 640 for a group of its own), then start again",
                path.display(),
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("the key file {}: {e}", path.display()))
}

/// Writes a new random key to `path`, which must not exist, readable by its owner only. The file
/// appears whole or not at all: written beside, then linked into place (which fails if another
/// process made one first).
pub fn write_new_key(path: &Path) -> anyhow::Result<MasterKey> {
    if path.exists() {
        bail!("{} exists already; a key file is never overwritten", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let random: [u8; NEW_KEY_BYTES] = rand::random();
    let text = MasterKey::generate_text(&random);
    let key = MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut f = opts.open(&tmp)?;
        f.write_all(format!("{text}\n").as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written.with_context(|| format!("cannot write the key file {}", path.display()))?;
    Ok(key)
}

fn generate_default(path: &Path) -> anyhow::Result<MasterKey> {
    match write_new_key(path) {
        Ok(k) => {
            tracing::warn!(
                file = %path.display(),
                key_id = k.id(),
                "made a new key for personal data (mobile numbers are stored encrypted under it). \
                 Back it up apart from the database: without it the numbers cannot be read. \
                 To keep it elsewhere, move it and set crypto.key_file"
            );
            Ok(k)
        }
        // Another process starting at the same moment made it first.
        Err(_) if path.exists() => read_key_file(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_new_key_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/sm4.key");
        let k = write_new_key(&path).unwrap();
        assert_eq!(read_key_file(&path).unwrap().id(), k.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_key_file(&path).unwrap_err().to_string();
            assert!(e.contains("every user") && e.contains("chmod 600"), "{e}");
        }
        assert!(write_new_key(&path).unwrap_err().to_string().contains("exists already"));
    }
}
