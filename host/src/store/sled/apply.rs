//! Writing one unit of work: what [`WriteBatch`] means for each tree.
//!
//! Besides the plugin writes, verdicts and history, a unit keeps the secondary verdict
//! indexes in step (the old verdict's index entries are removed and the new one's added
//! in the same transaction) and, for an event's unit, records its id for idempotency and
//! the orders and complaints it makes known. (Log records are appended before the units
//! that apply them; the write-back records how far the log is applied.)

use sled::IVec;

use super::trees::{
    CLOCK, EVENT_IDS, HISTORY, META, REFS, SEQ, STATE, STATE_EXPIRY, TIMER_INDEX, TIMERS,
    VERDICT_INDEX, VERDICTS, decode_usage, encode_usage, read_u64, usage_key,
};
use crate::store::batch::WriteBatch;
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
        // Partitions commit concurrently: the stored clock is the furthest any reached.
        let stored = tx
            .get(META, CLOCK)?
            .and_then(|raw| <[u8; 8]>::try_from(raw.as_ref()).ok());
        if stored.is_none_or(|raw| i64::from_be_bytes(raw) < clock) {
            tx.insert(META, CLOCK, &clock.to_be_bytes()[..]);
        }
    }
    if let Some(event) = &batch.event {
        let record = EventRecord {
            seq: event.seq,
            digest: event.digest.clone(),
            subjects: event.subjects.clone(),
        };
        tx.insert(
            EVENT_IDS,
            event.event_id.as_bytes(),
            codec::encode_json(&record),
        );
    }
    for (reference, seller) in &batch.refs {
        tx.insert(REFS, reference.as_bytes(), seller.as_bytes());
    }
    Ok(())
}
