//! The partition threads: each evaluates the events of its share of the seller shards.
//!
//! The sequencer (on the worker's router thread) decides the order, the clock and the
//! shard of every event and logs it; it then hands the event to the partition that
//! serves its shard, and a *tick* with the new clock to every other partition, so that
//! each fires its own due timers on time. A partition takes its items strictly in the
//! order they were sent, so it sees its shards' events, ticks and plugin-set swaps in
//! log order — which is all its verdicts depend on (see [`crate::pipeline`]).
//!
//! **How far the log is applied.** A restart replays the log after the last position
//! whose units were all staged. With partitions running at their own pace, that is the
//! lowest of: the sequencer's last decided position (parked events hold it back) and,
//! for each partition with items still queued, the last item it finished
//! ([`Progress`]). The write-back records it, never more.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::time::Timestamp;
use crate::pipeline::{Pipeline, PipelineError, PluginSet, Routed};
use crate::store::{Store, StoreHealth};

use super::division::duty::WATERMARK_EVERY;
use super::division::thread::{Particulars, Shares};
use super::worker::{Ack, EventOutcome, Reply};

/// Items queued for one partition before the router waits.
pub const PARTITION_QUEUE: usize = 256;

/// What a partition is asked to do.
pub(super) enum Item {
    /// Evaluate a routed event; its outcome fills `slot` (none for a released event,
    /// whose request was answered when it was parked, and for a buyer route). `wait` is
    /// the request that also waits for it (a buyer route of the request's last event).
    Evaluate {
        routed: Routed,
        slot: Option<Slot>,
        wait: Option<Arc<JobState>>,
    },
    /// Answer a re-sent event whose first copy this partition is evaluating: after it.
    Duplicate {
        event_id: String,
        seq: u64,
        slot: Slot,
    },
    /// The clock moved to `clock` (log position `seq`, because of `cause`). `wait` is the
    /// request whose last event moved it: its answer waits until every partition fired
    /// what came due, so a client reads every deadline its event passed.
    Tick {
        clock: Timestamp,
        cause: Arc<str>,
        seq: u64,
        wait: Option<Arc<JobState>>,
    },
    /// Swap the plugin set (at log position `seq`); say so on `done`.
    SetPlugins {
        plugins: Arc<PluginSet>,
        seq: u64,
        done: std_mpsc::Sender<()>,
    },
    /// Say on `done` that everything sent before (up to log position `seq`) is done.
    Barrier {
        seq: u64,
        done: std_mpsc::Sender<()>,
    },
    /// In a divided cluster: everything up to the item's position was sent.
    Sync,
    /// Finish and end.
    Stop,
}

/// A request's outcomes, filled in by whichever thread evaluates each event; the last
/// one passes the reply on to the flush thread.
pub(super) struct JobState {
    outcomes: Mutex<Vec<Option<EventOutcome>>>,
    remaining: AtomicUsize,
    reply: Mutex<Option<Reply>>,
    acks: std_mpsc::Sender<Ack>,
}

impl JobState {
    pub(super) fn new(events: usize, reply: Reply, acks: std_mpsc::Sender<Ack>) -> Arc<Self> {
        Arc::new(JobState {
            outcomes: Mutex::new(vec![None; events]),
            remaining: AtomicUsize::new(events),
            reply: Mutex::new(Some(reply)),
            acks,
        })
    }

    /// Pass the reply on now (a request with no events).
    pub(super) fn finish_empty(&self) {
        self.finish();
    }

    /// Hold the reply until `count` more [`JobState::release`]s.
    pub(super) fn hold(&self, count: usize) {
        self.remaining.fetch_add(count, Ordering::SeqCst);
    }

    /// One hold ends; the last one passes the reply on.
    pub(super) fn release(&self) {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.finish();
        }
    }

    fn finish(&self) {
        let reply = self
            .reply
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let outcomes =
            std::mem::take(&mut *self.outcomes.lock().unwrap_or_else(PoisonError::into_inner));
        let outcomes = outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or(EventOutcome::Failed {
                    error: "the event was not evaluated".into(),
                })
            })
            .collect();
        if let Some(reply) = reply {
            // The flush thread is gone only at shutdown, when nobody waits any more.
            let _ = self.acks.send((reply, outcomes));
        }
    }
}

/// Where one event's outcome goes.
pub(super) struct Slot {
    pub(super) job: Arc<JobState>,
    pub(super) index: usize,
}

impl Slot {
    /// Record the outcome; the last one of the job sends the reply on.
    pub(super) fn fill(self, outcome: EventOutcome) {
        let label = match &outcome {
            EventOutcome::Accepted { .. } => "accepted",
            EventOutcome::Duplicate { .. } => "duplicate",
            EventOutcome::Conflict => "conflict",
            EventOutcome::Parked { .. } => "parked",
            EventOutcome::Failed { .. } => "failed",
            EventOutcome::Elsewhere => "elsewhere",
        };
        metrics::counter!("probity_events_total", "outcome" => label).increment(1);
        if let Some(place) = self
            .job
            .outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(self.index)
        {
            *place = Some(outcome);
        }
        self.job.release();
    }
}

/// How far each partition got, for [`Progress::applied`].
#[derive(Debug)]
pub(super) struct Progress {
    /// Per partition: the log position of the last item sent.
    sent: Vec<AtomicU64>,
    /// Per partition: the log position of the last item finished.
    done: Vec<AtomicU64>,
    /// The sequencer's last decided position.
    decided: AtomicU64,
}

impl Progress {
    pub(super) fn new(partitions: usize, decided: u64) -> Self {
        Progress {
            sent: (0..partitions).map(|_| AtomicU64::new(decided)).collect(),
            done: (0..partitions).map(|_| AtomicU64::new(decided)).collect(),
            decided: AtomicU64::new(decided),
        }
    }

    /// Record an item for `partition` at `seq`, before it is queued.
    pub(super) fn sending(&self, partition: usize, seq: u64) {
        if let Some(sent) = self.sent.get(partition) {
            sent.fetch_max(seq, Ordering::SeqCst);
        }
    }

    /// Record the sequencer's decided position, after everything up to it was sent.
    pub(super) fn decided(&self, seq: u64) {
        self.decided.store(seq, Ordering::SeqCst);
    }

    pub(super) fn finished(&self, partition: usize, seq: u64) {
        if let Some(done) = self.done.get(partition) {
            done.fetch_max(seq, Ordering::SeqCst);
        }
    }

    /// How many log positions `partition` has been sent and not finished.
    pub(super) fn behind(&self, partition: usize) -> u64 {
        match (self.sent.get(partition), self.done.get(partition)) {
            (Some(sent), Some(done)) => sent
                .load(Ordering::SeqCst)
                .saturating_sub(done.load(Ordering::SeqCst)),
            _ => 0,
        }
    }

    /// The last log position whose units are all staged (see the module docs).
    pub(super) fn applied(&self) -> u64 {
        let mut applied = self.decided.load(Ordering::SeqCst);
        for (sent, done) in self.sent.iter().zip(&self.done) {
            let sent = sent.load(Ordering::SeqCst);
            let done = done.load(Ordering::SeqCst);
            if done < sent {
                applied = applied.min(done);
            }
        }
        applied
    }
}

/// What a partition thread works on.
pub(super) enum Work {
    /// Its shards, evaluated here (a node alone).
    Alone(Box<Pipeline>),
    /// Its cluster partitions, each evaluated or followed as its lease says.
    Divided(Shares),
}

/// Run one partition thread until [`Item::Stop`] (or the router is gone).
pub(super) fn run_partition(
    index: usize,
    work: Work,
    items: std_mpsc::Receiver<(u64, Item)>,
    progress: Arc<Progress>,
    health: Arc<StoreHealth>,
    store: Arc<dyn Store>,
) {
    let label = index.to_string();
    let mut work = work;
    loop {
        let received = match &mut work {
            Work::Alone(_) => items.recv().ok(),
            Work::Divided(shares) => next_divided(shares, &items, index, &progress, &health),
        };
        let Some((position, item)) = received else {
            break;
        };
        if matches!(item, Item::Evaluate { .. }) {
            metrics::counter!("probity_partition_events_total", "partition" => label.clone())
                .increment(1);
        }
        let stop = match &mut work {
            Work::Alone(pipeline) => Here {
                index,
                progress: &progress,
                health: &health,
            }
            .handle(pipeline, item),
            Work::Divided(shares) => shares.handle(
                position,
                item,
                &Particulars {
                    index,
                    progress: &progress,
                    health: &health,
                },
            ),
        };
        if stop {
            break;
        }
        metrics::gauge!("probity_partition_lag_entries", "partition" => label.clone())
            .set(progress.behind(index) as f64);
        store.note_log_applied(progress.applied());
    }
}

/// The next item of a divided thread: when none is waiting, the owners publish what
/// they kept, and the shares follow their leases while the thread waits.
fn next_divided(
    shares: &mut Shares,
    items: &std_mpsc::Receiver<(u64, Item)>,
    index: usize,
    progress: &Progress,
    health: &StoreHealth,
) -> Option<(u64, Item)> {
    match items.try_recv() {
        Ok(item) => return Some(item),
        Err(std_mpsc::TryRecvError::Disconnected) => return None,
        Err(std_mpsc::TryRecvError::Empty) => {}
    }
    shares.idle();
    let here = Particulars {
        index,
        progress,
        health,
    };
    loop {
        shares.between(&here);
        match items.recv_timeout(WATERMARK_EVERY) {
            Ok(item) => return Some(item),
            Err(std_mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// A partition thread's own particulars.
struct Here<'a> {
    index: usize,
    progress: &'a Progress,
    health: &'a StoreHealth,
}

impl Here<'_> {
    /// Do one item; `true` to stop.
    fn handle(&self, pipeline: &mut Pipeline, item: Item) -> bool {
        let (index, progress, health) = (self.index, self.progress, self.health);
        match item {
            Item::Evaluate { routed, slot, wait } => {
                let (outcome, applied) = evaluate(pipeline, &routed, health);
                // Not marked finished when it failed: the log stays unapplied from
                // here, and a restart replays the event.
                if applied {
                    progress.finished(index, routed.seq);
                }
                answer(&routed, slot, outcome, wait);
            }
            Item::Duplicate {
                event_id,
                seq,
                slot,
            } => {
                let outcome = match pipeline.duplicate_verdicts(&event_id) {
                    Ok(verdicts) => EventOutcome::Duplicate { verdicts },
                    Err(err) => failed(&PipelineError::Store(err), &event_id, health),
                };
                slot.fill(outcome);
                progress.finished(index, seq);
            }
            Item::Tick {
                clock,
                cause,
                seq,
                wait,
            } => {
                if fire_due(pipeline, clock, &cause, health) {
                    progress.finished(index, seq);
                }
                if let Some(job) = wait {
                    job.release();
                }
            }
            Item::SetPlugins { plugins, seq, done } => {
                pipeline.set_plugins(plugins);
                progress.finished(index, seq);
                let _ = done.send(());
            }
            Item::Barrier { seq, done } => {
                progress.finished(index, seq);
                let _ = done.send(());
            }
            Item::Sync => {}
            Item::Stop => return true,
        }
        false
    }
}

/// Evaluate a routed event: its outcome, and whether its unit was applied.
pub(super) fn evaluate(
    pipeline: &mut Pipeline,
    routed: &Routed,
    health: &StoreHealth,
) -> (EventOutcome, bool) {
    match pipeline.evaluate_routed(routed) {
        Ok(report) => {
            metrics::counter!("probity_timers_fired_total").increment(report.timers_fired as u64);
            (
                EventOutcome::Accepted {
                    verdicts: report.touched,
                },
                true,
            )
        }
        Err(err) => (failed(&err, &routed.event.event_id, health), false),
    }
}

/// Fire what came due by `clock` (because of `cause`); whether that went well (a failure
/// is recorded and logged).
pub(super) fn fire_due(
    pipeline: &mut Pipeline,
    clock: Timestamp,
    cause: &str,
    health: &StoreHealth,
) -> bool {
    match pipeline.tick(clock, cause) {
        Ok(report) => {
            metrics::counter!("probity_timers_fired_total").increment(report.timers_fired as u64);
            true
        }
        Err(err) => {
            record(&err, health);
            tracing::error!(error = %err, "firing due timers failed");
            false
        }
    }
}

/// Send a routed event's outcome where it goes: its request's slot (none for a released
/// event, counted, or a buyer route); and release `wait`.
pub(super) fn answer(
    routed: &Routed,
    slot: Option<Slot>,
    outcome: EventOutcome,
    wait: Option<Arc<JobState>>,
) {
    match slot {
        Some(slot) => slot.fill(outcome),
        None if routed.buyer.is_some() => {}
        None => metrics::counter!("probity_events_released_total").increment(1),
    }
    if let Some(job) = wait {
        job.release();
    }
}

/// Record a storage fault of `err` in `health`.
pub(super) fn record(err: &PipelineError, health: &StoreHealth) {
    if let PipelineError::Store(store_err) = err {
        health.record(store_err);
    }
}

/// An event's outcome when `err` kept it from being applied (logged and recorded).
pub(super) fn failed(err: &PipelineError, event_id: &str, health: &StoreHealth) -> EventOutcome {
    record(err, health);
    tracing::error!(event_id = %event_id, error = %err, "event not applied");
    EventOutcome::Failed {
        error: err.to_string(),
    }
}
