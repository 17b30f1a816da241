//! Where the secrets come from: the environment or configuration first, else a key
//! file beside the database, generated on first use.

use crate::config::Config;
use lethe_crypto::{KeyFile, Keyring};
use std::path::PathBuf;

/// Loads the keyring; the path is set when a new key file was generated.
pub fn load_keyring(config: &Config) -> anyhow::Result<(Keyring, Option<PathBuf>)> {
    if let Some(direct) = config.direct_secrets() {
        return Ok((direct.keyring("configuration")?, None));
    }
    let path = config.key_file_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let (file, created) = KeyFile::load_or_create(&path, &today)?;
    let keyring = file.keyring(&path.display().to_string())?;
    Ok((keyring, created.then_some(path)))
}
