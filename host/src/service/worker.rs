//! The router, the partition threads and group commit.
//!
//! Requests hand their events to the **router thread** over a bounded channel and wait
//! for a reply. Acknowledging is split in three:
//!
//! 1. the router passes each event through the [`Sequencer`] — idempotency, event-time
//!    clock, seller shard — which appends it to the event log, and hands it to the
//!    **partition thread** serving its shard (`server.partitions` of them; see
//!    [`partition`](super::partition)), and a tick to the others;
//! 2. the partition evaluates it and commits its unit (staged in memory, visible at
//!    once, nothing durable yet); the last event of a request passes the request's reply
//!    on;
//! 3. the **flush thread** takes every reply that is waiting, writes and `fdatasync`s
//!    the event log's appended records with *one* sync, and only then answers the
//!    requests.
//!
//! While one sync runs the others keep working, so under load a sync covers many
//! requests (group commit). A `200` therefore always means "in the event log, on disk".
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
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::partition::{Item, JobState, PARTITION_QUEUE, Progress, Slot, run_partition};
use crate::model::event::Event;
use crate::model::shard::ShardSet;
use crate::pipeline::{Pipeline, PluginSet, Route, Routed, Sequencer, due_by, verdicts_of_event};
use crate::store::{Store, StoreHealth};
use crate::verdict::Verdict;

/// Events routed from one job before the next job's turn.
pub const SLICE_EVENTS: usize = 16;

/// Most jobs held in evaluation at once; more wait in the channel.
const MAX_ACTIVE_JOBS: usize = 1024;

/// A job being routed: its events not yet routed, how many were, and its outcomes.
struct ActiveJob {
    events: std::collections::VecDeque<Event>,
    routed: usize,
    total: usize,
    state: Arc<JobState>,
}

/// What became of one event.
#[derive(Clone, Debug)]
pub enum EventOutcome {
    /// Evaluated; the current verdicts of the subjects it touched.
    Accepted {
        /// Those verdicts.
        verdicts: Vec<Verdict>,
    },
    /// Accepted before with the same content.
    Duplicate {
        /// The current verdicts of the subjects it touched then.
        verdicts: Vec<Verdict>,
    },
    /// Accepted before with different content; nothing done.
    Conflict,
    /// Logged; evaluated once its order or complaint (`waiting_for`) is known.
    Parked {
        /// `o/<order id>` or `c/<complaint id>`.
        waiting_for: String,
    },
    /// The host failed (storage); nothing of the event was committed.
    Failed {
        /// What failed.
        error: String,
    },
}

/// The worker is gone (shutting down) or the flush failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum WorkerError {
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The job queue is full; nothing was queued.
    #[error("the pipeline's queue is full; retry after a second")]
    Full,
    /// Committed writes could not be made durable; the request may be retried (event ids
    /// make that safe).
    #[error("flushing to disk failed: {0}")]
    Flush(String),
}

pub(super) type Reply = oneshot::Sender<Result<Vec<EventOutcome>, WorkerError>>;

/// A job's reply with its outcomes, waiting for the flush that makes them durable.
pub(super) type Ack = (Reply, Vec<EventOutcome>);

enum Job {
    Events {
        events: Vec<Event>,
        reply: Reply,
    },
    SetPlugins {
        plugins: Arc<PluginSet>,
        config_digest: String,
        done: oneshot::Sender<()>,
    },
    /// Move event time to the wall clock's `to` if that makes a timer fire or state
    /// expire (see [`Pipeline::due_by`]).
    FollowWallClock {
        to: crate::model::time::Timestamp,
    },
    /// Purge the event log's entries dated before `cutoff` (between two units).
    PurgeLog {
        cutoff: crate::model::time::Timestamp,
    },
    Shutdown,
}

/// A handle to the pipeline thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct Worker {
    jobs: mpsc::Sender<Job>,
}

/// The threads behind a [`Worker`], to join at shutdown.
#[derive(Debug)]
pub struct WorkerThreads {
    router: JoinHandle<()>,
    flush: JoinHandle<()>,
}

impl WorkerThreads {
    /// Wait until every job queued before [`Worker::shutdown`] is evaluated and flushed.
    pub fn join(self) {
        let _ = self.router.join();
        let _ = self.flush.join();
    }
}

/// Run `body` on a thread named `name`; a panic there exits the process (code 70).
fn spawn_crash_only(
    name: String,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name).spawn(move || {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
            // Crash-only: a server whose router or partition is gone could only refuse
            // events from now on. Exit instead, so that a supervisor restarts it;
            // everything acknowledged is in the event log and is replayed.
            tracing::error!(
                "a pipeline thread panicked (see above); exiting so that a restart replays the event log"
            );
            std::process::exit(70);
        }
    })
}

/// The router's view of the partitions.
struct Partitions {
    queues: Vec<std_mpsc::SyncSender<Item>>,
    threads: Vec<JoinHandle<()>>,
    progress: Arc<Progress>,
}

impl Partitions {
    fn count(&self) -> u16 {
        self.queues.len() as u16
    }

    fn send(&self, partition: usize, seq: u64, item: Item) {
        self.progress.sending(partition, seq);
        if let Some(queue) = self.queues.get(partition) {
            // A partition ends only after `Stop`, which the router sends last.
            let _ = queue.send(item);
        }
    }

    /// Hand `routed` to its partition (its outcome to `slot`) and tick the others; with
    /// `wait`, that request's answer also waits for the ticks.
    fn evaluate(&self, routed: Routed, slot: Option<Slot>, wait: Option<&Arc<JobState>>) {
        let target = ShardSet::partition_of(routed.shard, self.count()) as usize;
        let (clock, seq) = (routed.clock, routed.seq);
        let cause: Arc<str> = routed.event.event_id.as_str().into();
        if let Some(job) = wait {
            // Before the event is sent: its outcome must not finish the request first.
            job.hold(self.queues.len() - 1);
        }
        self.send(target, seq, Item::Evaluate { routed, slot });
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
            let _ = queue.send(Item::Stop);
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

impl Worker {
    /// Start the router, `partitions` partition threads and the flush thread. `pipeline`
    /// is the one that replayed the log at start-up: its sequencer routes from here on.
    /// Storage faults are recorded in `health`.
    pub fn start(
        mut pipeline: Pipeline,
        partitions: u16,
        queue: usize,
        health: Arc<StoreHealth>,
    ) -> std::io::Result<(Worker, WorkerThreads)> {
        let sequencer = pipeline
            .take_sequencer()
            .ok_or_else(|| std::io::Error::other("the pipeline's sequencer was taken already"))?;
        let store = pipeline.store().clone();
        let plugins = pipeline.plugins().clone();
        let count = partitions.max(1);
        let progress = Arc::new(Progress::new(count as usize, sequencer.decided()));
        let mut queues = Vec::with_capacity(count as usize);
        let mut threads = Vec::with_capacity(count as usize);
        for index in 0..count {
            let partition = Pipeline::partition(
                store.clone(),
                plugins.clone(),
                ShardSet::partition(index, count),
                sequencer.in_flight().clone(),
            )
            .map_err(std::io::Error::other)?;
            let (items, item_rx) = std_mpsc::sync_channel(PARTITION_QUEUE);
            let (progress, health) = (progress.clone(), health.clone());
            threads.push(spawn_crash_only(
                format!("probity-part-{index}"),
                move || run_partition(index as usize, partition, item_rx, progress, health),
            )?);
            queues.push(items);
        }
        let partitions = Partitions {
            queues,
            threads,
            progress,
        };
        let (jobs, job_rx) = mpsc::channel(queue.max(1));
        let (acks, ack_rx) = std_mpsc::channel();
        let router_health = health.clone();
        let router = spawn_crash_only("probity-router".into(), move || {
            run_router(sequencer, partitions, job_rx, acks, &router_health)
        })?;
        let flush = std::thread::Builder::new()
            .name("probity-flush".into())
            .spawn(move || run_flush(store, ack_rx, &health))?;
        Ok((Worker { jobs }, WorkerThreads { router, flush }))
    }

    /// Evaluate `events` in order; answers once their writes are durable. When the queue
    /// is full it refuses at once ([`WorkerError::Full`]) rather than wait.
    pub async fn submit(&self, events: Vec<Event>) -> Result<Vec<EventOutcome>, WorkerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .try_send(Job::Events { events, reply })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => WorkerError::Full,
                mpsc::error::TrySendError::Closed(_) => WorkerError::ShuttingDown,
            })?;
        answer.await.map_err(|_| WorkerError::ShuttingDown)?
    }

    /// Ask the pipeline to move event time to the wall clock's `to` when something comes
    /// due by then. Never waits: when the queue is full the next tick tries again.
    pub fn follow_wall_clock(&self, to: crate::model::time::Timestamp) {
        let _ = self.jobs.try_send(Job::FollowWallClock { to });
    }

    /// Ask the pipeline to purge the event log's entries dated before `cutoff` (see
    /// [`Store::purge_log_before`]). Never waits: when the queue is full the next tick
    /// tries again.
    pub fn purge_log(&self, cutoff: crate::model::time::Timestamp) {
        let _ = self.jobs.try_send(Job::PurgeLog { cutoff });
    }

    /// Ask the threads to stop after what is queued now; join them with
    /// [`WorkerThreads::join`].
    pub async fn shutdown(&self) {
        let _ = self.jobs.send(Job::Shutdown).await;
    }

    /// Swap the plugin set between two events, at one point of the log (logged with the
    /// configuration's digest); returns once it is in place. Blocking: call from a
    /// blocking context (reloads run on one).
    pub fn set_plugins_blocking(
        &self,
        plugins: Arc<PluginSet>,
        config_digest: &str,
    ) -> Result<(), WorkerError> {
        let (done, swapped) = oneshot::channel();
        self.jobs
            .blocking_send(Job::SetPlugins {
                plugins,
                config_digest: config_digest.to_string(),
                done,
            })
            .map_err(|_| WorkerError::ShuttingDown)?;
        swapped
            .blocking_recv()
            .map_err(|_| WorkerError::ShuttingDown)
    }
}

fn run_router(
    sequencer: Sequencer,
    partitions: Partitions,
    mut jobs: mpsc::Receiver<Job>,
    acks: std_mpsc::Sender<Ack>,
    health: &StoreHealth,
) {
    let mut router = Router {
        sequencer,
        partitions,
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
            }
        }
        router.note_decided();
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
                let mut wait = wait;
                for routed in items {
                    // The first item is the event itself; the rest were released by it.
                    self.partitions.evaluate(routed, slot.take(), wait.take());
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
            Job::Events { events, reply } => {
                let state = JobState::new(events.len(), reply, self.acks.clone());
                if events.is_empty() {
                    state.finish_empty();
                    return;
                }
                active.push_back(ActiveJob {
                    total: events.len(),
                    routed: 0,
                    events: events.into(),
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

fn run_flush(store: Arc<dyn Store>, acks: std_mpsc::Receiver<Ack>, health: &StoreHealth) {
    while let Ok(first) = acks.recv() {
        let mut waiting = vec![first];
        waiting.extend(acks.try_iter());
        let started = Instant::now();
        let flushed = store.flush();
        metrics::histogram!("probity_store_flush_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("probity_store_flush_requests").record(waiting.len() as f64);
        let result = flushed.map(|_| ()).map_err(|err| {
            health.record(&err);
            tracing::error!(error = %err, "flush failed");
            WorkerError::Flush(err.to_string())
        });
        for (reply, outcomes) in waiting {
            let _ = reply.send(result.clone().map(|()| outcomes));
        }
    }
}
