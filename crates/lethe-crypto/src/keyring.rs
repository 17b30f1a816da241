//! The configured secrets: the key-encryption key (KEK) and the lookup-hash secret.

use crate::data_key::{DataKey, Format};
use crate::CryptoError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// A data key as stored: ciphertext under the KEK named by `kek_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_id: String,
    pub bytes: Vec<u8>,
}

/// Whose data a data key protects; bound into the wrapping so keys cannot be swapped.
#[derive(Debug, Clone, Copy)]
pub struct KeyOwner<'a> {
    pub account: &'a str,
    pub kind: &'a str,
    pub id: &'a str,
}

impl KeyOwner<'_> {
    /// What a wrapping is bound to: the owner, and for format 2 the format, so a wrapped
    /// key cannot be passed off as the other format's.
    fn context(&self, format: Format) -> Vec<u8> {
        let mut parts = vec![self.account, self.kind, self.id];
        if format == Format::Ietf {
            parts.push("format 2");
        }
        parts.join("\0").into_bytes()
    }
}

/// The first byte of a data key wrapped in format 2. A key wrapped before format 2 has no
/// marker and is exactly [`LEGACY_WRAPPED_LEN`] bytes long; a format-2 one is one byte
/// longer, so the length alone tells them apart whatever the legacy key's first byte.
const FORMAT_2_MARKER: u8 = 2;
/// XChaCha20 nonce, key, tag.
const LEGACY_WRAPPED_LEN: usize = 24 + crate::KEY_LEN + 16;

/// All secrets lethe needs at run time; none of them ever reaches the database.
pub struct Keyring {
    active_kek_id: String,
    keks: HashMap<String, DataKey>,
    lookup_mac: HmacSha256,
}

impl Keyring {
    /// Builds a keyring from the active KEK and the lookup-hash secret.
    pub fn new(kek_id: &str, kek: &[u8], hmac_secret: &[u8]) -> Result<Self, CryptoError> {
        let kek = DataKey::from_bytes(kek, Format::XChaCha)?;
        let lookup_mac = HmacSha256::new_from_slice(hmac_secret).map_err(|_| CryptoError::Tampered)?;
        Ok(Self {
            active_kek_id: kek_id.to_owned(),
            keks: HashMap::from([(kek_id.to_owned(), kek)]),
            lookup_mac,
        })
    }

    /// The id recorded beside every key wrapped now.
    pub fn active_kek_id(&self) -> &str {
        &self.active_kek_id
    }

    /// Creates a data key for `owner` and its wrapped form for storage.
    pub fn new_data_key(&self, owner: KeyOwner<'_>) -> (DataKey, WrappedKey) {
        let key = DataKey::generate();
        let kek = &self.keks[&self.active_kek_id];
        let mut bytes = vec![FORMAT_2_MARKER];
        bytes.extend_from_slice(&kek.seal(&owner.context(key.format()), key.bytes()));
        let wrapped = WrappedKey {
            kek_id: self.active_kek_id.clone(),
            bytes,
        };
        (key, wrapped)
    }

    /// Unwraps a stored data key, checking it belongs to `owner`.
    pub fn unwrap(&self, owner: KeyOwner<'_>, wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
        let kek = self
            .keks
            .get(&wrapped.kek_id)
            .ok_or_else(|| CryptoError::UnknownKek(wrapped.kek_id.clone()))?;
        let (format, sealed) = match wrapped.bytes.split_first() {
            Some((&FORMAT_2_MARKER, rest)) if wrapped.bytes.len() == LEGACY_WRAPPED_LEN + 1 => (Format::Ietf, rest),
            _ => (Format::XChaCha, wrapped.bytes.as_slice()),
        };
        let raw = Zeroizing::new(kek.open(&owner.context(format), sealed)?);
        DataKey::from_bytes(&raw, format)
    }

    /// The keyed hash that stands in for a personal value in lookup columns.
    pub fn lookup_hash(&self, account: &str, kind: &str, value: &str) -> Vec<u8> {
        self.mac(&[account, kind, value])
    }

    /// A keyed digest of request content, for idempotency comparisons without plaintext.
    pub fn content_mac(&self, account: &str, content: &[u8]) -> Vec<u8> {
        let mut mac = self.lookup_mac.clone();
        mac.update(b"content\0");
        mac.update(account.as_bytes());
        mac.update(b"\0");
        mac.update(content);
        mac.finalize().into_bytes().to_vec()
    }

    fn mac(&self, parts: &[&str]) -> Vec<u8> {
        let mut mac = self.lookup_mac.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Check values that let a node prove it holds the deployment's secrets without
    /// revealing them: (KEK id, KEK check, lookup-secret check).
    pub fn check_values(&self) -> (String, Vec<u8>, Vec<u8>) {
        let kek = &self.keks[&self.active_kek_id];
        let mut kek_mac = HmacSha256::new_from_slice(kek.bytes()).expect("HMAC accepts any key length");
        kek_mac.update(b"lethe kek check");
        (
            self.active_kek_id.clone(),
            kek_mac.finalize().into_bytes().to_vec(),
            self.mac(&["lethe lookup check"]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new("k1", &[7u8; 32], b"secret").unwrap()
    }

    fn conversation_c1() -> KeyOwner<'static> {
        KeyOwner {
            account: "a",
            kind: "conversation",
            id: "c1",
        }
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_owner() {
        let ring = keyring();
        let owner = conversation_c1();
        let (key, wrapped) = ring.new_data_key(owner);
        let sealed = key.seal(b"x", b"data");
        let again = ring.unwrap(owner, &wrapped).unwrap();
        assert_eq!(again.open(b"x", &sealed).unwrap(), b"data");
        let other = KeyOwner { id: "c2", ..owner };
        assert!(ring.unwrap(other, &wrapped).is_err());
        let unknown = WrappedKey {
            kek_id: "k9".into(),
            ..wrapped
        };
        assert!(matches!(ring.unwrap(owner, &unknown), Err(CryptoError::UnknownKek(_))));
    }

    /// Data keys wrapped before format 2 (XChaCha20-Poly1305, no marker) still unwrap, and
    /// open what they sealed; a format-2 wrapping cannot be replayed as the other format.
    #[test]
    fn keys_wrapped_before_format_2_still_open() {
        let ring = keyring();
        let owner = conversation_c1();
        for first_byte in [0u8, FORMAT_2_MARKER, 255] {
            let legacy = DataKey::from_bytes(&[first_byte; 32], Format::XChaCha).unwrap();
            let sealed = legacy.seal(b"x", b"old data");
            let kek = &ring.keks["k1"];
            // Sealed until the random nonce starts with the byte under test: a legacy
            // wrapping that starts like a format-2 marker must still read as legacy.
            let mut bytes = kek.seal(&owner.context(Format::XChaCha), legacy.bytes());
            while bytes[0] != first_byte {
                bytes = kek.seal(&owner.context(Format::XChaCha), legacy.bytes());
            }
            assert_eq!(bytes.len(), LEGACY_WRAPPED_LEN);
            let wrapped = WrappedKey {
                kek_id: "k1".into(),
                bytes,
            };
            let opened = ring.unwrap(owner, &wrapped).unwrap();
            assert_eq!(opened.format(), Format::XChaCha);
            assert_eq!(opened.open(b"x", &sealed).unwrap(), b"old data");
        }
        let (key, wrapped) = ring.new_data_key(owner);
        assert_eq!(key.format(), Format::Ietf);
        assert_eq!(wrapped.bytes.len(), LEGACY_WRAPPED_LEN + 1);
        let stripped = WrappedKey {
            kek_id: "k1".into(),
            bytes: wrapped.bytes[1..].to_vec(),
        };
        assert!(
            ring.unwrap(owner, &stripped).is_err(),
            "a format-2 key does not unwrap as a legacy one"
        );
    }

    #[test]
    fn lookup_hashes_are_keyed_and_unambiguous() {
        let ring = keyring();
        assert_eq!(ring.lookup_hash("a", "email", "x"), ring.lookup_hash("a", "email", "x"));
        assert_ne!(ring.lookup_hash("a", "email", "x"), ring.lookup_hash("b", "email", "x"));
        assert_ne!(ring.lookup_hash("a", "em", "ailx"), ring.lookup_hash("a", "email", "x"));
        let other = Keyring::new("k1", &[7u8; 32], b"other").unwrap();
        assert_ne!(
            ring.lookup_hash("a", "email", "x"),
            other.lookup_hash("a", "email", "x")
        );
    }
}
