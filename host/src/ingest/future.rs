//! The bound on how far ahead of the host's wall clock an event may be dated.
//!
//! Event time never goes back, so one event from year 9999 would move it for good (see
//! [`crate::config::ClockConfig`]). The server and the offline tools check every parsed
//! event against the bound before it reaches the pipeline; a replay of the log does not,
//! because the log holds only events that passed when they were first accepted.

use std::time::Duration;

use super::EventError;
use crate::model::event::Event;
use crate::model::time::{Timestamp, format_rfc3339};

/// Refuse `event` if its `occurred_at` is more than `max_future_ms` after `wall_now`.
pub fn check_not_ahead(
    event: &Event,
    wall_now: Timestamp,
    max_future_ms: i64,
) -> Result<(), EventError> {
    let ahead = event.occurred_at.saturating_sub(wall_now);
    if ahead <= max_future_ms {
        return Ok(());
    }
    Err(EventError::invalid(
        "occurred_at",
        format!(
            "{} is {} ahead of the server's clock ({}); at most {} ahead is accepted ([clock] max_future)",
            format_rfc3339(event.occurred_at),
            human(ahead),
            format_rfc3339(wall_now),
            human(max_future_ms),
        ),
    ))
}

/// A duration in whole seconds, as people write it (`10m`, `7973years 2months …`).
fn human(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).unwrap_or(0);
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse_event;
    use crate::model::time::parse_rfc3339;
    use crate::privacy::Pseudonymizer;

    fn dated(at: &str) -> Event {
        let pz = Pseudonymizer::new(b"0123456789abcdef").expect("key");
        let raw = format!(
            r#"{{"event_id":"e1","type":"order.paid","occurred_at":"{at}","order_id":"O-1"}}"#
        );
        parse_event(raw.as_bytes(), &pz).expect("valid")
    }

    #[test]
    fn an_event_beyond_the_bound_is_refused_naming_the_field_and_the_bound() {
        let now = parse_rfc3339("2026-11-10T00:00:00Z").expect("time");
        let err =
            check_not_ahead(&dated("9999-12-31T00:00:00Z"), now, 600_000).expect_err("refused");
        assert_eq!(err.field(), Some("occurred_at"));
        let text = err.to_string();
        assert!(text.contains("at most 10m ahead"), "{text}");
        assert!(text.contains("9999-12-31T00:00:00"), "{text}");
    }

    #[test]
    fn events_within_the_bound_and_late_events_pass() {
        let now = parse_rfc3339("2026-11-10T00:00:00Z").expect("time");
        for at in [
            "2026-11-10T00:10:00Z",
            "2026-11-09T23:00:00Z",
            "1999-01-01T00:00:00Z",
        ] {
            assert!(check_not_ahead(&dated(at), now, 600_000).is_ok(), "{at}");
        }
        assert!(check_not_ahead(&dated("2026-11-10T00:10:00.001Z"), now, 600_000).is_err());
    }
}
