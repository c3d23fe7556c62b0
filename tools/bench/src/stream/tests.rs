//! The stream is deterministic, valid contract JSON, and shaped like a marketplace.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::{EventStream, START_MS, StreamConfig};

/// A tenth of the usual marketplace at a sixteenth of its pace, so that 40,000 events
/// span about three weeks of event time — past the start-up, where orders have not yet
/// lived long enough to be delivered, refunded or reviewed — and the test stays fast.
fn config(seed: u64) -> StreamConfig {
    StreamConfig {
        sellers: 200,
        buyers: 10_000,
        orders_per_day: 500,
        ..StreamConfig::new(seed, "t-", START_MS)
    }
}

fn lines(seed: u64, n: usize) -> Vec<String> {
    EventStream::new(config(seed)).take(n).collect()
}

/// Fields the contract requires of each type (besides the envelope's).
fn required(kind: &str) -> &'static [&'static str] {
    match kind {
        "listing.upserted" => &["listing_id", "seller_id", "title", "price"],
        "order.placed" => &[
            "order_id",
            "listing_id",
            "seller_id",
            "buyer_id",
            "quantity",
            "total",
        ],
        "order.paid" | "order.shipped" | "order.delivered" | "order.cancelled" => &["order_id"],
        "refund.requested" | "refund.completed" => &["order_id", "refund_id"],
        "review.posted" => &["order_id", "review_id", "rating"],
        "complaint.opened" => &["complaint_id", "seller_id"],
        "complaint.responded" | "complaint.resolved" => &["complaint_id"],
        other => panic!("unknown event type {other}"),
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    assert_eq!(lines(7, 5_000), lines(7, 5_000));
    assert_ne!(lines(7, 5_000), lines(8, 5_000));
}

#[test]
fn every_line_is_a_contract_event_with_its_required_fields() {
    let mut ids = HashSet::new();
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut late = 0;
    let mut clock = String::new();
    let all = lines(1, 40_000);
    for line in &all {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let id = event["event_id"].as_str().expect("event_id");
        assert!(ids.insert(id.to_string()), "duplicate event_id {id}");
        let at = event["occurred_at"].as_str().expect("occurred_at");
        assert!(at.ends_with("+08:00") && at.len() == 25, "occurred_at {at}");
        // Same offset and width everywhere, so text order is time order.
        if at < clock.as_str() {
            late += 1;
        } else {
            clock = at.to_string();
        }
        let kind = event["type"].as_str().expect("type");
        for field in required(kind) {
            assert!(!event[field].is_null(), "{kind} without {field}: {line}");
        }
        if kind == "order.placed" {
            for field in [
                "account_created_at",
                "device_id",
                "ip",
                "shipping_address",
                "phone",
            ] {
                assert!(event["buyer"][field].is_string(), "buyer.{field}: {line}");
            }
        }
        *types.entry(kind.to_string()).or_default() += 1;
    }
    let share = |prefix: &str| {
        let n: usize = types
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum();
        n as f64 / all.len() as f64
    };
    assert!(share("order.") >= 0.30, "{types:?}");
    assert!(share("order.placed") >= 0.15, "{types:?}");
    for kind in [
        "listing.upserted",
        "order.cancelled",
        "refund.requested",
        "refund.completed",
        "review.posted",
        "complaint.opened",
        "complaint.responded",
        "complaint.resolved",
    ] {
        assert!(
            types.get(kind).copied().unwrap_or(0) > 20,
            "few {kind}: {types:?}"
        );
    }
    let late = late as f64 / all.len() as f64;
    assert!((0.002..0.03).contains(&late), "late share {late}");
}

#[test]
fn the_marketplace_has_misleading_listings_rings_and_late_shipments() {
    let all = lines(3, 40_000).join("\n");
    assert!(
        all.contains("国家级") || all.contains("全网最低价"),
        "no misleading title"
    );
    assert!(all.contains("\"reference_price\""), "no reference price");
    assert!(all.contains("\"presale\":true"), "no presale");
    assert!(all.contains("\"buyer_id\":\"t-R"), "no ring order");
}

#[test]
fn households_share_devices_and_ring_parcels_cross_cities() {
    let mut device_buyers: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut ring_orders = HashSet::new();
    let mut ring_parcels = 0;
    for line in lines(5, 40_000) {
        let event: Value = serde_json::from_str(&line).expect("JSON");
        let order = event["order_id"].as_str().unwrap_or_default().to_string();
        match event["type"].as_str() {
            Some("order.placed") => {
                let buyer = event["buyer_id"].as_str().expect("buyer_id").to_string();
                if buyer.starts_with("t-R") {
                    ring_orders.insert(order);
                } else {
                    let device = event["buyer"]["device_id"].as_str().expect("device_id");
                    device_buyers
                        .entry(device.to_string())
                        .or_default()
                        .insert(buyer);
                }
            }
            Some("order.shipped") if ring_orders.contains(&order) => {
                assert_ne!(event["origin_city"], event["destination_city"], "{line}");
                ring_parcels += 1;
            }
            _ => {}
        }
    }
    let shared = device_buyers.values().filter(|b| b.len() >= 2).count();
    assert!(shared > 10, "{shared} devices shared by honest buyers");
    assert!(ring_parcels > 10, "{ring_parcels} ring parcels");
}
