//! Service errors: what every surface maps onto its own status codes and bodies.

use lethe_domain::DomainError;
use lethe_store::StoreError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed or rule-breaking input; `field` names the part.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The credential lacks the scope or belongs to another account.
    #[error("{0}")]
    Forbidden(String),
    /// No such object in this account.
    #[error("{0} not found")]
    NotFound(String),
    /// The object was erased; it cannot be written again.
    #[error("{0}")]
    Gone(String),
    /// The write contradicts stored state.
    #[error("{0}")]
    Conflict(String),
    /// The object's current state does not allow the operation (cancel after final…).
    #[error("{message}")]
    WrongState { current: String, message: String },
    /// The account's monthly request quota is used up until `resets_at`.
    #[error("monthly quota of {limit} deletion requests reached")]
    QuotaExceeded {
        limit: u32,
        resets_at: lethe_domain::Millis,
    },
    /// The database or blob store is momentarily unavailable; retrying may succeed.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// A fault inside lethe; details go to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Shorthand for [`ServiceError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<DomainError> for ServiceError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid { field, message } => Self::Invalid { field, message },
            DomainError::NotFound(what) => Self::NotFound(what),
            DomainError::Conflict(what) => Self::Conflict(what),
            DomainError::Forbidden(why) => Self::Forbidden(why),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Busy(msg) => Self::Unavailable(msg),
            StoreError::Blob(msg) => Self::Unavailable(format!("blob store: {msg}")),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<lethe_crypto::CryptoError> for ServiceError {
    fn from(err: lethe_crypto::CryptoError) -> Self {
        Self::Internal(format!("cannot open sealed data: {err}"))
    }
}

/// Result alias for service calls.
pub type ServiceResult<T> = Result<T, ServiceError>;
