//! The contract is language-neutral: `examples/python-plugin`, a plugin written in Python
//! against `wit/` and built with componentize-py (from PyPI, by its `build.sh`), passes its
//! own fixtures on the host's real runtime, inspects as a `probity:plugin@0.1.0`
//! component importing nothing else, and works inside `probity serve`.
//!
//! Needs `python3` with `venv` and `pip`, and PyPI the first time (CI has both).

use std::path::PathBuf;

use probity_e2e::server::{ConfigText, Server, listing};
use serde_json::Value;

fn example_dir() -> PathBuf {
    probity_e2e::server::example_dir("python-plugin")
}

/// Build the component with the example's own script; returns its path.
fn build() -> PathBuf {
    probity_e2e::server::build_example(
        "python-plugin",
        "target/py_claims.wasm",
        "python3 with venv and pip, and PyPI",
    )
}

#[test]
fn a_python_plugin_passes_its_fixtures_on_the_real_runtime_and_works_in_the_server() {
    let wasm = build();
    let fixtures = example_dir().join("fixtures.json");

    probity_e2e::server::assert_fixtures_pass(&wasm, &fixtures, 15);
    let info = probity_e2e::server::inspect_json(&wasm);
    assert_eq!(info["manifest"]["name"], "py-claims");
    assert_eq!(info["world_versions"], serde_json::json!(["0.2.0"]));
    let imports: Vec<&str> = info["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        imports.iter().all(|i| i.starts_with("probity:plugin/")),
        "only the world: {imports:?}"
    );

    let config = ConfigText::new()
        .tail(&format!(
            "[plugins.py-claims]\npath = '{}'\n[plugins.py-claims.settings]\nterms = [\"best\", \"100% effective\"]\n",
            wasm.display()
        ))
        .render();
    let server = Server::start(&config);
    let reply = server.client().send(&listing(
        "e1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "The best kettle",
    ));
    let verdict = reply.ok()["verdicts"]
        .as_array()
        .and_then(|all| all.iter().find(|v| v["subject"]["id"] == "L-1"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(verdict["action"], "block", "{verdict}");
    let finding = verdict["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["plugin"] == "py-claims"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(finding["rule"], "py-claims.absolute_term", "{verdict}");
    assert_eq!(finding["evidence"][0]["start"], 4, "{finding}");
    assert_eq!(finding["evidence"][0]["end"], 8, "{finding}");
    let py = server.client().plugin("py-claims");
    assert_eq!(py["counters"]["errors"], 0, "{py}");
}
