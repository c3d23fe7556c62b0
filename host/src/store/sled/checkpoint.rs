//! sled as the checkpoint of what is derived from the event log.
//!
//! sled holds no unit whose log record is not durable (a write-back syncs the log
//! first), and every unit records the log position it reflects (`log_applied`), so
//! sled is always a prefix of the log. A checkpoint writes what is staged and makes
//! sled durable: sled's `flush` ends in `sync_file_range`, which leaves the file's
//! metadata and the drive's cache unflushed, so the checkpoint follows it with an
//! `fsync` of each of sled's files and its directory.
//!
//! Opening checks the two against each other, and moves the log of an older store
//! (schema 1, which kept it in sled's `events` tree) into the log files.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::SledStore;
use super::trees::{EVENT_SEQ, EVENTS, LOG_APPLIED, META, read_u64};
use crate::store::{Store, StoreError};

impl SledStore {
    /// Write every staged unit to sled (after syncing their log records) and make sled
    /// durable; see [`Store::checkpoint`].
    pub(super) fn checkpoint_now(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.log.sync()?;
        self.write_back()?;
        self.sync_sled()?;
        let elapsed = started.elapsed();
        metrics::histogram!("probity_checkpoint_seconds").record(elapsed.as_secs_f64());
        let micros = elapsed.as_micros() as u64;
        if micros
            > self
                .longest_checkpoint_us
                .fetch_max(micros, Ordering::Relaxed)
        {
            metrics::gauge!("probity_checkpoint_longest_seconds").set(micros as f64 / 1e6);
        }
        Ok(())
    }

    /// sled's flush, then an `fsync` of each of its files and of its directory.
    pub(super) fn sync_sled(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        let io = StoreError::Io;
        for entry in std::fs::read_dir(&self.sled_dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            if entry.file_type().map_err(io)?.is_file() {
                std::fs::File::open(entry.path())
                    .and_then(|file| file.sync_all())
                    .map_err(io)?;
            }
        }
        std::fs::File::open(&self.sled_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io)
    }

    /// Refuse a store whose derived state reflects more of the log than the log holds.
    pub(super) fn check_log(&self, data_dir: &Path) -> Result<(), StoreError> {
        let applied = self.log_applied()?;
        let log_end = self.log.next_seq() - 1;
        if applied > log_end {
            return Err(StoreError::LogBehind {
                path: data_dir.display().to_string(),
                applied,
                log_end,
            });
        }
        Ok(())
    }

    /// Move a schema-1 store's log (sled's `events` tree) into the log files, keeping its
    /// positions, and record that the derived trees reflect all of it (they were written
    /// in the same transactions). Safe to repeat after a crash midway: entries the log
    /// already holds are skipped, and the tree is cleared only once they are durable.
    pub(super) fn move_log_out_of_sled(&self) -> Result<(), StoreError> {
        let tree = self.tree(EVENTS);
        let meta = self.tree(META);
        let last = read_u64(meta.get(EVENT_SEQ)?.as_deref());
        let mut moved = 0usize;
        for item in tree.iter() {
            let (key, value) = item?;
            let seq = read_u64(Some(&key));
            if seq < self.log.next_seq() {
                continue;
            }
            if self.log.next_seq() == 1 && seq > 1 {
                self.log.start_at(seq)?;
            }
            let at = self.log.append(&value)?;
            if at != seq {
                return Err(StoreError::Corrupt {
                    tree: "events",
                    detail: format!("position {seq} follows {}", at - 1),
                });
            }
            moved += 1;
        }
        if self.log.next_seq() == 1 && last > 0 {
            // Every entry was purged: numbering goes on after the last one.
            self.log.start_at(last + 1)?;
        }
        self.log.sync()?;
        meta.insert(LOG_APPLIED, &last.to_be_bytes()[..])?;
        self.sync_sled()?;
        tree.clear()?;
        self.sync_sled()?;
        tracing::info!(
            entries = moved,
            "moved the event log out of sled into its own files (store schema 1 → 2)"
        );
        Ok(())
    }
}
