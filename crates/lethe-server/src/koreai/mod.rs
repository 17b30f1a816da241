//! The Kore.ai dialect: bot-scoped deletion jobs and their status.

mod auth;
mod jobs;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every Kore.ai route.
pub fn router() -> OpenApiRouter<AppState> {
    jobs::router()
}
