//! The event log: the source of truth, appended to segment files and made durable with
//! `fdatasync` before anything is acknowledged.
//!
//! Why a log of our own beside sled: sled 0.34's `flush` ends in `sync_file_range`, which
//! survives a killed process but not a power cut or a kernel crash, and every sled write
//! costs far more than an append. So an event's unit is *appended* here (to a buffer in
//! memory) as it is committed, and [`EventLog::sync`] writes every appended record with
//! one `write` and one `fdatasync` — many events per sync (group commit). A request is
//! answered only when a sync covering its events has returned.
//!
//! Everything else the host keeps (plugin state, timers, verdicts, indexes, idempotency
//! records) is derived from the log, held in memory and written to sled later as
//! checkpoints that record the log position they reflect (see the store). sled never
//! holds a unit whose record is not durable here, so on a restart the derived state is
//! always a prefix of the log, and replaying the log after it restores the rest.
//!
//! A failed write or sync leaves the page cache in a state nobody can know (the kernel
//! may have dropped the dirty pages), so the log then refuses every further write until
//! Probity is restarted: nothing after a failed sync is acknowledged.
//!
//! File operations go through [`LogIo`], so a test can make a real write or sync fail.

mod purge;
mod segment;

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use segment::{Next, Reader};

/// A segment is closed and a new one started once it holds this many bytes.
const SEGMENT_BYTES: u64 = 64 << 20;

/// The lock file that keeps a second process out of the log.
const LOCK_FILE: &str = "LOCK";

/// The file operations the log makes durable; [`RealIo`] outside tests.
pub trait LogIo: Send + Sync + std::fmt::Debug {
    /// Write all of `bytes` at the end of `file` (opened for appending).
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        io::Write::write_all(file, bytes)
    }

    /// Make `file`'s data durable (`fdatasync`).
    fn sync_data(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }
}

/// `write` and `fdatasync`, as they are.
#[derive(Debug, Default)]
pub struct RealIo;

impl LogIo for RealIo {}

/// A failure of the event log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Another process has the log open.
    #[error(
        "the event log in {path} is locked by another running Probity process; stop it or use another data directory"
    )]
    Locked {
        /// The log directory.
        path: String,
    },
    /// Reading, creating or removing a segment failed.
    #[error("event log I/O in {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A record other than the last one is damaged.
    #[error("the event log is damaged: {0}")]
    Corrupt(String),
    /// A write or sync failed earlier; the log refuses writes until a restart.
    #[error(
        "the event log refuses writes since writing it to disk failed ({why}); nothing since was acknowledged; restart Probity once the disk is fixed"
    )]
    Failed {
        /// What failed, and where.
        why: String,
        /// The kind of the I/O error (a full disk, a read-only file system, …).
        kind: io::ErrorKind,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Records appended but not yet written.
#[derive(Debug)]
struct Pending {
    next_seq: u64,
    bytes: Vec<u8>,
    last_seq: u64,
}

/// The segment being appended to.
#[derive(Debug)]
struct Writer {
    file: Option<File>,
    len: u64,
}

/// The append-only, fsynced event log in one directory.
#[derive(Debug)]
pub struct EventLog {
    dir: PathBuf,
    io: Arc<dyn LogIo>,
    _lock: File,
    pending: Mutex<Pending>,
    writer: Mutex<Writer>,
    durable: AtomicU64,
    /// Set by the first failed write or sync, for good: from then on every append and
    /// sync is refused. Kept apart from the writer so that an append (on the pipeline
    /// thread) never waits for a sync in progress (on the flush thread).
    failed: std::sync::OnceLock<(String, io::ErrorKind)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EventLog {
    /// Open (or create) the log in `dir` with real file operations.
    pub fn open(dir: &Path) -> Result<EventLog, LogError> {
        Self::open_with(dir, Arc::new(RealIo))
    }

    /// Open (or create) the log in `dir`, writing and syncing through `io`. A damaged
    /// tail of the last segment (a record cut short by a crash, never acknowledged) is
    /// cut off, and what remains is synced before anything is read.
    pub fn open_with(dir: &Path, io: Arc<dyn LogIo>) -> Result<EventLog, LogError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(lock_file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(LogError::Locked {
                path: dir.display().to_string(),
            });
        }
        remove_leftovers(dir)?;
        let segments = segment::list(dir).map_err(io_error(dir))?;
        let (next_seq, file, len) = match segments.last() {
            None => (1, None, 0),
            Some((first, path)) => {
                let (next, len) = repair_tail(*first, path)?;
                let file = OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(io_error(path))?;
                file.sync_all().map_err(io_error(path))?;
                (next, Some(file), len)
            }
        };
        Ok(EventLog {
            dir: dir.to_path_buf(),
            io,
            _lock: lock_file,
            pending: Mutex::new(Pending {
                next_seq,
                bytes: Vec::new(),
                last_seq: next_seq - 1,
            }),
            writer: Mutex::new(Writer { file, len }),
            failed: std::sync::OnceLock::new(),
            durable: AtomicU64::new(next_seq - 1),
        })
    }

    /// The directory of the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The position the next appended record gets.
    pub fn next_seq(&self) -> u64 {
        lock(&self.pending).next_seq
    }

    /// The last position made durable (0 when none).
    pub fn durable_seq(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Start numbering at `seq` when the log holds nothing yet (a store whose log moved
    /// here from an older layout continues its numbering).
    pub fn start_at(&self, seq: u64) -> Result<(), LogError> {
        let writer = lock(&self.writer);
        let mut pending = lock(&self.pending);
        if writer.file.is_some() || !pending.bytes.is_empty() || pending.next_seq != 1 {
            return Err(LogError::Corrupt(format!(
                "cannot renumber a log that already holds records (asked to start at {seq})"
            )));
        }
        pending.next_seq = seq;
        pending.last_seq = seq - 1;
        self.durable.store(seq - 1, Ordering::Release);
        Ok(())
    }

    /// Append a record (in memory, until the next [`EventLog::sync`]); returns its
    /// position. Refused once a write or sync failed.
    pub fn append(&self, payload: &[u8]) -> Result<u64, LogError> {
        if let Some(failed) = self.failed.get() {
            return Err(failed_error(failed));
        }
        let mut pending = lock(&self.pending);
        let seq = pending.next_seq;
        segment::encode(&mut pending.bytes, seq, payload);
        pending.next_seq += 1;
        pending.last_seq = seq;
        Ok(seq)
    }

    /// Write every appended record and `fdatasync` it; returns the last durable position
    /// and the bytes written. Concurrent callers queue: the second finds its records
    /// already written by the first, or writes what was appended meanwhile (group commit).
    pub fn sync(&self) -> Result<(u64, usize), LogError> {
        let mut writer = lock(&self.writer);
        if let Some(failed) = self.failed.get() {
            return Err(failed_error(failed));
        }
        let (bytes, first, last) = {
            let mut pending = lock(&self.pending);
            if pending.bytes.is_empty() {
                return Ok((self.durable_seq(), 0));
            }
            let bytes = std::mem::take(&mut pending.bytes);
            (bytes, self.durable_seq() + 1, pending.last_seq)
        };
        if writer.file.is_none() || writer.len >= SEGMENT_BYTES {
            let path = self.dir.join(segment::file_name(first));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .and_then(|file| segment::sync_dir(&self.dir).map(|()| file));
            match file {
                Ok(file) => {
                    writer.file = Some(file);
                    writer.len = 0;
                }
                Err(err) => return Err(self.fail("creating a segment", &err)),
            }
        }
        let Writer { file, len, .. } = &mut *writer;
        let Some(file) = file.as_mut() else {
            return Err(LogError::Corrupt("no segment open to append to".into()));
        };
        let written = self
            .io
            .write_all(file, &bytes)
            .map_err(|err| ("write", err))
            .and_then(|()| self.io.sync_data(file).map_err(|err| ("fdatasync", err)));
        if let Err((what, err)) = written {
            return Err(self.fail(what, &err));
        }
        *len += bytes.len() as u64;
        self.durable.store(last, Ordering::Release);
        Ok((last, bytes.len()))
    }

    fn fail(&self, what: &str, err: &io::Error) -> LogError {
        let why = format!("{what} in {}: {err}", self.dir.display());
        tracing::error!(error = %why, "the event log failed; refusing every write from now on");
        let _ = self.failed.set((why, err.kind()));
        self.failed.get().map_or_else(
            || LogError::Corrupt("no failure recorded".into()),
            failed_error,
        )
    }

    /// The durable records at positions `from` and after, in order: `(seq, payload)`.
    pub fn read_from(&self, from: u64) -> Result<LogRecords, LogError> {
        let segments = segment::list(&self.dir).map_err(io_error(&self.dir))?;
        // The last segment starting at or before `from` holds it.
        let start = segments
            .iter()
            .rposition(|(first, _)| *first <= from)
            .unwrap_or(0);
        Ok(LogRecords {
            segments: segments.into_iter().skip(start).collect(),
            reader: None,
            from,
            up_to: self.durable_seq(),
            last: 0,
        })
    }
}

fn failed_error((why, kind): &(String, io::ErrorKind)) -> LogError {
    LogError::Failed {
        why: why.clone(),
        kind: *kind,
    }
}

/// Remove what an interrupted purge left: a rewritten segment not yet renamed.
fn remove_leftovers(dir: &Path) -> Result<(), LogError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        if path.extension().is_some_and(|ext| ext == "tmp") {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    Ok(())
}

/// Read the last segment to its end, cut off a damaged tail, and return the next
/// position and the segment's length.
fn repair_tail(first: u64, path: &Path) -> Result<(u64, u64), LogError> {
    let mut reader = Reader::open(path).map_err(io_error(path))?;
    let mut next = first;
    loop {
        match reader.next_record().map_err(io_error(path))? {
            Next::Record { seq, .. } if seq == next => next += 1,
            Next::Record { seq, .. } => {
                return Err(LogError::Corrupt(format!(
                    "{} holds position {seq} where {next} was expected",
                    path.display()
                )));
            }
            Next::End => return Ok((next, reader.offset())),
            Next::Torn { offset, why } => {
                tracing::warn!(
                    segment = %path.display(), offset, why,
                    "cutting off the event log's unacknowledged tail left by a crash"
                );
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io_error(path))?;
                file.set_len(offset)
                    .and_then(|()| file.sync_all())
                    .map_err(io_error(path))?;
                return Ok((next, offset));
            }
        }
    }
}

/// An iterator over durable records, see [`EventLog::read_from`].
#[derive(Debug)]
pub struct LogRecords {
    segments: std::collections::VecDeque<(u64, PathBuf)>,
    reader: Option<(PathBuf, Reader)>,
    from: u64,
    up_to: u64,
    last: u64,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl Iterator for LogRecords {
    type Item = Result<(u64, Vec<u8>), LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.reader.is_none() {
                let (_, path) = self.segments.pop_front()?;
                match Reader::open(&path) {
                    Ok(reader) => self.reader = Some((path, reader)),
                    // Removed by a purge since it was listed: its records are gone.
                    Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                    Err(err) => return Some(Err(io_error(&path)(err))),
                }
            }
            let (path, reader) = self.reader.as_mut()?;
            match reader.next_record() {
                Err(err) => return Some(Err(io_error(path)(err))),
                Ok(Next::End) => self.reader = None,
                Ok(Next::Record { seq, .. }) if seq < self.from => {}
                Ok(Next::Record { seq, .. }) if seq > self.up_to => {
                    self.segments.clear();
                    self.reader = None;
                    return None;
                }
                Ok(Next::Record { seq, payload }) => {
                    self.last = seq;
                    return Some(Ok((seq, payload)));
                }
                // A record being written by a sync that started after this read did.
                Ok(Next::Torn { .. }) if self.last >= self.up_to => {
                    self.segments.clear();
                    self.reader = None;
                    return None;
                }
                Ok(Next::Torn { offset, why }) => {
                    let detail = format!("{} at byte {offset}: {why}", path.display());
                    self.segments.clear();
                    self.reader = None;
                    return Some(Err(LogError::Corrupt(detail)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
