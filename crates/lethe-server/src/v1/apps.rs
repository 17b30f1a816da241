//! Kore.ai apps: a bot's client credential for the `auth: <JWT>` header.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Admin, AppJson, AppPath, Authed};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::time::to_rfc3339;
use lethe_domain::{BotId, Scopes};
use lethe_service::apps::AppInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_app))
        .routes(routes!(list_apps))
}

/// Creating an app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppIn {
    pub name: String,
    /// e.g. `["deletion:write", "deletion:read"]`
    pub scopes: Vec<String>,
}

/// An app (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct AppOut {
    pub app_id: String,
    pub bot_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
}

impl From<AppInfo> for AppOut {
    fn from(a: AppInfo) -> Self {
        Self {
            app_id: a.app_id,
            bot_id: a.bot_id,
            name: a.name,
            scopes: a.scopes.split(',').map(str::to_owned).collect(),
            created_at: to_rfc3339(a.created_at),
        }
    }
}

/// A new app: `client_secret` signs its HS256 tokens and is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAppOut {
    pub client_secret: String,
    #[serde(flatten)]
    pub app: AppOut,
}

/// Creates an app for a bot. It can grant only scopes its creator holds.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/bots/{bot_id}/apps", tag = "admin", request_body = NewAppIn,
    params(("site_id" = String, Path), ("bot_id" = String, Path)),
    responses((status = 201, body = CreatedAppOut), (status = 404, body = ErrorBody)))]
async fn create_app(
    State(state): State<AppState>,
    auth: Authed<Admin>,
    AppPath(path): AppPath<(String, String)>,
    AppJson(body): AppJson<NewAppIn>,
) -> ApiResult<(StatusCode, Json<CreatedAppOut>)> {
    let bot = BotId::parse(path.1)?;
    let scopes = Scopes::parse_list(&body.scopes.join(","))?;
    if let Some(missing) = scopes.iter().find(|s| !auth.principal.scopes.contains(*s)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("an app cannot be granted `{missing}`, which this key does not hold"),
        ));
    }
    let (app, secret) = state.lethe.create_app(auth.site(), &bot, &body.name, scopes).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAppOut {
            client_secret: secret,
            app: app.into(),
        }),
    ))
}

/// Lists the account's apps.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/apps", tag = "admin", params(("site_id" = String, Path)),
    responses((status = 200, body = [AppOut])))]
async fn list_apps(State(state): State<AppState>, auth: Authed<Admin>) -> ApiResult<Json<Vec<AppOut>>> {
    let apps = state.lethe.list_apps(auth.site()).await?;
    Ok(Json(apps.into_iter().map(AppOut::from).collect()))
}
