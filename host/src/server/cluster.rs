//! Start-up of a cluster node (`[cluster]`): connect to NATS, open the event stream, take
//! part in partition leases, follow the stream; and the cluster's wall-clock ticker.
//!
//! What a node does in the cluster is in [`crate::service::cluster_node`]; this only
//! builds and starts it, failing with a message that names what to fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use tokio::sync::mpsc;

use crate::cluster::changelog::ChangeLog;
use crate::cluster::log::EventStream;
use crate::cluster::ownership::{Membership, Settings};
use crate::config::ClusterConfig;
use crate::service::cluster_node::{ClusterNode, ClusterNodeSettings, Dividing};
use crate::service::division::{Division, Outgoing};
use crate::service::reload::Reloader;
use crate::service::worker::Worker;
use crate::store::Store;

/// A node that joined, not started yet (see [`JoinedNode::start`]).
pub(super) struct JoinedNode {
    /// The node.
    pub(super) node: Arc<ClusterNode>,
    /// The stream's last sequence when the node joined: it is ready once applied.
    started_at: u64,
    membership: Membership,
    renew_every: Duration,
}

impl JoinedNode {
    /// Start following the stream and the lease rounds; `reloader` applies the
    /// configuration changes the stream carries.
    pub(super) fn start(self, reloader: Arc<Reloader>) -> StartedNode {
        reloader.join_cluster(self.node.clone());
        self.node.start(reloader, self.membership, self.renew_every);
        StartedNode {
            node: self.node,
            started_at: self.started_at,
        }
    }
}

/// A started cluster node.
#[derive(Clone, Debug)]
pub(super) struct StartedNode {
    /// The node.
    pub(super) node: Arc<ClusterNode>,
    /// The stream's last sequence when the node joined: it is ready once applied.
    started_at: u64,
}

/// Join the cluster `config` names: connect, check the pseudonym key, open (or create)
/// the stream and the lease buckets.
pub(super) async fn join(
    config: &ClusterConfig,
    worker: Worker,
    store: Arc<dyn Store>,
    division: Arc<Division>,
    outgoing: mpsc::UnboundedReceiver<Outgoing>,
) -> Result<JoinedNode> {
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
    // Every node must pseudonymise alike: compare key fingerprints through JetStream.
    if let Some(ours) = crate::service::keys::fingerprint(store.as_ref()) {
        let cluster = crate::cluster::agreed_fact(
            &client,
            usize::from(config.replicas),
            "pseudonym_key_fingerprint",
            &ours,
        )
        .await
        .context("comparing the pseudonym key with the cluster's")?;
        anyhow::ensure!(
            cluster == ours,
            "this node's pseudonym key is not the cluster's: every node must have the same `privacy.pseudonym_key` (PROBITY_PSEUDONYM_KEY), or the same buyer would get different pseudonyms on different nodes"
        );
    }
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
    let changelog = ChangeLog::open(
        client.clone(),
        &config.node,
        usize::from(config.replicas),
        window,
    )
    .await
    .context("opening the changelog stream PROBITY_CHANGES")?;
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
            stream_at_start: started_at,
            changes_at_start: changelog
                .last_sequence()
                .await
                .context("reading the changelog's state")?,
        },
        stream,
        worker,
        store,
        Dividing {
            division,
            changelog,
            outgoing,
        },
    );
    tracing::info!(
        node = %config.node,
        nats = %url,
        partitions = config.partitions,
        applied = node.applied(),
        stream_last = started_at,
        "joined the cluster; following the event stream"
    );
    Ok(JoinedNode {
        node,
        started_at,
        membership,
        renew_every,
    })
}

/// Mark the node ready once every partition reflects what the stream held when it
/// started.
pub(super) async fn ready_when_caught_up(node: StartedNode, ready: Arc<AtomicBool>) {
    while !node
        .node
        .wait_reflected(node.started_at, Duration::from_secs(5))
        .await
    {
        tracing::info!(
            applied = node.node.applied(),
            reflected = node.node.reflected(),
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
