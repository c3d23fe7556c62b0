//! Publishing ratings: on the schedule in event time (called by the server's ticker) and
//! on demand (`POST /v1/admin/ratings/publish`), each publication in the audit trail.
//!
//! What a publication holds and how measures follow it is in
//! [`crate::rating::publish`].

use serde_json::json;

use crate::config::RatingConfig;
use crate::model::time;
use crate::rating::{self, PeriodSummary, PublishError};
use crate::store::{Store, StoreError};

/// Publish every scheduled period the event-time clock has passed; returns how many.
pub fn publish_due(store: &dyn Store, config: &RatingConfig) -> Result<usize, StoreError> {
    let Some(clock) = store.clock()? else {
        return Ok(0);
    };
    let mut published = 0;
    for (period, as_of) in rating::publish::due_periods(store, config, clock)? {
        if !rating::has_sellers(store)? {
            // Nothing to publish yet; the month is passed all the same.
            rating::publish::mark_scheduled(store, &period)?;
            continue;
        }
        match rating::publish::publish(store, config, &period, "scheduled", as_of) {
            Ok(summary) => {
                audit(store, "schedule", None, &summary);
                tracing::info!(period = %period, sellers = summary.sellers, "ratings published");
                published += 1;
            }
            Err(PublishError::Exists(_)) => {}
            Err(PublishError::Store(err)) => return Err(err),
        }
        rating::publish::mark_scheduled(store, &period)?;
    }
    Ok(published)
}

/// Publish now, as of the event-time clock (`actor`: the token that asked).
pub fn publish_now(
    store: &dyn Store,
    config: &RatingConfig,
    actor: Option<&str>,
) -> Result<PeriodSummary, PublishError> {
    let as_of = store.clock()?.unwrap_or_else(time::wall_clock_now);
    let text = time::format_rfc3339(as_of);
    // `2026-11-14T10:00:00Z`: the clock to the second names the period.
    let period = format!("{}Z", text.get(..19).unwrap_or(&text));
    let summary = rating::publish::publish(store, config, &period, "on_demand", as_of)?;
    audit(store, "api", actor, &summary);
    Ok(summary)
}

fn audit(store: &dyn Store, trigger: &str, actor: Option<&str>, summary: &PeriodSummary) {
    let fields = json!({
        "period": summary.period,
        "as_of": time::format_rfc3339(summary.as_of),
        "sellers": summary.sellers,
        "grades": summary.grades,
    });
    super::audit::record_action(store, trigger, actor, "ratings_published", fields);
}
