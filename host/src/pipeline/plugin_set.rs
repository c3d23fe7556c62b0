//! The running set of plugins: loaded together, swapped together.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::runtime::{LoadError, LoadReport, LoadedPlugin, PluginEngine, load_plugin, read_source};
use crate::verdict::ActionMapping;

/// A plugin that could not be loaded, by name.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}` {error}")]
pub struct PluginSetError {
    /// The configured name.
    pub plugin: String,
    /// What went wrong (already part of the message, so not chained as a source).
    pub error: LoadError,
}

/// Every enabled plugin of one configuration, loaded, in name order (the order in which
/// they see each event, so that replays are deterministic).
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Arc<LoadedPlugin>>,
    mapping: ActionMapping,
}

impl PluginSet {
    /// Load every enabled plugin of `config`. All or nothing: the first plugin that fails
    /// fails the whole set, so a broken configuration never half-applies.
    pub fn load(
        engine: &PluginEngine,
        config: &Config,
        bundled: &[(&'static str, &'static [u8])],
    ) -> Result<(PluginSet, Vec<(String, LoadReport)>), PluginSetError> {
        Self::load_reusing(engine, config, bundled, None)
    }

    /// As [`PluginSet::load`], keeping the loaded plugins of `previous` whose code (by
    /// digest) and configuration are unchanged — with their warm instances and counters.
    /// Only the returned reports' plugins were (re)loaded.
    pub fn load_reusing(
        engine: &PluginEngine,
        config: &Config,
        bundled: &[(&'static str, &'static [u8])],
        previous: Option<&PluginSet>,
    ) -> Result<(PluginSet, Vec<(String, LoadReport)>), PluginSetError> {
        let mut plugins = Vec::new();
        let mut reports = Vec::new();
        for (name, entry) in config.plugins.iter().filter(|(_, entry)| entry.enabled) {
            let fail = |error| PluginSetError {
                plugin: name.clone(),
                error,
            };
            let wasm = read_source(&entry.source(), bundled).map_err(fail)?;
            let unchanged = previous.and_then(|set| set.get(name)).filter(|old| {
                old.config() == entry && old.digest() == hex::encode(Sha256::digest(&wasm))
            });
            if let Some(old) = unchanged {
                plugins.push(old.clone());
                continue;
            }
            let (plugin, report) = load_plugin(
                engine,
                name,
                entry,
                &wasm,
                config.runtime.instances_per_plugin,
            )
            .map_err(fail)?;
            tracing::info!(
                plugin = %name,
                version = %plugin.manifest().version,
                digest = %plugin.digest(),
                cache = ?report.cache,
                millis = report.elapsed.as_millis() as u64,
                "plugin loaded"
            );
            plugins.push(Arc::new(plugin));
            reports.push((name.clone(), report));
        }
        Ok((
            PluginSet {
                plugins,
                mapping: config.actions,
            },
            reports,
        ))
    }

    /// The loaded plugins, in the order they see events.
    pub fn plugins(&self) -> &[Arc<LoadedPlugin>] {
        &self.plugins
    }

    /// Whether a buyer-keyed plugin is loaded: then events with a buyer also go to the
    /// buyer's shard ([`crate::pipeline::Sequencer::set_buyer_routes`]).
    pub fn has_buyer_keyed(&self) -> bool {
        self.plugins
            .iter()
            .any(|p| p.keyed_by() == crate::model::shard::ShardKey::Buyer)
    }

    /// A loaded plugin by configured name.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// The severity → action mapping.
    pub fn mapping(&self) -> &ActionMapping {
        &self.mapping
    }
}
