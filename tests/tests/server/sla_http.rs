//! The bundled `sla` plugin in the real server: a deadline scheduled, the server killed
//! with SIGKILL before it passes, restarted, and the breach still reported when event
//! time passes the deadline — with no further event about the order.

use probity_e2e::server::{ConfigText, Server};
use serde_json::{Value, json};

fn event(id: &str, kind: &str, at: &str, fields: Value) -> Value {
    let mut event = json!({"event_id": id, "type": kind, "occurred_at": at});
    for (key, value) in fields.as_object().expect("fields") {
        event[key] = value.clone();
    }
    event
}

fn sla_findings(verdict: &Value) -> Vec<Value> {
    verdict["findings"]
        .as_array()
        .map(|f| f.iter().filter(|f| f["plugin"] == "sla").cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_deadline_scheduled_before_a_crash_fires_after_the_restart() {
    let config = ConfigText::new()
        .server("watch_config = false")
        .good("enabled = false")
        .tail("[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 10000 }\n")
        .render();
    let mut server = Server::start(&config);
    let c = server.client();
    c.send(&event(
        "e-1",
        "order.placed",
        "2026-10-01T00:00:00Z",
        json!({
        "order_id": "O-1", "listing_id": "L-1", "seller_id": "S-1", "buyer_id": "B-1",
        "quantity": 1, "total": {"amount": "100.00", "currency": "CNY"}}),
    ))
    .ok();
    c.send(&event(
        "e-2",
        "order.paid",
        "2026-10-01T00:00:00Z",
        json!({"order_id": "O-1"}),
    ))
    .ok();
    c.send(&event(
        "e-3",
        "complaint.opened",
        "2026-10-01T01:00:00Z",
        json!({"complaint_id": "C-1", "seller_id": "S-1"}),
    ))
    .ok();
    server.kill_9();
    server.restart();
    let c = server.client();
    let verdict = c.verdict("order", "O-1").ok().clone();
    assert!(sla_findings(&verdict).is_empty(), "{verdict}");
    // Other traffic moves event time past both deadlines.
    c.send(&event(
        "e-4",
        "order.placed",
        "2026-10-03T06:00:00Z",
        json!({
        "order_id": "O-2", "listing_id": "L-1", "seller_id": "S-2", "buyer_id": "B-2",
        "quantity": 1, "total": {"amount": "9.90", "currency": "CNY"}}),
    ))
    .ok();
    let reply = c.verdict("order", "O-1");
    let found = sla_findings(reply.ok());
    assert_eq!(found.len(), 1, "{}", reply.text);
    assert_eq!(found[0]["rule"], "sla.ship_late");
    assert_eq!(found[0]["category"], "sla_breach");
    assert_eq!(
        found[0]["message"],
        "order O-1 has not shipped: 1 min past its deadline 2026-10-03 00:00Z"
    );
    let reply = c.verdict("complaint", "C-1");
    let found = sla_findings(reply.ok());
    assert_eq!(found.len(), 1, "{}", reply.text);
    assert_eq!(found[0]["rule"], "sla.complaint_unanswered");
    assert_eq!(found[0]["severity"], "medium", "29 h past: the second step");
}
