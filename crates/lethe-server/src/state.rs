//! Shared state handed to every handler.

use crate::config::Config;
use lethe_service::Lethe;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// What handlers need: the services, the configuration and the metrics registry.
#[derive(Clone)]
pub struct AppState {
    pub lethe: Lethe,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
}
