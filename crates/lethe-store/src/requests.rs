//! Deletion requests, settings and the change log as the store sees them, and the
//! reads that resolve a request's target into conversations and consumers.

use crate::error::StoreResult;
use crate::records::StoredKey;
use crate::search::StoreFilter;
use async_trait::async_trait;
use lethe_domain::changelog::ChainedEntry;
use lethe_domain::Millis;

/// A deletion request row, with its data key while its target is still sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRecord {
    pub id: i64,
    pub account_id: String,
    pub job_id: String,
    pub source: String,
    pub status: String,
    pub target_kind: String,
    pub sealed_target: Option<Vec<u8>>,
    pub hashed_target: Option<String>,
    pub requested_by: String,
    pub approval_mode: String,
    pub created_at: Millis,
    pub grace_ends_at: Millis,
    pub due_at: Millis,
    pub approved_at: Option<Millis>,
    pub approved_by: Option<String>,
    pub final_at: Option<Millis>,
    pub canceled_at: Option<Millis>,
    pub canceled_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub updated_at: Millis,
    pub kek_id: Option<String>,
    pub wrapped: Option<Vec<u8>>,
}

/// A request to insert; its target sealed with `data_key`.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub account_id: String,
    pub job_id: String,
    pub source: String,
    pub target_kind: String,
    pub sealed_target: Vec<u8>,
    pub data_key: StoredKey,
    pub requested_by: String,
    pub approval_mode: String,
    pub created_at: Millis,
    pub grace_ends_at: Millis,
    pub due_at: Millis,
}

/// A change-log entry before the store gives it its place in the chain.
#[derive(Debug, Clone)]
pub struct LogDraft {
    pub at: Millis,
    pub actor: String,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
}

/// A create's idempotency key and the body it was first used with.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub route: String,
    pub key: String,
    pub body_hash: Vec<u8>,
    /// Keys used before this instant have expired.
    pub fresh_after: Millis,
}

/// What a create must respect besides its own content.
#[derive(Debug, Clone)]
pub struct CreateGuards {
    /// The UTC month the quota counts in (`2026-11`).
    pub month: String,
    pub quota: u32,
    /// False for explicit synchronous deletes, which the quota does not cover.
    pub count_quota: bool,
    pub idempotency: Option<IdempotencyClaim>,
}

/// How a create ended.
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(RequestRecord),
    /// The idempotency key was used before with the same body: that request.
    Replayed(RequestRecord),
    /// The idempotency key was used before with another body.
    KeyReused,
    QuotaExceeded,
}

/// One resolved item of a final request.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestItem {
    pub position: i64,
    pub item_kind: String,
    pub item_id: String,
    pub problem: Option<String>,
    pub outcome: Option<String>,
}

/// Column updates a transition makes (unset fields keep their value).
#[derive(Debug, Clone, Default)]
pub struct RequestUpdates {
    pub approved: Option<(Millis, String)>,
    pub final_at: Option<Millis>,
    pub canceled: Option<(Millis, String)>,
    pub rejection_reason: Option<String>,
    /// Replaces the sealed target and destroys the request's data key.
    pub hashed_target: Option<String>,
    /// Replaces item ids by keyed hashes: (position, hashed id).
    pub hashed_items: Vec<(i64, String)>,
    /// Sets each item's outcome: (position, outcome).
    pub outcomes: Vec<(i64, String)>,
}

/// A guarded change of one request.
#[derive(Debug, Clone)]
pub struct RequestChange {
    /// Statuses the request may be in for the change to apply.
    pub allowed_from: Vec<String>,
    /// Also require that no operator has approved it yet.
    pub require_unapproved: bool,
    /// The new status; `None` changes columns only.
    pub to_status: Option<String>,
    pub updates: RequestUpdates,
    pub items: Vec<RequestItem>,
    pub log: LogDraft,
    /// Creates the request's job; the request then moves on to `scheduled`.
    pub job: Option<crate::jobs::NewJob>,
    /// Notifications queued in the same transaction.
    pub notifications: Vec<crate::notifications::NewNotification>,
}

/// How a change ended.
#[derive(Debug, Clone)]
pub enum ChangeOutcome {
    Changed(RequestRecord),
    /// The request's state does not allow the change; here it is as it stands.
    Refused(RequestRecord),
    NotFound,
}

/// Listing filters; newest first.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub statuses: Vec<String>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    pub source: Option<String>,
    /// Only ids below this one (keyset paging).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// What erasing one conversation would touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationStats {
    pub conversation_id: String,
    pub kind: String,
    pub bot_id: Option<String>,
    pub status: String,
    pub messages: i64,
    pub files: i64,
    pub file_bytes: i64,
    pub survey_answers: i64,
    pub metrics: i64,
}

/// Requests, settings, quota, idempotency and the change log.
#[async_trait]
pub trait RequestStore: Send + Sync + 'static {
    /// The account's settings document (JSON), if it was ever set.
    async fn settings(&self, account: &str) -> StoreResult<Option<String>>;
    /// Stores the settings document and logs the change in one transaction.
    async fn put_settings(&self, account: &str, settings: &str, log: &LogDraft) -> StoreResult<()>;

    /// Creates a request unless a guard refuses; quota, idempotency key, request and its
    /// first change-log entry commit together.
    async fn create_request(
        &self,
        new: &NewRequest,
        guards: &CreateGuards,
        log: &LogDraft,
    ) -> StoreResult<CreateOutcome>;
    async fn request(&self, account: &str, id: i64) -> StoreResult<Option<RequestRecord>>;
    /// A request by its job id (`cdj-…`).
    async fn request_by_job(&self, account: &str, job_id: &str) -> StoreResult<Option<RequestRecord>>;
    async fn requests(&self, account: &str, query: &RequestQuery) -> StoreResult<Vec<RequestRecord>>;
    async fn request_items(&self, account: &str, id: i64) -> StoreResult<Vec<RequestItem>>;
    /// Up to `limit` items from position `from` on (a job's next batch).
    async fn request_items_from(&self, account: &str, id: i64, from: i64, limit: i64) -> StoreResult<Vec<RequestItem>>;
    /// Applies a guarded change, its items and its change-log entry in one transaction.
    async fn change_request(&self, account: &str, id: i64, change: &RequestChange) -> StoreResult<ChangeOutcome>;
    /// Replaces some of a request's item ids by their keyed hashes (`(position, hash)`).
    async fn hash_items(&self, account: &str, id: i64, hashed: &[(i64, String)]) -> StoreResult<()>;
    /// Creates a request and applies its first change in one transaction, without quota
    /// or idempotency: a synchronous delete is created final with its job already
    /// claimed. Returns the request and its job.
    async fn create_changed_request(
        &self,
        new: &NewRequest,
        log: &LogDraft,
        change: &RequestChange,
    ) -> StoreResult<(RequestRecord, Option<crate::jobs::JobRecord>)>;
    /// Pending requests whose grace period has ended and that need no (further) approval.
    async fn promotable_requests(&self, account: Option<&str>, now: Millis) -> StoreResult<Vec<(String, i64)>>;

    /// Change-log entries of an account in chain order (optionally one request's only).
    async fn change_log(&self, account: &str, request: Option<i64>) -> StoreResult<Vec<ChainedEntry>>;
}

/// Reads that resolve a target.
#[async_trait]
pub trait PlanStore: Send + Sync + 'static {
    /// What erasing each of these conversations would touch (missing ids are absent).
    async fn conversation_stats(&self, account: &str, ids: &[String]) -> StoreResult<Vec<ConversationStats>>;
    /// Which of these consumers exist.
    async fn existing_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>>;
    /// The conversations of these consumers.
    async fn conversations_of_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>>;
    /// When the earliest consumer holding this channel-user hash was created.
    async fn channel_user_since(&self, account: &str, cid_hash: &[u8]) -> StoreResult<Option<Millis>>;
    /// Up to `cap` conversation ids matching a filter, oldest first.
    async fn matching_conversations(&self, account: &str, filter: &StoreFilter, cap: usize)
        -> StoreResult<Vec<String>>;
}
