//! Every refusal says what is wrong, with a stable kind and the exact field path.

use serde_json::{Value, json};

use super::events::{LISTING_ZH, ORDER_PLACED, REVIEW_POSTED};
use super::{err, err_json, pz};
use crate::ingest::{EventError, MAX_EVENT_BYTES, parse_event};
use crate::model::money::AMOUNT_MUST_BE_STRING;

fn value(raw: &str) -> Value {
    serde_json::from_str(raw).expect("sample is JSON")
}

/// Assert kind and field, and return the message for further checks.
fn assert_error(error: &EventError, kind: &str, field: Option<&str>) -> String {
    assert_eq!((error.kind(), error.field()), (kind, field), "{error}");
    error.to_string()
}

fn invalid(mut event: Value, edit: impl FnOnce(&mut Value), field: &str) -> String {
    edit(&mut event);
    assert_error(&err_json(&event), "invalid_field", Some(field))
}

#[test]
fn an_oversized_event_is_refused_before_parsing() {
    let raw = vec![b' '; MAX_EVENT_BYTES + 1];
    let message = assert_error(&err(&raw), "event_too_large", None);
    assert!(message.contains(&MAX_EVENT_BYTES.to_string()), "{message}");
}

#[test]
fn invalid_utf8_reports_the_byte_offset() {
    let error = err(b"{\"event_id\": \"e\xff\"}");
    assert_eq!(error, EventError::InvalidUtf8 { offset: 15 });
    assert_error(&error, "invalid_utf8", None);
}

#[test]
fn malformed_json_reports_line_and_column() {
    let error = err(b"{\n  \"event_id\": \"e1\",\n  \"type\" \"order.paid\"\n}");
    let EventError::MalformedJson { line, column, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((*line, *column), (3, 10));
    let message = assert_error(&error, "malformed_json", None);
    assert!(
        message.starts_with("malformed JSON at line 3, column 10: expected `:`"),
        "{message}"
    );
}

#[test]
fn a_json_value_that_is_not_an_object_is_refused() {
    let message = assert_error(&err(b"[{}]"), "not_an_object", None);
    assert_eq!(
        message,
        "an event must be a JSON object, but this is an array"
    );
    assert_error(&err(b"\"order.paid\""), "not_an_object", None);
}

#[test]
fn a_missing_type_is_a_missing_field() {
    let error = err_json(&json!({"event_id": "e1", "occurred_at": "2026-11-01T10:00:00Z"}));
    let message = assert_error(&error, "missing_field", Some("type"));
    assert_eq!(message, "missing required field `type`");
}

#[test]
fn a_type_that_is_not_a_string_is_invalid() {
    let error = err_json(&json!({"event_id": "e1", "type": 3}));
    let message = assert_error(&error, "invalid_field", Some("type"));
    assert!(
        message.contains("must be a string, found a number"),
        "{message}"
    );
}

#[test]
fn an_unknown_type_lists_the_accepted_ones() {
    let error = err_json(&json!({"event_id": "e1", "type": "order.refunded"}));
    let message = assert_error(&error, "unknown_event_type", Some("type"));
    assert!(message.contains("\"order.refunded\""), "{message}");
    assert!(
        message.contains("listing.upserted, order.placed, order.paid"),
        "{message}"
    );
    assert!(message.contains("complaint.resolved"), "{message}");
}

#[test]
fn an_unknown_type_is_echoed_only_in_part() {
    let error = err_json(&json!({"event_id": "e1", "type": "x".repeat(10_000)}));
    assert!(error.to_string().len() < 1000);
}

#[test]
fn event_id_must_be_1_to_128_characters() {
    let base = value(super::events::ORDER_DELIVERED);
    let message = invalid(base.clone(), |e| e["event_id"] = json!(""), "event_id");
    assert!(message.contains("must not be empty"), "{message}");
    let message = invalid(
        base.clone(),
        |e| e["event_id"] = json!("e".repeat(129)),
        "event_id",
    );
    assert!(message.contains("129 characters"), "{message}");
    let mut missing = base;
    missing.as_object_mut().map(|o| o.remove("event_id"));
    assert_error(&err_json(&missing), "missing_field", Some("event_id"));
}

#[test]
fn occurred_at_without_offset_is_refused() {
    let base = value(super::events::ORDER_DELIVERED);
    let message = invalid(
        base,
        |e| e["occurred_at"] = json!("2026-11-01T10:00:00"),
        "occurred_at",
    );
    assert!(message.contains("no UTC offset"), "{message}");
}

#[test]
fn occurred_at_out_of_range_is_refused() {
    let base = value(super::events::ORDER_DELIVERED);
    let message = invalid(
        base,
        |e| e["occurred_at"] = json!("1969-12-31T23:59:59Z"),
        "occurred_at",
    );
    assert!(
        message.contains("year 1969 is outside the supported range 1970..=9999"),
        "{message}"
    );
}

#[test]
fn a_wrongly_typed_nested_timestamp_names_its_path() {
    let message = invalid(
        value(ORDER_PLACED),
        |e| e["buyer"]["account_created_at"] = json!(1_700_000_000),
        "buyer.account_created_at",
    );
    assert!(
        message.contains("must be an RFC 3339 timestamp string, found a number"),
        "{message}"
    );
}

#[test]
fn a_numeric_amount_says_it_must_be_a_string() {
    let message = invalid(
        value(LISTING_ZH),
        |e| e["price"]["amount"] = json!(59.9),
        "price.amount",
    );
    assert_eq!(
        message,
        format!("invalid field `price.amount`: {AMOUNT_MUST_BE_STRING}")
    );
}

#[test]
fn money_errors_name_amount_or_currency() {
    let base = value(LISTING_ZH);
    invalid(
        base.clone(),
        |e| e["price"]["amount"] = json!("59,90"),
        "price.amount",
    );
    invalid(
        base.clone(),
        |e| e["reference_price"]["amount"] = json!("1e3"),
        "reference_price.amount",
    );
    invalid(
        base.clone(),
        |e| e["price"]["currency"] = json!("rmb"),
        "price.currency",
    );
    invalid(base.clone(), |e| e["price"] = json!("59.90"), "price");
    // Well-formed, but no currency there is, and no price below zero.
    let message = invalid(
        base.clone(),
        |e| e["price"]["currency"] = json!("ZZZ"),
        "price.currency",
    );
    assert!(message.contains("ISO 4217"), "{message}");
    let message = invalid(
        base.clone(),
        |e| e["price"]["amount"] = json!("-5.00"),
        "price.amount",
    );
    assert!(message.contains("negative"), "{message}");
    let mut no_amount = base;
    no_amount["price"] = json!({"currency": "CNY"});
    assert_error(&err_json(&no_amount), "missing_field", Some("price.amount"));
}

#[test]
fn attribute_values_must_be_strings() {
    let message = invalid(
        value(LISTING_ZH),
        |e| e["attributes"]["color"] = json!(3),
        "attributes.color",
    );
    assert!(
        message.contains("must be a string, found a number"),
        "{message}"
    );
    invalid(
        value(LISTING_ZH),
        |e| e["attributes"] = json!(["a", "b"]),
        "attributes",
    );
}

#[test]
fn at_most_200_attributes_are_accepted() {
    let many: serde_json::Map<String, Value> =
        (0..201).map(|i| (format!("k{i}"), json!("v"))).collect();
    let message = invalid(
        value(LISTING_ZH),
        |e| e["attributes"] = Value::Object(many),
        "attributes",
    );
    assert!(message.contains("201 entries"), "{message}");
}

#[test]
fn duplicate_members_are_refused_where_they_are_read() {
    let raw = r#"{"event_id":"e","type":"order.delivered","occurred_at":"2026-11-01T10:00:00Z","order_id":"A","order_id":"B"}"#;
    let message = assert_error(&err(raw.as_bytes()), "invalid_field", Some("order_id"));
    assert!(message.contains("more than once"), "{message}");
    let raw = LISTING_ZH.replace(r#""weight": "500g""#, r#""产地": "云南""#);
    assert_error(
        &err(raw.as_bytes()),
        "invalid_field",
        Some("attributes.产地"),
    );
}

#[test]
fn each_type_names_its_missing_required_field() {
    let cases = [
        (super::events::LISTING_EN, "price"),
        (ORDER_PLACED, "buyer_id"),
        (super::events::REFUND_COMPLETED, "refund_id"),
        (REVIEW_POSTED, "rating"),
        (super::events::COMPLAINT_OPENED, "seller_id"),
        (super::events::COMPLAINT_RESOLVED, "complaint_id"),
    ];
    for (raw, field) in cases {
        let mut event = value(raw);
        event.as_object_mut().map(|o| o.remove(field));
        let message = assert_error(&err_json(&event), "missing_field", Some(field));
        assert_eq!(message, format!("missing required field `{field}`"));
    }
}

#[test]
fn a_null_required_field_is_invalid() {
    let message = invalid(
        value(ORDER_PLACED),
        |e| e["order_id"] = json!(null),
        "order_id",
    );
    assert!(
        message.contains("must be a string, found null"),
        "{message}"
    );
}

#[test]
fn quantity_must_be_a_whole_number_of_at_least_one() {
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("2"),
        json!(5_000_000_000_u64),
    ] {
        let message = invalid(value(ORDER_PLACED), |e| e["quantity"] = bad, "quantity");
        assert!(
            message.contains("must be a whole number from 1 to 4294967295"),
            "{message}"
        );
    }
}

#[test]
fn rating_must_be_1_to_5() {
    for bad in [json!(0), json!(6), json!(4.5)] {
        let message = invalid(value(REVIEW_POSTED), |e| e["rating"] = bad, "rating");
        assert!(message.contains("from 1 to 5"), "{message}");
    }
}

#[test]
fn other_typed_fields_name_their_path() {
    let shipped = value(super::events::ORDER_SHIPPED);
    invalid(
        shipped,
        |e| e["parcel_weight_grams"] = json!(-3),
        "parcel_weight_grams",
    );
    let paid = value(super::events::ORDER_PAID);
    let message = invalid(paid.clone(), |e| e["presale"] = json!("yes"), "presale");
    assert!(
        message.contains("must be true or false, found a string"),
        "{message}"
    );
    invalid(
        paid,
        |e| e["promised_ship_by"] = json!("2026-11-11"),
        "promised_ship_by",
    );
    invalid(value(ORDER_PLACED), |e| e["buyer"] = json!("U-1"), "buyer");
    invalid(
        value(ORDER_PLACED),
        |e| e["buyer"]["phone"] = json!(13800138000_u64),
        "buyer.phone",
    );
    invalid(
        value(ORDER_PLACED),
        |e| e["buyer_id"] = json!("   "),
        "buyer_id",
    );
}

#[test]
fn string_length_caps_are_enforced_in_bytes() {
    let message = invalid(
        value(LISTING_ZH),
        |e| e["title"] = json!("蜂".repeat(342)),
        "title",
    );
    assert!(
        message.contains("1026 bytes long; at most 1024"),
        "{message}"
    );
    let long = "a".repeat(64 * 1024 + 1);
    invalid(
        value(LISTING_ZH),
        |e| e["description"] = json!(long),
        "description",
    );
    invalid(
        value(REVIEW_POSTED),
        |e| e["text"] = json!("a".repeat(64 * 1024 + 1)),
        "text",
    );
    invalid(
        value(LISTING_ZH),
        |e| e["category"] = json!("a".repeat(1025)),
        "category",
    );
    invalid(
        value(LISTING_ZH),
        |e| e["attributes"]["k"] = json!("a".repeat(1025)),
        "attributes.k",
    );
    invalid(
        value(ORDER_PLACED),
        |e| e["buyer"]["shipping_address"] = json!("路".repeat(400)),
        "buyer.shipping_address",
    );
}

#[test]
fn long_texts_up_to_the_cap_are_accepted() {
    let mut event = value(LISTING_ZH);
    event["description"] = json!("a".repeat(64 * 1024));
    event["title"] = json!("a".repeat(1024));
    assert!(crate::ingest::parse_event(event.to_string().as_bytes(), &super::pz()).is_ok());
}

#[test]
fn error_messages_never_echo_personal_values() {
    let mut event = value(ORDER_PLACED);
    event["buyer"]["shipping_address"] = json!("上海市浦东新区世纪大道100号".repeat(40));
    let message = err_json(&event).to_string();
    assert!(!message.contains("世纪大道"), "{message}");
    let mut event = value(ORDER_PLACED);
    event["buyer"]["phone"] = json!(["+86 138-0013-8000"]);
    let message = err_json(&event).to_string();
    assert!(!message.contains("138"), "{message}");
}

#[test]
fn an_ip_that_is_not_an_address_is_refused_without_echoing_it() {
    for bad in ["999.1.1.1", "not-an-ip", "1.2.3", "::g"] {
        let message = invalid(
            value(ORDER_PLACED),
            |e| e["buyer"]["ip"] = json!(bad),
            "buyer.ip",
        );
        assert!(!message.contains(bad), "the value is personal: {message}");
    }
    for good in [
        "203.0.113.7",
        " 2001:DB8::1 ",
        "[2001:db8::1]",
        "::ffff:192.0.2.1",
    ] {
        let mut event = value(ORDER_PLACED);
        event["buyer"]["ip"] = json!(good);
        assert!(
            parse_event(event.to_string().as_bytes(), &pz()).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn nesting_past_the_limit_is_malformed_even_inside_an_unknown_field() {
    let deep = format!(
        r#"{{"event_id":"e","type":"order.paid","occurred_at":"2026-11-01T10:00:00Z","order_id":"O-1","x_extra":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let error = err(deep.as_bytes());
    assert_eq!(error.kind(), "malformed_json", "{error}");
    assert!(error.to_string().contains("recursion limit"), "{error}");
}
