//! Event time without events, and replays: clock advances (logged, so a replay repeats
//! them), catching up after a restart, and replaying the log's entries — including the
//! wall-clock deadlines the live run hit, which a replay reproduces instead of leaving
//! them to the speed of the machine it runs on.

use std::collections::HashMap;

use super::{EventReport, Pipeline, PipelineError};
use crate::model::time::Timestamp;
use crate::store::{ClockAdvanceWrite, LogEntry, TimerDeadlineHit, WriteBatch};

/// The `on-timer` attempts the live run saw hit their deadline: (plugin, key, due set by
/// the plugin, attempt) → the deadline then, in milliseconds.
pub(super) type RecordedTimerDeadlines = HashMap<(String, String, Timestamp, u32), u64>;

impl Pipeline {
    /// Put the pipeline in replay mode for the `on-timer` deadlines the live run hit (the
    /// log's [`LogEntry::TimerDeadline`] entries): those attempts fail the same way
    /// without running, and no new timer-deadline entry is logged.
    pub fn replay_timer_deadlines(&mut self, hits: impl IntoIterator<Item = TimerDeadlineHit>) {
        self.recorded_timer_deadlines = Some(
            hits.into_iter()
                .map(|hit| ((hit.plugin, hit.key, hit.due, hit.attempt), hit.limit_ms))
                .collect(),
        );
    }

    /// Bring the derived state up to the end of the event log after a restart: replay
    /// every entry after [`Store::log_applied`](crate::store::Store::log_applied) — the
    /// units a crash (or a kill) took before they were checkpointed, and any logged but
    /// not acknowledged — as [`Pipeline::replay_entry`] does. Returns how many entries
    /// were replayed. Call once after opening a store, before taking events.
    pub fn replay_log_tail(&mut self) -> Result<usize, PipelineError> {
        let from = self.store.log_applied()? + 1;
        let mut hits = Vec::new();
        for item in self.store.logged_events_from(from) {
            if let (_, LogEntry::TimerDeadline(hit)) = item? {
                hits.push(hit);
            }
        }
        self.replay_timer_deadlines(hits);
        let mut replayed = 0;
        let store = self.store.clone();
        let result = (|| {
            for item in store.logged_events_from(from) {
                let (seq, entry) = item?;
                self.replay_entry(seq, &entry)?;
                replayed += 1;
            }
            Ok(())
        })();
        // Live again: deadline hits from now on are measured and logged.
        self.recorded_timer_deadlines = None;
        result.map(|()| replayed)
    }

    /// Move the clock forward without an event (a live deployment's wall clock, or the
    /// end of an offline check) and fire what came due. The advance is appended to the
    /// event log in the same unit as the clock, so a replay repeats it at the same
    /// point. `cause` names the reason in findings' `event_id`. A time at or before the
    /// clock changes nothing.
    pub fn advance_clock(
        &mut self,
        to: Timestamp,
        cause: &str,
    ) -> Result<EventReport, PipelineError> {
        self.advance(to, cause, None)
    }

    /// Whether moving the clock to `to` would change anything: a timer would fire or a
    /// state entry expire. A live server follows the wall clock only then, so a quiet
    /// server logs no advances.
    pub fn due_by(&self, to: Timestamp) -> Result<bool, PipelineError> {
        if self.clock.is_none_or(|clock| clock >= to) {
            return Ok(false);
        }
        Ok(
            self.store.next_due_timer(to)?.is_some()
                || !self.store.expired_state(to, 1)?.is_empty(),
        )
    }

    /// Replay one entry of the log at `seq` (rebuilding the views): an event as
    /// [`Pipeline::replay`], a clock advance as it happened live. Call
    /// [`Pipeline::replay_timer_deadlines`] with the log's timer-deadline entries first.
    pub fn replay_entry(
        &mut self,
        seq: u64,
        entry: &LogEntry,
    ) -> Result<EventReport, PipelineError> {
        match entry {
            LogEntry::Event {
                event,
                deadline_hits,
            } => self.replay(seq, event, deadline_hits),
            LogEntry::ClockAdvance { to, cause } => self.advance(*to, cause, Some(seq)),
            // Read up front by `record_timer_deadlines`; the attempt it names fails when
            // its timer comes due in the replay.
            LogEntry::TimerDeadline(_) => Ok(EventReport::default()),
        }
    }

    fn advance(
        &mut self,
        to: Timestamp,
        cause: &str,
        replayed_seq: Option<u64>,
    ) -> Result<EventReport, PipelineError> {
        if self.clock.is_some_and(|clock| clock >= to) {
            return Ok(EventReport::default());
        }
        self.store.commit(WriteBatch {
            clock: Some(to),
            clock_advance: Some(ClockAdvanceWrite {
                to,
                cause: cause.to_string(),
                replayed_seq,
            }),
            ..WriteBatch::default()
        })?;
        self.clock = Some(to);
        self.run_due(to, cause)
    }

    /// Fire the timers already due at the stored clock (after a crash between an event's
    /// unit and its timers' units) and remove expired state; `cause` names the reason in
    /// findings' `event_id`. Call once after opening a store.
    pub fn catch_up(&mut self, cause: &str) -> Result<EventReport, PipelineError> {
        match self.clock {
            Some(clock) => self.run_due(clock, cause),
            None => Ok(EventReport::default()),
        }
    }

    /// Fire the timers due by `now`, each against the state of its due time, and remove
    /// the state expired at `now`.
    fn run_due(&mut self, now: Timestamp, cause: &str) -> Result<EventReport, PipelineError> {
        let (changes, timers_fired) = self.fire_due_timers(now, cause)?;
        Ok(EventReport {
            touched: Vec::new(),
            changes,
            timers_fired,
        })
    }
}
