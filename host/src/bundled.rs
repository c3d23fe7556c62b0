//! The plugins built into the binary (see `host/build.rs`), by name.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The names of the bundled plugins.
pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(name, _)| *name).collect()
}
