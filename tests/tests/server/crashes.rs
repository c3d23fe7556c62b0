//! Crashes: SIGKILL again and again in the middle of a concurrent ingest, with a restart
//! after each. What this proves, after every round and at the end:
//! - the store reopens cleanly every time (the server starts and is ready);
//! - no acknowledged event is lost: re-sending every event of the stream at the end
//!   gives `duplicate` for each one;
//! - no finding is recorded twice: each flagged listing's history holds its `good.word`
//!   finding exactly once, however often its event was re-sent across crashes;
//! - timers still fire, exactly once: every paid order never shipped gets exactly one
//!   `good.not_shipped`, and no shipped order gets one.
//!
//! Short run: 8 rounds; `PROBITY_LONG_TESTS=1`: 50 rounds. Storage failures (a full disk,
//! a read-only data directory) are in `storage_faults`.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use probity::model::time::format_rfc3339;
use probity_e2e::rounds;
use probity_e2e::server::{
    Client, ConfigText, Server, listing, millis, order_paid, order_placed, order_shipped,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Fresh events per round.
const PER_ROUND: usize = 100;
/// Concurrent clients: the first sends NDJSON batches of [`BATCH`], the others single
/// events.
const CLIENTS: usize = 4;
const BATCH: usize = 5;
/// Orders are shipped this many groups (of four events) after they were paid.
const SHIP_LAG: usize = 7;

/// Event `k` of the crash stream, 30 s of event time apart. Group `g` of four: listing
/// `L-g` (every fifth flagged), order `O-g` placed and paid, then either the shipment of
/// order `O-(g-SHIP_LAG)` (when that one is even) or a clean listing `N-g`.
fn crash_event(k: usize) -> Value {
    let at = format_rfc3339(millis("2026-11-01T00:00:00Z") + k as i64 * 30_000);
    let (g, slot) = (k / 4, k % 4);
    let id = format!("c{k}");
    match slot {
        0 => {
            let title = if g % 5 == 0 {
                "forbidden deal"
            } else {
                "fine deal"
            };
            listing(&id, &at, &format!("L-{g}"), &format!("S-{}", g % 7), title)
        }
        1 => order_placed(
            &id,
            &at,
            &format!("O-{g}"),
            &format!("L-{g}"),
            &format!("S-{}", g % 7),
            &format!("B-{g}"),
        ),
        2 => order_paid(&id, &at, &format!("O-{g}")),
        _ => match g.checked_sub(SHIP_LAG) {
            Some(shipped) if is_shipped(shipped) => {
                order_shipped(&id, &at, &format!("O-{shipped}"))
            }
            _ => listing(&id, &at, &format!("N-{g}"), "S-0", "fine deal"),
        },
    }
}

/// Whether order `O-g` gets shipped in a stream of `groups` groups.
fn is_shipped(g: usize) -> bool {
    g.is_multiple_of(2)
}

/// Send what `queue` holds with [`CLIENTS`] clients until it is empty or the server is
/// gone; SIGKILL it (`kill`) after `kill_after` acknowledgements. Returns what was
/// acknowledged and what must be sent again.
fn ingest_round(
    client: &Client,
    queue: Vec<usize>,
    kill_after: Option<usize>,
    kill: impl FnOnce(),
) -> (Vec<usize>, Vec<usize>) {
    let queue = Arc::new(Mutex::new(VecDeque::from(queue)));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let again = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (client, queue, acked, again) =
                (client.clone(), queue.clone(), acked.clone(), again.clone());
            thread::spawn(move || {
                loop {
                    let take = if n == 0 { BATCH } else { 1 };
                    let items: Vec<usize> = {
                        let mut q = queue.lock().expect("queue");
                        let n = take.min(q.len());
                        q.drain(..n).collect()
                    };
                    if items.is_empty() {
                        break;
                    }
                    match send(&client, &items) {
                        Ok(()) => acked.lock().expect("acked").extend(items),
                        Err(_) => {
                            again.lock().expect("again").extend(items);
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    if let Some(kill_after) = kill_after {
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked.lock().expect("acked").len() < kill_after {
            assert!(Instant::now() < deadline, "no progress before the kill");
            thread::sleep(Duration::from_millis(1));
        }
        kill();
    }
    for thread in threads {
        thread.join().expect("client thread");
    }
    let mut again = std::mem::take(&mut *again.lock().expect("again"));
    again.extend(queue.lock().expect("queue").drain(..));
    let acked = std::mem::take(&mut *acked.lock().expect("acked"));
    (acked, again)
}

/// Send events `items` (one, or a batch); `Ok` only for a `200` with nothing rejected.
fn send(client: &Client, items: &[usize]) -> Result<(), String> {
    let reply = if let [one] = items {
        client.try_send(&crash_event(*one))?
    } else {
        let body: Vec<String> = items.iter().map(|&k| crash_event(k).to_string()).collect();
        client.try_request(
            "POST",
            "/v1/events",
            &[("content-type", "application/x-ndjson")],
            Some(body.join("\n").as_bytes()),
        )?
    };
    match reply.status {
        200 => {
            let rejected = reply.body["rejected"].as_array().map_or(0, Vec::len);
            assert_eq!(rejected, 0, "{}", reply.text);
            Ok(())
        }
        // Draining or the store being closed under a kill: not acknowledged.
        503 => Err(reply.text),
        other => panic!("unexpected {other}: {}", reply.text),
    }
}

/// The number of findings with `rule` in a subject's history.
fn history_count(c: &Client, kind: &str, id: &str, rule: &str) -> usize {
    let reply = c.get(&format!("/v1/verdicts/{kind}/{id}/history"));
    reply.ok()["findings"]
        .as_array()
        .map_or(0, |all| all.iter().filter(|f| f["rule"] == rule).count())
}

/// The headline test (see the module docs).
#[test]
fn repeated_sigkill_during_ingest_loses_and_duplicates_nothing() {
    sigkill_rounds("default checkpoints", &ConfigText::new());
}

/// The same with a checkpoint every 10 ms: the checkpoint thread writes sled and syncs it
/// almost all the time, so most kills land in the middle of one.
#[test]
fn a_sigkill_during_a_checkpoint_loses_and_duplicates_nothing() {
    sigkill_rounds(
        "a checkpoint every 10 ms",
        &ConfigText::new().server("checkpoint_interval_ms = 10"),
    );
}

fn sigkill_rounds(label: &str, config: &ConfigText) {
    let crash_rounds = rounds(8, 50);
    let total = crash_rounds * PER_ROUND;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_C4A5);
    let mut server = Server::start(&config.render());
    let mut pending: Vec<usize> = Vec::new();
    let mut acked_before_a_kill = BTreeSet::new();
    for round in 0..crash_rounds {
        let mut queue = std::mem::take(&mut pending);
        queue.extend(round * PER_ROUND..(round + 1) * PER_ROUND);
        let kill_after = rng.random_range(10..queue.len() - 10);
        let client = server.client();
        let pid = server.pid();
        let (acked, again) = ingest_round(&client, queue, Some(kill_after), || {
            // SAFETY: kill(2) on our own child's pid.
            let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            assert_eq!(rc, 0, "SIGKILL");
        });
        acked_before_a_kill.extend(acked);
        pending = again;
        server.kill_9(); // reap
        server.restart();
        assert_eq!(server.client().get("/readyz").status, 200, "round {round}");
    }
    let c = server.client();
    let (acked, again) = ingest_round(&c, pending, None, || {});
    assert!(
        again.is_empty(),
        "not acknowledged without a kill: {again:?}"
    );
    let all: BTreeSet<usize> = acked
        .into_iter()
        .chain(acked_before_a_kill.clone())
        .collect();
    assert_eq!(
        all.len(),
        total,
        "every event acknowledged once the kills stop"
    );

    // Nothing acknowledged was lost: every event is known, with the same content.
    for k in 0..total {
        let reply = c.send(&crash_event(k));
        assert_eq!(
            reply.ok()["status"],
            "duplicate",
            "c{k} lost: {}",
            reply.text
        );
    }
    // A day later every timer is due.
    c.send(&listing(
        "c-end",
        "2026-11-03T00:00:00Z",
        "L-end",
        "S-0",
        "fine",
    ))
    .ok();
    let groups = total / 4;
    for g in 0..groups {
        let flagged = usize::from(g % 5 == 0);
        let word = history_count(&c, "listing", &format!("L-{g}"), "good.word");
        assert_eq!(word, flagged, "L-{g}: good.word recorded {word} times");
        let shipped = g + SHIP_LAG < groups && is_shipped(g);
        let late = history_count(&c, "order", &format!("O-{g}"), "good.not_shipped");
        assert_eq!(
            late,
            usize::from(!shipped),
            "O-{g}: not_shipped {late} times"
        );
    }
    assert_eq!(
        c.plugin("good")["usage"]["timers"],
        0,
        "every timer fired or was cancelled"
    );
    let replays = server
        .stderr_text()
        .matches("replayed the event log's entries after the last checkpoint")
        .count();
    eprintln!(
        "crashes ({label}): {crash_rounds} SIGKILL rounds, {total} events, {} acknowledged \
         before a kill, {replays} restarts replayed the log's tail, 0 lost, 0 duplicated \
         findings, {} not-shipped timers fired once each",
        acked_before_a_kill.len(),
        (0..groups)
            .filter(|&g| !(g + SHIP_LAG < groups && is_shipped(g)))
            .count()
    );
}
