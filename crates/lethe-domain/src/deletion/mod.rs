//! Deletion requests: their lifecycle and their targets.

mod koreai;
mod status;
mod target;

pub use koreai::KoreAiDelete;
pub use status::{RequestSource, RequestStatus};
pub use target::{parse_seed_status, ChannelUserTarget, FilterTarget, Target, TargetKind, TargetLimits, HASHED_PREFIX};

use crate::time::{Millis, DAY_MS};

/// The time limit the vendors promise: data is gone within 30 days of the request.
pub const DUE_AFTER_MS: Millis = 30 * DAY_MS;

/// The job id a request carries from creation (Kore.ai's `jobId`).
pub fn job_id(uuid: &str) -> String {
    format!("cdj-{uuid}")
}
