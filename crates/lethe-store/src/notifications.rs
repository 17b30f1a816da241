//! The notification outbox as the store sees it.

use crate::error::StoreResult;
use async_trait::async_trait;
use lethe_domain::Millis;

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub event_id: String,
    pub account_id: String,
    pub request_id: Option<i64>,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or URL.
    pub target: String,
    /// JSON; never personal data.
    pub payload: String,
    pub created_at: Millis,
}

/// An outbox row: the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: i64,
    pub event_id: String,
    pub account_id: String,
    pub request_id: Option<i64>,
    pub channel: String,
    pub target: String,
    pub payload: String,
    pub created_at: Millis,
    pub next_attempt_at: Millis,
    pub attempts: i64,
    pub delivered_at: Option<Millis>,
    pub last_error: Option<String>,
}

/// Delivery of queued notifications.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Undelivered notifications due by `now`, oldest first.
    async fn due_notifications(&self, now: Millis, limit: i64) -> StoreResult<Vec<NotificationRecord>>;
    async fn notification_delivered(&self, id: i64, now: Millis) -> StoreResult<()>;
    async fn notification_failed(&self, id: i64, error: &str, next_attempt_at: Millis) -> StoreResult<()>;
    /// An account's delivery log, newest first.
    async fn notifications(&self, account: &str, limit: i64) -> StoreResult<Vec<NotificationRecord>>;
}
