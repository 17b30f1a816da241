//! Reading and verifying an account's change log.

use crate::error::ServiceResult;
use crate::Lethe;
use lethe_domain::changelog::{verify_chain, ChainedEntry};
use lethe_domain::SiteId;

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: usize,
    /// `seq` of the first entry that does not verify.
    pub broken_at: Option<i64>,
    pub reason: Option<&'static str>,
    /// Hex of the last entry's hash: the value to record elsewhere to pin the chain.
    pub head: Option<String>,
}

impl Lethe {
    /// The account's change log, in chain order.
    pub async fn change_log(&self, site: &SiteId) -> ServiceResult<Vec<ChainedEntry>> {
        self.require_account(site).await?;
        Ok(self.store.change_log(site.as_str(), None).await?)
    }

    /// Recomputes every hash and link of the account's chain.
    pub async fn verify_change_log(&self, site: &SiteId) -> ServiceResult<ChainReport> {
        let entries = self.change_log(site).await?;
        let result = verify_chain(&entries);
        Ok(ChainReport {
            entries: entries.len(),
            broken_at: result.as_ref().err().map(|b| b.seq),
            reason: result.err().map(|b| b.reason),
            head: entries.last().map(|e| hex::encode(&e.hash)),
        })
    }
}
