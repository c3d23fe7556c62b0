//! `probity check` as a user runs it: the real binary, real files, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn check(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probity");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

const LISTING: &str = r#"{"event_id":"e1","type":"listing.upserted","occurred_at":"2026-11-01T10:00:00+08:00","listing_id":"L-1","seller_id":"S-1","title":"保温杯","price":{"amount":"59.00","currency":"CNY"}}"#;

#[test]
fn valid_events_print_one_verdict_line_per_change() {
    let output = check(&["-"], &format!("{LISTING}\n"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|v| v["subject"]["type"] == "listing" && v["subject"]["id"] == "L-1")
    );
    assert!(lines.iter().all(|v| v["action"] == "allow"));
}

#[test]
fn a_bad_line_is_reported_with_its_number_and_the_rest_is_handled() {
    let input = format!(
        "{LISTING}\n{{\"event_id\": 5}}\n\n{}\n",
        LISTING.replace("e1", "e2").replace("L-1", "L-2")
    );
    let output = check(&[], &input);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"L-2\""), "{stdout}");
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let output = check(&["--config", "/nonexistent/probity.toml"], "");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no configuration file at /nonexistent/probity.toml"),
        "{stderr}"
    );
}

#[test]
fn a_bad_advance_time_is_a_clear_error() {
    let output = check(&["--advance-to", "tomorrow"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--advance-to"));
}
