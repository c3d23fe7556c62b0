//! Event time in the real server: an event dated beyond `[clock] max_future` is refused
//! and changes nothing, so the clock — and every deadline it drives — is not ruined.

use probity_e2e::server::{ConfigText, Server, listing, order_paid, order_placed};

fn sla_server() -> Server {
    Server::start(
        &ConfigText::new()
            .server("watch_config = false")
            .good("enabled = false")
            .tail("[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 10000 }\n")
            .render(),
    )
}

#[test]
fn an_event_from_year_9999_is_refused_and_the_deadlines_still_pass() {
    let server = sla_server();
    let c = server.client();
    c.send(&order_placed(
        "e-1",
        "2026-11-10T00:00:00Z",
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("e-2", "2026-11-10T00:05:00Z", "O-1"))
        .ok();

    // One event far in the future: refused, naming the field and the bound.
    let reply = c.send(&listing("e-3", "9999-12-31T00:00:00Z", "L-9", "S-9", "tea"));
    let problem = reply.problem(422, "invalid-event");
    assert_eq!(problem["field"], "occurred_at", "{}", reply.text);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("max_future") && detail.contains("10m"),
        "{detail}"
    );
    // Nothing of it was stored.
    c.verdict("listing", "L-9").expect_status(404);
    // In a batch, the line is rejected by number and the others applied.
    let batch = format!(
        "{}\n{}\n",
        listing("e-4", "2026-11-10T01:00:00Z", "L-2", "S-1", "tea"),
        listing("e-5", "3000-01-01T00:00:00Z", "L-3", "S-1", "tea"),
    );
    let reply = c.send_ndjson(&batch);
    let body = reply.ok();
    assert_eq!(body["accepted"], 1, "{}", reply.text);
    assert_eq!(body["rejected"][0]["line"], 2, "{}", reply.text);
    assert_eq!(
        body["rejected"][0]["field"], "occurred_at",
        "{}",
        reply.text
    );

    // The order paid on 11-10 and never shipped is still flagged once event time passes
    // its deadline: the refused events did not move the clock.
    c.send(&listing("e-6", "2026-11-20T00:00:00Z", "L-4", "S-2", "tea"))
        .ok();
    let verdict = c.verdict("order", "O-1").ok().clone();
    let sla: Vec<_> = verdict["findings"]
        .as_array()
        .map(|f| f.iter().filter(|f| f["plugin"] == "sla").collect())
        .unwrap_or_default();
    assert!(!sla.is_empty(), "the ship deadline passed: {verdict}");
    assert_ne!(verdict["action"], "allow", "{verdict}");
}

/// Days before now, as RFC 3339.
fn days_ago(days: i64) -> String {
    use probity::model::time::{format_rfc3339, wall_clock_now};
    format_rfc3339(wall_clock_now() - days * 86_400_000)
}

fn sla_rules(verdict: &serde_json::Value) -> Vec<String> {
    verdict["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["plugin"] == "sla")
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// With `follow_wall_clock`, a deadline passes with no event at all; the advance is in
/// the event log, so `probity rebuild` fires the same timers at the same points.
#[test]
fn a_deadline_passes_on_a_quiet_night_and_a_rebuild_repeats_it() {
    let mut server = Server::start(
        &ConfigText::new()
            .server("watch_config = false")
            .clock("follow_wall_clock = true")
            .good("enabled = false")
            .tail("[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 10000 }\n")
            .render(),
    );
    let c = server.client();
    // Paid five days ago, never shipped: the 48-hour deadline passed three days ago.
    c.send(&order_placed(
        "e-1",
        &days_ago(5),
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("e-2", &days_ago(5), "O-1")).ok();
    let mut flagged = Vec::new();
    for _ in 0..100 {
        flagged = sla_rules(c.verdict("order", "O-1").ok());
        if !flagged.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        flagged,
        ["sla.ship_late"],
        "no event came, the wall clock moved"
    );

    // An order paid four days ago arrives after the clock moved: late, evaluated at the
    // clock. A replay that did not repeat the advance would decide both differently.
    c.send(&order_placed(
        "e-3",
        &days_ago(4),
        "O-2",
        "L-1",
        "S-1",
        "B-2",
    ))
    .ok();
    c.send(&order_paid("e-4", &days_ago(4), "O-2")).ok();
    let subjects = [("order", "O-1"), ("order", "O-2"), ("seller", "S-1")];
    let before: Vec<_> = subjects
        .iter()
        .map(|(kind, id)| c.verdict(kind, id).ok().clone())
        .collect();
    assert_eq!(sla_rules(&before[1]), ["sla.ship_late"], "{}", before[1]);
    server.stop();

    let stderr = server.rebuild();
    assert!(stderr.contains(" event log entries"), "{stderr}");

    // Back without the wall clock, so nothing moves after the rebuild.
    server.set_config(
        &ConfigText::new()
            .server("watch_config = false")
            .good("enabled = false")
            .tail("[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 10000 }\n")
            .render(),
    );
    server.restart();
    let c = server.client();
    let after: Vec<_> = subjects
        .iter()
        .map(|(kind, id)| c.verdict(kind, id).ok().clone())
        .collect();
    assert_eq!(after, before);
}
