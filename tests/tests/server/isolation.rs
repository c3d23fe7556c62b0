//! Plugins are isolated from each other: a hostile plugin (`snoop`, configured as `goo`,
//! a prefix of `good`) tries to read `good`'s state, list it, cancel its timers and read
//! its settings, through everything the WIT world offers. It sees only its own state and
//! settings, cancels nothing of `good`'s, and `good` keeps working.

use probity_e2e::server::{ConfigText, Server, listing, order_paid, order_placed};
use probity_e2e::test_plugin;
use serde_json::Value;

/// `good`'s settings word: must never reach another plugin.
const SECRET_WORD: &str = "SECRET-WORD-7f3a";

/// The `isolation` evidence details of the `snoop.report` finding on a listing.
fn report(verdict: &Value) -> Vec<String> {
    verdict["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "snoop.report")
        .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["detail"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_plugin_cannot_read_or_change_another_plugins_state_timers_or_settings() {
    let snoop = format!(
        "[plugins.goo]\npath = '{}'\nsettings = {{ peek = [\"listings:S-1\", \"d\\u0000listings:S-1\", \"../good/listings:S-1\", \"good\\u0000listings:S-1\"], cancel = [\"ship:O-1\"] }}\n",
        test_plugin("snoop").display()
    );
    let config = ConfigText::new()
        .word(Some(SECRET_WORD))
        .tail(&snoop)
        .render();
    let server = Server::start(&config);
    let c = server.client();
    let at = |m: u32| format!("2026-11-01T10:{m:02}:00Z");
    c.send(&listing("e1", &at(0), "L-1", "S-1", "fine")).ok();
    c.send(&order_placed("e2", &at(1), "O-1", "L-1", "S-1", "B-1"))
        .ok();
    c.send(&order_paid("e3", &at(2), "O-1")).ok();
    let reply = c.send(&listing("e4", &at(3), "L-2", "S-1", "fine"));
    let verdict = reply.ok()["verdicts"]
        .as_array()
        .and_then(|all| all.iter().find(|v| v["subject"]["id"] == "L-2"))
        .cloned()
        .unwrap_or_default();

    let seen = report(&verdict);
    let expected = [
        "own_write=ok",
        "scan=snoop:mine",
        "get:listings:S-1=absent",
        "get:d\u{0}listings:S-1=absent",
        "get:../good/listings:S-1=absent",
        "get:good\u{0}listings:S-1=absent",
        "cancel:ship:O-1=false",
    ];
    assert_eq!(&seen[..expected.len()], expected, "{seen:?}");
    let settings = seen.last().cloned().unwrap_or_default();
    assert!(
        settings.starts_with("settings={") && settings.contains("peek"),
        "{settings}"
    );
    assert!(
        !settings.contains(SECRET_WORD),
        "another plugin's settings: {settings}"
    );

    // `good` still counts its listings and its timer still fires.
    let good = c.plugin("good");
    assert_eq!(good["usage"]["state_entries"], 1, "{good}");
    assert_eq!(good["usage"]["timers"], 1, "{good}");
    assert_eq!(c.plugin("goo")["usage"]["state_entries"], 1);
    c.send(&listing("e5", "2026-11-01T12:00:00Z", "L-3", "S-1", "fine"))
        .ok();
    let o1 = c.verdict("order", "O-1");
    assert!(
        o1.ok()["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"] == "good.not_shipped")),
        "{}",
        o1.text
    );
    let seller = c.verdict("seller", "S-1");
    assert!(
        seller.text.contains("good.seller_listings"),
        "good's own counter reached 3 listings: {}",
        seller.text
    );
}
