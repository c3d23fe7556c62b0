//! End-to-end tests of Probity: the real binary, real HTTP, real components.
//!
//! The test plugins in `tests/plugins/` (a workspace of their own) are built for
//! wasm32-wasip2 once, by this crate's `build.rs`, whenever they, the SDK or the WIT
//! change. Find a component with [`test_plugin`]:
//!
//! ```
//! let good = probity_e2e::test_plugin("good");
//! assert!(good.ends_with("good.wasm"));
//! ```

pub mod browser;
pub mod brush;
pub mod claims;
pub mod harness;
pub mod nats;
pub mod probe;
pub mod server;
pub mod sla;

use std::path::{Path, PathBuf};

/// The directory holding every test plugin's component, `<name>.wasm` with the crate
/// name's dashes as underscores (as cargo writes them).
pub fn test_plugins_dir() -> &'static Path {
    Path::new(env!("PROBITY_TEST_PLUGINS"))
}

/// The package names of all test plugins (`good`, `infinite-loop`…), sorted.
pub fn test_plugin_names() -> Vec<&'static str> {
    env!("PROBITY_TEST_PLUGIN_NAMES").split(',').collect()
}

/// The component of the test plugin `name`, e.g. `infinite-loop` (or `infinite_loop`)
/// → `<dir>/infinite_loop.wasm`.
///
/// # Panics
///
/// If there is no such test plugin: a typo in a test.
pub fn test_plugin(name: &str) -> PathBuf {
    let path = test_plugins_dir().join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.is_file(),
        "no test plugin `{name}` (no {}); the test plugins are: {}",
        path.display(),
        test_plugin_names().join(", ")
    );
    path
}

/// The environment variable that turns on the long variants of the hardening tests
/// (more crash rounds, more malformed requests, a longer hostile-plugin stream).
pub const LONG_TESTS_VAR: &str = "PROBITY_LONG_TESTS";

/// Whether the long variants run: `PROBITY_LONG_TESTS=1` (any value but empty or `0`).
pub fn long_tests() -> bool {
    std::env::var(LONG_TESTS_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `short` normally, `long` under [`LONG_TESTS_VAR`]: how many rounds, requests or events
/// a hardening test runs.
pub fn rounds(short: usize, long: usize) -> usize {
    if long_tests() { long } else { short }
}
