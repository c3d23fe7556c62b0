//! Writing staged units back to sled, atomically, without stopping readers.
//!
//! Why not a sled transaction: sled 0.34 guards every tree operation with one global
//! reader–writer lock ("concurrency control") that is switched on, for good, by the
//! first transaction or `apply_batch` in the process. From then on every read takes
//! the lock, and every transaction holds it exclusively while it commits — so a
//! write-back of a few hundred units stopped every partition's reads of sled for tens
//! of milliseconds, and a larger one for 600 ms (issue 18). Plain inserts and removals
//! never take it exclusively.
//!
//! So a write-back is made atomic the way databases make a checkpoint atomic: with a
//! **redo record**. It
//! 1. syncs the event log (sled never holds a unit whose record is not durable);
//! 2. writes the whole layer, with the log position it brings sled to, as one value
//!    (`meta/redo`) and flushes sled;
//! 3. writes the layer's keys with plain inserts and removals and flushes sled again;
//! 4. records the log position (`meta/log_applied`).
//!
//! A crash before step 2 is durable leaves sled as it was; a crash after it leaves a
//! redo record ahead of `log_applied`, which the next open applies again (its values are
//! the layer's final values, so applying them twice is the same as once) before the log
//! tail is replayed. Step 3's flush makes the keys durable before the position that says
//! they are, so sled is never ahead of what `log_applied` plus the redo record say.
//! Meanwhile readers see the layer being written in the overlay, above sled's
//! half-written trees.

use std::sync::{Arc, PoisonError};

use sled::IVec;

use super::SledStore;
use super::overlay::Layer;
use super::trees::{LOG_APPLIED, META, REDO, read_u64};
use crate::store::{Store, StoreError};

/// The first bytes of a redo record (and its format's version).
const REDO_MAGIC: &[u8; 4] = b"RDO1";

impl SledStore {
    /// Write every staged unit to sled (see the module docs). On failure every staged
    /// unit is dropped, so that no read shows what was never stored: sled 0.34 refuses
    /// every write after its first failed one, so a retry could not succeed; the store's
    /// health records the fault and ingest refuses from then on. (Units whose records
    /// the log holds are then restored by the replay at the next start.)
    pub(super) fn write_back(&self) -> Result<(), StoreError> {
        let _serial = self
            .writing_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let started = std::time::Instant::now();
        let result = self.write_back_locked();
        let micros = started.elapsed().as_micros() as u64;
        let longest = self
            .longest_write_back_us
            .fetch_max(micros, std::sync::atomic::Ordering::Relaxed);
        if micros > longest {
            metrics::gauge!("probity_store_write_back_longest_seconds").set(micros as f64 / 1e6);
        }
        metrics::histogram!("probity_store_write_back_seconds").record(micros as f64 / 1e6);
        result
    }

    fn write_back_locked(&self) -> Result<(), StoreError> {
        // How far the log is applied, read before the staged units are taken: every unit
        // of the entries up to it was staged before it was noted, so it is in `layer`.
        let applied = self.noted_applied.load(std::sync::atomic::Ordering::SeqCst);
        let layer = {
            let mut overlay = self.overlay_write();
            if overlay.pending.is_empty() {
                drop(overlay);
                if applied > self.log_applied()? {
                    self.trees[META].insert(LOG_APPLIED, &applied.to_be_bytes()[..])?;
                }
                return Ok(());
            }
            let fresh = Layer::new(self.trees.len());
            let layer = Arc::new(std::mem::replace(&mut overlay.pending, fresh));
            overlay.writing = Some(layer.clone());
            layer
        };
        let written = match self.log.sync() {
            Err(err) => Err((StoreError::from(err), false)),
            Ok(_) => self.write_layer(&layer, applied).map_err(|err| (err, true)),
        };
        let mut overlay = self.overlay_write();
        overlay.writing = None;
        let Err((err, durable)) = written else {
            return Ok(());
        };
        if durable {
            // The units are in the synced log but maybe half in sled: they stay staged,
            // above sled's half-written trees, until a restart replays them.
            let newer = std::mem::replace(&mut overlay.pending, (*layer).clone());
            overlay.pending.absorb(newer);
        } else {
            // Their records may not be durable: no read may show them.
            overlay.pending = Layer::new(self.trees.len());
            drop(overlay);
            self.forget_first_keys();
        }
        Err(err)
    }

    /// Steps 2–4 of the module docs for `layer`, which brings sled to log position
    /// `applied`.
    fn write_layer(&self, layer: &Layer, applied: u64) -> Result<(), StoreError> {
        let meta = &self.trees[META];
        meta.insert(REDO, encode_redo(layer, applied))?;
        self.db.flush()?;
        #[cfg(test)]
        if self
            .crash_after_redo
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            self.apply_layer(layer, layer.keys() / 2)?;
            return Err(StoreError::Database(
                "a test stopped the write-back halfway".into(),
            ));
        }
        self.apply_layer(layer, usize::MAX)?;
        self.db.flush()?;
        meta.insert(LOG_APPLIED, &applied.to_be_bytes()[..])?;
        Ok(())
    }

    /// Write a layer's keys (the first `limit` of them) to the trees with plain inserts
    /// and removals.
    fn apply_layer(&self, layer: &Layer, limit: usize) -> Result<(), StoreError> {
        let mut left = limit;
        for tree in 0..layer.tree_count() {
            let target = &self.trees[tree];
            for (key, slot) in layer.tree(tree) {
                if left == 0 {
                    return Ok(());
                }
                left -= 1;
                match slot {
                    Some(value) => target.insert(key, value.clone())?,
                    None => target.remove(key)?,
                };
            }
        }
        Ok(())
    }

    /// At open: finish a write-back a crash interrupted (its redo record is ahead of
    /// `log_applied`), so that sled is again exactly the log up to `log_applied`.
    pub(super) fn finish_interrupted_write_back(&self) -> Result<(), StoreError> {
        let meta = &self.trees[META];
        let Some(raw) = meta.get(REDO)? else {
            return Ok(());
        };
        let (applied, layer) = decode_redo(&raw, self.trees.len())?;
        if applied <= read_u64(meta.get(LOG_APPLIED)?.as_deref()) {
            return Ok(());
        }
        self.apply_layer(&layer, usize::MAX)?;
        self.db.flush()?;
        meta.insert(LOG_APPLIED, &applied.to_be_bytes()[..])?;
        self.sync_sled()?;
        tracing::warn!(
            log_applied = applied,
            "finished a write-back to sled that a crash interrupted"
        );
        Ok(())
    }
}

/// Encode `layer` and the log position it brings sled to.
fn encode_redo(layer: &Layer, applied: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(layer.bytes() + 64);
    out.extend_from_slice(REDO_MAGIC);
    out.extend_from_slice(&applied.to_be_bytes());
    for tree in 0..layer.tree_count() {
        for (key, slot) in layer.tree(tree) {
            out.push(tree as u8);
            out.extend_from_slice(&(key.len() as u32).to_be_bytes());
            out.extend_from_slice(key);
            match slot {
                Some(value) => {
                    out.push(1);
                    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
                    out.extend_from_slice(value);
                }
                None => out.push(0),
            }
        }
    }
    out
}

/// Decode a redo record into its log position and layer.
fn decode_redo(raw: &[u8], trees: usize) -> Result<(u64, Layer), StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        tree: "meta",
        detail: format!("redo record: {detail}"),
    };
    let mut reader = Reader { raw, at: 0 };
    if reader.take(4) != Some(&REDO_MAGIC[..]) {
        return Err(corrupt("unknown format"));
    }
    let applied = reader.u64().ok_or_else(|| corrupt("truncated position"))?;
    let mut layer = Layer::new(trees);
    while !reader.done() {
        let tree = reader.take(1).ok_or_else(|| corrupt("truncated"))?[0] as usize;
        if tree >= trees {
            return Err(corrupt("unknown tree"));
        }
        let key_len = reader.u32().ok_or_else(|| corrupt("truncated key"))?;
        let key = reader
            .take(key_len)
            .ok_or_else(|| corrupt("truncated key"))?;
        let slot = match reader.take(1).ok_or_else(|| corrupt("truncated"))?[0] {
            0 => None,
            1 => {
                let len = reader.u32().ok_or_else(|| corrupt("truncated value"))?;
                Some(IVec::from(
                    reader.take(len).ok_or_else(|| corrupt("truncated value"))?,
                ))
            }
            _ => return Err(corrupt("unknown slot")),
        };
        layer.put(tree, IVec::from(key), slot);
    }
    Ok((applied, layer))
}

/// Reads a redo record front to back.
struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let bytes = self.raw.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    fn u32(&mut self) -> Option<usize> {
        let bytes = self.take(4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?) as usize)
    }

    fn u64(&mut self) -> Option<u64> {
        let bytes = self.take(8)?;
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }

    fn done(&self) -> bool {
        self.at >= self.raw.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redo_record_decodes_to_the_layer_it_encodes() {
        let mut layer = Layer::new(3);
        layer.put(0, IVec::from(&b"a"[..]), Some(IVec::from(&b"one"[..])));
        layer.put(2, IVec::from(&b"b"[..]), None);
        layer.put(2, IVec::from(&b"c"[..]), Some(IVec::default()));
        let raw = encode_redo(&layer, 42);
        let (applied, decoded) = decode_redo(&raw, 3).expect("decodes");
        assert_eq!(applied, 42);
        for tree in 0..3 {
            assert_eq!(decoded.tree(tree), layer.tree(tree), "tree {tree}");
        }
        for cut in [3, 10, raw.len() - 1] {
            assert!(decode_redo(&raw[..cut], 3).is_err(), "cut at {cut}");
        }
        assert!(decode_redo(&raw, 2).is_err(), "a tree the store lacks");
    }
}
