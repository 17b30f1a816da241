//! `POST /api/public/bot/{botId}/conversations/delete` and its status route.

use super::auth::KoreAuthed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, DelRead, DelWrite};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::deletion::{KoreAiDelete, RequestStatus, TargetLimits};
use lethe_domain::time::to_rfc3339;
use lethe_domain::BotId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of deletion jobs.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_job))
        .routes(routes!(job_status))
}

/// A delete body: `conversationIds`, or `cId` with optional inclusive `startDate` and
/// `endDate` (`YYYY-MM-DD`, UTC; `endDate` not in the future).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Describes the body in the OpenAPI document; `KoreAiDelete` parses it.
#[schema(rename_all = "camelCase")]
pub struct KoreDeleteIn {
    conversation_ids: Option<Vec<String>>,
    #[schema(rename = "cId")]
    c_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

/// The answer to a queued job.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedOut {
    pub status: &'static str,
    /// `cdj-<uuid>`, also the request's `job_id` on `/v1`.
    pub job_id: String,
    pub message: String,
    pub submitted_at: String,
}

/// A job's status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOut {
    pub job_id: String,
    /// `queued`, `in_progress`, `completed`, `failed` or `canceled`.
    pub status: &'static str,
    pub submitted_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub deleted_count: i64,
    pub failed_count: i64,
}

/// Kore.ai's status for a lethe status.
fn kore_status(status: RequestStatus) -> &'static str {
    use RequestStatus::*;
    match status {
        Pending | Approved | Scheduled => "queued",
        Running => "in_progress",
        Completed | PartiallyCompleted => "completed",
        Failed => "failed",
        Canceled | Rejected => "canceled",
    }
}

/// Path of the status route.
#[derive(Debug, Deserialize)]
struct StatusPath {
    #[serde(rename = "botId")]
    bot_id: String,
    #[serde(rename = "jobId")]
    job_id: String,
}

/// Queues a deletion job for the bot's conversations (by id or by channel user). It
/// obeys the account's grace period and approval mode like every request.
#[utoipa::path(post, path = "/api/public/bot/{botId}/conversations/delete", tag = "koreai",
    request_body = KoreDeleteIn, params(("botId" = String, Path), ("auth" = Option<String>, Header)),
    responses((status = 202, body = QueuedOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_job(
    State(state): State<AppState>,
    auth: KoreAuthed<DelWrite>,
    AppPath(bot): AppPath<String>,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, Json<QueuedOut>)> {
    let bot = BotId::parse(bot)?;
    let limits = TargetLimits {
        max_ids: state.config.max_ids_per_request,
    };
    let body = KoreAiDelete::parse(&body, limits, state.lethe.today())?;
    let created = state
        .lethe
        .koreai_delete(&auth.principal, &auth.site, &bot, body)
        .await?;
    let request = created.request;
    Ok((
        StatusCode::ACCEPTED,
        Json(QueuedOut {
            status: "queued",
            message: format!(
                "Deletion job queued as request {}; it runs after the grace period ends ({}), in the account's execution window.",
                request.id,
                to_rfc3339(request.grace_ends_at)
            ),
            job_id: request.job_id,
            submitted_at: to_rfc3339(request.created_at),
        }),
    ))
}

/// The status of one of the bot's deletion jobs.
#[utoipa::path(get, path = "/api/public/bot/{botId}/conversations/delete/status/{jobId}", tag = "koreai",
    params(("botId" = String, Path), ("jobId" = String, Path), ("auth" = Option<String>, Header)),
    responses((status = 200, body = StatusOut), (status = 404, body = ErrorBody)))]
async fn job_status(
    State(state): State<AppState>,
    auth: KoreAuthed<DelRead>,
    AppPath(path): AppPath<StatusPath>,
) -> ApiResult<Json<StatusOut>> {
    let bot = BotId::parse(path.bot_id)?;
    let job = state
        .lethe
        .koreai_job(&auth.principal, &auth.site, &bot, &path.job_id)
        .await?;
    Ok(Json(StatusOut {
        job_id: job.request.job_id,
        status: kore_status(job.request.status),
        submitted_at: to_rfc3339(job.request.created_at),
        started_at: job.started_at.map(to_rfc3339),
        completed_at: job.completed_at.map(to_rfc3339),
        deleted_count: job.deleted,
        failed_count: job.failed,
    }))
}
