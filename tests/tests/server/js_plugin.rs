//! The contract is language-neutral: `examples/js-plugin`, a plugin written in JavaScript
//! against `wit/` and built with componentize-js (from npm, by its `build.sh`), passes its
//! own fixtures on the host's real runtime, inspects as a `probity:plugin@0.1.0`
//! component importing nothing but the world and the harmless WASI plumbing the host
//! allows, and works inside `probity serve`, timers included.
//!
//! Needs Node.js with npm, and the npm registry the first time (`npm ci`).

use std::path::PathBuf;

use probity_e2e::server::{ConfigText, Server, order_paid, order_placed, order_shipped};
use serde_json::Value;

/// The WASI interfaces the host backs with empty implementations (runtime/loader.rs).
const ALLOWED_WASI: &[&str] = &[
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// The component's imports (`inspect --json`), each of the 0.2 world or allowed WASI.
fn only_the_world_and_allowed_wasi(info: &Value) -> Vec<&str> {
    let imports: Vec<&str> = info["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for import in &imports {
        let world = import.starts_with("probity:plugin/") && import.contains("@0.2.");
        let wasi = ALLOWED_WASI
            .iter()
            .any(|allowed| import.starts_with(allowed));
        assert!(world || wasi, "unexpected import {import}: {imports:?}");
    }
    imports
}

fn example_dir() -> PathBuf {
    probity_e2e::server::example_dir("js-plugin")
}

/// Build the component with the example's own script; returns its path.
fn build() -> PathBuf {
    probity_e2e::server::build_example(
        "js-plugin",
        "target/js_plugin.wasm",
        "node and npm, and the npm registry",
    )
}

fn js_findings(verdict: &Value) -> Vec<Value> {
    verdict["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["plugin"] == "js-late-shipping")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_javascript_plugin_passes_its_fixtures_on_the_real_runtime_and_works_in_the_server() {
    let wasm = build();
    let fixtures = example_dir().join("fixtures.json");

    probity_e2e::server::assert_fixtures_pass(&wasm, &fixtures, 16);
    let info = probity_e2e::server::inspect_json(&wasm);
    assert_eq!(info["manifest"]["name"], "js-late-shipping");
    assert_eq!(info["loadable"], true, "{info}");
    assert_eq!(info["world_versions"], serde_json::json!(["0.2.0"]));
    assert_eq!(
        info["manifest"]["subscribes"],
        serde_json::json!([
            "listing.upserted",
            "order.cancelled",
            "order.paid",
            "order.placed",
            "order.shipped"
        ])
    );
    let imports = only_the_world_and_allowed_wasi(&info);
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("wasi:http") || i.starts_with("wasi:sockets")),
        "built with http disabled: {imports:?}"
    );

    let config = ConfigText::new()
        .server("watch_config = false")
        .tail(&format!(
            "[plugins.js-late-shipping]\npath = '{}'\n[plugins.js-late-shipping.settings]\nship_within_hours = 24\n",
            wasm.display()
        ))
        .render();
    let server = Server::start(&config);
    let c = server.client();
    // O-1 is paid and never shipped; O-2 is paid and shipped in time.
    for (id, order, seller, at) in [
        ("e-1", "O-1", "S-1", "2026-11-01T09:00:00Z"),
        ("e-2", "O-2", "S-2", "2026-11-01T09:00:00Z"),
    ] {
        c.send(&order_placed(id, at, order, "L-1", seller, "B-1"))
            .ok();
    }
    c.send(&order_paid("e-3", "2026-11-01T10:00:00Z", "O-1"))
        .ok();
    c.send(&order_paid("e-4", "2026-11-01T10:00:00Z", "O-2"))
        .ok();
    c.send(&order_shipped("e-5", "2026-11-01T20:00:00Z", "O-2"))
        .ok();
    let verdict = c.verdict("order", "O-1").ok().clone();
    assert!(js_findings(&verdict).is_empty(), "not due yet: {verdict}");

    // Later traffic about another order moves event time past O-1's deadline.
    c.send(&order_placed(
        "e-6",
        "2026-11-02T10:30:00Z",
        "O-3",
        "L-1",
        "S-3",
        "B-3",
    ))
    .ok();
    let reply = c.verdict("order", "O-1");
    let found = js_findings(reply.ok());
    assert_eq!(found.len(), 1, "{}", reply.text);
    assert_eq!(found[0]["rule"], "js-late-shipping.not_shipped");
    assert_eq!(found[0]["category"], "sla_breach");
    assert_eq!(found[0]["severity"], "medium");
    assert_eq!(
        found[0]["message"],
        "order O-1 was not shipped within 24 hours of payment"
    );
    assert_eq!(
        found[0]["evidence"][1]["detail"], "late order number 1 of seller S-1",
        "{}",
        found[0]
    );
    let reply = c.verdict("order", "O-2");
    assert!(
        js_findings(reply.ok()).is_empty(),
        "shipped in time: {}",
        reply.text
    );

    let js = c.plugin("js-late-shipping");
    assert_eq!(js["counters"]["errors"], 0, "{js}");
}

/// The same plugin built with the QuickJS engine (`examples/js-plugin-quickjs`,
/// componentize-qjs): a seventh of the size and a third to a fifth of the fuel per call
/// (sdk/README.md, "JavaScript engines"); it must pass the very same fixtures.
#[test]
fn the_quickjs_build_passes_the_same_fixtures() {
    let wasm = probity_e2e::server::build_example(
        "js-plugin-quickjs",
        "target/js_plugin_qjs.wasm",
        "node and npm, and the npm registry",
    );
    let fixtures = example_dir().join("fixtures.json");
    probity_e2e::server::assert_fixtures_pass(&wasm, &fixtures, 16);
    let info = probity_e2e::server::inspect_json(&wasm);
    assert_eq!(info["manifest"]["name"], "js-late-shipping");
    assert_eq!(info["world_versions"], serde_json::json!(["0.2.0"]));
    only_the_world_and_allowed_wasi(&info);
    let size = std::fs::metadata(&wasm).expect("built").len();
    assert!(size < 4 << 20, "QuickJS components are small: {size} bytes");
}
