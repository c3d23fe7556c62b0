//! Single-event latency under a fixed offered load, corrected for coordinated omission.
//!
//! A checkout service sends one event per order as it happens, at whatever rate its
//! customers produce; it does not slow down because Probity did. A closed-loop client
//! (send, wait, send the next) does slow down: when the server stalls for 200 ms it sends
//! nothing during the stall, so the stall shows up as *one* slow request instead of the
//! hundreds that real traffic would have queued behind it ("coordinated omission").
//!
//! So this generator is **open-loop**: request `i` is *scheduled* at `t0 + i / rate`, and
//! its latency is measured **from that scheduled time** to its answer, not from when it
//! was actually sent. Requests are spread over `--connections` keep-alive connections,
//! one request in flight on each (a tokio task per connection, taking the next
//! scheduled request from a shared queue); when every connection is busy, requests wait
//! in the queue and that wait is part of their latency — exactly what a caller
//! would see. Latencies go into an HDR histogram (microsecond resolution, 3 significant
//! digits) and p50 / p99 / p99.9 / max are reported with the achieved rate and every
//! non-200 status.
//!
//! Each request is one fresh event (`application/json`) from a stream with its own seed
//! and id prefix, so none collides with the ingest run's ids.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use hyper::body::Bytes;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use crate::http::Connection;

/// Where requests go: one connection's worth of sending.
pub trait Target: Send + 'static {
    /// What one request carries.
    type Body: Send + 'static;

    /// Send one request and wait for its answer: the HTTP status, or an error if the
    /// request failed without one.
    fn send(&mut self, body: Self::Body) -> impl Future<Output = anyhow::Result<u16>> + Send;
}

/// `POST /v1/events` with one JSON event on a keep-alive connection.
pub struct EventTarget(pub Connection);

impl Target for EventTarget {
    type Body = Bytes;

    async fn send(&mut self, body: Bytes) -> anyhow::Result<u16> {
        let (status, _) = self.0.post("/v1/events", "application/json", body).await?;
        Ok(status)
    }
}

/// The offered load: `count` requests, evenly spaced at `rate` per second.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Requests per second.
    pub rate: f64,
    /// How many requests.
    pub count: u64,
}

impl Schedule {
    /// When request `i` is due, as an offset from the start.
    pub fn offset(&self, i: u64) -> Duration {
        Duration::from_secs_f64(i as f64 / self.rate)
    }
}

/// What an open-loop run measured.
pub struct LatencyFigures {
    /// Latency from each request's scheduled time to its answer, in microseconds.
    pub histogram: Histogram<u64>,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that failed without an answer.
    pub errors: u64,
    /// From the start of the schedule to the last answer.
    pub elapsed: Duration,
}

impl LatencyFigures {
    /// Nothing measured yet: a histogram from 1 µs to 10 minutes, 3 significant digits.
    fn empty() -> LatencyFigures {
        LatencyFigures {
            histogram: Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("valid histogram bounds"),
            statuses: BTreeMap::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Answered requests per second over the run.
    pub fn achieved_rate(&self) -> f64 {
        self.histogram.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Answers that were not `200`, and failed requests.
    pub fn not_ok(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| **status != 200)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.errors
    }

    /// The latency at `quantile` (0–1), in milliseconds.
    pub fn ms_at(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1e3
    }

    /// The slowest request, in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.histogram.max() as f64 / 1e3
    }
}

/// A request waiting for a connection: when it was due, and what it carries.
type Job<B> = (Instant, B);

/// How the schedule is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// A thread of its own sleeping until each request is due, on the OS's
    /// high-resolution timers (well under 0.1 ms late on Linux): for real runs, where
    /// tokio's 1 ms timer wheel would add up to a millisecond of the generator's own lag
    /// to every latency.
    Thread,
    /// tokio's timer, which follows paused time: for deterministic tests.
    #[cfg_attr(not(test), expect(dead_code, reason = "real runs pace on a thread"))]
    Tokio,
}

/// Run `schedule` against `targets` (one task each), taking request bodies from
/// `body(i)`; every latency counts from the request's scheduled time.
pub async fn open_loop<T: Target>(
    schedule: Schedule,
    targets: Vec<T>,
    pacing: Pacing,
    mut body: impl FnMut(u64) -> T::Body + Send + 'static,
) -> LatencyFigures {
    let (tx, rx) = mpsc::unbounded_channel::<Job<T::Body>>();
    let rx = Arc::new(Mutex::new(rx));
    let mut workers = Vec::new();
    for mut target in targets {
        let rx = rx.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = LatencyFigures::empty();
            loop {
                let job = rx.lock().await.recv().await;
                let Some((due, body)) = job else { break };
                let result = target.send(body).await;
                // From the scheduled time: queueing behind a busy connection counts.
                let latency = Instant::now().saturating_duration_since(due);
                mine.histogram
                    .saturating_record(latency.as_micros().max(1) as u64);
                match result {
                    Ok(status) => *mine.statuses.entry(status).or_default() += 1,
                    Err(_) => mine.errors += 1,
                }
            }
            mine
        }));
    }
    let start = Instant::now();
    // If the pacer itself falls behind, `due` still says when the request was due.
    let pacer = match pacing {
        Pacing::Tokio => {
            for i in 0..schedule.count {
                let due = start + schedule.offset(i);
                tokio::time::sleep_until(due).await;
                if tx.send((due, body(i))).is_err() {
                    break;
                }
            }
            drop(tx);
            None
        }
        Pacing::Thread => Some(std::thread::spawn(move || {
            for i in 0..schedule.count {
                let due = start + schedule.offset(i);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                if tx.send((due, body(i))).is_err() {
                    break;
                }
            }
        })),
    };
    let mut all = LatencyFigures::empty();
    for worker in workers {
        // A worker only ends by draining the queue; a panic would be a bug here.
        let mine = worker.await.expect("latency worker panicked");
        all.histogram
            .add(&mine.histogram)
            .expect("histograms with the same bounds");
        for (status, n) in mine.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        all.errors += mine.errors;
    }
    all.elapsed = start.elapsed();
    if let Some(pacer) = pacer {
        // Already finished: the workers only stop once it dropped the sender.
        pacer.join().expect("pacer thread panicked");
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers after `stall` for request 0 and after 1 ms for the others.
    struct Stalling {
        stall: Duration,
    }

    impl Target for Stalling {
        type Body = u64;

        async fn send(&mut self, i: u64) -> anyhow::Result<u16> {
            let took = if i == 0 {
                self.stall
            } else {
                Duration::from_millis(1)
            };
            tokio::time::sleep(took).await;
            Ok(200)
        }
    }

    fn ms(figures: &LatencyFigures, at_or_above: u64) -> u64 {
        figures
            .histogram
            .iter_recorded()
            .filter(|v| v.value_iterated_to() >= at_or_above * 1000)
            .map(|v| v.count_at_value())
            .sum()
    }

    // Paused time: tokio's clock jumps when every task waits, so these runs are exact and
    // instant rather than timing-dependent.
    #[tokio::test(start_paused = true)]
    async fn requests_queued_behind_a_stall_count_their_wait() {
        let schedule = Schedule {
            rate: 100.0,
            count: 100,
        };
        let targets = vec![Stalling {
            stall: Duration::from_millis(500),
        }];
        let figures = open_loop(schedule, targets, Pacing::Tokio, |i| i).await;
        assert_eq!(figures.histogram.len(), 100);
        assert_eq!(figures.statuses.get(&200), Some(&100));
        // Requests due at 10, 20 … 400 ms waited for the stall to end at 500 ms: at
        // least 100 ms each. A closed-loop client would have recorded one slow request.
        assert!(ms(&figures, 100) >= 40, "{} slow", ms(&figures, 100));
        assert!(figures.max_ms() >= 500.0);
        assert!(figures.ms_at(0.5) >= 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_stall_latency_is_the_service_time() {
        let schedule = Schedule {
            rate: 100.0,
            count: 100,
        };
        let targets = vec![Stalling {
            stall: Duration::from_millis(1),
        }];
        let figures = open_loop(schedule, targets, Pacing::Tokio, |i| i).await;
        assert_eq!(figures.histogram.len(), 100);
        assert!(figures.max_ms() < 5.0, "max {}", figures.max_ms());
        assert_eq!(figures.not_ok(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn more_connections_absorb_a_stall() {
        let schedule = Schedule {
            rate: 100.0,
            count: 100,
        };
        let targets = (0..2)
            .map(|_| Stalling {
                stall: Duration::from_millis(500),
            })
            .collect();
        let figures = open_loop(schedule, targets, Pacing::Tokio, |i| i).await;
        // Only request 0 waits: the second connection takes the rest.
        assert_eq!(ms(&figures, 100), 1);
    }

    #[tokio::test]
    async fn the_pacer_thread_sends_every_request() {
        let schedule = Schedule {
            rate: 20_000.0,
            count: 200,
        };
        let targets = vec![Stalling {
            stall: Duration::from_millis(1),
        }];
        let figures = open_loop(schedule, targets, Pacing::Thread, |i| i).await;
        assert_eq!(figures.histogram.len(), 200);
        assert_eq!(figures.statuses.get(&200), Some(&200));
    }
}
