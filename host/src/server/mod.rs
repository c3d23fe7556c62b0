//! `probity serve`: the long-running host.
//!
//! Start-up, in order, each step failing with a message that says what to fix and
//! changing nothing it does not own: read the configuration; refuse a non-loopback
//! address without tokens; open the store (refusing a locked or newer one); set up the
//! pseudonym key (refusing a different one than the data was written with); load the
//! plugins; fire timers left due by a crash; start the pipeline and flush threads; bind;
//! then serve until SIGTERM or Ctrl-C, reloading on SIGHUP and on file changes.
//!
//! Shutdown drains: the listener stops accepting, in-flight requests finish, the
//! pipeline thread evaluates what is queued, the flush thread makes it durable, and only
//! then does the process exit.

mod cluster;
mod http;
mod signals;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use arc_swap::ArcSwap;

use crate::api::{self, AppState, RequestLimits};
use crate::bundled;
use crate::pipeline::{Pipeline, PluginSet};
use crate::runtime::PluginEngine;
use crate::service::auth::Tokens;
use crate::service::reload::{self, ConfigSource, Reloader, Running, Trigger};
use crate::service::worker::Worker;
use crate::service::{audit, keys, metrics};
use crate::store::{SledStore, Store, StoreHealth};

/// Jobs queued for the pipeline thread before requests wait.
const QUEUE_DEPTH: usize = 4096;

/// Run the server until it is told to stop. `config` is the configuration file, if any.
pub fn serve(config: Option<PathBuf>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("probity-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_async(config))
}

async fn serve_async(config_path: Option<PathBuf>) -> Result<()> {
    let source = ConfigSource {
        path: config_path.clone(),
        bundled: bundled::BUNDLED,
    };
    let (config, digest) = source.read().map_err(|err| anyhow::anyhow!("{err}"))?;
    let listen = config.server.listen;
    if config.auth.tokens.is_empty() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without auth: no [[auth.tokens]] are configured, and without tokens Probity only listens on a loopback address (e.g. 127.0.0.1:8080). Add tokens (`probity token new`) or listen on loopback."
        );
    }
    let data_dir = config.server.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    if let Some(cluster) = &config.cluster {
        // A cluster node's store is a copy of the cluster's streams: rebuilt at start.
        crate::store::clear_cluster_copy(&data_dir).with_context(|| {
            format!(
                "clearing the cluster node `{}`'s copy in {}",
                cluster.node,
                data_dir.display()
            )
        })?;
        tracing::info!(
            node = %cluster.node,
            "a cluster node's store is a copy of the event stream and the changelog: starting it empty, rebuilt from them"
        );
    }
    let sled = Arc::new(
        SledStore::open(&data_dir, config.server.store_cache_mib * 1024 * 1024)
            .with_context(|| format!("opening the store in {}", data_dir.display()))?
            .with_staged_budget((config.server.staged_state_mib as usize) << 20),
    );
    SledStore::start_writer(&sled).context("starting the store's background writer")?;
    let store: Arc<dyn Store> = sled;
    // With the store locked, no rebuild runs: what one left behind can go.
    crate::store::remove_interrupted_rebuild(&data_dir.join("store"))
        .with_context(|| format!("cleaning up after a rebuild in {}", data_dir.display()))?;
    let (pseudonymizer, key_source) = keys::pseudonymizer(
        config.privacy.pseudonym_key.as_deref(),
        &data_dir,
        store.as_ref(),
    )?;
    if key_source == keys::KeySource::Generated {
        tracing::warn!(
            file = %data_dir.join(keys::KEY_FILE).display(),
            "no pseudonym key configured: generated one; back it up with the data directory"
        );
    }

    let engine = Arc::new(PluginEngine::new(&config.runtime, config.cache_dir())?);
    let (plugins, _) = PluginSet::load(&engine, &config, bundled::BUNDLED)?;
    let plugins = Arc::new(plugins);
    let snapshot = audit::Snapshot::of(&config, &plugins);
    let previous = audit::load_snapshot(store.as_ref());
    let mut pipeline = Pipeline::new(store.clone(), plugins.clone())?;
    let replayed = pipeline
        .replay_log_tail()
        .context("replaying the event log after the last checkpoint")?;
    if replayed > 0 {
        tracing::info!(
            entries = replayed,
            "replayed the event log's entries after the last checkpoint"
        );
    }
    let caught_up = pipeline.catch_up("restart")?;
    if caught_up.timers_fired > 0 {
        tracing::info!(
            timers = caught_up.timers_fired,
            "fired timers left due before the restart"
        );
    }
    store.checkpoint()?;
    let store_health = Arc::new(StoreHealth::new(&data_dir));
    let cluster_config = config.cluster.clone();
    // In a cluster, a partition thread per cluster partition, each evaluating or
    // following as its lease says.
    let division = cluster_config.as_ref().map(|cluster| {
        crate::service::division::Division::new(&cluster.node, cluster.partitions, store.clone())
    });
    let partitions = config.server.partition_count();
    tracing::info!(
        partitions,
        "evaluating the seller shards on {partitions} partition thread(s)"
    );
    let (worker, threads) = Worker::start(
        pipeline,
        partitions,
        QUEUE_DEPTH,
        store_health.clone(),
        division.as_ref().map(|(division, _)| division.clone()),
    )?;
    if cluster_config.is_some() && config.privacy.pseudonym_key.is_none() {
        bail!(
            "a cluster node needs `privacy.pseudonym_key` (or PROBITY_PSEUDONYM_KEY), the same on every node: events are pseudonymised by the node that takes them in, and every node must compute the same pseudonyms"
        );
    }
    let cluster = match &cluster_config {
        Some(settings) => {
            let (division, outgoing) = division.context("a cluster node divides its work")?;
            Some(cluster::join(settings, worker.clone(), store.clone(), division, outgoing).await?)
        }
        None => None,
    };

    let startup_changes = audit::diff(
        previous.as_ref().unwrap_or(&audit::Snapshot::default()),
        &snapshot,
    );
    if previous.is_none() || !startup_changes.is_empty() {
        audit::save_snapshot(store.as_ref(), &snapshot);
        let report = reload::ReloadReport {
            applied: true,
            config_digest: digest.clone(),
            changes: startup_changes,
            warnings: Vec::new(),
        };
        audit::record(
            store.as_ref(),
            Trigger::Startup,
            None,
            Some(&digest),
            None,
            Ok(&report),
        );
    }

    let tokens = Arc::new(ArcSwap::from_pointee(Tokens::from_config(&config.auth)));
    if !tokens.load().enabled() {
        tracing::warn!(%listen, "auth is off (no [[auth.tokens]]): listening on loopback only");
    }
    let limits = RequestLimits {
        max_body_bytes: config.server.max_body_bytes,
        max_batch_events: config.server.max_batch_events,
        timeout: Duration::from_millis(config.server.request_timeout_ms),
        max_queued_kib: config.server.max_queued_kib,
    };
    let connection_limits = http::ConnectionLimits {
        header_read_timeout: Duration::from_millis(config.server.header_read_timeout_ms),
        max_connections: config.server.max_connections,
        shutdown_timeout: Duration::from_millis(config.server.shutdown_timeout_ms),
    };
    let watch = config.server.watch_config;
    let checkpoint_interval_ms = config.server.checkpoint_interval_ms;
    let reloader = Arc::new(Reloader::new(
        source,
        engine,
        store.clone(),
        worker.clone(),
        Running {
            config,
            digest,
            plugins,
            snapshot,
        },
        tokens.clone(),
    ));
    let cluster = cluster.map(|joined| joined.start(reloader.clone()));
    let ready = Arc::new(AtomicBool::new(false));
    let state = Arc::new(AppState {
        worker,
        cluster: cluster.as_ref().map(|node| node.node.clone()),
        store: store.clone(),
        store_health,
        reloader: reloader.clone(),
        tokens,
        pseudonymizer: Arc::new(pseudonymizer),
        metrics: metrics::install()
            .map_err(|err| tracing::warn!(error = %err, "metrics recorder not installed"))
            .ok(),
        ready: ready.clone(),
        ingest_budget: Arc::new(tokio::sync::Semaphore::new(limits.max_queued_kib as usize)),
        limits,
    });

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr()?;
    let _watcher = match (&config_path, watch) {
        (Some(path), true) => Some(signals::watch_file(path, reloader.clone())?),
        _ => None,
    };
    let wall_clock: Vec<(Duration, Ticker)> = match &cluster {
        // A cluster's clock advances travel the stream (see `cluster::follow_wall_clock`).
        Some(node) => {
            tokio::spawn(cluster::follow_wall_clock(
                node.node.clone(),
                reloader.clone(),
            ));
            Vec::new()
        }
        None => vec![(WALL_CLOCK_TICK, follow_wall_clock)],
    };
    for (period, job) in wall_clock
        .into_iter()
        .chain([(PURGE_EVERY, purge_event_log as Ticker)])
    {
        let (worker, reloader) = (state.worker.clone(), reloader.clone());
        tokio::spawn(every(period, move || job(&worker, &reloader)));
    }
    let (checkpointed, health) = (store.clone(), state.store_health.clone());
    let checkpoint_every = Duration::from_millis(checkpoint_interval_ms);
    tokio::spawn(every(checkpoint_every, move || {
        let (store, health) = (checkpointed.clone(), health.clone());
        tokio::task::spawn_blocking(move || checkpoint(store.as_ref(), &health));
    }));
    let (published, publisher, health) =
        (store.clone(), reloader.clone(), state.store_health.clone());
    tokio::spawn(every(RATINGS_TICK, move || {
        let (store, reloader, health) = (published.clone(), publisher.clone(), health.clone());
        tokio::task::spawn_blocking(move || {
            publish_due_ratings(store.as_ref(), &reloader, &health)
        });
    }));
    tokio::spawn(signals::reload_on_sighup(reloader));
    match &cluster {
        // Ready once the node has applied what the stream held when it started.
        Some(node) => {
            tokio::spawn(cluster::ready_when_caught_up(node.clone(), ready.clone()));
        }
        None => ready.store(true, Ordering::Release),
    }
    tracing::info!(addr = %bound, "listening");
    eprintln!("probity: listening on http://{bound}");

    let worker = state.worker.clone();
    let app = api::router(state);
    let draining = ready.clone();
    http::serve(listener, app, connection_limits, async move {
        signals::shutdown_requested().await;
        draining.store(false, Ordering::Release);
        tracing::info!("shutting down: draining in-flight requests");
    })
    .await;
    // No request is in flight any more: the threads finish the queue, flush, and end.
    worker.shutdown().await;
    tokio::task::spawn_blocking(move || threads.join())
        .await
        .context("joining the pipeline")?;
    store.checkpoint()?;
    tracing::info!("stopped; everything acknowledged is on disk");
    Ok(())
}

/// Move event time with the wall clock (see [`follow_wall_clock`]) in a cluster: by a
/// clock advance in the stream.
pub(crate) const CLUSTER_WALL_CLOCK_TICK: Duration = WALL_CLOCK_TICK;

/// Checkpoint the store (see [`Store::checkpoint`]); a failure is a storage fault.
fn checkpoint(store: &dyn Store, health: &StoreHealth) {
    if health.fault().is_some() {
        return;
    }
    if let Err(err) = store.checkpoint() {
        health.record(&err);
        tracing::error!(error = %err, "checkpointing the store failed");
    }
}

/// How often the server looks whether the event-time clock passed a publication date.
const RATINGS_TICK: Duration = Duration::from_secs(5);

/// Publish the ratings periods the clock has passed (`[rating] publish`); a failure is
/// a storage fault, and the next tick tries again.
fn publish_due_ratings(store: &dyn Store, reloader: &Reloader, health: &StoreHealth) {
    if health.fault().is_some() {
        return;
    }
    let config = reloader.running().config.rating.clone();
    if let Err(err) = crate::service::ratings::publish_due(store, &config) {
        health.record(&err);
        tracing::error!(error = %err, "publishing ratings failed");
    }
}

/// A job the server runs every so often.
type Ticker = fn(&Worker, &Reloader);

/// How often `[privacy] event_log_retention_days` is applied.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// How often `[clock] follow_wall_clock` looks whether the wall clock made something due.
const WALL_CLOCK_TICK: Duration = Duration::from_secs(1);

/// Run `job` now and every `period` after (a tick missed while busy is skipped).
async fn every(period: Duration, mut job: impl FnMut()) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        job();
    }
}

/// With `[privacy] event_log_retention_days` above 0 (read live), purge the event log's
/// entries older than that.
fn purge_event_log(worker: &Worker, reloader: &Reloader) {
    let days = reloader.running().config.privacy.event_log_retention_days;
    if days > 0 {
        let cutoff = crate::model::time::wall_clock_now() - i64::from(days) * 86_400_000;
        worker.purge_log(cutoff);
    }
}

/// With `[clock] follow_wall_clock` (read live, so a reload turns it on or off), ask the
/// pipeline to move event time to the wall clock when a timer or an expiry is due by then:
/// a deadline passes on a quiet night too. Each advance is in the event log, so a replay
/// fires the same timers at the same points.
fn follow_wall_clock(worker: &Worker, reloader: &Reloader) {
    if reloader.running().config.clock.follow_wall_clock {
        worker.follow_wall_clock(crate::model::time::wall_clock_now());
    }
}
