//! Event time: [`Timestamp`] and its one text form, RFC 3339.
//!
//! The host reasons in whole milliseconds since the Unix epoch (UTC), the same
//! `timestamp` the plugin ABI uses, so no conversion happens between ingest, storage and
//! plugins. This module owns the only parser and formatter for the text form:
//!
//! - [`parse_rfc3339`] reads `2026-11-01T18:00:00.1234+08:00`: the UTC offset is
//!   **required** (a timestamp without one is ambiguous and is refused), sub-millisecond
//!   digits are truncated, and only instants in years 1970..=9999 (UTC) are accepted.
//! - [`format_rfc3339`] writes `2026-11-01T10:00:00.120Z`: always UTC, always three
//!   fraction digits, so formatting then parsing gives the same value back.
//! - [`rfc3339`] plugs both into serde (`#[serde(with = "crate::model::time::rfc3339")]`).
//!
//! The parser is hand-written rather than delegated to a date crate so that every
//! refusal names what was wrong (a missing offset, a 30 February, a year out of range).

/// A point in event time: whole milliseconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// The earliest timestamp [`parse_rfc3339`] accepts: 1970-01-01T00:00:00.000Z.
pub const MIN_TIMESTAMP: Timestamp = 0;

/// The latest timestamp [`parse_rfc3339`] accepts: 9999-12-31T23:59:59.999Z.
pub const MAX_TIMESTAMP: Timestamp = 253_402_300_799_999;

const MS_PER_DAY: i64 = 86_400_000;

/// Why a text is not an acceptable timestamp.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text does not have the RFC 3339 shape.
    #[error(
        "not an RFC 3339 timestamp like 2026-11-01T18:00:00+08:00: expected {expected} at position {position}"
    )]
    Syntax {
        /// 1-based byte position of the problem.
        position: usize,
        /// What should have been there.
        expected: &'static str,
    },
    /// The timestamp has no UTC offset, so the instant it means is unknown.
    #[error("timestamp has no UTC offset; add `Z` for UTC or an offset like `+08:00`")]
    MissingOffset,
    /// The year is outside the supported range.
    #[error("year {year} is outside the supported range 1970..=9999")]
    YearOutOfRange {
        /// The year as written.
        year: i64,
    },
    /// The day does not exist in that month.
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    InvalidDate {
        /// The year as written.
        year: i64,
        /// The month as written.
        month: u32,
        /// The day as written.
        day: u32,
    },
    /// An hour, minute, second or offset component is too large.
    #[error("{component} {value} is out of range (at most {max})")]
    ComponentOutOfRange {
        /// Which component: `month`, `hour`, `minute`, `second`, `offset hour`…
        component: &'static str,
        /// The value as written.
        value: u32,
        /// The largest value allowed.
        max: u32,
    },
    /// The instant, converted to UTC, falls before 1970-01-01T00:00:00Z.
    #[error("timestamp is before 1970-01-01T00:00:00Z once converted to UTC")]
    BeforeEpoch,
    /// The instant, converted to UTC, falls after 9999-12-31T23:59:59.999Z.
    #[error("timestamp is after 9999-12-31T23:59:59.999Z once converted to UTC")]
    AfterMax,
}

/// Parse an RFC 3339 date-time with a UTC offset into a [`Timestamp`].
///
/// Accepts `T` or `t` between date and time, `Z`/`z` or `±HH:MM` as offset and any number
/// of fraction digits (only the first three count: sub-milliseconds are truncated). A
/// leap second (`:60`) reads as the last millisecond of its minute.
///
/// ```
/// use probity::model::time::{format_rfc3339, parse_rfc3339};
/// let ts = parse_rfc3339("2026-11-01T18:00:00.1209+08:00").unwrap();
/// assert_eq!(format_rfc3339(ts), "2026-11-01T10:00:00.120Z");
/// assert!(parse_rfc3339("2026-11-01T18:00:00").is_err()); // no offset
/// ```
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = c.year()?;
    c.expect(b"-", "`-` after the year")?;
    let month = c.two_digits("a two-digit month")?;
    c.expect(b"-", "`-` after the month")?;
    let day = c.two_digits("a two-digit day")?;
    c.expect(b"Tt", "`T` and a time after the date")?;
    let hour = c.two_digits("a two-digit hour")?;
    c.expect(b":", "`:` after the hour")?;
    let minute = c.two_digits("two-digit minutes")?;
    c.expect(b":", "`:` after the minutes")?;
    let second = c.two_digits("two-digit seconds")?;
    let mut millis = 0;
    if c.peek() == Some(b'.') {
        c.pos += 1;
        millis = c.fraction_millis()?;
    }
    let offset_minutes = match c.peek() {
        None => return Err(TimeError::MissingOffset),
        Some(b'Z' | b'z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.two_digits("a two-digit offset hour")?;
            c.expect(b":", "`:` inside the offset")?;
            let om = c.two_digits("two-digit offset minutes")?;
            check_max("offset hour", oh, 23)?;
            check_max("offset minute", om, 59)?;
            let total = i64::from(oh * 60 + om);
            if sign == b'-' { -total } else { total }
        }
        Some(_) => return Err(c.syntax("`Z` or an offset like `+08:00`")),
    };
    if c.peek().is_some() {
        return Err(c.syntax("the end of the timestamp"));
    }

    if !(1970..=9999).contains(&year) {
        return Err(TimeError::YearOutOfRange { year });
    }
    check_max("month", month, 12)?;
    if month == 0 || day == 0 || day > days_in_month(year, month) {
        return Err(TimeError::InvalidDate { year, month, day });
    }
    check_max("hour", hour, 23)?;
    check_max("minute", minute, 59)?;
    check_max("second", second, 60)?;
    let (second, millis) = if second == 60 {
        (59, 999)
    } else {
        (second, millis)
    };

    let seconds_of_day = i64::from((hour * 60 + minute) * 60 + second);
    let local =
        days_from_civil(year, month, day) * MS_PER_DAY + seconds_of_day * 1000 + i64::from(millis);
    let utc = local - offset_minutes * 60_000;
    if utc < MIN_TIMESTAMP {
        Err(TimeError::BeforeEpoch)
    } else if utc > MAX_TIMESTAMP {
        Err(TimeError::AfterMax)
    } else {
        Ok(utc)
    }
}

/// The wall clock now, in Unix milliseconds (for audit times and clock-lag metrics —
/// never for event time, which only events move).
pub fn wall_clock_now() -> Timestamp {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Timestamp
}

/// Format a [`Timestamp`] as RFC 3339 in UTC with milliseconds: `2026-11-01T10:00:00.120Z`.
///
/// Every value in [`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`] round-trips through
/// [`parse_rfc3339`]. Values outside it (which only plugins or arithmetic can produce)
/// still format, with a signed, expanded year (`+10000-…`, `-0001-…`), and never panic.
pub fn format_rfc3339(ts: Timestamp) -> String {
    let days = ts.div_euclid(MS_PER_DAY);
    let ms_of_day = ts.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let millis = ms_of_day % 1000;
    let seconds = ms_of_day / 1000;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
    } else {
        format!("{year:+05}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
    }
}

/// The calendar month (UTC) of `ts`: `(year, month 1–12)`.
pub fn month_of(ts: Timestamp) -> (i64, u32) {
    let (year, month, _) = civil_from_days(ts.div_euclid(MS_PER_DAY));
    (year, month)
}

/// The first millisecond of `month` of `year` (UTC).
pub fn start_of_month(year: i64, month: u32) -> Timestamp {
    days_from_civil(year, month, 1) * MS_PER_DAY
}

/// The month after `month` of `year`.
pub fn next_month(year: i64, month: u32) -> (i64, u32) {
    if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn check_max(component: &'static str, value: u32, max: u32) -> Result<(), TimeError> {
    if value > max {
        Err(TimeError::ComponentOutOfRange {
            component,
            value,
            max,
        })
    } else {
        Ok(())
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]; total over all `i64` day counts a timestamp has.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, month as u32, day as u32)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn syntax(&self, expected: &'static str) -> TimeError {
        TimeError::Syntax {
            position: self.pos + 1,
            expected,
        }
    }

    fn expect(&mut self, one_of: &[u8], expected: &'static str) -> Result<(), TimeError> {
        match self.peek() {
            Some(b) if one_of.contains(&b) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.syntax(expected)),
        }
    }

    fn two_digits(&mut self, expected: &'static str) -> Result<u32, TimeError> {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some([a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => {
                self.pos += 2;
                Ok(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
            }
            _ => Err(self.syntax(expected)),
        }
    }

    /// A four-digit year; a signed or longer year is read whole so that the error can
    /// say "year 10000 is out of range" rather than "expected `-`".
    fn year(&mut self) -> Result<i64, TimeError> {
        let negative = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                false
            }
            Some(b'-') => {
                self.pos += 1;
                true
            }
            _ => false,
        };
        let start = self.pos;
        let mut year: i64 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            year = year.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            self.pos += 1;
        }
        let digits = self.pos - start;
        if digits == 0 {
            self.pos = start;
            return Err(self.syntax("a four-digit year"));
        }
        let year = if negative { -year } else { year };
        if digits != 4 || start != 0 {
            if (1970..=9999).contains(&year) {
                // `+2026` or `02026`: the year is fine, its spelling is not.
                return Err(TimeError::Syntax {
                    position: 1,
                    expected: "an unsigned four-digit year",
                });
            }
            return Err(TimeError::YearOutOfRange { year });
        }
        Ok(year)
    }

    /// Fraction digits after `.`: at least one; the first three give milliseconds.
    fn fraction_millis(&mut self) -> Result<u32, TimeError> {
        let start = self.pos;
        let mut millis = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            if self.pos - start < 3 {
                millis = millis * 10 + u32::from(d - b'0');
            }
            self.pos += 1;
        }
        match self.pos - start {
            0 => Err(self.syntax("fraction digits after `.`")),
            1 => Ok(millis * 100),
            2 => Ok(millis * 10),
            _ => Ok(millis),
        }
    }
}

/// Serde support: a [`Timestamp`] as its RFC 3339 text (see [`format_rfc3339`]).
///
/// Use as `#[serde(with = "crate::model::time::rfc3339")]`, or
/// `#[serde(with = "crate::model::time::rfc3339::option")]` for `Option<Timestamp>`.
pub mod rfc3339 {
    use std::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use super::{Timestamp, format_rfc3339, parse_rfc3339};

    /// Write the timestamp as RFC 3339 UTC text.
    pub fn serialize<S: Serializer>(ts: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_rfc3339(*ts))
    }

    /// Read RFC 3339 text (with offset) into a timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        deserializer.deserialize_str(Rfc3339Visitor)
    }

    struct Rfc3339Visitor;

    impl Visitor<'_> for Rfc3339Visitor {
        type Value = Timestamp;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp with offset, like \"2026-11-01T10:00:00Z\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
            parse_rfc3339(text).map_err(E::custom)
        }
    }

    /// The same for `Option<Timestamp>` (`null` or absent with `#[serde(default)]`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::Timestamp;

        #[derive(serde::Deserialize)]
        struct Wrapped(#[serde(with = "super")] Timestamp);

        /// Write `Some` as RFC 3339 text and `None` as `null`.
        pub fn serialize<S: Serializer>(
            ts: &Option<Timestamp>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match ts {
                Some(ts) => super::serialize(ts, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Read `null` as `None` and RFC 3339 text as `Some`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(ts)| ts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Timestamp, TimeError> {
        parse_rfc3339(text)
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        let utc = parse("2026-11-01T10:00:00Z");
        assert_eq!(utc, Ok(1_793_527_200_000));
        assert_eq!(parse("2026-11-01T18:00:00+08:00"), utc);
        assert_eq!(parse("2026-11-01T05:30:00-04:30"), utc);
        assert_eq!(parse("2026-11-01T10:00:00-00:00"), utc);
        assert_eq!(parse("2026-11-01t10:00:00z"), utc);
    }

    #[test]
    fn sub_milliseconds_are_truncated() {
        let base = parse("2026-11-01T10:00:00Z").unwrap();
        assert_eq!(parse("2026-11-01T10:00:00.1Z"), Ok(base + 100));
        assert_eq!(parse("2026-11-01T10:00:00.12Z"), Ok(base + 120));
        assert_eq!(parse("2026-11-01T10:00:00.120999999Z"), Ok(base + 120));
    }

    #[test]
    fn a_timestamp_without_offset_is_refused() {
        assert_eq!(parse("2026-11-01T10:00:00"), Err(TimeError::MissingOffset));
        assert_eq!(
            parse("2026-11-01T10:00:00.5"),
            Err(TimeError::MissingOffset)
        );
    }

    fn year_error(text: &str) -> Option<i64> {
        match parse(text) {
            Err(TimeError::YearOutOfRange { year }) => Some(year),
            _ => None,
        }
    }

    fn component_error(text: &str) -> Option<&'static str> {
        match parse(text) {
            Err(TimeError::ComponentOutOfRange { component, .. }) => Some(component),
            _ => None,
        }
    }

    fn syntax_error_at(text: &str) -> Option<usize> {
        match parse(text) {
            Err(TimeError::Syntax { position, .. }) => Some(position),
            _ => None,
        }
    }

    #[test]
    fn years_outside_1970_to_9999_are_refused() {
        assert_eq!(year_error("1969-12-31T23:59:59Z"), Some(1969));
        assert_eq!(year_error("10000-01-01T00:00:00Z"), Some(10000));
        assert_eq!(year_error("-0001-01-01T00:00:00Z"), Some(-1));
        let message = parse("1900-01-01T00:00:00Z").unwrap_err().to_string();
        assert_eq!(
            message,
            "year 1900 is outside the supported range 1970..=9999"
        );
    }

    #[test]
    fn offsets_that_leave_the_range_are_refused() {
        assert_eq!(
            parse("1970-01-01T07:59:59+08:00"),
            Err(TimeError::BeforeEpoch)
        );
        assert_eq!(parse("9999-12-31T23:59:59-01:00"), Err(TimeError::AfterMax));
        assert_eq!(parse("9999-12-31T23:59:59.999Z"), Ok(MAX_TIMESTAMP));
    }

    #[test]
    fn impossible_dates_and_times_are_refused() {
        let (year, month, day) = (2026, 2, 29);
        let invalid = Err(TimeError::InvalidDate { year, month, day });
        assert_eq!(parse("2026-02-29T00:00:00Z"), invalid);
        assert!(parse("2028-02-29T00:00:00Z").is_ok());
        assert_eq!(component_error("2026-13-01T00:00:00Z"), Some("month"));
        assert_eq!(component_error("2026-01-01T24:00:00Z"), Some("hour"));
        assert_eq!(
            component_error("2026-01-01T00:00:00+24:00"),
            Some("offset hour")
        );
    }

    #[test]
    fn a_leap_second_is_the_last_millisecond_of_its_minute() {
        let next = parse("2017-01-01T00:00:00Z").unwrap();
        assert_eq!(parse("2016-12-31T23:59:60Z"), Ok(next - 1));
    }

    #[test]
    fn malformed_text_names_the_position() {
        assert_eq!(syntax_error_at(""), Some(1));
        let message = parse("2026-11-01").unwrap_err().to_string();
        assert!(message.ends_with("expected `T` and a time after the date at position 11"));
        assert_eq!(syntax_error_at("2026-1-01T00:00:00Z"), Some(6));
        assert_eq!(syntax_error_at("2026-11-01T10:00:00.Z"), Some(21));
        assert_eq!(syntax_error_at("2026-11-01T10:00:00Z "), Some(21));
        assert_eq!(syntax_error_at("2026-11-01T10:00:00+0800"), Some(23));
        assert_eq!(syntax_error_at("+2026-11-01T10:00:00Z"), Some(1));
    }

    #[test]
    fn formatting_is_utc_with_milliseconds() {
        let ts = parse("2026-11-01T18:00:00.12+08:00").unwrap();
        assert_eq!(format_rfc3339(ts), "2026-11-01T10:00:00.120Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(MAX_TIMESTAMP), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn formatting_then_parsing_round_trips() {
        for ts in [0, 1, 951_782_400_000, 1_793_527_200_123, MAX_TIMESTAMP] {
            assert_eq!(parse(&format_rfc3339(ts)), Ok(ts));
        }
    }

    #[test]
    fn formatting_out_of_range_values_does_not_panic() {
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert!(format_rfc3339(i64::MIN).starts_with('-'));
        assert!(format_rfc3339(i64::MAX).starts_with('+'));
    }
}
