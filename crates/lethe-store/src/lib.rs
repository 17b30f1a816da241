//! Storage: one [`Store`] trait with a SQLite and a PostgreSQL backend, and the blob store.
//!
//! Both backends share their query code (`shared/*.rs`, compiled once per backend with
//! that backend's concrete driver types), so a query fixed for one is fixed for both;
//! what really differs (connections, transactions, locking) lives in `sqlite.rs` and
//! `postgres.rs`.

mod blobs;
mod error;
mod jobs;
mod message_log;
mod notifications;
mod plan_read;
mod postgres;
mod postgres_read;
mod records;
mod requests;
mod sealed_list;
mod search;
mod sql;
mod sqlite;
mod sqlite_read;

pub use blobs::BlobStore;
pub use error::{StoreError, StoreResult};
pub use jobs::*;
pub use message_log::{pack as pack_messages, unpack as unpack_messages, LoggedMessage};
pub use notifications::*;
pub use records::*;
pub use requests::*;
pub use sealed_list::{pack as pack_sealed, unpack as unpack_sealed};
pub use search::{SearchPage, StoreFilter};

use async_trait::async_trait;
use lethe_domain::filter::{Page, Sort};
use std::sync::Arc;

/// Everything lethe persists in its database: the parts below, together.
pub trait Store:
    AdminStore + IngestStore + ReadStore + RequestStore + PlanStore + JobStore + NotificationStore
{
}

impl<T> Store for T where
    T: AdminStore + IngestStore + ReadStore + RequestStore + PlanStore + JobStore + NotificationStore
{
}

/// Deployment bootstrap, accounts, bots and API keys.
#[async_trait]
pub trait AdminStore: Send + Sync + 'static {
    /// Which backend this is (`sqlite` or `postgres`).
    fn backend(&self) -> &'static str;
    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Records the deployment's key check values on first use, or verifies them, and
    /// creates the given operator key exactly once per database. Returns whether the
    /// key was created.
    async fn bootstrap(&self, check: &KeyringCheck, operator: &NewApiKey) -> StoreResult<bool>;

    async fn create_account(&self, site_id: &str, now: i64) -> StoreResult<WriteOutcome>;
    async fn accounts(&self) -> StoreResult<Vec<AccountRecord>>;

    async fn create_bot(&self, bot: &BotRecord) -> StoreResult<WriteOutcome>;
    async fn bots(&self, account: &str) -> StoreResult<Vec<BotRecord>>;

    async fn create_api_key(&self, key: &NewApiKey) -> StoreResult<i64>;
    /// Keys of one account, or operator keys when `account` is `None`.
    async fn api_keys(&self, account: Option<&str>) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes a key of that account (or an operator key); false when there is none.
    async fn revoke_api_key(&self, account: Option<&str>, id: i64, now: i64) -> StoreResult<bool>;

    /// Stores an app and the data key its secret is sealed with.
    async fn create_app(&self, app: &AppRecord) -> StoreResult<()>;
    /// An app by its (deployment-wide unique) id.
    async fn app(&self, app_id: &str) -> StoreResult<Option<AppRecord>>;
    /// The apps of one account.
    async fn apps(&self, account: &str) -> StoreResult<Vec<AppRecord>>;
}

/// Writes of consumers and conversations.
#[async_trait]
pub trait IngestStore: Send + Sync + 'static {
    /// Stores each candidate as its owner's data key unless one exists; returns the
    /// stored keys in the same order.
    async fn ensure_data_keys(
        &self,
        account: &str,
        kind: KeyOwnerKind,
        candidates: &[(String, StoredKey)],
        now: i64,
    ) -> StoreResult<Vec<StoredKey>>;

    /// Replaces a consumer record whole (its data key must exist).
    async fn upsert_consumer(&self, account: &str, consumer: &ConsumerWrite) -> StoreResult<()>;

    /// Appends a message unless the conversation is missing or closed.
    async fn append_message(
        &self,
        account: &str,
        conversation: &str,
        msg: &MessageWrite,
    ) -> StoreResult<Result<WriteOutcome, AppendRefusal>>;
    /// Adds a hosted file's row to an open conversation.
    async fn add_file(&self, account: &str, file: &FileRecord) -> StoreResult<Result<WriteOutcome, AppendRefusal>>;
    /// Adds survey answers to a conversation (open or closed: surveys follow the end).
    async fn add_survey(
        &self,
        account: &str,
        conversation: &str,
        answers: &[SurveyAnswerWrite],
    ) -> StoreResult<Result<WriteOutcome, AppendRefusal>>;
    /// Closes an open conversation and writes its reporting row in the same transaction.
    async fn close_conversation(
        &self,
        account: &str,
        conversation: &str,
        close: &CloseWrite,
    ) -> StoreResult<Result<(), AppendRefusal>>;

    /// Writes one import batch in a single transaction; a conflicting record aborts the
    /// batch with its reason.
    async fn import_batch(&self, account: &str, batch: &ImportBatch) -> StoreResult<Result<ImportCounts, String>>;
}

/// Reads on every request's path: credentials, accounts, records, child rows, search.
#[async_trait]
pub trait ReadStore: Send + Sync + 'static {
    async fn api_key_by_hash(&self, hash: &[u8]) -> StoreResult<Option<ApiKeyRecord>>;
    async fn account(&self, site_id: &str) -> StoreResult<Option<AccountRecord>>;
    async fn consumer(&self, account: &str, id: &str) -> StoreResult<Option<ConsumerRecord>>;
    async fn conversation(&self, account: &str, id: &str) -> StoreResult<Option<ConversationRecord>>;
    async fn metrics(&self, account: &str, conversation: &str) -> StoreResult<Option<MetricsRecord>>;
    async fn file(&self, account: &str, conversation: &str, file: &str) -> StoreResult<Option<FileRecord>>;
    /// Child rows of the given conversations, ordered for rendering.
    async fn conversation_parts(
        &self,
        account: &str,
        ids: &[String],
        wanted: PartsWanted,
    ) -> StoreResult<ConversationParts>;
    /// Conversations matching a filter, one page of them, with the wanted child rows.
    async fn search(
        &self,
        account: &str,
        filter: &StoreFilter,
        sort: Sort,
        page: &Page,
        wanted: PartsWanted,
    ) -> StoreResult<SearchPage>;
    /// Gives back memory that only speeds reads up (SQLite: the readers' mappings of the
    /// database file); the server calls it once it has gone quiet.
    fn release_read_memory(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Opens (creating if needed) and migrates the database a URL names.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl("expected sqlite://PATH or postgres://…".into()))
    }
}

/// The local path a `sqlite://` URL points at, if it is a file database.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}
