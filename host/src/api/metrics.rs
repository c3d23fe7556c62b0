//! Counting and timing every HTTP request (`probity_http_requests_total`,
//! `probity_http_request_duration_seconds`); the recorder and the rest of `/metrics` are
//! the service's (`service/metrics.rs`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The `method` label of a request: one of the methods the API knows, else `other`. A
/// label never carries client text, so made-up methods cannot grow `/metrics` (each
/// distinct value would be a new series kept for the life of the process).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Count and time every request by method, route template and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "probity_http_requests_total",
        "method" => method, "route" => route.clone(), "status" => status
    )
    .increment(1);
    metrics::histogram!("probity_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
