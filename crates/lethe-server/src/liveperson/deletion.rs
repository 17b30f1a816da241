//! LivePerson's Personal Data Deletion API: create, list, get, cancel, with the
//! vendor's record shape (its examples' spelling where they differ from its table).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Authed, DelRead, DelWrite, IdempotencyKey};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::deletion::{RequestSource, RequestStatus, Target, TargetLimits};
use lethe_domain::time::{parse_date, to_rfc3339, DAY_MS};
use lethe_domain::{Millis, SiteId};
use lethe_service::deletion::{NewDeletion, RequestFilter, RequestView};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of the deletion API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one))
        .routes(routes!(cancel))
}

/// A create body: exactly one of the three id lists.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Describes the body in the OpenAPI document; `Target` parses it.
pub struct LpDeletionIn {
    /// Chat engagement ids (account id + chat id).
    pub engagement: Option<Vec<String>>,
    /// Messaging conversation ids.
    pub conversation: Option<Vec<String>>,
    /// Consumer ids (profile data only, not their conversations).
    pub consumer: Option<Vec<String>>,
}

/// A deletion request record.
#[derive(Debug, Serialize, ToSchema)]
pub struct LpRecord {
    pub request_id: i64,
    pub siteid: String,
    pub request_time: String,
    pub requested_by: String,
    pub cancelled_by: Option<String>,
    /// The request body as a string (keyed hashes once the request has ended).
    pub delete_json: String,
    pub cancel_timestamp: Option<String>,
    pub is_canceled: bool,
    /// `NOT_STARTED`, `IN_PROGRESS`, `CANCELED` or `DONE` (not on create, as the vendor's
    /// example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

/// A listed request.
#[derive(Debug, Serialize, ToSchema)]
pub struct LpListed {
    pub request_id: i64,
    pub siteid: String,
    pub request_time: String,
    pub requested_by: String,
    pub status: &'static str,
}

/// Listing filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LpListQuery {
    /// `NOT_STARTED`, `IN_PROGRESS`, `CANCELED` or `DONE`.
    pub status: Option<String>,
    /// `YYYY-MM-DD` or epoch milliseconds.
    pub from_date: Option<String>,
    /// `YYYY-MM-DD` (inclusive) or epoch milliseconds.
    pub to_date: Option<String>,
}

const STATUS_NAMES: [&str; 4] = ["NOT_STARTED", "IN_PROGRESS", "CANCELED", "DONE"];

/// The vendor's status for a lethe status.
fn lp_status(status: RequestStatus) -> &'static str {
    use RequestStatus::*;
    match status {
        Pending | Approved | Scheduled => "NOT_STARTED",
        Running | Failed => "IN_PROGRESS",
        Canceled | Rejected => "CANCELED",
        Completed | PartiallyCompleted => "DONE",
    }
}

/// The body as LivePerson clients sent it: the id-list targets under the vendor's keys.
fn delete_json(target: &Value) -> String {
    let Some(map) = target.as_object() else {
        return target.to_string();
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "conversation_ids" => out.insert("conversation".into(), value.clone()),
            "engagement_ids" => out.insert("engagement".into(), value.clone()),
            "consumer_ids" => out.insert("consumer".into(), value.clone()),
            "include_conversations" if value == &Value::Bool(false) => None,
            _ => out.insert(key.clone(), value.clone()),
        };
    }
    Value::Object(out).to_string()
}

fn record(v: &RequestView, with_status: bool) -> LpRecord {
    let canceled = matches!(v.status, RequestStatus::Canceled | RequestStatus::Rejected);
    LpRecord {
        request_id: v.id,
        siteid: v.account.clone(),
        request_time: to_rfc3339(v.created_at),
        requested_by: v.requested_by.clone(),
        cancelled_by: v.canceled_by.clone(),
        delete_json: delete_json(&v.target),
        cancel_timestamp: v.canceled_at.map(to_rfc3339),
        is_canceled: canceled,
        status: with_status.then(|| lp_status(v.status)),
    }
}

/// Creates a deletion request.
#[utoipa::path(post, path = "/api/account/{site_id}/personal-data-deletion", tag = "liveperson",
    request_body = LpDeletionIn, params(("site_id" = String, Path)),
    responses((status = 201, body = LpRecord), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    auth: Authed<DelWrite>,
    IdempotencyKey(key): IdempotencyKey,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, Json<LpRecord>)> {
    let limits = TargetLimits {
        max_ids: state.config.max_ids_per_request,
    };
    let new = NewDeletion {
        target: Target::from_liveperson(&body, limits)?,
        source: RequestSource::LivePerson,
        idempotency_key: key,
        route: "liveperson:personal-data-deletion",
    };
    let created = state.lethe.create_deletion(&auth.principal, auth.site(), new).await?;
    Ok((StatusCode::CREATED, Json(record(&created.request, false))))
}

fn day_or_millis(field: &str, value: &str, end_of_day: bool) -> ApiResult<Millis> {
    if let Ok(ms) = value.parse::<i64>() {
        return Ok(ms);
    }
    parse_date(value)
        .map(|day| if end_of_day { day + DAY_MS - 1 } else { day })
        .ok_or_else(|| ApiError::invalid(field, "must be YYYY-MM-DD or epoch milliseconds"))
}

/// Lists the account's requests (from every surface), newest first.
#[utoipa::path(get, path = "/api/account/{site_id}/personal-data-deletion", tag = "liveperson",
    params(("site_id" = String, Path), LpListQuery), responses((status = 200, body = [LpListed])))]
async fn list(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppQuery(query): AppQuery<LpListQuery>,
) -> ApiResult<Json<Vec<LpListed>>> {
    let wanted = match query.status.as_deref() {
        None => None,
        Some(s) if STATUS_NAMES.contains(&s) => Some(s),
        Some(s) => {
            return Err(ApiError::invalid(
                "status",
                format!("`{s}` is not one of {}", STATUS_NAMES.join(", ")),
            ))
        }
    };
    let mut filter = RequestFilter {
        statuses: RequestStatus::ALL
            .iter()
            .copied()
            .filter(|s| wanted.is_none_or(|w| lp_status(*s) == w))
            .collect(),
        created_from: query
            .from_date
            .as_deref()
            .map(|v| day_or_millis("fromDate", v, false))
            .transpose()?,
        created_to: query
            .to_date
            .as_deref()
            .map(|v| day_or_millis("toDate", v, true))
            .transpose()?,
        limit: 500,
        ..RequestFilter::default()
    };
    let mut out = Vec::new();
    loop {
        let page = state.lethe.deletion_requests(auth.site(), &filter).await?;
        let full = page.len() == filter.limit as usize;
        filter.before_id = page.last().map(|r| r.id);
        out.extend(page.into_iter().map(|v| LpListed {
            request_id: v.id,
            siteid: v.account,
            request_time: to_rfc3339(v.created_at),
            requested_by: v.requested_by,
            status: lp_status(v.status),
        }));
        if !full {
            return Ok(Json(out));
        }
    }
}

async fn one(state: &AppState, site: &SiteId, id: i64) -> ApiResult<RequestView> {
    Ok(state.lethe.deletion_request(site, id).await?)
}

/// One request, with its status.
#[utoipa::path(get, path = "/api/account/{site_id}/personal-data-deletion/{request_id}", tag = "liveperson",
    params(("site_id" = String, Path), ("request_id" = i64, Path)),
    responses((status = 200, body = LpRecord), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    auth: Authed<DelRead>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<LpRecord>> {
    Ok(Json(record(&one(&state, auth.site(), path.1).await?, true)))
}

/// Cancels a request before it is final; 409 afterwards. Answers a one-element array,
/// as the vendor does.
#[utoipa::path(post, path = "/api/account/{site_id}/personal-data-deletion/{request_id}/cancel", tag = "liveperson",
    params(("site_id" = String, Path), ("request_id" = i64, Path)),
    responses((status = 200, body = [LpRecord]), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    auth: Authed<DelWrite>,
    AppPath(path): AppPath<(String, i64)>,
) -> ApiResult<Json<Vec<LpRecord>>> {
    let view = state
        .lethe
        .cancel_deletion(&auth.principal, auth.site(), path.1)
        .await?;
    Ok(Json(vec![record(&view, false)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delete_json_uses_the_vendor_keys() {
        assert_eq!(
            delete_json(&json!({"engagement_ids": ["207623244295067780"]})),
            r#"{"engagement":["207623244295067780"]}"#
        );
        assert_eq!(
            delete_json(&json!({"consumer_ids": ["c"], "include_conversations": false})),
            r#"{"consumer":["c"]}"#
        );
    }
}
