//! The wasm side: the component's imports behind [`HostCalls`], and the functions
//! [`export_plugin!`](crate::export_plugin) expands to.

use std::cell::RefCell;
use std::thread::LocalKey;

use crate::bindings::probity::plugin::{clock, log, settings, state, timers};
use crate::host::HostCalls;
use crate::plugin::{Instance, settings_from_json};
use crate::prelude::*;

/// The host's imports. Zero-sized: the component model does the rest.
struct ImportedHost;

impl HostCalls for ImportedHost {
    fn settings(&self) -> String {
        settings::get()
    }

    fn now(&self) -> Timestamp {
        clock::now()
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        log::write(level, message);
    }

    fn state_get(&self, key: &str) -> Option<Vec<u8>> {
        state::get(key)
    }

    fn state_set(
        &mut self,
        key: &str,
        value: &[u8],
        ttl: Option<DurationMs>,
    ) -> Result<(), StateError> {
        state::set(key, value, ttl)
    }

    fn state_delete(&mut self, key: &str) -> bool {
        state::delete(key)
    }

    fn state_increment(
        &mut self,
        key: &str,
        delta: i64,
        ttl: Option<DurationMs>,
    ) -> Result<i64, StateError> {
        state::increment(key, delta, ttl)
    }

    fn state_scan_prefix(&self, prefix: &str, limit: u32) -> Vec<StateEntry> {
        state::scan_prefix(prefix, limit)
    }

    fn timers_schedule(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: &[u8],
    ) -> Result<(), TimerError> {
        timers::schedule(key, due, payload)
    }

    fn timers_cancel(&mut self, key: &str) -> bool {
        timers::cancel(key)
    }
}

/// The per-instance plugin value, built on the first `handle`/`on-timer` call.
type InstanceCell<P> = LocalKey<RefCell<Instance<P>>>;

/// The `manifest` export.
pub fn manifest<P: Plugin>() -> Manifest {
    P::manifest()
}

/// The `validate-settings` export.
pub fn validate_settings<P: Plugin>(settings: &str) -> Result<(), SettingsError> {
    settings_from_json::<P>(settings).map(drop)
}

/// The `handle` export.
pub fn handle<P: Plugin>(
    cell: &'static InstanceCell<P>,
    envelope: &Envelope,
) -> Result<Vec<Finding>, PluginError> {
    with_instance(cell, |instance| {
        instance.handle(&mut ImportedHost, envelope)
    })
}

/// The `on-timer` export.
pub fn on_timer<P: Plugin>(
    cell: &'static InstanceCell<P>,
    timer: Timer,
) -> Result<Vec<Finding>, PluginError> {
    with_instance(cell, |instance| instance.on_timer(&mut ImportedHost, timer))
}

fn with_instance<P: Plugin>(
    cell: &'static InstanceCell<P>,
    call: impl FnOnce(&mut Instance<P>) -> Result<Vec<Finding>, PluginError>,
) -> Result<Vec<Finding>, PluginError> {
    cell.with(|instance| match instance.try_borrow_mut() {
        Ok(mut instance) => call(&mut instance),
        // The host makes one call at a time per instance; this only happens if plugin code
        // re-enters its own export, which the component model forbids anyway.
        Err(_) => Err(PluginError::new(
            "reentrant_call",
            "the plugin was called while a call was already running",
        )),
    })
}
