//! `GET /v1/cluster`, and reads that wait for a stream position (`Probity-Min-Sequence`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, Problem};

/// The request header with the stream position a read must reflect: the
/// `stream_sequence` a cluster node answered a `POST /v1/events` with.
pub const MIN_SEQUENCE_HEADER: &str = "probity-min-sequence";

/// How long a read waits for this node to reach its `Probity-Min-Sequence`.
const MIN_SEQUENCE_WAIT: Duration = Duration::from_secs(5);

/// This node, the stream, how far this node applied it, each partition's role here and how
/// far it is reflected, and the partitions' leases.
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Response, Problem> {
    let cluster = state.cluster.as_ref().ok_or_else(|| {
        Problem::not_found(
            "this node runs alone: its configuration has no [cluster] table (see the README, \"Running a cluster\")",
        )
    })?;
    Ok(Json(cluster.status().await).into_response())
}

/// Before a read: with `Probity-Min-Sequence: N`, wait (up to 5 s) until this node has
/// applied the event stream up to `N`, so that a client reads its own writes on any
/// node; past the wait, `503` with how far the node is.
pub async fn wait_for_min_sequence(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(MIN_SEQUENCE_HEADER) else {
        return next.run(request).await;
    };
    let Some(wanted) = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return Problem::invalid_parameter(
            "the Probity-Min-Sequence header must be a stream position: a whole number, as `stream_sequence` in a POST /v1/events answer",
        )
        .with_field(Some("Probity-Min-Sequence"))
        .into_response();
    };
    if let Some(cluster) = &state.cluster
        && !cluster.wait_reflected(wanted, MIN_SEQUENCE_WAIT).await
    {
        return Problem::unavailable(format!(
            "this node reflects the event stream up to {}, not yet {wanted}; retry, or read from the node that answered the POST",
            cluster.reflected()
        ))
        .with_retry_after(1)
        .into_response();
    }
    next.run(request).await
}
