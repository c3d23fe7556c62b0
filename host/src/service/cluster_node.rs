//! This node's part in a cluster: ingest through the JetStream stream, a follower that
//! feeds the stream, in its order, to the local pipeline, and the leases that say which
//! partitions this node evaluates.
//!
//! **The stream is the log of record.** `POST /v1/events` on any node publishes the
//! request's (validated, pseudonymised) events to the stream ([`crate::cluster::log`])
//! and acknowledges nothing before JetStream has stored them. Every node runs a
//! *follower*: one task that reads the stream from its start and submits its messages,
//! in stream order and one batch at a time, to the node's local pipeline (the same
//! [`Worker`] a single node uses: sequencer, partition threads, local log, sled). So
//! every node's sequencer makes the same decisions in the same order.
//!
//! **The work is divided** ([`crate::service::division`]): a partition's events are
//! evaluated only by the node holding its lease, which publishes what its units wrote
//! to the changelog; every other node applies that. Reads answer on every node from
//! its own store, with no routing.
//!
//! **Answers.** A request registers, before it publishes, a waiter per event id; the
//! waiter is answered by the local pipeline when this node owns the event's partition,
//! or by the changelog's applier when the owner's units arrive. A request therefore
//! answers with the verdicts as this node holds them, and a read on this node
//! afterwards sees them. Past `cluster.answer_wait_ms` the answer is *pending* (the
//! events are stored; their verdicts come later) with their stream positions. A
//! re-sent event that JetStream drops as a duplicate is answered from its idempotency
//! record once this node reflects the first copy.
//!
//! **Start.** A node's data directory is a copy of the two streams: it is emptied at
//! start and rebuilt by following both from their beginning (see [`crate::server`]).
//! Nothing the cluster acknowledged lives only there.
//!
//! **Clock.** With `[clock] follow_wall_clock`, a node whose wall clock makes a timer or
//! an expiry due publishes a clock advance to the stream (de-duplicated by the second),
//! and every node applies it at the same point of the stream.
//!
//! **Configuration.** The plugins and actions are the cluster's: a reload publishes them
//! to the stream ([`ClusterNode::publish_config_change`]) and every node's follower swaps
//! its plugin set when it reaches them ([`Reloader::apply_cluster_change`]), between the
//! same two events everywhere. A node that cannot load them stops there (`stuck`), since
//! going on with other plugins would give other verdicts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch};

use super::division::leases::{self, Taken};
use super::division::{Division, Outgoing, PartitionView, tasks};
use super::reload::{ClusterConfigChange, Reloader};
use super::worker::{
    DecisionMade, DecisionRefused, DecisionRequest, EventOutcome, Worker, WorkerError,
};
use crate::cluster::changelog::ChangeLog;
use crate::cluster::log::{EventStream, FollowedEntry, StreamEntry, StreamState};
use crate::cluster::ownership::{Membership, View};
use crate::model::event::Event;
use crate::model::shard::{ShardSet, shard_of};
use crate::model::time::Timestamp;
use crate::store::Store;

/// How long a reload waits for its own change to come back through the stream.
const CONFIG_WAIT: Duration = Duration::from_secs(120);

/// Most messages the follower submits as one batch.
const FOLLOW_BATCH: usize = 512;

/// What a node needs to know of the cluster it is in.
#[derive(Clone, Debug)]
pub struct ClusterNodeSettings {
    /// This node's name.
    pub node: String,
    /// The stream's partition count.
    pub partitions: u16,
    /// How long a request waits for its events' verdicts.
    pub answer_wait: Duration,
    /// The event stream's last sequence when the node started.
    pub stream_at_start: u64,
    /// The changelog's last sequence when the node started.
    pub changes_at_start: u64,
}

/// An event's answer in a cluster: its outcome, or still pending at its position.
#[derive(Clone, Debug)]
pub enum ClusterOutcome {
    /// Applied by this node.
    Applied(EventOutcome),
    /// Stored in the stream at `sequence`; not applied here within the wait.
    Pending {
        /// Its stream sequence.
        sequence: u64,
    },
}

type Waiters = Arc<Mutex<HashMap<String, Vec<oneshot::Sender<EventOutcome>>>>>;

/// What a node needs to divide the work (see [`crate::service::division`]).
pub struct Dividing {
    /// The node's share of the work.
    pub division: Arc<Division>,
    /// The changelog stream.
    pub changelog: ChangeLog,
    /// What the partition threads queue for the changelog.
    pub outgoing: mpsc::UnboundedReceiver<Outgoing>,
}

type DecisionAnswer = Result<DecisionMade, DecisionRefused>;

/// This node in a cluster (see the module docs).
pub struct ClusterNode {
    settings: ClusterNodeSettings,
    stream: EventStream,
    worker: Worker,
    store: Arc<dyn Store>,
    waiters: Waiters,
    applied: watch::Sender<u64>,
    division: Arc<Division>,
    changelog: ChangeLog,
    /// The last changelog sequence applied here.
    changes_applied: watch::Sender<u64>,
    outgoing: Mutex<Option<mpsc::UnboundedReceiver<Outgoing>>>,
    view: Mutex<View>,
    reloader: std::sync::OnceLock<Arc<Reloader>>,
    /// Why the follower is stuck, if it is (a configuration change it cannot load).
    stuck: Mutex<Option<String>>,
    /// Requests waiting for their decision to come back through the stream, by id.
    decisions: Mutex<HashMap<String, oneshot::Sender<DecisionAnswer>>>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("node", &self.settings.node)
            .finish_non_exhaustive()
    }
}

/// What `GET /v1/cluster` shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClusterStatus {
    /// This node.
    pub node: String,
    /// How the work is spread.
    pub evaluation: &'static str,
    /// The stream as JetStream reports it (absent when NATS does not answer).
    pub stream: Option<StreamState>,
    /// The last stream sequence this node's sequencer applied.
    pub applied: u64,
    /// Every partition's verdicts here reflect the stream up to this sequence.
    pub reflected: u64,
    /// Each partition: whether this node evaluates it (`owner`) or applies its owner's
    /// changelog (`follower`), and how far it is reflected here.
    pub partitions: Vec<PartitionView>,
    /// Messages stored but not applied here yet.
    pub lag: Option<u64>,
    /// Why this node cannot follow the stream, if it cannot (e.g. a configuration change
    /// whose plugin it cannot load).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stuck: Option<String>,
    /// The live nodes, every partition's lease holder, this node's leases.
    pub membership: View,
}

impl ClusterNode {
    /// A node publishing to and following `stream`, applying through `worker`.
    pub fn new(
        settings: ClusterNodeSettings,
        stream: EventStream,
        worker: Worker,
        store: Arc<dyn Store>,
        dividing: Dividing,
    ) -> Arc<Self> {
        let waiters: Waiters = Arc::new(Mutex::new(HashMap::new()));
        let (to_waiters, asked) = (waiters.clone(), waiters.clone());
        dividing.division.set_outcome_hooks(
            Box::new(move |outcomes| deliver(&to_waiters, outcomes)),
            Box::new(move |event_id| {
                asked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains_key(event_id)
            }),
        );
        Arc::new(ClusterNode {
            view: Mutex::new(View {
                node: settings.node.clone(),
                ..View::default()
            }),
            settings,
            stream,
            worker,
            store,
            waiters,
            // The store was rebuilt empty at start: the stream is followed from its start.
            applied: watch::Sender::new(0),
            division: dividing.division,
            changelog: dividing.changelog,
            changes_applied: watch::Sender::new(0),
            outgoing: Mutex::new(Some(dividing.outgoing)),
            reloader: std::sync::OnceLock::new(),
            stuck: Mutex::new(None),
            decisions: Mutex::new(HashMap::new()),
        })
    }

    /// Why the follower cannot go on, if it cannot (the node is not ready then).
    pub fn stuck(&self) -> Option<String> {
        self.stuck
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// This node's name.
    pub fn node_name(&self) -> &str {
        &self.settings.node
    }

    /// Start following the stream and taking part in leases, applying configuration
    /// changes through `reloader`.
    pub fn start(
        self: &Arc<Self>,
        reloader: Arc<Reloader>,
        membership: Membership,
        renew_every: Duration,
    ) {
        let _ = self.reloader.set(reloader);
        if let Some(outgoing) = self
            .outgoing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            tokio::spawn(tasks::run_publisher(
                self.changelog.clone(),
                outgoing,
                self.division.clone(),
            ));
        }
        tokio::spawn(tasks::run_applier(
            self.changelog.clone(),
            self.division.clone(),
            self.changes_applied.clone(),
            self.applied.subscribe(),
        ));
        tokio::spawn(self.clone().run_follower());
        tokio::spawn(self.clone().run_membership(membership, renew_every));
    }

    /// Publish a reviewer's decision to the stream and wait until this node applied it
    /// (every node applies it at the same point, and records it in its audit trail).
    pub async fn decide(&self, request: DecisionRequest) -> Result<DecisionAnswer, WorkerError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|err| {
            WorkerError::Stream(format!("no randomness for a decision id: {err}"))
        })?;
        let id = hex::encode(bytes);
        let (tx, rx) = oneshot::channel();
        self.decisions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), tx);
        let value = serde_json::json!({ "id": id, "request": request });
        let appended = self
            .stream
            .append_decision(&format!("decision:{id}"), &value)
            .await;
        if let Err(err) = appended {
            self.decisions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            return Err(WorkerError::Stream(err.to_string()));
        }
        match tokio::time::timeout(self.settings.answer_wait, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(WorkerError::Stream(
                "the decision is stored in the event stream but this node has not applied it yet; every node applies it when it gets there".into(),
            )),
        }
    }

    /// Apply a decision from the stream through the pipeline (which audits it); its
    /// answer to the request waiting for it here, if one is.
    async fn apply_decision(&self, value: serde_json::Value) -> Result<bool, String> {
        let id = value["id"].as_str().unwrap_or_default().to_string();
        let Ok(mut request) = serde_json::from_value::<DecisionRequest>(value["request"].clone())
        else {
            metrics::counter!("probity_cluster_undecodable_total").increment(1);
            tracing::error!("skipped a decision this node cannot read");
            return Ok(false);
        };
        request.id = Some(id.clone());
        let answer = match self.worker.decide(request).await {
            Ok(answer) => answer,
            Err(WorkerError::ShuttingDown) => return Ok(true),
            Err(err) => return Err(format!("applying a decision: {err}")),
        };
        if let Err(DecisionRefused::Store(err)) = &answer {
            return Err(format!("applying a decision: {err}"));
        }
        if let Some(waiter) = self
            .decisions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
        {
            let _ = waiter.send(answer);
        }
        Ok(false)
    }

    /// Publish a configuration change and wait until this node applied it.
    pub async fn publish_config_change(&self, change: &ClusterConfigChange) -> Result<(), String> {
        let value = serde_json::to_value(change).map_err(|err| err.to_string())?;
        let digest = super::reload::public_digest(&change.applied_to(&Default::default()));
        let id = format!("config:{}:{digest}", self.applied());
        let appended = self
            .stream
            .append_config_change(&id, &value)
            .await
            .map_err(|err| format!("publishing the change to the event stream: {err}"))?;
        match self.wait_applied(appended.sequence, CONFIG_WAIT).await {
            true => Ok(()),
            false => Err(format!(
                "the change is in the event stream (position {}) but this node has not applied it within {}s; it applies when the node reaches it",
                appended.sequence,
                CONFIG_WAIT.as_secs()
            )),
        }
    }

    /// The last stream sequence applied here.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Wait (at most `wait`) until this node has applied the stream up to `sequence`;
    /// whether it has.
    pub async fn wait_applied(&self, sequence: u64, wait: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        tokio::time::timeout(wait, applied.wait_for(|at| *at >= sequence))
            .await
            .is_ok_and(|reached| reached.is_ok())
    }

    /// Whether this node has read what the event stream and the changelog held when it
    /// started.
    fn read_what_was_there(&self) -> bool {
        self.applied() >= self.settings.stream_at_start
            && *self.changes_applied.borrow() >= self.settings.changes_at_start
    }

    /// The lowest stream sequence every partition reflects here.
    pub fn reflected(&self) -> u64 {
        self.division.reflected().min(self.applied())
    }

    /// Wait (at most `wait`) until every partition here reflects the stream up to
    /// `sequence`; whether they do.
    pub async fn wait_reflected(&self, sequence: u64, wait: Duration) -> bool {
        let until = tokio::time::Instant::now() + wait;
        loop {
            if self.reflected() >= sequence {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Publish `events` to the stream (acknowledged by JetStream before this returns
    /// anything) and wait for their outcomes (see the module docs).
    pub async fn submit(&self, events: Vec<Event>) -> Result<Vec<ClusterOutcome>, WorkerError> {
        let mut answers = Vec::with_capacity(events.len());
        {
            let mut waiters = self.waiters.lock().unwrap_or_else(PoisonError::into_inner);
            for event in &events {
                let (tx, rx) = oneshot::channel();
                waiters.entry(event.event_id.clone()).or_default().push(tx);
                answers.push(rx);
            }
        }
        let acks = self.publish(&events).await;
        let acks = match acks {
            Ok(acks) => acks,
            Err(err) => {
                self.forget_waiters(&events);
                return Err(err);
            }
        };
        let deadline = tokio::time::Instant::now() + self.settings.answer_wait;
        let mut outcomes = Vec::with_capacity(events.len());
        for ((event, answer), ack) in events.into_iter().zip(answers).zip(acks) {
            let outcome = if ack.duplicate {
                // JetStream dropped this copy: no outcome will come for it. Once the
                // first copy is reflected here, its record answers for it.
                drop(answer);
                self.forget_waiters(std::slice::from_ref(&event));
                let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
                match self.wait_reflected(ack.sequence, wait).await {
                    true => ClusterOutcome::Applied(self.answer_copy(event).await?),
                    false => ClusterOutcome::Pending {
                        sequence: ack.sequence,
                    },
                }
            } else {
                match tokio::time::timeout_at(deadline, answer).await {
                    Ok(Ok(outcome)) => ClusterOutcome::Applied(outcome),
                    _ => ClusterOutcome::Pending {
                        sequence: ack.sequence,
                    },
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// The answer to a re-sent event whose first copy is reflected here: its record's
    /// verdicts, or a conflict if its content differs.
    async fn answer_copy(&self, event: Event) -> Result<EventOutcome, WorkerError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let digest = crate::pipeline::event_digest(&event);
            let failed = |err: crate::store::StoreError| EventOutcome::Failed {
                error: err.to_string(),
            };
            match store.event_record(&event.event_id) {
                Ok(Some(record)) if record.digest != digest => EventOutcome::Conflict,
                Ok(_) => {
                    match crate::pipeline::verdicts_of_event(store.as_ref(), &event.event_id) {
                        Ok(verdicts) => EventOutcome::Duplicate { verdicts },
                        Err(err) => failed(err),
                    }
                }
                Err(err) => failed(err),
            }
        })
        .await
        .map_err(|err| WorkerError::Stream(err.to_string()))
    }

    /// Publish every event (pipelined) and wait for JetStream's acknowledgements.
    async fn publish(
        &self,
        events: &[Event],
    ) -> Result<Vec<crate::cluster::log::Appended>, WorkerError> {
        let unavailable = |err: crate::cluster::ownership::ClusterError| {
            metrics::counter!("probity_cluster_publish_failures_total").increment(1);
            WorkerError::Stream(err.to_string())
        };
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let partition = event.seller_id().map(|seller| {
                u32::from(ShardSet::partition_of(
                    shard_of(seller),
                    self.settings.partitions,
                ))
            });
            let json = serde_json::to_vec(event)
                .map_err(|err| WorkerError::Stream(format!("encoding an event: {err}")))?;
            pending.push(
                self.stream
                    .start_append(partition, &event.event_id, json.into())
                    .await
                    .map_err(unavailable)?,
            );
        }
        let mut acks = Vec::with_capacity(pending.len());
        for ack in pending {
            acks.push(ack.await.map_err(unavailable)?);
        }
        Ok(acks)
    }

    fn forget_waiters(&self, events: &[Event]) {
        let mut waiters = self.waiters.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            if let Some(list) = waiters.get_mut(&event.event_id) {
                list.retain(|tx| !tx.is_closed());
                if list.is_empty() {
                    waiters.remove(&event.event_id);
                }
            }
        }
    }

    /// With the wall clock at `now`: if that makes something due here, publish a clock
    /// advance for every node to apply at the same point of the stream.
    pub async fn follow_wall_clock(&self, now: Timestamp) {
        let store = self.store.clone();
        let due = tokio::task::spawn_blocking(move || {
            let clock = store.clock().ok().flatten();
            crate::pipeline::due_by(store.as_ref(), clock, now).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if due && let Err(err) = self.stream.append_clock_advance(now).await {
            tracing::warn!(error = %err, "publishing a clock advance failed; the next tick retries");
        }
    }

    /// Follow the stream for ever (until the worker shuts down): read from the applied
    /// position, submit in batches, record the position. A failure is logged and the
    /// follow starts again from the last position applied, after a second.
    async fn run_follower(self: Arc<Self>) {
        loop {
            match self.follow_once().await {
                Ok(()) => return,
                Err(err) => {
                    metrics::counter!("probity_cluster_follow_restarts_total").increment(1);
                    tracing::warn!(error = %err, applied = self.applied(), "following the event stream stopped; starting again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn follow_once(&self) -> Result<(), String> {
        let from = self.applied() + 1;
        let mut messages = self
            .stream
            .follow(from)
            .await
            .map_err(|err| err.to_string())?;
        loop {
            let Some(first) = messages.next().await else {
                return Err("the event stream's consumer ended".into());
            };
            let mut batch = vec![first.map_err(|err| err.to_string())?];
            while batch.len() < FOLLOW_BATCH {
                match futures_util::FutureExt::now_or_never(messages.next()) {
                    Some(Some(Ok(entry))) => batch.push(entry),
                    Some(Some(Err(err))) => {
                        // Apply what arrived before the error, then start again.
                        self.apply(batch).await?;
                        return Err(err.to_string());
                    }
                    Some(None) | None => break,
                }
            }
            if self.apply(batch).await? {
                return Ok(());
            }
        }
    }

    /// Apply one batch of the stream, in order; `true` when the worker is gone.
    async fn apply(&self, batch: Vec<FollowedEntry>) -> Result<bool, String> {
        let mut events = Vec::new();
        let mut positions = Vec::new();
        let mut last = self.applied();
        for FollowedEntry { sequence, entry } in batch {
            if sequence <= last {
                continue;
            }
            match entry {
                StreamEntry::Event(event) => {
                    events.push(*event);
                    positions.push(sequence);
                }
                StreamEntry::ClockAdvance(to) => {
                    // Events before it first, then the advance, in the stream's order.
                    if self.submit_local(&mut events, &mut positions).await? {
                        return Ok(true);
                    }
                    if self.worker.advance_clock(to, sequence).await.is_err() {
                        return Ok(true);
                    }
                }
                StreamEntry::Decision(value) => {
                    if self.submit_local(&mut events, &mut positions).await? {
                        return Ok(true);
                    }
                    self.record_applied(last);
                    if self.apply_decision(value).await? {
                        return Ok(true);
                    }
                }
                StreamEntry::ConfigChange(value) => {
                    if self.submit_local(&mut events, &mut positions).await? {
                        return Ok(true);
                    }
                    self.record_applied(last);
                    self.apply_config_change(sequence, value).await?;
                }
                StreamEntry::Undecodable(what) => {
                    metrics::counter!("probity_cluster_undecodable_total").increment(1);
                    tracing::error!(sequence, "skipped a stream message that is not {what}");
                }
            }
            last = sequence;
        }
        if self.submit_local(&mut events, &mut positions).await? {
            return Ok(true);
        }
        self.record_applied(last);
        Ok(false)
    }

    /// Submit events (taken from `events`, at stream `positions`) to the local pipeline
    /// and pass the outcomes of those evaluated here to their waiters (the others come
    /// with their owners' changelogs); `true` when the worker is gone. A storage failure
    /// stops the follow (it starts again from the last position recorded, which is
    /// before these events).
    async fn submit_local(
        &self,
        events: &mut Vec<Event>,
        positions: &mut Vec<u64>,
    ) -> Result<bool, String> {
        let events = std::mem::take(events);
        let positions = std::mem::take(positions);
        if events.is_empty() {
            return Ok(false);
        }
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let outcomes = match self.worker.submit_waiting(events, positions).await {
            Ok(outcomes) => outcomes,
            Err(WorkerError::ShuttingDown) => return Ok(true),
            Err(err) => return Err(format!("applying stream events: {err}")),
        };
        if let Some(EventOutcome::Failed { error }) = outcomes
            .iter()
            .find(|o| matches!(o, EventOutcome::Failed { .. }))
        {
            return Err(format!("applying stream events: {error}"));
        }
        let here = ids
            .into_iter()
            .zip(outcomes)
            .filter(|(_, outcome)| !matches!(outcome, EventOutcome::Elsewhere))
            .collect();
        deliver(&self.waiters, here);
        Ok(false)
    }

    /// Apply a configuration change from the stream; an error leaves the follower before
    /// it (it tries again), with the reason in `GET /v1/cluster`.
    async fn apply_config_change(
        &self,
        sequence: u64,
        value: serde_json::Value,
    ) -> Result<(), String> {
        let change: ClusterConfigChange = match serde_json::from_value(value.clone()) {
            Ok(change) => change,
            Err(err) => {
                metrics::counter!("probity_cluster_undecodable_total").increment(1);
                tracing::error!(sequence, error = %err, "skipped a configuration change this node cannot read");
                return Ok(());
            }
        };
        let Some(reloader) = self.reloader.get().cloned() else {
            return Err("the node is not started".into());
        };
        let applied = tokio::task::spawn_blocking(move || reloader.apply_cluster_change(&change))
            .await
            .map_err(|err| err.to_string())?;
        let mut stuck = self.stuck.lock().unwrap_or_else(PoisonError::into_inner);
        match applied {
            Ok(()) => {
                *stuck = None;
                Ok(())
            }
            Err(err) => {
                let reason = format!(
                    "the configuration change at stream position {sequence} cannot be applied here: {err}"
                );
                *stuck = Some(reason.clone());
                Err(reason)
            }
        }
    }

    fn record_applied(&self, sequence: u64) {
        if sequence <= self.applied() {
            return;
        }
        metrics::gauge!("probity_cluster_applied_sequence").set(sequence as f64);
        self.applied.send_replace(sequence);
    }

    /// Take part in partition ownership: a round every `renew_every`, for ever.
    async fn run_membership(self: Arc<Self>, mut membership: Membership, renew_every: Duration) {
        let mut tick = tokio::time::interval(renew_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut taken = Taken::new();
        // A node takes part in the leases only once it has read what both streams held
        // when it started: before that it could not evaluate a partition it claimed,
        // and the others keep them.
        while !self.read_what_was_there() {
            tick.tick().await;
        }
        tracing::info!(
            applied = self.applied(),
            "caught up with the event stream and the changelog; taking part in the leases"
        );
        loop {
            tick.tick().await;
            let round = membership.round().await;
            // Leases that lapsed stop their threads even when NATS does not answer.
            leases::follow(
                &self.division,
                &self.changelog,
                &self.changes_applied,
                &mut membership,
                &mut taken,
            )
            .await;
            match round {
                Ok(()) => {
                    let view = membership.view().clone();
                    metrics::gauge!("probity_cluster_partitions_held").set(view.held.len() as f64);
                    metrics::gauge!("probity_cluster_nodes").set(view.nodes.len() as f64);
                    metrics::gauge!("probity_cluster_owner_changes").set(view.owner_changes as f64);
                    *self.view.lock().unwrap_or_else(PoisonError::into_inner) = view;
                }
                Err(err) => tracing::warn!(error = %err, "a cluster membership round failed"),
            }
            self.partition_metrics();
            if let Ok(state) = self.stream.state().await {
                let lag = state.last_sequence.saturating_sub(self.applied());
                metrics::gauge!("probity_cluster_lag_messages").set(lag as f64);
            }
        }
    }

    /// Per cluster partition: whether this node owns it, and how far behind this node's
    /// follower its verdicts here are (stream entries).
    fn partition_metrics(&self) {
        let applied = self.applied();
        for partition in self.division.view() {
            let label = partition.partition.to_string();
            metrics::gauge!("probity_cluster_partition_owned", "partition" => label.clone())
                .set(if partition.role == "owner" { 1.0 } else { 0.0 });
            metrics::gauge!("probity_cluster_partition_lag_entries", "partition" => label)
                .set(applied.saturating_sub(partition.through) as f64);
        }
    }

    /// What `GET /v1/cluster` shows.
    pub async fn status(&self) -> ClusterStatus {
        let stream = self.stream.state().await.ok();
        let applied = self.applied();
        ClusterStatus {
            node: self.settings.node.clone(),
            evaluation: "divided: each partition's owner evaluates it; the other nodes apply its changelog",
            reflected: self.reflected(),
            partitions: self.division.view(),
            lag: stream.map(|s| s.last_sequence.saturating_sub(applied)),
            stuck: self.stuck(),
            stream,
            applied,
            membership: self
                .view
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

/// Hand outcomes to the requests waiting for them.
fn deliver(waiters: &Waiters, outcomes: Vec<(String, EventOutcome)>) {
    if outcomes.is_empty() {
        return;
    }
    let mut waiters = waiters.lock().unwrap_or_else(PoisonError::into_inner);
    for (id, outcome) in outcomes {
        if let Some(list) = waiters.remove(&id) {
            for waiter in list {
                let _ = waiter.send(outcome.clone());
            }
        }
    }
}
