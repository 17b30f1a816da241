//! What the raw-SQL baselines share: a copy of lethe's data directory, and one writer
//! connection to it with lethe's pragmas (WAL, `synchronous=NORMAL`, `secure_delete=ON`).

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The tables that hold a conversation's rows, keyed by `conversation_id`.
const CONVERSATION_TABLES: [&str; 5] = [
    "conversation_attributes",
    "survey_answers",
    "files",
    "metrics",
    "conversations",
];

/// One connection to `dir/lethe.db`, the way lethe's writer opens it.
pub async fn writer(dir: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("lethe.db").display()))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("secure_delete", "ON");
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?)
}

/// Copies a directory tree (a lethe database with its key file and blobs) and waits until
/// the copy is on disk: otherwise the kernel writes gigabytes of the copy back while the
/// first side of a comparison runs, and that side's commits queue behind it (erasure
/// ratios of 69 % and 96 % in two runs of one build).
pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    copy_files(from, to)?;
    let status = std::process::Command::new("sync").status()?;
    anyhow::ensure!(status.success(), "sync failed: {status}");
    Ok(())
}

fn copy_files(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_files(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Deletes these conversations' rows from every table (their data keys are in their
/// rows) with one plain `DELETE … IN (…)` per table, inside the caller's transaction.
pub async fn delete_conversations(
    tx: &mut sqlx::SqliteConnection,
    account: &str,
    ids: &[String],
) -> anyhow::Result<()> {
    let list = placeholders(2, ids.len());
    let statements = CONVERSATION_TABLES
        .iter()
        .map(|table| format!("DELETE FROM {table} WHERE account_id = $1 AND conversation_id IN {list}"));
    for sql in statements {
        let mut query = sqlx::query(&sql).bind(account);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// A fresh copy of the import data set's lethe directory under `data/name/lethe`, and
/// how many conversations it holds.
pub async fn copy_of_import(common: &crate::Common, name: &str) -> anyhow::Result<(std::path::PathBuf, i64)> {
    let layout = crate::import::Layout::new(common);
    anyhow::ensure!(
        layout.lethe_db().is_file(),
        "{} not found: run `lethe-bench import` at this scale first",
        layout.lethe_db().display()
    );
    let dir = common.data.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("lethe-bench: copying the data set …");
    copy_dir(&layout.lethe_dir(), &dir.join("lethe"))?;
    let pool = writer(&dir.join("lethe")).await?;
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok((dir, conversations))
}

/// The `(…)` of an `IN` list with `n` placeholders numbered from `first`.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Latency quantile (0..=1) of sorted durations, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}
