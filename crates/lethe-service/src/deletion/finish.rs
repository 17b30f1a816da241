//! How a job ends: verification that nothing erased is left, the request's remains
//! hashed, the WAL truncated, and the final status with its notifications; or, after
//! failed attempts, backoff and `failed`.

use super::runner::{mask_marker, system_log, RunMode, Step};
use crate::error::{ServiceError, ServiceResult};
use crate::Lethe;
use lethe_domain::deletion::{RequestStatus, HASHED_PREFIX};
use lethe_domain::SiteId;
use lethe_store::{BlobQueue, JobRecord, RequestChange, RequestItem, RequestUpdates};
use serde_json::json;

/// How long a job waits before looking again (blob store lagging, WAL busy).
pub(super) const RECHECK_MS: i64 = 1_000;

/// Items read, verified and hashed at a time when a job ends.
const VERIFY_CHUNK: i64 = 1_000;

/// How many of a request's items ended how.
#[derive(Debug, Clone, Copy, Default)]
struct ItemTally {
    items: usize,
    erased: usize,
    not_found: usize,
    skipped_open: usize,
    failed: usize,
}

impl ItemTally {
    fn add(&mut self, items: &[RequestItem]) {
        for item in items {
            self.items += 1;
            match item.outcome.as_deref() {
                Some("erased") => self.erased += 1,
                Some("not_found") => self.not_found += 1,
                Some("skipped_open") => self.skipped_open += 1,
                Some("failed") => self.failed += 1,
                _ => {}
            }
        }
    }
}

impl Lethe {
    pub(super) async fn verify_and_finish(
        &self,
        site: &SiteId,
        job: &JobRecord,
        mode: RunMode,
        blobs_gone: &mut Vec<i64>,
    ) -> ServiceResult<Step> {
        let now = self.now();
        let wait = |why: &'static str| async move {
            tracing::debug!(job = %job.job_id, why, "job waits before completing");
            self.store
                .set_job_phase(job.id, job.generation, "verifying", now + RECHECK_MS, true)
                .await
                .map(|_| Step::Stop)
        };
        // Only this request's blobs: one the store refuses holds back the request that
        // queued it, not every request of the account. Their outbox records go in the
        // finishing transaction.
        let queue = BlobQueue::Request {
            account: site.as_str(),
            request_id: job.request_id,
        };
        let (deleted, failure) = self.delete_queued_blobs(queue).await?;
        blobs_gone.extend(deleted);
        let blobs_deleted = std::mem::take(blobs_gone);
        if let Some(error) = failure {
            self.store.blob_deletions_done(&blobs_deleted).await?;
            // A failed attempt, retried with backoff: the blob store may be down for long.
            return Err(ServiceError::Unavailable(format!(
                "the blob store refused a deletion: {error}"
            )));
        }
        // Items are read, verified and hashed a chunk at a time, so a job of any size
        // verifies in bounded memory.
        let (mut tally, mut kept, mut from) = (ItemTally::default(), Vec::new(), 0);
        loop {
            let chunk = self
                .store
                .request_items_from(site.as_str(), job.request_id, from, VERIFY_CHUNK)
                .await?;
            let Some(last) = chunk.last() else { break };
            from = last.position + 1;
            self.verify_erased(site, job, mode, &chunk).await?;
            tally.add(&chunk);
            // A synchronous delete hashes its one item in its finishing transaction; a
            // job's items lose their ids before the WAL is truncated, so no page written
            // after the truncation holds one.
            if mode.synchronous {
                kept.extend(chunk);
            } else {
                self.store
                    .hash_items(site.as_str(), job.request_id, &self.hashed_items(site, &chunk))
                    .await?;
            }
        }
        if !mode.synchronous {
            self.hash_request_remains(site, job.request_id).await?;
        }
        if mode.synchronous {
            self.checkpoint_soon(site, job.request_id);
        } else if self.store.backend() == "sqlite" {
            let last_batch = self
                .store
                .job_for_request(site.as_str(), job.request_id)
                .await?
                .and_then(|j| j.last_batch_at)
                .unwrap_or(0);
            if !self.wal_truncated_since(last_batch).await? {
                return Ok(wait("the WAL could not be truncated yet").await?);
            }
        } else if self.engine.vacuum_after_job {
            self.store.vacuum_erased().await?;
        }
        let kept = mode.synchronous.then_some(kept.as_slice());
        self.finish(site, job, &tally, kept, &blobs_deleted).await?;
        Ok(Step::Stop)
    }

    /// Checks that nothing of a chunk's erased items is left (masked ones: read back).
    async fn verify_erased(
        &self,
        site: &SiteId,
        job: &JobRecord,
        mode: RunMode,
        chunk: &[RequestItem],
    ) -> ServiceResult<()> {
        // A hashed id was verified before it was hashed (a verification that waited for
        // the WAL and runs again).
        // A hashed id was verified before it was hashed (a verification that waited for
        // the WAL and runs again).
        let erased = |consumer: bool| -> Vec<String> {
            chunk
                .iter()
                .filter(|i| i.outcome.as_deref() == Some("erased") && (i.item_kind == "consumer") == consumer)
                .filter(|i| !i.item_id.starts_with(HASHED_PREFIX))
                .filter(|i| !i.item_id.starts_with(HASHED_PREFIX))
                .map(|i| i.item_id.clone())
                .collect()
        };
        let (conversations, consumers) = (erased(false), erased(true));
        let left = if let Some(marker) = mask_marker(job, mode) {
            self.verify_masked(site, &conversations, marker).await?;
            self.store.remaining(site.as_str(), &[], &consumers).await?
        } else {
            self.store.remaining(site.as_str(), &conversations, &consumers).await?
        };
        if left > 0 {
            return Err(ServiceError::Internal(format!(
                "verification found {left} rows or keys left"
            )));
        }
        Ok(())
    }

    /// Replaces the request's target by its keyed hash and destroys its key.
    async fn hash_request_remains(&self, site: &SiteId, request_id: i64) -> ServiceResult<()> {
        let updates = self.remains_hashed(site, request_id, &[]).await?;
        if updates.hashed_target.is_none() {
            return Ok(());
        }
        let change = RequestChange {
            allowed_from: vec![RequestStatus::Running.as_str().into()],
            require_unapproved: false,
            to_status: None,
            updates,
            items: Vec::new(),
            log: system_log(self.now(), "target_hashed", None, json!({})),
            job: None,
            notifications: Vec::new(),
        };
        self.store.change_request(site.as_str(), request_id, &change).await?;
        Ok(())
    }

    /// The updates that hash what is left of a request (its target and these items) and
    /// destroy its key.
    async fn remains_hashed(
        &self,
        site: &SiteId,
        request_id: i64,
        items: &[RequestItem],
    ) -> ServiceResult<RequestUpdates> {
        let record = self.request_record(site, request_id).await?;
        let hashed_target = match &record.sealed_target {
            Some(sealed) => Some(self.hashed_target(site, &self.open_target(&record, sealed)?)),
            None => None,
        };
        Ok(RequestUpdates {
            hashed_target,
            hashed_items: self.hashed_items(site, items),
            ..RequestUpdates::default()
        })
    }

    /// `(position, keyed hash)` of the items whose ids are not hashed yet.
    fn hashed_items(&self, site: &SiteId, items: &[RequestItem]) -> Vec<(i64, String)> {
        items
            .iter()
            .filter(|i| !i.item_id.starts_with(HASHED_PREFIX))
            .map(|i| {
                (
                    i.position,
                    format!("{HASHED_PREFIX}{}", self.hash_value(site, &i.item_id)),
                )
            })
            .collect()
    }

    /// Ends the job and its request. `hash_items`: a synchronous delete's items, hashed
    /// in this transaction (a job's were hashed before the WAL truncation).
    async fn finish(
        &self,
        site: &SiteId,
        job: &JobRecord,
        tally: &ItemTally,
        hash_items: Option<&[RequestItem]>,
        blobs_deleted: &[i64],
    ) -> ServiceResult<()> {
        let status = if tally.erased + tally.not_found == tally.items {
            RequestStatus::Completed
        } else {
            RequestStatus::PartiallyCompleted
        };
        let counts = self.job_counts(site, job, tally).await?;
        let settings = self.account_settings(site).await?;
        let log_detail = json!({"job_id": job.job_id, "erased": tally.erased, "not_found": tally.not_found,
                                "skipped_open": tally.skipped_open, "failed": tally.failed});
        let notifications = self.job_end_notifications(&settings, site, job.request_id, &job.job_id, status, counts);
        let change = RequestChange {
            allowed_from: vec![RequestStatus::Running.as_str().into()],
            require_unapproved: false,
            to_status: Some(status.as_str().into()),
            updates: match hash_items {
                Some(items) => self.remains_hashed(site, job.request_id, items).await?,
                None => RequestUpdates::default(),
            },
            items: Vec::new(),
            log: system_log(self.now(), status.as_str(), Some(status), log_detail),
            job: None,
            notifications,
        };
        self.store
            .finish_job(
                site.as_str(),
                job.request_id,
                (job.id, job.generation),
                &change,
                blobs_deleted,
            )
            .await?;
        Ok(())
    }

    /// Counts a failed attempt and schedules a retry with exponential backoff and
    /// jitter; past the maximum the job and its request are `failed`.
    pub(super) async fn record_failure(&self, job: &JobRecord, error: &ServiceError) -> ServiceResult<()> {
        tracing::warn!(job = %job.job_id, error = %error, "deletion job attempt failed");
        let attempts = job.attempts + 1;
        let now = self.now();
        if attempts < job.max_attempts {
            let backoff = self.engine.retry_base_ms.saturating_mul(1 << attempts.min(16));
            let jitter = rand::random::<u64>() % (backoff.max(1) as u64 / 2 + 1);
            let at = now + backoff + jitter as i64;
            self.store
                .job_failed_attempt(job.id, job.generation, &error.to_string(), at)
                .await?;
            return Ok(());
        }
        self.fail_job(job, &error.to_string()).await
    }

    /// Ends a job's attempts: the job and its request are `failed` until an operator
    /// runs it again.
    pub(super) async fn fail_job(&self, job: &JobRecord, error: &str) -> ServiceResult<()> {
        if !self
            .store
            .job_failed_attempt(job.id, job.generation, error, i64::MAX)
            .await?
        {
            return Ok(());
        }
        self.store
            .set_job_phase(job.id, job.generation, "failed", i64::MAX, true)
            .await?;
        let log = system_log(
            self.now(),
            "failed",
            Some(RequestStatus::Failed),
            json!({"job_id": job.job_id}),
        );
        let site = SiteId::parse(job.account_id.clone())?;
        let settings = self.account_settings(&site).await?;
        let tally = self.tally_items(&site, job.request_id).await?;
        let counts = self.job_counts(&site, job, &tally).await?;
        let notifications = self.job_end_notifications(
            &settings,
            &site,
            job.request_id,
            &job.job_id,
            RequestStatus::Failed,
            counts,
        );
        self.store
            .log_request_event(&job.account_id, job.request_id, &log, &notifications)
            .await?;
        Ok(())
    }

    /// A request's item outcomes, counted a chunk at a time.
    async fn tally_items(&self, site: &SiteId, request_id: i64) -> ServiceResult<ItemTally> {
        let (mut tally, mut from) = (ItemTally::default(), 0);
        loop {
            let chunk = self
                .store
                .request_items_from(site.as_str(), request_id, from, VERIFY_CHUNK)
                .await?;
            let Some(last) = chunk.last() else { return Ok(tally) };
            from = last.position + 1;
            tally.add(&chunk);
        }
    }

    /// The counters a notification reports: item outcomes and what was removed.
    async fn job_counts(&self, site: &SiteId, job: &JobRecord, tally: &ItemTally) -> ServiceResult<serde_json::Value> {
        let j = self.store.job_for_request(site.as_str(), job.request_id).await?;
        let j = j.as_ref().unwrap_or(job);
        Ok(json!({
            "items": tally.items, "erased": tally.erased, "not_found": tally.not_found,
            "skipped_open": tally.skipped_open, "failed": tally.failed,
            "conversations": j.erased_conversations, "messages": j.erased_messages, "files": j.erased_files,
            "bytes_freed": j.erased_bytes, "survey_answers": j.erased_survey_answers,
            "consumers": j.erased_consumers, "metrics": j.erased_metrics,
        }))
    }
}
