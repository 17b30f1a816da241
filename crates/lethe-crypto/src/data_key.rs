//! A data key seals one owner's personal fields.
//!
//! Two stored formats, both through ring's assembly ChaCha20-Poly1305 (with run-time CPU
//! detection), nonce first:
//!
//! * [`Format::Ietf`], every data key made now: ChaCha20-Poly1305 (RFC 8439) with a random
//!   12-byte nonce. A data key belongs to one conversation, consumer, request or app and
//!   seals far fewer fields than the 2^32 that random 96-bit nonces allow under one key.
//! * [`Format::XChaCha`]: XChaCha20-Poly1305 with a random 24-byte nonce, for the
//!   key-encryption key (which wraps millions of data keys) and for data keys wrapped
//!   before format 2. HChaCha20 derives a per-nonce subkey, and ring seals under it with
//!   the nonce's last 8 bytes. That derivation, once per field, was 9 % of a search's
//!   instructions, which is why data keys moved off it.
//!
//! Which format a data key uses is recorded in its wrapped form ([`crate::Keyring`]).

use crate::CryptoError;
use chacha20::cipher::consts::U10;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN as IETF_NONCE_LEN};
use zeroize::{Zeroize, Zeroizing};

const XCHACHA_NONCE_LEN: usize = 24;
/// The part of an XChaCha20 nonce HChaCha20 consumes.
const SUBKEY_NONCE_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// How a key seals, and so the layout of what it sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// XChaCha20-Poly1305, 24-byte nonce first.
    XChaCha,
    /// ChaCha20-Poly1305 (RFC 8439), 12-byte nonce first.
    Ietf,
}

impl Format {
    fn nonce_len(self) -> usize {
        match self {
            Format::XChaCha => XCHACHA_NONCE_LEN,
            Format::Ietf => IETF_NONCE_LEN,
        }
    }
}

/// A 256-bit key and the format it seals in.
pub struct DataKey {
    key: Zeroizing<[u8; crate::KEY_LEN]>,
    /// ring's key for [`Format::Ietf`] (and so which format this is), built once: a search opens hundreds of fields
    /// under one conversation's key, and building ring's key for each (a few hundred
    /// bytes copied about) was a tenth of opening one. XChaCha keys derive a key per
    /// nonce and have none.
    ietf: Option<LessSafeKey>,
}

impl DataKey {
    /// A fresh random key in the format data keys use now.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; crate::KEY_LEN]);
        rand::thread_rng().fill_bytes(key.as_mut());
        Self::with_format(key, Format::Ietf)
    }

    pub(crate) fn from_bytes(bytes: &[u8], format: Format) -> Result<Self, CryptoError> {
        let key: [u8; crate::KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Tampered)?;
        Ok(Self::with_format(Zeroizing::new(key), format))
    }

    fn with_format(key: Zeroizing<[u8; crate::KEY_LEN]>, format: Format) -> Self {
        let ietf = (format == Format::Ietf).then(|| ring_key(key.as_ref()));
        Self { key, ietf }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.key.as_ref()
    }

    /// The format this key seals in.
    pub fn format(&self) -> Format {
        match self.ietf {
            Some(_) => Format::Ietf,
            None => Format::XChaCha,
        }
    }

    /// Runs `use_key` with the ChaCha20-Poly1305 key and nonce that sealing with `nonce`
    /// uses.
    fn with_cipher<R>(&self, nonce: &[u8], use_key: impl FnOnce(&LessSafeKey, Nonce) -> R) -> R {
        let mut short = [0u8; IETF_NONCE_LEN];
        match &self.ietf {
            Some(key) => {
                short.copy_from_slice(nonce);
                use_key(key, Nonce::assume_unique_for_key(short))
            }
            None => {
                let (head, tail) = nonce.split_at(SUBKEY_NONCE_LEN);
                let head: &[u8; SUBKEY_NONCE_LEN] = head.try_into().expect("16 bytes");
                let mut subkey = chacha20::hchacha::<U10>(self.key.as_ref().into(), head.into());
                short[4..].copy_from_slice(tail);
                let key = ring_key(subkey.as_slice());
                subkey.as_mut_slice().zeroize();
                use_key(&key, Nonce::assume_unique_for_key(short))
            }
        }
    }

    /// Encrypts `plaintext` bound to `context` (which field of which row), nonce first.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce_len = self.format().nonce_len();
        let mut out = vec![0u8; nonce_len];
        rand::thread_rng().fill_bytes(&mut out);
        out.reserve(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        let (nonce, body) = out.split_at_mut(nonce_len);
        let tag = self.with_cipher(nonce, |key, nonce| {
            key.seal_in_place_separate_tag(nonce, Aad::from(context), body)
                .expect("ChaCha20-Poly1305 encryption of an in-memory buffer cannot fail")
        });
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Decrypts what [`DataKey::seal`] produced with the same context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_len = self.format().nonce_len();
        if sealed.len() < nonce_len + TAG_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, body) = sealed.split_at(nonce_len);
        let mut plain = body.to_vec();
        let len = self
            .with_cipher(nonce, |key, nonce| {
                key.open_in_place(nonce, Aad::from(context), &mut plain)
            })
            .map_err(|_| CryptoError::Tampered)?
            .len();
        plain.truncate(len);
        Ok(plain)
    }

    /// Opens sealed UTF-8 text.
    pub fn open_string(&self, context: &[u8], sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| CryptoError::Tampered)
    }
}

/// ring's ChaCha20-Poly1305 key for 32 key bytes.
fn ring_key(bytes: &[u8]) -> LessSafeKey {
    let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte key is a valid ChaCha20-Poly1305 key");
    LessSafeKey::new(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};

    fn key_in(format: Format) -> DataKey {
        DataKey::from_bytes(DataKey::generate().bytes(), format).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        for format in [Format::Ietf, Format::XChaCha] {
            let key = key_in(format);
            let sealed = key.seal(b"msg:1", b"hello");
            assert_eq!(sealed.len(), format.nonce_len() + 5 + TAG_LEN);
            assert_eq!(key.open(b"msg:1", &sealed).unwrap(), b"hello");
            assert!(key.open(b"msg:2", &sealed).is_err());
            assert!(key_in(format).open(b"msg:1", &sealed).is_err());
            assert!(!sealed.windows(5).any(|w| w == b"hello"));
            assert!(key.open(b"msg:1", &sealed[..format.nonce_len() + TAG_LEN - 1]).is_err());
            let other = if format == Format::Ietf {
                Format::XChaCha
            } else {
                Format::Ietf
            };
            let same_bytes = DataKey::from_bytes(key.bytes(), other).unwrap();
            assert!(
                same_bytes.open(b"msg:1", &sealed).is_err(),
                "formats do not open each other"
            );
        }
        assert_eq!(DataKey::generate().format(), Format::Ietf);
    }

    /// Each format is its standard construction: what lethe seals opens with the
    /// reference implementation, and the other way round.
    #[test]
    fn the_formats_are_standard_aeads() {
        fn check<A: Aead + KeyInit>(format: Format) {
            let key = key_in(format);
            let reference = A::new_from_slice(key.bytes()).unwrap();
            for len in [0, 1, 15, 16, 17, 63, 64, 65, 1000] {
                let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let sealed = key.seal(b"ctx", &plain);
                let (nonce, body) = sealed.split_at(format.nonce_len());
                let nonce = chacha20poly1305::aead::Nonce::<A>::from_slice(nonce);
                let opened = reference.decrypt(nonce, Payload { msg: body, aad: b"ctx" }).unwrap();
                assert_eq!(opened, plain);
                let theirs = reference
                    .encrypt(
                        nonce,
                        Payload {
                            msg: &plain,
                            aad: b"ctx",
                        },
                    )
                    .unwrap();
                assert_eq!(key.open(b"ctx", &[nonce.as_slice(), &theirs].concat()).unwrap(), plain);
            }
        }
        check::<chacha20poly1305::ChaCha20Poly1305>(Format::Ietf);
        check::<chacha20poly1305::XChaCha20Poly1305>(Format::XChaCha);
    }
}
