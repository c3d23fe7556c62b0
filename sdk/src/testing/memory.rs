//! The in-memory host behind [`Harness`](super::Harness): state, timers, clock and log
//! with the host's semantics, plus an undo journal so a failed call leaves no trace.

use std::collections::{BTreeMap, BTreeSet};

use super::{Limits, LogLine};
use crate::host::HostCalls;
use crate::prelude::{DurationMs, LogLevel, StateEntry, StateError, Timer, TimerError, Timestamp};

pub(crate) use probity_abi::{
    MAX_KEY_BYTES, MAX_LOG_LINE_BYTES, MAX_LOG_LINES_PER_CALL, MAX_PAYLOAD_BYTES, MAX_SCAN,
    MAX_VALUE_BYTES,
};

/// A stored state value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    value: Vec<u8>,
    /// Event time at which it reads as absent; `None` = never.
    expires_at: Option<Timestamp>,
}

impl Stored {
    fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// A pending timer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    due: Timestamp,
    payload: Vec<u8>,
}

/// How to undo one write of the running call.
enum Undo {
    State(String, Option<Stored>),
    Timer(String, Option<Pending>),
}

/// One plugin's host, in memory.
pub(crate) struct MemoryHost {
    settings: String,
    limits: Limits,
    clock: Timestamp,
    state: BTreeMap<String, Stored>,
    /// `(expires_at, key)` of every entry with an expiry, to purge them in time order.
    expiries: BTreeSet<(Timestamp, String)>,
    /// Sum of key and value lengths over `state`.
    state_bytes: u64,
    timers: BTreeMap<String, Pending>,
    /// `(due, key)` of every pending timer: the firing order.
    timer_queue: BTreeSet<(Timestamp, String)>,
    /// Writes of the running call, in order; `None` outside calls.
    journal: Option<Vec<Undo>>,
    logs: Vec<LogLine>,
    /// Lines logged by the running call, kept or not.
    call_log_lines: u32,
    dropped_log_lines: u64,
}

impl MemoryHost {
    pub(crate) fn new(settings: String, limits: Limits) -> Self {
        MemoryHost {
            settings,
            limits,
            clock: Timestamp::MIN,
            state: BTreeMap::new(),
            expiries: BTreeSet::new(),
            state_bytes: 0,
            timers: BTreeMap::new(),
            timer_queue: BTreeSet::new(),
            journal: None,
            logs: Vec::new(),
            call_log_lines: 0,
            dropped_log_lines: 0,
        }
    }

    pub(crate) fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn clock(&self) -> Timestamp {
        self.clock
    }

    /// Move the clock forward to `to` (never back).
    pub(crate) fn advance_clock(&mut self, to: Timestamp) {
        debug_assert!(self.journal.is_none(), "the clock moves between calls only");
        self.clock = self.clock.max(to);
    }

    /// Remove the entries that expired at or before the clock. Until then they read as
    /// absent but still count against the quota, as in the host, which removes them after
    /// each event's calls.
    pub(crate) fn remove_expired(&mut self) {
        while let Some((at, key)) = self.expiries.first().cloned() {
            if at > self.clock {
                break;
            }
            self.put_state(&key, None);
        }
    }

    /// Start recording a call's writes.
    pub(crate) fn begin_call(&mut self) {
        self.journal = Some(Vec::new());
        self.call_log_lines = 0;
    }

    /// Keep the call's writes.
    pub(crate) fn commit_call(&mut self) {
        self.journal = None;
    }

    /// Undo the call's writes, newest first.
    pub(crate) fn roll_back_call(&mut self) {
        for undo in self.journal.take().unwrap_or_default().into_iter().rev() {
            match undo {
                Undo::State(key, old) => {
                    self.put_state(&key, old);
                }
                Undo::Timer(key, old) => {
                    self.put_timer(&key, old);
                }
            }
        }
    }

    /// Remove and return the first timer due at or before the clock, outside any call.
    pub(crate) fn pop_due_timer(&mut self) -> Option<Timer> {
        let (due, key) = self.timer_queue.first().cloned()?;
        if due > self.clock {
            return None;
        }
        let pending = self.put_timer(&key, None)?;
        Some(Timer {
            key,
            due: pending.due,
            payload: pending.payload,
        })
    }

    pub(crate) fn state_entries(&self) -> Vec<StateEntry> {
        self.state
            .iter()
            .filter(|(_, stored)| stored.is_live(self.clock))
            .map(|(key, stored)| StateEntry {
                key: key.clone(),
                value: stored.value.clone(),
            })
            .collect()
    }

    pub(crate) fn state_bytes(&self) -> u64 {
        self.state_bytes
    }

    pub(crate) fn pending_timers(&self) -> Vec<Timer> {
        self.timer_queue
            .iter()
            .filter_map(|(due, key)| {
                let pending = self.timers.get(key)?;
                Some(Timer {
                    key: key.clone(),
                    due: *due,
                    payload: pending.payload.clone(),
                })
            })
            .collect()
    }

    pub(crate) fn logs(&self) -> &[LogLine] {
        &self.logs
    }

    pub(crate) fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    pub(crate) fn dropped_log_lines(&self) -> u64 {
        self.dropped_log_lines
    }

    fn live(&self, key: &str) -> Option<&Stored> {
        self.state
            .get(key)
            .filter(|stored| stored.is_live(self.clock))
    }

    fn expiry_after(&self, ttl: DurationMs) -> Timestamp {
        self.clock
            .saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX))
    }

    /// Replace the entry under `key` (keeping the byte count and expiry index right) and
    /// return the old one. Not journaled.
    fn put_state(&mut self, key: &str, new: Option<Stored>) -> Option<Stored> {
        let size = |stored: &Stored| (key.len() + stored.value.len()) as u64;
        let old = match new {
            Some(new) => {
                self.state_bytes += size(&new);
                if let Some(at) = new.expires_at {
                    self.expiries.insert((at, key.to_string()));
                }
                self.state.insert(key.to_string(), new)
            }
            None => self.state.remove(key),
        };
        if let Some(old) = &old {
            self.state_bytes -= size(old);
            if let Some(at) = old.expires_at {
                let still_indexed = self
                    .state
                    .get(key)
                    .is_some_and(|current| current.expires_at == Some(at));
                if !still_indexed {
                    self.expiries.remove(&(at, key.to_string()));
                }
            }
        }
        old
    }

    /// A journaled write, refused if it grows the state over the quota.
    fn write_state(&mut self, key: &str, new: Option<Stored>) -> Result<(), StateError> {
        let size =
            |stored: Option<&Stored>| stored.map_or(0, |s| (key.len() + s.value.len()) as u64);
        let old_size = size(self.state.get(key));
        let new_size = size(new.as_ref());
        if new_size > old_size
            && self.state_bytes - old_size + new_size > self.limits.state_quota_bytes
        {
            return Err(StateError::QuotaExceeded);
        }
        let old = self.put_state(key, new);
        if let Some(journal) = &mut self.journal {
            journal.push(Undo::State(key.to_string(), old));
        }
        Ok(())
    }

    /// Replace the timer under `key` (keeping the firing queue right) and return the old
    /// one. Not journaled.
    fn put_timer(&mut self, key: &str, new: Option<Pending>) -> Option<Pending> {
        let old = match new {
            Some(new) => {
                self.timer_queue.insert((new.due, key.to_string()));
                self.timers.insert(key.to_string(), new)
            }
            None => self.timers.remove(key),
        };
        if let Some(old) = &old {
            let still_queued = self
                .timers
                .get(key)
                .is_some_and(|current| current.due == old.due);
            if !still_queued {
                self.timer_queue.remove(&(old.due, key.to_string()));
            }
        }
        old
    }

    fn write_timer(&mut self, key: &str, new: Option<Pending>) {
        let old = self.put_timer(key, new);
        if let Some(journal) = &mut self.journal {
            journal.push(Undo::Timer(key.to_string(), old));
        }
    }
}

fn bad_key(key: &str) -> bool {
    key.is_empty() || key.len() > MAX_KEY_BYTES
}

impl HostCalls for MemoryHost {
    fn settings(&self) -> String {
        self.settings.clone()
    }

    fn now(&self) -> Timestamp {
        self.clock
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.call_log_lines = self.call_log_lines.saturating_add(1);
        if self.call_log_lines > MAX_LOG_LINES_PER_CALL {
            self.dropped_log_lines += 1;
            return;
        }
        let mut end = message.len().min(MAX_LOG_LINE_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.logs.push(LogLine {
            level,
            message: message[..end].to_string(),
        });
    }

    fn state_get(&self, key: &str) -> Option<Vec<u8>> {
        self.live(key).map(|stored| stored.value.clone())
    }

    fn state_set(
        &mut self,
        key: &str,
        value: &[u8],
        ttl: Option<DurationMs>,
    ) -> Result<(), StateError> {
        if bad_key(key) {
            return Err(StateError::BadKey);
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(StateError::ValueTooLarge);
        }
        let expires_at = ttl.map(|ttl| self.expiry_after(ttl));
        self.write_state(
            key,
            Some(Stored {
                value: value.to_vec(),
                expires_at,
            }),
        )
    }

    fn state_delete(&mut self, key: &str) -> bool {
        let was_live = self.live(key).is_some();
        if self.state.contains_key(key) {
            // Deleting never grows the state, so the quota cannot refuse it.
            let _ = self.write_state(key, None);
        }
        was_live
    }

    fn state_increment(
        &mut self,
        key: &str,
        delta: i64,
        ttl: Option<DurationMs>,
    ) -> Result<i64, StateError> {
        if bad_key(key) {
            return Err(StateError::BadKey);
        }
        let current = self.live(key);
        let value = match current {
            None => 0,
            Some(stored) => match <[u8; 8]>::try_from(stored.value.as_slice()) {
                Ok(bytes) => i64::from_le_bytes(bytes),
                Err(_) => return Err(StateError::NotACounter),
            },
        };
        let expires_at = match ttl {
            Some(ttl) => Some(self.expiry_after(ttl)),
            None => current.and_then(|stored| stored.expires_at),
        };
        let next = value.wrapping_add(delta);
        self.write_state(
            key,
            Some(Stored {
                value: next.to_le_bytes().to_vec(),
                expires_at,
            }),
        )?;
        Ok(next)
    }

    fn state_scan_prefix(&self, prefix: &str, limit: u32) -> Vec<StateEntry> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(MAX_SCAN);
        self.state
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter(|(_, stored)| stored.is_live(self.clock))
            .take(limit)
            .map(|(key, stored)| StateEntry {
                key: key.clone(),
                value: stored.value.clone(),
            })
            .collect()
    }

    fn timers_schedule(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: &[u8],
    ) -> Result<(), TimerError> {
        if bad_key(key) {
            return Err(TimerError::BadKey);
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(TimerError::PayloadTooLarge);
        }
        if !self.timers.contains_key(key)
            && u64::try_from(self.timers.len()).unwrap_or(u64::MAX) >= self.limits.timers_quota
        {
            return Err(TimerError::QuotaExceeded);
        }
        self.write_timer(
            key,
            Some(Pending {
                due,
                payload: payload.to_vec(),
            }),
        );
        Ok(())
    }

    fn timers_cancel(&mut self, key: &str) -> bool {
        let pending = self.timers.contains_key(key);
        if pending {
            self.write_timer(key, None);
        }
        pending
    }
}
