//! The floor: what raw sled can do on this machine for the writes one event costs.
//!
//! Probity cannot ingest faster than its store can make events durable, so before
//! blaming the host for a missed throughput target it is worth knowing the ceiling. This
//! section writes, with no host, no plugins and no transactions, the records one event
//! costs the real store — one event-log record and [`SMALL_RECORDS_PER_EVENT`] small
//! index and state records ([`EVENT_RECORD_BYTES`], [`SMALL_RECORD_BYTES`]) — into sled
//! in a temporary directory, in batches of [`BATCH_EVENTS`] events, and calls `flush()`
//! (an fsync) after each batch, as the server's group commit does after every round.
//! The store is opened with the server's default 128 MiB page cache.
//!
//! The record shapes are deliberately a lower bound: the real store also writes
//! verdicts, history, the verdict index, plugin state and timers, inside a transaction.
//! So the host's ingest rate over this floor's rate is the share of the ceiling it
//! reaches, not a promise that it could reach 1.0.

use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Bytes of the event-log record of one event (its pseudonymised JSON, as stored).
pub const EVENT_RECORD_BYTES: usize = 600;
/// Small records per event besides the log: the idempotency index, a verdict index
/// entry and a plugin-state entry.
pub const SMALL_RECORDS_PER_EVENT: usize = 3;
/// Bytes of each small record's value.
pub const SMALL_RECORD_BYTES: usize = 48;
/// Events per flush.
pub const BATCH_EVENTS: u64 = 1_000;

/// What the floor run measured.
pub struct FloorFigures {
    /// Events written.
    pub events: u64,
    /// Records inserted (events × (1 + [`SMALL_RECORDS_PER_EVENT`])).
    pub inserts: u64,
    /// Wall time, flushes included.
    pub elapsed: Duration,
    /// Size of the sled directory at the end, in bytes.
    pub disk_bytes: u64,
}

impl FloorFigures {
    /// Durable events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// Durable inserts per second.
    pub fn inserts_per_sec(&self) -> f64 {
        self.inserts as f64 / self.elapsed.as_secs_f64()
    }
}

/// Write `events` events' worth of records into a fresh sled store, flushing after
/// every batch.
pub fn run(events: u64) -> anyhow::Result<FloorFigures> {
    let dir = tempfile::Builder::new()
        .prefix("probity-bench-floor-")
        .tempdir()
        .context("creating a temporary directory")?;
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(128 << 20)
        .open()
        .context("opening sled")?;
    let log = db.open_tree("events")?;
    let index = db.open_tree("event_ids")?;
    let state = db.open_tree("state")?;
    let verdicts = db.open_tree("verdict_index")?;
    let mut event = vec![b'x'; EVENT_RECORD_BYTES];
    let small = [b's'; SMALL_RECORD_BYTES];
    let started = Instant::now();
    let mut inserts = 0;
    for seq in 0..events {
        // Every value distinct, as real events are.
        event[..8].copy_from_slice(&seq.to_be_bytes());
        log.insert(seq.to_be_bytes(), event.as_slice())?;
        index.insert(format!("i-e{seq}"), &small[..])?;
        verdicts.insert(
            format!("A\u{1f}review\u{1f}{:016x}", seq.wrapping_mul(0x9E37_79B9)),
            &small[..],
        )?;
        state.insert(
            format!("brush-orders\u{1f}o\u{1f}i-o{}", seq / 4),
            &small[..],
        )?;
        inserts += 1 + SMALL_RECORDS_PER_EVENT as u64;
        if (seq + 1) % BATCH_EVENTS == 0 || seq + 1 == events {
            db.flush().context("flushing sled")?;
        }
    }
    let elapsed = started.elapsed();
    drop((log, index, state, verdicts));
    drop(db);
    Ok(FloorFigures {
        events,
        inserts,
        elapsed,
        disk_bytes: crate::server::dir_size(dir.path())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_floor_run_counts_every_insert() {
        let figures = run(2_500).expect("floor run");
        assert_eq!(figures.events, 2_500);
        assert_eq!(figures.inserts, 2_500 * 4);
        assert!(figures.disk_bytes > 2_500 * EVENT_RECORD_BYTES as u64 / 2);
    }
}
