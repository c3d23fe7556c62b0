//! Reviewers' decisions (申诉 and review): `POST /v1/verdicts/{type}/{id}/decisions` and
//! `GET /v1/decisions`, the labelled data they make.
//!
//! A decision goes through the pipeline ([`crate::pipeline::apply_decision`]): logged,
//! applied between two events, durable before the answer, and written to the audit trail
//! where it is taken ([`crate::service::router`]), which `GET /v1/decisions` exports.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rejection::{path_problem, query_problem};
use super::verdicts::store_problem;
use super::{AppState, Problem};
use crate::model::subject::{Subject, SubjectType};
use crate::model::time;
use crate::service::auth::Caller;
use crate::service::worker::{DecisionRefused, DecisionRequest, WorkerError};
use crate::verdict::{Decision, DecisionKind, Verdict};

/// Longest note a reviewer may write, in bytes.
const MAX_NOTE: usize = 4000;

/// The body of a decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The finding's plugin.
    plugin: String,
    /// The finding's rule.
    rule: String,
    /// The finding's event, as the reviewer saw it (optional: checked when given).
    #[serde(default)]
    event_id: Option<String>,
    /// `confirm` or `overturn`.
    decision: DecisionKind,
    /// Why.
    #[serde(default)]
    note: String,
}

/// The answer to a decision.
#[derive(Debug, Serialize)]
pub struct DecisionAnswer {
    decision: Decision,
    verdict: Verdict,
}

fn body_problem(err: JsonRejection) -> Problem {
    Problem::invalid_parameter(format!(
        "the body must be JSON {{\"plugin\", \"rule\", \"event_id\"?, \"decision\": \"confirm\" | \"overturn\", \"note\"}}: {}",
        err.body_text()
    ))
    .with_field(Some("body"))
}

/// `POST /v1/verdicts/{subject_type}/{subject_id}/decisions` (role `review` or `admin`).
pub async fn decide(
    State(state): State<Arc<AppState>>,
    caller: Option<Extension<Caller>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<DecisionAnswer>, Problem> {
    let Path((kind, id)) = path.map_err(path_problem)?;
    let kind: SubjectType = kind.parse().map_err(|_| {
        Problem::invalid_parameter(format!(
            "unknown subject type `{kind}`; use listing, order, seller or complaint"
        ))
        .with_field(Some("subject_type"))
    })?;
    let Json(body) = body.map_err(body_problem)?;
    if body.note.len() > MAX_NOTE {
        return Err(Problem::invalid_parameter(format!(
            "the note has {} bytes; at most {MAX_NOTE}",
            body.note.len()
        ))
        .with_field(Some("note")));
    }
    let reviewer = caller.map_or_else(|| "anonymous".to_string(), |Extension(c)| c.name);
    let request = DecisionRequest {
        subject: Subject { kind, id },
        plugin: body.plugin,
        rule: body.rule,
        event_id: body.event_id,
        decision: body.decision,
        note: body.note,
        reviewer,
        id: None,
    };
    let made = match &state.cluster {
        Some(cluster) => cluster.decide(request).await,
        None => state.worker.decide(request).await,
    }
    .map_err(|err| match err {
        WorkerError::Stream(_) => Problem::unavailable(err.to_string()).with_retry_after(1),
        _ => Problem::unavailable(err.to_string()),
    })?;
    let made = made.map_err(|refused| match refused {
        DecisionRefused::NoSubject(message) | DecisionRefused::NoSuchFinding(message) => {
            Problem::not_found(message)
        }
        DecisionRefused::Store(message) => Problem::store_stopped(&state.store_health)
            .unwrap_or_else(|| Problem::internal(message)),
    })?;
    Ok(Json(DecisionAnswer {
        decision: made.decision,
        verdict: made.verdict,
    }))
}

/// The query of `GET /v1/decisions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    since: Option<String>,
    cursor: Option<u64>,
    limit: Option<usize>,
}

/// A page of decisions.
#[derive(Debug, Serialize)]
pub struct DecisionPage {
    /// Oldest first: each with the finding it labels, the subject, the reviewer's note.
    decisions: Vec<Value>,
    /// Pass back as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<u64>,
}

/// `GET /v1/decisions?since=&cursor=&limit=` (role `review` or `admin`): every decision,
/// oldest first, as labelled data (the finding, `confirm` or `overturn`, the note).
pub async fn list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<DecisionPage>, Problem> {
    let Query(params) = query.map_err(query_problem)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(
            Problem::invalid_parameter("`limit` must be between 1 and 1000")
                .with_field(Some("limit")),
        );
    }
    let since = params
        .since
        .as_deref()
        .map(|text| {
            time::parse_rfc3339(text).map_err(|_| {
                Problem::invalid_parameter(format!(
                    "`since` must be an RFC 3339 time such as 2026-11-01T00:00:00Z, got `{text}`"
                ))
                .with_field(Some("since"))
            })
        })
        .transpose()?;
    let entries = state
        .store
        .audit(usize::MAX)
        .map_err(|err| store_problem(&state, err))?;
    let mut decisions: Vec<(u64, Value)> = entries
        .into_iter()
        .filter(|e| e["action"] == "decision")
        .filter_map(|e| {
            let seq = e["seq"].as_u64()?;
            let decision = e["decision"].clone();
            let at = decision["at"]
                .as_str()
                .and_then(|t| time::parse_rfc3339(t).ok())?;
            let wanted = since.is_none_or(|since| at >= since)
                && params.cursor.is_none_or(|cursor| seq > cursor);
            wanted.then_some((seq, decision))
        })
        .collect();
    decisions.sort_by_key(|(seq, _)| *seq);
    let more = decisions.len() > limit;
    decisions.truncate(limit);
    let next_cursor = more
        .then(|| decisions.last().map(|(seq, _)| *seq))
        .flatten();
    Ok(Json(DecisionPage {
        decisions: decisions.into_iter().map(|(_, d)| d).collect(),
        next_cursor,
    }))
}
