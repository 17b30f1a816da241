//! Configuration: embedded defaults, then a TOML file, then `LETHE_*` environment
//! variables (`__` for nesting), then command-line flags, then validation.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Everything `lethe serve` can be told.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://PATH` (default) or `postgres://…`.
    pub database_url: String,
    /// Address the HTTP server binds.
    pub listen: String,
    /// Blob store: a directory, `file://DIR` or `s3://bucket/prefix`. Default: a
    /// `lethe-blobs` directory beside the database.
    pub blobs: Option<String>,
    /// Where generated secrets live. Default: `lethe.keys` beside the database.
    pub key_file: Option<PathBuf>,
    /// Key-encryption key (base64, 32 bytes) given directly, e.g. by environment.
    #[serde(skip_serializing)]
    pub kek: Option<SecretString>,
    /// The id recorded beside every key wrapped with `kek`.
    pub kek_id: Option<String>,
    /// Lookup-hash secret (base64, at least 16 bytes) given directly.
    #[serde(skip_serializing)]
    pub hmac_secret: Option<SecretString>,
    /// Largest JSON body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Largest NDJSON import or file upload accepted over HTTP, in bytes.
    pub import_body_limit_bytes: usize,
    /// Records per import transaction.
    pub import_batch_size: usize,
    /// `pretty` or `json`.
    pub log_format: String,
    /// Seconds in-flight requests get to finish after a shutdown signal.
    pub shutdown_grace_seconds: u64,
    /// Most ids one deletion request may list.
    pub max_ids_per_request: usize,
    /// Most conversations a filter or channel-user deletion target may cover.
    pub max_filter_conversations: usize,
    /// How often the server makes requests final whose grace period has ended.
    pub promotion_interval_seconds: u64,
    /// Whether `lethe serve` runs deletion jobs (off: another node's runner does).
    pub runner_enabled: bool,
    /// How often an idle runner looks for due jobs, in milliseconds.
    pub runner_poll_ms: u64,
    /// Items per erasure transaction.
    pub job_batch_size: usize,
    /// How long a claimed job stays leased without a batch commit.
    pub job_lease_seconds: u64,
    /// Failed attempts before a job is `failed`.
    pub job_max_attempts: u32,
    /// First retry delay in milliseconds (doubled per attempt, with jitter).
    pub job_retry_base_ms: u64,
    /// PostgreSQL: vacuum the erased tables after each job.
    pub vacuum_after_job: bool,
    /// SMTP server for completion e-mails (`smtp://host:port`, `smtps://user:pass@host`);
    /// unset: e-mails stay queued and are reported as undeliverable.
    pub smtp_url: Option<String>,
    /// Sender of completion e-mails.
    pub smtp_from: String,
    /// How soon after a synchronous delete the SQLite WAL is truncated, in milliseconds.
    pub checkpoint_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./lethe.db".into(),
            listen: "127.0.0.1:8080".into(),
            blobs: None,
            key_file: None,
            kek: None,
            kek_id: None,
            hmac_secret: None,
            body_limit_bytes: 1024 * 1024,
            import_body_limit_bytes: 64 * 1024 * 1024,
            import_batch_size: 500,
            log_format: "pretty".into(),
            shutdown_grace_seconds: 20,
            max_ids_per_request: 100,
            max_filter_conversations: 10_000,
            promotion_interval_seconds: 30,
            runner_enabled: true,
            runner_poll_ms: 1_000,
            job_batch_size: 50,
            job_lease_seconds: 30,
            job_max_attempts: 5,
            job_retry_base_ms: 1_000,
            vacuum_after_job: true,
            smtp_url: None,
            smtp_from: "lethe <lethe@localhost>".into(),
            checkpoint_interval_ms: 2_000,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("blobs", &self.blobs)
            .field("key_file", &self.key_file)
            .field("kek", &self.kek.as_ref().map(|_| "[redacted]"))
            .field("kek_id", &self.kek_id)
            .field("hmac_secret", &self.hmac_secret.as_ref().map(|_| "[redacted]"))
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("import_body_limit_bytes", &self.import_body_limit_bytes)
            .field("import_batch_size", &self.import_batch_size)
            .field("log_format", &self.log_format)
            .field("max_ids_per_request", &self.max_ids_per_request)
            .field("max_filter_conversations", &self.max_filter_conversations)
            .field("promotion_interval_seconds", &self.promotion_interval_seconds)
            .field("runner_enabled", &self.runner_enabled)
            .field("runner_poll_ms", &self.runner_poll_ms)
            .field("job_batch_size", &self.job_batch_size)
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field("job_max_attempts", &self.job_max_attempts)
            .field("job_retry_base_ms", &self.job_retry_base_ms)
            .field("vacuum_after_job", &self.vacuum_after_job)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_from", &self.smtp_from)
            .field("checkpoint_interval_ms", &self.checkpoint_interval_ms)
            .finish()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// Loads defaults, the optional TOML file, `LETHE_*` variables, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &impl Serialize) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("LETHE_").split("__"))
            .merge(Serialized::globals(overrides))
            .extract()
            .map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres")) {
            return Err("database_url must start with sqlite: or postgres://".into());
        }
        if self.import_batch_size == 0 || self.body_limit_bytes == 0 {
            return Err("import_batch_size and body_limit_bytes must be positive".into());
        }
        if self.max_ids_per_request == 0 || self.max_filter_conversations == 0 || self.promotion_interval_seconds == 0 {
            return Err(
                "max_ids_per_request, max_filter_conversations and promotion_interval_seconds must be positive".into(),
            );
        }
        if !matches!(self.log_format.as_str(), "pretty" | "json") {
            return Err("log_format must be pretty or json".into());
        }
        if self.kek.is_some() != self.hmac_secret.is_some() || (self.kek.is_some() && self.kek_id.is_none()) {
            return Err("give kek, kek_id and hmac_secret together, or none of them".into());
        }
        Ok(())
    }

    /// The directory that holds the SQLite file, or the working directory.
    fn data_dir(&self) -> PathBuf {
        lethe_store::sqlite_path(&self.database_url)
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The key file path in effect.
    pub fn key_file_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir().join("lethe.keys"))
    }

    /// The blob location in effect.
    pub fn blob_location(&self) -> String {
        self.blobs
            .clone()
            .unwrap_or_else(|| self.data_dir().join("lethe-blobs").display().to_string())
    }

    /// Secrets given directly (environment or file), if any.
    pub fn direct_secrets(&self) -> Option<lethe_crypto::KeyFile> {
        Some(lethe_crypto::KeyFile {
            kek_id: self.kek_id.clone()?,
            kek: self.kek.as_ref()?.expose_secret().to_owned(),
            hmac_secret: self.hmac_secret.as_ref()?.expose_secret().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Flags {
        listen: &'static str,
    }

    #[derive(Serialize)]
    struct NoFlags {}

    #[test]
    fn file_then_flags_then_validation() {
        let dir = std::env::temp_dir().join(format!("lethe-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lethe.toml");
        std::fs::write(
            &file,
            "database_url = \"sqlite:///var/lib/lethe/x.db\"\nlisten = \"0.0.0.0:9000\"\nimport_batch_size = 7\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&file),
            &Flags {
                listen: "127.0.0.1:1234",
            },
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:1234", "flags win over the file");
        assert_eq!(config.import_batch_size, 7);
        assert_eq!(
            config.key_file_path(),
            PathBuf::from("/var/lib/lethe/lethe.keys"),
            "secrets live beside the database"
        );
        assert_eq!(config.blob_location(), "/var/lib/lethe/lethe-blobs");

        std::fs::write(&file, "log_format = \"xml\"\n").unwrap();
        assert!(Config::load(Some(&file), &NoFlags {})
            .unwrap_err()
            .contains("log_format"));
        std::fs::write(&file, "kek = \"abc\"\n").unwrap();
        assert!(
            Config::load(Some(&file), &NoFlags {}).is_err(),
            "a KEK without its id and HMAC secret is refused"
        );
        assert!(Config::load(Some(&dir.join("missing.toml")), &NoFlags {}).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_output_hides_secrets_and_passwords() {
        let config = Config {
            database_url: "postgres://lethe:hunter2@db/lethe".into(),
            kek: Some(SecretString::from("c2VjcmV0")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("c2VjcmV0"), "{shown}");
    }
}
