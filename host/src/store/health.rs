//! Whether the store is still usable after a failed write.
//!
//! Why this exists: sled stops at its first I/O error. After a full disk or a data
//! directory that became read-only, every later read and write of the same `Db` returns
//! that error, even once space is freed. Nothing acknowledged is lost (a `200` was only
//! sent after a successful flush) and the files stay consistent, so the way back is a
//! restart, which reopens the store and recovers it.
//!
//! [`StoreHealth`] remembers the first such fault so that the server can say so precisely:
//! `/readyz` turns 503 with the reason, ingest answers `507 storage-full` (or
//! `503 storage-failed`) at once instead of queueing work that cannot be stored, and the
//! log says it once.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::{LogError, StoreError};

/// What kind of storage failure stopped the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No space left on the device (or the quota is exhausted).
    DiskFull,
    /// The data directory's file system is read-only, or writes are not permitted.
    ReadOnly,
    /// Any other I/O error or corruption.
    Failed,
}

/// The first fatal storage failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageFault {
    /// Its kind.
    pub kind: FaultKind,
    /// The store's own error message.
    pub error: String,
}

impl StoreError {
    /// The fault behind this error, when it is one that stops the store (an I/O error or
    /// corruption); `None` for errors that leave the store usable.
    pub fn storage_fault(&self) -> Option<StorageFault> {
        let kind = match self {
            // std maps the OS codes: ENOSPC and EDQUOT, EROFS and EACCES/EPERM.
            StoreError::Io(io) => kind_of(io.kind()),
            StoreError::Database(_) => FaultKind::Failed,
            StoreError::Log(LogError::Failed { kind, .. }) => kind_of(*kind),
            StoreError::Log(LogError::Io { source, .. }) => kind_of(source.kind()),
            StoreError::Log(LogError::Corrupt(_)) => FaultKind::Failed,
            _ => return None,
        };
        let error = match self {
            StoreError::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        Some(StorageFault { kind, error })
    }
}

/// The fault kind of an I/O error's kind.
fn kind_of(kind: ErrorKind) -> FaultKind {
    match kind {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => FaultKind::DiskFull,
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => FaultKind::ReadOnly,
        _ => FaultKind::Failed,
    }
}

/// The store's health: healthy until the first fatal fault, then failed for good (until
/// a restart).
#[derive(Debug)]
pub struct StoreHealth {
    data_dir: PathBuf,
    fault: OnceLock<StorageFault>,
}

impl StoreHealth {
    /// A healthy store in `data_dir` (named in explanations).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreHealth {
            data_dir: data_dir.into(),
            fault: OnceLock::new(),
        }
    }

    /// Remember `err` if it is the first fatal fault; logs it once. Returns the fault in
    /// force (this one or an earlier one), if any.
    pub fn record(&self, err: &StoreError) -> Option<&StorageFault> {
        if let Some(fault) = err.storage_fault()
            && self.fault.set(fault).is_ok()
        {
            tracing::error!(
                data_dir = %self.data_dir.display(),
                error = %err,
                "the store failed; it takes no more writes until Probity is restarted"
            );
        }
        self.fault.get()
    }

    /// The fault in force, if any.
    pub fn fault(&self) -> Option<&StorageFault> {
        self.fault.get()
    }

    /// What happened and what to do, for problems and `/readyz`.
    pub fn explain(&self, fault: &StorageFault) -> String {
        let dir = self.data_dir.display();
        let what = match fault.kind {
            FaultKind::DiskFull => format!("the data directory {dir} is full"),
            FaultKind::ReadOnly => format!("the data directory {dir} is not writable"),
            FaultKind::Failed => format!("the store in {dir} failed"),
        };
        let fix = match fault.kind {
            FaultKind::DiskFull => "free space, then restart Probity",
            FaultKind::ReadOnly => "make it writable, then restart Probity",
            FaultKind::Failed => "check the disk, then restart Probity",
        };
        format!(
            "{what} ({}). The store stops at its first failed write: every event answered with 200 is stored; one not answered 200 may or may not be, and reads may no longer show what was waiting to be written. {fix} (it reopens the store with everything acknowledged) and re-send what was not acknowledged: event ids make a stored one a duplicate",
            fault.error
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENOSPC: i32 = 28;
    const EROFS: i32 = 30;
    const EDQUOT: i32 = 122;

    fn io(code: i32) -> StoreError {
        StoreError::Io(std::io::Error::from_raw_os_error(code))
    }

    #[test]
    fn full_and_read_only_disks_are_told_apart() {
        assert_eq!(
            io(ENOSPC).storage_fault().map(|f| f.kind),
            Some(FaultKind::DiskFull)
        );
        assert_eq!(
            io(EDQUOT).storage_fault().map(|f| f.kind),
            Some(FaultKind::DiskFull)
        );
        assert_eq!(
            io(EROFS).storage_fault().map(|f| f.kind),
            Some(FaultKind::ReadOnly)
        );
        assert_eq!(
            io(5).storage_fault().map(|f| f.kind),
            Some(FaultKind::Failed)
        );
        let corrupt = StoreError::Corrupt {
            tree: "events",
            detail: "bad".into(),
        };
        assert_eq!(corrupt.storage_fault(), None);
    }

    #[test]
    fn the_first_fault_stays_and_is_explained() {
        let health = StoreHealth::new("/var/lib/probity");
        assert!(health.fault().is_none());
        health.record(&io(ENOSPC));
        health.record(&io(EROFS));
        let fault = health.fault().expect("fault").clone();
        assert_eq!(fault.kind, FaultKind::DiskFull);
        let text = health.explain(&fault);
        assert!(text.contains("/var/lib/probity is full"), "{text}");
        assert!(text.contains("restart"), "{text}");
    }
}
