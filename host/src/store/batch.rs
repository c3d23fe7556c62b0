//! One unit of work: the writes an event (or a fired timer) makes, applied atomically.

use std::collections::BTreeMap;

use super::StoredValue;
use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::verdict::{Finding, Verdict};

/// Change in a plugin's usage counters caused by a unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsageDelta {
    /// Change in state bytes (keys + values).
    pub state_bytes: i64,
    /// Change in the number of state entries.
    pub state_entries: i64,
    /// Change in the number of pending timers.
    pub timers: i64,
}

impl UsageDelta {
    /// Add another delta to this one.
    pub fn add(&mut self, other: UsageDelta) {
        self.state_bytes += other.state_bytes;
        self.state_entries += other.state_entries;
        self.timers += other.timers;
    }
}

/// The writes of one successful plugin call, ready to merge into a [`WriteBatch`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PluginWrites {
    /// New values (`Some`) or deletions (`None`) by key. The old expiry is needed to
    /// remove the old expiry-index entry, so it travels along.
    pub state: BTreeMap<String, StateWrite>,
    /// Scheduled (`Some`) or cancelled (`None`) timers by key.
    pub timers: BTreeMap<String, TimerWrite>,
    /// How usage changes.
    pub usage: UsageDelta,
}

/// One state key's change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateWrite {
    /// The expiry of the value being replaced or deleted, if it had one.
    pub old_expiry: Option<Timestamp>,
    /// The new value, or `None` to delete.
    pub new: Option<StoredValue>,
}

/// One timer key's change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimerWrite {
    /// The due time of the timer being replaced or cancelled, if one was pending.
    pub old_due: Option<Timestamp>,
    /// The new `(due, payload)`, or `None` to cancel.
    #[serde(with = "hex_timer")]
    pub new: Option<(Timestamp, Vec<u8>)>,
    /// When the host defers a due timer it could not run (its plugin not loaded,
    /// quarantined or failing), what it remembers of the deferral; `None` for a timer as
    /// the plugin scheduled it.
    pub retry: Option<TimerRetry>,
}

/// A due timer the host could not run yet and has put off to a later `due`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimerRetry {
    /// The due time the plugin set, which it is shown when the timer finally runs.
    pub original_due: Timestamp,
    /// How many times it has been put off (sets the back-off).
    pub attempts: u32,
    /// How many of those were failed runs of the plugin (bounded; see the pipeline).
    pub failures: u32,
}

/// The event a unit evaluates, remembered for idempotency in the same unit, so that an
/// event is either wholly applied and recorded or neither. (Its log record was appended
/// before it was evaluated: the log comes first.)
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventLogWrite {
    /// Its id.
    pub event_id: String,
    /// SHA-256 (hex) of its pseudonymised JSON.
    pub digest: String,
    /// The subjects its evaluation touched.
    pub subjects: Vec<Subject>,
    /// Its position in the event log.
    pub seq: u64,
}

/// An `on-timer` call that hit its wall-clock deadline: logged in the unit that defers the
/// timer, so that a replay fails the same attempt the same way instead of running it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TimerDeadlineHit {
    /// The plugin.
    pub plugin: String,
    /// The timer's key.
    pub key: String,
    /// The due time the plugin set.
    pub due: Timestamp,
    /// Which attempt (0 for the first run at its due time).
    pub attempt: u32,
    /// The deadline then, in milliseconds.
    pub limit_ms: u64,
}

/// A plugin call that hit its wall-clock deadline. The deadline depends on how busy the
/// machine was, not on the event, so the log records it and a replay fails the call the
/// same way instead of running it again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineHit {
    /// The plugin.
    pub plugin: String,
    /// Its deadline then, in milliseconds.
    pub limit_ms: u64,
}

/// Everything one unit writes. Serialisable: in a cluster, a partition's owner sends its
/// units to the other nodes (the changelog, [`crate::service::division`]).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WriteBatch {
    /// Per plugin, the merged writes of its successful calls.
    pub plugins: BTreeMap<String, PluginWrites>,
    /// Verdicts to store (replacing the previous ones).
    pub verdicts: Vec<Verdict>,
    /// Findings to append to subjects' histories, in order.
    pub history: Vec<(Subject, Finding)>,
    /// The event-time clock the unit ran at (the stored clock only ever moves forward).
    pub clock: Option<Timestamp>,
    /// The event evaluated, if the unit is an event's.
    pub event: Option<EventLogWrite>,
    /// References the event makes known: an order or complaint id (as
    /// [`reference_key`](crate::store::reference_key) spells it) → its seller.
    pub refs: Vec<(String, String)>,
}

impl WriteBatch {
    /// Merge a successful call's writes. Later writes to the same key win.
    pub fn merge(&mut self, plugin: &str, writes: PluginWrites) {
        let target = self.plugins.entry(plugin.to_string()).or_default();
        for (key, write) in writes.state {
            match target.state.get_mut(&key) {
                // Keep the expiry of what is in the store, which the commit must unindex.
                Some(existing) => existing.new = write.new,
                None => {
                    target.state.insert(key, write);
                }
            }
        }
        for (key, write) in writes.timers {
            match target.timers.get_mut(&key) {
                Some(existing) => {
                    existing.new = write.new;
                    existing.retry = write.retry;
                }
                None => {
                    target.timers.insert(key, write);
                }
            }
        }
        target.usage.add(writes.usage);
    }

    /// Whether the unit writes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
            && self.verdicts.is_empty()
            && self.history.is_empty()
            && self.clock.is_none()
            && self.event.is_none()
            && self.refs.is_empty()
    }
}

/// A timer's `(due, payload)` with the payload in hex (JSON would spell each byte as a
/// number).
mod hex_timer {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::model::time::Timestamp;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<(Timestamp, Vec<u8>)>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .map(|(due, payload)| (*due, hex::encode(payload)))
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<(Timestamp, Vec<u8>)>, D::Error> {
        let value = Option::<(Timestamp, String)>::deserialize(deserializer)?;
        value
            .map(|(due, payload)| {
                hex::decode(payload)
                    .map(|bytes| (due, bytes))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}
