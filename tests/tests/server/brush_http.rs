//! The bundled `brush-orders` plugin in the real server: a generated marketplace sent as
//! NDJSON batches over HTTP (so every buyer, device, address, phone and card is
//! pseudonymised by the host before the plugin sees it), with every order's action read
//! back and compared with the plugin run natively on the raw values.

use probity_e2e::brush::events::{EvKind, PlacedEv};
use probity_e2e::brush::market::{Market, Params};
use probity_e2e::brush::run_native;
use probity_e2e::server::{ConfigText, Server};

#[test]
fn over_http_the_bundled_plugin_flags_the_rings_of_a_generated_marketplace() {
    let market = Market::generate(Params::small(5));
    let native = run_native(&market, "{}");
    let config = ConfigText::new()
        .server("watch_config = false")
        .good("enabled = false")
        .tail("[plugins.brush-orders]\nbundled = \"brush-orders\"\nlimits = { deadline_ms = 10000 }\n")
        .render();
    let server = Server::start(&config);
    let c = server.client();
    for batch in market.events.chunks(2000) {
        let body: String = batch.iter().map(|ev| format!("{}\n", ev.json())).collect();
        let reply = c.send_ndjson(&body);
        let summary = reply.ok();
        assert_eq!(summary["accepted"], batch.len(), "{}", reply.text);
        assert_eq!(
            summary["rejected"].as_array().map(Vec::len),
            Some(0),
            "{}",
            reply.text
        );
    }
    let actions = ["allow", "review", "block"];
    let mut flagged = 0;
    for (order, truth) in &market.orders {
        let reply = c.verdict("order", order);
        let verdict = reply.ok();
        let expected = actions[usize::from(native.order_action(order))];
        assert_eq!(
            verdict["action"], expected,
            "{order} ({:?}): {}",
            truth.group, reply.text
        );
        flagged += usize::from(expected != "allow");
    }
    assert!(flagged > 100, "{flagged} orders flagged");
    // Retro-flagging over HTTP: the first ring order was flagged by a later event, not
    // one of its own.
    let first = market
        .events
        .iter()
        .find_map(|ev| match &ev.kind {
            EvKind::Placed(PlacedEv { order, .. })
                if native
                    .live
                    .get(&("order".into(), order.clone()))
                    .is_some_and(|r| r.contains_key("brush.ring_order")) =>
            {
                Some(order.clone())
            }
            _ => None,
        })
        .expect("a ring order");
    let own: Vec<&str> = market
        .events
        .iter()
        .filter(|ev| ev.json()["order_id"] == first.as_str())
        .map(|ev| ev.id.as_str())
        .collect();
    let reply = c.get(&format!("/v1/verdicts/order/{first}/history"));
    let history = reply.ok()["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ring = history
        .iter()
        .find(|f| f["rule"] == "brush.ring_order")
        .unwrap_or_else(|| panic!("{}", reply.text));
    let by = ring["event_id"].as_str().unwrap_or_default();
    assert!(!own.contains(&by), "{first} flagged by its own event {by}");
    // Each ring seller with linked accounts carries the ring finding, with its evidence.
    let (seller, _) = market.ring_sellers.iter().next().expect("a ring seller");
    let reply = c.verdict("seller", seller);
    let ring = reply.ok()["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "brush.ring").cloned())
        .unwrap_or_else(|| panic!("no ring finding: {}", reply.text));
    assert_eq!(ring["plugin"], "brush-orders");
    assert_eq!(ring["category"], "brush_order");
    let detail = ring["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("buyers of seller {seller} linked by shared")),
        "{detail}"
    );
    let plugin = c.plugin("brush-orders");
    assert_eq!(plugin["counters"]["errors"], 0, "{plugin}");
}
