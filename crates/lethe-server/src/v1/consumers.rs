//! Consumers: profiles upserted whole.

use crate::error::ApiResult;
use crate::extract::{AppJson, AppPath, Authed, ConvRead, ConvWrite};
use crate::state::AppState;
use crate::v1::dto::ConsumerOut;
use axum::extract::State;
use axum::Json;
use lethe_domain::ConsumerId;
use lethe_service::wire::ConsumerInput;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_consumer, get_consumer))
}

/// Replaces a consumer's profile whole (creating it if new).
#[utoipa::path(put, path = "/v1/accounts/{site_id}/consumers/{consumer_id}", tag = "ingest", request_body = ConsumerInput,
    params(("site_id" = String, Path), ("consumer_id" = String, Path)), responses((status = 200, body = ConsumerOut)))]
async fn put_consumer(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppPath(path): AppPath<(String, String)>,
    AppJson(body): AppJson<ConsumerInput>,
) -> ApiResult<Json<ConsumerOut>> {
    let (_, id) = path;
    let id = ConsumerId::parse(id)?;
    state.lethe.upsert_consumer(auth.site(), &id, &body).await?;
    Ok(Json(state.lethe.consumer(auth.site(), &id).await?.into()))
}

/// A consumer's profile.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/consumers/{consumer_id}", tag = "ingest",
    params(("site_id" = String, Path), ("consumer_id" = String, Path)), responses((status = 200, body = ConsumerOut), (status = 404, body = crate::error::ErrorBody)))]
async fn get_consumer(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    AppPath(path): AppPath<(String, String)>,
) -> ApiResult<Json<ConsumerOut>> {
    let (_, id) = path;
    let id = ConsumerId::parse(id)?;
    Ok(Json(state.lethe.consumer(auth.site(), &id).await?.into()))
}
