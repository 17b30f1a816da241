//! The native API.

pub mod admin;
pub mod apps;
pub mod consumers;
pub mod conversations;
pub mod dto;
pub mod import;
pub mod requests;
pub mod requests_dto;
pub mod search;
pub mod settings;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

/// Every `/v1` route; uploads and imports take bodies up to `upload_limit` bytes.
pub fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    let large_bodies = conversations::upload_router()
        .merge(import::router())
        .layer(DefaultBodyLimit::max(upload_limit));
    OpenApiRouter::new()
        .merge(admin::router())
        .merge(apps::router())
        .merge(consumers::router())
        .merge(conversations::router())
        .merge(search::router())
        .merge(requests::router())
        .merge(settings::router())
        .merge(large_bodies)
}
