//! Buyer-keyed plugins: an event with a buyer is also evaluated in the buyer's shard, so
//! a buyer-level rule (`tests/plugins/serial-refunds`) sees one buyer's orders across
//! sellers; its findings are about `buyer` subjects, keyed by the buyer's pseudonym. The
//! log records the buyer route, so a replay into a fresh store decides the same.

use std::sync::Arc;

use probity::config::PluginConfig;
use probity::model::event::{Event, EventBody};
use probity::model::shard::{ShardKey, shard_of};
use probity::model::subject::{Subject, SubjectType};
use probity::pipeline::Pipeline;
use probity::store::{SledStore, Store};
use probity::verdict::{Action, Category};
use probity_e2e::harness::{config, entry, event, load, pipeline, placed};
use serde_json::json;

/// `order.placed` of `order` by `buyer` at `seller`.
fn order(id: &str, at: &str, order: &str, seller: &str, buyer: &str) -> Event {
    event(json!({
        "event_id": id, "type": "order.placed", "occurred_at": at,
        "order_id": order, "listing_id": "L-1", "seller_id": seller, "buyer_id": buyer,
        "quantity": 1, "total": {"amount": "19.90", "currency": "CNY"}
    }))
}

/// `refund.requested` of `order`.
fn refund(id: &str, at: &str, order: &str) -> Event {
    event(json!({
        "event_id": id, "type": "refund.requested", "occurred_at": at,
        "order_id": order, "refund_id": format!("R-{order}"), "reason": "not as described"
    }))
}

/// The pseudonym `buyer` gets (what a platform computes with `probity pseudonym`).
fn pseudonym_of(buyer: &str) -> String {
    match order("x", "2026-11-01T00:00:00Z", "O-x", "S-x", buyer).body {
        EventBody::OrderPlaced(placed) => placed.buyer_id.as_str().to_string(),
        _ => unreachable!("an order.placed"),
    }
}

fn serial_refunds() -> probity::config::Config {
    config(vec![("serial-refunds", entry("serial-refunds", json!({})))])
}

/// Buyer B-1 orders from three sellers and asks each for a refund; B-2 asks one seller
/// three times; B-3's refund arrives before its order (parked, then released).
fn market() -> Vec<Event> {
    vec![
        order("e1", "2026-11-01T10:00:00Z", "O-1", "S-1", "B-1"),
        order("e2", "2026-11-01T11:00:00Z", "O-2", "S-2", "B-1"),
        order("e3", "2026-11-01T12:00:00Z", "O-3", "S-3", "B-1"),
        order("e4", "2026-11-01T12:00:00Z", "O-4", "S-1", "B-2"),
        order("e5", "2026-11-01T12:00:00Z", "O-5", "S-1", "B-2"),
        order("e6", "2026-11-01T12:00:00Z", "O-6", "S-1", "B-2"),
        refund("e7", "2026-11-03T10:00:00Z", "O-1"),
        refund("e8", "2026-11-04T10:00:00Z", "O-2"),
        refund("e9", "2026-11-04T10:00:00Z", "O-4"),
        refund("e10", "2026-11-05T10:00:00Z", "O-5"),
        refund("e11", "2026-11-05T10:00:00Z", "O-6"),
        refund("e12", "2026-11-06T10:00:00Z", "O-3"),
        refund("e13", "2026-11-06T11:00:00Z", "O-9"),
        order("e14", "2026-11-06T12:00:00Z", "O-9", "S-9", "B-1"),
    ]
}

fn buyer_verdict(store: &dyn Store, buyer: &str) -> Option<probity::verdict::Verdict> {
    store
        .verdict(&Subject::new(SubjectType::Buyer, pseudonym_of(buyer)))
        .expect("read")
}

#[test]
fn a_buyer_keyed_plugin_sees_one_buyer_across_sellers() {
    let sellers: std::collections::BTreeSet<_> = ["S-1", "S-2", "S-3", "S-9"]
        .iter()
        .map(|s| shard_of(s))
        .collect();
    assert!(sellers.len() > 1, "the sellers are in different shards");
    let (_dir, mut pipeline) = pipeline(&serial_refunds());
    let plugin = pipeline
        .plugins()
        .get("serial-refunds")
        .expect("loaded")
        .clone();
    assert_eq!(plugin.keyed_by(), ShardKey::Buyer);
    assert_eq!(plugin.manifest().world_version, "0.2.0");
    for e in market() {
        pipeline.process(&e).expect("processed");
    }
    let store = pipeline.store().clone();

    let b1 = buyer_verdict(store.as_ref(), "B-1").expect("B-1 has a verdict");
    assert_eq!(b1.subject.id, pseudonym_of("B-1"), "keyed by pseudonym");
    assert_ne!(b1.subject.id, "B-1", "never the raw id");
    let finding = b1
        .findings
        .iter()
        .find(|f| f.rule == "serial-refunds.buyer")
        .unwrap_or_else(|| panic!("a serial-refunds finding: {b1:?}"));
    assert_eq!(finding.category, Category::RefundAbuse);
    assert_eq!(b1.action, Action::Review);
    // Three sellers by e12; the parked refund of O-9 (released by e14) is the fourth.
    assert!(
        finding.message.contains("4 refunds from 4 sellers"),
        "{}",
        finding.message
    );

    // One seller three times: not across sellers.
    let b2 = buyer_verdict(store.as_ref(), "B-2").expect("B-2 has a verdict");
    assert!(b2.findings.is_empty(), "{b2:?}");
    assert_eq!(b2.action, Action::Allow);

    // The seller-side subjects are the seller route's, as before.
    let o1 = store
        .verdict(&Subject::new(SubjectType::Order, "O-1"))
        .expect("read")
        .expect("the order's verdict");
    assert_eq!(o1.action, Action::Allow);
}

#[test]
fn without_a_buyer_keyed_plugin_nothing_goes_to_buyer_shards() {
    let (_dir, mut pipeline) = pipeline(&config(vec![(
        "good",
        PluginConfig::from_path(probity_e2e::test_plugin("good")),
    )]));
    for e in market() {
        pipeline.process(&e).expect("processed");
    }
    assert!(buyer_verdict(pipeline.store().as_ref(), "B-1").is_none());
    pipeline
        .process(&placed("p1", "2026-11-07T00:00:00Z", "O-p", "S-1"))
        .expect("processed");
}

#[test]
fn a_replay_into_a_fresh_store_gives_the_same_buyer_verdicts() {
    let config = serial_refunds();
    let dir = tempfile::tempdir().expect("tempdir");
    let sled = Arc::new(SledStore::open(dir.path(), 16 << 20).expect("store"));
    let store: Arc<dyn Store> = sled.clone();
    let mut live =
        Pipeline::new(store.clone(), Arc::new(load(&config).expect("plugins"))).expect("pipeline");
    for e in market() {
        live.process(&e).expect("processed");
    }
    // As `probity rebuild` does: the log alone, replayed with the same configuration.
    let fresh: Arc<dyn Store> = Arc::new(
        sled.fresh_copy(&dir.path().join("fresh"), 16 << 20)
            .expect("fresh copy"),
    );
    let mut replay =
        Pipeline::new(fresh.clone(), Arc::new(load(&config).expect("plugins"))).expect("pipeline");
    replay.replay_from(1).expect("replayed");
    for buyer in ["B-1", "B-2"] {
        let a = buyer_verdict(store.as_ref(), buyer).expect("live");
        let b = buyer_verdict(fresh.as_ref(), buyer).expect("replayed");
        assert_eq!(a.action, b.action, "{buyer}");
        assert_eq!(
            a.findings.iter().map(|f| &f.message).collect::<Vec<_>>(),
            b.findings.iter().map(|f| &f.message).collect::<Vec<_>>(),
            "{buyer}"
        );
    }
}
