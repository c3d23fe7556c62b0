//! Dividing a cluster's work: each partition is evaluated by its owner alone; every other
//! node applies the owner's writes from the changelog.
//!
//! **Why this shape.** Every node follows the event stream through its own sequencer,
//! so every node makes the same routing decisions — clock, shard, parking, duplicates —
//! at the same points (the sequencer reads only what it wrote itself, see below). What
//! costs is running the plugins. So a node runs one partition thread per cluster
//! partition ([`crate::model::shard::ShardSet::partition`] makes thread `p` serve
//! exactly partition `p`'s shards), and each thread is, by the partition's lease, either
//!
//! - the **owner** ([`duty`]): it evaluates the items as a single node does, and its
//!   store ([`recording::RecordingStore`]) keeps a copy of every unit committed, which
//!   it publishes to the changelog ([`crate::cluster::changelog`]) under the item's
//!   [`Mark`] — or a watermark when an item wrote nothing; or
//! - a **follower**: it keeps the items in a buffer and commits for each event only its
//!   idempotency record and the order or complaint it makes known (what this node's
//!   sequencer reads: [`crate::pipeline::Pipeline::record_only`]); the buffer is
//!   trimmed as the owner's changelog comes in, applied by [`Division::apply`].
//!
//! **Taking over** a partition (a node died, or rebalancing after a join) is fenced
//! through JetStream: the new owner publishes a fence to the changelog, waits until it
//! has applied the changelog up to it — everything any earlier owner published before
//! the fence — and then evaluates the buffered items after the last mark applied, and
//! carries on. Messages of an earlier epoch that arrive after the fence are ignored by
//! every node. Because evaluation is deterministic, the new owner computes exactly the
//! units the old one would have: no finding is recorded twice or lost.
//!
//! **What the owner wrote must not run ahead of this node.** A changelog unit can
//! reach a node before that node's own sequencer has routed its item. So the applier
//! ([`tasks::run_applier`]) applies a unit only once this node's follower has routed the
//! item it is for (a reviewer's decision, which every node applies between two items,
//! sees the same state everywhere), and without its idempotency record and references:
//! the follower thread writes those when the event reaches it, so that the sequencer
//! reads only what it wrote itself; the subjects an event touched, which answer a
//! re-sent copy, are merged into the record.
//!
//! A node that starts has no buffer, so it starts empty: the data directory of a
//! cluster node is rebuilt from the stream and the changelog (see
//! [`crate::server`]'s cluster start-up).

pub(crate) mod duty;
pub mod leases;
pub(crate) mod recording;
pub mod tasks;
pub(crate) mod thread;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

pub use crate::cluster::changelog::Mark;
use crate::cluster::changelog::{Change, ChangeMessage, FollowedChange};
use crate::model::subject::Subject;
use crate::store::{Store, StoreError, WriteBatch};

use super::worker::EventOutcome;

/// A changelog message read.
#[derive(Debug)]
pub struct Decoded {
    sequence: u64,
    partition: u32,
    message: Read,
}

/// What of a changelog message is read.
#[derive(Debug)]
enum Read {
    /// Another run's message (or this run's fence), whole.
    Whole(ChangeMessage<Vec<(Mark, Vec<WriteBatch>)>>),
    /// This run's own units, which it committed as it made them: only their epoch and
    /// last mark (is it accepted, or void after another node's fence?).
    Own {
        /// The epoch it was published under.
        epoch: u64,
        /// Its last item.
        last: Mark,
    },
}

/// The head of a units message: its items are skipped unread.
#[derive(serde::Deserialize)]
struct Head {
    change: HeadChange,
}

#[derive(serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum HeadChange {
    Fence,
    Units { epoch: u64, last: Mark },
}

impl Decoded {
    /// The event stream position of the item its units are for (none for a fence, or
    /// this run's own units).
    fn position(&self) -> Option<u64> {
        match &self.message {
            Read::Whole(ChangeMessage {
                change: Change::Units { last, .. },
                ..
            }) => Some(last.position),
            _ => None,
        }
    }
}

/// Whether a request on this node waits for an event id's outcome.
pub type WaitingHook = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// What is handed to the waiters of events applied from the changelog.
pub type OutcomeHook = Box<dyn Fn(Vec<(String, EventOutcome)>) + Send + Sync>;

/// A message on its way to the changelog.
#[derive(Debug)]
pub struct Outgoing {
    /// Its partition.
    pub partition: u32,
    /// Its de-duplication id.
    pub id: String,
    /// `units` or `fence`.
    pub kind: &'static str,
    /// Its JSON.
    pub payload: Bytes,
}

/// What the node wants a partition's thread to be.
#[derive(Clone, Copy, Debug, Default)]
struct Desired {
    /// The epoch to evaluate under (0: follow).
    epoch: u64,
    /// Until when the lease may be counted on.
    valid_until: Option<Instant>,
}

/// One partition's state on this node, shared by its thread, the changelog's applier
/// and the node.
#[derive(Debug, Default)]
pub struct PartitionRole {
    desired: Mutex<Desired>,
    /// The epoch the thread evaluates under now (0: it follows).
    active: AtomicU64,
    /// The last mark this node's store reflects.
    reflected: Mutex<Mark>,
    /// Every item up to this event stream sequence is reflected.
    through: AtomicU64,
    /// The latest fence seen in the changelog (its sequence).
    epoch: AtomicU64,
    /// Whether that fence is this run's.
    fenced_by_me: std::sync::atomic::AtomicBool,
}

impl PartitionRole {
    fn desired_now(&self, now: Instant) -> u64 {
        let desired = *self.desired.lock().unwrap_or_else(PoisonError::into_inner);
        match desired.valid_until {
            // A newer fence than the one this node took the partition in: another node
            // fenced it since, and every node ignores this one's units from there. Stop
            // at once; the lease follower fences again ([`leases::follow`]).
            Some(_) if self.epoch.load(Ordering::SeqCst) > desired.epoch => 0,
            Some(until) if now < until => desired.epoch,
            _ => 0,
        }
    }

    /// The epoch the thread evaluates under (0: it follows).
    pub fn active(&self) -> u64 {
        self.active.load(Ordering::SeqCst)
    }

    /// The last mark reflected here.
    pub fn reflected(&self) -> Mark {
        *self
            .reflected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn set_reflected(&self, mark: Mark, through: u64) {
        let mut reflected = self
            .reflected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if mark > *reflected {
            *reflected = mark;
        }
        self.through.fetch_max(through, Ordering::SeqCst);
    }
}

/// This node's units messages not yet known to be accepted by every node, per partition:
/// (the message's last mark, the message as published). A message is accepted when the
/// changelog shows it after no newer fence; one published after another node's fence is
/// void, and published again under this node's next fence ([`Division::republish`]).
type Retained = Mutex<HashMap<u32, std::collections::VecDeque<(Mark, Bytes)>>>;

/// This node's share of the work (see the module docs).
pub struct Division {
    node: String,
    run: String,
    roles: Vec<PartitionRole>,
    store: Arc<dyn Store>,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    queued: AtomicU64,
    stored: watch::Sender<u64>,
    /// Subjects of events applied from the changelog before this node's sequencer
    /// routed them.
    pending_subjects: Mutex<HashMap<String, Vec<Subject>>>,
    retained: Retained,
    outcomes: OnceLock<OutcomeHook>,
    /// Whether a request here waits for an event id.
    waiting: OnceLock<WaitingHook>,
}

impl std::fmt::Debug for Division {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Division")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// What `GET /v1/cluster` shows of one partition here.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartitionView {
    /// The partition.
    pub partition: u32,
    /// `owner` (this node evaluates it) or `follower` (it applies the changelog).
    pub role: &'static str,
    /// The epoch (fence sequence) this node evaluates under, when it owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// Every item up to this event stream position is reflected here.
    pub through: u64,
}

impl Division {
    /// A division of `partitions` partitions over `store`; the receiver feeds
    /// [`tasks::run_publisher`].
    pub fn new(
        node: &str,
        partitions: u16,
        store: Arc<dyn Store>,
    ) -> (Arc<Division>, mpsc::UnboundedReceiver<Outgoing>) {
        let mut bytes = [0u8; 8];
        // Without randomness, the time tells runs apart well enough.
        if getrandom::fill(&mut bytes).is_err() {
            bytes = crate::model::time::wall_clock_now().to_be_bytes();
        }
        let (outgoing, receiver) = mpsc::unbounded_channel();
        let division = Division {
            node: node.to_string(),
            run: hex::encode(bytes),
            roles: (0..partitions.max(1))
                .map(|_| PartitionRole::default())
                .collect(),
            store,
            outgoing,
            queued: AtomicU64::new(0),
            stored: watch::Sender::new(0),
            pending_subjects: Mutex::new(HashMap::new()),
            retained: Mutex::new(HashMap::new()),
            outcomes: OnceLock::new(),
            waiting: OnceLock::new(),
        };
        (Arc::new(division), receiver)
    }

    /// How many partitions.
    pub fn partitions(&self) -> u16 {
        self.roles.len() as u16
    }

    /// A partition's role (partitions past the count share the last: never asked).
    pub fn role(&self, partition: u32) -> &PartitionRole {
        let index = (partition as usize).min(self.roles.len().saturating_sub(1));
        &self.roles[index]
    }

    /// Where the outcomes of events applied from the changelog go, and who wants them.
    pub fn set_outcome_hooks(&self, outcomes: OutcomeHook, waiting: WaitingHook) {
        let _ = self.outcomes.set(outcomes);
        let _ = self.waiting.set(waiting);
    }

    fn is_waited_for(&self, event_id: &str) -> bool {
        self.waiting.get().is_some_and(|waiting| waiting(event_id))
    }

    fn deliver(&self, outcomes: Vec<(String, EventOutcome)>) {
        if outcomes.is_empty() {
            return;
        }
        if let Some(hook) = self.outcomes.get() {
            hook(outcomes);
        }
    }

    /// Evaluate `partition` under `epoch` until `valid_until` (renewed by each lease
    /// round); `epoch` 0 stops.
    pub fn want(&self, partition: u32, epoch: u64, valid_until: Instant) {
        *self
            .role(partition)
            .desired
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Desired {
            epoch,
            valid_until: Some(valid_until),
        };
    }

    /// Stop evaluating `partition` (its thread follows from its next item).
    pub fn release(&self, partition: u32) {
        *self
            .role(partition)
            .desired
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Desired::default();
    }

    /// The lowest event stream position every partition reflects here: reads at or
    /// below it see everything.
    pub fn reflected(&self) -> u64 {
        self.roles
            .iter()
            .map(|role| role.through.load(Ordering::SeqCst))
            .min()
            .unwrap_or(0)
    }

    /// Each partition as this node sees it.
    pub fn view(&self) -> Vec<PartitionView> {
        self.roles
            .iter()
            .enumerate()
            .map(|(partition, role)| {
                let active = role.active();
                PartitionView {
                    partition: partition as u32,
                    role: if active > 0 { "owner" } else { "follower" },
                    epoch: (active > 0).then_some(active),
                    through: role.through.load(Ordering::SeqCst),
                }
            })
            .collect()
    }

    /// A fence's id and JSON: published by [`leases`] itself, which needs its sequence.
    fn fence_message(&self) -> (String, Bytes) {
        let message: ChangeMessage<&[(Mark, Vec<WriteBatch>)]> = ChangeMessage {
            node: self.node.clone(),
            run: self.run.clone(),
            change: Change::Fence,
        };
        let mut nonce = [0u8; 8];
        if getrandom::fill(&mut nonce).is_err() {
            nonce = crate::model::time::wall_clock_now().to_be_bytes();
        }
        (
            format!("fence.{}.{}", self.run, hex::encode(nonce)),
            serde_json::to_vec(&message).unwrap_or_default().into(),
        )
    }

    /// The latest fence of `partition` this node has applied.
    pub fn epoch(&self, partition: u32) -> u64 {
        self.role(partition).epoch.load(Ordering::SeqCst)
    }

    /// Whether the latest fence applied for `partition` is this run's.
    pub fn fenced_by_me(&self, partition: u32) -> bool {
        self.role(partition).fenced_by_me.load(Ordering::SeqCst)
    }

    /// Queue a message for the changelog.
    fn publish(&self, partition: u32, change: Change<&[(Mark, Vec<WriteBatch>)]>) {
        let id = match &change {
            Change::Fence => format!("{partition}.fence.{}", self.run),
            // A watermark may name the last units' mark: `through` tells them apart.
            Change::Units {
                epoch,
                last,
                through,
                ..
            } => format!(
                "{partition}.{epoch}.{}.{}.{through}",
                last.position, last.index
            ),
        };
        let message = ChangeMessage {
            node: self.node.clone(),
            run: self.run.clone(),
            change,
        };
        // Serialising our own plain data cannot fail.
        let payload: Bytes = serde_json::to_vec(&message).unwrap_or_default().into();
        if let Change::Units { last, items, .. } = &message.change
            && !items.is_empty()
        {
            self.retained
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(partition)
                .or_default()
                .push_back((*last, payload.clone()));
        }
        self.queue(partition, id, &message.change, payload);
    }

    fn queue<U>(&self, partition: u32, id: String, change: &Change<U>, payload: Bytes) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let _ = self.outgoing.send(Outgoing {
            partition,
            id,
            kind: if matches!(change, Change::Fence) {
                "fence"
            } else {
                "units"
            },
            payload,
        });
    }

    /// The units of `partition` up to `mark` are in every node's store (accepted, or
    /// another node's units for the same items accepted): forget this node's copies.
    fn confirm(&self, partition: u32, mark: Mark) {
        if let Some(retained) = self
            .retained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&partition)
        {
            while retained.front().is_some_and(|(last, _)| *last <= mark) {
                retained.pop_front();
            }
        }
    }

    /// After this node fenced `partition` again under `epoch`: publish its units that are
    /// not known to be accepted — those another node's fence made void — under the new
    /// epoch, before anything new. Every node skips the items it reflects already.
    /// Returns how many messages.
    pub fn republish(&self, partition: u32, epoch: u64) -> usize {
        let retained: Vec<(Mark, Bytes)> = self
            .retained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&partition)
            .map(|retained| retained.drain(..).collect())
            .unwrap_or_default();
        let mut count = 0;
        for (_, payload) in retained {
            let Ok(message) =
                serde_json::from_slice::<ChangeMessage<Vec<(Mark, Vec<WriteBatch>)>>>(&payload)
            else {
                continue;
            };
            if let Change::Units {
                last,
                through,
                items,
                ..
            } = message.change
            {
                self.publish(
                    partition,
                    Change::Units {
                        epoch,
                        last,
                        through,
                        items: &items,
                    },
                );
                count += 1;
            }
        }
        count
    }

    /// Wait until every message queued so far is stored in the changelog.
    pub async fn flushed(&self) {
        let target = self.queued.load(Ordering::SeqCst);
        let mut stored = self.stored.subscribe();
        let _ = stored.wait_for(|count| *count >= target).await;
    }

    fn note_stored(&self, count: u64) {
        self.stored.send_modify(|stored| *stored += count);
    }

    /// The subjects an event touched, as the changelog said before this node's
    /// sequencer routed it.
    fn take_pending_subjects(&self, event_id: &str) -> Vec<Subject> {
        self.pending_subjects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(event_id)
            .unwrap_or_default()
    }

    /// This process's run id (a restarted node is another run).
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Read one changelog message (`None`: one no node could have written, skipped alike
    /// by every node). This run's own units are read only as far as their head.
    pub fn decode(&self, followed: &FollowedChange) -> Option<Decoded> {
        if followed.partition as usize >= self.roles.len() {
            metrics::counter!("probity_cluster_undecodable_total").increment(1);
            return None;
        }
        if let Some((run, kind)) = &followed.run_and_kind
            && *run == self.run
            && kind == "units"
        {
            return match serde_json::from_slice::<Head>(&followed.payload) {
                Ok(Head {
                    change: HeadChange::Units { epoch, last },
                }) => Some(Decoded {
                    sequence: followed.sequence,
                    partition: followed.partition,
                    message: Read::Own { epoch, last },
                }),
                _ => None,
            };
        }
        match serde_json::from_slice(&followed.payload) {
            Ok(message) => Some(Decoded {
                sequence: followed.sequence,
                partition: followed.partition,
                message: Read::Whole(message),
            }),
            Err(err) => {
                metrics::counter!("probity_cluster_undecodable_total").increment(1);
                tracing::error!(sequence = followed.sequence, error = %err, "skipped a changelog message this node cannot read");
                None
            }
        }
    }

    /// Apply one changelog message (see the module docs); the outcomes of the events it
    /// evaluated go to their waiters.
    pub fn apply(&self, decoded: Decoded) -> Result<(), StoreError> {
        let role = self.role(decoded.partition);
        let message = match decoded.message {
            Read::Whole(message) => message,
            Read::Own { epoch, last } => {
                if epoch < role.epoch.load(Ordering::SeqCst) {
                    // After another node's fence: void for every node. Kept, to be
                    // published again under this node's next fence.
                    metrics::counter!("probity_cluster_fenced_off_total").increment(1);
                    metrics::counter!("probity_cluster_fenced_out_total").increment(1);
                    // Per message at debug: the lease follower warns once, when it fences
                    // again and publishes them again.
                    tracing::debug!(
                        partition = decoded.partition,
                        epoch,
                        newer = role.epoch.load(Ordering::SeqCst),
                        "this node's units after another node's fence are void"
                    );
                } else {
                    // Committed as it was made, and now known to be accepted.
                    self.confirm(decoded.partition, last);
                }
                return Ok(());
            }
        };
        match message.change {
            Change::Fence => {
                role.epoch.fetch_max(decoded.sequence, Ordering::SeqCst);
                role.fenced_by_me
                    .store(message.run == self.run, Ordering::SeqCst);
                metrics::counter!("probity_cluster_fences_total").increment(1);
            }
            Change::Units {
                epoch,
                last,
                through,
                items,
            } => {
                if epoch < role.epoch.load(Ordering::SeqCst) {
                    metrics::counter!("probity_cluster_fenced_off_total").increment(1);
                    return Ok(());
                }
                if message.run == self.run {
                    // Our own: [`Division::decode`] reads those by their headers as
                    // `Read::Own`; this guards one published without them against being
                    // applied twice.
                    return Ok(());
                }
                for (mark, units) in items {
                    // Applied already (a message read again after a restart of the follow).
                    if mark <= role.reflected() {
                        continue;
                    }
                    let outcomes = self.commit_units(units)?;
                    role.set_reflected(mark, mark.position.saturating_sub(1));
                    self.deliver(outcomes);
                }
                role.set_reflected(last, through);
                // Another node's units for these items: this node's copies are moot.
                self.confirm(decoded.partition, last);
            }
        }
        Ok(())
    }

    /// Commit another node's units, without what only this node's sequencer may write:
    /// the references are dropped, and the idempotency record keeps this node's digest
    /// and position (its follower wrote it first) with the subjects the owner found.
    fn commit_units(
        &self,
        units: Vec<WriteBatch>,
    ) -> Result<Vec<(String, EventOutcome)>, StoreError> {
        let mut evaluated = Vec::new();
        for mut unit in units {
            unit.refs.clear();
            if let Some(event) = unit.event.take() {
                match self.store.event_record(&event.event_id)? {
                    Some(record) => {
                        unit.event = Some(crate::store::EventLogWrite {
                            digest: record.digest,
                            seq: record.seq,
                            ..event.clone()
                        })
                    }
                    None => {
                        self.pending_subjects
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(event.event_id.clone(), event.subjects.clone());
                    }
                }
                if self.is_waited_for(&event.event_id) {
                    evaluated.push(event);
                }
            }
            self.store.commit(unit)?;
        }
        let mut outcomes = Vec::with_capacity(evaluated.len());
        for event in evaluated {
            let mut verdicts = Vec::with_capacity(event.subjects.len());
            for subject in &event.subjects {
                verdicts.extend(self.store.verdict(subject)?);
            }
            outcomes.push((event.event_id, EventOutcome::Accepted { verdicts }));
        }
        Ok(outcomes)
    }
}
