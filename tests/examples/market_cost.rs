//! Measures what the stateful bundled plugins cost per event on this machine, over the
//! generated marketplace (`probity_e2e::brush`: listings, full order life cycles,
//! reviews; ~78,000 events): `brush-orders` and `sla`, each natively (the SDK harness,
//! state as JSON in memory) and as the bundled component in the host's pipeline (a warm
//! instance; state in sled, committed with each event's verdicts), where the plugin's
//! own share is read from its counters.
//!
//! `cargo run --release -p probity-e2e --example market_cost [brush-orders|sla]`
//! (one plugin only, e.g. under a profiler).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use probity::config::PluginConfig;
use probity_e2e::brush::market::{Market, Params};
use probity_e2e::harness;
use probity_sdk::prelude::Plugin;
use probity_sdk::testing::Harness;

/// Run natively; print µs/event, the state's peak and its make-up at the end.
fn native<P: Plugin>(name: &str, market: &Market) {
    let mut plugin = Harness::<P>::new("{}").expect("settings");
    let mut elapsed = Duration::ZERO;
    let mut peak = (0, 0);
    for (i, ev) in market.events.iter().enumerate() {
        let envelope = ev.envelope();
        let started = Instant::now();
        let outcome = plugin.handle(envelope);
        elapsed += started.elapsed();
        assert!(outcome.errors().is_empty(), "{:?}", outcome.errors());
        if i % 2000 == 0 {
            peak = peak.max((plugin.state_bytes(), plugin.state_entries().len()));
        }
    }
    let micros = elapsed.as_secs_f64() * 1e6 / market.events.len() as f64;
    println!("{name:<14} native (SDK harness, state in memory)            {micros:>7.1} µs/event");
    println!(
        "{name:<14}   state at its peak (sampled every 2,000 events) {:>9} bytes in {} entries",
        peak.0, peak.1
    );
    let mut kinds: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for entry in plugin.state_entries() {
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
        println!("{name:<14}   at the end: {kind:<6} {count:>6} entries {bytes:>9} bytes");
    }
}

/// Run through the host's pipeline with only this plugin.
fn component(name: &str, market: &Market) {
    let parsed: Vec<_> = market
        .events
        .iter()
        .map(|ev| harness::event(ev.json()))
        .collect();
    let config = harness::config(vec![(name, PluginConfig::bundled(name))]);
    let (_dir, mut pipeline) = harness::pipeline(&config);
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, 0);
    for (i, event) in parsed.iter().enumerate() {
        let one = Instant::now();
        pipeline.process(event).expect("processed");
        slowest = slowest.max((one.elapsed(), i));
    }
    let total = started.elapsed().as_secs_f64() * 1e6 / parsed.len() as f64;
    let plugin = pipeline.plugins().get(name).expect("loaded").clone();
    let calls = plugin.counters().calls.load(Ordering::Relaxed) as f64;
    let micros = plugin.counters().micros.load(Ordering::Relaxed) as f64;
    println!(
        "{name:<14} component, warm instance (guest + state calls)  {:>7.1} µs/call",
        micros / calls.max(1.0)
    );
    println!(
        "{name:<14} whole pipeline (verdicts, state, sled commit)  {total:>7.1} µs/event ({calls:.0} calls)"
    );
    println!(
        "{name:<14}   slowest event: {:.1} ms ({}); plugin errors: {}",
        slowest.0.as_secs_f64() * 1e3,
        market.events[slowest.1].id,
        plugin.counters().errors.load(Ordering::Relaxed)
    );
}

fn main() {
    let market = Market::generate(Params::full(7));
    println!(
        "{} events, {} orders",
        market.events.len(),
        market.orders.len()
    );
    let only = std::env::args().nth(1);
    let wanted = |name: &str| only.as_deref().is_none_or(|only| only == name);
    if wanted("brush-orders") {
        native::<brush_orders::Brush>("brush-orders", &market);
        component("brush-orders", &market);
    }
    if wanted("sla") {
        native::<sla::Sla>("sla", &market);
        component("sla", &market);
    }
}
