//! Full events of every type, and the byte sequences, texts and values that are wrong
//! for them.

use probity::model::event::EventType;
use serde_json::{Value, json};

/// Byte sequences that are not UTF-8: bad lead bytes, overlong encodings, UTF-8-encoded
/// surrogates, code points above U+10FFFF, lone continuations, truncated sequences.
pub(super) const NOT_UTF8: [&[u8]; 12] = [
    b"\xFF",
    b"\xFE",
    b"\xC0\x80",
    b"\xC1\xBF",
    b"\xE0\x80\x80",
    b"\xF0\x80\x80\x80",
    b"\xED\xA0\x80",
    b"\xED\xBF\xBF",
    b"\xF4\x90\x80\x80",
    b"\x80",
    b"\xE4\xB8",
    b"\xF8\x88\x80\x80\x80",
];

/// Escaped UTF-16 surrogates that pair with nothing.
pub(super) const LONE_SURROGATES: [&str; 7] = [
    "\\ud800",
    "\\udbff",
    "\\udc00",
    "\\udfff",
    "\\ud800\\u0041",
    "\\ud800x",
    "\\udc00\\ud800",
];

/// Timestamp texts that are not acceptable, whatever the field.
pub(super) const BAD_TIMESTAMPS: [&str; 22] = [
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-02-29T10:00:00Z",
    "2026-04-31T10:00:00Z",
    "2026-11-01T10:00:00+24:00",
    "2026-11-01T10:00:00+08",
    "2026-11-01T10:00:00+0800",
    "2026-11-01T10:00:00+08:60",
    "2026-11-01T10:00:00",
    "2026-11-01",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59-00:01",
    "2026-13-01T10:00:00Z",
    "2026-11-01T24:00:00Z",
    "2026-11-01T10:60:00Z",
    "2026-11-01T10:00:61Z",
    "-2026-11-01T10:00:00Z",
    "2026-11-01 10:00:00Z",
    "yesterday",
    "",
];

/// A full event of type `EventType::ALL[kind]`: every optional member present.
pub fn full_event(kind: usize, event_id: &str, at: &str, n: usize) -> Value {
    let money = json!({"amount": "19.90", "currency": "CNY"});
    let mut event = match kind % 12 {
        0 => json!({"listing_id": format!("L-{n}"), "seller_id": "S-1", "title": "nice tea",
            "price": money, "description": "green tea", "category": "food/tea",
            "reference_price": {"amount": "29.90", "currency": "CNY"},
            "attributes": {"color": "green", "size": "500g"}, "language": "en"}),
        1 => json!({"order_id": format!("O-{n}"), "listing_id": "L-1", "seller_id": "S-1",
            "buyer_id": "B-1", "quantity": 2, "total": money,
            "buyer": {"account_created_at": "2026-10-01T10:00:00Z", "device_id": "D-1",
                "ip": "203.0.113.7", "shipping_address": "上海市 世纪大道100号", "phone": "+86 138"}}),
        2 => json!({"order_id": format!("O-{n}"), "payment_fingerprint": "card:1234",
            "presale": false, "promised_ship_by": "2026-11-05T10:00:00Z"}),
        3 => json!({"order_id": format!("O-{n}"), "carrier": "SF", "tracking_number": "SF1",
            "parcel_weight_grams": 350, "origin_city": "西安", "destination_city": "上海"}),
        4 => json!({"order_id": format!("O-{n}")}),
        5 => json!({"order_id": format!("O-{n}"), "reason": "changed mind"}),
        6 => json!({"order_id": format!("O-{n}"), "refund_id": "R-1", "reason": "empty box",
            "amount": money, "return_required": true}),
        7 => json!({"order_id": format!("O-{n}"), "refund_id": "R-1", "amount": money}),
        8 => json!({"order_id": format!("O-{n}"), "review_id": "RV-1", "rating": 4, "text": "ok"}),
        9 => json!({"complaint_id": format!("C-{n}"), "seller_id": "S-1", "order_id": "O-1",
            "text": "fake"}),
        10 => json!({"complaint_id": format!("C-{n}"), "text": "we fixed it"}),
        _ => json!({"complaint_id": format!("C-{n}"), "outcome": "upheld"}),
    };
    event["event_id"] = json!(event_id);
    event["type"] = json!(EventType::ALL[kind % EventType::ALL.len()].as_str());
    event["occurred_at"] = json!(at);
    event
}

/// What a member of a full event holds, for choosing values of the wrong JSON type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Str,
    Num,
    Bool,
    Money,
    Buyer,
    Attributes,
    AttributeValue,
}

/// Every member of `event` (nested ones too) with its path and slot.
pub(super) fn slots(event: &Value) -> Vec<(Vec<String>, Slot)> {
    let mut out = Vec::new();
    let Some(members) = event.as_object() else {
        return out;
    };
    for (key, value) in members {
        let path = vec![key.clone()];
        let slot = match value {
            Value::String(_) => Slot::Str,
            Value::Number(_) => Slot::Num,
            Value::Bool(_) => Slot::Bool,
            Value::Object(_) if key == "attributes" => Slot::Attributes,
            Value::Object(o) if o.contains_key("amount") => Slot::Money,
            _ => Slot::Buyer,
        };
        if let Value::Object(inner) = value {
            for (child, v) in inner {
                let child_slot = match (slot, v) {
                    (Slot::Attributes, _) => Slot::AttributeValue,
                    (_, Value::String(_)) => Slot::Str,
                    _ => Slot::Num,
                };
                out.push((vec![key.clone(), child.clone()], child_slot));
            }
        }
        out.push((path, slot));
    }
    out
}

/// Values of another JSON type than `slot` wants.
pub(super) fn wrong_values(slot: Slot) -> Vec<Value> {
    match slot {
        Slot::Str => vec![
            json!(1),
            json!(-7),
            json!(1.5),
            json!(true),
            json!([]),
            json!(["x"]),
            json!({}),
            json!({"a": 1}),
        ],
        Slot::AttributeValue => vec![
            json!(1),
            json!(false),
            Value::Null,
            json!([]),
            json!({"a": "b"}),
        ],
        Slot::Num => vec![json!("1"), json!(""), json!(true), json!([1]), json!({})],
        Slot::Bool => vec![json!("true"), json!(1), json!(0), json!([]), json!({})],
        Slot::Money => vec![
            json!("19.90"),
            json!(19.9),
            json!(1990),
            json!(true),
            json!(["19.90", "CNY"]),
        ],
        Slot::Buyer => vec![
            json!("buyer"),
            json!(1),
            json!(true),
            json!([]),
            json!([{}]),
        ],
        Slot::Attributes => vec![
            json!("color=red"),
            json!(1),
            json!([]),
            json!([["color", "red"]]),
        ],
    }
}

/// Set the member at `path` (creating nothing: the parents exist in full events).
pub(super) fn set(event: &mut Value, path: &[String], value: Value) {
    let mut target = event;
    for key in path {
        target = &mut target[key.as_str()];
    }
    *target = value;
}
