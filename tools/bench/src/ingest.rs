//! Batch ingest: the whole generated stream as NDJSON batches over a few keep-alive
//! connections, every answer checked.
//!
//! This is how a platform backfills or forwards its event feed, and it is the figure
//! the throughput target is about. Each batch is `POST /v1/events` with
//! `Content-Type: application/x-ndjson`; the server answers `200` only once every event
//! of the batch is flushed to disk (group commit), so the rate measured is the rate of
//! *durable* events. Batches stay well under `server.max_batch_events` (10,000 by
//! default); a few connections keep the pipeline fed while one answer travels back.
//!
//! Nothing is taken on trust: a non-200, a rejected line, or `accepted + duplicates`
//! differing from the lines sent stops the run with the server's answer, since a fast
//! run that dropped events would be a false figure. The generator runs on a thread of
//! its own, a few batches ahead, so memory stays flat whatever the number of events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use hyper::body::Bytes;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

use crate::http::Connection;
use crate::stream::{EventStream, StreamConfig};

/// What to send.
pub struct IngestOptions {
    /// The stream to send.
    pub stream: StreamConfig,
    /// How many events.
    pub events: u64,
    /// Events per batch.
    pub batch: usize,
    /// Concurrent keep-alive connections.
    pub connections: usize,
}

/// What the run measured.
pub struct IngestFigures {
    /// Events sent.
    pub events: u64,
    /// Events the server accepted (new).
    pub accepted: u64,
    /// Events the server had seen already.
    pub duplicates: u64,
    /// Accepted events after which a subject they touched was not `allow`.
    pub flagged: u64,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// The slowest batch answer.
    pub slowest_batch: Duration,
    /// The stream's event-time clock at the end (where a later stream may start).
    pub clock_ms: i64,
}

impl IngestFigures {
    /// Durable events per second over the whole run.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// One batch on its way: the NDJSON body and its line count.
type Batch = (Bytes, usize);

/// Send the stream to the server at `addr` and check every answer.
pub async fn run(
    addr: std::net::SocketAddr,
    options: IngestOptions,
) -> anyhow::Result<IngestFigures> {
    run_spread(&[addr], options).await
}

/// Send the stream over connections spread across `addrs` (the nodes of a cluster, in
/// turn) and check every answer.
pub async fn run_spread(
    addrs: &[std::net::SocketAddr],
    options: IngestOptions,
) -> anyhow::Result<IngestFigures> {
    ensure!(!addrs.is_empty(), "no server to send to");
    ensure!(
        options.batch > 0 && options.connections > 0,
        "batch and connections must be > 0"
    );
    let (tx, rx) = mpsc::channel::<Batch>(options.connections * 2);
    let (events, batch) = (options.events, options.batch);
    let generator = std::thread::spawn(move || {
        let mut stream = EventStream::new(options.stream);
        let mut left = events;
        while left > 0 {
            let n = left.min(batch as u64) as usize;
            let mut body = String::with_capacity(n * 640);
            stream.write_batch(n, &mut body);
            if tx.blocking_send((Bytes::from(body), n)).is_err() {
                break; // the senders failed; their error is reported
            }
            left -= n as u64;
        }
        stream.clock_ms()
    });

    let mut connections = Vec::with_capacity(options.connections);
    for k in 0..options.connections {
        connections.push(Connection::open(addrs[k % addrs.len()]).await?);
    }
    let rx = Arc::new(Mutex::new(rx));
    let progress = Arc::new(Progress::new(events));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in connections {
        let (rx, progress) = (rx.clone(), progress.clone());
        tasks.push(tokio::spawn(send_batches(connection, rx, progress)));
    }
    let mut totals = Totals::default();
    let mut failure = None;
    for task in tasks {
        match task.await.context("an ingest task panicked")? {
            Ok(t) => totals.add(&t),
            Err(err) => failure = failure.or(Some(err)),
        }
    }
    let elapsed = started.elapsed();
    // Dropping the receiver (inside the tasks) unblocks the generator if a task failed.
    drop(rx);
    let clock_ms = generator
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    if let Some(err) = failure {
        return Err(err);
    }
    ensure!(
        totals.lines == events,
        "sent {} of {events} events",
        totals.lines
    );
    Ok(IngestFigures {
        events,
        accepted: totals.accepted,
        duplicates: totals.duplicates,
        flagged: totals.flagged,
        elapsed,
        slowest_batch: totals.slowest,
        clock_ms,
    })
}

#[derive(Default)]
struct Totals {
    lines: u64,
    accepted: u64,
    duplicates: u64,
    flagged: u64,
    slowest: Duration,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.flagged += other.flagged;
        self.slowest = self.slowest.max(other.slowest);
    }
}

/// Take batches until there are none, send each and check the answer.
async fn send_batches(
    mut connection: Connection,
    rx: Arc<Mutex<mpsc::Receiver<Batch>>>,
    progress: Arc<Progress>,
) -> anyhow::Result<Totals> {
    let mut totals = Totals::default();
    loop {
        let next = rx.lock().await.recv().await;
        let Some((body, lines)) = next else {
            return Ok(totals);
        };
        let sent = Instant::now();
        let result = connection
            .post("/v1/events", "application/x-ndjson", body)
            .await;
        let (status, answer) = match result {
            Ok(answer) => answer,
            Err(err) => {
                rx.lock().await.close();
                return Err(err);
            }
        };
        totals.slowest = totals.slowest.max(sent.elapsed());
        if let Err(err) = check_answer(status, &answer, lines, &mut totals) {
            rx.lock().await.close();
            return Err(err);
        }
        progress.add(lines as u64);
    }
}

/// Check one batch answer and add it to `totals`.
fn check_answer(
    status: u16,
    answer: &[u8],
    lines: usize,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let text = String::from_utf8_lossy(answer);
    let excerpt: String = text.chars().take(2000).collect();
    if status != 200 {
        bail!("a batch of {lines} events was answered {status}: {excerpt}");
    }
    let answer: Value = serde_json::from_slice(answer)
        .with_context(|| format!("the batch answer is not JSON: {excerpt}"))?;
    let count = |field: &str| answer.get(field).and_then(Value::as_u64);
    let (Some(accepted), Some(duplicates), Some(flagged)) =
        (count("accepted"), count("duplicates"), count("flagged"))
    else {
        bail!("the batch answer lacks accepted/duplicates/flagged: {excerpt}");
    };
    let rejected = answer.get("rejected").and_then(Value::as_array);
    ensure!(
        rejected.is_some_and(Vec::is_empty),
        "the server rejected lines of a generated batch: {excerpt}"
    );
    ensure!(
        accepted + duplicates == lines as u64,
        "a batch of {lines} lines came back as {accepted} accepted + {duplicates} duplicates"
    );
    totals.lines += lines as u64;
    totals.accepted += accepted;
    totals.duplicates += duplicates;
    totals.flagged += flagged;
    Ok(())
}

/// Prints a line on stderr at every tenth of the run.
struct Progress {
    total: u64,
    done: std::sync::atomic::AtomicU64,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            done: Default::default(),
            started: Instant::now(),
        }
    }

    fn add(&self, n: u64) {
        use std::sync::atomic::Ordering;
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        let after = before + n;
        let step = (self.total / 10).max(1);
        if before / step != after / step {
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!(
                "  ingest: {after:>9} / {} events, {:.0} events/s so far",
                self.total,
                after as f64 / secs
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_answer_is_counted() {
        let mut totals = Totals::default();
        let answer = br#"{"accepted":990,"duplicates":10,"rejected":[],"flagged":7}"#;
        check_answer(200, answer, 1000, &mut totals).expect("clean");
        assert_eq!(
            (
                totals.lines,
                totals.accepted,
                totals.duplicates,
                totals.flagged
            ),
            (1000, 990, 10, 7)
        );
    }

    #[test]
    fn rejected_lines_missing_events_and_errors_fail_the_run() {
        let mut totals = Totals::default();
        let rejected =
            br#"{"accepted":999,"duplicates":0,"rejected":[{"line":3,"error":"x"}],"flagged":0}"#;
        assert!(check_answer(200, rejected, 1000, &mut totals).is_err());
        let short = br#"{"accepted":998,"duplicates":1,"rejected":[],"flagged":0}"#;
        assert!(check_answer(200, short, 1000, &mut totals).is_err());
        assert!(check_answer(503, b"{}", 1000, &mut totals).is_err());
        assert_eq!(totals.lines, 0);
    }
}
