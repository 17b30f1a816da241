//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::config::Config;
use crate::state::AppState;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "lethe", description = "Customer conversations with a real right to be forgotten."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "admin", description = "Accounts, bots and API keys"),
        (name = "ingest", description = "Consumers, conversations, messages, files and surveys"),
        (name = "search", description = "Finding conversations"),
        (name = "liveperson", description = "LivePerson-compatible dialect"),
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The documented routes and their document.
pub(crate) fn api_router(config: &Config) -> (Router<AppState>, Document) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::v1::router(config.import_body_limit_bytes))
        .merge(crate::liveperson::router())
        .merge(crate::koreai::router())
        .merge(crate::intercom::router())
        .split_for_parts()
}

/// The OpenAPI document as pretty JSON (what `lethe openapi` writes and `/openapi.json` serves).
pub fn openapi_json() -> String {
    let (_, doc) = api_router(&Config::default());
    let mut text = doc.to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
