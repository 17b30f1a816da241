//! The key file: where a fresh deployment keeps its generated secrets.

use crate::keyring::Keyring;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Why the secrets could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot create key file {path}: {source}")]
    Create { path: String, source: std::io::Error },
    #[error("key file {path} is malformed: {reason}")]
    Malformed { path: String, reason: String },
}

/// The secrets in serialisable form (base64 text).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    pub kek_id: String,
    pub kek: String,
    pub hmac_secret: String,
}

const HEADER: &str = "# lethe secrets. Back this file up separately from the database:\n\
# without it no personal field in the database can be read.\n";

impl KeyFile {
    /// Fresh random secrets with a KEK id that says when they were made.
    pub fn generate(created: &str) -> Self {
        let mut rng = rand::thread_rng();
        let mut kek = [0u8; crate::KEY_LEN];
        let mut hmac = [0u8; crate::KEY_LEN];
        let mut tag = [0u8; 4];
        rng.fill_bytes(&mut kek);
        rng.fill_bytes(&mut hmac);
        rng.fill_bytes(&mut tag);
        Self {
            kek_id: format!("kek-{created}-{}", hex::encode(tag)),
            kek: B64.encode(kek),
            hmac_secret: B64.encode(hmac),
        }
    }

    /// Builds the run-time keyring.
    pub fn keyring(&self, origin: &str) -> Result<Keyring, KeyFileError> {
        let malformed = |reason: String| KeyFileError::Malformed {
            path: origin.to_owned(),
            reason,
        };
        let kek = B64
            .decode(self.kek.trim())
            .map_err(|e| malformed(format!("kek is not base64: {e}")))?;
        if kek.len() != crate::KEY_LEN {
            return Err(malformed(format!("kek must be {} bytes", crate::KEY_LEN)));
        }
        let hmac = B64
            .decode(self.hmac_secret.trim())
            .map_err(|e| malformed(format!("hmac_secret is not base64: {e}")))?;
        if hmac.len() < 16 {
            return Err(malformed("hmac_secret must be at least 16 bytes".into()));
        }
        if self.kek_id.trim().is_empty() {
            return Err(malformed("kek_id must not be empty".into()));
        }
        Keyring::new(self.kek_id.trim(), &kek, &hmac).map_err(|e| malformed(e.to_string()))
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| KeyFileError::Malformed {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Loads the key file, or creates it (mode 0600) when absent. The bool says whether
    /// it was created. Creation is exclusive, so two processes racing agree on one file.
    pub fn load_or_create(path: &Path, created: &str) -> Result<(Self, bool), KeyFileError> {
        if path.exists() {
            return Ok((Self::load(path)?, false));
        }
        let fresh = Self::generate(created);
        match create_private(path) {
            Ok(mut file) => {
                let body = format!("{HEADER}{}", toml::to_string(&fresh).expect("key file serialises"));
                file.write_all(body.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|source| KeyFileError::Create {
                        path: path.display().to_string(),
                        source,
                    })?;
                Ok((fresh, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process won the race; give it a moment to finish writing.
                for _ in 0..50 {
                    if let Ok(existing) = Self::load(path) {
                        return Ok((existing, false));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Ok((Self::load(path)?, false))
            }
            Err(source) => Err(KeyFileError::Create {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_loads_the_same_secrets() {
        let dir = std::env::temp_dir().join(format!("lethe-keyfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lethe.keys");
        let _ = std::fs::remove_file(&path);
        let (first, created) = KeyFile::load_or_create(&path, "20260101").unwrap();
        assert!(created);
        let (second, created) = KeyFile::load_or_create(&path, "20260101").unwrap();
        assert!(!created);
        assert_eq!(first.kek, second.kek);
        first.keyring("test").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
