//! lethe's domain services: every surface (native API, dialects, CLI) calls these.

pub mod accounts;
pub mod apps;
pub mod clock;
pub mod deletion;
pub mod error;
pub mod import;
pub mod ingest;
pub mod keys;
pub mod lookup;
pub mod principal;
pub mod search;
pub mod views;
pub mod wire;

mod message_body;
mod sealing;
mod tombstones;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ServiceError, ServiceResult};
pub use principal::{AppGrant, Principal};

use lethe_crypto::Keyring;
use lethe_store::{BlobStore, Store};
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// The services with everything they need: storage, secrets and time.
#[derive(Clone)]
pub struct Lethe {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub blobs: BlobStore,
    pub clock: Arc<dyn Clock>,
    /// Bounds on deletion requests.
    pub limits: deletion::DeletionLimits,
    /// How the job runner works.
    pub engine: deletion::EngineSettings,
    /// Rung when a job becomes due, so the runner starts without waiting for its poll.
    pub jobs_due: Arc<tokio::sync::Notify>,
    /// Synchronous deletes whose WAL pages await the coalesced checkpointer.
    pending_checkpoints: Arc<std::sync::Mutex<Vec<(String, i64)>>>,
    /// One WAL truncation at a time: callers waiting behind it are served by its result.
    checkpoint_turn: Arc<tokio::sync::Mutex<()>>,
    /// When the last online write (ingest) began, in clock milliseconds: the job runner
    /// keeps its batches small while online writes are arriving.
    last_online_write: Arc<std::sync::atomic::AtomicI64>,
    /// Accounts seen to exist. Accounts are never deleted, so a positive answer can be
    /// remembered and saves a query on every request.
    known_accounts: Arc<RwLock<HashSet<String>>>,
}

impl Lethe {
    /// Assembles the services.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, blobs: BlobStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            keyring,
            blobs,
            clock,
            limits: deletion::DeletionLimits::default(),
            engine: deletion::EngineSettings::default(),
            jobs_due: Arc::default(),
            pending_checkpoints: Arc::default(),
            checkpoint_turn: Arc::default(),
            known_accounts: Arc::default(),
            last_online_write: Arc::default(),
        }
    }

    /// Sets the bounds on deletion requests.
    pub fn with_limits(mut self, limits: deletion::DeletionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how the job runner works.
    pub fn with_engine(mut self, engine: deletion::EngineSettings) -> Self {
        self.engine = engine;
        self
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Notes that an online write is starting.
    fn note_online_write(&self) {
        self.last_online_write
            .store(self.now(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether an online write began within the last `ms` milliseconds.
    fn online_writes_within(&self, ms: i64) -> bool {
        self.now() - self.last_online_write.load(std::sync::atomic::Ordering::Relaxed) < ms
    }
}
