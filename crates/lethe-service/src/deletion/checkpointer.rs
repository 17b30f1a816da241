//! The coalesced checkpointer: synchronous deletes answer before the SQLite WAL is
//! truncated; one truncation a few seconds later serves all of them, and each request's
//! change log records the moment. Jobs in verification share it: one truncation at a
//! time, and none when a later one already covers a job's last batch.

use crate::error::ServiceResult;
use crate::Lethe;
use lethe_domain::{Millis, SiteId};
use lethe_store::LogDraft;

impl Lethe {
    /// Queues a request whose erased pages may still be in the WAL.
    pub(crate) fn checkpoint_soon(&self, site: &SiteId, request_id: i64) {
        let mut pending = self.pending_checkpoints.lock().unwrap_or_else(|p| p.into_inner());
        pending.push((site.as_str().to_owned(), request_id));
    }

    /// Whether the WAL has been truncated clean at or after `since`, truncating it if
    /// not. Concurrent callers queue behind one truncation, and a caller whose moment an
    /// earlier truncation (another job's, or the periodic one) already covers runs none.
    pub(crate) async fn wal_truncated_since(&self, since: Millis) -> ServiceResult<bool> {
        let _turn = self.checkpoint_turn.lock().await;
        if self.store.last_checkpoint().await?.is_some_and(|at| at >= since) {
            return Ok(true);
        }
        Ok(self.store.checkpoint(self.now()).await?.is_some_and(|at| at >= since))
    }

    /// Truncates the WAL once for every queued request and logs it on each; a busy WAL
    /// keeps them queued for the next call. Returns how many requests it covered.
    pub async fn checkpoint_pending(&self) -> ServiceResult<usize> {
        let pending: Vec<(String, i64)> =
            std::mem::take(&mut *self.pending_checkpoints.lock().unwrap_or_else(|p| p.into_inner()));
        if pending.is_empty() || self.store.backend() != "sqlite" {
            return Ok(0);
        }
        let turn = self.checkpoint_turn.lock().await;
        let truncated = self.store.checkpoint(self.now()).await?;
        drop(turn);
        let Some(at) = truncated else {
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
