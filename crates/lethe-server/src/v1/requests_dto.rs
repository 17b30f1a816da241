//! Wire types of deletion requests on `/v1`.

use crate::error::{ApiError, ApiResult};
use lethe_domain::time::{parse_date, parse_rfc3339, to_rfc3339, DAY_MS};
use lethe_domain::Millis;
use lethe_service::deletion::{Counts, Preview, RequestView, TimelineEntry};
use lethe_store::RequestItem;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A channel user, with an optional inclusive range of UTC days.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelUserIn {
    pub cid: String,
    /// `YYYY-MM-DD`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Only this bot's conversations.
    pub bot_id: Option<String>,
}

/// Conversations (of either kind) that must belong to one bot.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BotConversationsIn {
    pub bot_id: String,
    pub ids: Vec<String>,
}

/// A deletion request: exactly one of the target fields. `filter` is the LivePerson
/// conversation filter (`start {from,to}` epoch ms required, `end`, `status`,
/// `sdeSearch`), rounded to 10 minutes, at most 92 days per range.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeletionRequestIn {
    pub conversation_ids: Option<Vec<String>>,
    pub engagement_ids: Option<Vec<String>>,
    pub consumer_ids: Option<Vec<String>>,
    /// With `consumer_ids`: also erase the consumers' conversations (default false).
    pub include_conversations: Option<bool>,
    pub channel_user: Option<ChannelUserIn>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    pub bot_conversations: Option<BotConversationsIn>,
}

/// One step of a request's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    pub at: String,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    /// `key:<id>`, `cli` or `system`.
    pub actor: String,
}

/// One item a final request covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub kind: String,
    pub id: String,
    /// `not_found` or `open` (reported, skipped when the job runs).
    pub problem: Option<String>,
    /// Set when the job has handled the item.
    pub outcome: Option<String>,
}

/// A deletion request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    /// Numeric id (LivePerson's `request_id`).
    pub id: i64,
    /// `cdj-<uuid>` (Kore.ai's `jobId`).
    pub job_id: String,
    /// Surface it came from: `v1`, `liveperson`, `koreai`, `intercom` or `cli`.
    pub source: String,
    pub status: String,
    pub target_kind: String,
    /// The target as created, or (once the request has ended) its keyed-hash form.
    #[schema(value_type = Object)]
    pub target: Value,
    pub target_hashed: bool,
    pub requested_by: String,
    pub approval_mode: String,
    pub created_at: String,
    pub grace_ends_at: String,
    /// Request time + 30 days.
    pub due_at: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<String>,
    pub final_at: Option<String>,
    pub canceled_at: Option<String>,
    pub canceled_by: Option<String>,
    pub rejection_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemOut>>,
    /// The execution record, once the request is final.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobOut>,
}

/// What a job has erased so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedOut {
    pub conversations: i64,
    pub messages: i64,
    pub files: i64,
    pub bytes_freed: i64,
    pub survey_answers: i64,
    pub consumers: i64,
    pub metrics: i64,
}

/// A request's job: progress, counters, attempts and when it runs next.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    /// `cdj-<uuid>`.
    pub job_id: String,
    /// The request this job executes.
    pub request_id: i64,
    /// `erasing`, `verifying`, `done` or `failed`.
    pub phase: String,
    /// `delete` or `mask`: the account's mode when the request became final.
    pub erasure_mode: String,
    pub items_done: i64,
    pub items_total: i64,
    pub batches: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When the runner looks at it next (window opening, retry, re-check).
    pub next_run_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub erased: ErasedOut,
}

impl From<lethe_store::JobRecord> for JobOut {
    fn from(j: lethe_store::JobRecord) -> Self {
        let open = !matches!(j.phase.as_str(), "done" | "failed");
        Self {
            job_id: j.job_id,
            request_id: j.request_id,
            phase: j.phase,
            erasure_mode: j.erasure_mode,
            items_done: j.cursor,
            items_total: j.total_items,
            batches: j.batches,
            attempts: j.attempts,
            last_error: j.last_error,
            next_run_at: open.then(|| to_rfc3339(j.run_at)),
            started_at: time(j.started_at),
            finished_at: time(j.finished_at),
            erased: ErasedOut {
                conversations: j.erased_conversations,
                messages: j.erased_messages,
                files: j.erased_files,
                bytes_freed: j.erased_bytes,
                survey_answers: j.erased_survey_answers,
                consumers: j.erased_consumers,
                metrics: j.erased_metrics,
            },
        }
    }
}

fn time(ms: Option<Millis>) -> Option<String> {
    ms.map(to_rfc3339)
}

impl From<RequestView> for RequestOut {
    fn from(v: RequestView) -> Self {
        Self {
            id: v.id,
            job_id: v.job_id,
            source: v.source.as_str().into(),
            status: v.status.as_str().into(),
            target_kind: v.target_kind.as_str().into(),
            target: v.target,
            target_hashed: v.target_hashed,
            requested_by: v.requested_by,
            approval_mode: v.approval_mode.as_str().into(),
            created_at: to_rfc3339(v.created_at),
            grace_ends_at: to_rfc3339(v.grace_ends_at),
            due_at: to_rfc3339(v.due_at),
            approved_at: time(v.approved_at),
            approved_by: v.approved_by,
            final_at: time(v.final_at),
            canceled_at: time(v.canceled_at),
            canceled_by: v.canceled_by,
            rejection_reason: v.rejection_reason,
            timeline: None,
            items: None,
            job: None,
        }
    }
}

impl RequestOut {
    /// Adds the timeline and the frozen items.
    pub fn with_history(mut self, timeline: Vec<TimelineEntry>, items: Vec<RequestItem>) -> Self {
        self.timeline = Some(
            timeline
                .into_iter()
                .map(|t| TimelineOut {
                    at: to_rfc3339(t.at),
                    event: t.event,
                    from_status: t.from_status,
                    to_status: t.to_status,
                    actor: t.actor,
                })
                .collect(),
        );
        self.items = Some(
            items
                .into_iter()
                .map(|i| ItemOut {
                    kind: i.item_kind,
                    id: i.item_id,
                    problem: i.problem,
                    outcome: i.outcome,
                })
                .collect(),
        );
        self
    }
}

/// A created request; `replayed` when an earlier create with the same
/// `Idempotency-Key` answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOut {
    #[serde(flatten)]
    pub request: RequestOut,
    pub replayed: bool,
}

/// Listing filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// Created at or after (RFC 3339 or `YYYY-MM-DD`).
    pub from: Option<String>,
    /// Created at or before (RFC 3339 or `YYYY-MM-DD`, inclusive of that day).
    pub to: Option<String>,
    /// `v1`, `liveperson`, `koreai`, `intercom` or `cli`.
    pub source: Option<String>,
    /// Only requests with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

/// Parses RFC 3339 or a UTC date; an end date covers its whole day.
pub fn parse_when(field: &str, value: &str, end_of_day: bool) -> ApiResult<Millis> {
    if let Some(ms) = parse_rfc3339(value) {
        return Ok(ms);
    }
    match parse_date(value) {
        Some(day) if end_of_day => Ok(day + DAY_MS - 1),
        Some(day) => Ok(day),
        None => Err(ApiError::invalid(field, "must be RFC 3339 or YYYY-MM-DD")),
    }
}

/// Counts per category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsOut {
    pub conversations: i64,
    pub engagements: i64,
    pub messages: i64,
    pub files: i64,
    pub file_bytes: i64,
    pub survey_answers: i64,
    pub consumers: i64,
    pub metrics: i64,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        Self {
            conversations: c.conversations,
            engagements: c.engagements,
            messages: c.messages,
            files: c.files,
            file_bytes: c.file_bytes,
            survey_answers: c.survey_answers,
            consumers: c.consumers,
            metrics: c.metrics,
        }
    }
}

/// One resolved item.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewItemOut {
    pub kind: String,
    pub id: String,
    /// `not_found` or `open`; null when the item will be erased.
    pub problem: Option<String>,
}

/// What a target covers now: counts of what would be erased, and every item.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    pub counts: CountsOut,
    pub items: Vec<PreviewItemOut>,
}

impl From<Preview> for PreviewOut {
    fn from(p: Preview) -> Self {
        Self {
            counts: p.counts.into(),
            items: p
                .items
                .into_iter()
                .map(|i| PreviewItemOut {
                    kind: i.kind.into(),
                    id: i.id,
                    problem: i.problem.map(str::to_owned),
                })
                .collect(),
        }
    }
}

/// Rejecting a request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    /// Why; shown on the request. Name no data subject here.
    pub reason: String,
}
