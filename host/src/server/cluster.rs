//! Start-up of a cluster node (`[cluster]`): connect to NATS, open the event stream, take
//! part in partition leases, follow the stream; and the cluster's wall-clock ticker.
//!
//! What a node does in the cluster is in [`crate::service::cluster_node`]; this only
//! builds and starts it, failing with a message that names what to fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cluster::log::EventStream;
use crate::cluster::ownership::{Membership, Settings};
use crate::config::ClusterConfig;
use crate::service::cluster_node::{ClusterNode, ClusterNodeSettings};
use crate::service::reload::Reloader;
use crate::service::worker::Worker;
use crate::store::Store;

/// A started cluster node.
#[derive(Clone, Debug)]
pub(super) struct StartedNode {
    /// The node.
    pub(super) node: Arc<ClusterNode>,
    /// The stream's last sequence when the node started: it is ready once applied.
    started_at: u64,
}

/// Join the cluster `config` names: connect, open (or create) the stream and the lease
/// buckets, start the follower and the membership rounds.
pub(super) async fn join(
    config: &ClusterConfig,
    worker: Worker,
    store: Arc<dyn Store>,
) -> Result<StartedNode> {
    let url = &config.nats_url;
    let client = crate::cluster::connect(url).await.with_context(|| {
        format!(
            "connecting to NATS at {url} (`cluster.nats_url`); is `nats-server -js` running there?"
        )
    })?;
    let ms = |value: Result<i64, String>, key: &str| -> Result<Duration> {
        value
            .map(|ms| Duration::from_millis(ms.max(0) as u64))
            .map_err(|message| anyhow::anyhow!("`cluster.{key}`: {message}"))
    };
    let window = ms(config.duplicate_window_ms(), "duplicate_window")?;
    let lease = ms(config.lease_ms(), "lease")?;
    let stream = EventStream::open(
        client.clone(),
        &config.node,
        usize::from(config.replicas),
        window,
    )
    .await
    .context(
        "opening the event stream PROBITY_EVENTS (does the NATS server run with JetStream, `-js`?)",
    )?;
    let started_at = stream
        .state()
        .await
        .context("reading the event stream's state")?
        .last_sequence;
    let renew_every = lease / 4;
    let membership = Membership::join(
        client,
        Settings {
            node: config.node.clone(),
            partitions: u32::from(config.partitions),
            lease,
            renew_every,
            replicas: usize::from(config.replicas),
        },
    )
    .await
    .context("joining the cluster's partition leases")?;
    let node = ClusterNode::new(
        ClusterNodeSettings {
            node: config.node.clone(),
            partitions: config.partitions,
            answer_wait: Duration::from_millis(config.answer_wait_ms),
        },
        stream,
        worker,
        store,
    );
    tracing::info!(
        node = %config.node,
        nats = %url,
        partitions = config.partitions,
        applied = node.applied(),
        stream_last = started_at,
        "joined the cluster; following the event stream"
    );
    tokio::spawn(node.clone().run_follower());
    tokio::spawn(node.clone().run_membership(membership, renew_every));
    Ok(StartedNode { node, started_at })
}

/// Mark the node ready once it has applied what the stream held when it started.
pub(super) async fn ready_when_caught_up(node: StartedNode, ready: Arc<AtomicBool>) {
    while !node
        .node
        .wait_applied(node.started_at, Duration::from_secs(5))
        .await
    {
        tracing::info!(
            applied = node.node.applied(),
            target = node.started_at,
            "catching up with the event stream before taking requests"
        );
    }
    ready.store(true, Ordering::Release);
}

/// Every second, with `[clock] follow_wall_clock` (read live), publish a clock advance
/// when the wall clock makes something due.
pub(super) async fn follow_wall_clock(node: Arc<ClusterNode>, reloader: Arc<Reloader>) {
    let mut tick = tokio::time::interval(super::CLUSTER_WALL_CLOCK_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if reloader.running().config.clock.follow_wall_clock {
            node.follow_wall_clock(crate::model::time::wall_clock_now())
                .await;
        }
    }
}
