//! A load generator for `probity serve`: single-event latency and batch throughput.
//!
//! ```sh
//! cargo build --release -p probity
//! cargo run --release -p probity-e2e --example load               # starts its own server
//! cargo run --release -p probity-e2e --example load -- http://127.0.0.1:8080   # or use yours
//! ```
//!
//! Without a URL it starts `target/release/probity serve` on a fresh data directory with
//! the `good` test plugin (a word check, a state counter and a timer per paid order), so
//! every event does real plugin work, a sled transaction and — before its `200` — a flush.
//! It reports, for 1, 8 and 32 concurrent clients sending single events, the throughput
//! and the latency percentiles, then the throughput of 500-event NDJSON batches.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events per single-event run.
const SINGLE_EVENTS: usize = 4_000;
/// Batches and their size for the batch run.
const BATCHES: usize = 40;
const BATCH_SIZE: usize = 500;

fn event(n: usize) -> String {
    let minute = n / 60;
    let at = format!(
        "2026-11-{:02}T{:02}:{:02}:{:02}Z",
        1 + (minute / 1440) % 28,
        (minute / 60) % 24,
        minute % 60,
        n % 60
    );
    match n % 3 {
        0 => format!(
            r#"{{"event_id":"ev-{n}","type":"listing.upserted","occurred_at":"{at}","listing_id":"L-{n}","seller_id":"S-{}","title":"{} tea set","price":{{"amount":"99.00","currency":"CNY"}}}}"#,
            n % 97,
            if n.is_multiple_of(10) {
                "forbidden"
            } else {
                "fine"
            }
        ),
        1 => format!(
            r#"{{"event_id":"ev-{n}","type":"order.placed","occurred_at":"{at}","order_id":"O-{n}","listing_id":"L-{}","seller_id":"S-{}","buyer_id":"B-{}","quantity":1,"total":{{"amount":"99.00","currency":"CNY"}},"buyer":{{"device_id":"D-{}","ip":"10.0.{}.{}"}}}}"#,
            n - 1,
            n % 97,
            n % 503,
            n % 211,
            n % 250,
            n % 200
        ),
        _ => format!(
            r#"{{"event_id":"ev-{n}","type":"order.paid","occurred_at":"{at}","order_id":"O-{}"}}"#,
            n - 1
        ),
    }
}

struct OwnServer {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> (String, OwnServer) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/probity");
    assert!(
        binary.is_file(),
        "build the server first: cargo build --release -p probity"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("probity.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\n[privacy]\npseudonym_key = \"load-test-key-0123456789\"\n[plugins.good]\npath = {:?}\n",
            dir.path().join("data"),
            probity_e2e::test_plugin("good")
        ),
    )
    .expect("config");
    let mut child = Command::new(binary)
        .args(["serve", "--config"])
        .arg(&config)
        .env("PROBITY_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start probity");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("server exited").expect("stderr");
        if let Some(rest) = line.strip_prefix("probity: listening on ") {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (url, OwnServer { child, _dir: dir })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn single_run(url: &str, clients: usize, first: usize, count: usize) {
    let next = Arc::new(AtomicUsize::new(first));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let end = first + count;
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (next, latencies, url) = (next.clone(), latencies.clone(), url.to_string());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut mine = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= end {
                        break;
                    }
                    let t = Instant::now();
                    agent
                        .post(&format!("{url}/v1/events"))
                        .set("content-type", "application/json")
                        .send_string(&event(n))
                        .expect("event accepted");
                    mine.push(t.elapsed());
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("client");
    }
    let elapsed = started.elapsed();
    let mut latencies = latencies.lock().expect("lock").clone();
    latencies.sort();
    println!(
        "single events, {clients:>2} clients: {:>7.0} events/s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

fn batch_run(url: &str, first: usize) {
    let agent = ureq::AgentBuilder::new().build();
    let bodies: Vec<String> = (0..BATCHES)
        .map(|b| {
            let start = first + b * BATCH_SIZE;
            (start..start + BATCH_SIZE)
                .map(event)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let started = Instant::now();
    for body in &bodies {
        agent
            .post(&format!("{url}/v1/events"))
            .set("content-type", "application/x-ndjson")
            .send_string(body)
            .expect("batch accepted");
    }
    let elapsed = started.elapsed();
    println!(
        "batches of {BATCH_SIZE}, 1 client: {:>7.0} events/s   {:>7.2} ms per batch",
        (BATCHES * BATCH_SIZE) as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / BATCHES as f64
    );
}

fn main() {
    let (url, _server) = match std::env::args().nth(1) {
        Some(url) => (url, None),
        None => {
            let (url, server) = start_server();
            (url, Some(server))
        }
    };
    println!("target: {url}");
    let mut next = 0;
    // Warm up: compile caches, first instances.
    single_run(&url, 4, next, 300);
    next += 300;
    for clients in [1, 8, 32] {
        single_run(&url, clients, next, SINGLE_EVENTS);
        next += SINGLE_EVENTS;
    }
    batch_run(&url, next);
}
