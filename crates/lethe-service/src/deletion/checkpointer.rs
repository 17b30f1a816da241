//! The coalesced checkpointer: synchronous deletes answer before the SQLite WAL is
//! truncated; one truncation a few seconds later serves all of them, and each request's
//! change log records the moment.

use crate::error::ServiceResult;
use crate::Lethe;
use lethe_domain::SiteId;
use lethe_store::LogDraft;

impl Lethe {
    /// Queues a request whose erased pages may still be in the WAL.
    pub(crate) fn checkpoint_soon(&self, site: &SiteId, request_id: i64) {
        let mut pending = self.pending_checkpoints.lock().unwrap_or_else(|p| p.into_inner());
        pending.push((site.as_str().to_owned(), request_id));
    }

    /// Truncates the WAL once for every queued request and logs it on each; a busy WAL
    /// keeps them queued for the next call. Returns how many requests it covered.
    pub async fn checkpoint_pending(&self) -> ServiceResult<usize> {
        let pending: Vec<(String, i64)> =
            std::mem::take(&mut *self.pending_checkpoints.lock().unwrap_or_else(|p| p.into_inner()));
        if pending.is_empty() || self.store.backend() != "sqlite" {
            return Ok(0);
        }
        let Some(at) = self.store.checkpoint(self.now()).await? else {
            self.pending_checkpoints
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(pending);
            return Ok(0);
        };
        for (account, request_id) in &pending {
            let log = LogDraft {
                at,
                actor: "system".into(),
                event: "wal_truncated".into(),
                from_status: None,
                to_status: None,
                detail: "{}".into(),
            };
            self.store.log_request_event(account, *request_id, &log, &[]).await?;
        }
        Ok(pending.len())
    }
}
