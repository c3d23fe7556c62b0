//! `POST /v1/events`: one event (JSON) or a batch (NDJSON).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Serialize;

use super::{AppState, Problem, ProblemKind};
use crate::ingest::{self, EventError};
use crate::model::event::Event;
use crate::model::time;
use crate::service::cluster_node::ClusterOutcome;
use crate::service::worker::{EventOutcome, WorkerError};
use crate::verdict::{Action, Verdict};

/// The answer to one event.
#[derive(Debug, Serialize)]
struct SingleResponse {
    event_id: String,
    /// `accepted` or `duplicate`.
    status: &'static str,
    verdicts: Vec<Verdict>,
    /// For an event that names only an order (or complaint) not known yet: it is logged
    /// and evaluated once that order arrives; this names it (`order O-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting_for: Option<String>,
    /// In a cluster: the event's position in the event stream (a read on any node can
    /// wait for it; see `Probity-Min-Sequence`).
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_sequence: Option<u64>,
}

/// The answer to a batch (contract §3, plus `conflicts`).
#[derive(Debug, Default, Serialize)]
struct BatchResponse {
    accepted: usize,
    duplicates: usize,
    /// Of `accepted`, the events waiting for their order or complaint.
    #[serde(skip_serializing_if = "is_zero")]
    waiting: usize,
    rejected: Vec<RejectedLine>,
    flagged: usize,
    /// In a cluster: of `accepted`, the events stored in the event stream whose verdicts
    /// did not come within `cluster.answer_wait_ms` (they come later; nothing is lost).
    #[serde(skip_serializing_if = "is_zero")]
    pending: usize,
    /// In a cluster: the highest stream position of the batch's events.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_sequence: Option<u64>,
}

#[derive(Debug, Serialize)]
struct RejectedLine {
    line: usize,
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// How the body is framed.
enum Framing {
    Single,
    Batch,
}

fn framing(headers: &HeaderMap) -> Result<Framing, Problem> {
    let unsupported = |found: &str| {
        Problem::of(
            ProblemKind::UnsupportedMediaType,
            format!(
                "content type {found}: send one event as `application/json` or a batch as `application/x-ndjson`"
            ),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("missing"));
    };
    let text = value.to_str().unwrap_or("");
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => Ok(Framing::Single),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonlines" => Ok(Framing::Batch),
        _ => Err(unsupported(&format!("`{text}`"))),
    }
}

/// `POST /v1/events`.
pub async fn post_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    if let Some(problem) = Problem::store_stopped(&state.store_health) {
        return Err(problem);
    }
    let framing = framing(&headers)?;
    let body = read_body(body, state.limits.max_body_bytes).await?;
    // Hold the body's share of the queue budget until the answer: past the budget the
    // client hears at once that it should come back, instead of waiting in a queue.
    let kib = u32::try_from(body.len() / 1024 + 1)
        .unwrap_or(u32::MAX)
        .min(state.limits.max_queued_kib);
    let _budget = state.ingest_budget.try_acquire_many(kib).map_err(|_| {
        metrics::counter!("probity_ingest_overloaded_total").increment(1);
        Problem::of(
            ProblemKind::Overloaded,
            format!(
                "the ingest queue holds {} KiB of requests already (server.max_queued_kib); retry after a second",
                state.limits.max_queued_kib
            ),
        )
        .with_retry_after(1)
    })?;
    match framing {
        Framing::Single => single(&state, &body).await,
        Framing::Batch => batch(state.clone(), body).await,
    }
}

/// Parse one raw event and check it is not dated too far ahead of the wall clock
/// (`[clock] max_future`, read live so a reload applies at once).
fn parse_bounded(state: &AppState, raw: &[u8], max_future_ms: i64) -> Result<Event, EventError> {
    let event = ingest::parse_event(raw, &state.pseudonymizer)?;
    ingest::check_not_ahead(&event, time::wall_clock_now(), max_future_ms)?;
    Ok(event)
}

/// The running `[clock] max_future`, in milliseconds (validated when loaded).
fn max_future_ms(state: &AppState) -> i64 {
    let running = state.reloader.running();
    running.config.clock.max_future_ms().unwrap_or(600_000)
}

async fn single(state: &AppState, body: &[u8]) -> Result<Response, Problem> {
    let event = parse_bounded(state, body, max_future_ms(state)).map_err(|err| {
        count_rejected(1);
        event_problem(err)
    })?;
    let event_id = event.event_id.clone();
    let mut outcomes = submit(state, vec![event]).await?;
    let outcome = match outcomes.pop() {
        Some(ClusterOutcome::Applied(outcome)) => outcome,
        Some(ClusterOutcome::Pending { sequence }) => {
            let pending = SingleResponse {
                event_id,
                status: "pending",
                verdicts: Vec::new(),
                waiting_for: None,
                stream_sequence: Some(sequence),
            };
            return Ok((axum::http::StatusCode::ACCEPTED, Json(pending)).into_response());
        }
        None => return Err(Problem::internal("the pipeline returned no outcome")),
    };
    // Applied here: this node has applied the stream at least up to the event.
    let stream_sequence = state.cluster.as_ref().map(|c| c.applied());
    let mut waiting_for = None;
    let (status, verdicts) = match outcome {
        EventOutcome::Accepted { verdicts } => ("accepted", verdicts),
        EventOutcome::Duplicate { verdicts } => ("duplicate", verdicts),
        EventOutcome::Parked {
            waiting_for: reference,
        } => {
            waiting_for = Some(crate::pipeline::describe_reference(&reference));
            ("accepted", Vec::new())
        }
        EventOutcome::Conflict => {
            return Err(Problem::of(
                ProblemKind::EventIdConflict,
                format!(
                    "event_id `{event_id}` was already accepted with different content; event ids must be unique per event"
                ),
            )
            .with_field(Some("event_id")));
        }
        EventOutcome::Failed { error } => {
            if let Some(problem) = Problem::store_stopped(&state.store_health) {
                return Err(problem);
            }
            return Err(Problem::unavailable(format!(
                "the event was not applied ({error}); nothing of it was stored, retry later"
            )));
        }
        // Stored; its partition's owner evaluates it (the cluster node waits for that, so
        // this is the answer only when it did not come in time).
        EventOutcome::Elsewhere => ("pending", Vec::new()),
    };
    Ok(Json(SingleResponse {
        event_id,
        status,
        verdicts,
        waiting_for,
        stream_sequence,
    })
    .into_response())
}

/// How much more of an oversized body is read and discarded before the `413`, and for
/// how long at most.
const DRAIN_BYTES: usize = 32 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Read the (decompressed) body up to `limit` bytes. Past the limit, the rest is read and
/// discarded (up to [`DRAIN_BYTES`] more, for at most [`DRAIN_TIME`]) before the `413`
/// is sent: a connection closed with unread bytes makes the kernel reset it, and a
/// client still sending would see a broken pipe instead of the answer.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Problem> {
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|err| Problem::malformed(format!("could not read the body: {err}")))?;
        if buffer.len() + chunk.len() > limit {
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                let mut drained = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    drained += chunk.len();
                    if drained > DRAIN_BYTES {
                        break;
                    }
                }
            })
            .await;
            return Err(Problem::too_large(format!(
                "the body is larger than {limit} bytes (server.max_body_bytes); split the batch"
            )));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

/// Bodies above this are parsed on a blocking thread, so a large batch never holds up
/// the async workers that answer `/healthz`, `/readyz` and other requests.
const PARSE_INLINE_BYTES: usize = 64 * 1024;

/// The good lines of a batch as events with their line numbers, and the rejected lines.
type ParsedBatch = (Vec<Event>, Vec<usize>, Vec<RejectedLine>);

fn parse_batch(state: &AppState, body: &[u8]) -> Result<ParsedBatch, Problem> {
    let mut rejected = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    let max_future = max_future_ms(state);
    for (line, raw) in ingest::split_ndjson(body) {
        if lines.len() + rejected.len() >= state.limits.max_batch_events {
            return Err(Problem::too_large(format!(
                "the batch has more than {} events (server.max_batch_events); split it",
                state.limits.max_batch_events
            )));
        }
        match parse_bounded(state, raw, max_future) {
            Ok(event) => {
                events.push(event);
                lines.push(line);
            }
            Err(err) => rejected.push(RejectedLine {
                line,
                field: err.field().map(str::to_string),
                error: err.to_string(),
            }),
        }
    }
    Ok((events, lines, rejected))
}

async fn batch(state: Arc<AppState>, body: Bytes) -> Result<Response, Problem> {
    let (events, lines, rejected) = if body.len() <= PARSE_INLINE_BYTES {
        parse_batch(&state, &body)?
    } else {
        let parser = state.clone();
        tokio::task::spawn_blocking(move || parse_batch(&parser, &body))
            .await
            .map_err(|err| Problem::internal(format!("parsing the batch failed: {err}")))??
    };
    let state = state.as_ref();
    let mut response = BatchResponse {
        rejected,
        ..BatchResponse::default()
    };
    count_rejected(response.rejected.len());
    let outcomes = if events.is_empty() {
        Vec::new()
    } else {
        submit(state, events).await?
    };
    if let Some(cluster) = &state.cluster
        && !outcomes.is_empty()
    {
        let highest = outcomes.iter().filter_map(|o| match o {
            ClusterOutcome::Pending { sequence } => Some(*sequence),
            ClusterOutcome::Applied(_) => None,
        });
        response.stream_sequence = Some(highest.max().unwrap_or(0).max(cluster.applied()));
    }
    let mut failed = Vec::new();
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        let outcome = match outcome {
            ClusterOutcome::Applied(outcome) => outcome,
            ClusterOutcome::Pending { .. } => {
                response.accepted += 1;
                response.pending += 1;
                continue;
            }
        };
        match outcome {
            EventOutcome::Accepted { verdicts } => {
                response.accepted += 1;
                if verdicts.iter().any(|v| v.action != Action::Allow) {
                    response.flagged += 1;
                }
            }
            EventOutcome::Duplicate { .. } => response.duplicates += 1,
            EventOutcome::Parked { .. } => {
                response.accepted += 1;
                response.waiting += 1;
            }
            EventOutcome::Conflict => response.rejected.push(RejectedLine {
                line,
                error: "event_id was already accepted with different content".into(),
                field: Some("event_id".into()),
            }),
            EventOutcome::Failed { error } => failed.push(format!("line {line}: {error}")),
            EventOutcome::Elsewhere => {
                response.accepted += 1;
                response.pending += 1;
            }
        }
    }
    if !failed.is_empty() {
        if let Some(problem) = Problem::store_stopped(&state.store_health) {
            return Err(problem);
        }
        return Err(Problem::unavailable(format!(
            "{} event(s) were not applied: {}; the other lines were applied durably, and re-sending the whole batch is safe",
            failed.len(),
            failed.join("; ")
        )));
    }
    response.rejected.sort_by_key(|r| r.line);
    Ok(Json(response).into_response())
}

/// Count events refused before reaching the pipeline (the pipeline counts the others).
fn count_rejected(n: usize) {
    if n > 0 {
        metrics::counter!("probity_events_total", "outcome" => "rejected").increment(n as u64);
    }
}

/// The problem for an event that could not be parsed.
fn event_problem(err: EventError) -> Problem {
    match err {
        EventError::TooLarge { .. } => Problem::too_large(err.to_string()),
        EventError::InvalidUtf8 { .. } | EventError::MalformedJson { .. } => {
            Problem::malformed(err.to_string())
        }
        _ => Problem::invalid_event(err.to_string()).with_field(err.field()),
    }
}

/// Evaluate `events`: on this node's pipeline, or in a cluster through the event stream.
async fn submit(state: &AppState, events: Vec<Event>) -> Result<Vec<ClusterOutcome>, Problem> {
    match &state.cluster {
        Some(cluster) => cluster.submit(events).await,
        None => state
            .worker
            .submit(events)
            .await
            .map(|outcomes| outcomes.into_iter().map(ClusterOutcome::Applied).collect()),
    }
    .map_err(|err| worker_problem(state, err))
}

fn worker_problem(state: &AppState, err: WorkerError) -> Problem {
    match err {
        WorkerError::Stream(_) => Problem::unavailable(format!(
            "{err}; some of them may be stored — re-send them (event ids make that safe)"
        ))
        .with_retry_after(1),
        WorkerError::Full => Problem::of(ProblemKind::Overloaded, err.to_string()).with_retry_after(1),
        WorkerError::ShuttingDown => Problem::unavailable(err.to_string()),
        WorkerError::Flush(_) => Problem::store_stopped(&state.store_health).unwrap_or_else(|| {
            Problem::internal(format!(
                "{err}; the events may or may not be stored — re-send them (event ids make that safe)"
            ))
        }),
    }
}
