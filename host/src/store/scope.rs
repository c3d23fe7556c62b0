//! A plugin's view of its state and timers during one call.
//!
//! Reads go to the call's own writes first, then to the store; writes stay in the scope.
//! When the call succeeds, the pipeline takes the writes ([`PluginScope::into_writes`])
//! into the unit's batch; when it fails, the scope is dropped and nothing happened.
//! Quotas are checked here against the stored usage plus this call's changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::batch::{PluginWrites, StateWrite, TimerWrite};
use super::{PluginUsage, Store, StoreError, StoredValue};
use crate::model::time::Timestamp;

pub use probity_abi::{MAX_KEY_BYTES, MAX_PAYLOAD_BYTES, MAX_SCAN, MAX_VALUE_BYTES};

/// A plugin's quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginQuotas {
    /// Cap on keys + values, in bytes.
    pub state_bytes: u64,
    /// Cap on pending timers.
    pub timers: u64,
}

/// A refused state write (mirrors the WIT `state-error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Over the state quota.
    #[error("state quota exceeded")]
    QuotaExceeded,
    /// Empty or over-long key.
    #[error("bad key")]
    BadKey,
    /// Value over 64 KiB.
    #[error("value too large")]
    ValueTooLarge,
    /// `increment` on a value that is not an 8-byte counter.
    #[error("not a counter")]
    NotACounter,
}

/// A refused timer (mirrors the WIT `timer-error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    /// Over the timers quota.
    #[error("timers quota exceeded")]
    QuotaExceeded,
    /// Empty or over-long key.
    #[error("bad key")]
    BadKey,
    /// Payload over 16 KiB.
    #[error("payload too large")]
    PayloadTooLarge,
}

/// One entry returned by [`PluginScope::scan_prefix`].
pub type ScanEntry = (String, Vec<u8>);

/// A plugin's state and timers for the duration of one call.
pub struct PluginScope {
    store: Arc<dyn Store>,
    plugin: Arc<str>,
    now: Timestamp,
    quotas: PluginQuotas,
    /// Stored usage, read on the first write (calls that only read never need it).
    base: Option<PluginUsage>,
    writes: PluginWrites,
    /// What this call read from the store, by key: a key read again (a `get` before its
    /// `set`, which reads the old value for accounting) is not looked up twice.
    reads: std::cell::RefCell<std::collections::HashMap<String, Option<StoredValue>>>,
    /// Timers this call asked for and was refused for the timers quota.
    timers_refused: u32,
}

impl std::fmt::Debug for PluginScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginScope")
            .field("plugin", &self.plugin)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl PluginScope {
    /// Open a scope for `plugin` at event time `now`.
    pub fn open(
        store: Arc<dyn Store>,
        plugin: Arc<str>,
        now: Timestamp,
        quotas: PluginQuotas,
    ) -> Result<Self, StoreError> {
        Ok(PluginScope {
            store,
            plugin,
            now,
            quotas,
            base: None,
            writes: PluginWrites::default(),
            reads: Default::default(),
            timers_refused: 0,
        })
    }

    /// Open a scope that starts with `writes` already made (for example the removal of
    /// the timer being fired), so the plugin sees them and they count once.
    pub fn resume(
        store: Arc<dyn Store>,
        plugin: Arc<str>,
        now: Timestamp,
        quotas: PluginQuotas,
        writes: PluginWrites,
    ) -> Result<Self, StoreError> {
        let mut scope = Self::open(store, plugin, now, quotas)?;
        scope.writes = writes;
        Ok(scope)
    }

    /// The plugin's stored usage, read once per scope.
    fn base(&mut self) -> Result<PluginUsage, StoreError> {
        match self.base {
            Some(base) => Ok(base),
            None => {
                let base = self.store.usage(&self.plugin)?;
                self.base = Some(base);
                Ok(base)
            }
        }
    }

    /// The event time of this call.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// How many timers this call was refused for the timers quota: deadlines that will
    /// not be tracked, which the pipeline turns into a finding.
    pub fn timers_refused(&self) -> u32 {
        self.timers_refused
    }

    /// The writes made so far, to merge into the unit's batch.
    pub fn into_writes(self) -> PluginWrites {
        self.writes
    }

    /// The live value under `key`, including this call's writes.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.current(key)?.map(|value| value.bytes))
    }

    /// The live stored value and, separately, the expiry of what the store holds.
    fn current(&self, key: &str) -> Result<Option<StoredValue>, StoreError> {
        let value = match self.writes.state.get(key) {
            Some(write) => write.new.clone(),
            None => self.stored(key)?,
        };
        Ok(value.filter(|v| !v.is_expired(self.now)))
    }

    /// What the store holds under `key` (expired or not), read once per call.
    fn stored(&self, key: &str) -> Result<Option<StoredValue>, StoreError> {
        if let Some(value) = self.reads.borrow().get(key) {
            return Ok(value.clone());
        }
        let value = self.store.state_get(&self.plugin, key)?;
        self.reads
            .borrow_mut()
            .insert(key.to_string(), value.clone());
        Ok(value)
    }

    /// The raw entry (expired or not) as the store or this call has it, for accounting.
    fn raw(&self, key: &str) -> Result<Option<StoredValue>, StoreError> {
        match self.writes.state.get(key) {
            Some(write) => Ok(write.new.clone()),
            None => self.stored(key),
        }
    }

    /// Store `value` under `key`, with an optional time-to-live in event time.
    pub fn set(
        &mut self,
        key: &str,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<Result<(), StateError>, StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Ok(Err(StateError::BadKey));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Ok(Err(StateError::ValueTooLarge));
        }
        let expires_at = ttl_ms.map(|ttl| self.now.saturating_add(ttl.min(i64::MAX as u64) as i64));
        let old = self.raw(key)?;
        self.put(
            key,
            old,
            Some(StoredValue {
                bytes: value,
                expires_at,
            }),
        )
    }

    /// Remove `key`; returns whether a live value was there.
    pub fn delete(&mut self, key: &str) -> Result<bool, StoreError> {
        let old = self.raw(key)?;
        let was_live = old.as_ref().is_some_and(|v| !v.is_expired(self.now));
        if old.is_some() {
            // Deleting never grows usage, so it cannot exceed the quota.
            let _ = self.put(key, old, None)?;
        }
        Ok(was_live)
    }

    /// Add `delta` to the 8-byte little-endian counter under `key`.
    pub fn increment(
        &mut self,
        key: &str,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Result<Result<i64, StateError>, StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Ok(Err(StateError::BadKey));
        }
        let old = self.raw(key)?;
        let live = old.as_ref().filter(|v| !v.is_expired(self.now));
        let current = match live {
            None => 0,
            Some(value) => match <[u8; 8]>::try_from(value.bytes.as_slice()) {
                Ok(bytes) => i64::from_le_bytes(bytes),
                Err(_) => return Ok(Err(StateError::NotACounter)),
            },
        };
        let next = current.wrapping_add(delta);
        let expires_at = match ttl_ms {
            Some(ttl) => Some(self.now.saturating_add(ttl.min(i64::MAX as u64) as i64)),
            None => live.and_then(|v| v.expires_at),
        };
        let stored = StoredValue {
            bytes: next.to_le_bytes().to_vec(),
            expires_at,
        };
        Ok(self.put(key, old, Some(stored))?.map(|()| next))
    }

    /// Write or delete with quota accounting; `old` is what [`Self::raw`] returned.
    fn put(
        &mut self,
        key: &str,
        old: Option<StoredValue>,
        new: Option<StoredValue>,
    ) -> Result<Result<(), StateError>, StoreError> {
        let size =
            |v: &Option<StoredValue>| v.as_ref().map_or(0, |v| (key.len() + v.bytes.len()) as i64);
        let bytes_delta = size(&new) - size(&old);
        let entries_delta = i64::from(new.is_some()) - i64::from(old.is_some());
        let total = self.base()?.state_bytes as i64 + self.writes.usage.state_bytes + bytes_delta;
        if bytes_delta > 0 && total > self.quotas.state_bytes as i64 {
            return Ok(Err(StateError::QuotaExceeded));
        }
        self.writes.usage.state_bytes += bytes_delta;
        self.writes.usage.state_entries += entries_delta;
        match self.writes.state.get_mut(key) {
            Some(write) => write.new = new,
            None => {
                let old_expiry = old.and_then(|v| v.expires_at);
                self.writes
                    .state
                    .insert(key.to_string(), StateWrite { old_expiry, new });
            }
        }
        Ok(Ok(()))
    }

    /// Up to `limit` (at most 1000) live entries whose key starts with `prefix`.
    pub fn scan_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<ScanEntry>, StoreError> {
        let limit = (limit as usize).min(MAX_SCAN);
        let mine: BTreeMap<&String, &StateWrite> = self
            .writes
            .state
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .collect();
        let mut merged: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        // Each of this call's writes can hide at most one stored entry, so reading
        // `limit + mine.len()` live stored entries is always enough.
        let wanted = limit + mine.len();
        let mut live_stored = 0;
        for item in self.store.state_scan(&self.plugin, prefix) {
            let (key, value) = item?;
            if value.is_expired(self.now) {
                continue;
            }
            live_stored += 1;
            if !mine.contains_key(&key) {
                merged.insert(key, value.bytes);
            }
            if live_stored >= wanted {
                break;
            }
        }
        for (key, write) in mine {
            if let Some(value) = &write.new
                && !value.is_expired(self.now)
            {
                merged.insert(key.clone(), value.bytes.clone());
            }
        }
        Ok(merged.into_iter().take(limit).collect())
    }

    /// Schedule or re-schedule the timer `key`.
    pub fn schedule(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: Vec<u8>,
    ) -> Result<Result<(), TimerError>, StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Ok(Err(TimerError::BadKey));
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Ok(Err(TimerError::PayloadTooLarge));
        }
        let pending = self.pending_due(key)?;
        if pending.is_none() {
            let total = self.base()?.timers as i64 + self.writes.usage.timers + 1;
            if total > self.quotas.timers as i64 {
                self.timers_refused = self.timers_refused.saturating_add(1);
                return Ok(Err(TimerError::QuotaExceeded));
            }
        }
        self.write_timer(key, pending, Some((due, payload)));
        Ok(Ok(()))
    }

    /// Cancel the timer `key`; returns whether one was pending.
    pub fn cancel(&mut self, key: &str) -> Result<bool, StoreError> {
        let pending = self.pending_due(key)?;
        if pending.is_some() {
            self.write_timer(key, pending, None);
        }
        Ok(pending.is_some())
    }

    /// The due time of the pending timer `key`, including this call's writes.
    fn pending_due(&self, key: &str) -> Result<Option<Timestamp>, StoreError> {
        match self.writes.timers.get(key) {
            Some(write) => Ok(write.new.as_ref().map(|(due, _)| *due)),
            None => self.store.timer_due(&self.plugin, key),
        }
    }

    /// Record a timer change; `pending` is what [`Self::pending_due`] returned.
    fn write_timer(
        &mut self,
        key: &str,
        pending: Option<Timestamp>,
        new: Option<(Timestamp, Vec<u8>)>,
    ) {
        self.writes.usage.timers += i64::from(new.is_some()) - i64::from(pending.is_some());
        match self.writes.timers.get_mut(key) {
            Some(write) => {
                write.new = new;
                write.retry = None;
            }
            // No earlier write in this call: `pending` came from the store.
            None => {
                self.writes.timers.insert(
                    key.to_string(),
                    TimerWrite {
                        old_due: pending,
                        new,
                        retry: None,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
