//! Bulk NDJSON ingest over HTTP.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Authed, ConvWrite};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lethe_service::import::{ImportReport, Importer};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What an import wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    pub lines: u64,
    pub batches: u64,
    pub consumers: u64,
    pub conversations_created: u64,
    pub conversations_unchanged: u64,
    pub messages: u64,
}

impl From<&ImportReport> for ImportOut {
    fn from(r: &ImportReport) -> Self {
        Self {
            lines: r.lines,
            batches: r.batches,
            consumers: r.consumers,
            conversations_created: r.conversations_created,
            conversations_unchanged: r.conversations_unchanged,
            messages: r.messages,
        }
    }
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}

/// Imports NDJSON records (`{"consumer": …}` or `{"conversation": …}` per line), in
/// batches of one transaction each. On failure the answer names the line and how many
/// records were committed; re-sending the same body is safe (records are idempotent).
#[utoipa::path(post, path = "/v1/accounts/{site_id}/import", tag = "ingest", params(("site_id" = String, Path)),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = ImportOut), (status = 400, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the import is larger than this server accepts; use `lethe import`",
            )
        } else {
            ApiError::invalid("body", e.body_text())
        }
    })?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "is not UTF-8"))?;
    let mut importer = Importer::new(state.lethe.clone(), auth.site().clone(), state.config.import_batch_size).await?;
    for (i, line) in text.lines().enumerate() {
        if let Err(failure) = importer.push(i as u64 + 1, line).await {
            return Err(failure_to_error(failure));
        }
    }
    match importer.finish().await {
        Ok(report) => Ok(Json(ImportOut::from(&report)).into_response()),
        Err(failure) => Err(failure_to_error(failure)),
    }
}

fn failure_to_error(failure: lethe_service::import::ImportFailure) -> ApiError {
    let mut error = ApiError::from(failure.error);
    error.message = format!(
        "line {}: {} ({} records committed before it)",
        failure.line, error.message, failure.committed_lines
    );
    error
}
