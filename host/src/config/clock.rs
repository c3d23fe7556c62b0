//! The `[clock]` table: how far event time may run ahead of the host's wall clock.
//!
//! Event time is the highest `occurred_at` accepted and never goes back, so one event
//! dated in the far future would move it for good: every later event would be "late" and
//! every state entry with a time-to-live would expire at once. `max_future` bounds how
//! far ahead of the wall clock an event may be; beyond it the event is refused, and
//! nothing of it is stored. `follow_wall_clock` lets a live server move event time with
//! the wall clock, so that deadlines pass when no event comes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[clock]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// How far ahead of the host's wall clock an event's `occurred_at` may be, as a
    /// duration (`"10m"`, `"30s"`, `"2h"`); `"0s"` accepts nothing from the future.
    pub max_future: String,
    /// `probity serve` moves event time with the wall clock, so deadlines pass on a
    /// quiet night too. Turn it off for a back-fill of historical events, where only the
    /// events may move the clock. (`probity check` never follows the wall clock.)
    pub follow_wall_clock: bool,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            max_future: "10m".to_string(),
            follow_wall_clock: true,
        }
    }
}

impl ClockConfig {
    /// `max_future` in milliseconds.
    pub fn max_future_ms(&self) -> Result<i64, String> {
        parse_duration_ms(&self.max_future)
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let ms = self
            .max_future_ms()
            .map_err(|message| ("max_future".to_string(), message))?;
        // A year is already far more than any client clock is off by.
        if ms > 366 * 86_400_000 {
            return Err((
                "max_future".to_string(),
                format!("`{}` is more than a year", self.max_future),
            ));
        }
        Ok(())
    }
}

/// A duration written for people (`"10m"`, `"1h 30m"`, `"500ms"`) in milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let duration: Duration = humantime::parse_duration(text.trim()).map_err(|err| {
        format!("`{text}` is not a duration ({err}); write e.g. \"10m\", \"30s\" or \"2h\"")
    })?;
    i64::try_from(duration.as_millis()).map_err(|_| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_people_write_them() {
        assert_eq!(parse_duration_ms("10m"), Ok(600_000));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
        assert_eq!(parse_duration_ms("1h 30m"), Ok(5_400_000));
        assert!(parse_duration_ms("ten minutes").is_err());
        assert!(parse_duration_ms("").is_err());
    }

    #[test]
    fn a_bound_past_a_year_is_refused() {
        let clock = ClockConfig {
            max_future: "400days".into(),
            ..ClockConfig::default()
        };
        assert!(clock.validate().is_err());
        assert!(ClockConfig::default().validate().is_ok());
    }
}
