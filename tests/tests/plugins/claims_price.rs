//! The `claims` plugin's reference-price check: a struck-through price must not exceed
//! the lowest price of the listing in the window before (7 days by default), natively
//! through the SDK harness (`claims_http.rs` runs it over HTTP).

use probity_sdk::prelude::*;
use probity_sdk::testing::{self, Harness};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn offer(at: i64, price: &str, reference: Option<&str>) -> Envelope {
    let record = ListingUpserted {
        listing_id: "L-1".into(),
        seller_id: "S-1".into(),
        title: "羊毛围巾".into(),
        price: testing::money(price, "CNY"),
        description: None,
        category: Some("apparel/scarves".into()),
        reference_price: reference.map(|r| testing::money(r, "CNY")),
        attributes: Vec::new(),
        language: None,
    };
    Envelope::new(format!("e-{at}"), at, Event::ListingUpserted(record))
}

fn harness(settings: &str) -> Harness<claims::Claims> {
    Harness::new(settings).expect("settings")
}

fn price_rules(h: &mut Harness<claims::Claims>, envelope: Envelope) -> Vec<(String, Severity)> {
    let outcome = h.handle(envelope);
    assert!(outcome.errors().is_empty(), "{:?}", outcome.errors());
    outcome
        .findings()
        .into_iter()
        .map(|f| (f.rule.clone(), f.severity))
        .collect()
}

#[test]
fn an_honest_discount_is_not_reported() {
    let mut h = harness("{}");
    assert!(price_rules(&mut h, offer(0, "399.00", None)).is_empty());
    assert!(price_rules(&mut h, offer(10 * DAY, "299.00", Some("399.00"))).is_empty());
}

#[test]
fn a_reference_price_never_charged_is_reported() {
    let mut h = harness("{}");
    let _ = h.handle(offer(0, "199.00", None));
    let got = price_rules(&mut h, offer(10 * DAY, "189.00", Some("599.00")));
    assert_eq!(
        got,
        [("claims.reference_price".to_string(), Severity::High)]
    );
}

#[test]
fn a_two_hour_hike_before_the_discount_does_not_make_it_honest() {
    let mut h = harness("{}");
    let t = 30 * DAY;
    let _ = h.handle(offer(0, "199.00", None));
    assert!(price_rules(&mut h, offer(t - 2 * HOUR, "399.00", None)).is_empty());
    let outcome = h.handle(offer(t, "299.00", Some("399.00")));
    let found = outcome.findings();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "claims.reference_price");
    assert_eq!(found[0].category, Category::PriceDeception);
    assert!(
        found[0].message.contains("199.00 CNY"),
        "{}",
        found[0].message
    );
    // The seller drops the struck-through price: the finding is cleared. A discount from
    // 399 after 399 has held for more than 7 days is honest.
    let reverted = price_rules(&mut h, offer(t + HOUR, "399.00", None));
    assert_eq!(
        reverted,
        [("claims.reference_price".to_string(), Severity::Info)]
    );
    assert!(price_rules(&mut h, offer(t + HOUR + 8 * DAY, "299.00", Some("399.00"))).is_empty());
}

#[test]
fn a_reference_price_with_no_history_is_unverified() {
    let mut h = harness("{}");
    let got = price_rules(&mut h, offer(0, "99.00", Some("199.00")));
    assert_eq!(
        got,
        [(
            "claims.reference_price_unverified".to_string(),
            Severity::Medium
        )]
    );
    let mut off = harness(r#"{"price": {"unverified": "off"}}"#);
    assert!(price_rules(&mut off, offer(0, "99.00", Some("199.00"))).is_empty());
}

#[test]
fn the_window_is_a_setting() {
    // The EU's 30 days: a low price 20 days ago still counts.
    let mut h = harness(r#"{"price": {"window_days": 30}}"#);
    let _ = h.handle(offer(0, "100.00", None));
    let _ = h.handle(offer(DAY, "300.00", None));
    let got = price_rules(&mut h, offer(20 * DAY, "250.00", Some("300.00")));
    assert_eq!(
        got,
        [("claims.reference_price".to_string(), Severity::High)]
    );
    // With the default 7 days it does not.
    let mut h = harness("{}");
    let _ = h.handle(offer(0, "100.00", None));
    let _ = h.handle(offer(DAY, "300.00", None));
    assert!(price_rules(&mut h, offer(20 * DAY, "250.00", Some("300.00"))).is_empty());
}

#[test]
fn events_that_arrive_late_take_their_place_in_the_history() {
    let mut h = harness("{}");
    let _ = h.handle(offer(10 * DAY, "300.00", None));
    // An older event arrives late: the listing cost 100 nine days ago.
    let _ = h.handle(offer(5 * DAY, "100.00", None));
    let got = price_rules(&mut h, offer(11 * DAY, "250.00", Some("300.00")));
    assert_eq!(
        got,
        [("claims.reference_price".to_string(), Severity::High)]
    );
}
