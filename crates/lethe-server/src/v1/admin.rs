//! Accounts, bots and API keys.

use crate::error::{ApiError, ApiResult};
use crate::extract::AppPath;
use crate::extract::{Admin, AppJson, Authed};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::time::to_rfc3339;
use lethe_domain::{BotId, Scope, Scopes, SiteId};
use lethe_service::keys::KeyInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An account (tenant).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub site_id: String,
    pub created_at: String,
}

/// Creating an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountIn {
    pub site_id: String,
}

/// A bot of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotOut {
    pub bot_id: String,
    pub name: String,
    pub created_at: String,
}

/// Creating a bot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBotIn {
    pub bot_id: String,
    pub name: String,
}

/// An API key as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    pub id: i64,
    pub account: Option<String>,
    pub name: String,
    pub scopes: Vec<String>,
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<KeyInfo> for KeyOut {
    fn from(k: KeyInfo) -> Self {
        Self {
            id: k.id,
            account: k.account,
            name: k.name,
            scopes: k.scopes.split(',').map(str::to_owned).collect(),
            prefix: k.prefix,
            created_at: to_rfc3339(k.created_at),
            revoked_at: k.revoked_at.map(to_rfc3339),
        }
    }
}

/// A new key: `key` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyOut {
    pub key: String,
    #[serde(flatten)]
    pub info: KeyOut,
}

/// Creating a key for an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyIn {
    pub name: String,
    pub scopes: Vec<String>,
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_account, list_accounts))
        .routes(routes!(create_bot, list_bots))
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

/// Creates an account (operator only).
#[utoipa::path(post, path = "/v1/accounts", tag = "admin", request_body = NewAccountIn,
    responses((status = 201, body = AccountOut), (status = 409, body = crate::error::ErrorBody)))]
async fn create_account(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(body): AppJson<NewAccountIn>,
) -> ApiResult<(StatusCode, Json<AccountOut>)> {
    auth.principal.authorize(None, Scope::Admin)?;
    let site = SiteId::parse(body.site_id)?;
    let record = state.lethe.create_account(&site).await?;
    Ok((
        StatusCode::CREATED,
        Json(AccountOut {
            site_id: record.site_id,
            created_at: to_rfc3339(record.created_at),
        }),
    ))
}

/// Lists accounts (operator only).
#[utoipa::path(get, path = "/v1/accounts", tag = "admin", responses((status = 200, body = [AccountOut])))]
async fn list_accounts(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<Vec<AccountOut>>> {
    auth.principal.authorize(None, Scope::Admin)?;
    let accounts = state.lethe.list_accounts().await?;
    Ok(Json(
        accounts
            .into_iter()
            .map(|a| AccountOut {
                site_id: a.site_id,
                created_at: to_rfc3339(a.created_at),
            })
            .collect(),
    ))
}

/// Creates a bot in an account.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/bots", tag = "admin", request_body = NewBotIn,
    params(("site_id" = String, Path)), responses((status = 201, body = BotOut), (status = 409, body = crate::error::ErrorBody)))]
async fn create_bot(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(body): AppJson<NewBotIn>,
) -> ApiResult<(StatusCode, Json<BotOut>)> {
    let bot = BotId::parse(body.bot_id)?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let record = state.lethe.create_bot(auth.site(), &bot, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(BotOut {
            bot_id: record.bot_id,
            name: record.name,
            created_at: to_rfc3339(record.created_at),
        }),
    ))
}

/// Lists an account's bots.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/bots", tag = "admin", params(("site_id" = String, Path)),
    responses((status = 200, body = [BotOut])))]
async fn list_bots(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<Vec<BotOut>>> {
    let bots = state.lethe.list_bots(auth.site()).await?;
    Ok(Json(
        bots.into_iter()
            .map(|b| BotOut {
                bot_id: b.bot_id,
                name: b.name,
                created_at: to_rfc3339(b.created_at),
            })
            .collect(),
    ))
}

/// Creates an API key bound to the account. A key can grant only scopes its creator holds.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/keys", tag = "admin", request_body = NewKeyIn,
    params(("site_id" = String, Path)), responses((status = 201, body = CreatedKeyOut)))]
async fn create_key(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppJson(body): AppJson<NewKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let scopes = Scopes::parse_list(&body.scopes.join(","))?;
    if let Some(missing) = scopes.iter().find(|s| !auth.principal.scopes.contains(*s)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a key cannot grant `{missing}`, which it does not hold"),
        ));
    }
    let created = state.lethe.create_key(Some(auth.site()), scopes, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyOut {
            key: created.secret,
            info: created.info.into(),
        }),
    ))
}

/// Lists the account's keys.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/keys", tag = "admin", params(("site_id" = String, Path)),
    responses((status = 200, body = [KeyOut])))]
async fn list_keys(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<Vec<KeyOut>>> {
    let keys = state.lethe.list_keys(Some(auth.site())).await?;
    Ok(Json(keys.into_iter().map(KeyOut::from).collect()))
}

/// Revokes one of the account's keys.
#[utoipa::path(delete, path = "/v1/accounts/{site_id}/keys/{key_id}", tag = "admin",
    params(("site_id" = String, Path), ("key_id" = i64, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_key(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppPath(path): AppPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let (_, key_id) = path;
    let id: i64 = key_id
        .parse()
        .map_err(|_| ApiError::not_found(format!("key {key_id} not found")))?;
    state.lethe.revoke_key(Some(auth.site()), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
