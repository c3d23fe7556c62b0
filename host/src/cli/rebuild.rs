//! `probity rebuild`: recompute every verdict from the event log.
//!
//! The event log keeps every accepted event (pseudonymised) in arrival order, with the
//! clock advances a live server made. Rebuilding replays it through the plugins of the
//! given configuration (the plugin calls that hit their wall-clock deadline live fail
//! again as recorded; every other call's deadline is widened tenfold) into a **fresh**
//! sled (`store.rebuild/`, holding the audit trail and the host's own values, and nothing
//! derived; the log in `log/` is only read), and only when that is complete and
//! checkpointed swaps it with the old one in one atomic directory exchange. A
//! failure or an interruption midway leaves the old store exactly as it was. Use it after
//! a plugin fix, or if the derived views were damaged. The server must be stopped (the
//! store is locked while it runs).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::bundled;
use crate::config::Config;
use crate::pipeline::{Pipeline, PluginSet};
use crate::runtime::PluginEngine;
use crate::store::{SledStore, Store, exchange_dirs, rebuild_dir, remove_interrupted_rebuild};

/// How much longer than live a plugin call may take in a replay.
pub const REPLAY_DEADLINE_FACTOR: u64 = 10;

/// Options of `probity rebuild`.
#[derive(Debug, clap::Args)]
pub struct RebuildArgs {
    /// Configuration file (the data directory and plugins to replay with).
    #[arg(long, short, env = "PROBITY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Run `probity rebuild`.
pub fn run(args: &RebuildArgs) -> Result<i32> {
    let mut config = Config::load(args.config.as_deref(), &bundled::names())?;
    // The deadlines the live run hit are in the log and fail the same calls again; any
    // other call gets ten times its deadline, a safety net only, so that a slower or
    // busier machine cannot turn a finding of the live run into a plugin error.
    for entry in config.plugins.values_mut() {
        entry.limits.deadline_ms = entry
            .limits
            .deadline_ms
            .saturating_mul(REPLAY_DEADLINE_FACTOR);
    }
    let data_dir = &config.server.data_dir;
    let store_dir = data_dir.join("store");
    let cache_bytes = config.server.store_cache_mib << 20;
    let old = SledStore::open(data_dir, cache_bytes)
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let engine = PluginEngine::new(&config.runtime, config.cache_dir())?;
    let (plugins, _) = PluginSet::load(&engine, &config, bundled::BUNDLED)?;

    let fresh_dir = rebuild_dir(&store_dir);
    remove_interrupted_rebuild(&store_dir)?;
    let fresh: Arc<dyn Store> = Arc::new(
        old.fresh_copy(&fresh_dir, cache_bytes)
            .with_context(|| format!("creating {}", fresh_dir.display()))?,
    );
    let replayed = replay(&fresh, plugins);
    let events = match replayed {
        Ok(events) => events,
        Err(err) => {
            drop(fresh);
            let _ = std::fs::remove_dir_all(&fresh_dir);
            return Err(err.context("the old store is unchanged"));
        }
    };
    fresh.checkpoint()?;
    drop(fresh);
    drop(old);
    exchange_dirs(&store_dir, &fresh_dir).with_context(|| {
        format!(
            "swapping {} and {} (the old store is unchanged)",
            store_dir.display(),
            fresh_dir.display()
        )
    })?;
    // `fresh_dir` now holds the old store.
    std::fs::remove_dir_all(&fresh_dir)
        .with_context(|| format!("removing the old store, now in {}", fresh_dir.display()))?;
    eprintln!(
        "rebuilt the verdicts of {} from {events} event log entries",
        data_dir.display()
    );
    Ok(0)
}

/// Replay the copied log into `store`; returns how many entries it held.
fn replay(store: &Arc<dyn Store>, plugins: PluginSet) -> Result<usize> {
    let mut pipeline = Pipeline::new(store.clone(), Arc::new(plugins))?;
    pipeline.replay_from(1).context("replaying the event log")
}
