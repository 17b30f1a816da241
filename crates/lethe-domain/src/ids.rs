//! Identifier newtypes: parsed once at the edge, trusted everywhere after.

use crate::error::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

/// Longest id lethe accepts; vendor ids are far shorter, this only bounds abuse.
pub const MAX_ID_LEN: usize = 200;

pub(crate) fn check_opaque(field: &str, value: &str) -> DomainResult<()> {
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_ID_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id.
            pub fn parse(value: impl Into<String>) -> DomainResult<Self> {
                let value = value.into();
                check_opaque($field, &value)?;
                Ok(Self(value))
            }
            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> DomainResult<Self> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A consumer (data subject) id, unique within an account.
    ConsumerId,
    "consumer_id"
);
opaque_id!(
    /// A messaging conversation id or a chat engagement id, unique within an account.
    ConversationId,
    "conversation_id"
);
opaque_id!(
    /// A client-supplied message id, unique within its conversation.
    MessageId,
    "message_id"
);
opaque_id!(
    /// A hosted file id, unique within an account.
    FileId,
    "file_id"
);
opaque_id!(
    /// A bot id, unique within an account.
    BotId,
    "bot_id"
);
opaque_id!(
    /// A survey id, unique within its conversation.
    SurveyId,
    "survey_id"
);

/// An account (tenant) id: `^[a-zA-Z0-9_]{1,20}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    /// Validates an account id against the vendor's pattern.
    pub fn parse(value: impl Into<String>) -> DomainResult<Self> {
        static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
        let value = value.into();
        let pattern = PATTERN.get_or_init(|| regex::Regex::new("^[a-zA-Z0-9_]{1,20}$").expect("valid regex"));
        if pattern.is_match(&value) {
            Ok(Self(value))
        } else {
            Err(DomainError::invalid("site_id", "must match ^[a-zA-Z0-9_]{1,20}$"))
        }
    }
    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteId {
    type Error = DomainError;
    fn try_from(value: String) -> DomainResult<Self> {
        Self::parse(value)
    }
}

impl From<SiteId> for String {
    fn from(id: SiteId) -> String {
        id.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_id_follows_the_vendor_pattern() {
        assert!(SiteId::parse("20762324").is_ok());
        assert!(SiteId::parse("a_B_9").is_ok());
        assert!(SiteId::parse("").is_err());
        assert!(SiteId::parse("x".repeat(21)).is_err());
        assert!(SiteId::parse("bad-id").is_err());
        assert!(SiteId::parse("ü").is_err());
    }

    #[test]
    fn opaque_ids_reject_empty_long_and_control() {
        assert!(ConversationId::parse("c-1").is_ok());
        assert!(ConversationId::parse("").is_err());
        assert!(ConversationId::parse("x".repeat(201)).is_err());
        assert!(ConversationId::parse("a\nb").is_err());
    }
}
