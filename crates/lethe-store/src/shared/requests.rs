// Deletion requests, settings, quota, idempotency keys and the change log; included by
// both backends (see util.rs).

use crate::jobs::NewJob;
use crate::requests::*;
use crate::RequestStore;
use lethe_domain::changelog::{ChainedEntry, ChangeEntry, GENESIS};

const REQUEST_SELECT: &str = "SELECT r.id, r.account_id, r.job_id, r.source, r.status, r.target_kind, \
     r.sealed_target, r.hashed_target, r.requested_by, r.approval_mode, r.created_at, r.grace_ends_at, \
     r.due_at, r.approved_at, r.approved_by, r.final_at, r.canceled_at, r.canceled_by, r.rejection_reason, \
     r.updated_at, k.kek_id, k.wrapped FROM deletion_requests r LEFT JOIN data_keys k \
     ON k.account_id = r.account_id AND k.owner_kind = 'request' AND k.owner_id = r.job_id";

async fn load_request(tx: &mut Tx, account: &str, id: i64) -> Res<RequestRecord> {
    let sql = format!("{REQUEST_SELECT} WHERE r.account_id = $1 AND r.id = $2");
    Ok(sqlx::query_as(&sql).bind(account).bind(id).fetch_one(&mut **tx).await?)
}

/// Appends an entry to the account's chain. The head row is locked first, so
/// concurrent writers on PostgreSQL take turns.
async fn append_log(tx: &mut Tx, account: &str, request_id: Option<i64>, draft: &LogDraft) -> Res<()> {
    sqlx::query(
        "INSERT INTO change_log_heads (account_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account)
    .bind(GENESIS.as_slice())
    .execute(&mut **tx)
    .await?;
    let head_sql = format!("SELECT seq, hash FROM change_log_heads WHERE account_id = $1{FOR_UPDATE}");
    let (seq, prev): (i64, Vec<u8>) = sqlx::query_as(&head_sql).bind(account).fetch_one(&mut **tx).await?;
    let entry = ChangeEntry {
        account: account.to_owned(),
        seq: seq + 1,
        at: draft.at,
        request_id,
        actor: draft.actor.clone(),
        event: draft.event.clone(),
        from_status: draft.from_status.clone(),
        to_status: draft.to_status.clone(),
        detail: draft.detail.clone(),
    };
    let hash = entry.chain_hash(&prev);
    sqlx::query(
        "INSERT INTO change_log (account_id, seq, at, request_id, actor, event, from_status, to_status, \
         detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(account)
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.request_id)
    .bind(&entry.actor)
    .bind(&entry.event)
    .bind(&entry.from_status)
    .bind(&entry.to_status)
    .bind(&entry.detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE change_log_heads SET seq = $2, hash = $3 WHERE account_id = $1")
        .bind(account)
        .bind(entry.seq)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Checks an idempotency key inside the create transaction.
async fn check_idempotency(tx: &mut Tx, account: &str, claim: &IdempotencyClaim) -> Res<Option<CreateOutcome>> {
    let sql = format!(
        "SELECT body_hash, request_id, created_at FROM idempotency_keys \
         WHERE account_id = $1 AND route = $2 AND idem_key = $3{FOR_UPDATE}"
    );
    let found: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(&sql)
        .bind(account)
        .bind(&claim.route)
        .bind(&claim.key)
        .fetch_optional(&mut **tx)
        .await?;
    match found {
        Some((hash, request_id, created_at)) if created_at >= claim.fresh_after => {
            Ok(Some(if hash == claim.body_hash {
                CreateOutcome::Replayed(load_request(tx, account, request_id).await?)
            } else {
                CreateOutcome::KeyReused
            }))
        }
        Some(_) => {
            sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1 AND route = $2 AND idem_key = $3")
                .bind(account)
                .bind(&claim.route)
                .bind(&claim.key)
                .execute(&mut **tx)
                .await?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Counts one request against the month's quota; false when it is used up.
async fn take_quota(tx: &mut Tx, account: &str, month: &str, quota: u32) -> Res<bool> {
    if quota == 0 {
        return Ok(false);
    }
    let used: Option<i64> = sqlx::query_scalar(
        "INSERT INTO quota_usage (account_id, month, used) VALUES ($1, $2, 1) \
         ON CONFLICT (account_id, month) DO UPDATE SET used = quota_usage.used + 1 \
         WHERE quota_usage.used < $3 RETURNING used",
    )
    .bind(account)
    .bind(month)
    .bind(i64::from(quota))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(used.is_some())
}

async fn insert_request(tx: &mut Tx, new: &NewRequest) -> Res<i64> {
    sqlx::query(
        "INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) \
         VALUES ($1, 'request', $2, $3, $4, $5)",
    )
    .bind(&new.account_id)
    .bind(&new.job_id)
    .bind(&new.data_key.kek_id)
    .bind(&new.data_key.wrapped)
    .bind(new.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO deletion_requests (account_id, job_id, source, status, target_kind, sealed_target, \
         requested_by, approval_mode, created_at, grace_ends_at, due_at, updated_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $8) RETURNING id",
    )
    .bind(&new.account_id)
    .bind(&new.job_id)
    .bind(&new.source)
    .bind(&new.target_kind)
    .bind(&new.sealed_target)
    .bind(&new.requested_by)
    .bind(&new.approval_mode)
    .bind(new.created_at)
    .bind(new.grace_ends_at)
    .bind(new.due_at)
    .fetch_one(&mut **tx)
    .await?)
}

async fn apply_updates(tx: &mut Tx, current: &RequestRecord, change: &RequestChange) -> Res<()> {
    let u = &change.updates;
    sqlx::query(
        "UPDATE deletion_requests SET status = COALESCE($3, status), approved_at = COALESCE($4, approved_at), \
         approved_by = COALESCE($5, approved_by), final_at = COALESCE($6, final_at), \
         canceled_at = COALESCE($7, canceled_at), canceled_by = COALESCE($8, canceled_by), \
         rejection_reason = COALESCE($9, rejection_reason), hashed_target = COALESCE($10, hashed_target), \
         sealed_target = CASE WHEN $11 THEN NULL ELSE sealed_target END, updated_at = $12 \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(&current.account_id)
    .bind(current.id)
    .bind(&change.to_status)
    .bind(u.approved.as_ref().map(|a| a.0))
    .bind(u.approved.as_ref().map(|a| a.1.clone()))
    .bind(u.final_at)
    .bind(u.canceled.as_ref().map(|c| c.0))
    .bind(u.canceled.as_ref().map(|c| c.1.clone()))
    .bind(&u.rejection_reason)
    .bind(&u.hashed_target)
    .bind(u.hashed_target.is_some())
    .bind(change.log.at)
    .execute(&mut **tx)
    .await?;
    if u.hashed_target.is_some() {
        sqlx::query("DELETE FROM data_keys WHERE account_id = $1 AND owner_kind = 'request' AND owner_id = $2")
            .bind(&current.account_id)
            .bind(&current.job_id)
            .execute(&mut **tx)
            .await?;
    }
    set_hashed_items(tx, current.id, &u.hashed_items).await?;
    for (position, outcome) in &u.outcomes {
        sqlx::query("UPDATE request_items SET outcome = $3 WHERE request_id = $1 AND position = $2")
            .bind(current.id)
            .bind(position)
            .bind(outcome)
            .execute(&mut **tx)
            .await?;
    }
    enqueue_notifications(tx, &change.notifications).await?;
    let account = current.account_id.as_str();
    insert_rows(
        tx,
        "INSERT INTO request_items (account_id, request_id, position, item_kind, item_id, problem, outcome) ",
        "",
        7,
        &change.items,
        |row, item| {
            row.push_bind(account)
                .push_bind(current.id)
                .push_bind(item.position)
                .push_bind(item.item_kind.as_str())
                .push_bind(item.item_id.as_str())
                .push_bind(item.problem.as_deref())
                .push_bind(item.outcome.as_deref());
        },
    )
    .await
}

/// Creates the job of a request that just became final and moves the request on to
/// `scheduled`, in the caller's transaction.
/// Replaces item ids by their hashes, one statement per 500 items (a finished job may
/// hash a hundred thousand).
async fn set_hashed_items(tx: &mut Tx, request_id: i64, hashed: &[(i64, String)]) -> Res<()> {
    for chunk in hashed.chunks(500) {
        let mut query = QueryBuilder::<Db>::new("UPDATE request_items SET item_id = CASE position");
        for (position, hashed) in chunk {
            query
                .push(" WHEN ")
                .push_bind(*position)
                .push(" THEN ")
                .push_bind(hashed.as_str());
        }
        query
            .push(" ELSE item_id END WHERE request_id = ")
            .push_bind(request_id)
            .push(" AND position IN (");
        let mut list = query.separated(", ");
        for (position, _) in chunk {
            list.push_bind(*position);
        }
        list.push_unseparated(")");
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Applies a guarded change inside an open transaction (the caller commits).
async fn apply_change(tx: &mut Tx, account: &str, id: i64, change: &RequestChange) -> Res<ChangeOutcome> {
    let lock = format!("SELECT id FROM deletion_requests WHERE account_id = $1 AND id = $2{FOR_UPDATE}");
    let found: Option<i64> = sqlx::query_scalar(&lock)
        .bind(account)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    if found.is_none() {
        return Ok(ChangeOutcome::NotFound);
    }
    let current = load_request(tx, account, id).await?;
    let allowed =
        change.allowed_from.contains(&current.status) && !(change.require_unapproved && current.approved_at.is_some());
    if !allowed {
        return Ok(ChangeOutcome::Refused(current));
    }
    apply_updates(tx, &current, change).await?;
    let mut log = change.log.clone();
    log.from_status = Some(current.status.clone());
    append_log(tx, account, Some(id), &log).await?;
    if let Some(job) = &change.job {
        schedule_job(tx, &current, job, &log).await?;
    }
    Ok(ChangeOutcome::Changed(load_request(tx, account, id).await?))
}

async fn schedule_job(tx: &mut Tx, request: &RequestRecord, job: &NewJob, after: &LogDraft) -> Res<()> {
    let lease = job.leased_to.as_ref();
    sqlx::query(
        "INSERT INTO jobs (account_id, request_id, job_id, phase, run_at, max_attempts, total_items, created_at, \
         lease_owner, lease_until, generation, started_at, erasure_mode, mask_marker) \
         VALUES ($1, $2, $3, 'erasing', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&request.account_id)
    .bind(request.id)
    .bind(&job.job_id)
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(job.total_items)
    .bind(after.at)
    .bind(lease.map(|l| l.owner.clone()))
    .bind(lease.map(|l| l.until))
    .bind(i64::from(lease.is_some()))
    .bind(lease.map(|l| l.now))
    .bind(&job.erasure_mode)
    .bind(&job.mask_marker)
    .execute(&mut **tx)
    .await?;
    if lease.is_none() && BACKEND_NAME == "postgres" {
        // Delivered at commit to every node's runner (LISTEN lethe_jobs).
        sqlx::query("SELECT pg_notify('lethe_jobs', '')")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE deletion_requests SET status = 'scheduled' WHERE account_id = $1 AND id = $2")
        .bind(&request.account_id)
        .bind(request.id)
        .execute(&mut **tx)
        .await?;
    let log = LogDraft {
        at: after.at,
        actor: "system".into(),
        event: "scheduled".into(),
        from_status: after.to_status.clone(),
        to_status: Some("scheduled".into()),
        detail: format!("{{\"job_id\":\"{}\",\"items\":{}}}", job.job_id, job.total_items),
    };
    append_log(tx, &request.account_id, Some(request.id), &log).await?;
    if lease.is_some() {
        sqlx::query("UPDATE deletion_requests SET status = 'running' WHERE account_id = $1 AND id = $2")
            .bind(&request.account_id)
            .bind(request.id)
            .execute(&mut **tx)
            .await?;
        let started = LogDraft {
            event: "started".into(),
            from_status: Some("scheduled".into()),
            to_status: Some("running".into()),
            ..log
        };
        append_log(tx, &request.account_id, Some(request.id), &started).await?;
    }
    Ok(())
}

type LogRow = (
    String,
    i64,
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
);

fn chained(row: LogRow) -> ChainedEntry {
    let (account, seq, at, request_id, actor, event, from_status, to_status, detail, prev_hash, hash) = row;
    ChainedEntry {
        entry: ChangeEntry {
            account,
            seq,
            at,
            request_id,
            actor,
            event,
            from_status,
            to_status,
            detail,
        },
        prev_hash,
        hash,
    }
}

#[async_trait]
impl RequestStore for Backend {
    async fn settings(&self, account: &str) -> Res<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT settings FROM account_settings WHERE account_id = $1")
                .bind(account)
                .fetch_optional(self.read_pool())
                .await?,
        )
    }

    async fn put_settings(&self, account: &str, settings: &str, log: &LogDraft) -> Res<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO account_settings (account_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(settings)
        .bind(log.at)
        .execute(&mut *tx)
        .await?;
        append_log(&mut tx, account, None, log).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_request(&self, new: &NewRequest, guards: &CreateGuards, log: &LogDraft) -> Res<CreateOutcome> {
        let account = new.account_id.as_str();
        let mut tx = self.begin_write().await?;
        if let Some(claim) = &guards.idempotency {
            if let Some(outcome) = check_idempotency(&mut tx, account, claim).await? {
                return Ok(outcome);
            }
        }
        if guards.count_quota && !take_quota(&mut tx, account, &guards.month, guards.quota).await? {
            return Ok(CreateOutcome::QuotaExceeded);
        }
        let id = insert_request(&mut tx, new).await?;
        if let Some(claim) = &guards.idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys (account_id, route, idem_key, body_hash, request_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(account)
            .bind(&claim.route)
            .bind(&claim.key)
            .bind(&claim.body_hash)
            .bind(id)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
        }
        append_log(&mut tx, account, Some(id), log).await?;
        let record = load_request(&mut tx, account, id).await?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(record))
    }

    async fn request(&self, account: &str, id: i64) -> Res<Option<RequestRecord>> {
        let sql = format!("{REQUEST_SELECT} WHERE r.account_id = $1 AND r.id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(account)
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn request_by_job(&self, account: &str, job_id: &str) -> Res<Option<RequestRecord>> {
        let sql = format!("{REQUEST_SELECT} WHERE r.account_id = $1 AND r.job_id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(account)
            .bind(job_id)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn requests(&self, account: &str, q: &RequestQuery) -> Res<Vec<RequestRecord>> {
        let mut query = QueryBuilder::<Db>::new(REQUEST_SELECT);
        query.push(" WHERE r.account_id = ").push_bind(account);
        if !q.statuses.is_empty() {
            query.push(" AND r.status");
            push_in_list(&mut query, &q.statuses);
        }
        if let Some(from) = q.created_from {
            query.push(" AND r.created_at >= ").push_bind(from);
        }
        if let Some(to) = q.created_to {
            query.push(" AND r.created_at <= ").push_bind(to);
        }
        if let Some(source) = &q.source {
            query.push(" AND r.source = ").push_bind(source.as_str());
        }
        if let Some(before) = q.before_id {
            query.push(" AND r.id < ").push_bind(before);
        }
        query.push(" ORDER BY r.id DESC LIMIT ").push_bind(i64::from(q.limit));
        Ok(query.build_query_as().fetch_all(self.read_pool()).await?)
    }

    async fn request_items(&self, account: &str, id: i64) -> Res<Vec<RequestItem>> {
        Ok(sqlx::query_as(
            "SELECT position, item_kind, item_id, problem, outcome FROM request_items \
             WHERE account_id = $1 AND request_id = $2 ORDER BY position",
        )
        .bind(account)
        .bind(id)
        .fetch_all(self.read_pool())
        .await?)
    }

    async fn request_items_from(&self, account: &str, id: i64, from: i64, limit: i64) -> Res<Vec<RequestItem>> {
        Ok(sqlx::query_as(
            "SELECT position, item_kind, item_id, problem, outcome FROM request_items \
             WHERE account_id = $1 AND request_id = $2 AND position >= $3 ORDER BY position LIMIT $4",
        )
        .bind(account)
        .bind(id)
        .bind(from)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?)
    }

    async fn change_request(&self, account: &str, id: i64, change: &RequestChange) -> Res<ChangeOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome = apply_change(&mut tx, account, id, change).await?;
        if let ChangeOutcome::Changed(_) = outcome {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn hash_items(&self, account: &str, id: i64, hashed: &[(i64, String)]) -> Res<()> {
        let mut tx = self.begin_write().await?;
        let lock = format!("SELECT id FROM deletion_requests WHERE account_id = $1 AND id = $2{FOR_UPDATE}");
        let found: Option<i64> = sqlx::query_scalar(&lock)
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_some() {
            set_hashed_items(&mut tx, id, hashed).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn create_changed_request(
        &self,
        new: &NewRequest,
        log: &LogDraft,
        change: &RequestChange,
    ) -> Res<(RequestRecord, Option<JobRecord>)> {
        let account = new.account_id.as_str();
        let mut tx = self.begin_write().await?;
        let id = insert_request(&mut tx, new).await?;
        append_log(&mut tx, account, Some(id), log).await?;
        let ChangeOutcome::Changed(record) = apply_change(&mut tx, account, id, change).await? else {
            return Err(StoreError::Database("a new request refused its first change".into()));
        };
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = $1");
        let job = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok((record, job))
    }

    async fn promotable_requests(&self, account: Option<&str>, now: i64) -> Res<Vec<(String, i64)>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT account_id, id FROM deletion_requests WHERE status = 'pending' AND grace_ends_at <= ",
        );
        query
            .push_bind(now)
            .push(" AND (approval_mode = 'auto' OR approved_at IS NOT NULL)");
        if let Some(account) = account {
            query.push(" AND account_id = ").push_bind(account);
        }
        query.push(" ORDER BY id");
        Ok(query.build_query_as().fetch_all(self.read_pool()).await?)
    }

    async fn change_log(&self, account: &str, request: Option<i64>) -> Res<Vec<ChainedEntry>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT account_id, seq, at, request_id, actor, event, from_status, to_status, detail, prev_hash, hash \
             FROM change_log WHERE account_id = ",
        );
        query.push_bind(account);
        if let Some(request) = request {
            query.push(" AND request_id = ").push_bind(request);
        }
        query.push(" ORDER BY seq");
        let rows: Vec<LogRow> = query.build_query_as().fetch_all(self.read_pool()).await?;
        Ok(rows.into_iter().map(chained).collect())
    }
}
