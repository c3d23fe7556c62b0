//! `probity rebuild`: recompute every verdict from the event log.
//!
//! The event log keeps every accepted event (pseudonymised) in arrival order. Rebuilding
//! empties everything derived from it — verdicts, history, indexes, plugin state, timers,
//! the clock, the idempotency index — and replays the log through the plugins of the
//! given configuration. Use it after a plugin fix, or if the derived views were damaged.
//! The server must be stopped (the store is locked while it runs).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::bundled;
use crate::config::Config;
use crate::pipeline::{Pipeline, PluginSet};
use crate::runtime::PluginEngine;
use crate::store::{LogEntry, SledStore, Store};

/// Options of `probity rebuild`.
#[derive(Debug, clap::Args)]
pub struct RebuildArgs {
    /// Configuration file (the data directory and plugins to replay with).
    #[arg(long, short, env = "PROBITY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Run `probity rebuild`.
pub fn run(args: &RebuildArgs) -> Result<i32> {
    let config = Config::load(args.config.as_deref(), &bundled::names())?;
    let data_dir = &config.server.data_dir;
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&data_dir.join("store"), config.server.store_cache_mib << 20)
            .with_context(|| format!("opening the store in {}", data_dir.display()))?,
    );
    let engine = PluginEngine::new(&config.runtime, config.cache_dir())?;
    let (plugins, _) = PluginSet::load(&engine, &config, bundled::BUNDLED)?;
    store.reset_derived()?;
    let mut pipeline = Pipeline::new(store.clone(), Arc::new(plugins))?;
    let mut events = 0usize;
    for item in store.logged_events() {
        let (seq, entry) = item?;
        pipeline
            .replay_entry(seq, &entry)
            .with_context(|| match &entry {
                LogEntry::Event(event) => format!("replaying event {seq} ({})", event.event_id),
                LogEntry::ClockAdvance { .. } => format!("replaying clock advance {seq}"),
            })?;
        if matches!(entry, LogEntry::Event(_)) {
            events += 1;
        }
    }
    store.flush()?;
    eprintln!(
        "rebuilt the verdicts of {} from {events} logged event(s)",
        data_dir.display()
    );
    Ok(0)
}
