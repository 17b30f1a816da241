//! Keyed-hash lookups: how a personal value is found without being stored in the clear.

use crate::Lethe;
use lethe_domain::conversation::AttributeKind;

/// The kinds of value lethe can find a consumer or conversation by.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Email(&'a str),
    Phone(&'a str),
    ChannelUser(&'a str),
    ConsumerAttribute(&'a str),
    Attribute(AttributeKind, &'a str),
}

/// E-mail addresses compare case-insensitively.
fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Phone numbers compare by their digits (and a leading plus).
fn normalize_phone(phone: &str) -> String {
    let trimmed = phone.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    }
}

impl Lethe {
    /// The keyed hash stored for (and searched by) a personal value in an account.
    pub fn lookup_hash(&self, account: &str, lookup: Lookup<'_>) -> Vec<u8> {
        let ring = &self.keyring;
        match lookup {
            Lookup::Email(v) => ring.lookup_hash(account, "email", &normalize_email(v)),
            Lookup::Phone(v) => ring.lookup_hash(account, "phone", &normalize_phone(v)),
            Lookup::ChannelUser(v) => ring.lookup_hash(account, "cid", v),
            Lookup::ConsumerAttribute(v) => ring.lookup_hash(account, "consumer-attribute", v),
            Lookup::Attribute(kind, v) => ring.lookup_hash(account, &format!("attribute:{}", kind.as_str()), v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_contact_details() {
        assert_eq!(normalize_email(" Ann@Example.COM "), "ann@example.com");
        assert_eq!(normalize_phone("+44 (20) 7946-0000"), "+442079460000");
        assert_eq!(normalize_phone("020 7946"), "0207946");
    }
}
