//! Publication of ratings (公示) and the measures taken against sellers below standard.
//!
//! A **publication** freezes every seller's rating as of one point in event time: on a
//! schedule (`[rating] publish = "monthly"`: each calendar month, once the event-time
//! clock has passed its end, as of its last millisecond) or on demand (as of the clock
//! then). It is stored whole, as published, in the store's host records, so later events
//! — even ones dated inside the period — never change it.
//!
//! **Measures** follow publications: at each one, a seller gets every
//! `[[rating.measures]]` whose grades include its published grade (or whose rule it was
//! found breaking in the window) and does not have yet — recorded once, with the period
//! it started in — and loses those that no longer apply, recorded as ended. A measure is
//! thus as stable as the publication that decided it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::score::{Rating, SellerFacts};
use crate::config::RatingConfig;
use crate::model::time::{self, Timestamp};
use crate::store::{Store, StoreError};

/// The host record listing the periods published, oldest first.
const PERIODS: &str = "rating_periods";
/// The host record of the last scheduled period published.
const LAST_SCHEDULED: &str = "rating_last_scheduled";
/// Most scheduled periods published at once after a long jump of the clock.
const MAX_CATCH_UP: usize = 24;

fn period_key(period: &str) -> String {
    format!("rating_period:{period}")
}

fn measures_key(seller: &str) -> String {
    format!("rating_measures:{seller}")
}

/// One published period, as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// `2026-11` for a scheduled month, or the time of an on-demand publication.
    pub period: String,
    /// `scheduled` or `on_demand`.
    pub kind: String,
    /// The event time the ratings are as of.
    #[serde(with = "time::rfc3339")]
    pub as_of: Timestamp,
    /// The wall-clock time it was published.
    #[serde(with = "time::rfc3339")]
    pub published_at: Timestamp,
    /// How many sellers it lists.
    pub sellers: usize,
    /// How many of them have each grade (and `not_rated`).
    pub grades: BTreeMap<String, usize>,
}

/// A measure taken against a seller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureRecord {
    /// The measure's name.
    pub measure: String,
    /// The published grade that started it, if a grade did.
    pub grade: Option<String>,
    /// The rule that started it, if a rule did.
    pub rule: Option<String>,
    /// The notice, in English.
    pub notice_en: String,
    /// The notice, in Chinese.
    pub notice_zh: String,
    /// The period whose publication started it.
    pub started_period: String,
    /// That publication's event time.
    #[serde(with = "time::rfc3339")]
    pub started_at: Timestamp,
    /// The period whose publication ended it; absent while it lasts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ended_period: Option<String>,
    /// That publication's event time.
    #[serde(
        with = "time::rfc3339::option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub ended_at: Option<Timestamp>,
}

impl MeasureRecord {
    /// Whether it was in force at event time `at`.
    pub fn active_at(&self, at: Timestamp) -> bool {
        self.started_at <= at && self.ended_at.is_none_or(|end| at < end)
    }
}

/// Every measure ever taken against `seller`, oldest first.
pub fn measures(store: &dyn Store, seller: &str) -> Result<Vec<MeasureRecord>, StoreError> {
    Ok(store
        .meta(&measures_key(seller))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

/// The periods published, oldest first.
pub fn periods(store: &dyn Store) -> Result<Vec<PeriodSummary>, StoreError> {
    Ok(store
        .meta(PERIODS)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

/// One published period, whole, as it was published.
pub fn period(store: &dyn Store, period: &str) -> Result<Option<serde_json::Value>, StoreError> {
    Ok(store
        .meta(&period_key(period))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Why a publication was not made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// That period is published already.
    #[error("period `{0}` is published already; a publication never changes")]
    Exists(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publish every seller's rating as of `as_of` as `period` (`kind`: `scheduled` or
/// `on_demand`), updating measures; returns its summary.
pub fn publish(
    store: &dyn Store,
    config: &RatingConfig,
    period: &str,
    kind: &str,
    as_of: Timestamp,
) -> Result<PeriodSummary, PublishError> {
    if store.meta(&period_key(period))?.is_some() {
        return Err(PublishError::Exists(period.to_string()));
    }
    let sellers = super::sellers(store, None, usize::MAX)?;
    let mut listed = Vec::with_capacity(sellers.len());
    let mut grades: BTreeMap<String, usize> = BTreeMap::new();
    for seller in &sellers {
        let facts = super::seller_facts(store, seller)?;
        let rating = super::rate(seller, &facts, config, as_of);
        let active = take_measures(store, config, &rating, &facts, period, as_of)?;
        *grades
            .entry(rating.grade.unwrap_or("not_rated").to_string())
            .or_default() += 1;
        let mut entry = serde_json::to_value(&rating).unwrap_or_default();
        if let Some(object) = entry.as_object_mut() {
            object.insert(
                "measures".into(),
                serde_json::to_value(&active).unwrap_or_default(),
            );
        }
        listed.push(entry);
    }
    let summary = PeriodSummary {
        period: period.to_string(),
        kind: kind.to_string(),
        as_of,
        published_at: time::wall_clock_now(),
        sellers: listed.len(),
        grades,
    };
    let mut whole = serde_json::to_value(&summary).unwrap_or_default();
    if let Some(object) = whole.as_object_mut() {
        object.insert("ratings".into(), serde_json::Value::Array(listed));
        object.insert(
            "settings".into(),
            serde_json::to_value(config).unwrap_or_default(),
        );
    }
    store.set_meta(&period_key(period), whole.to_string().as_bytes())?;
    let mut all = periods(store)?;
    all.push(summary.clone());
    store.set_meta(PERIODS, &serde_json::to_vec(&all).unwrap_or_default())?;
    Ok(summary)
}

/// Start and end `rating`'s seller's measures for this publication; the ones in force.
fn take_measures(
    store: &dyn Store,
    config: &RatingConfig,
    rating: &Rating,
    facts: &SellerFacts,
    period: &str,
    as_of: Timestamp,
) -> Result<Vec<MeasureRecord>, StoreError> {
    let window = config.window_ms().unwrap_or(90 * 86_400_000);
    let mut records = measures(store, &rating.seller_id)?;
    let before = records.clone();
    for measure in &config.measures {
        let by_grade = rating
            .grade
            .filter(|g| measure.grades.iter().any(|m| m == g));
        let by_rule = measure.rule.as_ref().filter(|rule| {
            facts.findings.iter().any(|f| {
                &f.rule == *rule
                    && f.at <= as_of
                    && f.at > as_of - window
                    && f.overturned_at.is_none_or(|at| at > as_of)
                    && (!measure.confirmed || f.confirmed_at.is_some_and(|at| at <= as_of))
            })
        });
        let applies = by_grade.is_some() || by_rule.is_some();
        let open = records
            .iter_mut()
            .find(|r| r.measure == measure.name && r.ended_at.is_none());
        match (applies, open) {
            (true, None) => records.push(MeasureRecord {
                measure: measure.name.clone(),
                grade: by_grade.map(str::to_string),
                rule: by_rule.cloned(),
                notice_en: measure.notice_en.clone(),
                notice_zh: measure.notice_zh.clone(),
                started_period: period.to_string(),
                started_at: as_of,
                ended_period: None,
                ended_at: None,
            }),
            (false, Some(open)) => {
                open.ended_period = Some(period.to_string());
                open.ended_at = Some(as_of);
            }
            _ => {}
        }
    }
    // A measure whose configuration was removed ends too.
    for record in records.iter_mut().filter(|r| r.ended_at.is_none()) {
        if !config.measures.iter().any(|m| m.name == record.measure) {
            record.ended_period = Some(period.to_string());
            record.ended_at = Some(as_of);
        }
    }
    if records != before {
        store.set_meta(
            &measures_key(&rating.seller_id),
            &serde_json::to_vec(&records).unwrap_or_default(),
        )?;
    }
    Ok(records
        .into_iter()
        .filter(|r| r.ended_at.is_none())
        .collect())
}

/// The scheduled periods due with the clock at `clock`: each month since the last one
/// published, as `(period, as_of)`, oldest first. The first time (nothing scheduled
/// yet), none: the schedule starts with the clock's month, which is published once the
/// clock has passed it — a month before Probity saw any event is not a period.
pub fn due_periods(
    store: &dyn Store,
    config: &RatingConfig,
    clock: Timestamp,
) -> Result<Vec<(String, Timestamp)>, StoreError> {
    if config.publish != "monthly" {
        return Ok(Vec::new());
    }
    let (year, month) = time::month_of(clock);
    let current_start = time::start_of_month(year, month);
    let last: Option<(i64, u32)> = store
        .meta(LAST_SCHEDULED)?
        .and_then(|bytes| parse_month(&String::from_utf8_lossy(&bytes)));
    let mut due = Vec::new();
    let Some((last_year, last_month)) = last else {
        let (y, m) = time::month_of(current_start - 1);
        mark_scheduled(store, &format!("{y:04}-{m:02}"))?;
        return Ok(due);
    };
    let mut cursor = time::next_month(last_year, last_month);
    while time::start_of_month(cursor.0, cursor.1) < current_start && due.len() < MAX_CATCH_UP {
        let (next_y, next_m) = time::next_month(cursor.0, cursor.1);
        due.push((
            format!("{:04}-{:02}", cursor.0, cursor.1),
            time::start_of_month(next_y, next_m) - 1,
        ));
        cursor = (next_y, next_m);
    }
    Ok(due)
}

/// Record that the scheduled `period` was published (or had nothing to publish).
pub fn mark_scheduled(store: &dyn Store, period: &str) -> Result<(), StoreError> {
    store.set_meta(LAST_SCHEDULED, period.as_bytes())
}

fn parse_month(text: &str) -> Option<(i64, u32)> {
    let (year, month) = text.split_once('-')?;
    Some((year.parse().ok()?, month.parse().ok()?))
}
