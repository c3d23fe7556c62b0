//! The storage form round-trips exactly and holds no raw personal data.

use super::events::{ALL_SAMPLES, ORDER_DELIVERED, ORDER_PLACED};
use super::ok;
use crate::model::event::Event;

const RAW_PERSONAL_VALUES: [&str; 9] = [
    "U-55501",
    "u-55501",
    "DEV-9F3A-77",
    "203.0.113.7",
    "上海市",
    "世纪大道",
    "138-0013-8000",
    "13800138000",
    "6222",
];

#[test]
fn the_storage_form_round_trips_every_event_type_exactly() {
    for raw in ALL_SAMPLES {
        let event = ok(raw);
        let stored = serde_json::to_vec(&event).expect("events serialize");
        let back: Event = serde_json::from_slice(&stored).expect("stored events deserialize");
        assert_eq!(back, event, "{}", String::from_utf8_lossy(&stored));
    }
}

#[test]
fn the_storage_form_is_the_contract_shape_with_utc_milliseconds() {
    let stored = serde_json::to_string(&ok(ORDER_DELIVERED)).unwrap();
    assert_eq!(
        stored,
        r#"{"event_id":"evt-0006","occurred_at":"2026-11-03T07:20:00.000Z","type":"order.delivered","order_id":"O-1001"}"#
    );
}

#[test]
fn reading_the_storage_form_does_not_pseudonymise_again() {
    let event = ok(ORDER_PLACED);
    let stored = serde_json::to_string(&event).unwrap();
    let back: Event = serde_json::from_str(&stored).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), stored);
}

#[test]
fn a_pseudonymised_event_contains_no_raw_personal_value() {
    let event = ok(ORDER_PLACED);
    let stored = serde_json::to_string(&event).unwrap();
    let debugged = format!("{event:?}");
    for raw in RAW_PERSONAL_VALUES {
        assert!(!stored.contains(raw), "{raw:?} found in {stored}");
        assert!(!debugged.contains(raw), "{raw:?} found in {debugged}");
    }
    let paid = serde_json::to_string(&ok(super::events::ORDER_PAID)).unwrap();
    assert!(!paid.to_lowercase().contains("card:6222"), "{paid}");
}
