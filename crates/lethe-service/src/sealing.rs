//! Sealing contexts and data-key handling. Each sealed field is bound to its row and
//! field, so ciphertext copied to another row fails to open.

use crate::error::ServiceResult;
use crate::Lethe;
use lethe_crypto::{DataKey, KeyOwner, WrappedKey};
use lethe_store::{KeyOwnerKind, StoredKey};

pub(crate) const PROFILE: &[u8] = b"consumer-profile";
pub(crate) const PARTICIPANT: &[u8] = b"participant";

pub(crate) fn attribute_context(position: usize) -> Vec<u8> {
    format!("attribute:{position}").into_bytes()
}

pub(crate) fn message_context(message_id: &str) -> Vec<u8> {
    let mut context = Vec::new();
    write_message_context(&mut context, message_id);
    context
}

/// [`message_context`] into a buffer that is reused across a conversation's messages.
pub(crate) fn write_message_context(out: &mut Vec<u8>, message_id: &str) {
    out.clear();
    out.extend_from_slice(b"message:");
    out.extend_from_slice(message_id.as_bytes());
}

pub(crate) fn survey_context(survey_id: &str, question_id: &str) -> Vec<u8> {
    [b"survey\0", survey_id.as_bytes(), b"\0", question_id.as_bytes()].concat()
}

pub(crate) fn file_context(file_id: &str) -> Vec<u8> {
    format!("file:{file_id}").into_bytes()
}

pub(crate) fn file_name_context(file_id: &str) -> Vec<u8> {
    format!("file-name:{file_id}").into_bytes()
}

fn owner<'a>(account: &'a str, kind: KeyOwnerKind, id: &'a str) -> KeyOwner<'a> {
    KeyOwner {
        account,
        kind: kind.as_str(),
        id,
    }
}

impl Lethe {
    /// A fresh data key for an owner, and its stored (wrapped) form.
    pub(crate) fn new_data_key(&self, account: &str, kind: KeyOwnerKind, id: &str) -> (DataKey, StoredKey) {
        let (key, wrapped) = self.keyring.new_data_key(owner(account, kind, id));
        (
            key,
            StoredKey {
                kek_id: wrapped.kek_id,
                wrapped: wrapped.bytes,
            },
        )
    }

    /// Unwraps a stored data key.
    pub(crate) fn open_data_key(
        &self,
        account: &str,
        kind: KeyOwnerKind,
        id: &str,
        kek_id: &str,
        wrapped: &[u8],
    ) -> ServiceResult<DataKey> {
        let wrapped = WrappedKey {
            kek_id: kek_id.to_owned(),
            bytes: wrapped.to_vec(),
        };
        Ok(self.keyring.unwrap(owner(account, kind, id), &wrapped)?)
    }

    /// The data keys of several consumers, created where missing (race-free: the store
    /// keeps the first key written and returns it to every caller).
    pub(crate) async fn consumer_keys(&self, account: &str, ids: &[String]) -> ServiceResult<Vec<DataKey>> {
        let candidates: Vec<(String, StoredKey)> = ids
            .iter()
            .map(|id| (id.clone(), self.new_data_key(account, KeyOwnerKind::Consumer, id).1))
            .collect();
        let stored = self
            .store
            .ensure_data_keys(account, KeyOwnerKind::Consumer, &candidates, self.now())
            .await?;
        ids.iter()
            .zip(stored)
            .map(|(id, key)| self.open_data_key(account, KeyOwnerKind::Consumer, id, &key.kek_id, &key.wrapped))
            .collect()
    }
}
