//! Errors raised outside the handlers, turned into problems like every other error.
//!
//! Axum's extractors and tower-http's layers answer some bad requests themselves: a path
//! parameter that is not UTF-8, a query string that does not parse, a method a route does
//! not take, a `content-encoding` the decompression layer does not know. Left alone they
//! answer `text/plain` or an empty body. The handlers map extractor rejections with
//! [`path_problem`] and [`query_problem`]; [`problem_for_bare_errors`], the outermost
//! layer, rewrites any other error response that is not yet a problem.

use axum::extract::Request;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{Problem, ProblemKind};

/// A path parameter that cannot be read: `400 invalid-parameter` naming it.
pub fn path_problem(rejection: PathRejection) -> Problem {
    let field = match &rejection {
        PathRejection::FailedToDeserializePathParams(err) => match err.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } | ErrorKind::ParseErrorAtKey { key, .. } => {
                Some(key.clone())
            }
            _ => None,
        },
        _ => None,
    };
    Problem::invalid_parameter(rejection.body_text()).with_field(field.as_deref())
}

/// A query string that cannot be read: `400 invalid-parameter`, naming the parameter
/// when the error does (`Failed to deserialize query string: limit: invalid digit…`).
pub fn query_problem(rejection: QueryRejection) -> Problem {
    let text = rejection.body_text();
    let field = text
        .strip_prefix("Failed to deserialize query string: ")
        .and_then(|rest| rest.split_once(": "))
        .map(|(field, _)| field.to_string())
        .filter(|field| {
            !field.is_empty()
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        });
    Problem::invalid_parameter(text).with_field(field.as_deref())
}

/// Rewrite every error response that is not a problem yet (a bare `405`, tower-http's
/// `415` for an unknown `content-encoding`…) into one, keeping its headers (`allow`,
/// `accept-encoding`).
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let encoding = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<Problem>().is_some()
    {
        return response;
    }
    let mut problem = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Problem::of(
                ProblemKind::MethodNotAllowed,
                format!("{method} is not allowed here; allowed: {allow}"),
            )
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::of(
            ProblemKind::UnsupportedMediaType,
            format!(
                "content-encoding `{encoding}` is not supported; send the body as is or with `content-encoding: gzip`"
            ),
        ),
        _ => Problem::with_status(
            ProblemKind::HttpError,
            status,
            status
                .canonical_reason()
                .unwrap_or("the request was refused")
                .to_string(),
        ),
    };
    problem.request_id = request_id;
    problem.replacing(response)
}
