//! Looking inside a plugin component without running it in a pipeline: what it imports
//! and exports, which `probity:plugin` version it was built against, and whether this
//! host would load it (`probity plugin inspect`).

use sha2::{Digest, Sha256};

use super::engine::PluginEngine;
use super::failure::LoadError;
use super::loader::{ACCEPTED_WORLD_VERSIONS, compile, imports, load_plugin};
use super::plugin::Manifest;
use crate::config::PluginConfig;

/// What a component is and whether this host can load it.
#[derive(Debug)]
pub struct ComponentInfo {
    /// Its size in bytes.
    pub size: usize,
    /// SHA-256 of its bytes, hex (what `sha256` pins in the configuration).
    pub digest: String,
    /// Every import, as named in the component (`probity:plugin/state@0.1.0`…).
    pub imports: Vec<String>,
    /// Every export.
    pub exports: Vec<String>,
    /// The `probity:plugin` versions its imports name, sorted and deduplicated.
    pub world_versions: Vec<String>,
    /// The versions this host accepts.
    pub accepted: &'static str,
    /// Its manifest when this host loads it with the given settings; otherwise why not.
    pub load: Result<Manifest, LoadError>,
}

/// Inspect `wasm`, loading it with `config` (limits and settings) to see whether it loads.
/// `Err` only when the bytes are not a component this host can compile at all.
pub fn inspect_component(
    engine: &PluginEngine,
    config: &PluginConfig,
    wasm: &[u8],
) -> Result<ComponentInfo, LoadError> {
    let digest = hex::encode(Sha256::digest(wasm));
    let (component, _) = compile(engine, wasm, &digest)?;
    let imports = imports(engine, &component);
    let exports: Vec<String> = component
        .component_type()
        .exports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    let mut world_versions: Vec<String> = imports
        .iter()
        .filter(|name| name.starts_with("probity:plugin/"))
        .map(|name| {
            name.split_once('@')
                .map_or("unversioned", |(_, v)| v)
                .to_string()
        })
        .collect();
    world_versions.sort();
    world_versions.dedup();
    let load = load_plugin(engine, "inspect", config, wasm, 1)
        .map(|(plugin, _)| plugin.manifest().clone());
    Ok(ComponentInfo {
        size: wasm.len(),
        digest,
        imports,
        exports,
        world_versions,
        accepted: ACCEPTED_WORLD_VERSIONS,
        load,
    })
}
