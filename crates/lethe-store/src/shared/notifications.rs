// The notification outbox; included by both backends (see util.rs).

use crate::notifications::*;
use crate::NotificationStore;

const NOTIFICATION_COLUMNS: &str = "id, event_id, account_id, request_id, channel, target, payload, created_at, \
     next_attempt_at, attempts, delivered_at, last_error";

/// Queues notifications in the caller's transaction.
async fn enqueue_notifications(tx: &mut Tx, list: &[NewNotification]) -> Res<()> {
    for n in list {
        sqlx::query(
            "INSERT INTO notifications (event_id, account_id, request_id, channel, target, payload, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (event_id, channel) DO NOTHING",
        )
        .bind(&n.event_id)
        .bind(&n.account_id)
        .bind(n.request_id)
        .bind(&n.channel)
        .bind(&n.target)
        .bind(&n.payload)
        .bind(n.created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl NotificationStore for Backend {
    async fn due_notifications(&self, now: i64, limit: i64) -> Res<Vec<NotificationRecord>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY id LIMIT $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(self.read_pool())
            .await?)
    }

    async fn notification_delivered(&self, id: i64, now: i64) -> Res<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE notifications SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notification_failed(&self, id: i64, error: &str, next_attempt_at: i64) -> Res<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE notifications SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(next_attempt_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notifications(&self, account: &str, limit: i64) -> Res<Vec<NotificationRecord>> {
        let sql =
            format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE account_id = $1 ORDER BY id DESC LIMIT $2");
        Ok(sqlx::query_as(&sql)
            .bind(account)
            .bind(limit)
            .fetch_all(self.read_pool())
            .await?)
    }
}
