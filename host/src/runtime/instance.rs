//! Warm instances of one plugin and the limits around every call.
//!
//! Instance life cycle (why it is this way): creating an instance from a
//! [`ExportsPre`] in the pooling allocator is cheap (microseconds), but a plugin's own
//! set-up — parsing settings, building a term automaton — happens inside the instance on
//! its first call and can cost milliseconds. So instances are *kept warm*: after a
//! successful call an instance goes back to a small idle pool and serves the next call
//! with its set-up already done. An instance is discarded, never reused, after any
//! failure (a trap can leave its memory inconsistent) and after it printed a lot (its
//! captured output buffer is nearly full). Settings changes load a new plugin, so warm
//! instances never see stale settings.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap};

use super::engine::{EPOCH_TICK, PluginEngine};
use super::failure::PluginFailure;
use super::host::{HostFault, HostState, PluginIdentity};
use super::world::{Exports, ExportsPre};
use crate::config::Limits;
use crate::model::time::Timestamp;
use crate::store::PluginScope;

/// Captured output above this many bytes retires the instance after the call.
const RETIRE_AFTER_OUTPUT_BYTES: usize = 4 * 1024;

/// Fuel given to calls when metering is on but the plugin has no budget.
const UNMETERED_FUEL: u64 = u64::MAX / 4;

/// One live instance with its store.
struct WarmInstance {
    store: Store<HostState>,
    exports: Exports,
}

/// What one call cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Wall time of the call, including instantiation if one was needed.
    pub elapsed: Duration,
    /// Fuel consumed (0 when metering is off).
    pub fuel: u64,
    /// Whether a new instance had to be created.
    pub instantiated: bool,
}

/// The outcome of one call: the scope comes back whatever happened (the caller decides
/// whether its writes are kept).
pub struct CallOutcome<R> {
    /// The result, or the typed failure.
    pub result: Result<R, PluginFailure>,
    /// The scope lent to the call.
    pub scope: Option<PluginScope>,
    /// The call's cost.
    pub stats: CallStats,
}

/// The warm instances of one loaded plugin.
pub struct InstancePool {
    engine: PluginEngine,
    pre: ExportsPre,
    identity: Arc<PluginIdentity>,
    limits: Limits,
    idle: Mutex<Vec<WarmInstance>>,
    max_idle: usize,
}

impl InstancePool {
    /// A pool that instantiates from `pre` within `limits`.
    pub(crate) fn new(
        engine: PluginEngine,
        pre: ExportsPre,
        identity: Arc<PluginIdentity>,
        limits: Limits,
        max_idle: usize,
    ) -> Self {
        InstancePool {
            engine,
            pre,
            identity,
            limits,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    fn instantiate(&self) -> Result<WarmInstance, PluginFailure> {
        let memory_cap = (self.limits.memory_mib as usize) << 20;
        let mut store = Store::new(
            self.engine.engine(),
            HostState::new(self.identity.clone(), memory_cap),
        );
        store.limiter(|state| state);
        // Instantiation runs the component's start code: bound it like a call.
        self.arm(&mut store);
        let exports =
            self.pre
                .instantiate(&mut store)
                .map_err(|err| PluginFailure::Instantiate {
                    reason: format!("{err:#}"),
                })?;
        Ok(WarmInstance { store, exports })
    }

    /// Set the deadline and fuel for the next call.
    fn arm(&self, store: &mut Store<HostState>) {
        let ticks = self
            .limits
            .deadline_ms
            .div_ceil(EPOCH_TICK.as_millis() as u64)
            .max(1);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        if self.engine.fuel_metering() {
            let budget = if self.limits.fuel == 0 {
                UNMETERED_FUEL
            } else {
                self.limits.fuel
            };
            // Only fails when metering is off, which was just checked.
            let _ = store.set_fuel(budget);
        }
    }

    /// Run `call` on a warm (or new) instance, within the plugin's limits.
    pub(crate) fn call<R>(
        &self,
        scope: Option<PluginScope>,
        now: Timestamp,
        call: impl FnOnce(&Exports, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> CallOutcome<R> {
        let started = Instant::now();
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let instantiated = reused.is_none();
        let mut instance = match reused {
            Some(instance) => instance,
            None => match self.instantiate() {
                Ok(instance) => instance,
                Err(failure) => {
                    return CallOutcome {
                        result: Err(failure),
                        scope,
                        stats: CallStats {
                            elapsed: started.elapsed(),
                            fuel: 0,
                            instantiated,
                        },
                    };
                }
            },
        };
        let store = &mut instance.store;
        store.data_mut().begin_call(scope, now);
        self.arm(store);
        let fuel_before = store.get_fuel().unwrap_or(0);
        let result = call(&instance.exports, store);
        let fuel = fuel_before.saturating_sub(store.get_fuel().unwrap_or(0));
        let scope = store.data_mut().scope.take();
        let result = result.map_err(|err| self.classify(err, store.data()));
        let keep = result.is_ok() && store.data().captured_len() < RETIRE_AFTER_OUTPUT_BYTES;
        if keep
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push(instance);
        }
        CallOutcome {
            result,
            scope,
            stats: CallStats {
                elapsed: started.elapsed(),
                fuel,
                instantiated,
            },
        }
    }

    /// Turn a wasmtime error into the typed failure it stands for.
    fn classify(&self, err: wasmtime::Error, state: &HostState) -> PluginFailure {
        if let Some(fault) = err.downcast_ref::<HostFault>() {
            return PluginFailure::Host {
                reason: fault.0.clone(),
            };
        }
        if state.memory_denied {
            return PluginFailure::Memory {
                limit_mib: self.limits.memory_mib,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => PluginFailure::Deadline {
                limit_ms: self.limits.deadline_ms,
            },
            Some(Trap::OutOfFuel) => PluginFailure::Fuel {
                limit: self.limits.fuel,
            },
            Some(Trap::StackOverflow) => PluginFailure::StackOverflow,
            _ => {
                let printed = state.captured_output();
                let message = if printed.is_empty() {
                    format!("{err}")
                } else {
                    format!("{err}; the plugin printed: {printed}")
                };
                PluginFailure::Trap { message }
            }
        }
    }
}
