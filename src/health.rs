//! Operational endpoints: `GET /_health` (the process answers), `GET /_ready` (the database answers),
//! `GET /metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::app::AppState;

/// `GET /_health`: 200 while the process serves requests.
pub async fn health() -> &'static str {
    "ok"
}

/// `GET /_ready`: 200 when the database answers a query, 503 otherwise.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %crate::telemetry::Chain(&err), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// `GET /metrics`: every counter, gauge and histogram in Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.store.pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(pool.size.saturating_sub(pool.idle)));
    state.metrics.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
