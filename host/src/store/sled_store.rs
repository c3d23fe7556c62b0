//! The sled implementation of [`Store`].
//!
//! Trees (all in one sled database, so one transaction can span them):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `state` | `plugin \0 key` | state value (version, expiry, bytes) |
//! | `state_expiry` | `expiry plugin \0 key` | empty: which entries expire when |
//! | `timers` | `due plugin \0 key` | version, payload: firing order |
//! | `timer_index` | `plugin \0 key` | due: find a plugin's timer by key |
//! | `verdicts` | subject | versioned JSON verdict |
//! | `history` | subject, seq | versioned JSON finding |
//! | `meta` | `clock`, `seq`, `schema`, `usage/<plugin>` | numbers |

use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Transactional, Tree};

use super::batch::WriteBatch;
use super::codec::{self, VALUE_VERSION};
use super::{PendingTimer, PluginUsage, StateIter, Store, StoreError, StoredValue};
use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::verdict::{Finding, Verdict};

/// The store layout version this build writes and understands.
pub const SCHEMA_VERSION: u32 = 1;

const CLOCK: &[u8] = b"clock";
const SEQ: &[u8] = b"seq";
const SCHEMA: &[u8] = b"schema";

/// Indexes into the transaction's tree list, in the order of [`SledStore::trees`].
const STATE: usize = 0;
const STATE_EXPIRY: usize = 1;
const TIMERS: usize = 2;
const TIMER_INDEX: usize = 3;
const VERDICTS: usize = 4;
const HISTORY: usize = 5;
const META: usize = 6;
const TREE_NAMES: [&str; 7] = [
    "state",
    "state_expiry",
    "timers",
    "timer_index",
    "verdicts",
    "history",
    "meta",
];

/// A [`Store`] in a sled database directory.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<Tree>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

impl SledStore {
    /// Open (or create) the store in `dir`. Refuses, without changing anything, a store
    /// that another process holds or that a newer Probity wrote.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(None)
            .open()
            .map_err(|err| match &err {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked {
                        path: dir.display().to_string(),
                    }
                }
                _ => StoreError::Sled(err),
            })?;
        let trees = TREE_NAMES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let store = SledStore { db, trees };
        store.check_schema(dir)?;
        Ok(store)
    }

    /// A store in a fresh temporary directory, removed when `dir` is dropped.
    pub fn temporary(dir: &tempfile::TempDir) -> Result<Self, StoreError> {
        Self::open(dir.path(), 64 * 1024 * 1024)
    }

    fn check_schema(&self, dir: &Path) -> Result<(), StoreError> {
        let meta = &self.trees[META];
        match meta.get(SCHEMA)? {
            None => {
                meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
                Ok(())
            }
            Some(raw) => {
                let found = u32::from_be_bytes(raw.as_ref().try_into().map_err(|_| {
                    StoreError::Corrupt {
                        tree: "meta",
                        detail: "schema version is not 4 bytes".into(),
                    }
                })?);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: dir.display().to_string(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Ok(())
            }
        }
    }

    fn tree(&self, index: usize) -> &Tree {
        &self.trees[index]
    }
}

fn read_u64(raw: Option<&[u8]>) -> u64 {
    raw.and_then(|bytes| bytes.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn usage_key(plugin: &str) -> Vec<u8> {
    let mut key = b"usage/".to_vec();
    key.extend_from_slice(plugin.as_bytes());
    key
}

fn decode_usage(raw: Option<&[u8]>) -> PluginUsage {
    match raw {
        Some(bytes) if bytes.len() == 24 => PluginUsage {
            state_bytes: read_u64(Some(&bytes[0..8])),
            state_entries: read_u64(Some(&bytes[8..16])),
            timers: read_u64(Some(&bytes[16..24])),
        },
        _ => PluginUsage::default(),
    }
}

fn encode_usage(usage: PluginUsage) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&usage.state_bytes.to_be_bytes());
    out.extend_from_slice(&usage.state_entries.to_be_bytes());
    out.extend_from_slice(&usage.timers.to_be_bytes());
    out
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// Write one unit inside a transaction over all trees.
fn apply(tx: &[TransactionalTree], batch: &WriteBatch) -> TxResult<()> {
    for (plugin, writes) in &batch.plugins {
        for (key, write) in &writes.state {
            let full = codec::plugin_key(plugin, key);
            if let Some(old) = write.old_expiry {
                tx[STATE_EXPIRY].remove(codec::timed_key(old, plugin, key))?;
            }
            match &write.new {
                Some(value) => {
                    tx[STATE].insert(full, codec::encode_state(value))?;
                    if let Some(at) = value.expires_at {
                        tx[STATE_EXPIRY].insert(codec::timed_key(at, plugin, key), &[])?;
                    }
                }
                None => {
                    tx[STATE].remove(full)?;
                }
            }
        }
        for (key, write) in &writes.timers {
            if let Some(old) = write.old_due {
                tx[TIMERS].remove(codec::timed_key(old, plugin, key))?;
            }
            let index_key = codec::plugin_key(plugin, key);
            match &write.new {
                Some((due, payload)) => {
                    let mut value = vec![VALUE_VERSION];
                    value.extend_from_slice(payload);
                    tx[TIMERS].insert(codec::timed_key(*due, plugin, key), value)?;
                    tx[TIMER_INDEX].insert(index_key, &codec::ts_key(*due))?;
                }
                None => {
                    tx[TIMER_INDEX].remove(index_key)?;
                }
            }
        }
        let key = usage_key(plugin);
        let mut usage = decode_usage(tx[META].get(&key)?.as_deref());
        let add = |base: u64, delta: i64| base.saturating_add_signed(delta);
        usage.state_bytes = add(usage.state_bytes, writes.usage.state_bytes);
        usage.state_entries = add(usage.state_entries, writes.usage.state_entries);
        usage.timers = add(usage.timers, writes.usage.timers);
        tx[META].insert(key, encode_usage(usage))?;
    }
    for verdict in &batch.verdicts {
        tx[VERDICTS].insert(
            codec::subject_key(&verdict.subject),
            codec::encode_json(verdict),
        )?;
    }
    if !batch.history.is_empty() {
        let mut seq = read_u64(tx[META].get(SEQ)?.as_deref());
        for (subject, finding) in &batch.history {
            seq += 1;
            tx[HISTORY].insert(
                codec::history_key(subject, seq),
                codec::encode_json(finding),
            )?;
        }
        tx[META].insert(SEQ, &seq.to_be_bytes())?;
    }
    if let Some(clock) = batch.clock {
        tx[META].insert(CLOCK, &clock.to_be_bytes())?;
    }
    Ok(())
}

impl Store for SledStore {
    fn state_get(&self, plugin: &str, key: &str) -> Result<Option<StoredValue>, StoreError> {
        self.tree(STATE)
            .get(codec::plugin_key(plugin, key))?
            .map(|raw| codec::decode_state(&raw))
            .transpose()
    }

    fn state_scan<'a>(&'a self, plugin: &str, prefix: &str) -> StateIter<'a> {
        let full_prefix = codec::plugin_key(plugin, prefix);
        let skip = plugin.len() + 1;
        Box::new(self.tree(STATE).scan_prefix(full_prefix).map(move |item| {
            let (key, value) = item?;
            let key = String::from_utf8(key[skip..].to_vec()).map_err(|_| StoreError::Corrupt {
                tree: "state",
                detail: "key is not UTF-8".into(),
            })?;
            Ok((key, codec::decode_state(&value)?))
        }))
    }

    fn timer_due(&self, plugin: &str, key: &str) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .tree(TIMER_INDEX)
            .get(codec::plugin_key(plugin, key))?
            .and_then(|raw| codec::ts_from_key(&raw)))
    }

    fn usage(&self, plugin: &str) -> Result<PluginUsage, StoreError> {
        Ok(decode_usage(
            self.tree(META).get(usage_key(plugin))?.as_deref(),
        ))
    }

    fn clock(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .tree(META)
            .get(CLOCK)?
            .and_then(|raw| <[u8; 8]>::try_from(raw.as_ref()).ok())
            .map(i64::from_be_bytes))
    }

    fn next_due_timer(&self, up_to: Timestamp) -> Result<Option<PendingTimer>, StoreError> {
        let Some(first) = self.tree(TIMERS).first()? else {
            return Ok(None);
        };
        let (key, value) = first;
        let (due, plugin, timer_key) =
            codec::split_timed_key(&key).ok_or_else(|| StoreError::Corrupt {
                tree: "timers",
                detail: "malformed key".into(),
            })?;
        if due > up_to {
            return Ok(None);
        }
        let payload = match value.split_first() {
            Some((&VALUE_VERSION, rest)) => rest.to_vec(),
            _ => {
                return Err(StoreError::Corrupt {
                    tree: "timers",
                    detail: "unknown value version".into(),
                });
            }
        };
        Ok(Some(PendingTimer {
            plugin,
            key: timer_key,
            due,
            payload,
        }))
    }

    fn expired_state(
        &self,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(STATE_EXPIRY).iter().take(limit) {
            let (key, _) = item?;
            match codec::split_timed_key(&key) {
                Some((at, plugin, state_key)) if at <= up_to => out.push((plugin, state_key)),
                Some(_) => break,
                None => {
                    return Err(StoreError::Corrupt {
                        tree: "state_expiry",
                        detail: "malformed key".into(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn verdict(&self, subject: &Subject) -> Result<Option<Verdict>, StoreError> {
        self.tree(VERDICTS)
            .get(codec::subject_key(subject))?
            .map(|raw| codec::decode_json("verdicts", &raw))
            .transpose()
    }

    fn history(&self, subject: &Subject) -> Result<Vec<Finding>, StoreError> {
        self.tree(HISTORY)
            .scan_prefix(codec::subject_key(subject))
            .map(|item| codec::decode_json("history", &item?.1))
            .collect()
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.trees
            .as_slice()
            .transaction(|tx| apply(tx, &batch))
            .map_err(|err| match err {
                TransactionError::Abort(err) => err,
                TransactionError::Storage(err) => StoreError::Sled(err),
            })
    }

    fn flush(&self) -> Result<usize, StoreError> {
        Ok(self.db.flush()?)
    }
}

#[cfg(test)]
mod tests;
