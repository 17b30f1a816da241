//! What the store reads and writes: rows with personal fields already sealed.

use lethe_domain::Millis;

/// A wrapped data key as stored beside its owner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredKey {
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// Which owner a data key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwnerKind {
    Consumer,
    Conversation,
    /// A deletion request's sealed target, keyed by its job id.
    Request,
    /// A Kore.ai app's client secret.
    App,
}

impl KeyOwnerKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOwnerKind::Consumer => "consumer",
            KeyOwnerKind::Conversation => "conversation",
            KeyOwnerKind::Request => "request",
            KeyOwnerKind::App => "app",
        }
    }
}

/// An account row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRecord {
    pub site_id: String,
    pub created_at: Millis,
}

/// A bot row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BotRecord {
    pub account_id: String,
    pub bot_id: String,
    pub name: String,
    pub created_at: Millis,
}

/// An API key row; the key itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub account_id: Option<String>,
    pub name: String,
    pub scopes: String,
    pub prefix: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A key to insert.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub account_id: Option<String>,
    pub name: String,
    pub scopes: String,
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub created_at: Millis,
}

/// Values proving which secrets a database was created with.
#[derive(Debug, Clone)]
pub struct KeyringCheck {
    pub kek_id: String,
    pub kek_check: Vec<u8>,
    pub lookup_check: Vec<u8>,
}

/// A consumer upsert: the whole record replaces the previous one.
#[derive(Debug, Clone)]
pub struct ConsumerWrite {
    pub consumer_id: String,
    pub sealed_profile: Vec<u8>,
    /// Keyed hashes of e-mail, phone, cIds and attribute values.
    pub lookup_hashes: Vec<Vec<u8>>,
    pub now: Millis,
}

/// A consumer row with its data key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsumerRecord {
    pub consumer_id: String,
    pub sealed_profile: Vec<u8>,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// One sealed engagement attribute with its lookup hash.
#[derive(Debug, Clone)]
pub struct AttributeWrite {
    pub kind: String,
    pub value_hash: Vec<u8>,
    pub sealed: Vec<u8>,
}

/// A conversation to create, sealed, with its new data key.
#[derive(Debug, Clone)]
pub struct ConversationWrite {
    pub conversation_id: String,
    pub kind: String,
    pub status: String,
    pub consumer_id: Option<String>,
    pub bot_id: Option<String>,
    pub cid_hash: Option<Vec<u8>>,
    pub start_time: Millis,
    pub end_time: Option<Millis>,
    pub close_reason: Option<String>,
    pub source: Option<String>,
    pub device: Option<String>,
    pub agent_id: Option<String>,
    pub skill_id: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
    pub sealed_participant: Option<Vec<u8>>,
    pub content_mac: Vec<u8>,
    pub key: StoredKey,
    pub attributes: Vec<AttributeWrite>,
    pub created_at: Millis,
}

/// A conversation row with its data key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConversationRecord {
    pub conversation_id: String,
    pub kind: String,
    pub status: String,
    pub consumer_id: Option<String>,
    pub bot_id: Option<String>,
    pub start_time: Millis,
    pub end_time: Option<Millis>,
    pub close_reason: Option<String>,
    pub source: Option<String>,
    pub device: Option<String>,
    pub agent_id: Option<String>,
    pub skill_id: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
    pub sealed_participant: Option<Vec<u8>>,
    /// The sealed engagement attributes, packed by position ([`crate::unpack_sealed`]).
    pub sealed_attributes: Option<Vec<u8>>,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
    /// The messages, framed ([`crate::unpack_messages`]); a search that does not want
    /// them leaves this `None`.
    pub sealed_messages: Option<Vec<u8>>,
    /// How many survey answers the conversation has.
    pub survey_count: i64,
}

/// How an idempotent create ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The row was new.
    Created,
    /// An identical row existed: nothing changed.
    Unchanged,
    /// A different row with the same id existed: nothing changed.
    Conflict,
}

/// A message to append, sealed.
#[derive(Debug, Clone)]
pub struct MessageWrite {
    pub message_id: String,
    pub time: Millis,
    pub sent_by: String,
    pub participant_id: Option<String>,
    pub msg_type: String,
    pub file_id: Option<String>,
    pub sealed_body: Vec<u8>,
    pub content_mac: Vec<u8>,
}

/// Why an append to a conversation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendRefusal {
    /// No such conversation in the account.
    Missing,
    /// The conversation is closed.
    Closed,
    /// A referenced hosted file does not exist in this conversation.
    FileMissing,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRecord {
    pub conversation_id: String,
    pub message_id: String,
    pub seq: i64,
    pub time: Millis,
    pub sent_by: String,
    pub participant_id: Option<String>,
    pub msg_type: String,
    pub file_id: Option<String>,
    pub sealed_body: Vec<u8>,
}

/// A hosted file's row; its bytes live sealed in the blob store.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRecord {
    pub file_id: String,
    pub conversation_id: String,
    pub blob_key: String,
    pub content_type: String,
    pub size: i64,
    pub sealed_name: Option<Vec<u8>>,
    pub created_at: Millis,
}

/// One survey answer to store; free text sealed, choices plain (reporting data).
#[derive(Debug, Clone)]
pub struct SurveyAnswerWrite {
    pub survey_id: String,
    pub question_id: String,
    pub question: Option<String>,
    pub choice: Option<String>,
    pub sealed_text: Option<Vec<u8>>,
}

/// A stored survey answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SurveyAnswerRecord {
    pub conversation_id: String,
    pub survey_id: String,
    pub question_id: String,
    pub question: Option<String>,
    pub choice: Option<String>,
    pub sealed_text: Option<Vec<u8>>,
}

/// How a conversation is closed: the end, and the reporting row derived at that moment.
#[derive(Debug, Clone)]
pub struct CloseWrite {
    pub end_time: Millis,
    pub close_reason: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

/// A stored reporting row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MetricsRecord {
    pub conversation_id: String,
    pub duration_ms: i64,
    pub consumer_messages: i64,
    pub agent_messages: i64,
    pub first_response_ms: Option<i64>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

/// A whole conversation as bulk import writes it, in one batch transaction.
#[derive(Debug, Clone)]
pub struct ImportedConversation {
    pub conversation: ConversationWrite,
    pub messages: Vec<MessageWrite>,
    pub survey_answers: Vec<SurveyAnswerWrite>,
    pub files: Vec<FileRecord>,
}

/// One batch of bulk import.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub consumers: Vec<ConsumerWrite>,
    pub conversations: Vec<ImportedConversation>,
}

/// What a committed import batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub consumers: u64,
    pub conversations_created: u64,
    pub conversations_unchanged: u64,
    pub messages: u64,
    /// Ids of conversations that already existed identically (nothing was written).
    pub unchanged_ids: Vec<String>,
}

/// Which parts of conversations a reader wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartsWanted {
    pub messages: bool,
    pub surveys: bool,
    pub files: bool,
}

/// Child rows of a set of conversations.
#[derive(Debug, Clone, Default)]
pub struct ConversationParts {
    /// The messages, when asked for by conversation id; a search leaves them in its
    /// rows' columns instead.
    pub messages: Vec<MessageRecord>,
    pub survey_answers: Vec<SurveyAnswerRecord>,
    pub files: Vec<FileRecord>,
    /// `(file id, content type)` of the hosted files the wanted messages reference.
    pub file_types: Vec<(String, String)>,
}

/// A Kore.ai app of a bot, with its data key (the secret is sealed with it).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppRecord {
    pub app_id: String,
    pub account_id: String,
    pub bot_id: String,
    pub name: String,
    pub scopes: String,
    pub sealed_secret: Vec<u8>,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}
