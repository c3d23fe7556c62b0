//! Writing one unit of work: what [`WriteBatch`] means for each tree.
//!
//! Besides the plugin writes, verdicts and history, a unit keeps the secondary verdict
//! indexes in step (the old verdict's index entries are removed and the new one's added
//! in the same transaction) and, for an event's unit, appends the event to the event log
//! and records its id for idempotency. Every unit that appends to the log (or replays an
//! entry of it) records the log position it reflects, `log_applied`.

use sled::IVec;

use super::trees::{
    CLOCK, EVENT_IDS, HISTORY, LOG_APPLIED, META, SEQ, STATE, STATE_EXPIRY, TIMER_INDEX, TIMERS,
    VERDICT_INDEX, VERDICTS, decode_usage, encode_usage, read_u64, usage_key,
};
use crate::store::batch::{EventLogWrite, WriteBatch};
use crate::store::{EventRecord, StoreError, codec, index};
use crate::verdict::Verdict;

/// The unit being built: reads see its own writes first; writes stay in it until it is
/// staged whole. (Implemented by the staging's unit; a trait so that this file, which
/// says what a [`WriteBatch`] means, does not depend on how units are staged.)
pub(super) trait Unit {
    /// The current value of `key` in `tree`.
    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, StoreError>;
    /// Write `value` under `key`.
    fn insert(&mut self, tree: usize, key: impl Into<IVec>, value: impl Into<IVec>);
    /// Remove `key`.
    fn remove(&mut self, tree: usize, key: impl Into<IVec>);
    /// Append `record` to the event log with the unit; returns its log position.
    fn append_to_log(&mut self, record: Vec<u8>) -> u64;
}

/// Stage one unit's writes in `tx`.
pub(super) fn apply(tx: &mut impl Unit, batch: &WriteBatch) -> Result<(), StoreError> {
    for (plugin, writes) in &batch.plugins {
        for (key, write) in &writes.state {
            let full = codec::plugin_key(plugin, key);
            if let Some(old) = write.old_expiry {
                tx.remove(STATE_EXPIRY, codec::timed_key(old, plugin, key));
            }
            match &write.new {
                Some(value) => {
                    tx.insert(STATE, full, codec::encode_state(value));
                    if let Some(at) = value.expires_at {
                        tx.insert(
                            STATE_EXPIRY,
                            codec::timed_key(at, plugin, key),
                            IVec::default(),
                        );
                    }
                }
                None => {
                    tx.remove(STATE, full);
                }
            }
        }
        for (key, write) in &writes.timers {
            if let Some(old) = write.old_due {
                tx.remove(TIMERS, codec::timed_key(old, plugin, key));
            }
            let index_key = codec::plugin_key(plugin, key);
            match &write.new {
                Some((due, payload)) => {
                    let value = codec::encode_timer(payload, write.retry);
                    tx.insert(TIMERS, codec::timed_key(*due, plugin, key), value);
                    tx.insert(TIMER_INDEX, index_key, &codec::ts_key(*due)[..]);
                }
                None => {
                    tx.remove(TIMER_INDEX, index_key);
                }
            }
        }
        let key = usage_key(plugin);
        let mut usage = decode_usage(tx.get(META, &key)?.as_deref());
        let add = |base: u64, delta: i64| base.saturating_add_signed(delta);
        usage.state_bytes = add(usage.state_bytes, writes.usage.state_bytes);
        usage.state_entries = add(usage.state_entries, writes.usage.state_entries);
        usage.timers = add(usage.timers, writes.usage.timers);
        tx.insert(META, key, encode_usage(usage));
    }
    for verdict in &batch.verdicts {
        let key = codec::subject_key(&verdict.subject);
        if let Some(old) = tx.get(VERDICTS, &key)? {
            let old: Verdict = codec::decode_json("verdicts", &old)?;
            for index_key in index::keys(&old) {
                tx.remove(VERDICT_INDEX, index_key);
            }
        }
        for index_key in index::keys(verdict) {
            tx.insert(VERDICT_INDEX, index_key, IVec::default());
        }
        tx.insert(VERDICTS, key, codec::encode_json(verdict));
    }
    if !batch.history.is_empty() {
        let mut seq = read_u64(tx.get(META, SEQ)?.as_deref());
        for (subject, finding) in &batch.history {
            seq += 1;
            tx.insert(
                HISTORY,
                codec::history_key(subject, seq),
                codec::encode_json(finding),
            );
        }
        tx.insert(META, SEQ, &seq.to_be_bytes()[..]);
    }
    if let Some(clock) = batch.clock {
        tx.insert(META, CLOCK, &clock.to_be_bytes()[..]);
    }
    if let Some(event) = &batch.event {
        log_event(tx, event)?;
    }
    if let Some(advance) = &batch.clock_advance {
        match advance.replayed_seq {
            Some(seq) => applied(tx, seq),
            None => append_to_log(tx, codec::encode_clock_advance(advance.to, &advance.cause)),
        };
    }
    if let Some(hit) = &batch.timer_deadline {
        append_to_log(
            tx,
            codec::encode_json(&serde_json::json!({ "timer_deadline": hit })),
        );
    }
    Ok(())
}

/// Append `value` (already versioned) to the log with the unit; returns its position.
fn append_to_log(tx: &mut impl Unit, value: Vec<u8>) -> u64 {
    let seq = tx.append_to_log(value);
    applied(tx, seq)
}

/// Record that the unit reflects the log up to `seq`; returns `seq`.
fn applied(tx: &mut impl Unit, seq: u64) -> u64 {
    tx.insert(META, LOG_APPLIED, &seq.to_be_bytes()[..]);
    seq
}

/// Append the event to the log (unless replaying it) and remember its id.
fn log_event(tx: &mut impl Unit, event: &EventLogWrite) -> Result<(), StoreError> {
    let seq = match event.replayed_seq {
        Some(seq) => applied(tx, seq),
        None => append_to_log(
            tx,
            codec::encode_logged_event(&event.json, &event.deadline_hits),
        ),
    };
    let record = EventRecord {
        seq,
        digest: event.digest.clone(),
        subjects: event.subjects.clone(),
    };
    tx.insert(
        EVENT_IDS,
        event.event_id.as_bytes(),
        codec::encode_json(&record),
    );
    Ok(())
}
