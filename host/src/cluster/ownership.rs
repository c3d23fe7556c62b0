//! Which node owns which partition: leases in a JetStream key-value bucket.
//!
//! Every `renew_every` each node runs one [`Membership::round`]:
//! 1. it announces itself: `n.<node>` in `probity_nodes`, which forgets it `lease` after
//!    its last announcement (the bucket's `max_age`);
//! 2. it reads the live nodes and, per partition, the owner (`p.<partition>` in
//!    `probity_owners`, same expiry) and which live node *should* own it — the highest
//!    rendezvous hash of (node, partition), the same answer on every node;
//! 3. it renews each lease it holds with a compare-and-set on the revision it last
//!    wrote (a lost race means someone else owns it now); marks a partition to hand
//!    back when another live node should own it — the node stops evaluating it, then
//!    gives the lease up with a delete that expects its revision
//!    ([`Membership::hand_back`]), so a joining node gets its share one partition at a
//!    time, without a pause of the others; and claims a partition it should own that
//!    nobody holds (a create, which only one node wins).
//!
//! **At most one owner.** A lease is valid on its node until `lease − margin` after the
//! moment its last renewal was *sent*; JetStream expires the key only `lease` after it
//! *stored* that renewal, later still. So a node that stalls, or loses NATS, stops
//! treating a partition as its own before anyone else can claim it. A node that dies
//! loses its partitions within `lease + renew_every`: the bound on a takeover.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use futures_util::TryStreamExt;
use serde::Serialize;

/// The bucket of partition leases.
pub const OWNERS_BUCKET: &str = "probity_owners";
/// The bucket of live nodes.
pub const NODES_BUCKET: &str = "probity_nodes";

/// What a node needs to take part.
#[derive(Clone, Debug)]
pub struct Settings {
    /// This node's unique name: 1–64 of `A-Z a-z 0-9 _ -`.
    pub node: String,
    /// The fixed number of partitions.
    pub partitions: u32,
    /// How long a lease (and a node's announcement) lives without renewal.
    pub lease: Duration,
    /// How often leases are renewed; well under `lease`.
    pub renew_every: Duration,
    /// Replicas of the buckets (1 for a single NATS server).
    pub replicas: usize,
}

impl Settings {
    /// How long before its expiry a node stops counting on a lease.
    fn margin(&self) -> Duration {
        (self.lease / 4).max(self.renew_every)
    }
}

/// Why a node cannot take part.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A setting that cannot work.
    #[error("cluster setting {field}: {message}")]
    Setting {
        /// Which.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// NATS or JetStream refused or failed a request.
    #[error("NATS JetStream: {what}: {source}")]
    Nats {
        /// What was being done.
        what: &'static str,
        /// The client's error.
        source: async_nats::Error,
    },
}

fn nats(what: &'static str) -> impl FnOnce(async_nats::Error) -> ClusterError {
    move |source| ClusterError::Nats { what, source }
}

/// What a node knows of the cluster after its last round.
#[derive(Clone, Debug, Default, Serialize)]
pub struct View {
    /// This node.
    pub node: String,
    /// The live nodes, this one included.
    pub nodes: Vec<String>,
    /// Per partition, its owner as last read (`None`: nobody holds it).
    pub owners: Vec<Option<String>>,
    /// The partitions whose lease this node holds now.
    pub held: Vec<u32>,
    /// Leases this node gained or lost so far.
    pub owner_changes: u64,
}

/// A lease this node holds.
#[derive(Clone, Copy, Debug)]
struct Lease {
    revision: u64,
    /// When the renewal that wrote `revision` was sent.
    sent: Instant,
}

/// One node's part in the cluster's ownership.
pub struct Membership {
    settings: Settings,
    owners: kv::Store,
    nodes: kv::Store,
    mine: BTreeMap<u32, Lease>,
    /// Held partitions another live node should own.
    handing_back: BTreeSet<u32>,
    owner_changes: u64,
    view: View,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("node", &self.settings.node)
            .field("held", &self.mine.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether `node` is a usable node name (also a key-value key part).
pub fn valid_node_name(node: &str) -> bool {
    (1..=64).contains(&node.len())
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Membership {
    /// Join the cluster behind `client`: create the buckets if this is the first node
    /// (the same configuration is accepted again by JetStream).
    pub async fn join(
        client: async_nats::Client,
        settings: Settings,
    ) -> Result<Membership, ClusterError> {
        if !valid_node_name(&settings.node) {
            return Err(ClusterError::Setting {
                field: "node",
                message: format!(
                    "{:?} is not 1–64 characters of A-Z, a-z, 0-9, _ and -",
                    settings.node
                ),
            });
        }
        if !(1..=32).contains(&settings.partitions) {
            return Err(ClusterError::Setting {
                field: "partitions",
                message: format!("must be 1–32, got {}", settings.partitions),
            });
        }
        if settings.renew_every * 3 > settings.lease {
            return Err(ClusterError::Setting {
                field: "lease",
                message: format!(
                    "must be at least three renewals ({:?}), got {:?}",
                    settings.renew_every * 3,
                    settings.lease
                ),
            });
        }
        let js = jetstream::new(client);
        let bucket = |name: &str| kv::Config {
            bucket: name.to_string(),
            description: "Probity cluster leases (issue 19)".to_string(),
            history: 1,
            max_age: settings.lease,
            storage: jetstream::stream::StorageType::File,
            num_replicas: settings.replicas,
            ..Default::default()
        };
        let owners = js
            .create_key_value(bucket(OWNERS_BUCKET))
            .await
            .map_err(|err| nats("creating the owners bucket")(err.into()))?;
        let nodes = js
            .create_key_value(bucket(NODES_BUCKET))
            .await
            .map_err(|err| nats("creating the nodes bucket")(err.into()))?;
        let view = View {
            node: settings.node.clone(),
            owners: vec![None; settings.partitions as usize],
            ..View::default()
        };
        Ok(Membership {
            settings,
            owners,
            nodes,
            mine: BTreeMap::new(),
            handing_back: BTreeSet::new(),
            owner_changes: 0,
            view,
        })
    }

    /// The view after the last round.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The partitions whose lease this node holds now (valid for at least `margin`).
    pub fn held(&self) -> Vec<u32> {
        let now = Instant::now();
        let valid = self.settings.lease - self.settings.margin();
        self.mine
            .iter()
            .filter(|(_, lease)| now.duration_since(lease.sent) < valid)
            .map(|(partition, _)| *partition)
            .collect()
    }

    /// One round: announce, renew, hand back, claim (see the module docs).
    pub async fn round(&mut self) -> Result<(), ClusterError> {
        let me = self.settings.node.clone();
        self.forget_expired();
        self.nodes
            .put(format!("n.{me}"), me.clone().into())
            .await
            .map_err(|err| nats("announcing this node")(err.into()))?;
        let live = self.live_nodes().await?;
        let mut owners = Vec::with_capacity(self.settings.partitions as usize);
        for partition in 0..self.settings.partitions {
            let owner = self.settle(partition, &live).await?;
            owners.push(owner);
        }
        self.view = View {
            node: me,
            nodes: live.into_iter().collect(),
            owners,
            held: self.held(),
            owner_changes: self.owner_changes,
        };
        Ok(())
    }

    /// Renew, hand back or claim one partition; its owner afterwards.
    async fn settle(
        &mut self,
        partition: u32,
        live: &BTreeSet<String>,
    ) -> Result<Option<String>, ClusterError> {
        let me = self.settings.node.clone();
        let key = format!("p.{partition}");
        let current = self
            .owners
            .entry(key.clone())
            .await
            .map_err(|err| nats("reading a partition's owner")(err.into()))?
            .filter(|entry| entry.operation == kv::Operation::Put)
            .map(|entry| {
                (
                    String::from_utf8_lossy(&entry.value).into_owned(),
                    entry.revision,
                )
            });
        let target = preferred_owner(live, partition);
        match current {
            Some((owner, revision)) if owner == me => {
                if target.is_some_and(|target| target != me) {
                    // Another live node should own it: hand it back once this node has
                    // stopped evaluating it ([`Membership::hand_back`]); renewed until then.
                    self.handing_back.insert(partition);
                } else {
                    self.handing_back.remove(&partition);
                }
                let sent = Instant::now();
                match self.owners.update(&key, me.clone().into(), revision).await {
                    Ok(revision) => {
                        self.mine.insert(partition, Lease { revision, sent });
                        Ok(Some(me))
                    }
                    Err(err) if err.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        self.lose(partition);
                        Ok(None)
                    }
                    Err(err) => Err(nats("renewing a lease")(err.into())),
                }
            }
            Some((owner, _)) => {
                self.lose(partition);
                Ok(Some(owner))
            }
            None if target == Some(me.as_str()) => {
                let sent = Instant::now();
                match self.owners.create(&key, me.clone().into()).await {
                    Ok(revision) => {
                        self.mine.insert(partition, Lease { revision, sent });
                        self.owner_changes += 1;
                        Ok(Some(me))
                    }
                    Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
                    Err(err) => Err(nats("claiming a partition")(err.into())),
                }
            }
            None => Ok(None),
        }
    }

    /// The partitions whose lease this node holds now, each with the instant until which
    /// it may count on it.
    pub fn held_until(&self) -> Vec<(u32, Instant)> {
        let valid = self.settings.lease - self.settings.margin();
        let now = Instant::now();
        self.mine
            .iter()
            .map(|(partition, lease)| (*partition, lease.sent + valid))
            .filter(|(_, until)| now < *until)
            .collect()
    }

    /// The partitions another live node should own: hand each back with
    /// [`Membership::hand_back`] once this node has stopped evaluating it.
    pub fn handing_back(&self) -> Vec<u32> {
        self.handing_back
            .iter()
            .copied()
            .filter(|partition| self.mine.contains_key(partition))
            .collect()
    }

    /// Give a partition's lease up (a delete that expects this node's revision), so that
    /// the node that should own it claims it.
    pub async fn hand_back(&mut self, partition: u32) -> Result<(), ClusterError> {
        self.handing_back.remove(&partition);
        let Some(lease) = self.mine.remove(&partition) else {
            return Ok(());
        };
        self.owner_changes += 1;
        self.owners
            .delete_expect_revision(format!("p.{partition}"), Some(lease.revision))
            .await
            .map_err(|err| nats("handing a partition back")(err.into()))?;
        Ok(())
    }

    fn lose(&mut self, partition: u32) {
        self.handing_back.remove(&partition);
        if self.mine.remove(&partition).is_some() {
            self.owner_changes += 1;
        }
    }

    /// Drop leases this node can no longer count on (a round that came too late).
    fn forget_expired(&mut self) {
        let valid = self.settings.lease - self.settings.margin();
        let now = Instant::now();
        let before = self.mine.len();
        self.mine
            .retain(|_, lease| now.duration_since(lease.sent) < valid);
        self.owner_changes += (before - self.mine.len()) as u64;
    }

    /// The nodes that announced themselves within the lease, this one included.
    async fn live_nodes(&self) -> Result<BTreeSet<String>, ClusterError> {
        let keys: Vec<String> = self
            .nodes
            .keys()
            .await
            .map_err(|err| nats("listing the nodes")(err.into()))?
            .try_collect()
            .await
            .map_err(|err| nats("listing the nodes")(err.into()))?;
        let mut live: BTreeSet<String> = keys
            .into_iter()
            .filter_map(|key| key.strip_prefix("n.").map(str::to_string))
            .collect();
        live.insert(self.settings.node.clone());
        Ok(live)
    }

    /// Leave at once: hand back every lease (a clean shutdown; a crash leaves them to
    /// expire).
    pub async fn leave(mut self) -> Result<(), ClusterError> {
        let leases = std::mem::take(&mut self.mine);
        for (partition, lease) in leases {
            self.owners
                .delete_expect_revision(format!("p.{partition}"), Some(lease.revision))
                .await
                .map_err(|err| nats("handing a partition back")(err.into()))?;
        }
        self.nodes
            .delete(format!("n.{}", self.settings.node))
            .await
            .map_err(|err| nats("leaving")(err.into()))?;
        Ok(())
    }
}

/// The live node that should own `partition`: the highest rendezvous hash.
pub fn preferred_owner(live: &BTreeSet<String>, partition: u32) -> Option<&str> {
    live.iter()
        .max_by_key(|node| rendezvous(node, partition))
        .map(String::as_str)
}

/// FNV-1a over the node's name and the partition, then a final mix: a hash every node
/// computes alike.
fn rendezvous(node: &str, partition: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in node.bytes().chain(partition.to_be_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finaliser: FNV's low bits alone spread badly over a few nodes.
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_spreads_partitions_and_moves_only_a_leaving_nodes_share() {
        let three: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        let two: BTreeSet<String> = ["a", "c"].map(String::from).into();
        let mut counts = BTreeMap::new();
        for p in 0..32 {
            let owner = preferred_owner(&three, p).expect("an owner");
            *counts.entry(owner.to_string()).or_insert(0) += 1;
            if owner != "b" {
                assert_eq!(preferred_owner(&two, p), Some(owner), "partition {p} moved");
            }
        }
        assert!(
            counts.values().all(|&n| (6..=16).contains(&n)),
            "{counts:?}"
        );
        assert!(valid_node_name("node-1_a"));
        assert!(!valid_node_name("node.1") && !valid_node_name(""));
    }
}
