//! Purging the log's oldest records (retention): whole segments are deleted, and the one
//! holding the first kept record is rewritten aside, synced and renamed over.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::segment::{self, Next, Reader};
use super::{EventLog, LogError, Writer, io_error, lock};

impl EventLog {
    /// Remove the oldest records: those before the first one at which `keep` says yes or
    /// whose position is above `at_most`. Whole segments are deleted; the segment holding
    /// the first kept record is rewritten without the ones before it (and the active
    /// segment closed first, if it is that one). Returns how many records went.
    pub fn purge(
        &self,
        at_most: u64,
        keep: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<usize, LogError> {
        let mut writer = lock(&self.writer);
        let segments = segment::list(&self.dir).map_err(io_error(&self.dir))?;
        let up_to = self.durable_seq().min(at_most);
        let mut purged = 0;
        for (index, (_, path)) in segments.iter().enumerate() {
            let active = index + 1 == segments.len() && writer.file.is_some();
            let mut records = Vec::new();
            let mut reader = Reader::open(path).map_err(io_error(path))?;
            let mut cut = None;
            while let Next::Record { seq, payload } =
                reader.next_record().map_err(io_error(path))?
            {
                if cut.is_none() && (seq > up_to || keep(seq, &payload)) {
                    cut = Some(records.len());
                }
                records.push((seq, payload));
            }
            if cut == Some(0) || records.is_empty() {
                break;
            }
            if active {
                // Start a new segment for what comes next, so this one can go or be
                // rewritten; it is named by the next position, so numbering survives a
                // restart even when every record is purged.
                self.start_empty_segment(&mut writer)?;
            }
            match cut {
                None => {
                    std::fs::remove_file(path).map_err(io_error(path))?;
                    purged += records.len();
                }
                Some(cut) => {
                    self.rewrite(path, &records[cut..])?;
                    purged += cut;
                    break;
                }
            }
        }
        segment::sync_dir(&self.dir).map_err(io_error(&self.dir))?;
        Ok(purged)
    }

    fn start_empty_segment(&self, writer: &mut Writer) -> Result<(), LogError> {
        let path = self.dir.join(segment::file_name(self.durable_seq() + 1));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_error(&path))?;
        segment::sync_dir(&self.dir).map_err(io_error(&self.dir))?;
        writer.file = Some(file);
        writer.len = 0;
        Ok(())
    }

    /// Replace the segment at `path` by one holding only `records` (atomically: written
    /// aside, synced, renamed, then the old one removed).
    fn rewrite(&self, path: &Path, records: &[(u64, Vec<u8>)]) -> Result<(), LogError> {
        let Some((first, _)) = records.first() else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        for (seq, payload) in records {
            segment::encode(&mut bytes, *seq, payload);
        }
        let target = self.dir.join(segment::file_name(*first));
        let aside = target.with_extension("seg.tmp");
        std::fs::write(&aside, &bytes)
            .and_then(|()| File::open(&aside)?.sync_all())
            .map_err(io_error(&aside))?;
        std::fs::rename(&aside, &target).map_err(io_error(&target))?;
        segment::sync_dir(&self.dir).map_err(io_error(&self.dir))?;
        std::fs::remove_file(path).map_err(io_error(path))?;
        Ok(())
    }
}
