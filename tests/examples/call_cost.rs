//! Measures the per-event cost of a trivial plugin call on this machine: a warm instance
//! reused from the pool, a fresh instance per call (instantiate + call), and one whole
//! pipeline event (parse-free: plugin calls, verdicts, an unflushed sled commit).
//!
//! `cargo run --release -p probity-e2e --example call_cost`

use std::sync::Arc;
use std::time::Instant;

use probity::runtime::{abi, load_plugin};
use probity::store::{PluginScope, SledStore, Store};
use probity_e2e::harness::{config, engine, entry, listing, pipeline};
use probity_e2e::test_plugin;
use serde_json::json;

const CALLS: u32 = 20_000;

fn per_call(label: &str, calls: u32, mut f: impl FnMut(u32)) {
    for i in 0..100 {
        f(i);
    }
    let started = Instant::now();
    for i in 0..calls {
        f(i);
    }
    let nanos = started.elapsed().as_nanos() as f64 / f64::from(calls);
    println!("{label:<48} {:>10.1} µs/call", nanos / 1000.0);
}

fn main() {
    let trivial = entry("busy", json!({"iterations": 0}));
    let wasm = std::fs::read(test_plugin("busy")).expect("busy.wasm");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&dir).expect("store"));
    let event = listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "a plain title");
    let envelope = abi::Lent::new(&event);

    for (label, idle) in [
        ("trivial plugin, warm instance reused", 2),
        ("trivial plugin, new instance per call", 0),
    ] {
        let (plugin, _) = load_plugin(&engine(), "busy", &trivial, &wasm, idle).expect("load");
        per_call(label, CALLS, |_| {
            let scope = PluginScope::open(store.clone(), plugin.name_arc(), 0, plugin.quotas())
                .expect("scope");
            let outcome = plugin.handle(&envelope, scope);
            assert!(outcome.result.is_ok());
        });
    }

    let config = config(vec![("good", entry("good", json!({})))]);
    let (_dir, mut pipeline) = pipeline(&config);
    let events: Vec<_> = (0..CALLS)
        .map(|i| {
            listing(
                &format!("e{i}"),
                "2026-11-01T10:00:00Z",
                &format!("L-{i}"),
                &format!("S-{}", i % 50),
                "a plain title",
            )
        })
        .collect();
    let mut next = events.iter();
    per_call(
        "pipeline event, good plugin (state + commit)",
        CALLS - 100,
        |_| {
            let event = next.next().expect("event");
            pipeline.process(event).expect("processed");
        },
    );
}
