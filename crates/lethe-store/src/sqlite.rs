//! SQLite backend: WAL, one writer connection with `BEGIN IMMEDIATE`, a read pool, and
//! `secure_delete` on every connection so freed pages hold no old text.

use crate::error::StoreResult;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

type Db = Sqlite;
type Backend = SqliteStore;

/// `SELECT … FOR UPDATE` is implicit: the single writer holds the database lock.
const FOR_UPDATE: &str = "";
const BACKEND_NAME: &str = "sqlite";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store.
pub struct SqliteStore {
    writer: Pool<Sqlite>,
    reader: Pool<Sqlite>,
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
        // A deep row buffer lets the connection's worker thread hand a whole result over
        // without waiting for the reading task row by row (the default of 50 made reads of a
        // few hundred rows ping-pong between threads).
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.row_buffer_size(1024))
            .await?;
        Ok(Self { writer, reader })
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn read_pool(&self) -> &Pool<Db> {
        &self.reader
    }
}

include!("shared/util.rs");
include!("shared/admin.rs");
include!("shared/ingest.rs");
include!("shared/import.rs");
include!("shared/read.rs");
