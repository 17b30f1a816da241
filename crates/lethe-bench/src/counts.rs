//! Rows per table: what an import wrote, counted in the database itself.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

/// The tables an import writes. The baseline must write as many rows to each.
pub const TABLES: [&str; 8] = [
    "consumers",
    "consumer_lookups",
    "data_keys",
    "conversations",
    "conversation_attributes",
    "files",
    "survey_answers",
    "metrics",
];

/// Rows per table, in the order of [`TABLES`].
pub type TableCounts = Vec<(String, u64)>;

/// Counts the rows of every table in [`TABLES`].
pub async fn count_rows(db: &Path) -> anyhow::Result<TableCounts> {
    let mut conn = SqliteConnectOptions::new().filename(db).connect().await?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await?;
        counts.push((table.to_owned(), n as u64));
    }
    conn.close().await?;
    Ok(counts)
}

/// All rows of all tables.
pub fn total(counts: &TableCounts) -> u64 {
    counts.iter().map(|(_, n)| n).sum()
}

/// Fails unless both sides wrote the same rows per table: a ratio of rates is only
/// fair when the work is the same.
pub fn ensure_same(lethe: &TableCounts, baseline: &TableCounts) -> anyhow::Result<()> {
    for ((table, a), (_, b)) in lethe.iter().zip(baseline) {
        anyhow::ensure!(a == b, "table {table}: lethe wrote {a} rows, the baseline {b}");
    }
    Ok(())
}
