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
}

impl Problem {
    /// A problem of kind `slug` with `status`, `title` and `detail`.
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind: format!("urn:probity:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            request_id: None,
        }
    }

    /// Name the field at fault.
    pub fn with_field(mut self, field: Option<&str>) -> Self {
        self.field = field.map(str::to_string);
        self
    }

    /// `400 malformed-json`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            detail,
        )
    }

    /// `422 invalid-event`.
    pub fn invalid_event(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-event",
            "Invalid event",
            detail,
        )
    }

    /// `400 invalid-parameter`.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "Invalid parameter",
            detail,
        )
    }

    /// `404 not-found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// `413 body-too-large`.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            detail,
        )
    }

    /// `503 unavailable`.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
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
            FaultKind::DiskFull => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage-full",
                "Storage full",
                detail,
            ),
            FaultKind::ReadOnly | FaultKind::Failed => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-failed",
                "Storage failed",
                detail,
            ),
        }
    }

    /// `500 internal`: a storage failure; the detail says what and that nothing was lost.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail,
        )
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
