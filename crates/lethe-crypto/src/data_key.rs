//! A data key seals one owner's personal fields.

use crate::CryptoError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;

/// A 256-bit XChaCha20-Poly1305 key; random 192-bit nonces make reuse negligible.
pub struct DataKey {
    key: Zeroizing<[u8; crate::KEY_LEN]>,
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; crate::KEY_LEN]);
        rand::thread_rng().fill_bytes(key.as_mut());
        Self { key }
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; crate::KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Tampered)?;
        Ok(Self {
            key: Zeroizing::new(key),
        })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.key.as_ref()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }

    /// Encrypts `plaintext` bound to `context` (which field of which row), nonce first.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`DataKey::seal`] produced with the same context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// Opens sealed UTF-8 text.
    pub fn open_string(&self, context: &[u8], sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| CryptoError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let key = DataKey::generate();
        let sealed = key.seal(b"msg:1", b"hello");
        assert_eq!(key.open(b"msg:1", &sealed).unwrap(), b"hello");
        assert!(key.open(b"msg:2", &sealed).is_err());
        assert!(DataKey::generate().open(b"msg:1", &sealed).is_err());
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
    }
}
