//! Event time as text, for messages and evidence a reviewer reads.
//!
//! A plugin has no clock of its own and no date library is needed for this: timestamps are
//! milliseconds since the Unix epoch, and these functions turn them into UTC text.
//!
//! ```
//! use probity_sdk::time;
//! // 2026-11-01T10:00:00Z
//! assert_eq!(time::minutes(1_793_527_200_000), "2026-11-01 10:00Z");
//! assert_eq!(time::rfc3339(1_793_527_200_123), "2026-11-01T10:00:00.123Z");
//! ```

use crate::prelude::Timestamp;

/// `YYYY-MM-DD HH:MMZ` (UTC): short, for messages.
pub fn minutes(at: Timestamp) -> String {
    let (date, minute_of_day, _) = split(at);
    format!(
        "{date} {:02}:{:02}Z",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// RFC 3339 in UTC with milliseconds, as the contract writes `occurred_at`.
pub fn rfc3339(at: Timestamp) -> String {
    let (date, minute_of_day, millis) = split(at);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        minute_of_day / 60,
        minute_of_day % 60,
        millis / 1000,
        millis % 1000
    )
}

/// The date, the minute of the day and the milliseconds within the minute.
fn split(at: Timestamp) -> (String, i64, i64) {
    let minutes = at.div_euclid(60_000);
    let (year, month, day) = civil_from_days(minutes.div_euclid(1440));
    (
        format!("{year:04}-{month:02}-{day:02}"),
        minutes.rem_euclid(1440),
        at.rem_euclid(60_000),
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(minutes(0), "1970-01-01 00:00Z");
        assert_eq!(minutes(951_782_400_000), "2000-02-29 00:00Z");
        assert_eq!(minutes(-60_000), "1969-12-31 23:59Z");
        assert_eq!(rfc3339(1_790_812_800_001), "2026-10-01T00:00:00.001Z");
    }
}
