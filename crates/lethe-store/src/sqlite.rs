//! SQLite backend: WAL, one writer connection with `BEGIN IMMEDIATE`, a read pool, and
//! `secure_delete` on every connection so freed pages hold no old text.

use crate::error::StoreResult;
use crate::sqlite_read::Readers;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

type Db = Sqlite;
type Backend = SqliteStore;

/// `SELECT … FOR UPDATE` is implicit: the single writer holds the database lock.
const FOR_UPDATE: &str = "";
const BACKEND_NAME: &str = "sqlite";
/// The single writer already excludes other claimers.
const CLAIM_LOCK: &str = "";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store.
pub struct SqliteStore {
    writer: Pool<Sqlite>,
    reader: Pool<Sqlite>,
    readers: Arc<Readers>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates a SQLite database file.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("secure_delete", "ON");
        // All writes go through one connection: SQLite has one writer anyway, and a
        // queue in front of it beats its sleeping busy handler on tail latency.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        // Small lookups of the admin path (keys, accounts) stay on sqlx; content reads go
        // through `Readers`.
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let path = crate::sqlite_path(url).ok_or_else(|| {
            crate::StoreError::BadUrl("SQLite needs a file path (in-memory databases are not supported)".into())
        })?;
        let readers = Readers::open(&path, 4)?;
        Ok(Self {
            writer,
            reader,
            readers,
        })
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn read_pool(&self) -> &Pool<Db> {
        &self.reader
    }

    pub(crate) fn readers(&self) -> &Arc<Readers> {
        &self.readers
    }

    /// Truncates the WAL; when no frame was busy, records and returns the time.
    async fn checkpoint_now(&self, now: i64) -> StoreResult<Option<i64>> {
        // Copy what can be copied without the writer first (PASSIVE blocks no one), so the
        // truncation below holds the writer only for frames written in the meantime.
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.reader)
            .await?;
        let mut conn = self.writer.acquire().await?;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await?;
        if busy != 0 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO checkpoints (id, truncated_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET truncated_at = excluded.truncated_at",
        )
        .bind(now)
        .execute(&mut *conn)
        .await?;
        // The row just written sits in the WAL again; truncate once more so the file is
        // empty, which is what the recorded time promises.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
        Ok(Some(now))
    }

    /// One node: the service wakes its runner in-process.
    async fn listen_now(&self, _wake: std::sync::Arc<tokio::sync::Notify>) -> StoreResult<()> {
        Ok(())
    }

    /// SQLite frees pages in place (`secure_delete` zeroes them): nothing to vacuum.
    async fn vacuum_now(&self) -> StoreResult<()> {
        Ok(())
    }
}

include!("shared/util.rs");
include!("shared/admin.rs");
include!("shared/ingest.rs");
include!("shared/import.rs");
include!("shared/requests.rs");
include!("shared/erase.rs");
include!("shared/jobs.rs");
include!("shared/notifications.rs");
