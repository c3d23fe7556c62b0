use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

fn records(log: &EventLog, from: u64) -> Vec<(u64, Vec<u8>)> {
    log.read_from(from)
        .expect("read")
        .collect::<Result<_, _>>()
        .expect("records")
}

#[test]
fn appended_records_are_read_only_once_synced_and_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let log = EventLog::open(dir.path()).expect("open");
        assert_eq!(log.append(b"one").expect("append"), 1);
        assert_eq!(log.append(b"two").expect("append"), 2);
        assert!(records(&log, 1).is_empty(), "not durable yet");
        assert_eq!(log.sync().expect("sync").0, 2);
        assert_eq!(log.append(b"three").expect("append"), 3);
        assert_eq!(records(&log, 1).len(), 2);
        // Appended, never synced: lost with the process, as it was never acknowledged.
    }
    let log = EventLog::open(dir.path()).expect("reopen");
    assert_eq!(
        records(&log, 2),
        vec![(2, b"two".to_vec())],
        "reads start at the asked position"
    );
    assert_eq!(log.next_seq(), 3);
    assert!(matches!(
        EventLog::open(dir.path()),
        Err(LogError::Locked { .. })
    ));
}

#[test]
fn a_torn_tail_is_cut_off_and_numbering_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let log = EventLog::open(dir.path()).expect("open");
        for payload in [&b"a"[..], b"b", b"c"] {
            log.append(payload).expect("append");
        }
        log.sync().expect("sync");
    }
    let segment = dir.path().join(segment::file_name(1));
    let len = std::fs::metadata(&segment).expect("meta").len();
    let file = OpenOptions::new().write(true).open(&segment).expect("open");
    file.set_len(len - 1).expect("truncate");
    let log = EventLog::open(dir.path()).expect("reopen");
    assert_eq!(records(&log, 1).len(), 2, "the torn third record is gone");
    assert_eq!(log.append(b"c again").expect("append"), 3);
    log.sync().expect("sync");
    assert_eq!(records(&log, 3), vec![(3, b"c again".to_vec())]);
}

/// Real file operations, except that syncs fail once `fail` is set.
#[derive(Debug, Default)]
struct FailingSync {
    fail: AtomicBool,
}

impl LogIo for FailingSync {
    fn sync_data(&self, file: &File) -> io::Result<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        file.sync_data()
    }
}

#[test]
fn a_failed_sync_is_reported_and_every_later_write_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let io = Arc::new(FailingSync::default());
    let log = EventLog::open_with(dir.path(), io.clone()).expect("open");
    log.append(b"kept").expect("append");
    log.sync().expect("sync");
    io.fail.store(true, Ordering::SeqCst);
    log.append(b"lost").expect("append");
    let err = log.sync().expect_err("the sync fails");
    assert!(err.to_string().contains("fdatasync"), "{err}");
    assert_eq!(log.durable_seq(), 1);
    io.fail.store(false, Ordering::SeqCst);
    assert!(matches!(log.append(b"after"), Err(LogError::Failed { .. })));
    assert!(matches!(log.sync(), Err(LogError::Failed { .. })));
}

#[test]
fn purging_removes_whole_segments_and_rewrites_the_one_cut_in_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let log = EventLog::open(dir.path()).expect("open");
        for n in 1..=10u8 {
            log.append(&[n]).expect("append");
            log.sync().expect("sync");
        }
        // Keep from the record whose payload is 4; never beyond position 8.
        let purged = log
            .purge(8, &mut |_, payload| payload[0] >= 4)
            .expect("purge");
        assert_eq!(purged, 3);
        assert_eq!(records(&log, 1).first().map(|r| r.0), Some(4));
        // Everything old, but the bound holds: positions above 8 stay.
        let purged = log.purge(8, &mut |_, _| false).expect("purge");
        assert_eq!(purged, 5);
        assert_eq!(records(&log, 1).len(), 2);
        assert_eq!(log.purge(10, &mut |_, _| false).expect("purge"), 2);
        assert!(records(&log, 1).is_empty());
    }
    let log = EventLog::open(dir.path()).expect("reopen");
    assert_eq!(log.next_seq(), 11, "numbering survives an empty log");
}
