//! The router thread: takes the requests' events, passes each through the
//! [`Sequencer`] and hands it to its partition thread, with a tick to the others.
//!
//! **Fair scheduling.** The router does not route one job whole before it starts the
//! next: it takes every job waiting and, each round, routes a slice of [`SLICE_EVENTS`]
//! events of the job with the fewest events left (shortest remaining first) and a slice
//! of the oldest job. A single event that arrives while big batches are being evaluated
//! therefore waits for about one slice per partition queue, not for the batches; the
//! oldest job always moves, so none starves. The log records the order events were
//! routed in, so a replay repeats it. Plugin-set swaps and the other control jobs travel
//! the same channel, run between two events, and reach every partition at the same
//! point of the log.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use super::partition::{Item, JobState, Progress, Slot};
use super::worker::{Ack, DecisionMade, DecisionRefused, DecisionRequest, EventOutcome, Job};
use crate::model::event::Event;
use crate::model::shard::ShardSet;
use crate::pipeline::{
    PluginSet, Route, Routed, Sequencer, apply_decision, due_by, verdicts_of_event,
};
use crate::store::StoreHealth;
use crate::verdict::{Decision, DecisionKind};

/// Events routed from one job before the next job's turn.
pub const SLICE_EVENTS: usize = 16;

/// Most jobs held in evaluation at once; more wait in the channel.
const MAX_ACTIVE_JOBS: usize = 1024;

/// A job being routed: its events not yet routed (with their event stream positions in a
/// cluster), how many were, and its outcomes.
struct ActiveJob {
    events: std::collections::VecDeque<Event>,
    positions: std::collections::VecDeque<u64>,
    routed: usize,
    total: usize,
    state: Arc<JobState>,
}

/// The router's view of the partitions.
pub(super) struct Partitions {
    pub(super) queues: Vec<std_mpsc::SyncSender<(u64, Item)>>,
    pub(super) threads: Vec<JoinHandle<()>>,
    pub(super) progress: Arc<Progress>,
    /// In a divided cluster: the event stream position of what is being routed (its
    /// items' marks, see [`crate::service::division`]).
    pub(super) position: u64,
    /// Whether the partitions divide a cluster's work (they then hear where each job
    /// ends).
    pub(super) divided: bool,
}

impl Partitions {
    fn count(&self) -> u16 {
        self.queues.len() as u16
    }

    fn send(&self, partition: usize, seq: u64, item: Item) {
        self.progress.sending(partition, seq);
        if let Some(queue) = self.queues.get(partition) {
            // A partition ends only after `Stop`, which the router sends last.
            let _ = queue.send((self.position, item));
        }
    }

    /// In a divided cluster: tell every partition that everything up to the current
    /// position was sent.
    fn sync(&self) {
        if !self.divided {
            return;
        }
        for queue in &self.queues {
            let _ = queue.send((self.position, Item::Sync));
        }
    }

    /// Hand `routed` to its partition (its outcome to `slot`) and tick the others; with
    /// `wait`, that request's answer also waits for the ticks.
    fn evaluate(&self, routed: Routed, slot: Option<Slot>, wait: Option<&Arc<JobState>>) {
        let target = ShardSet::partition_of(routed.shard, self.count()) as usize;
        if routed.buyer.is_some() {
            // An event's buyer route follows its seller route, which ticked everyone;
            // with `wait`, the request's answer also waits for it.
            if let Some(job) = wait {
                job.hold(1);
            }
            let seq = routed.seq;
            let wait = wait.cloned();
            self.send(target, seq, Item::Evaluate { routed, slot, wait });
            return;
        }
        let (clock, seq) = (routed.clock, routed.seq);
        let cause: Arc<str> = routed.event.event_id.as_str().into();
        if let Some(job) = wait {
            // Before the event is sent: its outcome must not finish the request first.
            job.hold(self.queues.len() - 1);
        }
        self.send(
            target,
            seq,
            Item::Evaluate {
                routed,
                slot,
                wait: None,
            },
        );
        self.tick_except(Some(target), clock, &cause, seq, wait);
    }

    /// Tick every partition but `except`; `wait` must already hold one per tick.
    fn tick_except(
        &self,
        except: Option<usize>,
        clock: i64,
        cause: &Arc<str>,
        seq: u64,
        wait: Option<&Arc<JobState>>,
    ) {
        for partition in (0..self.queues.len()).filter(|p| Some(*p) != except) {
            let item = Item::Tick {
                clock,
                cause: cause.clone(),
                seq,
                wait: wait.cloned(),
            };
            self.send(partition, seq, item);
        }
    }

    fn stop(self) {
        for queue in &self.queues {
            let _ = queue.send((self.position, Item::Stop));
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

pub(super) fn run_router(
    sequencer: Sequencer,
    partitions: Partitions,
    plugins: Arc<PluginSet>,
    mut jobs: mpsc::Receiver<Job>,
    acks: std_mpsc::Sender<Ack>,
    health: &StoreHealth,
) {
    let mut router = Router {
        sequencer,
        partitions,
        plugins,
        acks,
        health,
    };
    let mut active: std::collections::VecDeque<ActiveJob> = std::collections::VecDeque::new();
    let mut stopping = false;
    loop {
        // Wait only when there is nothing to route; otherwise take what has arrived.
        if active.is_empty() {
            if stopping {
                break;
            }
            match jobs.blocking_recv() {
                Some(job) => router.control(job, &mut active, &mut stopping),
                None => break,
            }
        }
        while active.len() < MAX_ACTIVE_JOBS {
            match jobs.try_recv() {
                Ok(job) => router.control(job, &mut active, &mut stopping),
                Err(_) => break,
            }
        }
        // One round: a slice of the job closest to done (a single event jumps ahead of
        // batches), and a slice of the oldest job (so every job keeps moving). There may
        // be no job at all: the round then does nothing (a control job woke the thread).
        let shortest = active
            .iter()
            .enumerate()
            .min_by_key(|(_, job)| job.events.len())
            .map(|(index, _)| index);
        let oldest = (!active.is_empty()).then_some(0);
        let mut turns: Vec<usize> = [shortest, oldest].into_iter().flatten().collect();
        turns.sort_unstable();
        turns.dedup();
        // The higher index first, so that removing a finished job does not move the other.
        for index in turns.into_iter().rev() {
            let Some(job) = active.get_mut(index) else {
                continue;
            };
            for _ in 0..SLICE_EVENTS {
                let Some(event) = job.events.pop_front() else {
                    break;
                };
                if let Some(position) = job.positions.pop_front() {
                    router.partitions.position = position;
                }
                let slot = Slot {
                    job: job.state.clone(),
                    index: job.routed,
                };
                job.routed += 1;
                // The answer to a request waits for the ticks of its last event: by then
                // every partition has fired what the request's events made due.
                let last = job.events.is_empty().then(|| job.state.clone());
                router.route(event, slot, last.as_ref());
            }
            if job.routed == job.total {
                active.remove(index);
                router.partitions.sync();
            }
        }
        router.note_decided();
        metrics::gauge!("probity_parked_events").set(router.sequencer.parked() as f64);
        if let Some(clock) = router.sequencer.clock() {
            let lag_ms = crate::model::time::wall_clock_now().saturating_sub(clock);
            metrics::gauge!("probity_event_clock_lag_seconds").set(lag_ms as f64 / 1000.0);
        }
    }
    router.partitions.stop();
}

/// The router thread's parts.
struct Router<'a> {
    sequencer: Sequencer,
    partitions: Partitions,
    /// The plugin set in force (its action mapping applies to decisions).
    plugins: Arc<PluginSet>,
    acks: std_mpsc::Sender<Ack>,
    health: &'a StoreHealth,
}

impl Router<'_> {
    /// Sequence one event and send it where it goes; `wait` is its request when it is
    /// the request's last event.
    fn route(&mut self, event: Event, slot: Slot, wait: Option<&Arc<JobState>>) {
        let event_id = event.event_id.clone();
        match self.sequencer.route(event) {
            Ok(Route::Evaluate(items)) => {
                let mut slot = Some(slot);
                let own = items.first().map(|routed| routed.event_seq);
                for routed in items {
                    // The first item is the event itself (then its buyer route); the
                    // rest were released by it.
                    let wait = wait.filter(|_| Some(routed.event_seq) == own);
                    self.partitions.evaluate(routed, slot.take(), wait);
                }
            }
            Ok(Route::Parked {
                seq,
                clock,
                waiting_for,
                released,
            }) => {
                // Parked, it still moved the clock: every partition hears of it.
                if let Some(job) = wait {
                    job.hold(self.partitions.queues.len());
                }
                let cause = Arc::from(event_id.as_str());
                self.partitions.tick_except(None, clock, &cause, seq, wait);
                slot.fill(EventOutcome::Parked { waiting_for });
                for routed in released {
                    self.partitions.evaluate(routed, None, None);
                }
            }
            Ok(Route::Duplicate { shard: Some(shard) }) => {
                let partition = ShardSet::partition_of(shard, self.partitions.count()) as usize;
                let seq = self.sequencer.decided();
                self.partitions.send(
                    partition,
                    seq,
                    Item::Duplicate {
                        event_id,
                        seq,
                        slot,
                    },
                );
            }
            Ok(Route::Duplicate { shard: None }) => {
                let outcome = match verdicts_of_event(self.sequencer.store().as_ref(), &event_id) {
                    Ok(verdicts) => EventOutcome::Duplicate { verdicts },
                    Err(err) => self.failed(err, &event_id),
                };
                slot.fill(outcome);
            }
            Ok(Route::Conflict { .. }) => slot.fill(EventOutcome::Conflict),
            Err(err) => {
                let outcome = self.failed(err, &event_id);
                slot.fill(outcome);
            }
        }
    }

    fn failed(&self, err: crate::store::StoreError, event_id: &str) -> EventOutcome {
        self.health.record(&err);
        tracing::error!(event_id = %event_id, error = %err, "event not logged");
        EventOutcome::Failed {
            error: err.to_string(),
        }
    }

    /// Everything up to the sequencer's decided position was sent.
    fn note_decided(&self) {
        self.partitions.progress.decided(self.sequencer.decided());
        self.sequencer
            .store()
            .note_log_applied(self.partitions.progress.applied());
    }

    /// Take one job off the channel: events join the round robin; the others run now,
    /// between two events.
    fn control(
        &mut self,
        job: Job,
        active: &mut std::collections::VecDeque<ActiveJob>,
        stopping: &mut bool,
    ) {
        match job {
            Job::Events {
                events,
                positions,
                reply,
            } => {
                let state = JobState::new(events.len(), reply, self.acks.clone());
                if events.is_empty() {
                    state.finish_empty();
                    return;
                }
                active.push_back(ActiveJob {
                    total: events.len(),
                    routed: 0,
                    events: events.into(),
                    positions: positions.into(),
                    state,
                });
            }
            Job::SetPlugins {
                plugins,
                config_digest,
                done,
            } => {
                // Every partition swaps at the same point of the log, which records it.
                let (swapped, each) = std_mpsc::channel();
                let seq = match self.sequencer.reload(&config_digest) {
                    Ok(seq) => seq,
                    Err(err) => {
                        // Not logged (the log has failed): swap all the same; the store
                        // refuses every event from now on anyway.
                        self.health.record(&err);
                        self.sequencer.decided()
                    }
                };
                self.plugins = plugins.clone();
                self.sequencer.set_buyer_routes(plugins.has_buyer_keyed());
                for partition in 0..self.partitions.queues.len() {
                    let item = Item::SetPlugins {
                        plugins: plugins.clone(),
                        seq,
                        done: swapped.clone(),
                    };
                    self.partitions.send(partition, seq, item);
                }
                drop(swapped);
                for _ in 0..self.partitions.queues.len() {
                    let _ = each.recv();
                }
                self.note_decided();
                let _ = done.send(());
            }
            Job::FollowWallClock { to } => self.follow(to),
            Job::AdvanceClock { to, position } => {
                self.partitions.position = position;
                self.advance(to);
                self.partitions.sync();
            }
            Job::Decide { request, reply } => {
                let _ = reply.send(self.decide(request));
                self.partitions.sync();
            }
            Job::PurgeLog { cutoff } => match self.sequencer.store().purge_log_before(cutoff) {
                Ok(0) => {}
                Ok(purged) => {
                    metrics::counter!("probity_event_log_purged_total").increment(purged as u64);
                    tracing::info!(purged, "purged event log entries past their retention");
                }
                Err(err) => {
                    self.health.record(&err);
                    tracing::error!(error = %err, "purging the event log failed");
                }
            },
            // Finish what is held and queued before it, then stop.
            Job::Shutdown => *stopping = true,
        }
    }

    /// Wait until every partition has done what it was sent.
    fn barrier(&self) {
        let (done, each) = std_mpsc::channel();
        let seq = self.sequencer.decided();
        for partition in 0..self.partitions.queues.len() {
            let item = Item::Barrier {
                seq,
                done: done.clone(),
            };
            self.partitions.send(partition, seq, item);
        }
        drop(done);
        for _ in 0..self.partitions.queues.len() {
            let _ = each.recv();
        }
    }

    /// A reviewer's decision: once every partition has done what it was sent, check the
    /// finding is live, log the decision, apply it, and make it durable.
    fn decide(&mut self, request: DecisionRequest) -> Result<DecisionMade, DecisionRefused> {
        self.barrier();
        let store = self.sequencer.store().clone();
        let failed = |err: crate::store::StoreError| {
            self.health.record(&err);
            DecisionRefused::Store(err.to_string())
        };
        let verdict = store
            .verdict(&request.subject)
            .map_err(failed)?
            .ok_or_else(|| {
                DecisionRefused::NoSubject(format!(
                    "no event about {} `{}` has been evaluated",
                    request.subject.kind.as_str(),
                    request.subject.id
                ))
            })?;
        if let Some(id) = &request.id
            && let Some(taken) = verdict.decisions.iter().find(|d| d.id.as_ref() == Some(id))
        {
            // Read twice from the stream: taken already.
            return Ok(DecisionMade {
                decision: taken.clone(),
                verdict,
            });
        }
        let finding = verdict
            .live_finding(&request.plugin, &request.rule, request.event_id.as_deref())
            .map_err(|err| DecisionRefused::NoSuchFinding(err.to_string()))?
            .clone();
        let mut decision = Decision {
            subject: request.subject,
            decision: request.decision,
            finding,
            note: request.note,
            reviewer: request.reviewer,
            at: self
                .sequencer
                .clock()
                .unwrap_or_else(crate::model::time::wall_clock_now),
            seq: 0,
            id: request.id,
        };
        decision.seq = self.sequencer.log_decision(&decision).map_err(failed)?;
        let mapping = *self.plugins.mapping();
        let verdict = apply_decision(
            store.as_ref(),
            self.sequencer.in_flight(),
            &mapping,
            &decision,
        )
        .map_err(failed)?
        .unwrap_or(verdict);
        store.flush().map_err(failed)?;
        self.note_decided();
        // Audited where it is taken: on the node asked, and in a cluster (where the
        // request carries its stream id) on every node.
        let trigger = if decision.id.is_some() {
            "cluster"
        } else {
            "api"
        };
        let fields = serde_json::json!({ "decision": decision });
        let reviewer = decision.reviewer.clone();
        super::audit::record_action(store.as_ref(), trigger, Some(&reviewer), "decision", fields);
        metrics::counter!("probity_decisions_total", "decision" => match decision.decision {
            DecisionKind::Confirm => "confirm",
            DecisionKind::Overturn => "overturn",
        })
        .increment(1);
        Ok(DecisionMade { decision, verdict })
    }

    /// Advance event time to the wall clock's `to` when a timer or an expiry is due by
    /// then: logged, then ticked to every partition. Lost in a crash before a flush, it
    /// is simply made again by a later tick.
    fn follow(&mut self, to: crate::model::time::Timestamp) {
        let store = self.sequencer.store().clone();
        let advanced =
            due_by(store.as_ref(), self.sequencer.clock(), to).and_then(|due| match due {
                true => self.sequencer.advance(to, "wall-clock"),
                false => Ok(None),
            });
        self.advanced(to, advanced);
    }

    /// Advance event time to `to` whatever is due (a cluster's clock advance from the
    /// stream: whether something is due depends on this node's store, which in a
    /// divided cluster lags behind the owners', so every node must take it alike).
    fn advance(&mut self, to: crate::model::time::Timestamp) {
        let advanced = self.sequencer.advance(to, "wall-clock");
        self.advanced(to, advanced);
    }

    fn advanced(
        &mut self,
        to: crate::model::time::Timestamp,
        advanced: Result<Option<(u64, Vec<Routed>)>, crate::store::StoreError>,
    ) {
        match advanced {
            Ok(Some((seq, released))) => {
                for routed in released {
                    self.partitions.evaluate(routed, None, None);
                }
                self.partitions
                    .tick_except(None, to, &Arc::from("wall-clock"), seq, None);
                metrics::counter!("probity_clock_advances_total").increment(1);
                self.note_decided();
            }
            Ok(None) => {}
            Err(err) => {
                self.health.record(&err);
                tracing::error!(error = %err, "moving event time with the wall clock failed");
            }
        }
    }
}
