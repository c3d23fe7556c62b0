//! Fair scheduling: a single event sent while big NDJSON batches are being evaluated is
//! answered before them, not after (the pipeline thread evaluates the jobs it holds round
//! robin, a slice of each in turn).

use std::sync::mpsc;
use std::time::Duration;

use probity_e2e::server::{listing, start_usual, wait_for};

const BATCHES: usize = 3;
const PER_BATCH: usize = 3000;

/// Accepted events so far, from `/metrics`.
fn accepted(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with("probity_events_total") && line.contains("accepted"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn a_single_event_does_not_wait_for_the_batches_before_it() {
    let server = start_usual();
    let (done, finished) = mpsc::channel::<String>();
    let mut senders = Vec::new();
    for b in 0..BATCHES {
        let client = server.client();
        let done = done.clone();
        senders.push(std::thread::spawn(move || {
            let body: String = (0..PER_BATCH)
                .map(|n| {
                    let id = format!("b{b}-{n}");
                    listing(&id, "2026-11-01T10:00:00Z", &id, "S-1", "a plain title").to_string()
                        + "\n"
                })
                .collect();
            let reply = client.send_ndjson(&body);
            assert_eq!(reply.status, 200, "{}", reply.text);
            let _ = done.send(format!("batch {b}"));
        }));
    }
    // Once the batches are being evaluated, send one event.
    let client = server.client();
    let started = wait_for(Duration::from_secs(60), || {
        (accepted(&client.get("/metrics").text) > 0).then_some(())
    });
    assert!(started.is_some(), "the batches never started");
    let reply = client.send(&listing(
        "single",
        "2026-11-01T10:00:00Z",
        "L-single",
        "S-2",
        "a plain title",
    ));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let _ = done.send("single".into());
    drop(done);
    for sender in senders {
        sender.join().expect("a batch sender");
    }
    let order: Vec<String> = finished.iter().collect();
    let single = order.iter().position(|what| what == "single");
    let still_running = accepted(&client.get("/metrics").text);
    assert_eq!(
        single,
        Some(0),
        "the single event was answered after a batch: {order:?} (accepted: {still_running})"
    );
}
