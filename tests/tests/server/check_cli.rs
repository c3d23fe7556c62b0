//! `probity check` with a configuration file loading a real component.

use std::path::PathBuf;
use std::process::Command;

use probity_e2e::test_plugin;

/// The `probity` binary that `cargo test --workspace` builds next to this test.
fn probity_binary() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let binary = target
        .parent()
        .expect("target dir")
        .join("debug")
        .join("probity");
    assert!(
        binary.is_file(),
        "{} is missing: run the suite with `cargo test --workspace`",
        binary.display()
    );
    binary
}

#[test]
fn check_runs_events_through_a_configured_component_and_fires_deadlines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("probity.toml");
    std::fs::write(
        &config,
        format!(
            "[runtime]\ncache_dir = {:?}\n[plugins.good]\npath = {:?}\n[plugins.good.settings]\nword = \"最佳\"\n",
            dir.path().join("cache"),
            test_plugin("good"),
        ),
    )
    .expect("config");
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            r#"{"event_id":"e1","type":"listing.upserted","occurred_at":"2026-11-01T10:00:00Z","listing_id":"L-1","seller_id":"S-1","title":"全网最佳保温杯","price":{"amount":"59.00","currency":"CNY"}}"#,
            "\n",
            r#"{"event_id":"e1b","type":"order.placed","occurred_at":"2026-11-01T10:04:00Z","order_id":"O-1","listing_id":"L-1","seller_id":"S-1","buyer_id":"B-1","quantity":1,"total":{"amount":"59.00","currency":"CNY"}}"#,
            "\n",
            r#"{"event_id":"e2","type":"order.paid","occurred_at":"2026-11-01T10:05:00Z","order_id":"O-1"}"#,
            "\n",
            r#"{"event_id":"e3","type":"order.paid","occurred_at":"2026-11-01T10:06:00Z","order_id":"O-404"}"#,
            "\n"
        ),
    )
    .expect("events");
    let output = Command::new(probity_binary())
        .args(["check", "--config"])
        .arg(&config)
        .args(["--advance-to", "2026-11-01T12:00:00Z"])
        .arg(&events)
        .output()
        .expect("run probity check");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 4: waits for order O-404")
            && stderr.contains("1 event(s) still wait for an order"),
        "{stderr}"
    );
    let verdicts: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    let last = |kind: &str, id: &str| {
        verdicts
            .iter()
            .rev()
            .find(|v| v["subject"]["type"] == kind && v["subject"]["id"] == id)
            .unwrap_or_else(|| panic!("no verdict for {kind} {id}"))
            .clone()
    };
    let listing = last("listing", "L-1");
    assert_eq!(listing["action"], "block");
    // "全网" is 6 bytes: the match starts there.
    assert_eq!(listing["findings"][0]["evidence"][0]["start"], 6);
    assert_eq!(listing["findings"][0]["evidence"][0]["excerpt"], "最佳");
    let order = last("order", "O-1");
    assert_eq!(order["findings"][0]["rule"], "good.not_shipped");
    assert_eq!(order["action"], "review");
}
