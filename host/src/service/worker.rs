//! The pipeline thread and group commit.
//!
//! The [`Pipeline`] is synchronous and handles one event at a time (that order is what
//! makes replays deterministic), so it lives on a thread of its own. Requests hand it
//! jobs over a bounded channel and wait for a reply. Acknowledging is split in two:
//!
//! 1. the **pipeline thread** evaluates and commits each event of the jobs it holds as
//!    one unit (its record appended to the event log, its derived writes staged in
//!    memory and visible at once, nothing durable yet), and passes a job's reply on as
//!    soon as its last event is done;
//! 2. the **flush thread** takes every reply that is waiting, writes and `fdatasync`s
//!    the event log's appended records with *one* sync, and only then answers the
//!    requests.
//!
//! While one sync runs the pipeline thread keeps evaluating, so under load a sync covers
//! many requests (group commit) and neither thread waits for the other. A `200` therefore
//! always means "in the event log, on disk".
//!
//! **Fair scheduling.** The pipeline thread does not finish one job before it starts the
//! next: it takes every job waiting and, each round, evaluates a slice of
//! [`SLICE_EVENTS`] events of the job with the fewest events left (shortest remaining
//! first) and a slice of the oldest job. A single event that arrives while big batches are
//! being evaluated therefore waits for about one slice, not for the batches; the oldest
//! job always moves, so none starves; and batches still finish one after another, so
//! their clients send the next ones while the others are evaluated and the thread never
//! idles between them. (Plain round robin made equal batches finish together, and the
//! thread then waited for their next batches: a third less throughput.) The log records
//! the order events were evaluated in, so a replay repeats it. Plugin-set swaps
//! and the other control jobs travel the same channel and run between two events, never
//! during one.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::model::event::Event;
use crate::pipeline::PipelineError;
use crate::pipeline::{Ingested, Pipeline, PluginSet};
use crate::store::{Store, StoreHealth};
use crate::verdict::Verdict;

/// Events evaluated from one job before the next job's turn.
pub const SLICE_EVENTS: usize = 16;

/// Most jobs held in evaluation at once; more wait in the channel.
const MAX_ACTIVE_JOBS: usize = 1024;

/// A job being evaluated: its events, how far it got, and its outcomes so far.
struct ActiveJob {
    events: Vec<Event>,
    outcomes: Vec<EventOutcome>,
    reply: Reply,
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

type Reply = oneshot::Sender<Result<Vec<EventOutcome>, WorkerError>>;

/// A job's reply with its outcomes, waiting for the flush that makes them durable.
type Ack = (Reply, Vec<EventOutcome>);

enum Job {
    Events {
        events: Vec<Event>,
        reply: Reply,
    },
    SetPlugins {
        plugins: Arc<PluginSet>,
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
    pipeline: JoinHandle<()>,
    flush: JoinHandle<()>,
}

impl WorkerThreads {
    /// Wait until every job queued before [`Worker::shutdown`] is evaluated and flushed.
    pub fn join(self) {
        let _ = self.pipeline.join();
        let _ = self.flush.join();
    }
}

impl Worker {
    /// Start the pipeline and flush threads over `pipeline`; storage faults are recorded
    /// in `health`.
    pub fn start(
        pipeline: Pipeline,
        queue: usize,
        health: Arc<StoreHealth>,
    ) -> std::io::Result<(Worker, WorkerThreads)> {
        let (jobs, job_rx) = mpsc::channel(queue.max(1));
        let (acks, ack_rx) = std_mpsc::channel();
        let store = pipeline.store().clone();
        let pipeline_health = health.clone();
        let pipeline = std::thread::Builder::new()
            .name("probity-pipeline".into())
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| {
                    run_pipeline(pipeline, job_rx, acks, &pipeline_health)
                });
                if std::panic::catch_unwind(run).is_err() {
                    // Crash-only: a server whose pipeline thread is gone could only refuse
                    // events from now on. Exit instead, so that a supervisor restarts it;
                    // everything acknowledged is in the event log and is replayed.
                    tracing::error!(
                        "the pipeline thread panicked (see above); exiting so that a restart replays the event log"
                    );
                    std::process::exit(70);
                }
            })?;
        let flush = std::thread::Builder::new()
            .name("probity-flush".into())
            .spawn(move || run_flush(store, ack_rx, &health))?;
        Ok((Worker { jobs }, WorkerThreads { pipeline, flush }))
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

    /// Swap the plugin set between two events; returns once it is in place. Blocking:
    /// call from a blocking context (reloads run on one).
    pub fn set_plugins_blocking(&self, plugins: Arc<PluginSet>) -> Result<(), WorkerError> {
        let (done, swapped) = oneshot::channel();
        self.jobs
            .blocking_send(Job::SetPlugins { plugins, done })
            .map_err(|_| WorkerError::ShuttingDown)?;
        swapped
            .blocking_recv()
            .map_err(|_| WorkerError::ShuttingDown)
    }
}

fn run_pipeline(
    mut pipeline: Pipeline,
    mut jobs: mpsc::Receiver<Job>,
    acks: std_mpsc::Sender<Ack>,
    health: &StoreHealth,
) {
    let mut active: std::collections::VecDeque<ActiveJob> = std::collections::VecDeque::new();
    let mut stopping = false;
    loop {
        // Wait only when there is nothing to evaluate; otherwise take what has arrived.
        if active.is_empty() {
            if stopping {
                break;
            }
            match jobs.blocking_recv() {
                Some(job) => control(job, &mut pipeline, &mut active, &mut stopping, health),
                None => break,
            }
        }
        while active.len() < MAX_ACTIVE_JOBS {
            match jobs.try_recv() {
                Ok(job) => control(job, &mut pipeline, &mut active, &mut stopping, health),
                Err(_) => break,
            }
        }
        // One round: a slice of the job closest to done (a single event jumps ahead of
        // batches), and a slice of the oldest job (so every job keeps moving). There may
        // be no job at all: the round then does nothing (a control job woke the thread).
        let shortest = active
            .iter()
            .enumerate()
            .min_by_key(|(_, job)| job.events.len() - job.outcomes.len())
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
            let start = job.outcomes.len();
            let end = (start + SLICE_EVENTS).min(job.events.len());
            for event in &job.events[start..end] {
                job.outcomes.push(evaluate(&mut pipeline, event, health));
            }
            if job.outcomes.len() == job.events.len() {
                let Some(job) = active.remove(index) else {
                    continue;
                };
                if acks.send((job.reply, job.outcomes)).is_err() {
                    // The flush thread is gone: nothing can be acknowledged any more.
                    return;
                }
            }
        }
        if let Some(clock) = pipeline.clock() {
            let lag_ms = crate::model::time::wall_clock_now().saturating_sub(clock);
            metrics::gauge!("probity_event_clock_lag_seconds").set(lag_ms as f64 / 1000.0);
        }
    }
}

/// Take one job off the channel: events join the round robin; the others run now,
/// between two events.
fn control(
    job: Job,
    pipeline: &mut Pipeline,
    active: &mut std::collections::VecDeque<ActiveJob>,
    stopping: &mut bool,
    health: &StoreHealth,
) {
    match job {
        Job::Events { events, reply } => active.push_back(ActiveJob {
            outcomes: Vec::with_capacity(events.len()),
            events,
            reply,
        }),
        Job::SetPlugins { plugins, done } => {
            pipeline.set_plugins(plugins);
            let _ = done.send(());
        }
        Job::FollowWallClock { to } => follow(pipeline, to, health),
        Job::PurgeLog { cutoff } => match pipeline.store().purge_log_before(cutoff) {
            Ok(0) => {}
            Ok(purged) => {
                metrics::counter!("probity_event_log_purged_total").increment(purged as u64);
                tracing::info!(purged, "purged event log entries past their retention");
            }
            Err(err) => {
                health.record(&err);
                tracing::error!(error = %err, "purging the event log failed");
            }
        },
        // Finish what is held and queued before it, then stop.
        Job::Shutdown => *stopping = true,
    }
}

/// Advance event time to the wall clock's `to` when a timer or an expiry is due by then.
/// The advance is logged with its effects in one unit, made durable by the next flush;
/// lost in a crash, it is simply made again by a later tick.
fn follow(pipeline: &mut Pipeline, to: crate::model::time::Timestamp, health: &StoreHealth) {
    let advanced = pipeline.due_by(to).and_then(|due| match due {
        true => pipeline.advance_clock(to, "wall-clock").map(Some),
        false => Ok(None),
    });
    match advanced {
        Ok(Some(report)) => {
            metrics::counter!("probity_timers_fired_total").increment(report.timers_fired as u64);
            metrics::counter!("probity_clock_advances_total").increment(1);
        }
        Ok(None) => {}
        Err(err) => {
            if let PipelineError::Store(store_err) = &err {
                health.record(store_err);
            }
            tracing::error!(error = %err, "moving event time with the wall clock failed");
        }
    }
}

fn evaluate(pipeline: &mut Pipeline, event: &Event, health: &StoreHealth) -> EventOutcome {
    let outcome = match pipeline.ingest(event) {
        Ok(Ingested::Accepted(report)) => {
            metrics::counter!("probity_timers_fired_total").increment(report.timers_fired as u64);
            EventOutcome::Accepted {
                verdicts: report.touched,
            }
        }
        Ok(Ingested::Duplicate { verdicts }) => EventOutcome::Duplicate { verdicts },
        Ok(Ingested::Conflict { .. }) => EventOutcome::Conflict,
        Err(err) => {
            if let PipelineError::Store(store_err) = &err {
                health.record(store_err);
            }
            tracing::error!(event_id = %event.event_id, error = %err, "event not applied");
            EventOutcome::Failed {
                error: err.to_string(),
            }
        }
    };
    let label = match &outcome {
        EventOutcome::Accepted { .. } => "accepted",
        EventOutcome::Duplicate { .. } => "duplicate",
        EventOutcome::Conflict => "conflict",
        EventOutcome::Failed { .. } => "failed",
    };
    metrics::counter!("probity_events_total", "outcome" => label).increment(1);
    outcome
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
