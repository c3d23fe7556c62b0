//! What goes in and comes out: builders of marketplace events ([`listing`],
//! [`order_placed`], [`order_paid`], [`order_shipped`]), event times ([`at_minute`],
//! [`millis`]) and the subject keys of verdicts ([`verdict_key`], [`verdict_keys`],
//! [`subject_key`]).

use serde_json::{Value, json};

/// A `listing.upserted` event (price 19.90 CNY).
pub fn listing(event_id: &str, at: &str, listing_id: &str, seller: &str, title: &str) -> Value {
    json!({
        "event_id": event_id, "type": "listing.upserted", "occurred_at": at,
        "listing_id": listing_id, "seller_id": seller, "title": title,
        "price": {"amount": "19.90", "currency": "CNY"}
    })
}

/// An `order.placed` event (one item, 19.90 CNY, no `buyer` object).
pub fn order_placed(
    event_id: &str,
    at: &str,
    order_id: &str,
    listing_id: &str,
    seller: &str,
    buyer: &str,
) -> Value {
    json!({
        "event_id": event_id, "type": "order.placed", "occurred_at": at,
        "order_id": order_id, "listing_id": listing_id, "seller_id": seller,
        "buyer_id": buyer, "quantity": 1, "total": {"amount": "19.90", "currency": "CNY"}
    })
}

/// An `order.paid` event.
pub fn order_paid(event_id: &str, at: &str, order_id: &str) -> Value {
    json!({"event_id": event_id, "type": "order.paid", "occurred_at": at, "order_id": order_id})
}

/// An `order.shipped` event.
pub fn order_shipped(event_id: &str, at: &str, order_id: &str) -> Value {
    json!({"event_id": event_id, "type": "order.shipped", "occurred_at": at, "order_id": order_id})
}

/// `2026-11-01T10:MM:00Z` plus `minutes` (up to a day), for ordered event times.
pub fn at_minute(minutes: u32) -> String {
    let total = 10 * 60 + minutes;
    assert!(total < 24 * 60, "at_minute stays within one day");
    format!("2026-11-01T{:02}:{:02}:00Z", total / 60, total % 60)
}

/// The milliseconds since the epoch of an RFC 3339 text (panics if it is not one).
#[track_caller]
pub fn millis(text: &str) -> i64 {
    probity::model::time::parse_rfc3339(text)
        .unwrap_or_else(|err| panic!("`{text}` is not RFC 3339: {err}"))
}

/// `(type, id)` of a verdict's subject (empty strings where missing).
pub fn verdict_key(verdict: &Value) -> (String, String) {
    (
        verdict["subject"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        verdict["subject"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The [`verdict_key`] of every verdict in a JSON array, in order (panics if `verdicts`
/// is not an array).
pub fn verdict_keys(verdicts: &Value) -> Vec<(String, String)> {
    verdicts
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {verdicts}"))
        .iter()
        .map(verdict_key)
        .collect()
}

/// The `(type, id)` key of subject `kind`/`id`, to compare with a [`verdict_key`].
pub fn subject_key(kind: &str, id: &str) -> (String, String) {
    (kind.to_string(), id.to_string())
}
