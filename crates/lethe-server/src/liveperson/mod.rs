//! The LivePerson dialect: its wire shapes over lethe's services.

mod deletion;
mod render;
mod render_json;
mod search;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every LivePerson route.
pub fn router() -> OpenApiRouter<AppState> {
    search::router().merge(deletion::router())
}
