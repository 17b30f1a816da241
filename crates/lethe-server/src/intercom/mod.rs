//! The Intercom dialect: synchronous conversation delete (with `retain_metrics`) and
//! conversation read, in Intercom's shapes and error list.

mod auth;
mod conversations;
mod error;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every Intercom route.
pub fn router() -> OpenApiRouter<AppState> {
    conversations::router()
}
