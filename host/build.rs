//! Builds the bundled plugins (`plugins/*`, a cargo workspace of its own) for
//! wasm32-wasip2 once, and embeds them in the binary as `bundled::BUNDLED`.
//!
//! A bundled plugin is every directory of `plugins/` holding a `Cargo.toml`; its directory
//! name is its package name and the name it is bundled under.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().unwrap_or(&manifest_dir).to_path_buf();
    let plugins_dir = root.join("plugins");
    let names = probity_wasm_build::plugin_packages(&plugins_dir);
    println!("cargo:rerun-if-changed={}", plugins_dir.display());
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let mut generated = String::from(
        "/// The bundled plugins: `(name, component bytes)`, in name order.\npub static BUNDLED: &[(&str, &[u8])] = &[\n",
    );
    if !names.is_empty() {
        probity_wasm_build::rerun_if_changed([root.join("sdk"), root.join("wit")]);
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("wasm");
        let packages: Vec<&str> = names.iter().map(String::as_str).collect();
        let built = probity_wasm_build::build_plugins(
            &plugins_dir.join("Cargo.toml"),
            &packages,
            &target_dir,
        )
        .unwrap_or_else(|err| panic!("building the bundled plugins failed: {err}"));
        let out_dir = PathBuf::from(var("OUT_DIR"));
        for (name, wasm) in built {
            // Copy, so a later hand build of the plugins cannot change an embedded file.
            let dest = out_dir.join(probity_wasm_build::wasm_file_name(&name));
            std::fs::copy(&wasm, &dest)
                .unwrap_or_else(|err| panic!("copying {}: {err}", wasm.display()));
            let _ = writeln!(
                generated,
                "    ({name:?}, include_bytes!({:?})),",
                dest.display().to_string()
            );
        }
    }
    generated.push_str("];\n");
    let out = PathBuf::from(var("OUT_DIR")).join("bundled.rs");
    std::fs::write(&out, generated)
        .unwrap_or_else(|err| panic!("writing {}: {err}", out.display()));
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name}"))
}
