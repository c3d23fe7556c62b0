//! Writing contract JSON by hand: timestamps, money and escaped strings appended to a
//! `String`.
//!
//! The generator must produce a million events in a few seconds, so it writes each line
//! straight into a reused buffer instead of building a `serde_json::Value` first; these
//! helpers keep that hand-written JSON correct.

use std::fmt::Write as _;

/// The offset every generated timestamp carries: China Standard Time, as a marketplace
/// there would send it.
const OFFSET_MS: i64 = 8 * 3_600_000;

/// Append `ms` (since the epoch) as RFC 3339 in UTC+08:00, whole seconds:
/// `2026-10-01T08:00:00+08:00`.
pub fn push_timestamp(out: &mut String, ms: i64) {
    // The wall-clock time at +08:00 is the UTC time eight hours later; the SDK writes
    // that as `YYYY-MM-DDTHH:MM:SS.mmmZ`, of which the first 19 bytes are kept.
    let utc = probity_sdk::time::rfc3339(ms + OFFSET_MS);
    out.push_str(&utc[..19]);
    out.push_str("+08:00");
}

/// Append `{"amount":"12.34","currency":"CNY"}` for `cents`.
pub fn push_money(out: &mut String, cents: u64) {
    let _ = write!(
        out,
        r#"{{"amount":"{}.{:02}","currency":"CNY"}}"#,
        cents / 100,
        cents % 100
    );
}

/// Append `text` as a JSON string literal, quotes included.
pub fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Append `,"name":` (the comma, the key and the colon) to an object being written.
pub fn push_key(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

/// Append `,"name":"text"`.
pub fn push_field(out: &mut String, name: &str, text: &str) {
    push_key(out, name);
    push_str(out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc_plus_eight() {
        let mut out = String::new();
        push_timestamp(&mut out, crate::stream::START_MS + 3_723_999);
        assert_eq!(out, "2026-10-01T01:02:03+08:00");
        out.clear();
        push_timestamp(&mut out, 0);
        assert_eq!(out, "1970-01-01T08:00:00+08:00");
    }

    #[test]
    fn strings_and_money_are_escaped_json() {
        let mut out = String::from("{\"a\":1");
        push_field(&mut out, "t", "say \"hi\"\\\n国家级");
        push_key(&mut out, "m");
        push_money(&mut out, 1905);
        out.push('}');
        let value: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(value["t"], "say \"hi\"\\\n国家级");
        assert_eq!(value["m"]["amount"], "19.05");
    }
}
