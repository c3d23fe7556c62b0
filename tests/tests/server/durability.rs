//! `probity serve` durability: a `200` means the event is on disk, whatever happens to the
//! process afterwards; timers survive restarts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use probity_e2e::server::{
    Client, ConfigText, Server, listing, order_paid, order_placed, order_shipped,
};
use serde_json::Value;

const TOTAL: usize = 400;
const CLIENTS: usize = 4;

/// Listing `i` of the stream: one second apart, every fifth one flagged.
fn stream_event(i: usize) -> (Value, &'static str) {
    let at = format!("2026-11-01T10:{:02}:{:02}Z", i / 60, i % 60);
    let flagged = i.is_multiple_of(5);
    let title = if flagged {
        "forbidden deal"
    } else {
        "fine deal"
    };
    let event = listing(
        &format!("d-{i}"),
        &at,
        &format!("L-{i}"),
        &format!("S-{}", i % 7),
        title,
    );
    (event, if flagged { "block" } else { "allow" })
}

/// Stream the events with `CLIENTS` concurrent clients until done or the server is gone;
/// call `stop` once `stop_after` events were acknowledged. Returns the acknowledged
/// indexes.
fn stream_and_stop(client: &Client, stop_after: usize, stop: impl FnOnce()) -> Vec<usize> {
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, next, acked) = (client.clone(), next.clone(), acked.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        break;
                    }
                    match client.try_send(&stream_event(i).0) {
                        Ok(reply) if reply.status == 200 => {
                            assert_eq!(reply.body["status"], "accepted", "{}", reply.text);
                            acked.lock().unwrap().push(i);
                        }
                        // Refused while shutting down: not acknowledged.
                        Ok(reply) => assert_eq!(reply.status, 503, "{}", reply.text),
                        // The server is gone.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    // Poll often: the stream may be fast, and the stop should land in its middle.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < stop_after {
        assert!(
            Instant::now() < deadline,
            "{stop_after} events were not acknowledged in time"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    stop();
    for thread in threads {
        thread.join().expect("client thread");
    }
    let mut acked = acked.lock().unwrap().clone();
    acked.sort_unstable();
    eprintln!("{} of {TOTAL} events acknowledged", acked.len());
    acked
}

/// After restart: every acknowledged event's verdict is there, a resend of it is a
/// `duplicate`, and every other event of the stream is accepted or a duplicate (never
/// half-applied, never a conflict).
fn check_after_restart(server: &Server, acked: &[usize]) {
    let c = server.client();
    for &i in acked {
        let (_, expected) = stream_event(i);
        let reply = c.verdict("listing", &format!("L-{i}"));
        assert_eq!(
            reply.status,
            200,
            "acknowledged event d-{i} lost: {}\n{}",
            reply.text,
            server.stderr_text()
        );
        assert_eq!(reply.body["action"], expected, "L-{i}: {}", reply.text);
    }
    // Idempotency survives too: other content under an acknowledged id is a conflict.
    if let Some(&i) = acked.first() {
        let (mut event, _) = stream_event(i);
        event["title"] = "changed after restart".into();
        c.send(&event).problem(409, "event-id-conflict");
    }
    for i in 0..TOTAL {
        let (event, expected) = stream_event(i);
        let reply = c.send(&event);
        let status = reply.ok()["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if acked.contains(&i) {
            assert_eq!(status, "duplicate", "d-{i} was acknowledged before");
        } else {
            assert!(
                status == "accepted" || status == "duplicate",
                "d-{i}: {status}"
            );
        }
        assert_eq!(
            c.verdict("listing", &format!("L-{i}")).ok()["action"],
            expected
        );
    }
}

/// Events acknowledged with `200` before a SIGKILL in the middle of a concurrent stream
/// are all there after a restart on the same data directory.
#[test]
fn acknowledged_events_survive_sigkill_mid_stream() {
    let mut server = Server::start(&ConfigText::new().render());
    let client = server.client();
    let acked = stream_and_stop(&client, 120, || server.signal(libc::SIGKILL));
    server.kill_9(); // reap
    assert!(acked.len() >= 120);
    server.restart();
    check_after_restart(&server, &acked);
}

/// SIGTERM in the middle of a concurrent stream drains, flushes and exits 0; everything
/// acknowledged is there after a restart.
#[test]
fn sigterm_mid_stream_exits_0_and_keeps_acknowledged_events() {
    let mut server = Server::start(&ConfigText::new().render());
    let client = server.client();
    let acked = stream_and_stop(&client, 120, || server.signal(libc::SIGTERM));
    let status = server.wait_for_exit();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM exits 0; stderr:\n{}",
        server.stderr_text()
    );
    server.restart();
    check_after_restart(&server, &acked);
}

/// A paid order's timer survives a graceful restart and a SIGKILL: once a later event
/// moves the event-time clock past its due time, the order gets `good.not_shipped`;
/// shipped orders and orders not yet due do not.
#[test]
fn timers_survive_restarts() {
    let mut server = Server::start(&ConfigText::new().render());
    let c = server.client();
    c.send(&order_placed(
        "t-1",
        "2026-11-01T10:00:00Z",
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("t-2", "2026-11-01T10:05:00Z", "O-1"))
        .ok(); // due 11:05
    for (id, order) in [("t-2b", "O-2"), ("t-2c", "O-3")] {
        c.send(&order_placed(
            id,
            "2026-11-01T10:05:30Z",
            order,
            "L-1",
            "S-1",
            "B-1",
        ))
        .ok();
    }
    c.send(&order_paid("t-3", "2026-11-01T10:06:00Z", "O-2"))
        .ok();
    c.send(&order_shipped("t-4", "2026-11-01T10:30:00Z", "O-2"))
        .ok();
    c.send(&order_paid("t-5", "2026-11-01T10:50:00Z", "O-3"))
        .ok(); // due 11:50
    assert_eq!(c.plugin("good")["usage"]["timers"], 2);

    server.restart();
    let c = server.client();
    assert_eq!(
        c.plugin("good")["usage"]["timers"],
        2,
        "timers after restart"
    );
    assert_eq!(c.verdict("order", "O-1").ok()["action"], "allow");

    c.send(&listing(
        "t-6",
        "2026-11-01T11:30:00Z",
        "L-9",
        "S-9",
        "fine",
    ))
    .ok();
    let o1 = c.verdict("order", "O-1");
    assert_eq!(o1.ok()["action"], "review", "{}", o1.text);
    let finding = &o1.body["findings"][0];
    assert_eq!(finding["rule"], "good.not_shipped");
    assert_eq!(finding["category"], "sla_breach");
    assert_eq!(finding["severity"], "medium");
    assert_eq!(c.verdict("order", "O-2").ok()["action"], "allow");
    assert_eq!(c.verdict("order", "O-3").ok()["action"], "allow");

    // Now a SIGKILL: O-3's timer (due 11:50) and the clock (11:30) are on disk.
    server.kill_9();
    server.restart();
    let c = server.client();
    assert_eq!(c.verdict("order", "O-3").ok()["action"], "allow");
    // An earlier event does not move the clock back or fire anything.
    c.send(&listing(
        "t-7",
        "2026-11-01T10:10:00Z",
        "L-8",
        "S-9",
        "fine",
    ))
    .ok();
    assert_eq!(c.verdict("order", "O-3").ok()["action"], "allow");
    c.send(&listing(
        "t-8",
        "2026-11-01T11:55:00Z",
        "L-7",
        "S-9",
        "fine",
    ))
    .ok();
    let o3 = c.verdict("order", "O-3");
    assert_eq!(o3.ok()["action"], "review", "{}", o3.text);
    assert_eq!(o3.body["findings"][0]["rule"], "good.not_shipped");
    let history = c.get("/v1/verdicts/order/O-1/history");
    assert_eq!(
        history.ok()["findings"].as_array().map(Vec::len),
        Some(1),
        "O-1 fired once: {}",
        history.text
    );
}
