//! A generated market for the tests that compare whole runs: the same events through
//! differently arranged servers (partition counts, a rebuild, a cluster) must give the
//! same verdicts and histories.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Client, ConfigText};
use crate::brush::market::{Market, Params};

/// The three bundled plugins (generous deadlines), `partitions` partition threads.
pub fn three_plugins(partitions: u16) -> String {
    ConfigText::new()
        .server("watch_config = false")
        .server(&format!("partitions = {partitions}"))
        .good("enabled = false")
        .tail(concat!(
            "[plugins.brush]\nbundled = \"brush-orders\"\nlimits = { deadline_ms = 20000 }\n",
            "[plugins.claims]\nbundled = \"claims\"\nlimits = { deadline_ms = 20000 }\n",
            "[plugins.sla]\nbundled = \"sla\"\nlimits = { deadline_ms = 20000 }\n",
        ))
        .render()
}

/// [`three_plugins`] and a buyer-keyed plugin, `refunds` (`tests/plugins/serial-refunds`,
/// flagging a buyer's second refund request in 30 days, at any sellers): an event with
/// a buyer also goes to its buyer's shard.
pub fn four_plugins(partitions: u16) -> String {
    format!(
        "{}\n[plugins.refunds]\npath = \"{}\"\nsettings = {{ min_refunds = 2, min_sellers = 1 }}\n",
        three_plugins(partitions),
        crate::test_plugin("serial-refunds").display()
    )
}

/// A generated market's events (brush rings, honest orders, listings, refund requests of
/// a third of the orders, a day after each), with some orders never shipped (their SLA deadlines pass, and
/// fire on whichever shard's event moves the clock past them) and some orders' later
/// payments moved ahead of their `order.placed` (they arrive first and wait for it).
pub fn stream() -> Vec<Value> {
    let market = Market::generate(Params::small(11));
    let digit = |order: &str| order.bytes().map(u32::from).sum::<u32>();
    let mut events: Vec<Value> = market
        .events
        .iter()
        .map(|ev| ev.json())
        .filter(|e| {
            e["type"] != "order.shipped"
                || digit(e["order_id"].as_str().unwrap_or_default()) % 5 != 0
        })
        .collect();
    let refunds: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] == "order.placed")
        .filter(|e| digit(e["order_id"].as_str().unwrap_or_default()) % 3 == 0)
        .map(|e| {
            let order = e["order_id"].as_str().unwrap_or_default();
            let at =
                probity::model::time::parse_rfc3339(e["occurred_at"].as_str().unwrap_or_default())
                    .unwrap_or_default();
            serde_json::json!({
                "event_id": format!("refund-{order}"), "type": "refund.requested",
                "occurred_at": probity::model::time::format_rfc3339(at + 86_400_000),
                "order_id": order, "refund_id": format!("R-{order}"), "reason": "not as described"
            })
        })
        .collect();
    events.extend(refunds);
    // In time order, as a marketplace sends them: the clock moves a little with each
    // event, and a deadline passes on whichever seller's event comes next.
    events.sort_by_key(|e| {
        probity::model::time::parse_rfc3339(e["occurred_at"].as_str().unwrap_or_default())
            .unwrap_or_default()
    });
    let mut placed_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut moved = 0;
    let mut index = 0;
    while index < events.len() {
        let event = &events[index];
        let order = event["order_id"].as_str().unwrap_or_default().to_string();
        match event["type"].as_str() {
            Some("order.placed") => {
                placed_at.insert(order, index);
            }
            // A payment a little after its order, delivered before it.
            Some("order.paid") => {
                if let Some(&at) = placed_at.get(&order)
                    && digit(&order) % 7 == 0
                {
                    let early = events.remove(index);
                    events.insert(at, early);
                    placed_at.insert(order, at + 1);
                    moved += 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    assert!(moved > 10, "some events arrive before their order: {moved}");
    events
}

/// `events` as NDJSON request bodies of `size` events each.
pub fn ndjson_batches(events: &[Value], size: usize) -> Vec<String> {
    events
        .chunks(size)
        .map(|chunk| chunk.iter().map(|e| e.to_string() + "\n").collect())
        .collect()
}

pub fn send_all(client: &Client, events: &[Value]) -> usize {
    let mut waiting = 0;
    for body in ndjson_batches(events, 400) {
        let reply = client.send_ndjson(&body);
        let r = reply.ok();
        assert_eq!(
            r["rejected"].as_array().map(Vec::len),
            Some(0),
            "{}",
            reply.text
        );
        waiting += r["waiting"].as_u64().unwrap_or(0) as usize;
    }
    waiting
}

/// Every verdict, by subject, with its history.
pub fn everything(client: &Client) -> BTreeMap<String, (Value, Value)> {
    let mut all = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/verdicts?limit=500&cursor={cursor}"),
            None => "/v1/verdicts?limit=500".to_string(),
        };
        let reply = client.get(&path);
        let page = reply.ok().clone();
        for verdict in page["verdicts"].as_array().expect("verdicts") {
            let (kind, id) = (
                verdict["subject"]["type"].as_str().expect("type"),
                verdict["subject"]["id"].as_str().expect("id"),
            );
            let history = client
                .get(&format!("/v1/verdicts/{kind}/{id}/history?limit=1000"))
                .ok()["findings"]
                .clone();
            all.insert(format!("{kind}/{id}"), (verdict.clone(), history));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    all
}

pub fn compare(
    label: &str,
    a: &BTreeMap<String, (Value, Value)>,
    b: &BTreeMap<String, (Value, Value)>,
) {
    assert_eq!(a.len(), b.len(), "{label}: as many subjects");
    for (subject, (verdict, history)) in a {
        let (other_verdict, other_history) = b
            .get(subject)
            .unwrap_or_else(|| panic!("{label}: {subject} missing"));
        assert_eq!(verdict, other_verdict, "{label}: the verdict of {subject}");
        assert_eq!(history, other_history, "{label}: the history of {subject}");
    }
}

/// Every seller's current rating (one page: the generated markets have few sellers).
pub fn ratings(client: &Client) -> Value {
    let page = client.get("/v1/ratings?limit=1000").ok().clone();
    assert!(page["next_cursor"].is_null(), "one page: {page}");
    page["ratings"].clone()
}
