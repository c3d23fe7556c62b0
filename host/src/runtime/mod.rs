//! The plugin runtime: everything that knows about wasmtime.
//!
//! A plugin is a WebAssembly component implementing the `probity:plugin` world (`wit/`).
//! The runtime compiles each plugin once (cached on disk), checks that it imports nothing
//! beyond the world, introduces it (`manifest`, `validate-settings`) and then serves calls
//! from warm instances, each call bounded by the plugin's limits: a wall-clock deadline,
//! an optional fuel budget, a memory cap, an output cap, and state/timer quotas. Every
//! failure is a typed [`PluginFailure`]; none of them can take the host down.
//!
//! The main items:
//! - [`PluginEngine`]: the one engine, linker, cache and epoch ticker;
//! - [`load_plugin`]: bytes + configuration → [`LoadedPlugin`];
//! - [`LoadedPlugin::handle`] / [`LoadedPlugin::on_timer`]: one call, with its state scope.
//!
//! Nothing outside this module touches wasmtime types: callers pass host events (converted
//! here by [`abi::Lent`]) and get [`CheckedFinding`]s back.
//!
//! ```no_run
//! use probity::config::{PluginConfig, RuntimeConfig};
//! use probity::runtime::{PluginEngine, load_plugin};
//!
//! let engine = PluginEngine::new(&RuntimeConfig::default(), "/tmp/probity-cache".into())?;
//! let config = PluginConfig::from_path("my_plugin.wasm");
//! let wasm = std::fs::read("my_plugin.wasm")?;
//! let (plugin, report) = load_plugin(&engine, "my-plugin", &config, &wasm, 2)?;
//! println!("{} {} loaded ({:?})", plugin.name(), plugin.manifest().version, report.cache);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod abi;
mod breaker;
mod cache;
mod engine;
mod failure;
mod host;
mod inspect;
mod instance;
mod loader;
mod plugin;
mod toolchain;
mod world;

pub use abi::{CheckedFinding, Envelope, Lent};
pub use breaker::{BreakerSnapshot, BreakerState, LastFailure};
pub use cache::CacheOutcome;
pub use engine::{EPOCH_TICK, EngineError, PluginEngine};
pub use failure::{LoadError, PluginFailure};
pub use host::{LOG_LINE_BYTES, LOG_LINES_PER_CALL};
pub use inspect::{ComponentInfo, inspect_component};
pub use instance::{CallOutcome, CallStats};
pub use loader::{ACCEPTED_WORLD_VERSIONS, LoadReport, check_imports, load_plugin, read_source};
pub use plugin::{FAILURE_KINDS, LoadedPlugin, Manifest, PluginCounters};
pub use toolchain::Toolchain;
pub use world::WORLD_VERSIONS;
