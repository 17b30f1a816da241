//! Errors that domain rules raise, independent of any transport.

/// A violated domain rule; each surface maps it onto its own error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks a rule; `field` names the offending part of the request.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The object does not exist in this account (or belongs to another one).
    #[error("{0} not found")]
    NotFound(String),
    /// The write contradicts what is already stored.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not make this change (an operator-only setting, say).
    #[error("{0}")]
    Forbidden(String),
}

impl DomainError {
    /// Shorthand for an [`DomainError::Invalid`] error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Result alias for domain operations.
pub type DomainResult<T> = Result<T, DomainError>;
