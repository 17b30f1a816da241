// Jobs, fenced erasure batches, tombstones and the blob-deletion outbox; included by
// both backends (see util.rs). Backend specifics (checkpoint, vacuum, SKIP LOCKED) are
// the backend's `checkpoint_now`, `vacuum_now` and `CLAIM_LOCK`.

use crate::jobs::*;
use crate::notifications::NewNotification;
use crate::JobStore;

const JOB_COLUMNS: &str = "id, account_id, request_id, job_id, phase, run_at, lease_owner, lease_until, generation, \
     attempts, max_attempts, cursor, total_items, batches, erased_conversations, erased_messages, erased_files, \
     erased_bytes, erased_survey_answers, erased_consumers, erased_metrics, last_error, last_batch_at, created_at, \
     started_at, finished_at, erasure_mode, mask_marker";

/// Deletes the outbox records of blobs that are gone.
async fn delete_blob_records(tx: &mut Tx, ids: &[i64]) -> Res<()> {
    for chunk in ids.chunks(500) {
        let mut query = QueryBuilder::<Db>::new("DELETE FROM blob_deletions WHERE id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Locks the job row if this runner still holds it; false when fenced off.
async fn hold(tx: &mut Tx, job: i64, generation: i64) -> Res<bool> {
    let sql = format!("SELECT generation FROM jobs WHERE id = $1{FOR_UPDATE}");
    let current: Option<i64> = sqlx::query_scalar(&sql).bind(job).fetch_optional(&mut **tx).await?;
    Ok(current == Some(generation))
}

impl Backend {
    /// One statement summing `COUNT(*)` over each `table WHERE … column` with the column
    /// in `ids`, within the account (verification reads in one round trip).
    async fn count_rows(&self, account: &str, sources: &[&str], ids: &[String]) -> Res<i64> {
        let mut query = QueryBuilder::<Db>::new("SELECT ");
        for (n, source) in sources.iter().enumerate() {
            if n > 0 {
                query.push(" + ");
            }
            query.push(format!("(SELECT COUNT(*) FROM {source}"));
            push_in_list(&mut query, ids);
            query.push(" AND account_id = ").push_bind(account).push(")");
        }
        Ok(query.build_query_scalar::<i64>().fetch_one(self.read_pool()).await?)
    }

    /// Messages of these conversations that still carry a content MAC: a masked
    /// message has none.
    async fn unmasked_messages(&self, account: &str, ids: &[String]) -> Res<i64> {
        let mut query = QueryBuilder::<Db>::new("SELECT sealed_messages FROM conversations WHERE account_id = ");
        query
            .push_bind(account)
            .push(" AND sealed_messages IS NOT NULL AND conversation_id");
        push_in_list(&mut query, ids);
        let logs: Vec<Vec<u8>> = query.build_query_scalar().fetch_all(self.read_pool()).await?;
        let mut unmasked = 0;
        for log in &logs {
            let messages = crate::message_log::unpack(log).ok_or_else(crate::message_log::corrupt)?;
            unmasked += messages.iter().filter(|m| !m.content_mac.is_empty()).count() as i64;
        }
        Ok(unmasked)
    }
}

#[async_trait]
impl JobStore for Backend {
    async fn claim_job(&self, lease: &Lease) -> Res<Option<JobRecord>> {
        // An idle runner polls: answer "nothing due" from a read, without the write lock.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE phase IN ('erasing', 'verifying') AND run_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) LIMIT 1",
        )
        .bind(lease.now)
        .fetch_optional(self.read_pool())
        .await?;
        if due.is_none() {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        let pick = format!(
            "SELECT id FROM jobs WHERE phase IN ('erasing', 'verifying') AND run_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY run_at, id LIMIT 1{CLAIM_LOCK}"
        );
        let Some(id): Option<i64> = sqlx::query_scalar(&pick)
            .bind(lease.now)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let sql = format!(
            "UPDATE jobs SET lease_owner = $2, lease_until = $3, generation = generation + 1, \
             started_at = COALESCE(started_at, $4) WHERE id = $1 RETURNING {JOB_COLUMNS}"
        );
        let job = sqlx::query_as(&sql)
            .bind(id)
            .bind(&lease.owner)
            .bind(lease.until)
            .bind(lease.now)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn job_for_request(&self, account: &str, request_id: i64) -> Res<Option<JobRecord>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE account_id = $1 AND request_id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(account)
            .bind(request_id)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn jobs(&self, account: &str, phases: &[String], limit: i64) -> Res<Vec<JobRecord>> {
        let mut query = QueryBuilder::<Db>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE account_id = "));
        query.push_bind(account);
        if !phases.is_empty() {
            query.push(" AND phase");
            push_in_list(&mut query, phases);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        Ok(query.build_query_as().fetch_all(self.read_pool()).await?)
    }

    async fn erase_batch(&self, account: &str, request_id: i64, plan: &BatchPlan) -> Res<BatchResult> {
        let mut tx = self.begin_write().await?;
        delete_blob_records(&mut tx, &plan.blobs_deleted).await?;
        let counts = erase_items(&mut tx, account, request_id, plan).await?;
        let next = plan.items.last().map_or(0, |i| i.position + 1);
        let held = sqlx::query(
            "UPDATE jobs SET cursor = $2, batches = batches + 1, lease_until = $3, last_batch_at = $4, \
             erased_conversations = erased_conversations + $5, erased_messages = erased_messages + $6, \
             erased_files = erased_files + $7, erased_bytes = erased_bytes + $8, \
             erased_survey_answers = erased_survey_answers + $9, erased_consumers = erased_consumers + $10, \
             erased_metrics = erased_metrics + $11 WHERE id = $1 AND generation = $12",
        )
        .bind(plan.job)
        .bind(next)
        .bind(plan.lease_until)
        .bind(plan.now)
        .bind(counts.conversations)
        .bind(counts.messages)
        .bind(counts.files)
        .bind(counts.bytes)
        .bind(counts.survey_answers)
        .bind(counts.consumers)
        .bind(counts.metrics)
        .bind(plan.generation)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // The fence: another runner's claim raised the generation, so this batch rolls
        // back whole (the row lock taken here orders it against that claim).
        if held == 0 {
            return Ok(BatchResult::Fenced);
        }
        tx.commit().await?;
        Ok(BatchResult::Committed(counts))
    }

    async fn set_job_phase(&self, job: i64, generation: i64, phase: &str, run_at: i64, release: bool) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        if !hold(&mut tx, job, generation).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE jobs SET phase = $2, run_at = $3, \
             lease_owner = CASE WHEN $4 THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN $4 THEN NULL ELSE lease_until END WHERE id = $1",
        )
        .bind(job)
        .bind(phase)
        .bind(run_at)
        .bind(release)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn job_failed_attempt(&self, job: i64, generation: i64, error: &str, run_at: i64) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        if !hold(&mut tx, job, generation).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE jobs SET attempts = attempts + 1, last_error = $2, run_at = $3, lease_owner = NULL, \
             lease_until = NULL WHERE id = $1",
        )
        .bind(job)
        .bind(error)
        .bind(run_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn finish_job(
        &self,
        account: &str,
        request_id: i64,
        (job, generation): (i64, i64),
        change: &RequestChange,
        blobs_deleted: &[i64],
    ) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        if !hold(&mut tx, job, generation).await? {
            return Ok(false);
        }
        delete_blob_records(&mut tx, blobs_deleted).await?;
        let current = load_request(&mut tx, account, request_id).await?;
        apply_updates(&mut tx, &current, change).await?;
        let mut log = change.log.clone();
        log.from_status = Some(current.status.clone());
        append_log(&mut tx, account, Some(request_id), &log).await?;
        sqlx::query(
            "UPDATE jobs SET phase = 'done', finished_at = $2, lease_owner = NULL, lease_until = NULL WHERE id = $1",
        )
        .bind(job)
        .bind(change.log.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn reset_job(&self, job: i64, now: i64) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE jobs SET run_at = $2, lease_owner = NULL, lease_until = NULL, \
             attempts = CASE WHEN phase = 'failed' THEN 0 ELSE attempts END, \
             phase = CASE WHEN phase = 'failed' THEN \
               (CASE WHEN cursor >= total_items THEN 'verifying' ELSE 'erasing' END) ELSE phase END \
             WHERE id = $1 AND phase <> 'done'",
        )
        .bind(job)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(changed)
    }

    async fn log_request_event(
        &self,
        account: &str,
        request_id: i64,
        log: &LogDraft,
        notifications: &[NewNotification],
    ) -> Res<()> {
        let mut tx = self.begin_write().await?;
        enqueue_notifications(&mut tx, notifications).await?;
        if let Some(to) = &log.to_status {
            sqlx::query("UPDATE deletion_requests SET status = $3, updated_at = $4 WHERE account_id = $1 AND id = $2")
                .bind(account)
                .bind(request_id)
                .bind(to)
                .bind(log.at)
                .execute(&mut *tx)
                .await?;
        }
        append_log(&mut tx, account, Some(request_id), log).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pending_blob_deletions(&self, queue: BlobQueue<'_>, limit: i64) -> Res<Vec<BlobDeletion>> {
        let mut query = QueryBuilder::<Db>::new("SELECT id, account_id, blob_key FROM blob_deletions");
        match queue {
            BlobQueue::All => {}
            BlobQueue::Account(account) => {
                query.push(" WHERE account_id = ").push_bind(account);
            }
            BlobQueue::Request { account, request_id } => {
                query
                    .push(" WHERE account_id = ")
                    .push_bind(account)
                    .push(" AND (request_id = ")
                    .push_bind(request_id)
                    .push(" OR request_id IS NULL)");
            }
        }
        query.push(" ORDER BY id LIMIT ").push_bind(limit);
        Ok(query.build_query_as().fetch_all(self.read_pool()).await?)
    }

    async fn blob_deletions_done(&self, ids: &[i64]) -> Res<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        delete_blob_records(&mut tx, ids).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn blob_deletion_failed(&self, id: i64, error: &str) -> Res<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE blob_deletions SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remaining(&self, account: &str, conversations: &[String], consumers: &[String]) -> Res<i64> {
        const CONVERSATION_ROWS: [&str; 4] = [
            "conversations WHERE conversation_id",
            "files WHERE conversation_id",
            "survey_answers WHERE conversation_id",
            "conversation_attributes WHERE conversation_id",
        ];
        const CONSUMER_ROWS: [&str; 3] = [
            "consumers WHERE consumer_id",
            "consumer_lookups WHERE consumer_id",
            "data_keys WHERE owner_kind = 'consumer' AND owner_id",
        ];
        let mut left = 0;
        for chunk in conversations.chunks(500) {
            left += self.count_rows(account, &CONVERSATION_ROWS, chunk).await?;
        }
        for chunk in consumers.chunks(500) {
            left += self.count_rows(account, &CONSUMER_ROWS, chunk).await?;
        }
        Ok(left)
    }

    async fn unmasked_remains(&self, account: &str, conversations: &[String]) -> Res<i64> {
        const UNMASKED: [&str; 3] = [
            "files WHERE conversation_id",
            "conversation_attributes WHERE conversation_id",
            "conversations WHERE (consumer_id IS NOT NULL OR cid_hash IS NOT NULL \
             OR sealed_participant IS NOT NULL OR length(content_mac) > 0) AND conversation_id",
        ];
        let mut left = 0;
        for chunk in conversations.chunks(500) {
            left += self.count_rows(account, &UNMASKED, chunk).await?;
            left += self.unmasked_messages(account, chunk).await?;
        }
        Ok(left)
    }

    async fn checkpoint(&self, now: i64) -> Res<Option<i64>> {
        self.checkpoint_now(now).await
    }

    async fn last_checkpoint(&self) -> Res<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT truncated_at FROM checkpoints WHERE id = 1")
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn vacuum_erased(&self) -> Res<()> {
        self.vacuum_now().await
    }

    async fn listen_for_jobs(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> Res<()> {
        self.listen_now(wake).await
    }

    async fn tombstones_among(&self, account: &str, kind: &str, hashes: &[Vec<u8>]) -> Res<Vec<(Vec<u8>, i64)>> {
        let mut found = Vec::new();
        for chunk in hashes.chunks(500) {
            let mut query = QueryBuilder::<Db>::new("SELECT id_hash, erased_at FROM tombstones WHERE account_id = ");
            query
                .push_bind(account)
                .push(" AND kind = ")
                .push_bind(kind)
                .push(" AND id_hash IN (");
            let mut list = query.separated(", ");
            for hash in chunk {
                list.push_bind(hash.as_slice());
            }
            list.push_unseparated(")");
            let rows: Vec<(Vec<u8>, i64)> = query.build_query_as().fetch_all(self.read_pool()).await?;
            found.extend(rows);
        }
        Ok(found)
    }

    async fn tombstone(&self, account: &str, kind: &str, id_hash: &[u8]) -> Res<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT erased_at FROM tombstones WHERE account_id = $1 AND kind = $2 AND id_hash = $3")
                .bind(account)
                .bind(kind)
                .bind(id_hash)
                .fetch_optional(self.read_pool())
                .await?,
        )
    }
}
