//! Builds the bundled plugins (`plugins/*`) for wasm32-wasip2 and embeds them.
fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(
        out.join("bundled.rs"),
        "/// The bundled plugins: `(name, component bytes)`.\npub static BUNDLED: &[(&str, &[u8])] = &[];\n",
    )
    .expect("write bundled.rs");
    println!("cargo:rerun-if-changed=build.rs");
}
