//! `lethe serve`, and opening a deployment for the other commands.

use crate::args::{Global, ServeArgs};
use lethe_server::{Config, Prepared};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Flags that override the configuration file and environment.
#[derive(Debug, Default, Serialize)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blobs: Option<String>,
}

fn load(global: &Global, overrides: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides {
        database_url: global.database.clone(),
        ..overrides
    };
    Config::load(global.config.as_deref(), &overrides).map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

/// Opens the deployment the global options name (administrative commands).
pub async fn open(global: &Global) -> anyhow::Result<Prepared> {
    let prepared = lethe_server::prepare(load(global, Overrides::default())?).await?;
    lethe_server::announce(&prepared);
    Ok(prepared)
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(global: &Global, args: ServeArgs) -> anyhow::Result<()> {
    let config = load(
        global,
        Overrides {
            listen: args.listen,
            blobs: args.blobs,
            ..Overrides::default()
        },
    )?;
    lethe_server::telemetry::init(&config.log_format);
    let listen = config.listen.clone();
    let grace = std::time::Duration::from_secs(config.shutdown_grace_seconds);
    let prepared = lethe_server::prepare(config).await?;
    lethe_server::announce(&prepared);
    if args.demo {
        crate::demo::seed_demo_once(&prepared.state.lethe).await?;
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(address = %listener.local_addr()?, database = prepared.state.lethe.store.backend(), "lethe is serving");
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let server = tokio::spawn(lethe_server::serve(prepared.state, listener, shutdown.clone()));
    shutdown.cancelled().await;
    tracing::info!("shutting down; letting in-flight requests finish");
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined??,
        Err(_) => tracing::warn!("in-flight requests did not finish within the grace period"),
    }
    Ok(())
}

/// Runs grace-period promotion and the job runner without HTTP, until SIGTERM or Ctrl-C.
pub async fn worker(global: &Global) -> anyhow::Result<()> {
    let config = load(global, Overrides::default())?;
    lethe_server::telemetry::init(&config.log_format);
    let mut prepared = lethe_server::prepare(config).await?;
    lethe_server::announce(&prepared);
    let mut config = (*prepared.state.config).clone();
    config.runner_enabled = true;
    prepared.state = prepared.state.with_config(config);
    tracing::info!(
        database = prepared.state.lethe.store.backend(),
        "lethe worker is running jobs"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    lethe_server::work(prepared.state, shutdown).await;
    Ok(())
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    shutdown.cancel();
}
