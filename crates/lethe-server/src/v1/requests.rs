//! Deletion requests on the native API: create, list, get, preview, cancel, approve,
//! reject, run now, and the jobs that execute them.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Authed, DelApprove, DelRead, DelWrite, IdempotencyKey};
use crate::state::AppState;
use crate::v1::requests_dto::{
    parse_when, CreatedOut, DeletionRequestIn, JobOut, ListQuery, PreviewOut, RejectIn, RequestOut,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::deletion::{RequestSource, RequestStatus, Target, TargetLimits};
use lethe_service::deletion::{NewDeletion, RequestFilter};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(preview_body))
        .routes(routes!(get_request))
        .routes(routes!(preview_request))
        .routes(routes!(cancel_request))
        .routes(routes!(approve_request))
        .routes(routes!(reject_request))
        .routes(routes!(run_now))
        .routes(routes!(list_jobs))
}

fn limits(state: &AppState) -> TargetLimits {
    TargetLimits {
        max_ids: state.config.max_ids_per_request,
    }
}

/// Creates a deletion request with exactly one target. A repeated `Idempotency-Key`
/// (24 hours, per account) with the same body returns the same request.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests", tag = "deletion",
    request_body = DeletionRequestIn,
    params(("site_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CreatedOut), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_request(
    State(state): State<AppState>,
    auth: Authed<DelWrite>,
    IdempotencyKey(key): IdempotencyKey,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, [(&'static str, &'static str); 1], Json<CreatedOut>)> {
    let target = Target::from_native(&body, limits(&state))?;
    let new = NewDeletion {
        target,
        source: RequestSource::V1,
        idempotency_key: key,
        route: "v1:deletion-requests",
    };
    let created = state.lethe.create_deletion(&auth.principal, auth.site(), new).await?;
    let replayed = if created.replayed { "true" } else { "false" };
    Ok((
        StatusCode::CREATED,
        [("idempotent-replayed", replayed)],
        Json(CreatedOut {
            request: RequestOut::from(created.request),
            replayed: created.replayed,
        }),
    ))
}

/// Lists requests from every surface, newest first.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/deletion-requests", tag = "deletion",
    params(("site_id" = String, Path), ListQuery), responses((status = 200, body = [RequestOut])))]
async fn list_requests(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<Vec<RequestOut>>> {
    let statuses = match &query.status {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                RequestStatus::parse(s.trim())
                    .ok_or_else(|| ApiError::invalid("status", format!("unknown status `{s}`")))
            })
            .collect::<ApiResult<_>>()?,
    };
    let source = match &query.source {
        None => None,
        Some(s) => {
            Some(RequestSource::parse(s).ok_or_else(|| ApiError::invalid("source", format!("unknown source `{s}`")))?)
        }
    };
    let filter = RequestFilter {
        statuses,
        created_from: query
            .from
            .as_deref()
            .map(|v| parse_when("from", v, false))
            .transpose()?,
        created_to: query.to.as_deref().map(|v| parse_when("to", v, true)).transpose()?,
        source,
        before_id: query.before,
        limit: lethe_domain::filter::check_limit(query.limit.unwrap_or(50), 500)?,
    };
    let list = state.lethe.deletion_requests(auth.site(), &filter).await?;
    Ok(Json(list.into_iter().map(RequestOut::from).collect()))
}

/// Resolves a target without creating a request.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests/preview", tag = "deletion",
    request_body = DeletionRequestIn, params(("site_id" = String, Path)),
    responses((status = 200, body = PreviewOut), (status = 400, body = ErrorBody)))]
async fn preview_body(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppJson(body): AppJson<Value>,
) -> ApiResult<Json<PreviewOut>> {
    let target = Target::from_native(&body, limits(&state))?;
    let preview = state.lethe.preview_target(auth.site(), &target).await?;
    Ok(Json(preview.into()))
}

/// One request with its timeline and, once final, its items.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/deletion-requests/{id}", tag = "deletion",
    params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RequestOut), (status = 404, body = ErrorBody)))]
async fn get_request(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<RequestOut>> {
    let id = path.1;
    let view = state.lethe.deletion_request(auth.site(), id).await?;
    let timeline = state.lethe.request_timeline(auth.site(), id).await?;
    let items = state.lethe.deletion_request_items(auth.site(), id).await?;
    let mut out = RequestOut::from(view).with_history(timeline, items);
    out.job = state.lethe.deletion_job(auth.site(), id).await?.map(Into::into);
    Ok(Json(out))
}

/// What the request covers: resolved now while pending, frozen once final.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/deletion-requests/{id}/preview", tag = "deletion",
    params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = PreviewOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn preview_request(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<PreviewOut>> {
    Ok(Json(state.lethe.preview_request(auth.site(), path.1).await?.into()))
}

/// Cancels a request inside its cancel window; 409 with the status once it is final.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests/{id}/cancel", tag = "deletion",
    params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RequestOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_request(
    State(state): State<AppState>,
    auth: Authed<DelWrite>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<RequestOut>> {
    let id = path.1;
    let view = state.lethe.cancel_deletion(&auth.principal, auth.site(), id).await?;
    Ok(Json(view.into()))
}

/// Approves a request (operator key with `deletion:approve`; approval mode `manual`).
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests/{id}/approve", tag = "deletion",
    params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve_request(
    State(state): State<AppState>,
    auth: Authed<DelApprove>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<RequestOut>> {
    let id = path.1;
    let view = state.lethe.approve_deletion(&auth.principal, auth.site(), id).await?;
    Ok(Json(view.into()))
}

/// Rejects a pending request with a reason (operator key with `deletion:approve`).
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests/{id}/reject", tag = "deletion",
    request_body = RejectIn, params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reject_request(
    State(state): State<AppState>,
    auth: Authed<DelApprove>,
    AppPath(path): AppPath<(String, i64)>,
    AppJson(body): AppJson<RejectIn>,
) -> ApiResult<Json<RequestOut>> {
    let view = state
        .lethe
        .reject_deletion(&auth.principal, auth.site(), path.1, &body.reason)
        .await?;
    Ok(Json(view.into()))
}

/// Makes the request's job due now, outside retry delays (operator key with
/// `deletion:approve`); a failed job starts over its attempts where it stopped.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/deletion-requests/{id}/run-now", tag = "deletion",
    params(("site_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn run_now(
    State(state): State<AppState>,
    auth: Authed<DelApprove>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<RequestOut>> {
    let view = state.lethe.run_job_now(&auth.principal, auth.site(), path.1).await?;
    Ok(Json(view.into()))
}

/// Which jobs to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Comma-separated phases: `erasing`, `verifying`, `done`, `failed`.
    pub phase: Option<String>,
}

/// The account's jobs, newest first (at most 500).
#[utoipa::path(get, path = "/v1/accounts/{site_id}/jobs", tag = "deletion",
    params(("site_id" = String, Path), JobsQuery), responses((status = 200, body = [JobOut])))]
async fn list_jobs(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppQuery(query): AppQuery<JobsQuery>,
) -> ApiResult<Json<Vec<JobOut>>> {
    const PHASES: [&str; 4] = ["erasing", "verifying", "done", "failed"];
    let phases: Vec<String> = query
        .phase
        .iter()
        .flat_map(|p| p.split(','))
        .map(|p| {
            let p = p.trim();
            PHASES
                .contains(&p)
                .then(|| p.to_owned())
                .ok_or_else(|| ApiError::invalid("phase", format!("`{p}` is not one of {}", PHASES.join(", "))))
        })
        .collect::<ApiResult<_>>()?;
    let jobs = state.lethe.deletion_jobs(auth.site(), &phases).await?;
    Ok(Json(jobs.into_iter().map(JobOut::from).collect()))
}
