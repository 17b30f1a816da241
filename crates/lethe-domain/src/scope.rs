//! API key scopes.

use crate::error::{DomainError, DomainResult};
use std::fmt;

/// One permission an API key or app can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    ConversationsWrite,
    ConversationsRead,
    DeletionWrite,
    DeletionRead,
    DeletionApprove,
    ConversationsDelete,
    DeleteConversationsAndMetrics,
    Admin,
}

impl Scope {
    /// Every scope, in the order the docs list them.
    pub const ALL: [Scope; 8] = [
        Scope::ConversationsWrite,
        Scope::ConversationsRead,
        Scope::DeletionWrite,
        Scope::DeletionRead,
        Scope::DeletionApprove,
        Scope::ConversationsDelete,
        Scope::DeleteConversationsAndMetrics,
        Scope::Admin,
    ];

    /// The scope's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ConversationsWrite => "conversations:write",
            Scope::ConversationsRead => "conversations:read",
            Scope::DeletionWrite => "deletion:write",
            Scope::DeletionRead => "deletion:read",
            Scope::DeletionApprove => "deletion:approve",
            Scope::ConversationsDelete => "conversations:delete",
            Scope::DeleteConversationsAndMetrics => "delete_conversations_and_metrics",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u16 {
        1 << Scope::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> DomainResult<Self> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| DomainError::invalid("scopes", format!("unknown scope `{name}`")))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u16);

impl Scopes {
    /// Parses a comma-separated list; empty entries are ignored, unknown ones rejected.
    pub fn parse_list(list: &str) -> DomainResult<Self> {
        let mut set = Scopes::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            set.insert(Scope::parse(name)?);
        }
        if set.0 == 0 {
            return Err(DomainError::invalid("scopes", "at least one scope is needed"));
        }
        Ok(set)
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// Whether the set holds the scope.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        let s = Scopes::parse_list("admin, conversations:read").unwrap();
        assert!(s.contains(Scope::Admin));
        assert!(!s.contains(Scope::DeletionWrite));
        assert_eq!(s.to_string(), "conversations:read,admin");
        assert!(Scopes::parse_list("nope").is_err());
        assert!(Scopes::parse_list(" , ").is_err());
    }
}
