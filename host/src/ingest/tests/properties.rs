//! Properties of event parsing and validation, checked on generated input (proptest).
//!
//! What they prove, for any input the strategies can produce:
//!
//! - **No input panics the parser**, and every refusal is a typed [`EventError`] whose
//!   HTTP status (as `POST /v1/events` maps it) is a 4xx: arbitrary bytes (invalid UTF-8
//!   included), corrupted valid events, arbitrary JSON values, event-shaped objects with
//!   arbitrary member values, and nesting 1–20,000 levels deep.
//! - **Valid events round-trip**: a generated event of any of the twelve types (ids,
//!   money, timestamps with any offset, nested `buyer`, ordered `attributes`, optional
//!   members absent or `null`, members in any order) written as JSON parses to exactly
//!   the expected [`Event`](crate::model::event::Event) (personal values as their
//!   pseudonyms), and that event round-trips through its storage form.
//! - **Breaking one field names it**: deleting a member, making it `null`, changing its
//!   JSON type, putting an out-of-range value or an oversized string in it, or repeating
//!   it gives an error whose `field` is that member's contract path — or the event is
//!   accepted where the README says so (optional members, `null` optionals, blank
//!   optional personal values, unknown extra members anywhere).
//! - **NDJSON batches** with broken lines (truncated, trailing garbage, invalid UTF-8,
//!   not objects, one broken field) and blank lines spliced in at random positions parse
//!   every good line to its event and report exactly the broken lines' numbers.
//!
//! Each property runs 256 cases (the NDJSON one 64). The long variant:
//! `PROPTEST_CASES=100000 cargo test -p probity --lib ingest::tests::properties`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

use super::mutations::{Edit, Expect, apply, expect, mutated};
use super::pz;
use super::strategies::{Sample, any_event, arb_json, key, type_names};
use crate::ingest::{EventError, parse_event, split_ndjson};
use crate::model::event::Event;

/// `default_cases` cases, or `PROPTEST_CASES` when set (for the long variant).
fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        ..Config::default()
    }
}

/// The status `POST /v1/events` answers for `err` (mirrors the API's private
/// `event_problem`: 413 body-too-large, 400 malformed-json, 422 invalid-event).
fn http_status(err: &EventError) -> u16 {
    match err {
        EventError::TooLarge { .. } => 413,
        EventError::InvalidUtf8 { .. } | EventError::MalformedJson { .. } => 400,
        EventError::NotAnObject { .. }
        | EventError::UnknownEventType { .. }
        | EventError::MissingField { .. }
        | EventError::InvalidField { .. } => 422,
    }
}

fn parse(bytes: &[u8]) -> Result<Event, EventError> {
    parse_event(bytes, &pz())
}

/// Parse; assert a refusal is a well-formed, 4xx-class error.
fn parse_checked(bytes: &[u8]) -> Result<Event, EventError> {
    let result = parse(bytes);
    if let Err(err) = &result {
        assert!((400..500).contains(&http_status(err)), "{err:?}");
        assert!(!err.to_string().is_empty());
        if let EventError::InvalidUtf8 { offset } = err {
            assert!(*offset < bytes.len(), "offset {offset} of {}", bytes.len());
        }
        let names_a_field = matches!(
            err,
            EventError::MissingField { .. }
                | EventError::InvalidField { .. }
                | EventError::UnknownEventType { .. }
        );
        assert_eq!(err.field().is_some(), names_a_field, "{err:?}");
    }
    result
}

/// Objects shaped like events (a known `type`, mostly good envelopes) whose other
/// members hold anything.
fn event_shaped() -> impl Strategy<Value = Value> {
    let envelope = (
        prop_oneof![3 => Just(json!("e-1")), 1 => arb_json()],
        prop_oneof![5 => prop::sample::select(type_names()).prop_map(Value::from), 1 => arb_json()],
        prop_oneof![3 => Just(json!("2026-11-01T10:00:00Z")), 1 => arb_json()],
    );
    let members = prop::collection::btree_map(key(), arb_json(), 0..12);
    (envelope, members).prop_map(|((id, kind, at), mut members)| {
        members.insert("event_id".into(), id);
        members.insert("type".into(), kind);
        members.insert("occurred_at".into(), at);
        Value::Object(members.into_iter().collect())
    })
}

/// A valid event's text with a few random byte edits.
fn corrupted() -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..6);
    (any_event(), edits).prop_map(|(sample, edits)| {
        let mut bytes = sample.raw.text(false).into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => bytes.truncate(i),
                _ => bytes.splice(i..i, [0xED, 0xA0, 0x80]).for_each(drop), // a UTF-16 surrogate
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes at all: an event or a 4xx-class typed error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1024),
        "[{}\\[\\]\":,0-9a-z.\\\\ eE+-]{0,200}".prop_map(String::into_bytes),
        corrupted(),
    ]) {
        let _ = parse_checked(&bytes);
    }

    /// Any JSON value, and event-shaped objects with arbitrary members: an event, or an
    /// error naming a member that is there (invalid) or is not (missing).
    #[test]
    fn arbitrary_json_never_panics(value in prop_oneof![arb_json(), event_shaped()]) {
        let Err(err) = parse_checked(value.to_string().as_bytes()) else { return Ok(()) };
        let top = |name: &str| value.get(name).is_some();
        match &err {
            EventError::NotAnObject { .. } => prop_assert!(!value.is_object()),
            EventError::UnknownEventType { .. } => {
                let name = value["type"].as_str().expect("a string type");
                prop_assert!(!type_names().contains(&name));
            }
            EventError::MissingField { field } => match field.split_once('.') {
                None => prop_assert!(!top(field), "{err}"),
                Some((parent, child)) => prop_assert!(value[parent].get(child).is_none(), "{err}"),
            },
            EventError::InvalidField { field, .. } => {
                prop_assert!(top(field.split('.').next().unwrap_or(field)), "{err}");
            }
            other => prop_assert!(false, "JSON text refused as {other:?}"),
        }
    }

    /// Nesting of any depth: arrays and objects deeper than serde's recursion limit (128)
    /// are malformed JSON, inside an unknown member too; shallower, a closed array is "not
    /// an object" (or ignored inside an unknown member); unclosed nesting is malformed.
    #[test]
    fn deep_nesting_is_a_clean_refusal(depth in 1..20_000usize, closed: bool, inside: bool) {
        let arrays = "[".repeat(depth) + &if closed { "]".repeat(depth) } else { String::new() };
        let objects = "{\"a\":".repeat(depth) + "1" + &if closed { "}".repeat(depth) } else { String::new() };
        let wrap = |deep: &str| if inside {
            format!(r#"{{"event_id":"e","type":"order.paid","occurred_at":"2026-11-01T10:00:00Z","order_id":"O","x":{deep}}}"#)
        } else {
            deep.to_owned()
        };
        let arrays = parse_checked(wrap(&arrays).as_bytes());
        let objects = parse_checked(wrap(&objects).as_bytes());
        let kind = |r: &Result<Event, EventError>| r.as_ref().err().map(EventError::kind);
        if !closed {
            prop_assert_eq!(kind(&arrays), Some("malformed_json"));
            prop_assert_eq!(kind(&objects), Some("malformed_json"));
        } else {
            if depth <= 100 {
                prop_assert_eq!(kind(&arrays), if inside { None } else { Some("not_an_object") });
            } else if depth >= 200 {
                prop_assert_eq!(kind(&arrays), Some("malformed_json"));
            }
            if depth <= 100 {
                prop_assert_eq!(kind(&objects), if inside { None } else { Some("missing_field") });
            } else if depth >= 200 {
                prop_assert_eq!(kind(&objects), Some("malformed_json"));
            }
        }
    }

    /// A valid event of any type, written as JSON (compact or spaced), parses to exactly
    /// the expected event, which round-trips through its storage form.
    #[test]
    fn valid_events_round_trip(sample in any_event(), spaced: bool) {
        let text = sample.raw.text(spaced);
        let event = parse_checked(text.as_bytes());
        prop_assert_eq!(event.as_ref(), Ok(&sample.expected), "{}", text);
        let stored = serde_json::to_string(&sample.expected).expect("serialise");
        let back: Event = serde_json::from_str(&stored).expect("read back the storage form");
        prop_assert_eq!(back, sample.expected);
    }

    /// Breaking one field of a valid event gives an error naming exactly that field, or
    /// an accepted event where the contract allows the change.
    #[test]
    fn breaking_one_field_names_it((sample, index, edit) in mutated()) {
        let field = &sample.fields[index];
        let text = apply(&sample, field, &edit).text(false);
        let result = parse_checked(text.as_bytes());
        match (expect(field, &edit), result) {
            (Expect::Accepted, Ok(event)) => {
                if matches!(edit, Edit::Extra(..)) {
                    prop_assert_eq!(event, sample.expected);
                }
            }
            (Expect::Refused(kind), Err(err)) => {
                prop_assert_eq!(err.kind(), kind, "{}: {}", err, text);
                let name = field.name();
                prop_assert_eq!(err.field(), Some(name.as_str()), "{}: {}", err, text);
            }
            (expected, got) => prop_assert!(false, "expected {:?}, got {:?}: {}", expected, got, text),
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// An NDJSON batch of valid lines with broken and blank lines spliced in: every good
    /// line parses to its event; exactly the broken lines are refused, by number.
    #[test]
    fn ndjson_reports_exactly_the_broken_lines(
        lines in (
            prop::collection::vec(any_event().prop_map(|s| Line::Good(Box::new(s))), 1..12),
            prop::collection::vec(broken_line().prop_map(Line::Broken), 1..5),
            prop::collection::vec(prop::sample::select(vec!["", "  ", "\t", " \r"]).prop_map(Line::Blank), 0..4),
        ).prop_map(|(a, b, c)| [a, b, c].concat()).prop_shuffle(),
        crlf: bool,
    ) {
        let mut body = Vec::new();
        let (mut good, mut broken) = (Vec::new(), Vec::new());
        for (i, line) in lines.iter().enumerate() {
            match line {
                Line::Good(sample) => {
                    body.extend(sample.raw.text(false).into_bytes());
                    good.push((i + 1, sample.expected.clone()));
                }
                Line::Broken(bytes) => {
                    body.extend(bytes);
                    broken.push(i + 1);
                }
                Line::Blank(text) => body.extend(text.as_bytes()),
            }
            body.extend(if crlf { &b"\r\n"[..] } else { b"\n" });
        }
        let (mut parsed, mut refused) = (Vec::new(), Vec::new());
        for (number, raw) in split_ndjson(&body) {
            match parse_checked(raw) {
                Ok(event) => parsed.push((number, event)),
                Err(_) => refused.push(number),
            }
        }
        prop_assert_eq!(parsed, good);
        prop_assert_eq!(refused, broken);
    }
}

/// One line of a generated batch.
#[derive(Clone, Debug)]
enum Line {
    Good(Box<Sample>),
    Broken(Vec<u8>),
    Blank(&'static str),
}

/// A line that is not a valid event (and holds no `\n`, and is not blank).
fn broken_line() -> impl Strategy<Value = Vec<u8>> {
    let truncated = (any_event(), any::<prop::sample::Index>()).prop_map(|(s, at)| {
        let text = s.raw.text(false).into_bytes();
        text[..1 + at.index(text.len() - 1)].to_vec()
    });
    let trailing = (
        any_event(),
        prop::sample::select(vec!["x", "}", ",{}", "]", "{}"]),
    )
        .prop_map(|(s, junk)| (s.raw.text(false) + junk).into_bytes());
    let garbage = prop::collection::vec(
        any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
        0..64,
    )
    .prop_map(|bytes| [&[0xFF][..], &bytes].concat());
    let not_object = prop::sample::select(vec!["[]", "null", "42", "\"x\"", "[{}]"])
        .prop_map(|s| s.as_bytes().to_vec());
    let one_field = mutated().prop_filter_map("refused", |(sample, index, edit)| {
        let field = &sample.fields[index];
        matches!(expect(field, &edit), Expect::Refused(_))
            .then(|| apply(&sample, field, &edit).text(false).into_bytes())
    });
    prop_oneof![truncated, trailing, garbage, not_object, one_field]
}
