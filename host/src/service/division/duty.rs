//! A partition thread's duty in a divided cluster: evaluate and publish as the owner, or
//! keep the items and follow the changelog; and the switch between the two.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::recording::RecordingStore;
use super::{Division, Mark};
use crate::cluster::changelog::Change;
use crate::model::time::Timestamp;
use crate::pipeline::{Pipeline, PipelineError, PluginSet, Routed};
use crate::service::worker::EventOutcome;
use crate::store::WriteBatch;

/// How long an owner stays silent before it publishes a watermark (followers' reads of
/// a quiet partition lag by about this much), and how often an idle thread looks at its
/// lease and the changelog.
pub(crate) const WATERMARK_EVERY: Duration = Duration::from_millis(50);

/// Most items an owner gathers in one changelog message.
const ITEMS_PER_MESSAGE: usize = 64;

/// An item a follower keeps until the changelog reflects it.
#[derive(Clone)]
pub(crate) enum Buffered {
    /// An event of the partition.
    Evaluate(Routed),
    /// The clock moved.
    Tick {
        /// To here.
        clock: Timestamp,
        /// Because of this.
        cause: Arc<str>,
    },
    /// The plugin set changed.
    SetPlugins(Arc<PluginSet>),
}

/// One partition thread's duty (see the module docs of [`super`]).
pub(crate) struct Duty {
    division: Arc<Division>,
    partition: u32,
    recorder: Arc<RecordingStore>,
    /// The epoch this thread evaluates under (0: it follows).
    active: u64,
    buffer: VecDeque<(Mark, Buffered)>,
    /// The plugin set in force at the last mark the changelog reflected.
    base_plugins: Arc<PluginSet>,
    /// The last item's mark.
    last: Option<Mark>,
    /// The last item evaluated as the owner.
    done: Option<Mark>,
    /// Every item up to this event stream position was handled.
    through: u64,
    /// Units evaluated and not published yet, by item.
    pending: Vec<(Mark, Vec<crate::store::WriteBatch>)>,
    /// What was last published, and when.
    published: (Mark, u64),
    published_at: Instant,
}

impl Duty {
    /// The duty of partition `partition`'s thread, whose pipeline commits through
    /// `recorder` and runs `plugins` now.
    pub(crate) fn new(
        division: Arc<Division>,
        partition: u32,
        recorder: Arc<RecordingStore>,
        plugins: Arc<PluginSet>,
    ) -> Self {
        Duty {
            division,
            partition,
            recorder,
            active: 0,
            buffer: VecDeque::new(),
            base_plugins: plugins,
            last: None,
            done: None,
            through: 0,
            pending: Vec::new(),
            published: (Mark::default(), 0),
            published_at: Instant::now(),
        }
    }

    /// The partition.
    pub(crate) fn partition(&self) -> u32 {
        self.partition
    }

    /// Whether this thread evaluates its partition now.
    pub(crate) fn owns(&self) -> bool {
        self.active > 0
    }

    /// The subjects the changelog already said `event_id` touched (its owner got there
    /// first).
    pub(crate) fn pending_subjects(&self, event_id: &str) -> Vec<crate::model::subject::Subject> {
        self.division.take_pending_subjects(event_id)
    }

    /// Whether every item kept was reflected by the changelog.
    pub(crate) fn caught_up(&self) -> bool {
        self.buffer.is_empty()
    }

    /// An item at event stream `position` arrived: every earlier position is done.
    pub(crate) fn arrived(&mut self, position: u64) {
        self.through = self.through.max(position.saturating_sub(1));
    }

    /// Everything up to `position` was sent (the router finished a job there).
    pub(crate) fn synced(&mut self, position: u64) {
        self.through = self.through.max(position);
    }

    /// The mark of the next item that counts (an event, a tick, a plugin-set swap).
    pub(crate) fn next_mark(&mut self, position: u64) -> Mark {
        let mark = match self.last {
            Some(last) if last.position == position => Mark {
                position,
                index: last.index + 1,
            },
            _ => Mark { position, index: 0 },
        };
        self.last = Some(mark);
        mark
    }

    /// A follower keeps an item until the changelog reflects it.
    pub(crate) fn keep(&mut self, mark: Mark, item: Buffered) {
        self.buffer.push_back((mark, item));
    }

    /// The owner evaluated the item at `mark` (or swapped plugins there): keep its
    /// units, if it wrote any, for the next changelog message.
    pub(crate) fn evaluated(&mut self, mark: Mark) {
        let units = self.recorder.take();
        if !units.is_empty() {
            self.pending.push((mark, units));
        }
        self.done = Some(mark);
        self.division
            .role(self.partition)
            .set_reflected(mark, self.through_done());
        if self.pending.len() >= ITEMS_PER_MESSAGE {
            self.flush();
        }
    }

    /// Every item up to this event stream position is evaluated: all received when
    /// none is kept, else those before the last one evaluated (a takeover's catch-up).
    fn through_done(&self) -> u64 {
        match (self.buffer.is_empty(), self.done) {
            (true, _) => self.through,
            (false, Some(done)) => done.position.saturating_sub(1),
            (false, None) => 0,
        }
    }

    /// Publish the units kept (the thread has nothing else to do, or enough of them).
    pub(crate) fn flush(&mut self) {
        if self.active == 0 || self.pending.is_empty() {
            return;
        }
        let Some(done) = self.done else {
            return;
        };
        let through = self.through_done();
        let items = std::mem::take(&mut self.pending);
        self.publish_units(done, through, &items);
    }

    /// Publish `items` (none: a watermark) as evaluated up to `done` and `through`, and
    /// reflect that here.
    fn publish_units(&mut self, done: Mark, through: u64, items: &[(Mark, Vec<WriteBatch>)]) {
        self.division.publish(
            self.partition,
            Change::Units {
                epoch: self.active,
                last: done,
                through,
                items,
            },
        );
        self.published = (done, through);
        self.published_at = Instant::now();
        self.division
            .role(self.partition)
            .set_reflected(done, through);
    }

    /// The owner swapped its plugin set: it is the base if the partition moves.
    pub(crate) fn swapped(&mut self, plugins: Arc<PluginSet>) {
        self.base_plugins = plugins;
    }

    /// Between items (and when idle): follow the lease — take over or stop — trim what
    /// the changelog reflects, and publish a watermark when one is due.
    pub(crate) fn between(&mut self, pipeline: &mut Pipeline) -> Result<(), PipelineError> {
        let role = self.division.role(self.partition);
        let desired = role.desired_now(Instant::now());
        if desired != self.active {
            if desired == 0 {
                self.flush();
                self.watermark(true);
                self.stop();
            } else {
                self.take_over(desired, pipeline)?;
            }
        }
        if self.active == 0 {
            self.trim();
        } else {
            self.watermark(false);
        }
        Ok(())
    }

    fn stop(&mut self) {
        tracing::info!(
            partition = self.partition,
            "no longer evaluating this partition"
        );
        self.active = 0;
        self.recorder.set_recording(false);
        self.division
            .role(self.partition)
            .active
            .store(0, Ordering::SeqCst);
        metrics::counter!("probity_cluster_partition_moves_total", "change" => "stopped")
            .increment(1);
    }

    /// Publish a watermark if anything was handled since the last message and it is due
    /// (or `now`).
    fn watermark(&mut self, now: bool) {
        if self.active == 0 {
            return;
        }
        let Some(done) = self.done else {
            return;
        };
        let through = self.through_done();
        let due = now || self.published_at.elapsed() >= WATERMARK_EVERY;
        if !due || (done, through) == self.published {
            return;
        }
        if !self.pending.is_empty() {
            self.flush();
            return;
        }
        self.publish_units(done, through, &[]);
    }

    /// Drop the items the changelog reflects.
    fn trim(&mut self) {
        let reflected = self.division.role(self.partition).reflected();
        while let Some((mark, _)) = self.buffer.front() {
            if *mark > reflected {
                break;
            }
            if let Some((_, Buffered::SetPlugins(plugins))) = self.buffer.pop_front() {
                self.base_plugins = plugins;
            }
        }
    }

    /// Become the owner under `epoch` (the node has applied the changelog up to its
    /// fence): evaluate every item kept after the last mark reflected, publishing as
    /// the owner, then go on live.
    fn take_over(&mut self, epoch: u64, pipeline: &mut Pipeline) -> Result<(), PipelineError> {
        let started = Instant::now();
        self.trim();
        pipeline.set_plugins(self.base_plugins.clone());
        self.active = epoch;
        self.recorder.set_recording(true);
        let role = self.division.role(self.partition);
        role.active.store(epoch, Ordering::SeqCst);
        let items = self.buffer.len();
        while let Some((mark, item)) = self.buffer.pop_front() {
            let kept = item.clone();
            let outcome = match item {
                Buffered::Evaluate(routed) => pipeline.evaluate_routed(&routed).map(|report| {
                    vec![(
                        routed.event.event_id.clone(),
                        EventOutcome::Accepted {
                            verdicts: report.touched,
                        },
                    )]
                }),
                Buffered::Tick { clock, cause } => pipeline.tick(clock, &cause).map(|_| Vec::new()),
                Buffered::SetPlugins(plugins) => {
                    pipeline.set_plugins(plugins.clone());
                    self.base_plugins = plugins;
                    Ok(Vec::new())
                }
            };
            match outcome {
                Ok(outcomes) => {
                    self.evaluated(mark);
                    self.division.deliver(outcomes);
                }
                Err(err) => {
                    // What was evaluated is published; the rest waits for the next try.
                    let _ = self.recorder.take();
                    self.buffer.push_front((mark, kept));
                    self.flush();
                    self.stop();
                    return Err(err);
                }
            }
        }
        self.flush();
        self.watermark(true);
        let took = started.elapsed();
        metrics::counter!("probity_cluster_partition_moves_total", "change" => "taken")
            .increment(1);
        metrics::histogram!("probity_cluster_takeover_seconds").record(took.as_secs_f64());
        tracing::info!(
            partition = self.partition,
            epoch,
            items,
            took_ms = took.as_millis() as u64,
            "took the partition over: evaluated the items its changelog did not reflect"
        );
        Ok(())
    }
}
