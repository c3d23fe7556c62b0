//! The one wasmtime [`Engine`] and what is shared by every plugin: the linker with the
//! host's imports, the compiled-plugin cache, and the epoch ticker behind deadlines.
//!
//! Why these settings:
//! - **Pooling allocator**: instance memories and tables are pre-reserved slots, so a new
//!   instance costs a copy-on-write mapping, not an `mmap` dance. Slots are capped, which
//!   also bounds how much memory all plugins together can ever take.
//! - **Epoch interruption** (a background thread ticks every millisecond): cheap deadline
//!   checks in compiled code; a call past its deadline traps.
//! - **Fuel** (optional, engine-wide): counts instructions so a per-plugin budget can be
//!   enforced and fuel used reported. It changes the compiled code, so it is part of the
//!   cache key.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::abi::bindings::Plugin;
use super::abi::bindings_v0_1::Plugin as PluginV0_1;
use super::cache::CompiledCache;
use super::host::HostState;
use crate::config::{MAX_MEMORY_MIB, RuntimeConfig};

/// One epoch tick: the resolution of per-call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Most component instances alive at once across all plugins (warm + in flight).
const MAX_INSTANCES: u32 = 512;

/// The engine, linker and cache every plugin shares. Cheap to clone.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    engine: Engine,
    linker: Linker<HostState>,
    cache: CompiledCache,
    fuel_metering: bool,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("fuel_metering", &self.inner.fuel_metering)
            .finish_non_exhaustive()
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin engine: {0}")]
pub struct EngineError(String);

impl PluginEngine {
    /// Build the engine from the runtime configuration, caching compiled plugins in
    /// `cache_dir`.
    pub fn new(
        runtime: &RuntimeConfig,
        cache_dir: std::path::PathBuf,
    ) -> Result<Self, EngineError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 16)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 4)
            .max_memories_per_component(4)
            // A Python component (componentize-py) is 38 core instances: CPython, its
            // libc and the stubs of every WASI import, each its own module.
            .max_core_instances_per_component(64)
            .max_tables_per_component(16)
            .max_memory_size((MAX_MEMORY_MIB as usize) << 20);

        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(runtime.fuel_metering)
            .cranelift_opt_level(OptLevel::Speed)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|err| EngineError(err.to_string()))?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|err| EngineError(err.to_string()))?;
        // Every world version's imports: their names differ (`…/state@0.1.0`,
        // `…/state@0.2.0`), so one linker serves plugins of each.
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|err| EngineError(err.to_string()))?;
        PluginV0_1::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|err| EngineError(err.to_string()))?;

        spawn_epoch_ticker(&engine);
        let cache = CompiledCache::new(cache_dir, &engine);
        Ok(PluginEngine {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                cache,
                fuel_metering: runtime.fuel_metering,
            }),
        })
    }

    /// The wasmtime engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The linker holding every import the sandbox provides.
    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// The compiled-plugin cache.
    pub(crate) fn cache(&self) -> &CompiledCache {
        &self.inner.cache
    }

    /// Whether fuel is metered (and so fuel budgets apply).
    pub fn fuel_metering(&self) -> bool {
        self.inner.fuel_metering
    }
}

/// Tick the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("probity-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(err) = spawned {
        // Without the ticker deadlines cannot fire; calls would still be bounded by fuel.
        tracing::error!(error = %err, "could not start the epoch ticker; deadlines are not enforced");
    }
}
