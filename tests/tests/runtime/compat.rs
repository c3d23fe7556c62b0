//! Compatibility of the `probity:plugin` world: the host says which versions it accepts,
//! keeps loading plugins built against the frozen 0.1.0 world (rebuilt from source, and
//! the binary built when 0.1.0 was current), and refuses another version clearly.

use std::path::Path;

use probity::config::PluginConfig;
use probity::model::shard::ShardKey;
use probity::model::subject::SubjectType;
use probity::runtime::{ACCEPTED_WORLD_VERSIONS, LoadError, inspect_component};
use probity_e2e::harness::{config, engine, entry, listing, load, pipeline};
use probity_e2e::server::sha256_hex;
use probity_e2e::test_plugin;
use serde_json::json;

/// The component built from `tests/plugins/compat-v0-1-0` when 0.1.0 was current.
fn kept_binary() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/probity-plugin-0.1.0.wasm")
}

/// Its digest: the file must never change (see `tests/compat/README.md`).
const KEPT_SHA256: &str = "c61569465eae2044186ad65af820d982ebd76db2b491a4d2de229f8568fa2023";

#[test]
fn the_host_accepts_the_0_1_and_0_2_lines_and_says_so() {
    assert_eq!(ACCEPTED_WORLD_VERSIONS, "0.1.x, 0.2.x");
    let wasm = std::fs::read(test_plugin("compat-v0-1-0")).expect("component");
    let info = inspect_component(&engine(), &PluginConfig::from_path("compat"), &wasm)
        .expect("a component");
    assert_eq!(info.world_versions, ["0.1.0"]);
    assert_eq!(info.accepted, "0.1.x, 0.2.x");
    let manifest = info.load.expect("loadable");
    assert_eq!(manifest.name, "compat-v0-1-0");
    // Its exports are typed by the 0.1.0 world; a 0.1.0 plugin is keyed by seller.
    assert_eq!(manifest.world_version, "0.1.0");
    assert_eq!(manifest.keyed_by, ShardKey::Seller);
    // A plugin built from the current `wit/` is 0.2.0.
    let wasm = std::fs::read(test_plugin("good")).expect("component");
    let info =
        inspect_component(&engine(), &PluginConfig::from_path("good"), &wasm).expect("a component");
    assert_eq!(info.world_versions, ["0.2.0"]);
    assert_eq!(info.load.expect("loadable").world_version, "0.2.0");
    for export in ["manifest", "validate-settings", "handle", "on-timer"] {
        assert!(
            info.exports.iter().any(|e| e == export),
            "{:?}",
            info.exports
        );
    }
}

/// Run two listings of one seller through a plugin at `path`; return the finding rules
/// and evidence details on the flagged one.
fn frozen_answers(path: &Path) -> Vec<(String, Option<String>)> {
    let entry = PluginConfig::from_path(path);
    let (_dir, mut pipeline) = pipeline(&config(vec![("compat", entry)]));
    let at = "2026-11-01T10:00:00Z";
    pipeline
        .process(&listing("e1", at, "L-1", "S-1", "fresh fish"))
        .expect("processed");
    let report = pipeline
        .process(&listing("e2", at, "L-2", "S-1", "a frozen pizza"))
        .expect("processed");
    let verdict = report
        .touched
        .iter()
        .find(|v| v.subject.kind == SubjectType::Listing && v.subject.id == "L-2")
        .expect("verdict");
    verdict
        .findings
        .iter()
        .map(|f| {
            let span = f.evidence.first().and_then(|e| e.start.zip(e.end));
            assert_eq!(span, Some((2, 8)), "the span of `frozen`: {f:?}");
            (
                f.rule.clone(),
                f.evidence.first().and_then(|e| e.detail.clone()),
            )
        })
        .collect()
}

#[test]
fn a_plugin_built_from_the_frozen_0_1_0_wit_loads_and_answers() {
    assert_eq!(
        frozen_answers(&test_plugin("compat-v0-1-0")),
        [(
            "compat.frozen".to_string(),
            Some("listing 2 of its seller".to_string())
        )]
    );
}

#[test]
fn the_binary_built_when_0_1_0_was_current_still_loads_and_answers_the_same() {
    let bytes = std::fs::read(kept_binary()).expect("the kept binary");
    assert_eq!(
        sha256_hex(&bytes),
        KEPT_SHA256,
        "tests/compat/README.md: never replace it"
    );
    assert_eq!(
        frozen_answers(&kept_binary()),
        frozen_answers(&test_plugin("compat-v0-1-0"))
    );
}

#[test]
fn a_plugin_built_against_another_world_version_is_refused_naming_both() {
    let config = config(vec![("future", entry("future-world", json!({})))]);
    let err = load(&config).expect_err("0.3.0 must be refused").error;
    let text = err.to_string();
    assert!(matches!(err, LoadError::ForbiddenImport { .. }), "{text}");
    assert!(
        text.contains("@0.3.0") && text.contains("0.1.x, 0.2.x"),
        "names the plugin's version and the host's: {text}"
    );
}
