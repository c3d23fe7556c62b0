//! `GET /v1/verdicts…`: one verdict, its history, and the filtered list.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::rejection::{path_problem, query_problem};
use super::{AppState, Problem};
use crate::model::subject::{Subject, SubjectType};
use crate::model::time;
use crate::store::{StoreError, VerdictQuery};
use crate::verdict::{Action, Category, Finding, Verdict};

/// Default page size of the verdict list.
const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
const MAX_LIMIT: usize = 1000;

fn subject(kind: &str, id: String) -> Result<Subject, Problem> {
    let kind: SubjectType = kind.parse().map_err(|_| {
        Problem::invalid_parameter(format!(
            "unknown subject type `{kind}`; use listing, order, seller or complaint"
        ))
        .with_field(Some("subject_type"))
    })?;
    Ok(Subject { kind, id })
}

pub(super) fn store_problem(state: &AppState, err: StoreError) -> Problem {
    if let Some(fault) = state.store_health.record(&err) {
        return Problem::storage(&state.store_health, fault);
    }
    tracing::error!(error = %err, "store read failed");
    Problem::internal(format!("reading the store failed: {err}"))
}

fn never_seen(subject: &Subject) -> Problem {
    Problem::not_found(format!(
        "no event about {} `{}` has been evaluated",
        subject.kind.as_str(),
        subject.id
    ))
}

/// One verdict as `GET /v1/verdicts/{subject_type}/{subject_id}` shows it: its fields in
/// the order the list and the ingest answer use, and for a seller the measures in force.
#[derive(Debug, Serialize)]
pub struct OneVerdict {
    #[serde(flatten)]
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    measures: Option<Vec<crate::rating::publish::MeasureRecord>>,
}

/// `GET /v1/verdicts/{subject_type}/{subject_id}`; a seller's verdict also lists the
/// measures in force against it (see `GET /v1/sellers/{seller_id}/measures`).
pub async fn one(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<OneVerdict>, Problem> {
    let Path((kind, id)) = path.map_err(path_problem)?;
    let subject = subject(&kind, id)?;
    let verdict = state
        .store
        .verdict(&subject)
        .map_err(|err| store_problem(&state, err))?
        .ok_or_else(|| never_seen(&subject))?;
    let measures = match subject.kind {
        SubjectType::Seller => Some(
            crate::rating::publish::measures(state.store.as_ref(), &subject.id)
                .map_err(|err| store_problem(&state, err))?
                .into_iter()
                .filter(|m| m.ended_at.is_none())
                .collect(),
        ),
        _ => None,
    };
    Ok(Json(OneVerdict { verdict, measures }))
}

/// A page of the history of one subject.
#[derive(Debug, Serialize)]
pub struct History {
    subject: Subject,
    /// Each finding, with `"decisions"`: the reviewers' decisions on it, if any.
    findings: Vec<serde_json::Value>,
    /// Pass back as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// The query of `GET …/history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /v1/verdicts/{subject_type}/{subject_id}/history?limit=&cursor=`: oldest first,
/// at most `limit` findings a page (default 100, at most 1000).
pub async fn history(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<History>, Problem> {
    let Path((kind, id)) = path.map_err(path_problem)?;
    let Query(params) = params.map_err(query_problem)?;
    let subject = subject(&kind, id)?;
    let limit = page_limit(params.limit)?;
    let after = cursor_param(params.cursor.as_deref(), |bytes| bytes.len() == 8)?
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_be_bytes);
    let verdict = state
        .store
        .verdict(&subject)
        .map_err(|err| store_problem(&state, err))?
        .ok_or_else(|| never_seen(&subject))?;
    let page = state
        .store
        .history_page(&subject, after, limit)
        .map_err(|err| store_problem(&state, err))?;
    let findings = page
        .findings
        .into_iter()
        .map(|finding| with_decisions(finding, &verdict))
        .collect();
    Ok(Json(History {
        subject,
        findings,
        next_cursor: page.next_after.map(|seq| hex::encode(seq.to_be_bytes())),
    }))
}

/// `finding` as JSON, with the decisions taken on it (the same plugin, rule and event)
/// beside it.
fn with_decisions(finding: Finding, verdict: &Verdict) -> serde_json::Value {
    let decisions: Vec<serde_json::Value> = verdict
        .decisions
        .iter()
        .filter(|d| {
            d.finding.plugin == finding.plugin
                && d.finding.rule == finding.rule
                && d.finding.event_id == finding.event_id
        })
        .map(|d| {
            serde_json::json!({
                "decision": d.decision,
                "note": d.note,
                "reviewer": d.reviewer,
                "at": crate::model::time::format_rfc3339(d.at),
            })
        })
        .collect();
    let mut value = serde_json::to_value(&finding).unwrap_or_default();
    if !decisions.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        object.insert("decisions".into(), decisions.into());
    }
    value
}

/// The bytes of a `cursor` parameter (hex, as this server gave it out), if given;
/// `fits` says whether they can be one.
fn cursor_param(text: Option<&str>, fits: fn(&[u8]) -> bool) -> Result<Option<Vec<u8>>, Problem> {
    text.map(|text| {
        hex::decode(text)
            .ok()
            .filter(|bytes| fits(bytes))
            .ok_or_else(|| {
                Problem::invalid_parameter("cursor is not one this server returned")
                    .with_field(Some("cursor"))
            })
    })
    .transpose()
}

/// A page size: `limit` if given and within 1..=[`MAX_LIMIT`], else [`DEFAULT_LIMIT`].
fn page_limit(limit: Option<usize>) -> Result<usize, Problem> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(
            Problem::invalid_parameter(format!("limit must be between 1 and {MAX_LIMIT}"))
                .with_field(Some("limit")),
        )
    }
}

/// The query of `GET /v1/verdicts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    subject_type: Option<SubjectType>,
    action: Option<Action>,
    category: Option<Category>,
    seller_id: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of the verdict list.
#[derive(Debug, Serialize)]
pub struct ListResponse {
    verdicts: Vec<Verdict>,
    next_cursor: Option<String>,
}

/// `GET /v1/verdicts?…`: newest first, cursor-paginated, served from the indexes.
pub async fn list(
    State(state): State<Arc<AppState>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListResponse>, Problem> {
    let Query(params) = params.map_err(query_problem)?;
    let since = params
        .since
        .as_deref()
        .map(|text| {
            time::parse_rfc3339(text).map_err(|err| {
                Problem::invalid_parameter(format!("since: {err}")).with_field(Some("since"))
            })
        })
        .transpose()?;
    let limit = page_limit(params.limit)?;
    let cursor = cursor_param(params.cursor.as_deref(), |bytes| bytes.len() > 8)?;
    let query = VerdictQuery {
        subject_type: params.subject_type,
        action: params.action,
        category: params.category,
        seller_id: params.seller_id,
        since,
        limit,
        cursor,
    };
    let page = state
        .store
        .query_verdicts(&query)
        .map_err(|err| store_problem(&state, err))?;
    Ok(Json(ListResponse {
        verdicts: page.verdicts,
        next_cursor: page.next_cursor.map(hex::encode),
    }))
}
