//! Erasure throughput: a job erasing a tenth of the import data set's conversations
//! (scattered through it, with their messages, files and survey answers), against plain
//! `DELETE` statements removing the same rows in batches of the same size on a copy of
//! the same database, with `secure_delete` on and the same blob files unlinked in the
//! loop, in the same run.

use crate::api::{ended, millis, Api};
use crate::lethe::{Lethe, ACCOUNT};
use crate::raw::{copy_dir, placeholders};
use crate::server::{Memory, Server};
use crate::{report, Common, EraseArgs};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqlitePool;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every scope the benchmark's requests and settings need.
pub const DELETION_SCOPES: &str = "conversations:read,conversations:write,deletion:read,deletion:write,admin";

/// The rows the target conversations hold, counted before either side runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TargetRows {
    pub conversations: u64,
    pub messages: u64,
    pub attributes: u64,
    pub survey_answers: u64,
    pub files: u64,
    pub metrics: u64,
}

impl TargetRows {
    pub fn total(&self) -> u64 {
        self.conversations + self.messages + self.attributes + self.survey_answers + self.files + self.metrics
    }
}

/// The saved result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EraseResult {
    pub store_conversations: u64,
    pub rows: TargetRows,
    pub batch: usize,
    pub lethe_seconds: f64,
    pub baseline_seconds: f64,
    /// The job's own counters, as `GET …/deletion-requests/{id}` shows them.
    pub job: serde_json::Value,
    pub rss_before: Memory,
    /// Once the request was created and its job started: the runner's starting point.
    pub rss_job_start: Memory,
    pub rss_peak_during: Memory,
    pub build: String,
    pub date: String,
    pub machine: String,
}

impl EraseResult {
    pub fn lethe_rows_per_second(&self) -> f64 {
        self.rows.total() as f64 / self.lethe_seconds.max(1e-9)
    }
    pub fn baseline_rows_per_second(&self) -> f64 {
        self.rows.total() as f64 / self.baseline_seconds.max(1e-9)
    }
}

/// Runs both sides on copies of the import data set and saves the result.
pub async fn run(common: &Common, args: &EraseArgs) -> anyhow::Result<EraseResult> {
    let (dir, store_conversations) = crate::raw::copy_of_import(common, "erase").await?;
    let (lethe_dir, base_dir) = (dir.join("lethe"), dir.join("baseline"));
    copy_dir(&lethe_dir, &base_dir)?;
    let pool = crate::raw::writer(&base_dir).await?;
    let ids = pick_targets(&pool, args.erase).await?;
    let rows = count_rows(&pool, &ids).await?;
    eprintln!(
        "lethe-bench: erasing {} conversations ({} rows) from {store_conversations} …",
        ids.len(),
        rows.total()
    );

    let lethe = Lethe::new(common, &lethe_dir.join("lethe.db"))?;
    let (lethe_seconds, job, [rss_before, rss_job_start, rss_peak_during]) =
        lethe_side(&lethe, &dir, &ids, args.batch).await?;
    eprintln!("lethe-bench: lethe job: {lethe_seconds:.1}s");
    let baseline_seconds = baseline_side(&pool, &base_dir, &ids, args.batch).await?;
    eprintln!("lethe-bench: plain DELETE: {baseline_seconds:.1}s");
    let result = EraseResult {
        store_conversations: store_conversations as u64,
        rows,
        batch: args.batch,
        lethe_seconds,
        baseline_seconds,
        job,
        rss_before,
        rss_job_start,
        rss_peak_during,
        build: crate::lethe::build_identity(common),
        date: crate::machine::now(),
        machine: crate::machine::Machine::current().describe(),
    };
    eprintln!(
        "lethe-bench: {:.0} rows/s (lethe) vs {:.0} rows/s (plain DELETE): {:.0}%",
        result.lethe_rows_per_second(),
        result.baseline_rows_per_second(),
        100.0 * result.lethe_rows_per_second() / result.baseline_rows_per_second()
    );
    report::save(common, "erase", &result)?;
    Ok(result)
}

/// Closed conversations spread evenly through the store (a job skips open ones).
pub(crate) async fn pick_targets(pool: &SqlitePool, wanted: usize) -> anyhow::Result<Vec<String>> {
    let closed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE account_id = $1 AND status = 'closed'")
            .bind(ACCOUNT)
            .fetch_one(pool)
            .await?;
    let step = (closed / wanted.max(1) as i64).max(1);
    Ok(sqlx::query_scalar(
        "SELECT conversation_id FROM (SELECT conversation_id, row_number() OVER (ORDER BY rowid) AS n \
         FROM conversations WHERE account_id = $1 AND status = 'closed') WHERE n % $2 = 0 LIMIT $3",
    )
    .bind(ACCOUNT)
    .bind(step)
    .bind(wanted as i64)
    .fetch_all(pool)
    .await?)
}

async fn count_rows(pool: &SqlitePool, ids: &[String]) -> anyhow::Result<TargetRows> {
    let mut rows = TargetRows::default();
    for chunk in ids.chunks(500) {
        let list = placeholders(2, chunk.len());
        let count = |table: &str, column: &str| {
            format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1 AND {column} IN {list}")
        };
        let mut counted = Vec::new();
        for sql in [
            count("conversations", "conversation_id"),
            format!(
                "SELECT COALESCE(SUM(message_count), 0) FROM conversations \
                 WHERE account_id = $1 AND conversation_id IN {list}"
            ),
            count("conversation_attributes", "conversation_id"),
            count("survey_answers", "conversation_id"),
            count("files", "conversation_id"),
            count("metrics", "conversation_id"),
        ] {
            let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(ACCOUNT);
            for id in chunk {
                query = query.bind(id);
            }
            counted.push(query.fetch_one(pool).await? as u64);
        }
        rows.conversations += counted[0];
        rows.messages += counted[1];
        rows.attributes += counted[2];
        rows.survey_answers += counted[3];
        rows.files += counted[4];
        rows.metrics += counted[5];
    }
    Ok(rows)
}

/// One request for every target; the job's own start and finish times, and RSS before
/// the request, when its job started and at most while it ran.
async fn lethe_side(
    lethe: &Lethe,
    dir: &Path,
    ids: &[String],
    batch: usize,
) -> anyhow::Result<(f64, serde_json::Value, [Memory; 3])> {
    let key = lethe.create_key(DELETION_SCOPES)?;
    let env = [
        ("LETHE_MAX_IDS_PER_REQUEST", ids.len().to_string()),
        ("LETHE_BODY_LIMIT_BYTES", (64 * 1024 * 1024).to_string()),
        ("LETHE_JOB_BATCH_SIZE", batch.to_string()),
    ];
    let server = Server::start_with(lethe, &dir.join("serve.log"), &env).await?;
    let api = Api::new(&server.base_url, &key);
    api.settings(json!({"grace_period_seconds": 0, "retain_metrics": false}))
        .await?;
    let before = server.memory()?;
    let id = api.create_request(&json!({"conversation_ids": ids})).await?;
    let job_start = server.memory()?;
    let mut peak = job_start;
    let request = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = server.memory()?;
        if now.rss_kib > peak.rss_kib {
            peak = now;
        }
        let request = api.request(id).await?;
        if ended(&request) {
            break request;
        }
    };
    server.stop().await?;
    anyhow::ensure!(request["status"] == "completed", "the job ended {}", request["status"]);
    let job = &request["job"];
    let seconds = (millis(&job["finished_at"])? - millis(&job["started_at"])?) as f64 / 1000.0;
    Ok((seconds, job.clone(), [before, job_start, peak]))
}

/// The same rows deleted with plain statements, `batch` conversations per transaction,
/// blob files unlinked after each commit, and the WAL truncated at the end as lethe's
/// verification does.
async fn baseline_side(pool: &SqlitePool, dir: &Path, ids: &[String], batch: usize) -> anyhow::Result<f64> {
    let blobs = dir.join("lethe-blobs");
    let started = Instant::now();
    for chunk in ids.chunks(batch.max(1)) {
        let list = placeholders(2, chunk.len());
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let sql = format!("SELECT blob_key FROM files WHERE account_id = $1 AND conversation_id IN {list}");
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(ACCOUNT);
        for id in chunk {
            query = query.bind(id);
        }
        let keys = query.fetch_all(&mut *tx).await?;
        crate::raw::delete_conversations(&mut tx, ACCOUNT, chunk).await?;
        tx.commit().await?;
        for key in keys {
            tokio::fs::remove_file(blobs.join(key)).await?;
        }
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    Ok(started.elapsed().as_secs_f64())
}
