//! Deletion requests: creation with quota and idempotency, preview, the lifecycle up to
//! final, settings and the change log. Every surface calls these.

mod changelog;
mod checkpointer;
mod create;
mod finish;
mod intercom;
mod koreai;
mod lifecycle;
mod mask;
mod notify;
mod resolve;
mod runner;
mod settings;
mod view;

pub use changelog::ChainReport;
pub use create::{Created, NewDeletion};
pub use koreai::KoreAiJob;
pub use notify::{webhook_signature, Notifier};
pub use resolve::{Counts, Preview, PreviewItem};
pub use runner::EngineSettings;
pub use view::{RequestView, TimelineEntry};

/// Bounds on requests, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct DeletionLimits {
    /// Most ids one request may list.
    pub max_ids: usize,
    /// Most conversations a filter or channel-user target may resolve to.
    pub max_filter_conversations: usize,
}

impl Default for DeletionLimits {
    fn default() -> Self {
        Self {
            max_ids: 100,
            max_filter_conversations: 10_000,
        }
    }
}

/// Listing filters for requests.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub statuses: Vec<lethe_domain::deletion::RequestStatus>,
    pub created_from: Option<lethe_domain::Millis>,
    pub created_to: Option<lethe_domain::Millis>,
    pub source: Option<lethe_domain::deletion::RequestSource>,
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Sealing context of a request's target.
const TARGET_CONTEXT: &[u8] = b"request-target";
