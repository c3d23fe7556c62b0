//! RFC 9457 problem details: every error the API returns.
//!
//! A [`Problem`] has a stable `type` (`urn:probity:problem:<slug>`) and `title` per kind
//! of error, a `detail` that says exactly what was wrong, and where it applies the
//! `field` at fault, the batch `line`, or the `lines` of a batch. The request id is added
//! by [`add_request_id`] so every problem can be matched with the logs.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::{FaultKind, StorageFault, StoreHealth};

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem response.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// `urn:probity:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The stable, short description of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What exactly was wrong.
    pub detail: String,
    /// The field at fault, dotted (`buyer.ip`, `price.amount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request id (from `x-request-id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds after which a retry may succeed (sent as `retry-after`, not in the body).
    #[serde(skip)]
    pub retry_after: Option<std::num::NonZeroU16>,
}

/// Every kind of problem the API answers with, one row each: the slug of its `type`,
/// its status and its title. Every refusal comes from this table (and the README's
/// errors table documents each row: a test keeps the two the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// 400: the body is not JSON or not UTF-8.
    MalformedJson,
    /// 422: JSON, but not a valid event.
    InvalidEvent,
    /// 415: neither JSON nor NDJSON, or an unsupported `content-encoding`.
    UnsupportedMediaType,
    /// 405: a method the route does not take.
    MethodNotAllowed,
    /// 413: a body or batch past its limit.
    BodyTooLarge,
    /// 409: an `event_id` accepted before with other content.
    EventIdConflict,
    /// 409: a ratings period that is published already.
    AlreadyPublished,
    /// 401: no or unknown token.
    Unauthorized,
    /// 403: a token without the endpoint's role, or a foreign `Host` with auth off.
    Forbidden,
    /// 404: a subject never seen, an unknown route.
    NotFound,
    /// 400: a path or query parameter that cannot be read.
    InvalidParameter,
    /// 422: a reload of a broken configuration.
    ConfigRefused,
    /// 503: slower than `server.request_timeout_ms`.
    RequestTimeout,
    /// 503: the ingest queue is full; retry after the `retry-after` seconds.
    Overloaded,
    /// 507: the data directory is full.
    StorageFull,
    /// 503: the store stopped at a failed write.
    StorageFailed,
    /// 503: shutting down, or the event could not be applied now.
    Unavailable,
    /// 500: an unexpected storage failure.
    Internal,
    /// Any other refusal of the HTTP layer, with that refusal's status.
    HttpError,
}

impl ProblemKind {
    /// Every kind, in the README's order.
    pub const ALL: [ProblemKind; 19] = [
        ProblemKind::MalformedJson,
        ProblemKind::InvalidEvent,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::MethodNotAllowed,
        ProblemKind::BodyTooLarge,
        ProblemKind::EventIdConflict,
        ProblemKind::AlreadyPublished,
        ProblemKind::Unauthorized,
        ProblemKind::Forbidden,
        ProblemKind::NotFound,
        ProblemKind::InvalidParameter,
        ProblemKind::ConfigRefused,
        ProblemKind::RequestTimeout,
        ProblemKind::Overloaded,
        ProblemKind::StorageFull,
        ProblemKind::StorageFailed,
        ProblemKind::Unavailable,
        ProblemKind::Internal,
        ProblemKind::HttpError,
    ];

    /// `(slug, status, title)`; the status of [`ProblemKind::HttpError`] is the refused
    /// response's own, shown here as 400.
    pub const fn row(self) -> (&'static str, StatusCode, &'static str) {
        use ProblemKind::*;
        match self {
            MalformedJson => ("malformed-json", StatusCode::BAD_REQUEST, "Malformed JSON"),
            InvalidEvent => (
                "invalid-event",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid event",
            ),
            UnsupportedMediaType => (
                "unsupported-media-type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            MethodNotAllowed => (
                "method-not-allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            BodyTooLarge => (
                "body-too-large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
            ),
            EventIdConflict => (
                "event-id-conflict",
                StatusCode::CONFLICT,
                "Event id conflict",
            ),
            AlreadyPublished => (
                "already-published",
                StatusCode::CONFLICT,
                "Already published",
            ),
            Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED, "Unauthorized"),
            Forbidden => ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            NotFound => ("not-found", StatusCode::NOT_FOUND, "Not found"),
            InvalidParameter => (
                "invalid-parameter",
                StatusCode::BAD_REQUEST,
                "Invalid parameter",
            ),
            ConfigRefused => (
                "config-refused",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Configuration refused",
            ),
            RequestTimeout => (
                "request-timeout",
                StatusCode::SERVICE_UNAVAILABLE,
                "Request timed out",
            ),
            Overloaded => (
                "overloaded",
                StatusCode::SERVICE_UNAVAILABLE,
                "Ingest queue full",
            ),
            StorageFull => (
                "storage-full",
                StatusCode::INSUFFICIENT_STORAGE,
                "Storage full",
            ),
            StorageFailed => (
                "storage-failed",
                StatusCode::SERVICE_UNAVAILABLE,
                "Storage failed",
            ),
            Unavailable => (
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
            ),
            Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
            ),
            HttpError => ("http-error", StatusCode::BAD_REQUEST, "HTTP error"),
        }
    }

    /// The slug of its `type` (`urn:probity:problem:<slug>`).
    pub const fn slug(self) -> &'static str {
        self.row().0
    }
}

impl Problem {
    /// A problem of `kind` with `detail`.
    pub fn of(kind: ProblemKind, detail: impl Into<String>) -> Self {
        let (_, status, _) = kind.row();
        Self::with_status(kind, status, detail)
    }

    /// A problem of `kind` answered with `status` (for [`ProblemKind::HttpError`], which
    /// keeps the status of the refusal it stands for).
    pub fn with_status(kind: ProblemKind, status: StatusCode, detail: impl Into<String>) -> Self {
        let (slug, _, title) = kind.row();
        Problem {
            kind: format!("urn:probity:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// Name the field at fault.
    pub fn with_field(mut self, field: Option<&str>) -> Self {
        self.field = field.map(str::to_string);
        self
    }

    /// Ask the client to retry after `seconds` (the `retry-after` header; 0 sends none).
    pub fn with_retry_after(mut self, seconds: u16) -> Self {
        self.retry_after = std::num::NonZeroU16::new(seconds);
        self
    }

    /// `400 malformed-json`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::MalformedJson, detail)
    }

    /// `422 invalid-event`.
    pub fn invalid_event(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::InvalidEvent, detail)
    }

    /// `400 invalid-parameter`.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::InvalidParameter, detail)
    }

    /// `404 not-found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::NotFound, detail)
    }

    /// `413 body-too-large`.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::BodyTooLarge, detail)
    }

    /// `503 unavailable`.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::Unavailable, detail)
    }

    /// The problem to answer while the store is stopped by a fault, if it is (see
    /// [`Problem::storage`]).
    pub fn store_stopped(health: &StoreHealth) -> Option<Self> {
        health.fault().map(|fault| Self::storage(health, fault))
    }

    /// The problem for a store stopped by `fault`: `507 storage-full` for a full disk,
    /// `503 storage-failed` otherwise; the detail says what happened and what to do.
    pub fn storage(health: &StoreHealth, fault: &StorageFault) -> Self {
        let detail = health.explain(fault);
        match fault.kind {
            FaultKind::DiskFull => Self::of(ProblemKind::StorageFull, detail),
            FaultKind::ReadOnly | FaultKind::Failed => Self::of(ProblemKind::StorageFailed, detail),
        }
    }

    /// `500 internal`: a storage failure; the detail says what and that nothing was lost.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::of(ProblemKind::Internal, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.get()));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"probity\""),
            );
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl Problem {
    /// This problem as the response instead of `response`, keeping `response`'s headers
    /// (`allow`, `www-authenticate`, `x-request-id`…) but its body's length and type.
    pub(crate) fn replacing(self, response: Response) -> Response {
        let (parts, _) = response.into_parts();
        let mut fresh = self.into_response();
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        fresh
    }
}

/// Put the request id into problem bodies (the `x-request-id` header carries it too).
pub async fn add_request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    match (response.extensions().get::<Problem>(), id) {
        (Some(problem), Some(id)) if problem.request_id.is_none() => {
            let mut problem = problem.clone();
            problem.request_id = Some(id);
            problem.replacing(response)
        }
        _ => response,
    }
}

/// Answer unknown routes with a problem.
pub async fn no_route(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("no such endpoint: {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::ProblemKind;

    /// Every kind in the table is documented in the README's errors table, with its
    /// status, and the README lists no kind the table does not have.
    #[test]
    fn every_problem_kind_is_documented_in_the_readme() {
        let readme = include_str!("../../../README.md");
        for kind in ProblemKind::ALL {
            let (slug, status, _) = kind.row();
            let row = readme
                .lines()
                .find(|line| line.starts_with('|') && line.contains(&format!("`{slug}`")))
                .unwrap_or_else(|| panic!("README.md's errors table has no row for `{slug}`"));
            if kind != ProblemKind::HttpError {
                assert!(
                    row.contains(&status.as_u16().to_string()),
                    "the README row of `{slug}` does not say {status}: {row}"
                );
            }
        }
    }
}
