//! Staging units in the [`Overlay`] and writing them back to sled (see
//! [`overlay`](super::overlay) for why): reads that look through the overlay,
//! the [`Unit`] a commit builds, and the write-back that turns every staged unit into one
//! sled transaction.

use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard};

use sled::IVec;

use super::SledStore;
use super::apply;
use super::overlay::{Layer, Merged, Overlay};
use super::writer::AfterStage;
use crate::store::{StoreError, WriteBatch};

/// Staged units above which a write-back is due (and the staged bytes above
/// [`SledStore::with_staged_budget`]'s budget). Measured on the million-event benchmark
/// (issue 18): every 4,096 units collapsed more repeated writes and made the small-store
/// pipeline faster, but on a large store one write-back took up to 600 ms — then a sled
/// transaction, which blocked every read of the trees while it applied — and the peak
/// RSS grew from 600 to 838 MiB; every 256 units kept the longest write-back near 80 ms.
/// A large overlay also makes scans walk more staged removals. It also bounds the
/// overlay for callers that never checkpoint (a replay, a benchmark).
const WRITE_BACK_ABOVE_UNITS: usize = 256;

/// How far over the budget staged state may grow while the background writer catches
/// up, before a commit writes back itself.
const FAR_OVER: usize = 4;

/// What is known of the first key of one tree.
///
/// Why: after every event the pipeline asks for the first due timer and the first
/// expired state entry. Both are almost always in the future, and answering from this —
/// kept true as units are staged — saves two tree scans per event. And when a scan is
/// needed, it starts at [`FirstKey::AtLeast`]: the timer and expiry trees are queues
/// (keys added at the back, removed at the front), and sled does not merge the emptied
/// leaves at their front, so a scan from the very start walks every key ever removed
/// and gets slower as the store ages.
#[derive(Clone, Debug, Default)]
pub(super) enum FirstKey {
    /// Nothing known: a scan starts at the beginning.
    #[default]
    Unknown,
    /// The first key, or `None` when the tree is empty.
    Exact(Option<IVec>),
    /// No key is smaller than this one (it was the first and was removed).
    AtLeast(IVec),
}

/// [`FirstKey`] per tree.
pub(super) type FirstKeys = Vec<FirstKey>;

/// An iterator over `(key, value)` of one tree, through the overlay.
pub(super) type Entries<'a> = Box<dyn Iterator<Item = Result<(IVec, IVec), StoreError>> + 'a>;

/// The writes of one unit being built, reading through everything staged before it.
pub(super) struct StagedUnit<'a> {
    store: &'a SledStore,
    overlay: &'a Overlay,
    writes: Layer,
}

impl apply::Unit for StagedUnit<'_> {
    /// The current value of `key`: this unit's own write, else the overlay's, else sled's.
    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        if let Some(slot) = self.writes.get(tree, key) {
            return Ok(slot.clone());
        }
        if let Some(slot) = self.overlay.get(tree, key) {
            return Ok(slot);
        }
        Ok(self.store.trees[tree].get(key)?)
    }

    /// Write `value` under `key`.
    fn insert(&mut self, tree: usize, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.writes.put(tree, key.into(), Some(value.into()));
    }

    /// Remove `key`.
    fn remove(&mut self, tree: usize, key: impl Into<IVec>) {
        self.writes.put(tree, key.into(), None);
    }
}

/// Lock `mutex`, also after a panic elsewhere poisoned it: what these mutexes guard is
/// nothing, or first-key hints that a scan can always recompute.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keep [`FirstKeys`] true after a unit's writes: a new key below everything becomes the
/// first; removing the first key leaves a floor for the next scan.
fn track_first_keys(first_keys: &mut FirstKeys, writes: &Layer) {
    for (tree, known) in first_keys.iter_mut().enumerate() {
        for (key, slot) in writes.tree(tree) {
            match (&*known, slot) {
                (FirstKey::Unknown, _) => break,
                (FirstKey::Exact(first), Some(_))
                    if first.as_ref().is_none_or(|first| key < first) =>
                {
                    *known = FirstKey::Exact(Some(key.clone()));
                }
                (FirstKey::Exact(Some(first)), None) if first == key => {
                    *known = FirstKey::AtLeast(key.clone());
                }
                // Every key is at or above the floor, so a new key below it is the first.
                (FirstKey::AtLeast(floor), Some(_)) if key < floor => {
                    *known = FirstKey::Exact(Some(key.clone()));
                }
                _ => {}
            }
        }
    }
}

impl SledStore {
    pub(super) fn overlay_read(&self) -> RwLockReadGuard<'_, Overlay> {
        self.overlay.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn overlay_write(&self) -> RwLockWriteGuard<'_, Overlay> {
        self.overlay.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current value of `key` in `tree`, staged or in sled.
    pub(super) fn read(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        if let Some(slot) = self.overlay_read().get(tree, key) {
            return Ok(slot);
        }
        Ok(self.trees[tree].get(key)?)
    }

    /// The entries of `tree` within `range`, staged or in sled, ascending (or descending).
    pub(super) fn entries(
        &self,
        tree: usize,
        range: (Bound<IVec>, Bound<IVec>),
        descending: bool,
    ) -> Entries<'_> {
        let base = self.trees[tree].range::<IVec, _>(range.clone());
        if descending {
            Box::new(Merged::new(&self.overlay, tree, range, base.rev(), true))
        } else {
            Box::new(Merged::new(&self.overlay, tree, range, base, false))
        }
    }

    /// Stage one unit: visible to every read at once, written to sled by the next
    /// write-back. Either all of the unit is staged or, on an error, none of it.
    pub(super) fn stage(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        // One unit at a time: a unit reads what the one before it wrote (counters,
        // sequence numbers, the verdict whose index entries it replaces).
        let _serial = lock(&self.staging);
        if let Some(failed) = self.writer.failure() {
            return Err(failed);
        }
        let writes = {
            let overlay = self.overlay_read();
            let mut unit = StagedUnit {
                store: self,
                overlay: &overlay,
                writes: Layer::new(self.trees.len()),
            };
            apply::apply(&mut unit, batch)?;
            unit.writes
        };
        // A unit's log records were appended before it was built (the log comes first),
        // so a write-back that syncs the log covers every staged unit.
        let (over, far_over) = {
            // Both under the first-keys lock, so that no scan caches a first key between
            // the two.
            let mut first_keys = lock(&self.first_keys);
            track_first_keys(&mut first_keys, &writes);
            let mut overlay = self.overlay_write();
            overlay.pending.absorb(writes);
            let (units, bytes) = (overlay.pending.units(), overlay.pending.bytes());
            (
                units > WRITE_BACK_ABOVE_UNITS || bytes > self.staged_budget_bytes,
                units > FAR_OVER * WRITE_BACK_ABOVE_UNITS
                    || bytes > FAR_OVER * self.staged_budget_bytes,
            )
        };
        match self.writer.after_stage(over, far_over) {
            AfterStage::Nothing => {}
            AfterStage::Wake => self.writer.wake(),
            AfterStage::WriteBack => self.write_back()?,
        }
        Ok(())
    }

    /// The first key of `tree`, from [`FirstKeys`] or else a scan from its floor.
    pub(super) fn first_key(&self, tree: usize) -> Result<Option<IVec>, StoreError> {
        let mut first_keys = lock(&self.first_keys);
        let from = match &first_keys[tree] {
            FirstKey::Exact(first) => return Ok(first.clone()),
            FirstKey::AtLeast(floor) => Bound::Included(floor.clone()),
            FirstKey::Unknown => Bound::Unbounded,
        };
        let first = self
            .entries(tree, (from, Bound::Unbounded), false)
            .next()
            .transpose()?
            .map(|(key, _)| key);
        first_keys[tree] = FirstKey::Exact(first.clone());
        Ok(first)
    }

    /// Forget every known first key (the trees were changed behind the overlay's back).
    pub(super) fn forget_first_keys(&self) {
        let mut first_keys = lock(&self.first_keys);
        first_keys.fill(FirstKey::Unknown);
    }
}
