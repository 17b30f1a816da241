//! Jobs, erasure batches, tombstones and the blob-deletion outbox as the store sees them.

use crate::error::StoreResult;
use crate::requests::{LogDraft, RequestChange};
use async_trait::async_trait;
use lethe_domain::Millis;

/// A job row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRecord {
    pub id: i64,
    pub account_id: String,
    pub request_id: i64,
    pub job_id: String,
    /// `erasing`, `verifying` or `done`.
    pub phase: String,
    pub run_at: Millis,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Millis>,
    pub generation: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub cursor: i64,
    pub total_items: i64,
    pub batches: i64,
    pub erased_conversations: i64,
    pub erased_messages: i64,
    pub erased_files: i64,
    pub erased_bytes: i64,
    pub erased_survey_answers: i64,
    pub erased_consumers: i64,
    pub erased_metrics: i64,
    pub last_error: Option<String>,
    pub last_batch_at: Option<Millis>,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// `delete` or `mask`, fixed when the job was created.
    pub erasure_mode: String,
    /// The text that replaces personal text in `mask` mode.
    pub mask_marker: Option<String>,
}

/// A job to create with the request's final transition.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub job_id: String,
    pub total_items: i64,
    pub max_attempts: i64,
    pub run_at: Millis,
    /// `delete` or `mask`.
    pub erasure_mode: String,
    pub mask_marker: Option<String>,
    /// Created already claimed (and its request `running`): a synchronous delete runs
    /// its job at once, without a separate claim.
    pub leased_to: Option<Lease>,
}

/// Who claims, until when, at what time.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub now: Millis,
    pub until: Millis,
}

/// One item to erase, with the keyed hashes that replace its id.
#[derive(Debug, Clone)]
pub struct ItemErasure {
    pub position: i64,
    /// `conversation` (either kind) or `consumer`.
    pub kind: &'static str,
    pub id: String,
    /// Keyed hash kept as the tombstone.
    pub tombstone_hash: Vec<u8>,
    /// Hex keyed hash that replaces a conversation id in a retained metrics row.
    pub metrics_id: String,
    /// `mask` mode: what stays of the conversation instead of its rows being deleted.
    pub mask: Option<ConversationMask>,
}

/// A conversation erased in `mask` mode keeps its structure: its messages and survey
/// answers are written again with the marker as their text, sealed under a fresh data key
/// that replaces the old one. Everything else personal goes as in `delete` mode.
#[derive(Debug, Clone)]
pub struct ConversationMask {
    pub key: crate::records::StoredKey,
    /// Each message again, with its sequence number, as it is to be stored.
    pub messages: Vec<(i64, crate::records::MessageWrite)>,
    pub survey_answers: Vec<crate::records::SurveyAnswerWrite>,
}

/// How a batch erases, and the fence it commits under.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    pub job: i64,
    pub generation: i64,
    pub retain_metrics: bool,
    /// Erase open conversations too (synchronous deletes); jobs skip them.
    pub include_open: bool,
    pub now: Millis,
    pub lease_until: Millis,
    pub items: Vec<ItemErasure>,
    /// Outbox records of blobs already deleted, removed in this batch's transaction.
    pub blobs_deleted: Vec<i64>,
}

/// What a batch removed, and each item's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub conversations: i64,
    pub messages: i64,
    pub files: i64,
    pub bytes: i64,
    pub survey_answers: i64,
    pub consumers: i64,
    pub metrics: i64,
    pub outcomes: Vec<(i64, &'static str)>,
    /// The blob deletions this batch queued, for the runner to carry out at once.
    pub queued_blobs: Vec<BlobDeletion>,
}

/// A batch either committed whole or not at all because another runner holds the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResult {
    Committed(BatchCounts),
    Fenced,
}

/// Which queued blob deletions to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobQueue<'a> {
    /// Every account's.
    All,
    /// One account's.
    Account(&'a str),
    /// Those one request's erasure queued, and any of its account queued before owners
    /// were recorded.
    Request { account: &'a str, request_id: i64 },
}

/// A blob still to delete.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BlobDeletion {
    pub id: i64,
    pub account_id: String,
    pub blob_key: String,
}

/// Jobs and the erasure they perform.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Claims one due job whose lease is free or expired: its generation goes up, so the
    /// previous holder can commit nothing more.
    async fn claim_job(&self, lease: &Lease) -> StoreResult<Option<JobRecord>>;
    async fn job_for_request(&self, account: &str, request_id: i64) -> StoreResult<Option<JobRecord>>;
    /// An account's jobs, newest first (optionally in some phases).
    async fn jobs(&self, account: &str, phases: &[String], limit: i64) -> StoreResult<Vec<JobRecord>>;
    /// Erases a batch of items, records outcomes and counters and moves the cursor, in
    /// one transaction fenced on the job's generation.
    async fn erase_batch(&self, account: &str, request_id: i64, plan: &BatchPlan) -> StoreResult<BatchResult>;
    /// Moves a job to a phase (and when to look again), fenced; releases the lease when
    /// `release`.
    async fn set_job_phase(
        &self,
        job: i64,
        generation: i64,
        phase: &str,
        run_at: Millis,
        release: bool,
    ) -> StoreResult<bool>;
    /// Records a failed attempt (fenced) and when to retry; releases the lease.
    async fn job_failed_attempt(&self, job: i64, generation: i64, error: &str, run_at: Millis) -> StoreResult<bool>;
    /// Ends the job and applies the request's final change in one transaction, fenced;
    /// the blob-deletion records in `blobs_deleted` (blobs already gone) go with it.
    async fn finish_job(
        &self,
        account: &str,
        request_id: i64,
        job: (i64, i64),
        change: &RequestChange,
        blobs_deleted: &[i64],
    ) -> StoreResult<bool>;
    /// Makes a job due now (operator run-now); a failed job starts over its attempts where
    /// its cursor stands. False when the job is done.
    async fn reset_job(&self, job: i64, now: Millis) -> StoreResult<bool>;
    /// Appends a change-log entry about a request (setting its status when the entry
    /// names one) and queues notifications, in one transaction.
    async fn log_request_event(
        &self,
        account: &str,
        request_id: i64,
        log: &LogDraft,
        notifications: &[crate::notifications::NewNotification],
    ) -> StoreResult<()>;

    /// Blobs still to delete (oldest first).
    async fn pending_blob_deletions(&self, queue: BlobQueue<'_>, limit: i64) -> StoreResult<Vec<BlobDeletion>>;
    async fn blob_deletions_done(&self, ids: &[i64]) -> StoreResult<()>;
    async fn blob_deletion_failed(&self, id: i64, error: &str) -> StoreResult<()>;
    /// Rows and keys left of these conversations and consumers (verification).
    async fn remaining(&self, account: &str, conversations: &[String], consumers: &[String]) -> StoreResult<i64>;
    /// Rows of these masked conversations that still hold or link personal data: files,
    /// attributes, messages not rewritten, a consumer link or participant (verification).
    async fn unmasked_remains(&self, account: &str, conversations: &[String]) -> StoreResult<i64>;
    /// SQLite: truncates the WAL; records and returns the time when no frame was busy.
    /// PostgreSQL: `None` (no WAL lethe can truncate).
    async fn checkpoint(&self, now: Millis) -> StoreResult<Option<Millis>>;
    /// When the WAL was last truncated clean.
    async fn last_checkpoint(&self) -> StoreResult<Option<Millis>>;
    /// PostgreSQL: vacuums the tables erasure touches. SQLite: nothing.
    async fn vacuum_erased(&self) -> StoreResult<()>;
    /// Wakes `wake` whenever another node (PostgreSQL `LISTEN lethe_jobs`) schedules a
    /// job. SQLite has one node; in-process wake-ups cover it.
    async fn listen_for_jobs(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> StoreResult<()>;
    /// Which of these keyed hashes are tombstones, with their erasure times.
    async fn tombstones_among(
        &self,
        account: &str,
        kind: &str,
        hashes: &[Vec<u8>],
    ) -> StoreResult<Vec<(Vec<u8>, Millis)>>;
    /// When an id with this keyed hash was erased, if it was.
    async fn tombstone(&self, account: &str, kind: &str, id_hash: &[u8]) -> StoreResult<Option<Millis>>;
}
