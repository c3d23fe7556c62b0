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
//! How the router schedules requests and reaches the partitions is in
//! [`router`](super::router).

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::division::Division;
use super::division::duty::Duty;
use super::division::recording::RecordingStore;
use super::division::thread::{Share, Shares};
use super::partition::{PARTITION_QUEUE, Progress, Work, run_partition};
use super::router::{Partitions, run_router};
use crate::model::event::Event;
use crate::model::shard::ShardSet;
use crate::pipeline::{Pipeline, PluginSet};
use crate::store::{Store, StoreHealth};
use crate::verdict::Verdict;

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
    /// In a divided cluster: another node evaluates it; its outcome comes with the
    /// owner's changelog.
    Elsewhere,
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
    /// In a cluster: the event stream (NATS JetStream) did not store the events. Some may
    /// be stored; re-sending is safe (event ids make it so).
    #[error("the event stream did not store the events: {0}")]
    Stream(String),
}

pub(super) type Reply = oneshot::Sender<Result<Vec<EventOutcome>, WorkerError>>;

/// A job's reply with its outcomes, waiting for the flush that makes them durable.
pub(super) type Ack = (Reply, Vec<EventOutcome>);

pub(super) enum Job {
    Events {
        events: Vec<Event>,
        /// In a cluster, their event stream positions (empty otherwise).
        positions: Vec<u64>,
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
    /// A cluster's clock advance, at event stream `position`: taken whatever is due.
    AdvanceClock {
        to: crate::model::time::Timestamp,
        position: u64,
    },
    /// A reviewer's decision on a finding (between two events, logged).
    Decide {
        request: DecisionRequest,
        reply: oneshot::Sender<Result<DecisionMade, DecisionRefused>>,
    },
    /// Purge the event log's entries dated before `cutoff` (between two units).
    PurgeLog {
        cutoff: crate::model::time::Timestamp,
    },
    Shutdown,
}

/// A reviewer's decision, as asked for.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DecisionRequest {
    /// The subject.
    pub subject: crate::model::subject::Subject,
    /// The finding's plugin.
    pub plugin: String,
    /// The finding's rule.
    pub rule: String,
    /// The finding's event, if the reviewer names it.
    pub event_id: Option<String>,
    /// Confirm or overturn.
    pub decision: crate::verdict::DecisionKind,
    /// Why.
    pub note: String,
    /// Who.
    pub reviewer: String,
    /// In a cluster: its id in the event stream, so that a message read twice (after a
    /// crash) is taken once.
    #[serde(default)]
    pub id: Option<String>,
}

/// A decision taken, with the subject's verdict afterwards.
#[derive(Clone, Debug)]
pub struct DecisionMade {
    /// The decision as recorded.
    pub decision: crate::verdict::Decision,
    /// The verdict with it.
    pub verdict: Verdict,
}

/// Why a decision was not taken. Nothing was logged.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DecisionRefused {
    /// The subject was never seen.
    #[error("{0}")]
    NoSubject(String),
    /// It has no such live finding.
    #[error("{0}")]
    NoSuchFinding(String),
    /// The store failed.
    #[error("the decision was not recorded: {0}")]
    Store(String),
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

impl Worker {
    /// Start the router, `partitions` partition threads and the flush thread. `pipeline`
    /// is the one that replayed the log at start-up: its sequencer routes from here on.
    /// Storage faults are recorded in `health`.
    ///
    /// With `division` (a divided cluster), each partition thread serves some of the
    /// cluster's partitions, each evaluated or followed as its lease says
    /// ([`crate::service::division`]): as many threads as `partitions` allows while
    /// dividing the cluster's partition count evenly.
    pub fn start(
        mut pipeline: Pipeline,
        partitions: u16,
        queue: usize,
        health: Arc<StoreHealth>,
        division: Option<Arc<Division>>,
    ) -> std::io::Result<(Worker, WorkerThreads)> {
        let sequencer = pipeline
            .take_sequencer()
            .ok_or_else(|| std::io::Error::other("the pipeline's sequencer was taken already"))?;
        let store = pipeline.store().clone();
        let plugins = pipeline.plugins().clone();
        let count = match &division {
            Some(division) => threads_for(division.partitions(), partitions),
            None => partitions.max(1),
        };
        let progress = Arc::new(Progress::new(count as usize, sequencer.decided()));
        let mut queues = Vec::with_capacity(count as usize);
        let mut threads = Vec::with_capacity(count as usize);
        for index in 0..count {
            let work = match &division {
                Some(division) => {
                    // The cluster partitions p with p mod count = index: exactly the
                    // shards of `ShardSet::partition(index, count)`, as count divides
                    // the partition count.
                    let mut shares = Vec::new();
                    for partition in (index..division.partitions()).step_by(count as usize) {
                        let recorder = Arc::new(RecordingStore::new(store.clone()));
                        let pipeline = Pipeline::partition(
                            recorder.clone(),
                            plugins.clone(),
                            ShardSet::partition(partition, division.partitions()),
                            sequencer.in_flight().clone(),
                        )
                        .map_err(std::io::Error::other)?;
                        let duty = Duty::new(
                            division.clone(),
                            u32::from(partition),
                            recorder,
                            plugins.clone(),
                        );
                        shares.push(Share { duty, pipeline });
                    }
                    Work::Divided(Shares {
                        shares,
                        partitions: division.partitions(),
                    })
                }
                None => Work::Alone(Box::new(
                    Pipeline::partition(
                        store.clone(),
                        plugins.clone(),
                        ShardSet::partition(index, count),
                        sequencer.in_flight().clone(),
                    )
                    .map_err(std::io::Error::other)?,
                )),
            };
            let (items, item_rx) = std_mpsc::sync_channel(PARTITION_QUEUE);
            let (progress, health, store) = (progress.clone(), health.clone(), store.clone());
            threads.push(spawn_crash_only(
                format!("probity-part-{index}"),
                move || run_partition(index as usize, work, item_rx, progress, health, store),
            )?);
            queues.push(items);
        }
        let partitions = Partitions {
            queues,
            threads,
            progress,
            position: 0,
            divided: division.is_some(),
        };
        let (jobs, job_rx) = mpsc::channel(queue.max(1));
        let (acks, ack_rx) = std_mpsc::channel();
        let router_health = health.clone();
        let router_plugins = plugins.clone();
        let router = spawn_crash_only("probity-router".into(), move || {
            run_router(
                sequencer,
                partitions,
                router_plugins,
                job_rx,
                acks,
                &router_health,
            )
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
            .try_send(Job::Events {
                events,
                positions: Vec::new(),
                reply,
            })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => WorkerError::Full,
                mpsc::error::TrySendError::Closed(_) => WorkerError::ShuttingDown,
            })?;
        answer.await.map_err(|_| WorkerError::ShuttingDown)?
    }

    /// Evaluate `events`, at event stream `positions`, in order, waiting for room in the
    /// queue (a cluster's follower, which must not drop what the stream holds).
    pub async fn submit_waiting(
        &self,
        events: Vec<Event>,
        positions: Vec<u64>,
    ) -> Result<Vec<EventOutcome>, WorkerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Events {
                events,
                positions,
                reply,
            })
            .await
            .map_err(|_| WorkerError::ShuttingDown)?;
        answer.await.map_err(|_| WorkerError::ShuttingDown)?
    }

    /// Move event time to `to` (a cluster's clock advance at event stream `position`),
    /// between the jobs queued before and after it; waits for room in the queue, not for
    /// the advance.
    pub async fn advance_clock(
        &self,
        to: crate::model::time::Timestamp,
        position: u64,
    ) -> Result<(), WorkerError> {
        self.jobs
            .send(Job::AdvanceClock { to, position })
            .await
            .map_err(|_| WorkerError::ShuttingDown)
    }

    /// Take a reviewer's decision between two events: logged, applied, durable when this
    /// returns `Ok`.
    pub async fn decide(
        &self,
        request: DecisionRequest,
    ) -> Result<Result<DecisionMade, DecisionRefused>, WorkerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Decide { request, reply })
            .await
            .map_err(|_| WorkerError::ShuttingDown)?;
        answer.await.map_err(|_| WorkerError::ShuttingDown)
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

/// The most threads, at most `wanted` (and at least one), that divide `partitions`
/// evenly: a thread then serves exactly its cluster partitions' shards.
fn threads_for(partitions: u16, wanted: u16) -> u16 {
    (1..=wanted.clamp(1, partitions.max(1)))
        .rev()
        .find(|threads| partitions.is_multiple_of(*threads))
        .unwrap_or(1)
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
