//! One-field edits of valid events for the properties: what to change ([`Edit`]), which
//! values are of the wrong type or out of range for each [`Kind`] of field, and what
//! parsing the edited event must give ([`Expect`]).

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Value, json};

use super::strategies::{Field, Kind, Raw, Sample, any_event, arb_json, type_names};
use crate::ingest::{MAX_ATTRIBUTES, MAX_STRING_BYTES};

/// One change to one member of a valid event.
#[derive(Clone, Debug)]
pub(super) enum Edit {
    /// Remove the member.
    Delete,
    /// Make it `null`.
    Null,
    /// A value of another JSON type.
    WrongType(Raw),
    /// A value of the right type that breaks a rule (or, where said, is accepted).
    Replace(Raw, Expect),
    /// Repeat the member.
    Duplicate,
    /// Add an unknown member next to it (or inside it, for money and `buyer`).
    Extra(String, Value),
}

/// What parsing the edited event must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expect {
    /// Parsed into an event.
    Accepted,
    /// Refused with this `EventError::kind`, naming the edited field.
    Refused(&'static str),
}

/// What parsing must give after `edit` of `field`: what is required, what may be
/// `null`, and what an out-of-range value says for itself.
pub(super) fn expect(field: &Field, edit: &Edit) -> Expect {
    let invalid = Expect::Refused("invalid_field");
    match edit {
        Edit::Delete if field.required => Expect::Refused("missing_field"),
        Edit::Null if field.required || field.kind == Kind::Attribute => invalid,
        Edit::Delete | Edit::Null | Edit::Extra(..) => Expect::Accepted,
        Edit::WrongType(_) | Edit::Duplicate => invalid,
        Edit::Replace(_, expect) => *expect,
    }
}

/// A valid event, one of its fields, and an edit of that field.
pub(super) fn mutated() -> impl Strategy<Value = (Sample, usize, Edit)> {
    any_event().prop_flat_map(|sample| {
        let n = sample.fields.len();
        (Just(sample), 0..n).prop_flat_map(|(sample, index)| {
            let kind = sample.fields[index].kind;
            (Just(sample), Just(index), edit(kind))
        })
    })
}

/// Any edit of a field of `kind`.
fn edit(kind: Kind) -> impl Strategy<Value = Edit> {
    let extra = (
        "x-[a-z]{1,8}",
        prop_oneof![4 => arb_json(), 1 => Just(json!("z".repeat(100_000)))],
    );
    let mut arms = vec![
        Just(Edit::Delete).boxed(),
        Just(Edit::Null).boxed(),
        Just(Edit::Duplicate).boxed(),
        wrong_type(kind).prop_map(Edit::WrongType).boxed(),
        extra.prop_map(|(k, v)| Edit::Extra(k, v)).boxed(),
    ];
    // Twice the weight of the other edits: there are many ways to be out of range.
    for _ in 0..2 {
        if let Some(bad) = out_of_range(kind) {
            arms.push(bad.prop_map(|(raw, e)| Edit::Replace(raw, e)).boxed());
        }
    }
    Union::new(arms)
}

/// Values of a JSON type a field of `kind` never holds.
fn wrong_type(kind: Kind) -> BoxedStrategy<Raw> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| f.is_finite().then(|| Value::from(f))),
    ];
    let string = "\\PC{0,10}".prop_map(Value::from);
    let boolean = any::<bool>().prop_map(Value::from);
    let array = prop_oneof![Just(json!([])), Just(json!(["x", 1]))];
    let object = prop_oneof![Just(json!({})), Just(json!({"amount": "1"}))];
    let values = match kind {
        Kind::Number(..) => prop_oneof![string, boolean, array, object].boxed(),
        Kind::Bool => prop_oneof![string, number, array, object].boxed(),
        Kind::Money | Kind::Object | Kind::Attributes => {
            prop_oneof![string, number, boolean, array].boxed()
        }
        _ => prop_oneof![number, boolean, array, object].boxed(),
    };
    values.prop_map(Raw::Value).boxed()
}

/// A string of more than `max` bytes (ASCII or three-byte characters).
fn oversize(max: usize) -> impl Strategy<Value = Raw> {
    (1..=40usize, any::<bool>()).prop_map(move |(over, cjk)| {
        let text = if cjk {
            "国".repeat((max + over) / 3 + 1)
        } else {
            "a".repeat(max + over)
        };
        Raw::Value(text.into())
    })
}

/// Values of the right JSON type that break the field's rule.
fn out_of_range(kind: Kind) -> Option<BoxedStrategy<(Raw, Expect)>> {
    let invalid = Expect::Refused("invalid_field");
    let strings =
        |list: Vec<&'static str>| prop::sample::select(list).prop_map(|s| Raw::Value(s.into()));
    let literals = |list: Vec<String>| prop::sample::select(list).prop_map(Raw::Literal);
    let raw = match kind {
        Kind::Id => prop_oneof![
            strings(vec![""]),
            "é{129,140}".prop_map(|s| Raw::Value(s.into()))
        ]
        .boxed(),
        Kind::PersonalId => prop_oneof![
            strings(vec!["", " ", "   ", "\u{3000}"]),
            "é{129,140}".prop_map(|s| Raw::Value(s.into())),
        ]
        .boxed(),
        Kind::Type => {
            let unknown =
                "\\PC{0,24}".prop_filter("unknown", |s| !type_names().contains(&s.as_str()));
            return Some(
                unknown
                    .prop_map(|s| (Raw::Value(s.into()), Expect::Refused("unknown_event_type")))
                    .boxed(),
            );
        }
        Kind::Timestamp => bad_stamp().prop_map(|s| Raw::Value(s.into())).boxed(),
        Kind::Text(max) => oversize(max).boxed(),
        Kind::Amount => prop_oneof![
            strings(vec![
                "", "-", "+1", "1.", ".5", "1e3", "1,000", " 1", "1.2.3", "NaN", "Infinity", "１",
                "0x10"
            ]),
            "[1-9][0-9]{18,30}".prop_map(|s| Raw::Value(s.into())),
            "0\\.[0-9]{19,30}".prop_map(|s| Raw::Value(s.into())),
        ]
        .boxed(),
        Kind::Currency => prop_oneof![
            strings(vec!["", "cny", "CN", "CNYY", "C1Y", "ＣＮＹ", " CNY"]),
            "[a-z]{3}".prop_map(|s| Raw::Value(s.into())),
        ]
        .boxed(),
        Kind::Number(min, max) => {
            let mut list: Vec<String> = [
                "-1",
                "-0",
                "1.5",
                "18446744073709551616",
                "1e300",
                "-9223372036854775809",
            ]
            .map(str::to_owned)
            .to_vec();
            list.push((max + 1).to_string());
            if min > 0 {
                list.push((min - 1).to_string());
            }
            literals(list).boxed()
        }
        Kind::Personal => {
            let blank = strings(vec!["", " ", "\t \u{3000}"]).prop_map(|r| (r, Expect::Accepted));
            let huge = oversize(MAX_STRING_BYTES).prop_map(move |r| (r, invalid));
            return Some(prop_oneof![blank, huge].boxed());
        }
        Kind::Attribute => oversize(MAX_STRING_BYTES).boxed(),
        Kind::Attributes => {
            let many: serde_json::Map<String, Value> = (0..=MAX_ATTRIBUTES)
                .map(|i| (format!("k{i}"), json!("v")))
                .collect();
            prop_oneof![
                Just(Raw::Value(Value::Object(many))),
                Just(Raw::Value(json!({"": "x"})))
            ]
            .boxed()
        }
        Kind::Bool | Kind::Money | Kind::Object => return None,
    };
    Some(raw.prop_map(move |r| (r, invalid)).boxed())
}

/// Timestamp texts that are not acceptable: out-of-range years and components, dates
/// that do not exist, bad or missing offsets, instants outside 1970..=9999 once in UTC.
fn bad_stamp() -> impl Strategy<Value = String> {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = move |y: i64, m: u32| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    prop_oneof![
        (0..1970i64).prop_map(|y| format!("{y:04}-06-15T12:00:00Z")),
        (10_000..1_000_000i64).prop_map(|y| format!("{y}-06-15T12:00:00Z")),
        (1970..=9999i64, 13..=99u32).prop_map(|(y, m)| format!("{y}-{m:02}-01T00:00:00Z")),
        (1970..=9999i64, 1..=12u32)
            .prop_map(move |(y, m)| format!("{y}-{m:02}-{:02}T00:00:00Z", days(y, m) + 1)),
        (24..=99u32).prop_map(|h| format!("2026-11-01T{h:02}:00:00Z")),
        (60..=99u32).prop_map(|m| format!("2026-11-01T10:{m:02}:00Z")),
        (61..=99u32).prop_map(|s| format!("2026-11-01T10:00:{s:02}Z")),
        (24..=99u32).prop_map(|h| format!("2026-11-01T10:00:00+{h:02}:00")),
        (60..=99u32).prop_map(|m| format!("2026-11-01T10:00:00-08:{m:02}")),
        prop::sample::select(vec![
            "2026-11-01T10:00:00",
            "2026-11-01T10:00:00+0800",
            "2026-11-01T10:00:00+08",
            "2026-11-01",
            "",
            "yesterday",
            "2026-11-01T10:00:00.Z",
            "2026-11-01 10:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-02-30T10:00:00Z",
            "1970-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
            "+2026-11-01T10:00:00Z",
            "2026-11-01T10:00:00Z ",
            "1793527200000",
        ])
        .prop_map(str::to_owned),
    ]
}

/// The event's tree with `edit` applied to `field`.
pub(super) fn apply(sample: &Sample, field: &Field, edit: &Edit) -> Raw {
    let mut raw = sample.raw.clone();
    let (name, parent) = field.path.split_last().expect("a field has a name");
    let members = raw.members_mut(parent);
    let at = members
        .iter()
        .position(|(k, _)| k == name)
        .expect("the field is there");
    match edit {
        Edit::Delete => {
            members.remove(at);
        }
        Edit::Null => members[at].1 = Raw::Value(Value::Null),
        Edit::WrongType(value) | Edit::Replace(value, _) => members[at].1 = value.clone(),
        Edit::Duplicate => members.push(members[at].clone()),
        Edit::Extra(key, value) => {
            let inside = matches!(field.kind, Kind::Money | Kind::Object)
                && matches!(members[at].1, Raw::Object(_));
            let target: &[String] = match field.kind {
                _ if inside => field.path.as_slice(),
                Kind::Attribute => &[],
                _ => parent,
            };
            raw.members_mut(target)
                .push((key.clone(), Raw::Value(value.clone())));
        }
    }
    raw
}
