//! The HTTP API (contract §3): routes, middleware, and one module per group of endpoints.
//!
//! Handlers are thin: they parse the request into typed values, hand the work to the
//! pipeline thread ([`Worker`]) or the store, and turn failures into [`Problem`]s.
//! Middleware, outermost first: request id (set, then propagated to the response),
//! tracing span per request, metrics, gzip request decompression and response
//! compression, problem bodies carrying the request id, the per-request timeout, and —
//! per route group — the role check.

mod admin;
mod cluster;
mod decisions;
mod events;
mod health;
mod metrics;
pub mod problem;
mod public;
mod ratings;
pub mod rejection;
mod verdicts;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use problem::{Problem, ProblemKind};

use crate::config::Role;
use crate::privacy::Pseudonymizer;
use crate::service::auth::{AuthError, Tokens};
use crate::service::reload::Reloader;
use crate::service::worker::Worker;
use crate::store::{Store, StoreHealth};

/// Request limits from `[server]` (read at start).
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// Largest body, in bytes.
    pub max_body_bytes: usize,
    /// Most events per batch.
    pub max_batch_events: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Request bodies waiting for or in the pipeline, at most this many KiB in all.
    pub max_queued_kib: u32,
}

/// What every handler can reach.
pub struct AppState {
    /// The pipeline thread.
    pub worker: Worker,
    /// In a cluster, this node's part in it (events go through the stream).
    pub cluster: Option<Arc<crate::service::cluster_node::ClusterNode>>,
    /// The store, for reads.
    pub store: Arc<dyn Store>,
    /// Whether the store still takes writes (it stops at its first failed write).
    pub store_health: Arc<StoreHealth>,
    /// Live configuration.
    pub reloader: Arc<Reloader>,
    /// The accepted tokens (swapped on reload).
    pub tokens: Arc<ArcSwap<Tokens>>,
    /// Pseudonymises personal fields of incoming events.
    pub pseudonymizer: Arc<Pseudonymizer>,
    /// Renders the metrics facade (absent when another recorder was installed).
    pub metrics: Option<PrometheusHandle>,
    /// Whether the server takes requests (plugins loaded, store open, not draining).
    pub ready: Arc<AtomicBool>,
    /// Request limits.
    pub limits: RequestLimits,
    /// What is left of `limits.max_queued_kib`: a request holds its body's KiB from
    /// parsing until its answer.
    pub ingest_budget: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The whole API.
pub fn router(state: Arc<AppState>) -> Router {
    let guarded = |role: Role, routes: Router<Arc<AppState>>| {
        routes.route_layer(middleware::from_fn_with_state(
            (state.clone(), role),
            require_role,
        ))
    };
    let ingest = guarded(
        Role::Ingest,
        Router::new().route("/v1/events", post(events::post_events)),
    );
    let read = guarded(
        Role::Read,
        Router::new()
            .route("/v1/verdicts", get(verdicts::list))
            .route(
                "/v1/verdicts/{subject_type}/{subject_id}",
                get(verdicts::one),
            )
            .route(
                "/v1/verdicts/{subject_type}/{subject_id}/history",
                get(verdicts::history),
            )
            .route("/v1/sellers/{seller_id}/rating", get(ratings::one))
            .route("/v1/sellers/{seller_id}/measures", get(ratings::measures))
            .route("/v1/ratings", get(ratings::list))
            .route("/v1/ratings/published", get(ratings::published))
            .route(
                "/v1/ratings/published/{period}",
                get(ratings::published_period),
            )
            .route("/v1/plugins", get(admin::plugins))
            .route("/v1/cluster", get(cluster::status))
            .route("/metrics", get(health::metrics))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                cluster::wait_for_min_sequence,
            )),
    );
    let review = guarded(
        Role::Review,
        Router::new()
            .route(
                "/v1/verdicts/{subject_type}/{subject_id}/decisions",
                post(decisions::decide),
            )
            .route("/v1/decisions", get(decisions::list)),
    );
    let admin = guarded(
        Role::Admin,
        Router::new()
            .route("/v1/admin/reload", post(admin::reload))
            .route("/v1/admin/ratings/publish", post(ratings::publish))
            .route("/v1/admin/audit", get(admin::audit)),
    );
    let open = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/public/ratings", get(public::ratings));
    let timeout = state.limits.timeout;
    Router::new()
        .merge(ingest)
        .merge(read)
        .merge(review)
        .merge(admin)
        .merge(open)
        .fallback(problem::no_route)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            with_timeout(timeout, req, next)
        }))
        .layer(middleware::from_fn(problem::add_request_id))
        .layer(CompressionLayer::new())
        .layer(RequestDecompressionLayer::new())
        .layer(middleware::from_fn(rejection::problem_for_bare_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            loopback_host_only,
        ))
        .layer(middleware::from_fn(metrics::track_requests))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // Only bounded text from the request reaches a log line.
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map_or("", |id| clip(id, 128));
                    let method = metrics::method_label(req.method());
                    let path = clip(req.uri().path(), 256);
                    tracing::info_span!("request", method = %method, path = %path, request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// With auth off (no tokens: the server listens on loopback only), refuse a request
/// whose `Host` is not a loopback name. A web page the operator visits could otherwise
/// reach the API through DNS rebinding: its own host name, re-pointed at 127.0.0.1,
/// would be a same-origin request to an API where every caller is admin.
async fn loopback_host_only(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.tokens.load().enabled() {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().host());
    match host {
        Some(host) if is_loopback_host(host) => next.run(request).await,
        _ => Problem::of(
            ProblemKind::Forbidden,
            format!(
                "the Host header `{}` is not a loopback name; with auth off (no tokens configured) only localhost, 127.0.0.1 and [::1] are served",
                clip(host.unwrap_or(""), 64)
            ),
        )
        .with_field(Some("host"))
        .into_response(),
    }
}

/// `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Refuse requests without a token holding `role` (when auth is on).
async fn require_role(
    State((state, role)): State<(Arc<AppState>, Role)>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.tokens.load().authorize(header, role) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(err) => {
            let kind = match err {
                AuthError::Missing | AuthError::Unknown => ProblemKind::Unauthorized,
                AuthError::Forbidden { .. } => ProblemKind::Forbidden,
            };
            Problem::of(kind, err.to_string()).into_response()
        }
    }
}

/// Answer `503 request-timeout` when a request takes longer than the limit. An event
/// already handed to the pipeline is still applied; re-sending it is safe.
async fn with_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::of(
            ProblemKind::RequestTimeout,
            format!(
                "the request took longer than {} ms (server.request_timeout_ms); events already queued are still applied, and re-sending them is safe",
                limit.as_millis()
            ),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_names_pass_and_others_do_not() {
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:8080",
            "app.localhost:8080",
            "LOCALHOST.",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]:8080",
            "",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
