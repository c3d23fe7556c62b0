//! The plugin examples in other languages (`examples/python-plugin`, `examples/js-plugin`):
//! built by their own scripts and driven through `probity plugin`, as their authors would.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{probity_binary, shared_cache_dir};

/// `examples/<name>`.
pub fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

/// Build `examples/<name>` with its `build.sh`; returns `examples/<name>/<component>`.
/// `needs` says what the script needs, for the failure message.
pub fn build_example(name: &str, component: &str, needs: &str) -> PathBuf {
    let dir = example_dir(name);
    let output = Command::new("bash")
        .arg(dir.join("build.sh"))
        .output()
        .expect("run build.sh");
    assert!(
        output.status.success(),
        "examples/{name}/build.sh failed (needs {needs}):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    dir.join(component)
}

/// Run `probity plugin ARGS…` with the servers' shared compiled-plugin cache: the exit
/// code and everything it printed.
pub fn plugin_command(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(probity_binary())
        .arg("plugin")
        .args(args)
        .arg("--cache-dir")
        .arg(shared_cache_dir())
        .output()
        .expect("run probity");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// `probity plugin test WASM FIXTURES` passes every one of its `cases`.
#[track_caller]
pub fn assert_fixtures_pass(wasm: &Path, fixtures: &Path, cases: usize) {
    let (code, out) = plugin_command(&[
        "test",
        wasm.to_str().expect("utf-8 path"),
        fixtures.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("{cases} case(s): {cases} passed, 0 failed")),
        "{out}"
    );
}

/// `probity plugin inspect --json WASM`, which must succeed.
#[track_caller]
pub fn inspect_json(wasm: &Path) -> serde_json::Value {
    let (code, out) = plugin_command(&["inspect", "--json", wasm.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(0), "{out}");
    serde_json::from_str(&out).expect("inspect --json")
}
