//! Measures what the `claims` plugin costs per listing with a 2 KB description on this
//! machine: natively (the SDK harness: matching, price check, state as JSON in memory)
//! and as the bundled component in the host (a warm instance: the guest's automata are
//! built once, on the instance's first call, then reused).
//!
//! `cargo run --release -p probity-e2e --example claims_cost`

use std::sync::Arc;
use std::time::Instant;

use probity::config::PluginConfig;
use probity::runtime::{abi, load_plugin};
use probity::store::{PluginScope, SledStore, Store};
use probity_e2e::harness::{engine, event};
use probity_sdk::testing::Harness;
use serde_json::json;

const CALLS: u32 = 5_000;

/// About 2 KB of realistic product copy with a few claims and a few traps in it.
fn description() -> String {
    let paragraph = "这款保湿面霜采用天然植物精华，质地轻盈，易于吸收。第一次使用建议先在耳后试用，\
        最佳使用期为开封后六个月，最好在阴凉处保存。Our lightest formula compared to our previous \
        generation, with 100% cotton applicator pads included. 研究表明坚持使用四周肌肤更水润。\
        Suitable for all skin types; not tested on animals. 本店最畅销的款式，全国包邮。";
    let mut text = String::new();
    while text.len() < 2048 {
        text.push_str(paragraph);
    }
    text.push_str(" 顶级品质，极致呵护。");
    text
}

fn per_call(label: &str, mut f: impl FnMut(u32)) {
    for i in 0..100 {
        f(i);
    }
    let started = Instant::now();
    for i in 0..CALLS {
        f(i);
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS);
    println!("{label:<58} {micros:>8.1} µs/listing");
}

fn main() {
    let description = description();
    println!("description: {} bytes", description.len());
    let listing = |i: u32| {
        json!({
            "event_id": format!("e{i}"), "type": "listing.upserted",
            "occurred_at": "2026-11-01T10:00:00Z", "listing_id": format!("L-{}", i % 1000),
            "seller_id": "S-1", "title": "国家级保湿面霜 50ml", "category": "cosmetics/skincare",
            "price": {"amount": "99.00", "currency": "CNY"},
            "reference_price": {"amount": "129.00", "currency": "CNY"},
            "description": description, "attributes": {"品牌": "水润", "容量": "50ml"},
        })
    };
    let events: Vec<_> = (0..CALLS + 100).map(|i| event(listing(i))).collect();
    let envelopes: Vec<_> = events.iter().map(abi::Lent::new).collect();

    let compiled = claims::settings::Settings::default()
        .compile()
        .expect("defaults");
    let matcher = claims::matcher::Matcher::new(&compiled).expect("matcher");
    per_call("native matcher alone (description)", |_| {
        let scan = matcher.scan(
            &description,
            claims::rules::Class::Cosmetics,
            &compiled.rules,
            &[],
        );
        assert!(!scan.hits.is_empty());
    });
    let mut harness = Harness::<claims::Claims>::new("{}").expect("settings");
    let native: Vec<_> = (0..CALLS + 100)
        .map(|i| {
            let mut envelope = probity_sdk::testing::listing(
                &format!("L-{}", i % 1000),
                "S-1",
                "国家级保湿面霜 50ml",
            );
            if let probity_sdk::prelude::Event::ListingUpserted(l) = &mut envelope.event {
                l.description = Some(description.clone());
                l.category = Some("cosmetics/skincare".into());
            }
            envelope
        })
        .collect();
    per_call("native (SDK harness)", |i| {
        let outcome = harness.handle(native[i as usize].clone());
        assert!(outcome.errors().is_empty());
    });

    let wasm = probity::bundled::BUNDLED
        .iter()
        .find(|(name, _)| *name == "claims")
        .map(|(_, bytes)| *bytes)
        .expect("claims is bundled");
    let entry = PluginConfig::bundled("claims");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&dir).expect("store"));
    let (plugin, _) = load_plugin(&engine(), "claims", &entry, wasm, 2).expect("load");
    per_call(
        "bundled component, warm instance (state in sled scope)",
        |i| {
            let scope = PluginScope::open(store.clone(), plugin.name_arc(), 0, plugin.quotas())
                .expect("scope");
            let outcome = plugin.handle(&envelopes[i as usize], scope);
            assert!(outcome.result.is_ok(), "{:?}", outcome.result.err());
        },
    );
}
