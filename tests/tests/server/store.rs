//! The store from the operator's side: a second server on the same data directory is
//! refused without harm, and `probity rebuild` recomputes the verdicts from the event log.

use std::process::Command;

use probity_e2e::server::{ConfigText, Server, listing, order_paid, order_placed, probity_binary};

#[test]
fn a_second_server_on_the_same_data_directory_is_refused_and_the_first_keeps_serving() {
    let server = Server::start(&ConfigText::new().to_string());
    let client = server.client();
    client
        .send(&listing(
            "e-1",
            "2026-11-01T10:00:00Z",
            "L-1",
            "S-1",
            "forbidden",
        ))
        .ok();
    let output = Command::new(probity_binary())
        .args(["serve", "--config"])
        .arg(server.config_path())
        .output()
        .expect("second server runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locked by another running Probity process"),
        "the refusal says why: {stderr}"
    );
    assert_eq!(client.verdict("listing", "L-1").ok()["action"], "block");
}

#[test]
fn rebuild_replays_the_event_log_into_the_same_verdicts() {
    let mut server = Server::start(&ConfigText::new().to_string());
    let client = server.client();
    for event in [
        listing("e-1", "2026-11-01T10:00:00Z", "L-1", "S-1", "forbidden tea"),
        order_placed("e-2", "2026-11-01T10:01:00Z", "O-1", "L-1", "S-1", "B-1"),
        order_paid("e-3", "2026-11-01T10:02:00Z", "O-1"),
        listing("e-4", "2026-11-01T12:00:00Z", "L-2", "S-2", "plain tea"),
    ] {
        client.send(&event).ok();
    }
    let subjects = [
        ("listing", "L-1"),
        ("order", "O-1"),
        ("seller", "S-1"),
        ("listing", "L-2"),
    ];
    let before: Vec<_> = subjects
        .iter()
        .map(|(kind, id)| client.verdict(kind, id).ok().clone())
        .collect();
    assert_eq!(before[1]["action"], "review", "the shipping timer fired");
    let history_before = client.get("/v1/verdicts/order/O-1/history").ok().clone();
    server.stop();

    let stderr = server.rebuild();
    assert!(stderr.contains(" event log entries"), "{stderr}");

    server.restart();
    let client = server.client();
    let after: Vec<_> = subjects
        .iter()
        .map(|(kind, id)| client.verdict(kind, id).ok().clone())
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        client.get("/v1/verdicts/order/O-1/history").ok(),
        &history_before
    );
    let again = client.send(&listing(
        "e-1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "forbidden tea",
    ));
    assert_eq!(again.ok()["status"], "duplicate");
}

/// A rebuild killed midway leaves the old store whole: every event is still known (a
/// re-send is a duplicate), every verdict is there, and the next start removes the
/// half-made copy.
#[test]
fn a_rebuild_killed_midway_leaves_the_store_whole() {
    let mut server = Server::start(&ConfigText::new().to_string());
    let client = server.client();
    let batch: String = (0..400)
        .map(|i| {
            format!(
                "{}\n",
                listing(
                    &format!("e-{i}"),
                    "2026-11-01T10:00:00Z",
                    &format!("L-{i}"),
                    "S-1",
                    if i % 2 == 0 {
                        "forbidden tea"
                    } else {
                        "plain tea"
                    },
                )
            )
        })
        .collect();
    assert_eq!(client.send_ndjson(&batch).ok()["accepted"], 400);
    let before = client.verdict("listing", "L-398").ok().clone();
    server.stop();

    let fresh = server.data_dir().join("store.rebuild");
    let mut rebuild = Command::new(probity_binary())
        .args(["rebuild", "--config"])
        .arg(server.config_path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rebuild starts");
    for _ in 0..600 {
        if fresh.exists() || rebuild.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = rebuild.kill();
    let _ = rebuild.wait();

    server.restart();
    assert!(!fresh.exists(), "the half-made copy is removed at start");
    let client = server.client();
    let again = client.send_ndjson(&batch);
    assert_eq!(again.ok()["duplicates"], 400, "{}", again.text);
    assert_eq!(client.verdict("listing", "L-398").ok(), &before);
}

/// `[privacy] event_log_retention_days`: entries older than that leave the event log (at
/// start and hourly); verdicts stay; a rebuild then replays what is left.
#[test]
fn the_event_log_keeps_entries_only_for_their_retention() {
    use probity::model::time::{format_rfc3339, wall_clock_now};
    let days_ago = |days: i64| format_rfc3339(wall_clock_now() - days * 86_400_000);
    let mut server = Server::start(
        &ConfigText::new()
            .privacy("event_log_retention_days = 30")
            .to_string(),
    );
    let client = server.client();
    client
        .send(&listing(
            "old",
            &days_ago(60),
            "L-old",
            "S-1",
            "forbidden tea",
        ))
        .ok();
    client
        .send(&listing("new", &days_ago(1), "L-new", "S-1", "plain tea"))
        .ok();
    // The purge runs at start.
    server.restart();
    let client = server.client();
    let mut purged = false;
    for _ in 0..100 {
        let metrics = client.get("/metrics").expect_status(200).text.clone();
        if metrics.contains("probity_event_log_purged_total 1") {
            purged = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(purged, "one entry purged");
    assert_eq!(
        client.verdict("listing", "L-old").ok()["action"],
        "block",
        "verdicts stay"
    );
    server.stop();
    let stderr = server.rebuild();
    assert!(stderr.contains("from 1 event log entries"), "{stderr}");
}
