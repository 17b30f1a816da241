//! `conversations/search` and `conversations/consumer/search`: seed 000's filter with
//! offset paging, 10-minute rounding and the 92-day limit.

use super::render::{record, Record, Sections, SECTIONS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Authed, ConvRead};
use crate::json_write::WrittenJson;
use crate::state::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use lethe_domain::conversation::{AttributeKind, ConversationStatus};
use lethe_domain::deletion::parse_seed_status;
use lethe_domain::filter::{
    check_limit, check_offset, AttributeMatch, ConversationFilter, Page, Sort, TimeRange, MAX_FILTER_RANGE_MS,
};
use lethe_domain::{ConsumerId, SiteId};
use lethe_service::search::SearchRequest;
use lethe_store::PartsWanted;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// Paging query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PagingQuery {
    /// Records to skip (default 0).
    pub offset: Option<u64>,
    /// Records per page (default 50, at most 100).
    pub limit: Option<u32>,
    /// `start|end:asc|desc` (default `start:desc`).
    pub sort: Option<String>,
    /// API version, accepted for compatibility.
    pub v: Option<String>,
    /// Calling application, accepted for compatibility.
    pub source: Option<String>,
}

/// An inclusive range in epoch milliseconds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MillisRange {
    pub from: i64,
    pub to: i64,
}

/// Engagement-attribute values to match exactly, by attribute family.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SdeSearch {
    pub personal_info: Option<String>,
    pub customer_info: Option<String>,
    pub user_update: Option<String>,
}

/// The conversation filter of `conversations/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchBody {
    pub start: MillisRange,
    pub end: Option<MillisRange>,
    /// `OPEN` and/or `CLOSE`.
    pub status: Option<Vec<String>>,
    pub sde_search: Option<SdeSearch>,
    /// Which record sections to return (default: all lethe holds).
    pub content_to_retrieve: Option<Vec<String>>,
}

/// The body of `conversations/consumer/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumerSearchBody {
    pub consumer: String,
    pub status: Option<Vec<String>>,
    pub content_to_retrieve: Option<Vec<String>>,
}

const SEARCH_FIELDS: [&str; 5] = ["start", "end", "status", "sdeSearch", "contentToRetrieve"];
const CONSUMER_FIELDS: [&str; 3] = ["consumer", "status", "contentToRetrieve"];

/// Parses a body, first naming any field lethe does not implement: a client deleting
/// what search returns must never get more than it asked for.
fn parse_body<T: serde::de::DeserializeOwned>(body: Value, known: &[&str]) -> ApiResult<T> {
    let Value::Object(map) = &body else {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    };
    if let Some(field) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            field.clone(),
            "this filter field is not implemented by lethe",
        ));
    }
    serde_json::from_value(body).map_err(|e| ApiError::invalid("body", e.to_string()))
}

fn rounded_range(field: &str, r: &MillisRange) -> ApiResult<TimeRange> {
    Ok(TimeRange::new(field, r.from, r.to)?
        .rounded_to_ten_minutes()
        .check_max_span(field, MAX_FILTER_RANGE_MS)?)
}

fn statuses(list: &Option<Vec<String>>) -> ApiResult<Vec<ConversationStatus>> {
    Ok(list
        .iter()
        .flatten()
        .map(|s| parse_seed_status(s))
        .collect::<Result<_, _>>()?)
}

fn sections(list: &Option<Vec<String>>) -> ApiResult<Sections> {
    let Some(list) = list else { return Ok(Sections::all()) };
    let mut sections = Sections::default();
    for name in list {
        if !sections.enable(name) {
            let known = SECTIONS.join(", ");
            return Err(ApiError::invalid(
                "contentToRetrieve",
                format!("`{name}` is not a section lethe holds ({known})"),
            ));
        }
    }
    Ok(sections)
}

fn parts_for(sections: Sections) -> PartsWanted {
    PartsWanted {
        messages: sections.messages || sections.participants,
        surveys: sections.surveys,
        files: false,
    }
}

/// A paging link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub rel: &'static str,
    pub href: String,
}

/// The total and the paging links; `next` and `prev` only when such a page exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct Metadata {
    pub count: u64,
    #[serde(rename = "self")]
    pub self_link: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<Link>,
}

/// A page of conversation history records.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    #[serde(rename = "_metadata")]
    pub metadata: Metadata,
    #[serde(rename = "conversationHistoryRecords")]
    pub records: Vec<Record>,
}

fn page(query: &PagingQuery) -> ApiResult<(Sort, Page)> {
    let sort = query.sort.as_deref().map(Sort::parse).transpose()?.unwrap_or_default();
    let limit = check_limit(query.limit.unwrap_or(DEFAULT_LIMIT), MAX_LIMIT)?;
    Ok((
        sort,
        Page::Offset {
            offset: check_offset(query.offset.unwrap_or(0))?,
            limit,
        },
    ))
}

fn link(
    headers: &HeaderMap,
    path: &str,
    query: &PagingQuery,
    sort: Sort,
    rel: &'static str,
    offset: u64,
    limit: u32,
) -> Link {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    let mut href = format!(
        "{scheme}://{host}{path}?offset={offset}&limit={limit}&sort={}",
        sort.as_string()
    );
    for (name, value) in [("v", &query.v), ("source", &query.source)] {
        if let Some(value) = value {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            href.push_str(&format!("&{name}={encoded}"));
        }
    }
    Link { rel, href }
}

struct Answer<'a> {
    site: &'a SiteId,
    headers: &'a HeaderMap,
    path: &'a str,
    query: &'a PagingQuery,
}

async fn run(
    state: &AppState,
    answer: Answer<'_>,
    filter: ConversationFilter,
    wanted: Sections,
) -> ApiResult<WrittenJson<SearchResponse>> {
    let (sort, page) = page(answer.query)?;
    let Page::Offset { offset, limit } = page else {
        unreachable!("LivePerson pages by offset")
    };
    let request = SearchRequest {
        filter,
        sort,
        page,
        parts: parts_for(wanted),
    };
    let result = state.lethe.search(answer.site, &request).await?;
    let count = result.total.unwrap_or_default();
    let link = |rel, offset| link(answer.headers, answer.path, answer.query, sort, rel, offset, limit);
    let step = u64::from(limit);
    let metadata = Metadata {
        count,
        self_link: link("self", offset),
        next: (offset.saturating_add(step) < count).then(|| link("next", offset + step)),
        prev: (offset > 0).then(|| link("prev", offset.saturating_sub(step))),
    };
    let records = result
        .conversations
        .into_iter()
        .map(|c| record(answer.site.as_str(), c, wanted))
        .collect();
    Ok(WrittenJson(SearchResponse { metadata, records }))
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(consumer_search))
}

/// LivePerson messaging-history search (seed 000 filter).
#[utoipa::path(post, path = "/messaging_history/api/account/{site_id}/conversations/search", tag = "liveperson",
    params(("site_id" = String, Path), PagingQuery), request_body = SearchBody,
    responses((status = 200, body = SearchResponse), (status = 400, body = crate::error::ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    AppQuery(query): AppQuery<PagingQuery>,
    AppJson(body): AppJson<Value>,
) -> ApiResult<WrittenJson<SearchResponse>> {
    let body: SearchBody = parse_body(body, &SEARCH_FIELDS)?;
    let mut attributes = Vec::new();
    if let Some(sde) = &body.sde_search {
        for (kind, value) in [
            (AttributeKind::PersonalInfo, &sde.personal_info),
            (AttributeKind::CustomerInfo, &sde.customer_info),
            (AttributeKind::UserUpdate, &sde.user_update),
        ] {
            if let Some(value) = value {
                attributes.push(AttributeMatch {
                    kind,
                    value: value.clone(),
                });
            }
        }
    }
    let filter = ConversationFilter {
        start: Some(rounded_range("start", &body.start)?),
        end: body.end.as_ref().map(|r| rounded_range("end", r)).transpose()?,
        statuses: statuses(&body.status)?,
        attributes,
        ..ConversationFilter::default()
    };
    let wanted = sections(&body.content_to_retrieve)?;
    let answer = Answer {
        site: auth.site(),
        headers: &headers,
        path: uri.path(),
        query: &query,
    };
    run(&state, answer, filter, wanted).await
}

/// LivePerson search for one consumer's conversations.
#[utoipa::path(post, path = "/messaging_history/api/account/{site_id}/conversations/consumer/search", tag = "liveperson",
    params(("site_id" = String, Path), PagingQuery), request_body = ConsumerSearchBody,
    responses((status = 200, body = SearchResponse), (status = 400, body = crate::error::ErrorBody)))]
async fn consumer_search(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    AppQuery(query): AppQuery<PagingQuery>,
    AppJson(body): AppJson<Value>,
) -> ApiResult<WrittenJson<SearchResponse>> {
    let body: ConsumerSearchBody = parse_body(body, &CONSUMER_FIELDS)?;
    let filter = ConversationFilter {
        consumer_id: Some(ConsumerId::parse(body.consumer)?),
        statuses: statuses(&body.status)?,
        ..ConversationFilter::default()
    };
    let wanted = sections(&body.content_to_retrieve)?;
    let answer = Answer {
        site: auth.site(),
        headers: &headers,
        path: uri.path(),
        query: &query,
    };
    run(&state, answer, filter, wanted).await
}
