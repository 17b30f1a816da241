//! Shared state handed to every handler.

use crate::config::Config;
use lethe_service::Lethe;
use metrics_exporter_prometheus::PrometheusHandle;
use std::ops::Deref;
use std::sync::Arc;

/// What handlers need: the services, the configuration and the metrics registry.
///
/// axum clones the state for every extractor of every request; behind one `Arc` that is
/// one reference count instead of a dozen (the services hold many `Arc`s and a `String`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`].
pub struct Shared {
    pub lethe: Lethe,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
}

impl AppState {
    /// Shares `lethe`, `config` and `metrics` between handlers.
    pub fn new(lethe: Lethe, config: Arc<Config>, metrics: PrometheusHandle) -> Self {
        Self(Arc::new(Shared { lethe, config, metrics }))
    }

    /// The same services under another configuration.
    pub fn with_config(&self, config: Config) -> Self {
        Self::new(self.lethe.clone(), Arc::new(config), self.metrics.clone())
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
