//! `probity plugin new | test | inspect`, followed as a new plugin author would: scaffold
//! a project, run its unit tests, build the component, run its fixtures on the real
//! runtime (and see a failing one fail with a diff), inspect it, and load it into
//! `probity serve`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use probity_e2e::server::{ConfigText, Server, listing, probity_binary};
use probity_e2e::test_plugin;
use serde_json::Value;

/// Run `probity ARGS…` in `dir`.
fn probity(dir: &Path, args: &[&str]) -> Output {
    Command::new(probity_binary())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run probity")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The target directory scaffolded projects build in: kept between runs, next to the
/// workspace's own.
fn scaffold_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold")
}

/// Run `cargo ARGS…` in `dir` with the scaffold target directory; panics on failure.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", scaffold_target())
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {args:?}:\n{}",
        text(&output)
    );
}

#[test]
fn a_new_plugin_builds_passes_its_tests_and_fixtures_inspects_and_loads() {
    let work = tempfile::tempdir().expect("tempdir");
    let created = probity(work.path(), &["plugin", "new", "kettle-check"]);
    assert!(created.status.success(), "{}", text(&created));
    let project = work.path().join("kettle-check");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "fixtures/basic.json",
        "README.md",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }

    cargo(&project, &["test", "--quiet"]);
    cargo(
        &project,
        &["build", "--release", "--target", "wasm32-wasip2"],
    );
    let wasm = scaffold_target().join("wasm32-wasip2/release/kettle_check.wasm");
    let wasm_arg = wasm.to_str().expect("utf-8 path");

    let run = probity(
        &project,
        &["plugin", "test", wasm_arg, "fixtures/basic.json"],
    );
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.contains("3 case(s): 3 passed, 0 failed"), "{out}");
    assert!(
        out.contains(" fuel") && out.contains(" ms"),
        "per-event cost: {out}"
    );

    // A wrong expectation fails with a diff and exit code 1.
    let wrong = project.join("fixtures/wrong.json");
    let fixture = std::fs::read_to_string(project.join("fixtures/basic.json"))
        .expect("fixture")
        .replace("\"severity\": \"high\"", "\"severity\": \"medium\"");
    std::fs::write(&wrong, fixture).expect("write");
    let run = probity(
        &project,
        &["plugin", "test", wasm_arg, "fixtures/wrong.json"],
    );
    let out = text(&run);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL a forbidden term in a title is flagged"),
        "{out}"
    );
    assert!(
        out.contains("- missing:    listing/L-1 kettle-check.term medium")
            && out.contains("+ unexpected: listing/L-1 kettle-check.term high"),
        "{out}"
    );

    let inspect = probity(&project, &["plugin", "inspect", "--json", wasm_arg]);
    assert_eq!(inspect.status.code(), Some(0), "{}", text(&inspect));
    let info: Value = serde_json::from_slice(&inspect.stdout).expect("inspect --json");
    assert_eq!(info["loadable"], true);
    assert_eq!(info["manifest"]["name"], "kettle-check");
    assert_eq!(info["world_versions"], serde_json::json!(["0.2.0"]));
    assert_eq!(info["host_accepts"], "0.1.x, 0.2.x");
    assert_eq!(info["manifest"]["world_version"], "0.2.0");
    assert_eq!(info["manifest"]["keyed_by"], "seller");
    let sha = std::fs::read(&wasm).map(|b| probity_e2e::server::sha256_hex(&b));
    assert_eq!(info["sha256"].as_str(), sha.as_deref().ok());

    let config = ConfigText::new()
        .tail(&format!(
            "[plugins.kettle-check]\npath = '{}'\nsha256 = '{}'\n",
            wasm.display(),
            info["sha256"].as_str().unwrap_or_default()
        ))
        .render();
    let server = Server::start(&config);
    let reply = server.client().send(&listing(
        "e1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "The Best Ever kettle",
    ));
    assert!(
        reply.ok().to_string().contains("kettle-check.term"),
        "{}",
        reply.text
    );
}

#[test]
fn inspect_says_why_a_plugin_cannot_load() {
    let future = test_plugin("future-world");
    let out = probity(
        Path::new("."),
        &["plugin", "inspect", future.to_str().unwrap_or_default()],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("world:     probity:plugin@0.3.0 (this host accepts 0.1.x, 0.2.x)"),
        "{said}"
    );
    assert!(
        said.contains("loadable:  no:") && said.contains("0.1.x, 0.2.x"),
        "{said}"
    );

    let network = test_plugin("network");
    let out = probity(
        Path::new("."),
        &["plugin", "inspect", network.to_str().unwrap_or_default()],
    );
    assert!(text(&out).contains("wasi:sockets"), "{}", text(&out));
}

#[test]
fn plugin_new_refuses_bad_names_and_existing_directories() {
    let work = tempfile::tempdir().expect("tempdir");
    for bad in ["Kettle", "9lives", "has space", ""] {
        let out = probity(work.path(), &["plugin", "new", bad]);
        assert_eq!(out.status.code(), Some(2), "`{bad}`: {}", text(&out));
        assert!(text(&out).contains("not a plugin name"), "{}", text(&out));
    }
    std::fs::create_dir(work.path().join("taken")).expect("mkdir");
    let out = probity(work.path(), &["plugin", "new", "taken"]);
    assert!(text(&out).contains("already exists"), "{}", text(&out));
}

/// `probity plugin inspect --json X | head -1`: when the reader of its output goes away,
/// the command ends quietly (SIGPIPE) instead of panicking on the broken pipe.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(probity_binary())
        .args(["plugin", "inspect", "--json"])
        .arg(test_plugin("good"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn probity plugin inspect");
    // Close the reading end before the component is even loaded.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.status.signal() == Some(libc::SIGPIPE) || output.status.success(),
        "ended by SIGPIPE (or before writing), not an error: {:?}\n{stderr}",
        output.status
    );
}

/// Issue 22: each case starts from a fresh plugin and circuit breaker, as the docs
/// promise. Seven cases in a row that expect a trap all see the trap; before, the sixth
/// and seventh saw `plugin_error.quarantined` (the breaker opens after five failures).
#[test]
fn every_fixture_case_starts_with_a_fresh_plugin_and_breaker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = |n: usize| {
        serde_json::json!({
            "name": format!("trap {n}"),
            "events": [listing(&format!("e{n}"), "2026-11-01T10:00:00Z", "L-1", "S-1", "x")],
            "expect": [{"subject": {"type": "listing", "id": "L-1"}, "rule": "plugin_error.trap"}]
        })
    };
    let cases: Vec<Value> = (1..=7).map(case).collect();
    let fixture = dir.path().join("traps.json");
    std::fs::write(&fixture, Value::Array(cases).to_string()).expect("write");
    let trap = test_plugin("trap");
    let out = probity(
        dir.path(),
        &[
            "plugin",
            "test",
            trap.to_str().expect("utf-8"),
            fixture.to_str().expect("utf-8"),
        ],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("7 case(s): 7 passed, 0 failed"), "{said}");
}

#[test]
fn a_buyer_keyed_plugin_passes_its_fixtures_naming_buyers_by_their_raw_ids() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("plugins/serial-refunds/fixtures.json");
    let wasm = test_plugin("serial-refunds");
    let out = probity(
        std::path::Path::new("."),
        &[
            "plugin",
            "test",
            wasm.to_str().expect("utf-8"),
            fixtures.to_str().expect("utf-8"),
        ],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("6 case(s): 6 passed, 0 failed"), "{said}");

    let inspect = probity(
        std::path::Path::new("."),
        &["plugin", "inspect", wasm.to_str().expect("utf-8")],
    );
    let said = text(&inspect);
    assert!(said.contains("keyed by:   buyer (world 0.2.0)"), "{said}");
}

#[test]
fn pseudonym_prints_what_the_server_computes_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("probity.toml");
    let key = "a pseudonym key of enough length for the test";
    std::fs::write(
        &config,
        format!("[privacy]\npseudonym_key = \"{key}\"\n[server]\ndata_dir = \"data\"\n"),
    )
    .expect("write");
    let config_arg = config.to_str().expect("utf-8");
    let out = probity(
        dir.path(),
        &[
            "pseudonym",
            "--config",
            config_arg,
            "--field",
            "buyer_id",
            "B-1",
            "B-2",
        ],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    let pseudonymizer = probity::privacy::Pseudonymizer::new(key.as_bytes()).expect("key");
    let expected = |raw: &str| {
        pseudonymizer
            .pseudonymize(probity::privacy::PersonalField::BuyerId, raw)
            .as_str()
            .to_string()
    };
    assert_eq!(lines, [expected("B-1"), expected("B-2")]);
    assert!(!said.contains("B-1"), "the raw value is not echoed: {said}");
    assert!(!dir.path().join("data").exists(), "nothing created");

    // No key configured and no key file yet: a clear refusal, and still nothing created.
    std::fs::write(&config, "[server]\ndata_dir = \"data\"\n").expect("write");
    let out = probity(dir.path(), &["pseudonym", "--config", config_arg, "B-1"]);
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("no pseudonym key"), "{said}");
    assert!(!dir.path().join("data").exists(), "nothing created");
}
