//! Micro-benchmarks of the host's hot paths, one group per stage an event goes through:
//! parsing and pseudonymising it, evaluating it with the bundled plugins, and staging
//! and flushing its writes. `cargo bench -p probity` runs them; `BENCHMARKS.md` has the
//! figures and the whole-server benchmark (`probity-bench`). Nothing here asserts a
//! timing.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use probity::config::Config;
use probity::ingest;
use probity::model::event::Event;
use probity::pipeline::{Pipeline, PluginSet};
use probity::privacy::{PersonalField, Pseudonymizer};
use probity::runtime::PluginEngine;
use probity::store::{SledStore, Store};

const KEY: &[u8] = b"probity-bench-pseudonym-key-0001";

fn order_placed(n: u64) -> String {
    serde_json::json!({
        "event_id": format!("e-placed-{n}"), "type": "order.placed",
        "occurred_at": "2026-11-01T10:00:00+08:00",
        "order_id": format!("O-{n}"), "listing_id": format!("L-{}", n % 500),
        "seller_id": format!("S-{}", n % 50), "buyer_id": format!("B-{}", n % 5000),
        "quantity": 1, "total": {"amount": "59.00", "currency": "CNY"},
        "buyer": {
            "account_created_at": "2024-03-01T08:00:00Z",
            "device_id": format!("dev-{}", n % 4000), "ip": "203.0.113.7",
            "shipping_address": "88 Nanjing Road, Shanghai", "phone": "+86 138 0000 0000"
        }
    })
    .to_string()
}

/// The events of one order's life, as JSON lines, `n` making the ids unique.
fn life_cycle(n: u64) -> Vec<String> {
    let at = |hour: u64| format!("2026-11-{:02}T{:02}:00:00Z", 1 + (n / 24) % 28, hour % 24);
    let order = format!("O-{n}");
    vec![
        order_placed(n),
        serde_json::json!({"event_id": format!("e-paid-{n}"), "type": "order.paid",
            "occurred_at": at(n + 1), "order_id": order, "payment_fingerprint": format!("card-{}", n % 3000)})
        .to_string(),
        serde_json::json!({"event_id": format!("e-ship-{n}"), "type": "order.shipped",
            "occurred_at": at(n + 20), "order_id": order, "parcel_weight_grams": 640,
            "origin_city": "Hangzhou", "destination_city": "Shanghai", "carrier": "SF"})
        .to_string(),
        serde_json::json!({"event_id": format!("e-deliv-{n}"), "type": "order.delivered",
            "occurred_at": at(n + 44), "order_id": order})
        .to_string(),
        serde_json::json!({"event_id": format!("e-rev-{n}"), "type": "review.posted",
            "occurred_at": at(n + 50), "order_id": order, "review_id": format!("R-{n}"),
            "rating": 5, "text": "Arrived quickly, exactly as described, would buy again."})
        .to_string(),
    ]
}

fn parse(line: &str, pseudonymizer: &Pseudonymizer) -> Event {
    ingest::parse_event(line.as_bytes(), pseudonymizer).expect("a valid event")
}

fn parsing(c: &mut Criterion) {
    let pseudonymizer = Pseudonymizer::new(KEY).expect("key");
    let line = order_placed(7);
    c.bench_function("parse/order.placed with 6 personal fields", |b| {
        b.iter(|| parse(black_box(&line), &pseudonymizer))
    });
    c.bench_function("pseudonymise/shipping address", |b| {
        b.iter(|| {
            pseudonymizer.pseudonymize(
                PersonalField::ShippingAddress,
                black_box("88 Nanjing Road, Shanghai"),
            )
        })
    });
}

/// A pipeline over a fresh store with the embedded default configuration (every bundled
/// plugin, enforce mode).
fn default_pipeline(dir: &tempfile::TempDir) -> Pipeline {
    let config = Config::load(None, &probity::bundled::names()).expect("default config");
    let cache = dir.path().join("compiled");
    let engine = PluginEngine::new(&config.runtime, cache).expect("engine");
    let (set, _) =
        PluginSet::load(&engine, &config, probity::bundled::BUNDLED).expect("plugins load");
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&dir.path().join("data"), 64 << 20).expect("store"));
    Pipeline::new(store, Arc::new(set)).expect("pipeline")
}

fn pipeline(c: &mut Criterion) {
    let pseudonymizer = Pseudonymizer::new(KEY).expect("key");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pipeline = default_pipeline(&dir);
    let listing = serde_json::json!({
        "event_id": "e-listing", "type": "listing.upserted",
        "occurred_at": "2026-10-01T00:00:00Z", "listing_id": "L-1", "seller_id": "S-1",
        "title": "Organic green tea, 250 g tin",
        "description": "Spring harvest from Hangzhou. Store cool and dry.",
        "price": {"amount": "59.00", "currency": "CNY"}
    })
    .to_string();
    pipeline
        .process(&parse(&listing, &pseudonymizer))
        .expect("listing");
    let n = std::cell::Cell::new(0u64);
    // Five events per iteration: an order placed, paid, shipped, delivered, reviewed;
    // the writes are flushed every 100 orders, as group commit does under load.
    c.bench_function("pipeline/order life cycle (5 events, 3 plugins)", |b| {
        b.iter_batched(
            || {
                n.set(n.get() + 1);
                life_cycle(n.get())
                    .iter()
                    .map(|line| parse(line, &pseudonymizer))
                    .collect::<Vec<_>>()
            },
            |events| {
                for event in &events {
                    pipeline.process(event).expect("processed");
                }
                if n.get().is_multiple_of(100) {
                    pipeline.store().flush().expect("flush");
                }
            },
            BatchSize::SmallInput,
        )
    });
    let mut listing_n = 0;
    c.bench_function("pipeline/listing.upserted (claims)", |b| {
        b.iter_batched(
            || {
                listing_n += 1;
                let line = listing
                    .replace("e-listing", &format!("e-listing-{listing_n}"))
                    .replace("\"L-1\"", &format!("\"L-{listing_n}\""));
                parse(&line, &pseudonymizer)
            },
            |event| pipeline.process(&event).expect("processed"),
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = hot_paths;
    config = Criterion::default().sample_size(30);
    targets = parsing, pipeline
}
criterion_main!(hot_paths);
