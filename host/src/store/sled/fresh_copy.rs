//! A fresh store holding only what the derived views are rebuilt from, and the atomic swap
//! that puts a rebuilt store in place of the old one.
//!
//! `probity rebuild` used to clear the derived trees of the live store and replay into
//! it, so a failure midway (a plugin that cannot load, a full disk, Ctrl-C) left the
//! idempotency index half empty and the verdicts half rebuilt. Now it replays into a
//! fresh sled in `store.rebuild/` (sharing the one event log, which a replay only reads)
//! and swaps the two sled directories with one `renameat2(…, RENAME_EXCHANGE)` only when
//! the copy is complete and checkpointed: until then the old store is untouched, and
//! after it the old one is removed.

use std::path::{Path, PathBuf};

use super::SledStore;
use super::trees::{AUDIT, DERIVED, META, TREE_NAMES, is_derived_meta};
use crate::store::StoreError;

impl SledStore {
    /// Open a new sled at `dest` (which should not exist yet) over this store's event
    /// log, holding its audit trail and host values, and none of what is derived from the
    /// log (verdicts, history, indexes, plugin state, timers, clock, idempotency records).
    pub fn fresh_copy(&self, dest: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        self.checkpoint_now()?;
        let db = SledStore::open_db(dest, cache_bytes)?;
        let copy = SledStore::with_parts(db, dest.to_path_buf(), self.log.clone())?;
        for tree in [AUDIT, META] {
            debug_assert!(!DERIVED.contains(&tree), "{}", TREE_NAMES[tree]);
            let target = copy.tree(tree);
            for item in self.tree(tree).iter() {
                let (key, value) = item?;
                if !(tree == META && is_derived_meta(&key)) {
                    target.insert(key, value)?;
                }
            }
        }
        copy.sync_sled()?;
        Ok(copy)
    }
}

/// Where a store directory's rebuilt copy is made: `<dir>.rebuild`.
pub fn rebuild_dir(store_dir: &Path) -> PathBuf {
    let mut name = store_dir.as_os_str().to_owned();
    name.push(".rebuild");
    PathBuf::from(name)
}

/// Exchange the directories `a` and `b` atomically (Linux `renameat2` with
/// `RENAME_EXCHANGE`), then make the change durable by syncing their parent directory.
pub fn exchange_dirs(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let path = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL in a path"))
    };
    let (a_c, b_c) = (path(a)?, path(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a_c.as_ptr(),
            libc::AT_FDCWD,
            b_c.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let parent = a
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(parent)?.sync_all()
}

/// Remove what an interrupted `probity rebuild` of the store in `store_dir` left: an
/// incomplete copy, or the old store after a swap that was not followed by its removal.
/// Call with the store open (locked), so no rebuild is running.
pub fn remove_interrupted_rebuild(store_dir: &Path) -> std::io::Result<()> {
    let leftover = rebuild_dir(store_dir);
    if leftover.exists() {
        tracing::warn!(dir = %leftover.display(), "removing what an interrupted rebuild left");
        std::fs::remove_dir_all(&leftover)?;
    }
    Ok(())
}

/// Empty the data directory `data_dir` of a cluster node before it starts: its store and
/// event log are a copy of what the cluster's streams hold, and the node rebuilds them
/// from those (see [`crate::service::division`]). Refused, with nothing removed, while
/// another process has the directory open.
pub fn clear_cluster_copy(data_dir: &Path) -> Result<(), StoreError> {
    let store_dir = data_dir.join("store");
    let log_dir = data_dir.join("log");
    if !store_dir.exists() && !log_dir.exists() {
        return Ok(());
    }
    // Opening takes the locks: another process holding them is reported, not removed
    // from under.
    drop(SledStore::open(data_dir, 1 << 20)?);
    for dir in [&store_dir, &log_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(StoreError::Io)?;
        }
    }
    Ok(())
}
