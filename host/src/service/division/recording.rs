//! A [`Store`] that also keeps, while asked to, a copy of every unit committed through
//! it: how a partition's owner learns what to publish to the changelog without the
//! pipeline knowing there is one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::store::{
    EventIter, EventRecord, HistoryPage, LogAppend, NamespaceFilter, PendingTimer, PluginUsage,
    StateIter, Store, StoreError, StoredValue, VerdictPage, VerdictQuery, WriteBatch,
};
use crate::verdict::{Finding, Verdict};

/// The store of one partition thread (see the module docs).
pub(crate) struct RecordingStore {
    inner: Arc<dyn Store>,
    recording: AtomicBool,
    units: Mutex<Vec<WriteBatch>>,
}

impl RecordingStore {
    /// `inner`, not recording yet.
    pub(crate) fn new(inner: Arc<dyn Store>) -> Self {
        RecordingStore {
            inner,
            recording: AtomicBool::new(false),
            units: Mutex::new(Vec::new()),
        }
    }

    /// Start or stop keeping copies of the units committed.
    pub(crate) fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::SeqCst);
    }

    /// The units committed since the last call.
    pub(crate) fn take(&self) -> Vec<WriteBatch> {
        std::mem::take(&mut *self.units.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Store for RecordingStore {
    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if !self.recording.load(Ordering::SeqCst) || batch.is_empty() {
            return self.inner.commit(batch);
        }
        let copy = batch.clone();
        self.inner.commit(batch)?;
        self.units
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(copy);
        Ok(())
    }

    fn state_get(&self, plugin: &str, key: &str) -> Result<Option<StoredValue>, StoreError> {
        self.inner.state_get(plugin, key)
    }
    fn state_scan<'a>(&'a self, plugin: &str, prefix: &str) -> StateIter<'a> {
        self.inner.state_scan(plugin, prefix)
    }
    fn timer_due(&self, plugin: &str, key: &str) -> Result<Option<Timestamp>, StoreError> {
        self.inner.timer_due(plugin, key)
    }
    fn usage(&self, plugin: &str) -> Result<PluginUsage, StoreError> {
        self.inner.usage(plugin)
    }
    fn clock(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.clock()
    }
    fn next_due_timer(
        &self,
        up_to: Timestamp,
        serves: NamespaceFilter<'_>,
    ) -> Result<Option<PendingTimer>, StoreError> {
        self.inner.next_due_timer(up_to, serves)
    }
    fn expired_state(
        &self,
        up_to: Timestamp,
        limit: usize,
        serves: NamespaceFilter<'_>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.expired_state(up_to, limit, serves)
    }
    fn seller_of(&self, reference: &str) -> Result<Option<String>, StoreError> {
        self.inner.seller_of(reference)
    }
    fn append_log(&self, record: LogAppend<'_>) -> Result<u64, StoreError> {
        self.inner.append_log(record)
    }
    fn note_log_applied(&self, seq: u64) {
        self.inner.note_log_applied(seq)
    }
    fn verdict(&self, subject: &Subject) -> Result<Option<Verdict>, StoreError> {
        self.inner.verdict(subject)
    }
    fn history(&self, subject: &Subject) -> Result<Vec<Finding>, StoreError> {
        self.inner.history(subject)
    }
    fn history_page(
        &self,
        subject: &Subject,
        after: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        self.inner.history_page(subject, after, limit)
    }
    fn flush(&self) -> Result<usize, StoreError> {
        self.inner.flush()
    }
    fn checkpoint(&self) -> Result<(), StoreError> {
        self.inner.checkpoint()
    }
    fn log_applied(&self) -> Result<u64, StoreError> {
        self.inner.log_applied()
    }
    fn logged_events_from<'a>(&'a self, from: u64) -> EventIter<'a> {
        self.inner.logged_events_from(from)
    }
    fn event_record(&self, event_id: &str) -> Result<Option<EventRecord>, StoreError> {
        self.inner.event_record(event_id)
    }
    fn query_verdicts(&self, query: &VerdictQuery) -> Result<VerdictPage, StoreError> {
        self.inner.query_verdicts(query)
    }
    fn append_audit(&self, entry: serde_json::Value) -> Result<u64, StoreError> {
        self.inner.append_audit(entry)
    }
    fn purge_log_before(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        self.inner.purge_log_before(cutoff)
    }
    fn audit(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError> {
        self.inner.audit(limit)
    }
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta(name)
    }
    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set_meta(name, value)
    }
    fn reset_derived(&self) -> Result<(), StoreError> {
        self.inner.reset_derived()
    }
}
