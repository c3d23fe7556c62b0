//! `GET /v1/sellers/{seller_id}/rating` and `GET /v1/ratings`: sellers' credit ratings,
//! computed from their facts with the `[rating]` settings in force (see
//! [`crate::rating`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::rejection::{path_problem, query_problem};
use super::verdicts::store_problem;
use super::{AppState, Problem};
use crate::model::time::{self, Timestamp};
use crate::rating::{self, Rating};

/// Default page size of the rating list.
const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
const MAX_LIMIT: usize = 1000;
/// Most sellers one list request looks at (a filter that matches few sellers answers a
/// short page with a cursor to go on from).
const MAX_SCANNED: usize = 10_000;

/// The query of `GET …/rating`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingParams {
    at: Option<String>,
}

fn parse_at(at: Option<&str>) -> Result<Option<Timestamp>, Problem> {
    at.map(|text| {
        time::parse_rfc3339(text).map_err(|_| {
            Problem::invalid_parameter(format!(
                "`at` must be an RFC 3339 time such as 2026-11-01T00:00:00Z, got `{text}`"
            ))
            .with_field(Some("at"))
        })
    })
    .transpose()
}

/// The event time a rating is computed for when no `at` is given: the clock.
fn now(state: &AppState) -> Result<Timestamp, Problem> {
    Ok(state
        .store
        .clock()
        .map_err(|err| store_problem(state, err))?
        .unwrap_or_else(time::wall_clock_now))
}

/// A rating with the measures in force at its `as_of`.
#[derive(Debug, Serialize)]
pub struct RatingView {
    #[serde(flatten)]
    rating: Rating,
    /// The measures in force then (see `GET …/measures` for all of them).
    measures: Vec<rating::MeasureRecord>,
}

fn rating_of(state: &AppState, seller: &str, as_of: Timestamp) -> Result<RatingView, Problem> {
    let store = state.store.as_ref();
    let facts = rating::seller_facts(store, seller).map_err(|err| store_problem(state, err))?;
    let rating = rating::rate(
        seller,
        &facts,
        &state.reloader.running().config.rating,
        as_of,
    );
    let measures = rating::publish::measures(store, seller)
        .map_err(|err| store_problem(state, err))?
        .into_iter()
        .filter(|m| m.active_at(as_of))
        .collect();
    Ok(RatingView { rating, measures })
}

/// `GET /v1/sellers/{seller_id}/rating[?at=RFC3339]`: the rating now (at the event-time
/// clock), or as it stood at `at`.
pub async fn one(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<RatingParams>, QueryRejection>,
) -> Result<Json<RatingView>, Problem> {
    let Path(seller) = path.map_err(path_problem)?;
    let Query(params) = query.map_err(query_problem)?;
    let at = parse_at(params.at.as_deref())?;
    let known = rating::is_known(state.store.as_ref(), &seller)
        .map_err(|err| store_problem(&state, err))?;
    if !known {
        return Err(Problem::not_found(format!(
            "no order, complaint or finding of seller `{seller}` has been evaluated"
        )));
    }
    let as_of = match at {
        Some(at) => at,
        None => now(&state)?,
    };
    Ok(Json(rating_of(&state, &seller, as_of)?))
}

/// The query of `GET /v1/ratings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    grade: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of ratings.
#[derive(Debug, Serialize)]
pub struct RatingPage {
    ratings: Vec<RatingView>,
    /// Pass back as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// `GET /v1/ratings?grade=&status=&limit=&cursor=`: current ratings by seller id.
pub async fn list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<RatingPage>, Problem> {
    let Query(params) = query.map_err(query_problem)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::invalid_parameter(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        ))
        .with_field(Some("limit")));
    }
    if let Some(grade) = &params.grade
        && !["A", "B", "C", "D", "E"].contains(&grade.as_str())
    {
        return Err(Problem::invalid_parameter(format!(
            "`grade` must be one of A, B, C, D, E; got `{grade}`"
        ))
        .with_field(Some("grade")));
    }
    if let Some(status) = &params.status
        && !["rated", "not_rated"].contains(&status.as_str())
    {
        return Err(Problem::invalid_parameter(format!(
            "`status` must be `rated` or `not_rated`; got `{status}`"
        ))
        .with_field(Some("status")));
    }
    let as_of = now(&state)?;
    // One scan of the sellers after the cursor, rated until the page is full.
    let sellers = rating::sellers(state.store.as_ref(), params.cursor.as_deref(), MAX_SCANNED)
        .map_err(|err| store_problem(&state, err))?;
    let mut ratings = Vec::new();
    let mut next_cursor = None;
    for (scanned, seller) in sellers.iter().enumerate() {
        let rating = rating_of(&state, seller, as_of)?;
        let wanted = params
            .grade
            .as_deref()
            .is_none_or(|g| rating.rating.grade == Some(g))
            && params
                .status
                .as_deref()
                .is_none_or(|s| rating.rating.status == s);
        if wanted {
            ratings.push(rating);
        }
        if ratings.len() == limit || scanned + 1 == MAX_SCANNED {
            next_cursor = Some(seller.clone());
            break;
        }
    }
    Ok(Json(RatingPage {
        ratings,
        next_cursor,
    }))
}

/// A seller's measures.
#[derive(Debug, Serialize)]
pub struct Measures {
    seller_id: String,
    /// Every measure ever taken, oldest first; those without `ended_at` are in force.
    measures: Vec<rating::MeasureRecord>,
}

/// `GET /v1/sellers/{seller_id}/measures`.
pub async fn measures(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Measures>, Problem> {
    let Path(seller) = path.map_err(path_problem)?;
    let known = rating::is_known(state.store.as_ref(), &seller)
        .map_err(|err| store_problem(&state, err))?;
    if !known {
        return Err(Problem::not_found(format!(
            "no order, complaint or finding of seller `{seller}` has been evaluated"
        )));
    }
    let measures = rating::publish::measures(state.store.as_ref(), &seller)
        .map_err(|err| store_problem(&state, err))?;
    Ok(Json(Measures {
        seller_id: seller,
        measures,
    }))
}

/// The periods published.
#[derive(Debug, Serialize)]
pub struct Periods {
    /// Oldest first.
    periods: Vec<rating::PeriodSummary>,
}

/// `GET /v1/ratings/published`.
pub async fn published(State(state): State<Arc<AppState>>) -> Result<Json<Periods>, Problem> {
    let periods =
        rating::publish::periods(state.store.as_ref()).map_err(|err| store_problem(&state, err))?;
    Ok(Json(Periods { periods }))
}

/// `GET /v1/ratings/published/{period}`: the period as it was published.
pub async fn published_period(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let Path(period) = path.map_err(path_problem)?;
    rating::publish::period(state.store.as_ref(), &period)
        .map_err(|err| store_problem(&state, err))?
        .map(Json)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no period `{period}` was published; GET /v1/ratings/published lists them"
            ))
        })
}

/// `POST /v1/admin/ratings/publish`: publish every seller's rating now, as of the
/// event-time clock; audited.
pub async fn publish(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::service::auth::Caller>>,
) -> Result<Json<rating::PeriodSummary>, Problem> {
    let actor = caller.map(|axum::Extension(c)| c.name);
    let store = state.store.clone();
    let config = state.reloader.running().config.rating.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        crate::service::ratings::publish_now(store.as_ref(), &config, actor.as_deref())
    })
    .await
    .map_err(|err| Problem::internal(format!("the publication task failed: {err}")))?;
    match outcome {
        Ok(summary) => Ok(Json(summary)),
        Err(rating::PublishError::Exists(period)) => Err(Problem::of(
            super::ProblemKind::AlreadyPublished,
            format!(
                "period `{period}` is published already (the event-time clock has not moved since); a publication never changes"
            ),
        )),
        Err(rating::PublishError::Store(err)) => Err(store_problem(&state, err)),
    }
}
