//! Logging: spans carry the method, the route template and the request id, never the
//! raw path or body (both may hold personal data).

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use std::time::Duration;
use tracing::Span;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber writing to stderr (`pretty` or `json`). The filter
/// comes from `LETHE_LOG`, default `info`.
pub fn init(format: &str) {
    let filter =
        EnvFilter::try_from_env("LETHE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A second init (tests start many servers in one process) keeps the first.
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// The span of one request.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(crate::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Logs each response's status and latency: failures at INFO, successes at DEBUG (a
/// line per successful request costs a write on the hot path; `LETHE_LOG=debug` shows them).
pub fn on_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status >= 400 {
        tracing::info!(status, latency_ms, "response");
    } else {
        tracing::debug!(status, latency_ms, "response");
    }
}
