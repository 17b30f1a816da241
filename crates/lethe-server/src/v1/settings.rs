//! Per-account settings and the change log.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Admin, AppJson, Authed, DelRead};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use lethe_domain::settings::{AccountSettings, SettingsPatch};
use lethe_domain::time::to_rfc3339;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, patch_settings))
        .routes(routes!(change_log))
        .routes(routes!(verify_change_log))
        .routes(routes!(notifications))
        .routes(routes!(webhook_secret))
}

/// One notification and its delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub event_id: String,
    /// `email` or `webhook`.
    pub channel: String,
    pub target: String,
    pub request_id: Option<i64>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: String,
    pub attempts: i64,
    pub delivered_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// The account's notification delivery log, newest first.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/notifications", tag = "settings",
    params(("site_id" = String, Path)), responses((status = 200, body = [NotificationOut])))]
async fn notifications(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<Vec<NotificationOut>>> {
    let log = state.lethe.notification_log(auth.site()).await?;
    Ok(Json(
        log.into_iter()
            .map(|n| NotificationOut {
                event_id: n.event_id,
                channel: n.channel,
                target: n.target,
                request_id: n.request_id,
                payload: serde_json::from_str(&n.payload).unwrap_or(Value::Null),
                created_at: to_rfc3339(n.created_at),
                attempts: n.attempts,
                delivered_at: n.delivered_at.map(to_rfc3339),
                next_attempt_at: n.delivered_at.is_none().then(|| to_rfc3339(n.next_attempt_at)),
                last_error: n.last_error,
            })
            .collect(),
    ))
}

/// The secret webhooks are signed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretOut {
    /// `Lethe-Signature: v1=<hex HMAC-SHA256(secret, "<Lethe-Timestamp>.<body>")>`.
    pub secret: String,
}

/// The secret this account's webhooks are signed with.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/webhook-secret", tag = "settings",
    params(("site_id" = String, Path)), responses((status = 200, body = WebhookSecretOut)))]
async fn webhook_secret(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<WebhookSecretOut>> {
    state.lethe.account_settings(auth.site()).await?;
    Ok(Json(WebhookSecretOut {
        secret: state.lethe.webhook_secret(auth.site()),
    }))
}

/// An account's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    pub grace_period_seconds: u64,
    /// Operator-only.
    pub min_grace_period_seconds: u64,
    /// `auto` or `manual`; only an operator may switch to `auto`.
    pub approval_mode: String,
    /// Operator-only.
    pub monthly_quota: u32,
    /// `always` or `HH:MM-HH:MM Area/City`.
    pub execution_window: String,
    /// `delete` or `mask`.
    pub erasure_mode: String,
    pub mask_marker: String,
    pub retain_metrics: bool,
    pub notification_email: Option<String>,
    /// Private or loopback targets are operator-only.
    pub webhook_url: Option<String>,
}

impl From<AccountSettings> for SettingsOut {
    fn from(s: AccountSettings) -> Self {
        Self {
            grace_period_seconds: s.grace_period_seconds,
            min_grace_period_seconds: s.min_grace_period_seconds,
            approval_mode: s.approval_mode.as_str().into(),
            monthly_quota: s.monthly_quota,
            execution_window: s.execution_window,
            erasure_mode: s.erasure_mode.as_str().into(),
            mask_marker: s.mask_marker,
            retain_metrics: s.retain_metrics,
            notification_email: s.notification_email,
            webhook_url: s.webhook_url,
        }
    }
}

/// The account's settings (defaults where never set).
#[utoipa::path(get, path = "/v1/accounts/{site_id}/settings", tag = "settings",
    params(("site_id" = String, Path)), responses((status = 200, body = SettingsOut)))]
async fn get_settings(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(state.lethe.account_settings(auth.site()).await?.into()))
}

/// Changes some settings; fields left out keep their value, `null` clears the e-mail
/// or webhook.
#[utoipa::path(patch, path = "/v1/accounts/{site_id}/settings", tag = "settings",
    params(("site_id" = String, Path)), request_body = Object,
    responses((status = 200, body = SettingsOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn patch_settings(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(patch): AppJson<SettingsPatch>,
) -> ApiResult<Json<SettingsOut>> {
    let next = state.lethe.update_settings(&auth.principal, auth.site(), patch).await?;
    Ok(Json(next.into()))
}

/// One change-log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub seq: i64,
    pub at: String,
    pub request_id: Option<i64>,
    pub actor: String,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Value,
    /// Hex SHA-256 of the previous entry's hash and this entry.
    pub prev_hash: String,
    pub hash: String,
}

/// The account's change log, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/change-log", tag = "deletion",
    params(("site_id" = String, Path)), responses((status = 200, body = [ChangeOut])))]
async fn change_log(State(state): State<AppState>, auth: Authed<DelRead>) -> ApiResult<Json<Vec<ChangeOut>>> {
    let entries = state.lethe.change_log(auth.site()).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| ChangeOut {
                seq: e.entry.seq,
                at: to_rfc3339(e.entry.at),
                request_id: e.entry.request_id,
                actor: e.entry.actor,
                event: e.entry.event,
                from_status: e.entry.from_status,
                to_status: e.entry.to_status,
                detail: serde_json::from_str(&e.entry.detail).unwrap_or(Value::Null),
                prev_hash: hex::encode(e.prev_hash),
                hash: hex::encode(e.hash),
            })
            .collect(),
    ))
}

/// The outcome of verifying the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyOut {
    pub valid: bool,
    pub entries: usize,
    /// The first entry that fails, if any.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
    /// Hash of the last entry.
    pub head: Option<String>,
}

/// Recomputes every hash and link of the account's change log.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/change-log/verify", tag = "deletion",
    params(("site_id" = String, Path)), responses((status = 200, body = VerifyOut)))]
async fn verify_change_log(State(state): State<AppState>, auth: Authed<DelRead>) -> ApiResult<Json<VerifyOut>> {
    let report = state.lethe.verify_change_log(auth.site()).await?;
    Ok(Json(VerifyOut {
        valid: report.broken_at.is_none(),
        entries: report.entries,
        broken_at: report.broken_at,
        reason: report.reason.map(str::to_owned),
        head: report.head,
    }))
}
