//! Native conversation search with keyset paging.

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, Authed, ConvRead};
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::v1::dto::ConversationSummary;
use axum::extract::State;
use lethe_domain::conversation::{AttributeKind, ConversationKind, ConversationStatus};
use lethe_domain::filter::{check_limit, AttributeMatch, ConversationFilter, Page, Sort, TimeRange};
use lethe_domain::ConsumerId;
use lethe_service::search::{decode_cursor, SearchRequest};
use lethe_service::wire::parse_time;
use lethe_store::PartsWanted;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// An inclusive RFC 3339 time range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeIn {
    pub from: String,
    pub to: String,
}

/// An engagement-attribute match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeMatchIn {
    /// `personalInfo`, `customerInfo` or `userUpdate`.
    pub kind: String,
    pub value: String,
}

/// Search criteria; every given field narrows the result.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchIn {
    pub start: Option<RangeIn>,
    pub end: Option<RangeIn>,
    /// `open` and/or `closed`.
    #[serde(default)]
    pub status: Vec<String>,
    /// `messaging` or `chat`.
    pub kind: Option<String>,
    pub consumer_id: Option<String>,
    pub channel_user_id: Option<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeMatchIn>,
    /// `start|end:asc|desc`, default `start:desc`.
    pub sort: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    pub conversations: Vec<ConversationSummary>,
    /// Present when more matches follow; pass it as `cursor`.
    pub next_cursor: Option<String>,
}

fn range(field: &str, r: &Option<RangeIn>) -> ApiResult<Option<TimeRange>> {
    let Some(r) = r else { return Ok(None) };
    let from = parse_time(&format!("{field}.from"), &r.from)?;
    let to = parse_time(&format!("{field}.to"), &r.to)?;
    Ok(Some(TimeRange::new(field, from, to)?))
}

fn parse_one<T>(field: &str, value: &str, parse: fn(&str) -> Option<T>) -> ApiResult<T> {
    parse(value).ok_or_else(|| ApiError::invalid(field, format!("`{value}` is not a valid value")))
}

impl SearchIn {
    fn to_request(&self) -> ApiResult<SearchRequest> {
        let filter = ConversationFilter {
            start: range("start", &self.start)?,
            end: range("end", &self.end)?,
            statuses: self
                .status
                .iter()
                .map(|s| parse_one("status", s, ConversationStatus::parse))
                .collect::<ApiResult<_>>()?,
            kind: self
                .kind
                .as_deref()
                .map(|k| parse_one("kind", k, ConversationKind::parse))
                .transpose()?,
            consumer_id: self.consumer_id.clone().map(ConsumerId::parse).transpose()?,
            channel_user_id: self.channel_user_id.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|a| {
                    Ok(AttributeMatch {
                        kind: parse_one("attributes.kind", &a.kind, AttributeKind::parse)?,
                        value: a.value.clone(),
                    })
                })
                .collect::<ApiResult<_>>()?,
        };
        let sort = self.sort.as_deref().map(Sort::parse).transpose()?.unwrap_or_default();
        let limit = check_limit(self.limit.unwrap_or(DEFAULT_LIMIT), MAX_LIMIT)?;
        let after = self.cursor.as_deref().map(|c| decode_cursor(sort, c)).transpose()?;
        Ok(SearchRequest {
            filter,
            sort,
            page: Page::Keyset { after, limit },
            parts: PartsWanted::default(),
        })
    }
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// Finds conversations by time ranges, status, kind, consumer, channel user or
/// engagement-attribute value. Personal values are matched through keyed hashes.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations/search", tag = "search", request_body = SearchIn,
    params(("site_id" = String, Path)), responses((status = 200, body = SearchOut), (status = 400, body = crate::error::ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    AppJson(body): AppJson<SearchIn>,
) -> ApiResult<JsonBody<SearchOut>> {
    let request = body.to_request()?;
    let result = state.lethe.search(auth.site(), &request).await?;
    Ok(JsonBody(SearchOut {
        conversations: result
            .conversations
            .iter()
            .map(|c| ConversationSummary::from(&c.record))
            .collect(),
        next_cursor: result.next_cursor,
    }))
}
