//! The background writer: write-backs off the threads that evaluate events.
//!
//! Why: a write-back of a few hundred units takes tens of milliseconds, and most of it
//! is sled's own work and two flushes that wait for the disk. Done by the partition
//! whose commit crossed the threshold, it stopped that partition's evaluation for as
//! long. With a writer started ([`SledStore::start_writer`], by `probity serve`), a
//! commit over the **staged-state budget** only wakes the writer, and the partition goes
//! on; the staged units stay in memory, served from the overlay, until they are written.
//! Only past four times the budget (a writer that cannot keep up) does a commit write
//! back itself, which waits for the writer's write-back in progress: memory stays
//! bounded. Without a writer (a replay, `probity check`, the tests' in-process
//! pipelines) commits write back themselves, as before.
//!
//! A write-back that fails in the writer is reported by the next commit, so the
//! partition records the storage fault as if its own write had failed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use super::SledStore;
use crate::store::StoreError;

/// How often an idle writer checks whether its store is still there.
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// The writer's side of a store: its wake-up and what went wrong.
#[derive(Debug, Default)]
pub(super) struct Writer {
    /// Whether a write-back is wanted; the writer waits on `wake` for it.
    wanted: Mutex<bool>,
    wake: Condvar,
    /// Whether a writer thread runs for this store.
    running: std::sync::atomic::AtomicBool,
    /// The writer's first failed write-back, reported by every later commit.
    failed: OnceLock<Failure>,
}

/// A failed write-back, kept so that every later commit can report it as it was (a
/// full disk stays a full disk: `507`, not a generic storage failure).
#[derive(Debug)]
struct Failure {
    /// The I/O error's kind, when the failure was one.
    io_kind: Option<std::io::ErrorKind>,
    message: String,
}

impl Failure {
    fn of(err: &StoreError) -> Self {
        let io_kind = match err {
            StoreError::Io(io) => Some(io.kind()),
            StoreError::Log(crate::store::LogError::Io { source, .. }) => Some(source.kind()),
            _ => None,
        };
        Failure {
            io_kind,
            message: err.to_string(),
        }
    }

    fn to_error(&self) -> StoreError {
        match self.io_kind {
            Some(kind) => StoreError::Io(std::io::Error::new(kind, self.message.clone())),
            None => StoreError::Database(format!(
                "writing staged state back to sled failed: {}",
                self.message
            )),
        }
    }
}

/// What a commit does after staging its unit.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum AfterStage {
    /// Nothing: the staged state is within its budget.
    Nothing,
    /// Wake the writer.
    Wake,
    /// Write back now, on this thread.
    WriteBack,
}

impl Writer {
    /// What to do after a unit is staged, given how much is staged now against the
    /// budget (`over` crossed it, `far_over` four times it).
    pub(super) fn after_stage(&self, over: bool, far_over: bool) -> AfterStage {
        let running = self.running.load(Ordering::Acquire);
        match (over, far_over, running) {
            (false, _, _) => AfterStage::Nothing,
            (true, false, true) => AfterStage::Wake,
            _ => AfterStage::WriteBack,
        }
    }

    /// Ask the writer for a write-back.
    pub(super) fn wake(&self) {
        *self.wanted.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_one();
    }

    /// The writer's failure, as the error a commit returns.
    pub(super) fn failure(&self) -> Option<StoreError> {
        self.failed.get().map(Failure::to_error)
    }

    /// Wait until a write-back is wanted (true) or `IDLE_CHECK` passed (false).
    fn wait(&self) -> bool {
        let wanted = self.wanted.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut wanted, _) = self
            .wake
            .wait_timeout_while(wanted, IDLE_CHECK, |wanted| !*wanted)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *wanted)
    }
}

impl SledStore {
    /// Start the background writer of this store (see the module docs). It stops on
    /// its own once the store is dropped.
    pub fn start_writer(store: &Arc<SledStore>) -> std::io::Result<()> {
        if store.writer.running.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let weak: Weak<SledStore> = Arc::downgrade(store);
        let writer = store.writer.clone();
        let spawned = std::thread::Builder::new()
            .name("probity-sled-writer".into())
            .spawn(move || write_back_when_asked(&writer, weak));
        if spawned.is_err() {
            store.writer.running.store(false, Ordering::Release);
        }
        spawned.map(|_| ())
    }
}

/// The writer thread: waits (holding no reference that keeps the store open), then
/// writes back while it holds one.
fn write_back_when_asked(writer: &Writer, store: Weak<SledStore>) {
    loop {
        let wanted = writer.wait();
        let Some(store) = store.upgrade() else {
            return;
        };
        if !wanted {
            continue;
        }
        if let Err(err) = store.write_back() {
            tracing::error!(error = %err, "the background write-back to sled failed; commits are refused from now on");
            let _ = writer.failed.set(Failure::of(&err));
            writer.running.store(false, Ordering::Release);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_wakes_a_running_writer_and_writes_back_itself_far_over_budget() {
        let writer = Writer::default();
        assert_eq!(writer.after_stage(false, false), AfterStage::Nothing);
        assert_eq!(writer.after_stage(true, false), AfterStage::WriteBack);
        writer.running.store(true, Ordering::SeqCst);
        assert_eq!(writer.after_stage(true, false), AfterStage::Wake);
        assert_eq!(writer.after_stage(true, true), AfterStage::WriteBack);
    }
}
