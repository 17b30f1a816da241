//! Storage errors, free of driver types so services never see sqlx.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or blob URL is not one lethe can use.
    #[error("unsupported storage URL: {0}")]
    BadUrl(String),
    /// The configured secrets are not the ones this database was created with.
    #[error("the configured keys do not match this database: {0}")]
    KeyringMismatch(String),
    /// A uniqueness or reference rule of the schema was violated.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The database is momentarily unavailable (busy, lock timeout, pool exhausted).
    #[error("database busy: {0}")]
    Busy(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(String),
    /// The blob store failed.
    #[error("blob store error: {0}")]
    Blob(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(String),
}

/// Result alias for storage operations.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                    return StoreError::Constraint(db.constraint().unwrap_or("unnamed").to_owned());
                }
                let code = db.code().unwrap_or_default();
                // SQLite BUSY/LOCKED (5, 6, and extended forms); PostgreSQL serialization,
                // deadlock and lock-timeout codes.
                if matches!(code.as_ref(), "5" | "6" | "517" | "261" | "40001" | "40P01" | "55P03") {
                    return StoreError::Busy(db.message().to_owned());
                }
                StoreError::Database(db.message().to_owned())
            }
            sqlx::Error::PoolTimedOut => StoreError::Busy("connection pool timed out".into()),
            _ => StoreError::Database(err.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(err.to_string())
    }
}
