//! The bundled `claims` plugin in the real server, over HTTP: a fake discount and an
//! absolute term blocked with their evidence, cleared when the seller fixes the listing,
//! and a compliance team changing the plugin's settings in the config file (a new term
//! applies after a reload; bad settings are refused and the running ones stay).

use probity_e2e::server::{ConfigText, Server};
use serde_json::{Value, json};

fn claims_config() -> String {
    claims_config_with("")
}

fn claims_config_with(settings: &str) -> String {
    ConfigText::new()
        .server("watch_config = false")
        .tail(&format!(
            "[plugins.claims]\nbundled = \"claims\"\n{settings}"
        ))
        .render()
}

fn listing_at(id: &str, day: u32, price: &str, reference: Option<&str>, title: &str) -> Value {
    let mut event = json!({
        "event_id": id, "type": "listing.upserted",
        "occurred_at": format!("2026-10-{day:02}T10:00:00Z"),
        "listing_id": "L-9", "seller_id": "S-9", "title": title,
        "price": {"amount": price, "currency": "CNY"}, "category": "cosmetics/skincare",
    });
    if let Some(reference) = reference {
        event["reference_price"] = json!({"amount": reference, "currency": "CNY"});
    }
    event
}

fn claims_findings(verdict: &Value) -> Vec<Value> {
    verdict["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["plugin"] == "claims")
        .cloned()
        .collect()
}

#[test]
fn over_http_the_bundled_plugin_blocks_a_fake_discount_and_shows_its_evidence() {
    let server = Server::start(&claims_config());
    let c = server.client();
    c.send(&listing_at("p-1", 1, "199.00", None, "保湿面霜"))
        .ok();
    c.send(&listing_at("p-2", 9, "399.00", None, "保湿面霜"))
        .ok();
    c.send(&listing_at(
        "p-3",
        9,
        "299.00",
        Some("399.00"),
        "国家级保湿面霜",
    ))
    .ok();
    let verdict = c.verdict("listing", "L-9");
    let verdict = verdict.ok();
    assert_eq!(verdict["action"], "block");
    let found = claims_findings(verdict);
    let rules: Vec<&str> = found.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["claims.absolute_term", "claims.reference_price"]);
    let text = &found[0];
    assert_eq!(text["category"], "misleading_claim");
    assert_eq!(text["severity"], "high");
    assert_eq!(text["event_id"], "p-3");
    assert_eq!(
        text["evidence"][0],
        json!({"field": "title", "start": 0, "end": 9, "excerpt": "国家级"})
    );
    assert_eq!(found[1]["category"], "price_deception");

    // The seller fixes the listing: both findings are cleared and the listing is allowed.
    c.send(&listing_at("p-4", 20, "299.00", None, "保湿面霜"))
        .ok();
    let verdict = c.verdict("listing", "L-9");
    assert_eq!(verdict.ok()["action"], "allow");
    let history = c.get("/v1/verdicts/listing/L-9/history");
    let severities: Vec<&str> = history.ok()["findings"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|f| f["plugin"] == "claims")
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["high", "high", "info", "info"]);
}

fn action_of(c: &probity_e2e::server::Client, id: &str, title: &str) -> String {
    let event = json!({
        "event_id": format!("t-{id}"), "type": "listing.upserted",
        "occurred_at": "2026-11-02T10:00:00Z", "listing_id": id, "seller_id": "S-1",
        "title": title, "price": {"amount": "10.00", "currency": "CNY"},
    });
    c.send(&event).ok();
    let verdict = c.verdict("listing", id);
    verdict.ok()["action"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_compliance_team_adds_a_term_in_the_config_file_and_reloads() {
    let mut server = Server::start(&claims_config());
    let c = server.client();
    assert_eq!(action_of(&c, "L-1", "宇宙无敌的拖鞋"), "allow");

    server.set_config(&claims_config_with(
        "[plugins.claims.settings.rules.absolute_term]\nadd = [\"宇宙无敌\"]\n",
    ));
    c.post_empty("/v1/admin/reload").ok();
    assert_eq!(action_of(&c, "L-2", "宇宙无敌的拖鞋"), "block");
    let audit = c.get("/v1/admin/audit");
    let latest = &audit.ok()["entries"][0];
    assert_eq!(latest["applied"], true);
    assert!(
        latest.to_string().contains("settings"),
        "the change is audited: {latest}"
    );

    // A typo in a removal is refused, naming the setting; the running settings stay.
    server.set_config(&claims_config_with(
        "[plugins.claims.settings.rules.absolute_term]\nremove = [\"最好的\"]\n",
    ));
    let refused = c.post_empty("/v1/admin/reload");
    let problem = refused.problem(422, "config-refused");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("rules.absolute_term.remove[0]"), "{detail}");
    assert_eq!(action_of(&c, "L-3", "宇宙无敌的拖鞋"), "block");
}
