//! The change log: an append-only, per-account hash chain of what happened to
//! deletion requests and settings. It holds no personal data.

use crate::time::Millis;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The previous hash of an account's first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One entry's content: everything its hash covers besides the previous hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeEntry {
    pub account: String,
    pub seq: i64,
    pub at: Millis,
    pub request_id: Option<i64>,
    /// `key:<id>`, `cli`, or `system`: never a person's name.
    pub actor: String,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    /// Event facts as JSON text (field names, counts, hashed ids).
    pub detail: String,
}

impl ChangeEntry {
    /// SHA-256 over the previous hash and this entry's canonical JSON.
    pub fn chain_hash(&self, prev: &[u8]) -> Vec<u8> {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(&canonical);
        hasher.finalize().to_vec()
    }
}

/// A stored entry with its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    pub entry: ChangeEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: &'static str,
}

/// Checks that entries (in `seq` order, from the first) link up and that every hash
/// matches its content.
pub fn verify_chain(entries: &[ChainedEntry]) -> Result<(), ChainBreak> {
    let mut prev: Vec<u8> = GENESIS.to_vec();
    for (i, e) in entries.iter().enumerate() {
        let seq = e.entry.seq;
        if seq != i as i64 + 1 {
            return Err(ChainBreak {
                seq,
                reason: "sequence numbers are not consecutive",
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak {
                seq,
                reason: "does not link to the previous entry",
            });
        }
        if e.entry.chain_hash(&prev) != e.hash {
            return Err(ChainBreak {
                seq,
                reason: "content does not match its hash",
            });
        }
        prev = e.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEntry> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let entry = ChangeEntry {
                    account: "a".into(),
                    seq,
                    at: seq * 10,
                    request_id: Some(seq),
                    actor: "system".into(),
                    event: "created".into(),
                    from_status: None,
                    to_status: Some("pending".into()),
                    detail: "{}".into(),
                };
                let hash = entry.chain_hash(&prev);
                let linked = ChainedEntry {
                    entry,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                linked
            })
            .collect()
    }

    #[test]
    fn detects_edits_and_gaps() {
        let mut entries = chain(4);
        assert_eq!(verify_chain(&entries), Ok(()));
        entries[2].entry.actor = "key:9".into();
        assert_eq!(verify_chain(&entries).unwrap_err().seq, 3);
        let mut gap = chain(4);
        gap.remove(1);
        assert!(verify_chain(&gap).is_err());
    }
}
