//! Shared set-up for end-to-end tests: one engine per test binary (compiled plugins are
//! cached under the target directory), pipelines over temporary stores, and event
//! builders that go through the real contract parser.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use probity::config::{Config, Limits, OnError, PluginConfig};
use probity::ingest;
use probity::model::event::Event;
use probity::pipeline::{Pipeline, PluginSet, PluginSetError};
use probity::privacy::Pseudonymizer;
use probity::runtime::PluginEngine;
use probity::store::{SledStore, Store};

use crate::test_plugin;

/// The pseudonym key used by tests.
pub const TEST_KEY: &[u8] = b"probity-tests-pseudonym-key-0001";

/// The engine shared by every test in a binary.
pub fn engine() -> PluginEngine {
    static ENGINE: OnceLock<PluginEngine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            // `CARGO_TARGET_TMPDIR` only exists for integration tests, not this library.
            let cache = Path::new(env!("OUT_DIR")).join("compiled-plugins");
            PluginEngine::new(&Default::default(), cache).expect("engine")
        })
        .clone()
}

/// A plugin entry for a test plugin with default limits and `settings`.
pub fn entry(plugin: &str, settings: serde_json::Value) -> PluginConfig {
    PluginConfig {
        settings,
        ..PluginConfig::from_path(test_plugin(plugin))
    }
}

/// A plugin entry with limits and an `on_error` policy.
pub fn entry_with(plugin: &str, limits: Limits, on_error: OnError) -> PluginConfig {
    PluginConfig {
        limits,
        on_error,
        ..entry(plugin, serde_json::json!({}))
    }
}

/// A configuration holding exactly these plugins.
pub fn config(plugins: Vec<(&str, PluginConfig)>) -> Config {
    let mut config = Config::default();
    config.runtime.instances_per_plugin = 2;
    for (name, entry) in plugins {
        config.plugins.insert(name.to_string(), entry);
    }
    config
}

/// Load a plugin set for `config` (bundled plugins come from the `probity` binary's
/// own table).
pub fn load(config: &Config) -> Result<PluginSet, PluginSetError> {
    PluginSet::load(&engine(), config, probity::bundled::BUNDLED).map(|(set, _)| set)
}

/// A pipeline (and its temporary directory) for `config`.
pub fn pipeline(config: &Config) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = pipeline_in(dir.path(), config);
    (dir, pipeline)
}

/// A pipeline over the store in `dir` (which may hold earlier data).
pub fn pipeline_in(dir: &Path, config: &Config) -> Pipeline {
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir, 16 << 20).expect("store"));
    let set = load(config).expect("plugins load");
    Pipeline::new(store, Arc::new(set)).expect("pipeline")
}

/// Parse one contract JSON event as the server would.
pub fn event(json: serde_json::Value) -> Event {
    let pseudonymizer = Pseudonymizer::new(TEST_KEY).expect("key");
    ingest::parse_event(json.to_string().as_bytes(), &pseudonymizer).expect("valid event")
}

/// A `listing.upserted` event.
pub fn listing(event_id: &str, at: &str, listing_id: &str, seller: &str, title: &str) -> Event {
    event(serde_json::json!({
        "event_id": event_id, "type": "listing.upserted", "occurred_at": at,
        "listing_id": listing_id, "seller_id": seller, "title": title,
        "price": {"amount": "19.90", "currency": "CNY"}
    }))
}

/// An `order.placed` event of `seller` (listing `L-1`, buyer `B-1`, 19.90 CNY). Events
/// that name only an order wait (parked) until its `order.placed` arrives.
pub fn placed(event_id: &str, at: &str, order_id: &str, seller: &str) -> Event {
    event(serde_json::json!({
        "event_id": event_id, "type": "order.placed", "occurred_at": at,
        "order_id": order_id, "listing_id": "L-1", "seller_id": seller, "buyer_id": "B-1",
        "quantity": 1, "total": {"amount": "19.90", "currency": "CNY"}
    }))
}

/// The store namespace of `plugin`'s state and timers for `seller`'s events.
pub fn namespace(plugin: &str, seller: &str) -> String {
    probity::model::shard::namespace(plugin, probity::model::shard::shard_of(seller))
}

/// An `order.paid` event.
pub fn paid(event_id: &str, at: &str, order_id: &str) -> Event {
    event(serde_json::json!({
        "event_id": event_id, "type": "order.paid", "occurred_at": at, "order_id": order_id
    }))
}

/// An `order.shipped` event.
pub fn shipped(event_id: &str, at: &str, order_id: &str) -> Event {
    event(serde_json::json!({
        "event_id": event_id, "type": "order.shipped", "occurred_at": at, "order_id": order_id
    }))
}

/// Run one listing (`L-1` of seller `S-1`, titled `title`) through a fresh pipeline for
/// `config` and return what it changed.
pub fn one_listing(config: &Config, title: &str) -> probity::pipeline::EventReport {
    let (_dir, mut pipeline) = pipeline(config);
    pipeline
        .process(&listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", title))
        .expect("processed")
}
