//! A partition thread in a divided cluster: it serves one or more cluster partitions
//! (its *shares*), each with its own pipeline and [`Duty`], and hands every item to the
//! shares it concerns — an event to its partition's share and, as a tick, to the others;
//! a tick, a plugin-set swap or a barrier to all.
//!
//! Why several partitions per thread: a partition's items do not depend on how many
//! threads there are (each partition hears every event: its own to evaluate, the others'
//! as ticks), so a node runs as many threads as it has cores, not one per partition —
//! on two cores, sixteen threads cost a context switch per partition per event.

use std::sync::Arc;

use super::duty::{Buffered, Duty};
use crate::model::shard::ShardSet;
use crate::model::time::Timestamp;
use crate::pipeline::{Pipeline, PipelineError, PluginSet, Routed};
use crate::service::partition::{self, Item, Progress, Slot, failed, record};
use crate::service::worker::EventOutcome;
use crate::store::StoreHealth;

/// One cluster partition served by a thread.
pub(in crate::service) struct Share {
    /// What the lease says it does.
    pub(in crate::service) duty: Duty,
    /// Its pipeline (its shards only), committing through the duty's recorder.
    pub(in crate::service) pipeline: Pipeline,
}

/// A thread's shares and particulars.
pub(in crate::service) struct Shares {
    /// The shares.
    pub(in crate::service) shares: Vec<Share>,
    /// The cluster's partition count.
    pub(in crate::service) partitions: u16,
}

/// What a thread tells the caller about an item.
pub(in crate::service) struct Particulars<'a> {
    /// The thread's index.
    pub(in crate::service) index: usize,
    /// Its progress.
    pub(in crate::service) progress: &'a Progress,
    /// Where storage faults go.
    pub(in crate::service) health: &'a StoreHealth,
}

impl Shares {
    /// Between items: each share follows its lease; failures are recorded.
    pub(in crate::service) fn between(&mut self, here: &Particulars<'_>) {
        for share in &mut self.shares {
            if let Err(err) = share.duty.between(&mut share.pipeline) {
                record(&err, here.health);
                tracing::error!(partition = share.duty.partition(), error = %err, "taking the partition over failed; trying again");
            }
        }
    }

    /// The thread has nothing to do: publish what the owners kept.
    pub(in crate::service) fn idle(&mut self) {
        for share in &mut self.shares {
            share.duty.flush();
        }
    }

    /// Do one item at event stream `position`; `true` to stop.
    pub(in crate::service) fn handle(
        &mut self,
        position: u64,
        item: Item,
        here: &Particulars<'_>,
    ) -> bool {
        self.between(here);
        for share in &mut self.shares {
            share.duty.arrived(position);
        }
        let (index, progress) = (here.index, here.progress);
        match item {
            Item::Sync => {
                for share in &mut self.shares {
                    share.duty.synced(position);
                }
            }
            Item::Stop => {
                self.idle();
                return true;
            }
            Item::Duplicate {
                event_id,
                seq,
                slot,
            } => {
                let outcome = match self.shares.first() {
                    Some(share) => match share.pipeline.duplicate_verdicts(&event_id) {
                        Ok(verdicts) => EventOutcome::Duplicate { verdicts },
                        Err(err) => failed(&PipelineError::Store(err), &event_id, here.health),
                    },
                    None => EventOutcome::Conflict,
                };
                slot.fill(outcome);
                progress.finished(index, seq);
            }
            Item::Barrier { seq, done } => {
                // What comes after (a decision) must see every earlier item reflected.
                while !self
                    .shares
                    .iter()
                    .all(|s| s.duty.owns() || s.duty.caught_up())
                {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    self.between(here);
                }
                self.idle();
                progress.finished(index, seq);
                let _ = done.send(());
            }
            Item::Evaluate { routed, slot, wait } => {
                let target = u32::from(ShardSet::partition_of(routed.shard, self.partitions));
                let cause: Arc<str> = routed.event.event_id.as_str().into();
                let mut slot = slot;
                let mut ok = true;
                for share in &mut self.shares {
                    if share.duty.partition() == target {
                        ok = evaluate(share, position, &routed, slot.take(), here);
                    } else {
                        tick(share, position, routed.clock, &cause, here);
                    }
                }
                if ok {
                    progress.finished(index, routed.seq);
                }
                if let Some(job) = wait {
                    job.release();
                }
            }
            Item::Tick {
                clock,
                cause,
                seq,
                wait,
            } => {
                for share in &mut self.shares {
                    tick(share, position, clock, &cause, here);
                }
                progress.finished(index, seq);
                if let Some(job) = wait {
                    job.release();
                }
            }
            Item::SetPlugins { plugins, seq, done } => {
                for share in &mut self.shares {
                    swap(share, position, &plugins);
                }
                progress.finished(index, seq);
                let _ = done.send(());
            }
        }
        false
    }
}

/// An event of this share's partition: evaluate it (the owner) or keep it (a follower,
/// which writes only what its sequencer reads). Whether it is done.
fn evaluate(
    share: &mut Share,
    position: u64,
    routed: &Routed,
    slot: Option<Slot>,
    here: &Particulars<'_>,
) -> bool {
    let mark = share.duty.next_mark(position);
    let event_id = &routed.event.event_id;
    let (outcome, ok) = if share.duty.owns() {
        // Not done when it failed: what the unit wrote was not committed.
        let outcome = partition::evaluate(&mut share.pipeline, routed, here.health);
        share.duty.evaluated(mark);
        outcome
    } else {
        let subjects = share.duty.pending_subjects(event_id);
        let outcome = match share.pipeline.record_only(routed, subjects) {
            Ok(()) => (EventOutcome::Elsewhere, true),
            Err(err) => (failed(&err, event_id, here.health), false),
        };
        share.duty.keep(mark, Buffered::Evaluate(routed.clone()));
        outcome
    };
    partition::answer(routed, slot, outcome, None);
    ok
}

/// The clock moved: fire what came due (the owner) or keep it (a follower).
fn tick(
    share: &mut Share,
    position: u64,
    clock: Timestamp,
    cause: &Arc<str>,
    here: &Particulars<'_>,
) {
    let mark = share.duty.next_mark(position);
    if !share.duty.owns() {
        share.duty.keep(
            mark,
            Buffered::Tick {
                clock,
                cause: cause.clone(),
            },
        );
        return;
    }
    partition::fire_due(&mut share.pipeline, clock, cause, here.health);
    share.duty.evaluated(mark);
}

/// The plugin set changed.
fn swap(share: &mut Share, position: u64, plugins: &Arc<PluginSet>) {
    let mark = share.duty.next_mark(position);
    if share.duty.owns() {
        share.duty.swapped(plugins.clone());
        share.pipeline.set_plugins(plugins.clone());
        share.duty.evaluated(mark);
    } else {
        share.duty.keep(mark, Buffered::SetPlugins(plugins.clone()));
    }
}
