//! Event time without events, and replays: clock advances (logged, so a replay repeats
//! them), catching up after a restart, and replaying the log's entries — including the
//! wall-clock deadlines the live run hit, which a replay reproduces instead of leaving
//! them to the speed of the machine it runs on.

use std::collections::HashMap;

use super::{EventReport, Pipeline, PipelineError};
use crate::model::time::Timestamp;
use crate::store::{DeadlineHit, LogEntry, NamespaceFilter, Store, StoreError, TimerDeadlineHit};

/// The `on-timer` attempts the live run saw hit their deadline: (plugin, key, due set by
/// the plugin, attempt) → the deadline then, in milliseconds.
pub(super) type RecordedTimerDeadlines = HashMap<(String, String, Timestamp, u32), u64>;

/// The calls on events the live run saw hit their deadline, by the event's position.
pub(super) type RecordedEventDeadlines = HashMap<u64, Vec<DeadlineHit>>;

/// Whether moving the clock from `clock` to `to` would change anything: a timer would
/// fire or a state entry expire. A live server follows the wall clock only then, so a
/// quiet server logs no advances.
pub fn due_by(
    store: &dyn Store,
    clock: Option<Timestamp>,
    to: Timestamp,
) -> Result<bool, StoreError> {
    if clock.is_none_or(|clock| clock >= to) {
        return Ok(false);
    }
    let every: NamespaceFilter<'_> = &|_| true;
    Ok(
        store.next_due_timer(to, every)?.is_some()
            || !store.expired_state(to, 1, every)?.is_empty(),
    )
}

impl Pipeline {
    /// Put the pipeline in replay mode for the deadlines the live run hit (the log's
    /// [`LogEntry::TimerDeadline`] and [`LogEntry::EventDeadline`] entries): those calls
    /// fail the same way without running, and no new deadline entry is logged.
    pub fn replay_deadlines(&mut self, entries: &[(u64, LogEntry)]) {
        let mut timers = RecordedTimerDeadlines::new();
        let mut events = RecordedEventDeadlines::new();
        for (seq, entry) in entries {
            match entry {
                LogEntry::TimerDeadline(hit) => {
                    let TimerDeadlineHit {
                        plugin,
                        key,
                        due,
                        attempt,
                        limit_ms,
                    } = hit.clone();
                    timers.insert((plugin, key, due, attempt), limit_ms);
                }
                LogEntry::EventDeadline { seq, hits } => {
                    events.entry(*seq).or_default().extend(hits.iter().cloned());
                }
                LogEntry::Event { deadline_hits, .. } if !deadline_hits.is_empty() => {
                    events
                        .entry(*seq)
                        .or_default()
                        .extend(deadline_hits.iter().cloned());
                }
                _ => {}
            }
        }
        self.recorded_timer_deadlines = Some(timers);
        self.recorded_event_deadlines = Some(events);
    }

    /// Live again: deadline hits from now on are measured and logged.
    pub fn end_replay(&mut self) {
        self.recorded_timer_deadlines = None;
        self.recorded_event_deadlines = None;
    }

    /// Bring the derived state up to the end of the event log after a restart: replay
    /// every entry after [`Store::log_applied`](crate::store::Store::log_applied) — the
    /// units a crash (or a kill) took before they were checkpointed, and any logged but
    /// not acknowledged — as [`Pipeline::replay_entry`] does. Returns how many entries
    /// were read. Call once after opening a store, before taking events.
    pub fn replay_log_tail(&mut self) -> Result<usize, PipelineError> {
        let from = self.store.log_applied()? + 1;
        self.replay_from(from)
    }

    /// Replay the log from position `from` (see [`Pipeline::replay_log_tail`]).
    pub fn replay_from(&mut self, from: u64) -> Result<usize, PipelineError> {
        let mut deadlines = Vec::new();
        for item in self.store.logged_events_from(from) {
            let (seq, entry) = item?;
            if is_deadline(&entry) {
                deadlines.push((seq, entry));
            }
        }
        self.replay_deadlines(&deadlines);
        let mut replayed = 0;
        let store = self.store.clone();
        let result: Result<(), PipelineError> = (|| {
            for item in store.logged_events_from(from) {
                let (seq, entry) = item?;
                self.replay_entry(seq, &entry)?;
                replayed += 1;
            }
            Ok(())
        })();
        self.end_replay();
        result?;
        // Live from here: what a crash kept parked though its order is known goes now.
        let released = self.sequencer()?.release_known()?;
        for routed in &released {
            self.evaluate_routed(routed)?;
        }
        self.note_applied();
        Ok(replayed)
    }

    /// Replay one entry of the log at `seq` (rebuilding the views) with this pipeline's
    /// sequencer: an event or release is evaluated unless its unit was applied before, a
    /// clock advance fires what came due. Call [`Pipeline::replay_deadlines`] first.
    pub fn replay_entry(
        &mut self,
        seq: u64,
        entry: &LogEntry,
    ) -> Result<EventReport, PipelineError> {
        let routed = self.sequencer()?.replay(seq, entry)?;
        let report = match (routed.is_empty(), entry) {
            (false, _) => {
                let mut report = EventReport::default();
                for (index, routed) in routed.iter().enumerate() {
                    let event_id = &routed.event.event_id;
                    let applied = match routed.buyer {
                        None => self.store.event_record(event_id)?.is_some(),
                        Some(_) => self.buyer_route_applied(event_id)?,
                    };
                    let done = match applied {
                        // Applied before the crash: only what came due after it is left.
                        true => self.tick(routed.clock, event_id)?,
                        false => self.evaluate_routed(routed)?,
                    };
                    if index == 0 {
                        report = done;
                    } else {
                        report.changes.extend(done.changes);
                        report.timers_fired += done.timers_fired;
                    }
                }
                report
            }
            (true, LogEntry::ClockAdvance { to, cause }) => self.tick(*to, cause)?,
            (true, LogEntry::Decision(decision)) => {
                self.replay_decision(seq, decision)?;
                EventReport::default()
            }
            // A parked event: it moved the clock all the same.
            (
                true,
                LogEntry::Event {
                    event,
                    routing: Some(routing),
                    ..
                },
            ) => self.tick(routing.clock, &event.event_id)?,
            (true, _) => EventReport::default(),
        };
        self.note_applied();
        Ok(report)
    }

    /// Move the clock forward without an event (a live deployment's wall clock, or the
    /// end of an offline check) and fire what came due. The advance is appended to the
    /// event log first, so a replay repeats it at the same point. `cause` names the
    /// reason in findings' `event_id`. A time at or before the clock changes nothing.
    pub fn advance_clock(
        &mut self,
        to: Timestamp,
        cause: &str,
    ) -> Result<EventReport, PipelineError> {
        let Some((_, released)) = self.sequencer()?.advance(to, cause)? else {
            return Ok(EventReport::default());
        };
        let mut report = EventReport::default();
        for routed in &released {
            let done = self.evaluate_routed(routed)?;
            report.changes.extend(done.changes);
            report.timers_fired += done.timers_fired;
        }
        let done = self.tick(to, cause)?;
        report.changes.extend(done.changes);
        report.timers_fired += done.timers_fired;
        self.note_applied();
        Ok(report)
    }

    /// Whether moving the clock to `to` would change anything (see [`due_by`]).
    pub fn due_by(&self, to: Timestamp) -> Result<bool, PipelineError> {
        Ok(due_by(self.store.as_ref(), self.clock(), to)?)
    }

    /// Fire the timers already due at the stored clock (after a crash between an event's
    /// unit and its timers' units) and remove expired state; `cause` names the reason in
    /// findings' `event_id`. Call once after opening a store.
    pub fn catch_up(&mut self, cause: &str) -> Result<EventReport, PipelineError> {
        match self.clock() {
            Some(clock) => self.tick(clock, cause),
            None => Ok(EventReport::default()),
        }
    }
}

/// Whether a log entry records a deadline hit.
fn is_deadline(entry: &LogEntry) -> bool {
    match entry {
        LogEntry::TimerDeadline(_) | LogEntry::EventDeadline { .. } => true,
        LogEntry::Event { deadline_hits, .. } => !deadline_hits.is_empty(),
        _ => false,
    }
}
