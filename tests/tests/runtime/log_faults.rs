//! The event log's sync failing under the real pipeline thread: a failed `fdatasync` is
//! never acknowledged, every later event is refused, and a restart keeps everything that
//! was acknowledged.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use probity::pipeline::Pipeline;
use probity::service::worker::{EventOutcome, Worker};
use probity::store::{FaultKind, LogIo, SledStore, Store, StoreHealth};
use probity_e2e::harness::{config, entry, listing, load, pipeline_in};
use serde_json::json;

/// Real writes and syncs, except that `fdatasync` fails with `EIO` while `fail` is set.
#[derive(Debug, Default)]
struct BreakableSync {
    fail: AtomicBool,
    syncs: std::sync::atomic::AtomicUsize,
}

impl LogIo for BreakableSync {
    fn sync_data(&self, file: &File) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        file.sync_data()
    }
}

fn accepted(result: &Result<Vec<EventOutcome>, probity::service::worker::WorkerError>) -> bool {
    matches!(result.as_deref(), Ok([EventOutcome::Accepted { .. }]))
}

#[test]
fn a_failed_sync_is_never_acknowledged_and_a_restart_keeps_what_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = config(vec![("good", entry("good", json!({"word": "forbidden"})))]);
    let io = Arc::new(BreakableSync::default());
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open_with_log_io(dir.path(), 16 << 20, io.clone()).expect("store"));
    let pipeline =
        Pipeline::new(store.clone(), Arc::new(load(&good).expect("plugins"))).expect("pipeline");
    let health = Arc::new(StoreHealth::new(dir.path()));
    let (worker, threads) = Worker::start(pipeline, 2, 16, health.clone(), None).expect("worker");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let send = |worker: &Worker, id: &str| {
        let event = listing(id, "2026-11-01T10:00:00Z", id, "S-1", "forbidden words");
        runtime.block_on(worker.submit(vec![event]))
    };

    let first = send(&worker, "L-1");
    assert!(accepted(&first), "{first:?}");
    let syncs_before = io.syncs.load(Ordering::SeqCst);
    assert!(syncs_before >= 1, "the answer waited for an fdatasync");

    io.fail.store(true, Ordering::SeqCst);
    let failed = send(&worker, "L-2");
    assert!(
        !accepted(&failed),
        "a failed sync must not be acknowledged: {failed:?}"
    );
    let text = format!("{failed:?}");
    assert!(
        text.contains("fdatasync"),
        "the refusal names the sync: {text}"
    );
    assert_eq!(
        health.fault().map(|fault| fault.kind),
        Some(FaultKind::Failed),
        "the fault is recorded (readyz, 503 storage-failed)"
    );

    // The disk is fine again, but nobody knows what the failed sync left: refused too.
    io.fail.store(false, Ordering::SeqCst);
    let later = send(&worker, "L-3");
    assert!(!accepted(&later), "{later:?}");
    assert!(format!("{later:?}").contains("refuses"), "{later:?}");

    runtime.block_on(worker.shutdown());
    threads.join();
    drop(store);

    // A restart on the same directory with real syncs: the acknowledged event is there
    // (a re-send is a duplicate); the refused L-3 was never logged.
    let mut pipeline = pipeline_in(dir.path(), &good);
    pipeline.replay_log_tail().expect("replay");
    let store = pipeline.store().clone();
    assert!(store.event_record("L-1").expect("read").is_some());
    assert!(store.event_record("L-3").expect("read").is_none());
    let again = pipeline
        .ingest(&listing(
            "L-1",
            "2026-11-01T10:00:00Z",
            "L-1",
            "S-1",
            "forbidden words",
        ))
        .expect("ingest");
    assert!(
        matches!(again, probity::pipeline::Ingested::Duplicate { .. }),
        "{again:?}"
    );
}
