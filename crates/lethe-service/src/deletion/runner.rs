//! The job runner: claims due jobs under a lease, erases their items in fenced batches,
//! drains the blob-deletion outbox, verifies, and ends the request.

use crate::error::{ServiceError, ServiceResult};
use crate::Lethe;
use lethe_domain::deletion::RequestStatus;
use lethe_domain::settings::{AccountSettings, ErasureMode, ExecutionWindow};
use lethe_domain::{Millis, SiteId};
use lethe_store::{
    BatchPlan, BatchResult, BlobDeletion, BlobQueue, ConversationMask, ItemErasure, JobRecord, Lease, LogDraft,
    RequestItem,
};
use serde_json::json;

/// How the runner works, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Items per erasure transaction (short, so online writes are not starved).
    pub batch_size: usize,
    /// How long a claim holds a job without a batch commit.
    pub lease_ms: i64,
    /// Failed attempts before a job is `failed`.
    pub max_attempts: i64,
    /// First retry delay; doubled per attempt, with jitter.
    pub retry_base_ms: i64,
    /// Vacuum the touched tables after a job (PostgreSQL).
    pub vacuum_after_job: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            batch_size: 50,
            lease_ms: 30_000,
            max_attempts: 5,
            retry_base_ms: 1_000,
            vacuum_after_job: true,
        }
    }
}

/// Items per batch while online writes are arriving (at most `batch_size`).
const BATCH_UNDER_ONLINE_WRITES: usize = 5;

/// How recent an online write makes the runner keep its batches short.
const ONLINE_WRITE_WINDOW_MS: i64 = 1_000;

/// How long a running job trusts the account settings it read.
const SETTINGS_REREAD_MS: i64 = 1_000;

/// What a running job carries from one batch to the next.
struct BatchState<'a> {
    /// The position the batch starts at.
    cursor: i64,
    /// Blobs deleted whose outbox records leave with the next transaction.
    blobs_gone: &'a mut Vec<i64>,
    settings: &'a mut Option<(Millis, AccountSettings)>,
}

/// How one run of a job differs from a scheduled one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunMode {
    /// An explicit synchronous delete (Intercom): runs now whatever the window, erases
    /// open conversations too, deletes whatever the erasure mode, and leaves the WAL
    /// truncation to the coalesced checkpointer so the answer does not wait for it.
    pub synchronous: bool,
    /// Overrides the account's retain-metrics default.
    pub retain_metrics: Option<bool>,
}

/// Where a job goes next. Only its own fenced runner moves a job, so the runner keeps
/// the phase and cursor itself instead of reading them back after every step.
pub(super) enum Step {
    /// The job is done, waiting, or another runner took it over.
    Stop,
    /// Erase the batch starting at this item position.
    Erase(i64),
    Verify,
}

impl Lethe {
    /// Runs every due job to completion or to its next wait; returns how many jobs it
    /// touched. `runner` names this runner in leases (fresh per process start).
    pub async fn run_due_jobs(&self, runner: &str) -> ServiceResult<usize> {
        let mut touched = 0;
        loop {
            let now = self.now();
            let lease = Lease {
                owner: runner.to_owned(),
                now,
                until: now + self.engine.lease_ms,
            };
            let Some(job) = self.store.claim_job(&lease).await? else {
                self.drain_blob_deletions(None).await?;
                return Ok(touched);
            };
            touched += 1;
            if let Err(error) = self.run_job(&job, RunMode::default()).await {
                self.record_failure(&job, &error).await?;
            }
        }
    }

    pub(crate) async fn run_job(&self, job: &JobRecord, mode: RunMode) -> ServiceResult<()> {
        let site = SiteId::parse(job.account_id.clone())?;
        let mut settings = None;
        // A synchronous job is created running; a scheduled one starts here.
        if !mode.synchronous {
            if self.paused_by_window(&site, job, &job.phase, &mut settings).await? {
                return Ok(());
            }
            self.log_started(&site, job).await?;
        }
        // Blobs deleted whose outbox records leave with the next transaction.
        let mut blobs_gone = Vec::new();
        let mut step = match job.phase.as_str() {
            "erasing" => Step::Erase(job.cursor),
            "verifying" => Step::Verify,
            _ => Step::Stop,
        };
        loop {
            let phase = match step {
                Step::Erase(_) => "erasing",
                Step::Verify => "verifying",
                Step::Stop => return Ok(()),
            };
            if !mode.synchronous && self.paused_by_window(&site, job, phase, &mut settings).await? {
                return Ok(());
            }
            step = match step {
                Step::Erase(cursor) => {
                    let batch = BatchState {
                        cursor,
                        blobs_gone: &mut blobs_gone,
                        settings: &mut settings,
                    };
                    self.erase_next_batch(&site, job, mode, batch).await?
                }
                _ => self.verify_and_finish(&site, job, mode, &mut blobs_gone).await?,
            };
        }
    }

    /// Moves the request from `scheduled` to `running` when its job first runs.
    async fn log_started(&self, site: &SiteId, job: &JobRecord) -> ServiceResult<()> {
        let record = self.request_record(site, job.request_id).await?;
        if record.status != RequestStatus::Scheduled.as_str() {
            return Ok(());
        }
        let log = system_log(
            self.now(),
            "started",
            Some(RequestStatus::Running),
            json!({"job_id": job.job_id}),
        );
        self.store
            .log_request_event(site.as_str(), job.request_id, &log, &[])
            .await?;
        Ok(())
    }

    /// Outside the account's execution window a job pauses (at a batch boundary) until
    /// the window opens; waiting costs no attempt.
    async fn paused_by_window(
        &self,
        site: &SiteId,
        job: &JobRecord,
        phase: &str,
        known: &mut Option<(Millis, AccountSettings)>,
    ) -> ServiceResult<bool> {
        let window = ExecutionWindow::parse(&self.running_settings(site, known).await?.execution_window)?;
        let now = self.now();
        if window.is_open(now) {
            return Ok(false);
        }
        self.store
            .set_job_phase(job.id, job.generation, phase, window.next_open(now), true)
            .await?;
        Ok(true)
    }

    /// The account's settings as a running job sees them: read again at most every
    /// SETTINGS_REREAD_MS, not before every batch.
    async fn running_settings<'a>(
        &self,
        site: &SiteId,
        known: &'a mut Option<(Millis, AccountSettings)>,
    ) -> ServiceResult<&'a AccountSettings> {
        let now = self.now();
        let read = match known.take() {
            Some((read_at, settings)) if now - read_at < SETTINGS_REREAD_MS => (read_at, settings),
            _ => (now, self.account_settings(site).await?),
        };
        Ok(&known.insert(read).1)
    }

    async fn erase_next_batch(
        &self,
        site: &SiteId,
        job: &JobRecord,
        mode: RunMode,
        batch: BatchState<'_>,
    ) -> ServiceResult<Step> {
        let BatchState {
            cursor,
            blobs_gone,
            settings,
        } = batch;
        // While online writes arrive, short batches: each waits behind at most one.
        let size = if self.online_writes_within(ONLINE_WRITE_WINDOW_MS) {
            self.engine.batch_size.min(BATCH_UNDER_ONLINE_WRITES)
        } else {
            self.engine.batch_size
        };
        let items = if cursor < job.total_items {
            self.store
                .request_items_from(site.as_str(), job.request_id, cursor, size as i64)
                .await?
        } else {
            Vec::new()
        };
        if items.is_empty() && mode.synchronous {
            // Nothing waits between erasing and verifying here: one write fewer.
            return Ok(Step::Verify);
        }
        if items.is_empty() {
            let moved = self
                .store
                .set_job_phase(job.id, job.generation, "verifying", self.now(), false)
                .await?;
            return Ok(if moved { Step::Verify } else { Step::Stop });
        }
        let retain_metrics = match mode.retain_metrics {
            Some(retain) => retain,
            None => self.running_settings(site, settings).await?.retain_metrics,
        };
        let mut masks = match mask_marker(job, mode) {
            Some(marker) => {
                let ids: Vec<String> = items
                    .iter()
                    .filter(|i| i.item_kind != "consumer")
                    .map(|i| i.item_id.clone())
                    .collect();
                self.conversation_masks(site, &ids, marker).await?
            }
            None => Default::default(),
        };
        let now = self.now();
        let plan = BatchPlan {
            job: job.id,
            generation: job.generation,
            retain_metrics,
            include_open: mode.synchronous,
            now,
            lease_until: now + self.engine.lease_ms,
            items: items
                .iter()
                .map(|i| self.item_erasure(site, i, masks.remove(&i.item_id)))
                .collect(),
            blobs_deleted: std::mem::take(blobs_gone),
        };
        let next = items.last().map_or(cursor, |i| i.position + 1);
        match self.store.erase_batch(site.as_str(), job.request_id, &plan).await? {
            BatchResult::Fenced => Ok(Step::Stop),
            // Verification deletes the blobs right after.
            BatchResult::Committed(_) if mode.synchronous => Ok(Step::Erase(next)),
            BatchResult::Committed(counts) => {
                // Deleted now, right after the commit; their records go with the next
                // transaction. A failure stays queued for verification to retry.
                *blobs_gone = self.delete_blobs(counts.queued_blobs).await?.0;
                Ok(Step::Erase(next))
            }
        }
    }

    fn item_erasure(&self, site: &SiteId, item: &RequestItem, mask: Option<ConversationMask>) -> ItemErasure {
        let kind = if item.item_kind == "consumer" {
            "consumer"
        } else {
            "conversation"
        };
        let account = site.as_str();
        ItemErasure {
            position: item.position,
            kind,
            id: item.item_id.clone(),
            tombstone_hash: self
                .keyring
                .lookup_hash(account, &format!("tombstone:{kind}"), &item.item_id),
            metrics_id: hex::encode(self.keyring.lookup_hash(account, "metrics", &item.item_id)),
            mask: mask.filter(|_| kind == "conversation"),
        }
    }

    /// Deletes queued blobs (every one, or one account's); a failure stays queued and
    /// the last one is returned.
    pub async fn drain_blob_deletions(&self, site: Option<&SiteId>) -> ServiceResult<Option<String>> {
        let queue = site.map_or(BlobQueue::All, |s| BlobQueue::Account(s.as_str()));
        let (deleted, failure) = self.delete_queued_blobs(queue).await?;
        self.store.blob_deletions_done(&deleted).await?;
        Ok(failure)
    }

    /// Deletes queued blobs; the outbox ids of those now gone (the caller removes the
    /// records) and the last failure.
    pub(super) async fn delete_queued_blobs(&self, queue: BlobQueue<'_>) -> ServiceResult<(Vec<i64>, Option<String>)> {
        let pending = self.store.pending_blob_deletions(queue, 500).await?;
        self.delete_blobs(pending).await
    }

    /// Deletes these blobs; the outbox ids of those now gone and the last failure (its
    /// record stays, with the error).
    async fn delete_blobs(&self, pending: Vec<BlobDeletion>) -> ServiceResult<(Vec<i64>, Option<String>)> {
        let (mut deleted, mut failure) = (Vec::new(), None);
        for blob in pending {
            match self.blobs.delete(&blob.blob_key).await {
                Ok(()) => deleted.push(blob.id),
                Err(e) => {
                    self.store.blob_deletion_failed(blob.id, &e.to_string()).await?;
                    failure = Some(e.to_string());
                }
            }
        }
        Ok((deleted, failure))
    }

    /// Operator: makes a request's job due now (a failed one starts over its attempts,
    /// continuing from its cursor).
    pub async fn run_job_now(
        &self,
        who: &crate::Principal,
        site: &SiteId,
        id: i64,
    ) -> ServiceResult<super::RequestView> {
        if !who.is_operator() {
            return Err(ServiceError::Forbidden("only an operator key may run a job now".into()));
        }
        let record = self.request_record(site, id).await?;
        let status = RequestStatus::parse(&record.status).unwrap_or(RequestStatus::Pending);
        let job = self.store.job_for_request(site.as_str(), id).await?;
        let Some(job) = job.filter(|j| j.phase != "done") else {
            return Err(ServiceError::WrongState {
                current: status.as_str().to_owned(),
                message: format!("the request is {}; it has no job waiting to run", status.as_str()),
            });
        };
        self.store.reset_job(job.id, self.now()).await?;
        self.jobs_due.notify_one();
        let to = (status == RequestStatus::Failed).then_some(RequestStatus::Scheduled);
        let mut log = system_log(self.now(), "run_now", to, json!({"job_id": job.job_id}));
        log.actor = who.actor();
        self.store.log_request_event(site.as_str(), id, &log, &[]).await?;
        self.request_view(self.request_record(site, id).await?)
    }
}

/// The marker when this run masks conversations instead of deleting them (a synchronous
/// delete always deletes: it is the explicit act of removing a conversation).
pub(super) fn mask_marker(job: &JobRecord, mode: RunMode) -> Option<&str> {
    let masks = job.erasure_mode == ErasureMode::Mask.as_str() && !mode.synchronous;
    job.mask_marker.as_deref().filter(|_| masks)
}

pub(super) fn system_log(at: i64, event: &str, to: Option<RequestStatus>, detail: serde_json::Value) -> LogDraft {
    LogDraft {
        at,
        actor: "system".into(),
        event: event.into(),
        from_status: None,
        to_status: to.map(|s| s.as_str().to_owned()),
        detail: detail.to_string(),
    }
}
