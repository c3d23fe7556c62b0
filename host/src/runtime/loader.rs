//! Loading a plugin: bytes → checked, compiled, pre-linked, introduced.
//!
//! Order matters for the quality of errors: the digest pin is checked before anything
//! runs; imports are checked against the sandbox's allow-list before linking, so a
//! forbidden import is named rather than reported as a link failure; `manifest` and
//! `validate-settings` run on a real instance under the plugin's own limits.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::cache::CacheOutcome;
use super::engine::PluginEngine;
use super::failure::LoadError;
use super::host::PluginIdentity;
use super::instance::InstancePool;
use super::plugin::{LoadedPlugin, Manifest};
use super::toolchain::Toolchain;
use super::world::{ExportsPre, WORLD_VERSIONS};
use crate::config::{PluginConfig, PluginSource};

/// The `probity:plugin` versions this host accepts (semver-compatible with 0.1.0 or
/// 0.2.0; see [`super::world`]).
pub const ACCEPTED_WORLD_VERSIONS: &str = "0.1.x, 0.2.x";

/// WASI interfaces a language's standard library may import. The host backs each with an
/// empty, deterministic implementation (no files, environment, clocks or entropy).
const ALLOWED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// Where a plugin's bytes came from, for reporting.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Whether compiled code came from the cache.
    pub cache: CacheOutcome,
    /// How long loading took.
    pub elapsed: std::time::Duration,
}

/// The bytes of a plugin's component, from the bundled set or from disk.
pub fn read_source(
    source: &PluginSource,
    bundled: &[(&'static str, &'static [u8])],
) -> Result<Vec<u8>, LoadError> {
    match source {
        PluginSource::Bundled(name) => bundled
            .iter()
            .find(|(bundled_name, _)| bundled_name == name)
            .map(|(_, bytes)| bytes.to_vec())
            .ok_or_else(|| LoadError::UnknownBundled {
                name: name.clone(),
                available: bundled
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        PluginSource::Path(path) => std::fs::read(path).map_err(|error| LoadError::Read {
            path: path.display().to_string(),
            error,
        }),
    }
}

/// Split `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `1.2.3`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Refuse any import outside the `probity:plugin` world and the allowed WASI plumbing,
/// naming the likely cause for the `toolchain` that built the component.
pub fn check_imports<'a>(
    imports: impl IntoIterator<Item = &'a str>,
    toolchain: &Toolchain,
) -> Result<(), LoadError> {
    for import in imports {
        let (base, version) = split_version(import);
        if let Some(interface) = base.strip_prefix("probity:plugin/") {
            let compatible = version.is_some_and(|v| {
                WORLD_VERSIONS.iter().any(|known| {
                    let minor = known.rsplit_once('.').map_or(*known, |(minor, _)| minor);
                    v == minor || v.starts_with(&format!("{minor}."))
                })
            });
            if !compatible {
                return Err(LoadError::ForbiddenImport {
                    import: import.to_string(),
                    why: format!(
                        "this host implements probity:plugin {ACCEPTED_WORLD_VERSIONS}; rebuild the plugin against the WIT shipped with this host (interface `{interface}`)"
                    ),
                });
            }
            continue;
        }
        if base.starts_with("wasi:") {
            if ALLOWED_WASI.contains(&base) {
                continue;
            }
            let why = if base.starts_with("wasi:sockets") || base.starts_with("wasi:http") {
                toolchain.network_fix()
            } else {
                "this WASI interface is not available to plugins"
            };
            return Err(LoadError::ForbiddenImport {
                import: import.to_string(),
                why: why.to_string(),
            });
        }
        return Err(LoadError::ForbiddenImport {
            import: import.to_string(),
            why: "a plugin may only import the probity:plugin world".to_string(),
        });
    }
    Ok(())
}

/// Compile `wasm` (whose SHA-256 is `digest`), or take it from the compiled-plugin cache.
pub(super) fn compile(
    engine: &PluginEngine,
    wasm: &[u8],
    digest: &str,
) -> Result<(Component, CacheOutcome), LoadError> {
    engine
        .cache()
        .load_or_compile(engine.engine(), wasm, digest)
        .map_err(|err| LoadError::Compile {
            reason: format!("{err:#}"),
        })
}

/// The names of everything `component` imports.
pub(super) fn imports(engine: &PluginEngine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .imports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Load, check and introduce one plugin.
pub fn load_plugin(
    engine: &PluginEngine,
    name: &str,
    config: &PluginConfig,
    wasm: &[u8],
    max_idle: usize,
) -> Result<(LoadedPlugin, LoadReport), LoadError> {
    let started = std::time::Instant::now();
    let digest = hex::encode(Sha256::digest(wasm));
    if let Some(expected) = &config.sha256
        && !expected.eq_ignore_ascii_case(&digest)
    {
        return Err(LoadError::DigestMismatch {
            expected: expected.to_ascii_lowercase(),
            actual: digest,
        });
    }
    let (component, cache) = compile(engine, wasm, &digest)?;
    check_imports(
        imports(engine, &component).iter().map(String::as_str),
        &Toolchain::of(wasm),
    )?;

    let instance_pre =
        engine
            .linker()
            .instantiate_pre(&component)
            .map_err(|err| LoadError::Link {
                reason: format!("{err:#}"),
            })?;
    let pre = ExportsPre::new(instance_pre).map_err(|reason| LoadError::Link { reason })?;
    let world_version = pre.version();

    let identity = Arc::new(PluginIdentity {
        name: Arc::from(name),
        settings_json: config.settings_json(),
    });
    let pool = InstancePool::new(
        engine.clone(),
        pre,
        identity,
        config.limits.clone(),
        max_idle,
    );

    let manifest = pool.call(None, 0, |plugin, store| plugin.manifest(store));
    // The instances made at load serve the first calls: count them.
    let mut instantiated = u64::from(manifest.stats.instantiated);
    let manifest = manifest.result.map_err(|failure| LoadError::Startup {
        stage: "manifest",
        failure,
    })?;
    let manifest = Manifest::from_abi(manifest, world_version)
        .map_err(|reason| LoadError::Manifest { reason })?;

    let settings = config.settings_json();
    let validation = pool.call(None, 0, |plugin, store| {
        plugin.validate_settings(store, &settings)
    });
    instantiated += u64::from(validation.stats.instantiated);
    match validation.result {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            return Err(LoadError::Settings {
                field: err.field,
                message: err.message,
            });
        }
        Err(failure) => {
            return Err(LoadError::Startup {
                stage: "validate-settings",
                failure,
            });
        }
    }

    let plugin = LoadedPlugin::new(name, config.clone(), manifest, digest, pool);
    plugin
        .counters()
        .instantiations
        .fetch_add(instantiated, std::sync::atomic::Ordering::Relaxed);
    Ok((
        plugin,
        LoadReport {
            cache,
            elapsed: started.elapsed(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_and_wasi_plumbing_are_allowed() {
        check_imports(
            [
                "probity:plugin/state@0.1.0",
                "probity:plugin/log@0.1.3",
                "wasi:cli/environment@0.2.6",
                "wasi:io/streams@0.2.0",
            ],
            &Toolchain::Unknown,
        )
        .expect("allowed");
    }

    #[test]
    fn sockets_are_refused_by_name() {
        let err = check_imports(["wasi:sockets/tcp@0.2.6"], &Toolchain::Unknown).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("wasi:sockets/tcp@0.2.6") && text.contains("network"),
            "{text}"
        );
    }

    #[test]
    fn unknown_imports_are_refused_by_name() {
        let err = check_imports(["evil:host/steal"], &Toolchain::Unknown).unwrap_err();
        assert!(err.to_string().contains("evil:host/steal"));
    }

    #[test]
    fn another_world_version_is_refused() {
        for known in ["0.1.0", "0.1.3", "0.2.0", "0.2.1"] {
            let import = format!("probity:plugin/state@{known}");
            assert!(check_imports([import.as_str()], &Toolchain::Unknown).is_ok());
        }
        for other in ["0.3.0", "1.0.0", "0.10.0", "0.20.1"] {
            let import = format!("probity:plugin/state@{other}");
            let err = check_imports([import.as_str()], &Toolchain::Unknown).unwrap_err();
            assert!(err.to_string().contains("0.1.x, 0.2.x"), "{err}");
        }
    }
}
