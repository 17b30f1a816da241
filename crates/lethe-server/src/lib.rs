//! The lethe HTTP server: the native `/v1` API, the vendor dialects and operations
//! endpoints, over the services in `lethe-service`.

pub mod config;
pub mod error;
pub mod extract;
pub mod intercom;
pub mod json_body;
pub mod json_write;
pub mod koreai;
pub mod liveperson;
mod memory;
pub mod ops;
pub mod request_id;
pub mod secrets;
pub mod state;
pub mod telemetry;
pub mod v1;

mod openapi;

pub use config::Config;
pub use openapi::openapi_json;
pub use state::AppState;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::ApiError;
use lethe_service::deletion::{DeletionLimits, EngineSettings, Notifier};
use lethe_service::{Clock, Lethe, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// An opened deployment: services ready, secrets checked, first-start facts known.
pub struct Prepared {
    pub state: AppState,
    /// The operator key created on this database's first start, shown once.
    pub bootstrap_key: Option<String>,
    /// The key file generated on this start, if one was.
    pub generated_key_file: Option<PathBuf>,
}

/// Opens storage, loads (or generates) the secrets, checks them against the database
/// and creates the first operator key on a fresh database.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    prepare_with_clock(config, Arc::new(SystemClock)).await
}

/// [`prepare`] with a given clock (tests move a manual one instead of sleeping).
pub async fn prepare_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Prepared> {
    memory::fix_heap_thresholds();
    notifier(&config)?;
    let (keyring, generated_key_file) = secrets::load_keyring(&config)?;
    let store = lethe_store::open(&config.database_url).await?;
    let blobs = lethe_store::BlobStore::open(&config.blob_location())?;
    let limits = DeletionLimits {
        max_ids: config.max_ids_per_request,
        max_filter_conversations: config.max_filter_conversations,
    };
    let engine = EngineSettings {
        batch_size: config.job_batch_size,
        lease_ms: config.job_lease_seconds as i64 * 1000,
        max_attempts: i64::from(config.job_max_attempts),
        retry_base_ms: config.job_retry_base_ms as i64,
        vacuum_after_job: config.vacuum_after_job,
    };
    let lethe = Lethe::new(store, Arc::new(keyring), blobs, clock)
        .with_limits(limits)
        .with_engine(engine);
    let bootstrap_key = lethe.bootstrap().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = AppState::new(lethe, Arc::new(config), ops::metrics_handle());
    Ok(Prepared {
        state,
        bootstrap_key,
        generated_key_file,
    })
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api_router(&state.config);
    let openapi = openapi_json();
    Router::new()
        .merge(api)
        .merge(ops::router())
        .route(
            "/openapi.json",
            get(move || async move { ([("content-type", "application/json")], openapi) }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(ops::record))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_response(telemetry::on_response),
        )
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; see the server log",
    )
    .into_response()
}

/// Serves until `shutdown` is cancelled, then lets in-flight requests finish.
pub async fn serve(state: AppState, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    tokio::spawn(memory::trim_when_quiet(state.lethe.store.clone(), shutdown.clone()));
    tokio::spawn(work(state.clone(), shutdown.clone()));
    tokio::spawn(checkpoint_periodically(state.clone(), shutdown.clone()));
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Makes requests final as their grace periods end, until shutdown. Reads of an
/// account's requests promote too, so this only bounds how late a quiet account is.
async fn promote_periodically(state: AppState, shutdown: CancellationToken) {
    let period = std::time::Duration::from_secs(state.config.promotion_interval_seconds);
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                if let Err(e) = state.lethe.promote_due(None).await {
                    tracing::warn!(error = %e, "promoting due deletion requests failed");
                }
            }
        }
    }
}

/// The background work of a node: grace-period promotion and (unless disabled) the job
/// runner, until `shutdown`. `lethe serve` runs it beside HTTP; `lethe worker` alone.
pub async fn work(state: AppState, shutdown: CancellationToken) {
    let promoter = promote_periodically(state.clone(), shutdown.clone());
    if state.config.runner_enabled {
        tokio::join!(
            promoter,
            run_jobs(state.clone(), shutdown.clone()),
            deliver(state, shutdown)
        );
    } else {
        promoter.await;
    }
}

/// The coalesced checkpointer: truncates the SQLite WAL after synchronous deletes.
async fn checkpoint_periodically(state: AppState, shutdown: CancellationToken) {
    let period = std::time::Duration::from_millis(state.config.checkpoint_interval_ms);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {
                if let Err(e) = state.lethe.checkpoint_pending().await {
                    tracing::warn!(error = %e, "truncating the WAL failed; it retries");
                }
            }
        }
    }
}

/// The notifier a configuration describes.
pub fn notifier(config: &Config) -> anyhow::Result<Notifier> {
    Notifier::new(config.smtp_url.as_deref(), &config.smtp_from).map_err(|e| anyhow::anyhow!(e))
}

/// Delivers queued notifications (at least once, stable event ids) until shutdown.
async fn deliver(state: AppState, shutdown: CancellationToken) {
    let notifier = match notifier(&state.config) {
        Ok(notifier) => notifier,
        Err(e) => {
            tracing::error!(error = %e, "notifications cannot be delivered");
            return;
        }
    };
    let period = std::time::Duration::from_millis(state.config.runner_poll_ms);
    loop {
        if let Err(e) = state.lethe.deliver_notifications(&notifier).await {
            tracing::warn!(error = %e, "delivering notifications failed; it retries");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
    }
}

/// The job runner: runs due jobs, then polls. Its id is fresh on every start, so a
/// restarted process never mistakes an old lease for its own.
async fn run_jobs(state: AppState, shutdown: CancellationToken) {
    let runner = format!("runner-{}", uuid::Uuid::new_v4());
    let period = std::time::Duration::from_millis(state.config.runner_poll_ms);
    let wake = state.lethe.jobs_due.clone();
    if let Err(e) = state.lethe.store.listen_for_jobs(wake.clone()).await {
        tracing::warn!(error = %e, "cannot listen for jobs scheduled by other nodes; polling only");
    }
    loop {
        match state.lethe.run_due_jobs(&runner).await {
            // A finished or paused job leaves freed batches in the allocator's arenas.
            Ok(touched) if touched > 0 => memory::release_free_heap(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the job runner hit an error; it retries"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

/// Prepares and serves: the single entry point of `lethe serve` and of tests.
pub async fn run(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let prepared = prepare(config).await?;
    announce(&prepared);
    serve(prepared.state, listener, shutdown).await
}

/// Tells the operator, once, what first start created.
pub fn announce(prepared: &Prepared) {
    if let Some(path) = &prepared.generated_key_file {
        eprintln!(
            "lethe: generated new secrets in {} (mode 0600). Back this file up apart from the database: without it no personal data can be read.",
            path.display()
        );
    }
    if let Some(key) = &prepared.bootstrap_key {
        eprintln!("lethe: fresh database: created an operator key with every scope. It is shown this once:\n{key}");
    }
}
