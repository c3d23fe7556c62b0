//! Seller partitions: the same log gives the same verdicts with one partition thread and
//! with four, and an event that arrives before its order waits for it.
//!
//! A generated market (brush rings, honest orders, listings) runs through the three
//! bundled plugins and a buyer-keyed one (`serial-refunds`) in two real servers, one with `partitions = 4` and one with
//! `partitions = 1`, sent the same NDJSON batches in the same order. Some payments,
//! shipments and reviews are moved ahead of their `order.placed`, so they are parked
//! and released. Every verdict and every history must be the same in both; and
//! `probity rebuild` (which replays the four-partition server's log on one thread)
//! must give them again.

use probity_e2e::server::market::{
    compare, everything, four_plugins as config, ratings, send_all, stream,
};
use probity_e2e::server::{ConfigText, Server};
use serde_json::Value;

#[test]
fn one_partition_and_four_give_the_same_verdicts_and_a_rebuild_repeats_them() {
    let events = stream();

    let mut four = Server::start(&config(4));
    let waiting = send_all(&four.client(), &events);
    assert!(waiting > 10, "payments that came first waited: {waiting}");
    let by_four = everything(&four.client());
    let flagged = by_four
        .values()
        .filter(|(v, _)| v["action"] != "allow")
        .count();
    assert!(flagged > 10, "the market flags something: {flagged}");
    let by_plugin = |plugin: &str| {
        by_four
            .values()
            .flat_map(|(_, history)| history.as_array().cloned().unwrap_or_default())
            .filter(|f| f["plugin"] == plugin)
            .count()
    };
    let (sla, brush) = (by_plugin("sla"), by_plugin("brush"));
    let buyers = by_four.keys().filter(|k| k.starts_with("buyer/")).count();
    assert!(
        buyers > 10,
        "buyers have verdicts of the buyer-keyed plugin: {buyers}"
    );
    let listed = four
        .client()
        .get("/v1/verdicts?subject_type=buyer&limit=1000")
        .ok()["verdicts"]
        .as_array()
        .map(|all| {
            assert!(
                all.iter().all(|v| v["subject"]["type"] == "buyer"),
                "{all:?}"
            );
            all.len()
        });
    assert_eq!(
        listed,
        Some(buyers),
        "the subject_type filter finds every buyer"
    );
    let serial = by_plugin("refunds");
    assert!(
        serial > 5,
        "buyers with a second refund were flagged: {serial}"
    );

    assert!(
        sla > 10 && brush > 10,
        "deadlines passed ({sla}) and rings were found ({brush})"
    );
    let released = four
        .client()
        .get("/metrics")
        .expect_status(200)
        .text
        .clone();
    assert!(
        released.contains("probity_parked_events 0"),
        "every parked event was released once its order came"
    );

    let one = Server::start(&config(1));
    send_all(&one.client(), &events);
    let by_one = everything(&one.client());
    compare("1 vs 4 partitions", &by_four, &by_one);
    let rated_by_four = ratings(&four.client());
    assert!(rated_by_four.as_array().is_some_and(|all| all.len() > 10));
    assert_eq!(rated_by_four, ratings(&one.client()), "the same ratings");

    four.stop();
    let stderr = four.rebuild();
    assert!(stderr.contains("rebuilt"), "{stderr}");
    four.restart();
    compare(
        "a rebuild on one thread",
        &by_four,
        &everything(&four.client()),
    );
    assert_eq!(
        rated_by_four,
        ratings(&four.client()),
        "the same ratings after a rebuild"
    );
    eprintln!(
        "partitions: {} events ({waiting} before their order), {} subjects ({flagged} flagged), the same with 1 and 4 partitions and after a rebuild",
        events.len(),
        by_four.len()
    );
}

fn sla_only() -> String {
    ConfigText::new()
        .server("watch_config = false")
        .server("partitions = 3")
        .good("enabled = false")
        .tail("[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 20000 }\n")
        .render()
}

fn event(id: &str, kind: &str, at: &str, fields: Value) -> Value {
    let mut event = serde_json::json!({"event_id": id, "type": kind, "occurred_at": at});
    for (key, value) in fields.as_object().expect("fields") {
        event[key] = value.clone();
    }
    event
}

/// A payment that arrives before its order is logged and waits; once the order arrives
/// it is evaluated with that seller's state, so the shipment that follows meets the
/// deadline the payment started — and a restart in between loses nothing.
#[test]
fn an_event_before_its_order_waits_for_it_and_is_judged_with_its_seller() {
    let mut server = Server::start(&sla_only());
    let c = server.client();
    let paid = event(
        "p-1",
        "order.paid",
        "2026-10-01T00:05:00Z",
        serde_json::json!({"order_id": "O-1"}),
    );
    let reply = c.send(&paid);
    assert_eq!(reply.ok()["status"], "accepted", "{}", reply.text);
    assert_eq!(reply.ok()["waiting_for"], "order O-1", "{}", reply.text);
    assert_eq!(reply.ok()["verdicts"], serde_json::json!([]));
    c.verdict("order", "O-1").problem(404, "not-found");
    // A re-send is a duplicate, also across a restart.
    assert_eq!(c.send(&paid).ok()["status"], "duplicate");
    server.kill_9();
    server.restart();
    let c = server.client();
    assert_eq!(c.send(&paid).ok()["status"], "duplicate");

    c.send(&event(
        "p-0",
        "order.placed",
        "2026-10-01T00:00:00Z",
        serde_json::json!({"order_id": "O-1", "listing_id": "L-1", "seller_id": "S-1",
            "buyer_id": "B-1", "quantity": 1, "total": {"amount": "10.00", "currency": "CNY"}}),
    ))
    .ok();
    c.send(&event(
        "p-2",
        "order.shipped",
        "2026-10-01T10:00:00Z",
        serde_json::json!({"order_id": "O-1"}),
    ))
    .ok();
    // An unpaid, unshipped order of another seller, and a week of traffic after it.
    c.send(&event(
        "q-0",
        "order.placed",
        "2026-10-01T00:00:00Z",
        serde_json::json!({"order_id": "O-2", "listing_id": "L-2", "seller_id": "S-2",
            "buyer_id": "B-2", "quantity": 1, "total": {"amount": "10.00", "currency": "CNY"}}),
    ))
    .ok();
    c.send(&event(
        "q-1",
        "order.paid",
        "2026-10-01T00:01:00Z",
        serde_json::json!({"order_id": "O-2"}),
    ))
    .ok();
    c.send(&event(
        "z-1",
        "listing.upserted",
        "2026-10-08T00:00:00Z",
        serde_json::json!({"listing_id": "L-9", "seller_id": "S-9", "title": "tea",
            "price": {"amount": "1.00", "currency": "CNY"}}),
    ))
    .ok();
    let sla = |order: &str| {
        c.verdict("order", order).ok()["findings"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|f| f["plugin"] == "sla")
                    .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(sla("O-1").is_empty(), "shipped in time: {:?}", sla("O-1"));
    assert_eq!(sla("O-2"), ["sla.ship_late"], "the control order is late");
}
