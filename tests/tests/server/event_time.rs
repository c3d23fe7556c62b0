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
