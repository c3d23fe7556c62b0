//! The sled implementation of [`Store`].
//!
//! Everything that knows about sled, in one module: the derived state the event log's
//! units produce, in trees of one sled database (the layout is in [`trees`]).
//!
//! A commit appends the unit's log records and stages its writes in memory
//! ([`overlay`], written by [`apply`], staged by [`staging`]), where reads find them at
//! once. Past a budget of staged state, the background [`writer`] (or, without one, the
//! commit itself) writes every staged unit back to the trees, atomically through a redo
//! record rather than a sled transaction ([`write_back`]); a checkpoint makes sled
//! durable ([`checkpoint`]). The audit trail and host values are written and synced on
//! their own: they are rare. sled's errors become [`StoreError`]s here and nowhere else.
//!
//! Imports among the files run one way: `mod` (the [`Store`] impl) → `staging`,
//! `checkpoint`, `purge`, `fresh_copy` → `writer` → `write_back` → `apply` → `overlay`,
//! `trees`.

mod apply;
mod checkpoint;
mod fresh_copy;
mod overlay;
mod purge;
mod staging;
mod trees;
mod write_back;
mod writer;

pub use fresh_copy::{clear_cluster_copy, exchange_dirs, rebuild_dir, remove_interrupted_rebuild};

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use sled::{IVec, Tree};

use super::batch::WriteBatch;
use super::codec;
use staging::{FirstKey, FirstKeys};

use super::{
    EventIter, EventLog, EventRecord, HistoryPage, LogAppend, LogIo, NamespaceFilter, PendingTimer,
    PluginUsage, RealIo, StateIter, Store, StoreError, StoredValue, VerdictPage, VerdictQuery,
    index,
};
use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::verdict::{Finding, Verdict};
use overlay::{Overlay, prefix_range};
pub use trees::SCHEMA_VERSION;
use trees::*;

// sled's errors stop here. Not `#[from]` on a variant: that would also chain the sled
// error as the source and print it twice.
impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        match err {
            sled::Error::Io(io) => StoreError::Io(io),
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// The default budget of changed derived state kept in memory above sled.
pub const DEFAULT_STAGED_BUDGET_BYTES: usize = 32 << 20;

/// A [`Store`] in a sled database directory.
pub struct SledStore {
    db: sled::Db,
    /// sled's directory (its files are `fsync`ed by a checkpoint).
    sled_dir: PathBuf,
    /// The event log: the source of truth.
    log: Arc<EventLog>,
    trees: Vec<Tree>,
    /// Committed units not yet written to the trees.
    overlay: RwLock<Overlay>,
    /// Held while a unit is staged: units are staged one at a time.
    staging: Mutex<()>,
    /// Held while staged units are written back: one write-back at a time.
    writing_back: Mutex<()>,
    /// The first keys of the timer and expiry trees, when known.
    first_keys: Mutex<FirstKeys>,
    /// The longest write-back so far, in microseconds.
    longest_write_back_us: std::sync::atomic::AtomicU64,
    /// The longest checkpoint so far, in microseconds.
    longest_checkpoint_us: std::sync::atomic::AtomicU64,
    /// How far the log is applied, as the pipeline last said ([`Store::note_log_applied`]).
    noted_applied: std::sync::atomic::AtomicU64,
    /// A test's crash: write-backs stop after their redo record and a partial write.
    /// The background writer's side (see [`writer`]).
    writer: Arc<writer::Writer>,
    /// Staged bytes above which a write-back is due: the budget of derived state held
    /// in memory above sled (`server.staged_state_mib`).
    staged_budget_bytes: usize,
    #[cfg(test)]
    crash_after_redo: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

impl SledStore {
    /// Open (or create) the store in the data directory `data_dir`: the event log in
    /// `data_dir/log/`, sled in `data_dir/store/`. Refuses, without changing anything, a
    /// store that another process holds or that a newer Probity wrote. A store written
    /// before the log moved out of sled has its log moved into `log/` first.
    pub fn open(data_dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with_log_io(data_dir, cache_bytes, Arc::new(RealIo))
    }

    /// [`SledStore::open`], writing and syncing the log through `io` (a test's faults).
    pub fn open_with_log_io(
        data_dir: &Path,
        cache_bytes: u64,
        io: Arc<dyn LogIo>,
    ) -> Result<Self, StoreError> {
        let sled_dir = data_dir.join("store");
        let db = Self::open_db(&sled_dir, cache_bytes)?;
        let log = Arc::new(EventLog::open_with(&data_dir.join("log"), io)?);
        let store = Self::with_parts(db, sled_dir, log)?;
        store.check_schema(data_dir)?;
        store.finish_interrupted_write_back()?;
        store.check_log(data_dir)?;
        store
            .noted_applied
            .store(store.log_applied()?, std::sync::atomic::Ordering::SeqCst);
        Ok(store)
    }

    fn open_db(sled_dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
        // sled's background threads can hold a just-dropped database of this process for
        // a moment (a reopen in the same process: a test, `probity rebuild`), so a lock
        // held is retried briefly before it is reported as another process's.
        let retry_until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            let opened = sled::Config::new()
                .path(sled_dir)
                .cache_capacity(cache_bytes)
                .flush_every_ms(None)
                .open();
            match opened {
                Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                    if std::time::Instant::now() < retry_until {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        continue;
                    }
                    return Err(StoreError::Locked {
                        path: sled_dir.display().to_string(),
                    });
                }
                other => return other.map_err(StoreError::from),
            }
        }
    }

    fn with_parts(db: sled::Db, sled_dir: PathBuf, log: Arc<EventLog>) -> Result<Self, StoreError> {
        let trees = TREE_NAMES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledStore {
            db,
            sled_dir,
            log,
            overlay: RwLock::new(Overlay::new(trees.len())),
            trees,
            staging: Mutex::new(()),
            writing_back: Mutex::new(()),
            first_keys: Mutex::new(vec![FirstKey::Unknown; TREE_NAMES.len()]),
            longest_write_back_us: Default::default(),
            longest_checkpoint_us: Default::default(),
            noted_applied: Default::default(),
            writer: Default::default(),
            staged_budget_bytes: DEFAULT_STAGED_BUDGET_BYTES,
            #[cfg(test)]
            crash_after_redo: Default::default(),
        })
    }

    /// Keep up to `bytes` of changed derived state in memory before writing it back to
    /// sled (default 32 MiB).
    pub fn with_staged_budget(mut self, bytes: usize) -> Self {
        self.staged_budget_bytes = bytes.max(1);
        self
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
                self.sync_sled()?;
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
                if found < SCHEMA_VERSION {
                    if found < 2 {
                        self.move_log_out_of_sled()?;
                    }
                    // Plugin state is kept per seller shard since schema 3: everything
                    // derived is rebuilt by replaying the whole log at the next start.
                    self.reset_derived()?;
                    tracing::warn!(
                        from = found,
                        to = SCHEMA_VERSION,
                        "the store predates seller shards: its derived state was cleared and is rebuilt from the event log now (entries purged by retention are not replayed)"
                    );
                    meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                    self.sync_sled()?;
                }
                Ok(())
            }
        }
    }

    fn tree(&self, index: usize) -> &Tree {
        &self.trees[index]
    }
}

impl Drop for SledStore {
    /// Checkpoint at close: the log synced, what is staged written to sled, sled synced,
    /// so that the next start has no log tail to replay.
    fn drop(&mut self) {
        #[cfg(test)]
        if self
            .crash_after_redo
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        if let Err(err) = self.checkpoint_now() {
            tracing::error!(error = %err, "the checkpoint at close failed; the next start replays the log's tail");
        }
    }
}

/// The key range `lower..upper`.
fn between(lower: Vec<u8>, upper: Vec<u8>) -> (Bound<IVec>, Bound<IVec>) {
    (
        Bound::Included(IVec::from(lower)),
        Bound::Excluded(IVec::from(upper)),
    )
}

impl Store for SledStore {
    fn state_get(&self, plugin: &str, key: &str) -> Result<Option<StoredValue>, StoreError> {
        self.read(STATE, &codec::plugin_key(plugin, key))?
            .map(|raw| codec::decode_state(&raw))
            .transpose()
    }

    fn state_scan<'a>(&'a self, plugin: &str, prefix: &str) -> StateIter<'a> {
        let full_prefix = codec::plugin_key(plugin, prefix);
        let skip = plugin.len() + 1;
        let range = prefix_range(&full_prefix);
        Box::new(self.entries(STATE, range, false).map(move |item| {
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
            .read(TIMER_INDEX, &codec::plugin_key(plugin, key))?
            .and_then(|raw| codec::ts_from_key(&raw)))
    }

    fn usage(&self, plugin: &str) -> Result<PluginUsage, StoreError> {
        Ok(decode_usage(
            self.read(META, &usage_key(plugin))?.as_deref(),
        ))
    }

    fn clock(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .read(META, CLOCK)?
            .and_then(|raw| <[u8; 8]>::try_from(raw.as_ref()).ok())
            .map(i64::from_be_bytes))
    }

    fn next_due_timer(
        &self,
        up_to: Timestamp,
        serves: NamespaceFilter<'_>,
    ) -> Result<Option<PendingTimer>, StoreError> {
        // The first key is kept true as units are staged (a single partition needs
        // nothing else); from it the scan walks the due timers of other partitions' shards
        // until one of ours, which are few: partitions move through the same clock.
        let Some(first) = self.first_key(TIMERS)? else {
            return Ok(None);
        };
        if codec::ts_from_key(&first).is_none_or(|due| due > up_to) {
            return Ok(None);
        }
        let from = (Bound::Included(first), Bound::Unbounded);
        for item in self.entries(TIMERS, from, false) {
            let (key, value) = item?;
            let (due, namespace, timer_key) =
                codec::split_timed_key(&key).ok_or_else(|| StoreError::Corrupt {
                    tree: "timers",
                    detail: "malformed key".into(),
                })?;
            if due > up_to {
                return Ok(None);
            }
            if !serves(&namespace) {
                continue;
            }
            let (payload, retry) = codec::decode_timer(&value)?;
            return Ok(Some(PendingTimer {
                plugin: namespace,
                key: timer_key,
                due,
                payload,
                retry,
            }));
        }
        Ok(None)
    }

    fn expired_state(
        &self,
        up_to: Timestamp,
        limit: usize,
        serves: NamespaceFilter<'_>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        let Some(first) = self.first_key(STATE_EXPIRY)? else {
            return Ok(out);
        };
        if codec::ts_from_key(&first).is_none_or(|at| at > up_to) {
            return Ok(out);
        }
        // From the first key on: the emptied leaves before it are never walked.
        let from = (Bound::Included(first), Bound::Unbounded);
        for item in self.entries(STATE_EXPIRY, from, false) {
            if out.len() == limit {
                break;
            }
            let (key, _) = item?;
            match codec::split_timed_key(&key) {
                Some((at, namespace, state_key)) if at <= up_to => {
                    if serves(&namespace) {
                        out.push((namespace, state_key));
                    }
                }
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

    fn seller_of(&self, reference: &str) -> Result<Option<String>, StoreError> {
        self.read(REFS, reference.as_bytes())?
            .map(|raw| {
                String::from_utf8(raw.to_vec()).map_err(|_| StoreError::Corrupt {
                    tree: "refs",
                    detail: "seller id is not UTF-8".into(),
                })
            })
            .transpose()
    }

    fn append_log(&self, record: LogAppend<'_>) -> Result<u64, StoreError> {
        Ok(self.log.append(&codec::encode_log_append(record))?)
    }

    fn note_log_applied(&self, seq: u64) {
        self.noted_applied
            .fetch_max(seq, std::sync::atomic::Ordering::SeqCst);
    }

    fn verdict(&self, subject: &Subject) -> Result<Option<Verdict>, StoreError> {
        self.read(VERDICTS, &codec::subject_key(subject))?
            .map(|raw| codec::decode_json("verdicts", &raw))
            .transpose()
    }

    fn history(&self, subject: &Subject) -> Result<Vec<Finding>, StoreError> {
        self.entries(HISTORY, prefix_range(&codec::subject_key(subject)), false)
            .map(|item| codec::decode_json("history", &item?.1))
            .collect()
    }

    fn history_page(
        &self,
        subject: &Subject,
        after: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let prefix = codec::subject_key(subject);
        let (lower, upper) = prefix_range(&prefix);
        let lower = match after {
            Some(seq) => Bound::Excluded(IVec::from(codec::history_key(subject, seq))),
            None => lower,
        };
        let mut page = HistoryPage::default();
        let mut last = None;
        for item in self.entries(HISTORY, (lower, upper), false) {
            let (key, value) = item?;
            if page.findings.len() == limit {
                page.next_after = last;
                break;
            }
            last = Some(read_u64(key.get(prefix.len()..)));
            page.findings.push(codec::decode_json("history", &value)?);
        }
        Ok(page)
    }

    fn event_record(&self, event_id: &str) -> Result<Option<EventRecord>, StoreError> {
        self.read(EVENT_IDS, event_id.as_bytes())?
            .map(|raw| codec::decode_json("event_ids", &raw))
            .transpose()
    }

    fn logged_events_from<'a>(&'a self, from: u64) -> EventIter<'a> {
        match self.log.read_from(from) {
            Ok(records) => Box::new(records.map(|item| {
                let (seq, payload) = item?;
                Ok((seq, codec::decode_log_entry(&payload)?))
            })),
            Err(err) => Box::new(std::iter::once(Err(err.into()))),
        }
    }

    fn log_applied(&self) -> Result<u64, StoreError> {
        Ok(read_u64(self.read(META, LOG_APPLIED)?.as_deref()))
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.checkpoint_now()
    }

    fn query_verdicts(&self, query: &VerdictQuery) -> Result<VerdictPage, StoreError> {
        let prefix_len = index::scan_prefix(query).len();
        let (lower, upper) = index::scan_range(query);
        let mut page = VerdictPage::default();
        if query.limit == 0 {
            return Ok(page);
        }
        for item in self.entries(VERDICT_INDEX, between(lower, upper), true) {
            let (key, _) = item?;
            let (subject_key, cursor) =
                index::split_entry(&key, prefix_len).ok_or_else(|| StoreError::Corrupt {
                    tree: "verdict_index",
                    detail: "short key".into(),
                })?;
            let Some(raw) = self.read(VERDICTS, subject_key)? else {
                continue;
            };
            let verdict: Verdict = codec::decode_json("verdicts", &raw)?;
            if !index::matches(query, &verdict) {
                continue;
            }
            page.verdicts.push(verdict);
            if page.verdicts.len() == query.limit {
                page.next_cursor = Some(cursor.to_vec());
                break;
            }
        }
        Ok(page)
    }

    fn append_audit(&self, mut entry: serde_json::Value) -> Result<u64, StoreError> {
        let seq = self
            .tree(META)
            .update_and_fetch(AUDIT_SEQ, |old| {
                Some((read_u64(old) + 1).to_be_bytes().to_vec())
            })?
            .map_or(1, |raw| read_u64(Some(&raw)));
        if let Some(object) = entry.as_object_mut() {
            object.insert("seq".into(), seq.into());
        }
        self.tree(AUDIT)
            .insert(seq.to_be_bytes(), codec::encode_json(&entry))?;
        self.sync_sled()?;
        Ok(seq)
    }

    fn audit(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError> {
        self.tree(AUDIT)
            .iter()
            .rev()
            .take(limit)
            .map(|item| codec::decode_json("audit", &item?.1))
            .collect()
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read(META, &host_key(name))?.map(|raw| raw.to_vec()))
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.tree(META).insert(host_key(name), value)?;
        self.sync_sled()?;
        Ok(())
    }

    fn purge_log_before(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        self.purge_log(cutoff)
    }

    fn reset_derived(&self) -> Result<(), StoreError> {
        self.write_back()?;
        for index in DERIVED {
            self.tree(index).clear()?;
        }
        let meta = self.tree(META);
        for item in meta.iter() {
            let (key, _) = item?;
            if is_derived_meta(&key) {
                meta.remove(key)?;
            }
        }
        self.forget_first_keys();
        self.sync_sled()?;
        Ok(())
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.stage(&batch)
    }

    fn flush(&self) -> Result<usize, StoreError> {
        Ok(self.log.sync()?.1)
    }
}

/// The meta key of a host value.
fn host_key(name: &str) -> Vec<u8> {
    let mut key = b"host/".to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

#[cfg(test)]
mod tests;
