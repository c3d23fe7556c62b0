//! Build every test plugin in `plugins/` (a workspace of its own) for wasm32-wasip2, once,
//! and tell the crate where the components are: `PROBITY_TEST_PLUGINS` is a directory
//! holding `<crate name with _ for ->.wasm` for each plugin (`infinite-loop` →
//! `infinite_loop.wasm`), and `PROBITY_TEST_PLUGIN_NAMES` lists the package names,
//! comma-separated.
//!
//! A plugin is every directory of `plugins/` with a `Cargo.toml`; its directory name is
//! its package name.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let plugins_dir = manifest_dir.join("plugins");
    let workspace_root = manifest_dir.parent().unwrap_or(&manifest_dir).to_path_buf();
    // Not the outer target directory itself: the nested cargo would wait for its lock.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root.join("target"), PathBuf::from)
        .join("wasm");

    let names = probity_wasm_build::plugin_packages(&plugins_dir);
    let packages: Vec<&str> = names.iter().map(String::as_str).collect();
    probity_wasm_build::rerun_if_changed([workspace_root.join("sdk"), workspace_root.join("wit")]);
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let built = match probity_wasm_build::build_plugins(
        &plugins_dir.join("Cargo.toml"),
        &packages,
        &target_dir,
    ) {
        Ok(built) => built,
        Err(err) => panic!("{err}"),
    };

    // Copy the components out of the shared build directory, so a later build of the
    // plugins by hand cannot change them under a running test.
    let out_dir = PathBuf::from(env("OUT_DIR")).join("test-plugins");
    if let Err(err) = std::fs::create_dir_all(&out_dir) {
        panic!("cannot create {}: {err}", out_dir.display());
    }
    for (_, wasm) in &built {
        let dest = out_dir.join(wasm.file_name().unwrap_or_default());
        if let Err(err) = std::fs::copy(wasm, &dest) {
            panic!(
                "cannot copy {} to {}: {err}",
                wasm.display(),
                dest.display()
            );
        }
    }
    println!("cargo:rustc-env=PROBITY_TEST_PLUGINS={}", out_dir.display());
    println!(
        "cargo:rustc-env=PROBITY_TEST_PLUGIN_NAMES={}",
        names.join(",")
    );
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name}"))
}
