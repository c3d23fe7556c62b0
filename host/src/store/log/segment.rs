//! The event log's bytes on disk: segment files of checksummed records.
//!
//! A segment is named by the position (`seq`) of its first record, zero-padded so that
//! names sort as numbers: `00000000000000000001.seg`. A record is a 16-byte header —
//! payload length (`u32` LE), CRC-32 of the position and payload (`u32` LE), position
//! (`u64` LE) — followed by the payload. A crash can leave only the last record of the
//! last segment incomplete (records are appended and never rewritten in place); opening
//! the log cuts such a tail off, since it was never acknowledged.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Bytes before each payload.
pub(super) const HEADER: usize = 16;

/// The largest payload a record may carry: a longer length field means a torn or
/// corrupt header, not a record (events are bounded far below this by the API).
const MAX_PAYLOAD: usize = 64 << 20;

/// Append one record to `out`.
pub(super) fn encode(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(seq, payload).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

fn checksum(seq: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// The file name of the segment whose first record is at `seq`.
pub(super) fn file_name(seq: u64) -> String {
    format!("{seq:020}.seg")
}

/// The segments in `dir`, ascending: `(first seq, path)`.
pub(super) fn list(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let first = name
            .strip_suffix(".seg")
            .filter(|digits| digits.len() == 20)
            .and_then(|digits| digits.parse::<u64>().ok());
        if let Some(first) = first {
            segments.push((first, entry.path()));
        }
    }
    segments.sort();
    Ok(segments)
}

/// What reading the next record found.
#[derive(Debug)]
pub(super) enum Next {
    /// A whole record whose checksum matches.
    Record {
        /// Its position.
        seq: u64,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// The end of the segment, exactly at a record boundary.
    End,
    /// An incomplete or damaged record starting at `offset`.
    Torn {
        /// Where the damaged record starts.
        offset: u64,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Reads one segment's records in order.
pub(super) struct Reader {
    file: BufReader<File>,
    offset: u64,
}

impl Reader {
    /// A reader at the start of the segment at `path`.
    pub(super) fn open(path: &Path) -> io::Result<Reader> {
        Ok(Reader {
            file: BufReader::with_capacity(256 << 10, File::open(path)?),
            offset: 0,
        })
    }

    /// The offset of the next record.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record.
    pub(super) fn next_record(&mut self) -> io::Result<Next> {
        let start = self.offset;
        let mut header = [0u8; HEADER];
        match read_full(&mut self.file, &mut header)? {
            0 => return Ok(Next::End),
            n if n < HEADER => {
                return Ok(Next::Torn {
                    offset: start,
                    why: "an incomplete record header",
                });
            }
            _ => {}
        }
        let field = |range: std::ops::Range<usize>| header[range].to_vec();
        let len = u32::from_le_bytes(field(0..4).try_into().unwrap_or([0; 4])) as usize;
        let crc = u32::from_le_bytes(field(4..8).try_into().unwrap_or([0; 4]));
        let seq = u64::from_le_bytes(field(8..16).try_into().unwrap_or([0; 8]));
        if len > MAX_PAYLOAD {
            return Ok(Next::Torn {
                offset: start,
                why: "a record length beyond any record's",
            });
        }
        let mut payload = vec![0u8; len];
        if read_full(&mut self.file, &mut payload)? < len {
            return Ok(Next::Torn {
                offset: start,
                why: "an incomplete record",
            });
        }
        if checksum(seq, &payload) != crc {
            return Ok(Next::Torn {
                offset: start,
                why: "a record whose checksum does not match",
            });
        }
        self.offset = start + (HEADER + len) as u64;
        Ok(Next::Record { seq, payload })
    }
}

/// Read until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Make `dir`'s entries (a created, renamed or removed segment) durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(file_name(7));
        let mut bytes = Vec::new();
        encode(&mut bytes, 7, b"first");
        encode(&mut bytes, 8, b"");
        encode(&mut bytes, 9, b"third record");
        std::fs::write(&path, &bytes).expect("write");
        let mut reader = Reader::open(&path).expect("open");
        let mut seen = Vec::new();
        while let Next::Record { seq, payload } = reader.next_record().expect("read") {
            seen.push((seq, payload));
        }
        assert_eq!(
            seen,
            vec![
                (7, b"first".to_vec()),
                (8, Vec::new()),
                (9, b"third record".to_vec())
            ]
        );

        // A torn last record, then a flipped bit: each is reported at its offset.
        let torn_at = (bytes.len() - 5) as u64;
        std::fs::write(&path, &bytes[..bytes.len() - 5]).expect("write");
        let mut reader = Reader::open(&path).expect("open");
        let mut last = reader.next_record().expect("read");
        while matches!(last, Next::Record { .. }) {
            last = reader.next_record().expect("read");
        }
        let third = (2 * HEADER + 5) as u64;
        assert!(
            matches!(last, Next::Torn { offset, .. } if offset == third),
            "{last:?} {torn_at}"
        );
        let mut flipped = bytes.clone();
        flipped[HEADER + 1] ^= 1;
        std::fs::write(&path, &flipped).expect("write");
        let mut reader = Reader::open(&path).expect("open");
        assert!(matches!(
            reader.next_record().expect("read"),
            Next::Torn { offset: 0, .. }
        ));
        assert_eq!(list(dir.path()).expect("list"), vec![(7, path)]);
    }
}
