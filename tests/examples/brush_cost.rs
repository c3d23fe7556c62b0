//! Measures what the `brush-orders` plugin costs per event on this machine, over the
//! generated marketplace (listings, full order life cycles, reviews; ~78,000 events):
//! natively (the SDK harness, state as JSON in memory) and as the bundled component in
//! the host's pipeline (a warm instance; state in sled, committed with each event's
//! verdicts), where the plugin's own share is read from its counters.
//!
//! `cargo run --release -p probity-e2e --example brush_cost`

use std::time::Instant;

use probity::config::PluginConfig;
use probity_e2e::brush::market::{Market, Params};
use probity_e2e::harness;
use probity_sdk::testing::Harness;

fn main() {
    let market = Market::generate(Params::full(7));
    let events = market.events.len() as f64;
    println!(
        "{} events, {} orders",
        market.events.len(),
        market.orders.len()
    );

    let envelopes: Vec<_> = market.events.iter().map(|ev| ev.envelope()).collect();
    let mut native = Harness::<brush_orders::Brush>::new("{}").expect("settings");
    let mut elapsed = std::time::Duration::ZERO;
    let mut peak = (0, 0);
    for (i, envelope) in envelopes.into_iter().enumerate() {
        let started = Instant::now();
        let outcome = native.handle(envelope);
        elapsed += started.elapsed();
        assert!(outcome.errors().is_empty());
        if i % 2000 == 0 {
            peak = peak.max((native.state_bytes(), native.state_entries().len()));
        }
    }
    let micros = elapsed.as_secs_f64() * 1e6 / events;
    println!(
        "{:<62} {micros:>7.1} µs/event",
        "native (SDK harness, state in memory)"
    );
    println!(
        "{:<62} {:>7} bytes in {} entries",
        "  state at its peak (sampled every 2,000 events)", peak.0, peak.1
    );
    println!(
        "{:<62} {:>7} bytes",
        "  state at the end",
        native.state_bytes()
    );
    let mut kinds: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for entry in native.state_entries() {
        let kind = entry
            .key
            .split('\u{1f}')
            .next()
            .unwrap_or_default()
            .to_string();
        let slot = kinds.entry(kind).or_default();
        slot.0 += 1;
        slot.1 += entry.key.len() + entry.value.len();
    }
    for (kind, (count, bytes)) in kinds {
        println!(
            "    {kind:<4} {count:>7} entries {bytes:>9} bytes ({:.0} per entry)",
            bytes as f64 / count as f64
        );
    }

    let parsed: Vec<_> = market
        .events
        .iter()
        .map(|ev| harness::event(ev.json()))
        .collect();
    let entry = PluginConfig::bundled("brush-orders");
    let config = harness::config(vec![("brush-orders", entry)]);
    let (_dir, mut pipeline) = harness::pipeline(&config);
    let started = Instant::now();
    for event in &parsed {
        pipeline.process(event).expect("processed");
    }
    let total = started.elapsed().as_secs_f64() * 1e6 / events;
    let plugin = pipeline
        .plugins()
        .get("brush-orders")
        .expect("loaded")
        .clone();
    let counters = plugin.counters();
    let calls = counters.calls.load(std::sync::atomic::Ordering::Relaxed) as f64;
    let in_plugin = counters.micros.load(std::sync::atomic::Ordering::Relaxed) as f64;
    println!(
        "{:<62} {:>7.1} µs/call",
        "component, warm instance (guest + state host calls)",
        in_plugin / calls.max(1.0)
    );
    println!(
        "{:<62} {total:>7.1} µs/event",
        "whole pipeline (parse excluded; verdicts, state, sled commit)"
    );
    println!(
        "{:<62} {:>7.0}",
        "  plugin calls (events subscribed + timers)", calls
    );
}
