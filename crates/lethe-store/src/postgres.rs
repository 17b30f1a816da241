//! PostgreSQL backend: the multi-node deployment. Row locks replace SQLite's single writer.

use crate::error::StoreResult;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres, Transaction};
use std::time::Duration;

type Db = Postgres;
type Backend = PgStore;

const FOR_UPDATE: &str = " FOR UPDATE";
const BACKEND_NAME: &str = "postgres";
/// Runners on several nodes claim different jobs without waiting on each other.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool<Postgres>,
}

impl PgStore {
    /// Connects and migrates (sqlx serialises concurrent migrators with an advisory lock).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }

    pub(crate) fn read_pool(&self) -> &Pool<Db> {
        &self.pool
    }

    /// PostgreSQL's WAL is not lethe's to truncate: what it holds is ciphertext whose
    /// keys are destroyed.
    async fn checkpoint_now(&self, _now: i64) -> StoreResult<Option<i64>> {
        Ok(None)
    }

    /// Listens on `lethe_jobs` in a task of its own; `PgListener` reconnects by itself
    /// (notifications sent while it is away are covered by the runner's polling).
    async fn listen_now(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> StoreResult<()> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("lethe_jobs").await?;
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN lethe_jobs failed; polling covers the gap");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }

    /// Vacuums the tables erasure touches, so dead tuples are reclaimed soon.
    async fn vacuum_now(&self) -> StoreResult<()> {
        sqlx::query(
            "VACUUM conversations, conversation_attributes, files, survey_answers, metrics, \
             consumers, consumer_lookups, data_keys",
        )
        .execute(&self.pool)
        .await?;
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
