//! Envelope encryption for personal data: per-owner data keys sealed with an AEAD,
//! wrapped by a key-encryption key from configuration, and keyed hashes for lookups.

mod data_key;
mod keyfile;
mod keyring;

pub use data_key::{DataKey, Format};
pub use keyfile::{KeyFile, KeyFileError};
pub use keyring::{KeyOwner, Keyring, WrappedKey};

/// Why sealed data or a wrapped key could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key-encryption key named by a wrapped key is not configured.
    #[error("key-encryption key `{0}` is not configured")]
    UnknownKek(String),
    /// Authentication failed: wrong key, wrong context or tampered bytes.
    #[error("sealed data failed authentication")]
    Tampered,
}

/// Length of every symmetric key lethe uses.
pub const KEY_LEN: usize = 32;
