//! Strategies for the values inside events: ids, texts, timestamps, money, personal
//! values, and optional members.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Cash, Opt, Stamp};
use crate::model::event::{EventType, Pseudonym};
use crate::model::money::Money;
use crate::model::time::{MAX_TIMESTAMP, format_rfc3339};
use crate::privacy::PersonalField;

/// An id: usually `L-123`-like, sometimes any 1–128 characters.
pub(super) fn id() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[A-Z]{1,3}-[0-9]{1,12}", 1 => "\\PC{1,128}", 1 => "[a-z]{128}"]
}

/// Any text of at most `max` bytes: any characters (control ones too), or exactly `max`.
pub(super) fn text(max: usize) -> impl Strategy<Value = String> {
    let exact = "a".repeat(max % 3) + &"国".repeat(max / 3);
    prop_oneof![
        6 => prop::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
        2 => "[\\p{Han}a-zA-Z0-9 ,.!%]{0,40}",
        1 => Just(exact),
    ]
}

/// A timestamp in 1970..=9999, with any offset, fraction form and `T`/`Z` case.
pub(super) fn stamp() -> impl Strategy<Value = Stamp> {
    let max_offset: i64 = 23 * 60 + 59;
    let local = prop_oneof![8 => 0..=MAX_TIMESTAMP, 1 => Just(0), 1 => Just(MAX_TIMESTAMP)];
    (
        local,
        -max_offset..=max_offset,
        0..3u8,
        any::<bool>(),
        "[0-9]{1,6}",
    )
        .prop_map(|(local, offset, fraction, lower, extra)| {
            let utc = local - offset * 60_000;
            let (utc, offset) = if (0..=MAX_TIMESTAMP).contains(&utc) {
                (utc, offset)
            } else {
                (local, 0)
            };
            let full = format_rfc3339(local);
            let mut text = full.trim_end_matches('Z').to_owned();
            match fraction {
                0 => {}
                1 => text.push_str(&extra),
                _ => {
                    text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
                }
            }
            if lower {
                text = text.replacen('T', "t", 1);
            }
            let zone = match (offset, extra.as_bytes()[0] % 4) {
                (0, 0) => "Z".to_owned(),
                (0, 1) => "z".to_owned(),
                (0, 2) => "+00:00".to_owned(),
                (0, _) => "-00:00".to_owned(),
                (o, _) => {
                    let sign = if o < 0 { '-' } else { '+' };
                    format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60)
                }
            };
            Stamp {
                text: text + &zone,
                millis: utc,
            }
        })
}

/// A money object: up to 10 integer and 8 fraction digits (leading zeros included),
/// never negative (no contract amount is), an ISO 4217 code.
pub(super) fn cash() -> impl Strategy<Value = Cash> {
    (
        Just(false),
        "[0-9]{1,10}",
        "[0-9]{0,8}",
        prop::sample::select(&crate::ingest::ISO_4217[..]).prop_map(str::to_owned),
    )
        .prop_map(|(negative, int, frac, currency)| {
            let mut amount = if negative {
                "-".to_owned()
            } else {
                String::new()
            };
            amount.push_str(&int);
            if !frac.is_empty() {
                amount.push('.');
                amount.push_str(&frac);
            }
            let digits: i64 = format!("{int}{frac}").parse().expect("at most 18 digits");
            let money = Money {
                mantissa: if negative { -digits } else { digits },
                scale: u8::try_from(frac.len()).expect("at most 8"),
                currency: currency.clone(),
            };
            Cash {
                amount,
                currency,
                money,
            }
        })
}

/// An optional member: absent, `null` or a value from `s`.
pub(super) fn opt<S>(s: S) -> impl Strategy<Value = Opt<S::Value>>
where
    S: Strategy,
    S::Value: Clone + std::fmt::Debug,
{
    prop_oneof![2 => Just(None), 1 => Just(Some(None)), 4 => s.prop_map(|v| Some(Some(v)))]
}

/// What an optional personal value reads as: its pseudonym, or `None` when absent,
/// `null` or blank.
pub(super) fn pseudonym(kind: PersonalField, raw: &Opt<String>) -> Option<Pseudonym> {
    raw.clone()
        .flatten()
        .and_then(|raw| crate::ingest::tests::pz().pseudonymize_present(kind, &raw))
}

/// An IPv4, IPv6 or IPv4-mapped IPv6 address.
pub(super) fn ip() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
        any::<[u16; 8]>().prop_map(|w| std::net::Ipv6Addr::from(w).to_string()),
        any::<[u8; 4]>().prop_map(|b| format!("::ffff:{}", std::net::Ipv4Addr::from(b))),
    ]
}

/// Every member name the contract uses anywhere.
const KEYS: [&str; 40] = [
    "event_id",
    "type",
    "occurred_at",
    "listing_id",
    "seller_id",
    "title",
    "price",
    "amount",
    "currency",
    "description",
    "category",
    "reference_price",
    "attributes",
    "language",
    "order_id",
    "buyer_id",
    "quantity",
    "total",
    "buyer",
    "account_created_at",
    "device_id",
    "ip",
    "shipping_address",
    "phone",
    "payment_fingerprint",
    "presale",
    "promised_ship_by",
    "carrier",
    "tracking_number",
    "parcel_weight_grams",
    "origin_city",
    "destination_city",
    "reason",
    "refund_id",
    "return_required",
    "review_id",
    "rating",
    "text",
    "complaint_id",
    "outcome",
];

/// The twelve contract event type names.
pub(in crate::ingest::tests) fn type_names() -> Vec<&'static str> {
    EventType::ALL.map(EventType::as_str).to_vec()
}

/// Any JSON value, biased towards contract-looking members and strings.
pub(in crate::ingest::tests) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| f.is_finite().then(|| Value::from(f))),
        prop::collection::vec(any::<char>(), 0..12).prop_map(|c| Value::from(String::from_iter(c))),
        prop::sample::select(type_names()).prop_map(Value::from),
        Just(json!("2026-11-01T10:00:00+08:00")),
        Just(json!({"amount": "19.90", "currency": "CNY"})),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A member name: mostly one the contract uses, sometimes any short text.
pub(in crate::ingest::tests) fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), 1 => "\\PC{0,8}"]
}
