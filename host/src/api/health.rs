//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, Problem};

/// Liveness: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: plugins loaded, store open and writable, not draining.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        let why = match &state.cluster {
            Some(_) => {
                "not ready: starting (catching up with the cluster's event stream) or shutting down"
            }
            None => "not ready: starting or shutting down",
        };
        return Problem::unavailable(why).into_response();
    }
    if let Some(stuck) = state.cluster.as_ref().and_then(|c| c.stuck()) {
        return Problem::unavailable(format!("not ready: {stuck}")).into_response();
    }
    if let Some(fault) = state.store_health.fault() {
        return Problem::unavailable(format!("not ready: {}", state.store_health.explain(fault)))
            .into_response();
    }
    // No configuration digest here: this endpoint needs no token (`/v1/plugins` has it).
    let running = state.reloader.running();
    Json(json!({
        "status": "ready",
        "plugins": running.plugins.plugins().len(),
    }))
    .into_response()
}

/// Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = match &state.metrics {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    };
    text.push_str(&crate::service::metrics::render_plugins(
        &state.reloader.running().plugins,
    ));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}
