//! Committed-but-not-yet-written units, held in memory in front of sled.
//!
//! Why: a sled transaction (or `apply_batch`) pins the log, which rolls and writes the
//! current I/O buffer *twice* — a `pwrite` and a `sync_file_range` each, plus a wake-up
//! of sled's writer threads. Paying that for every event cost more than evaluating the
//! event with three plugins. So [`Store::commit`](crate::store::Store::commit) only stages a
//! unit's writes in a [`Layer`] here, visible to every read at once, and the flush writes
//! all staged units to sled in **one** transaction before it makes them durable. Units
//! stay atomic (a transaction is all or nothing, and a unit is staged whole or not at
//! all) and a `200` still means "on disk": nothing is acknowledged before the flush that
//! writes it.
//!
//! Reads look through the layers newest first — the unit being built, the pending layer,
//! the layer being written — and then sled. Scans merge the layers' entries in range,
//! fetched a chunk at a time, with sled's iterator ([`Merged`]); a removed key is a
//! tombstone (`None`) that hides what sled still holds.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock};

use sled::IVec;

use crate::store::StoreError;

/// A staged value: `Some(bytes)` written, `None` removed.
pub(super) type Slot = Option<IVec>;

/// Staged writes, one sorted map per tree.
#[derive(Clone, Debug)]
pub(super) struct Layer {
    trees: Vec<BTreeMap<IVec, Slot>>,
    bytes: usize,
    units: usize,
}

impl Layer {
    /// An empty layer over `trees` trees.
    pub(super) fn new(trees: usize) -> Self {
        Layer {
            trees: (0..trees).map(|_| BTreeMap::new()).collect(),
            bytes: 0,
            units: 0,
        }
    }

    /// What the layer holds for `key`: `None` when it does not know the key.
    pub(super) fn get(&self, tree: usize, key: &[u8]) -> Option<&Slot> {
        self.trees.get(tree)?.get(key)
    }

    /// Stage a write (or, with `None`, a removal).
    pub(super) fn put(&mut self, tree: usize, key: IVec, slot: Slot) {
        self.bytes += key.len() + slot.as_ref().map_or(0, |value| value.len());
        self.trees[tree].insert(key, slot);
    }

    /// Whether nothing is staged.
    pub(super) fn is_empty(&self) -> bool {
        self.trees.iter().all(BTreeMap::is_empty)
    }

    /// Roughly how many bytes were staged (overwritten keys count again).
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many units were absorbed into this layer.
    pub(super) fn units(&self) -> usize {
        self.units
    }

    /// Take in a newer layer's writes (one unit, or units absorbed before); its values
    /// win.
    pub(super) fn absorb(&mut self, newer: Layer) {
        self.bytes += newer.bytes;
        self.units += newer.units.max(1);
        for (mine, theirs) in self.trees.iter_mut().zip(newer.trees) {
            if mine.is_empty() {
                *mine = theirs;
            } else {
                mine.extend(theirs);
            }
        }
    }

    /// Every staged write of one tree, ascending by key.
    pub(super) fn tree(&self, tree: usize) -> &BTreeMap<IVec, Slot> {
        &self.trees[tree]
    }

    /// The number of keys staged, over all trees.
    #[cfg(test)]
    pub(super) fn keys(&self) -> usize {
        self.trees.iter().map(BTreeMap::len).sum()
    }

    /// The number of trees.
    pub(super) fn tree_count(&self) -> usize {
        self.trees.len()
    }
}

/// The staged layers of a store.
#[derive(Debug)]
pub(super) struct Overlay {
    /// Units committed since the last write-back began.
    pub(super) pending: Layer,
    /// Units being written to sled by a write-back right now.
    pub(super) writing: Option<Arc<Layer>>,
}

impl Overlay {
    /// An empty overlay over `trees` trees.
    pub(super) fn new(trees: usize) -> Self {
        Overlay {
            pending: Layer::new(trees),
            writing: None,
        }
    }

    /// The newest staged value of `key`, if a layer knows it.
    pub(super) fn get(&self, tree: usize, key: &[u8]) -> Option<Slot> {
        if let Some(slot) = self.pending.get(tree, key) {
            return Some(slot.clone());
        }
        self.writing
            .as_ref()
            .and_then(|layer| layer.get(tree, key).cloned())
    }

    /// Up to `limit` staged entries of `tree` within `range`, newest value per key, in
    /// ascending (or descending) key order.
    pub(super) fn chunk(
        &self,
        tree: usize,
        range: &(Bound<IVec>, Bound<IVec>),
        descending: bool,
        limit: usize,
    ) -> Vec<Entry> {
        let bounds = (as_slice(&range.0), as_slice(&range.1));
        let newer = self.pending.tree(tree).range::<[u8], _>(bounds);
        let mut out = Vec::new();
        match &self.writing {
            None if descending => out.extend(newer.rev().take(limit)),
            None => out.extend(newer.take(limit)),
            Some(writing) => {
                let older = writing.tree(tree).range::<[u8], _>(bounds);
                let mut merged: BTreeMap<&IVec, &Slot> = BTreeMap::new();
                // The first `limit` keys of the union are among the first `limit` of each.
                if descending {
                    merged.extend(older.rev().take(limit));
                    merged.extend(newer.rev().take(limit));
                    out.extend(merged.into_iter().rev().take(limit));
                } else {
                    merged.extend(older.take(limit));
                    merged.extend(newer.take(limit));
                    out.extend(merged.into_iter().take(limit));
                }
            }
        }
        out.into_iter()
            .map(|(key, slot)| (key.clone(), slot.clone()))
            .collect()
    }
}

fn as_slice(bound: &Bound<IVec>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_ref()),
        Bound::Excluded(key) => Bound::Excluded(key.as_ref()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// One staged entry: a key and its slot.
pub(super) type Entry = (IVec, Slot);

/// The key range holding every key that starts with `prefix`.
pub(super) fn prefix_range(prefix: &[u8]) -> (Bound<IVec>, Bound<IVec>) {
    let lower = Bound::Included(IVec::from(prefix));
    let mut upper = prefix.to_vec();
    // The first key after every key with this prefix: drop trailing 0xff bytes, then
    // increment the last byte. A prefix of only 0xff bytes has no upper bound.
    while upper.last() == Some(&u8::MAX) {
        upper.pop();
    }
    match upper.last_mut() {
        Some(last) => {
            *last += 1;
            (lower, Bound::Excluded(IVec::from(upper)))
        }
        None => (lower, Bound::Unbounded),
    }
}

/// Staged entries fetched per lock of the overlay while scanning.
const CHUNK: usize = 64;

/// The staged entries of a range merged with sled's iterator over the same range, in the
/// same direction: staged entries win over sled's, tombstones hide keys.
///
/// Staged entries are fetched lazily, [`CHUNK`] at a time, each chunk under a short read
/// lock: a scan that stops early (the first due timer) costs a few lookups however much
/// is staged. Like sled's own iterators this is not a snapshot: a unit staged during the
/// scan may or may not be seen, but every key is seen at most once.
pub(super) struct Merged<'a, I: Iterator> {
    overlay: &'a RwLock<Overlay>,
    tree: usize,
    /// What is left of the range for staged entries not yet fetched.
    rest: (Bound<IVec>, Bound<IVec>),
    staged: std::vec::IntoIter<Entry>,
    staged_done: bool,
    next_staged: Option<Entry>,
    base: Peekable<I>,
    descending: bool,
}

impl<'a, I> Merged<'a, I>
where
    I: Iterator<Item = Result<(IVec, IVec), sled::Error>>,
{
    /// Merge what `overlay` stages in `tree` within `range` with `base`, sled's iterator
    /// over the same range (ascending, or descending when `descending`).
    pub(super) fn new(
        overlay: &'a RwLock<Overlay>,
        tree: usize,
        range: (Bound<IVec>, Bound<IVec>),
        base: I,
        descending: bool,
    ) -> Self {
        Merged {
            overlay,
            tree,
            rest: range,
            staged: Vec::new().into_iter(),
            staged_done: false,
            next_staged: None,
            base: base.peekable(),
            descending,
        }
    }

    /// The next staged entry, fetching a chunk when the last one is used up.
    fn peek_staged(&mut self) -> Option<&Entry> {
        if self.next_staged.is_none() {
            self.next_staged = self.staged.next();
            if self.next_staged.is_none() && !self.staged_done {
                let chunk = self
                    .overlay
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .chunk(self.tree, &self.rest, self.descending, CHUNK);
                self.staged_done = chunk.len() < CHUNK;
                if let Some((last, _)) = chunk.last() {
                    let after = Bound::Excluded(last.clone());
                    if self.descending {
                        self.rest.1 = after;
                    } else {
                        self.rest.0 = after;
                    }
                }
                self.staged = chunk.into_iter();
                self.next_staged = self.staged.next();
            }
        }
        self.next_staged.as_ref()
    }

    /// Which comes first of the next staged and the next base key.
    fn staged_first(&mut self) -> Option<std::cmp::Ordering> {
        let descending = self.descending;
        let staged = self.peek_staged()?.0.clone();
        let base = match self.base.peek() {
            Some(Ok((key, _))) => key,
            // An error or the end of sled's range: the staged entry goes first.
            _ => return Some(std::cmp::Ordering::Less),
        };
        let order = staged.as_ref().cmp(base.as_ref());
        Some(if descending { order.reverse() } else { order })
    }
}

impl<I> Iterator for Merged<'_, I>
where
    I: Iterator<Item = Result<(IVec, IVec), sled::Error>>,
{
    type Item = Result<(IVec, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::cmp::Ordering::*;
        loop {
            let (key, slot) = match self.staged_first() {
                None | Some(Greater) => {
                    return self.base.next().map(|item| item.map_err(StoreError::from));
                }
                Some(Equal) => {
                    // The staged value replaces (or removes) sled's.
                    self.base.next();
                    self.next_staged.take()?
                }
                Some(Less) => self.next_staged.take()?,
            };
            if let Some(value) = slot {
                return Some(Ok((key, value)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(items: &[(&str, &str)]) -> Vec<Result<(IVec, IVec), sled::Error>> {
        items
            .iter()
            .map(|(k, v)| Ok((IVec::from(*k), IVec::from(*v))))
            .collect()
    }

    fn staged(items: &[(&str, Option<&str>)]) -> Vec<Entry> {
        items
            .iter()
            .map(|(k, v)| (IVec::from(*k), v.map(IVec::from)))
            .collect()
    }

    fn keys(merged: impl Iterator<Item = Result<(IVec, IVec), StoreError>>) -> Vec<String> {
        merged
            .map(|item| {
                let (key, value) = item.expect("no error");
                format!(
                    "{}={}",
                    String::from_utf8_lossy(&key),
                    String::from_utf8_lossy(&value)
                )
            })
            .collect()
    }

    fn overlay_of(items: &[(&str, Option<&str>)]) -> RwLock<Overlay> {
        let mut overlay = Overlay::new(1);
        for (key, slot) in staged(items) {
            overlay.pending.put(0, key, slot);
        }
        RwLock::new(overlay)
    }

    const ALL: (Bound<IVec>, Bound<IVec>) = (Bound::Unbounded, Bound::Unbounded);

    #[test]
    fn staged_values_replace_and_tombstones_hide_in_both_directions() {
        let sled_side = [("a", "1"), ("c", "1"), ("e", "1")];
        let overlay = overlay_of(&[
            ("b", Some("2")),
            ("c", None),
            ("e", Some("2")),
            ("f", Some("2")),
        ]);
        let ascending = Merged::new(&overlay, 0, ALL, base(&sled_side).into_iter(), false);
        assert_eq!(keys(ascending), ["a=1", "b=2", "e=2", "f=2"]);
        let mut sled_desc = base(&sled_side);
        sled_desc.reverse();
        let descending = Merged::new(&overlay, 0, ALL, sled_desc.into_iter(), true);
        assert_eq!(keys(descending), ["f=2", "e=2", "b=2", "a=1"]);
    }

    #[test]
    fn scans_longer_than_a_chunk_see_every_staged_key_once() {
        let names: Vec<String> = (0..CHUNK * 3 + 5).map(|i| format!("k{i:04}")).collect();
        let items: Vec<(&str, Option<&str>)> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), (i % 7 != 0).then_some("s")))
            .collect();
        let overlay = overlay_of(&items);
        let expected: Vec<String> = items
            .iter()
            .filter(|(_, slot)| slot.is_some())
            .map(|(k, _)| format!("{k}=s"))
            .collect();
        let ascending = Merged::new(&overlay, 0, ALL, std::iter::empty(), false);
        assert_eq!(keys(ascending), expected);
        let descending = Merged::new(&overlay, 0, ALL, std::iter::empty(), true);
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(keys(descending), reversed);
    }

    #[test]
    fn prefix_ranges_end_after_the_last_key_with_the_prefix() {
        assert_eq!(
            prefix_range(b"ab"),
            (
                Bound::Included(IVec::from(b"ab")),
                Bound::Excluded(IVec::from(b"ac"))
            )
        );
        assert_eq!(
            prefix_range(&[1, 0xff]),
            (
                Bound::Included(IVec::from(&[1, 0xff])),
                Bound::Excluded(IVec::from(&[2]))
            )
        );
        assert_eq!(prefix_range(&[0xff]).1, Bound::Unbounded);
    }

    #[test]
    fn newer_layers_win_in_chunks_and_lookups() {
        let mut overlay = Overlay::new(1);
        let mut older = Layer::new(1);
        older.put(0, IVec::from("k1"), Some(IVec::from("old")));
        older.put(0, IVec::from("k2"), Some(IVec::from("old")));
        overlay.writing = Some(Arc::new(older));
        overlay.pending.put(0, IVec::from("k2"), None);
        overlay
            .pending
            .put(0, IVec::from("k3"), Some(IVec::from("new")));
        assert_eq!(overlay.get(0, b"k1"), Some(Some(IVec::from("old"))));
        assert_eq!(overlay.get(0, b"k2"), Some(None));
        assert_eq!(overlay.get(0, b"zz"), None);
        let all = overlay.chunk(0, &ALL, false, 10);
        assert_eq!(
            all,
            staged(&[("k1", Some("old")), ("k2", None), ("k3", Some("new"))])
        );
        let last_two = overlay.chunk(0, &ALL, true, 2);
        assert_eq!(last_two, staged(&[("k3", Some("new")), ("k2", None)]));
    }
}
