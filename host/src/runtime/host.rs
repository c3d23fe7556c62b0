//! What a plugin instance can reach: the per-instance [`HostState`] and the host side of
//! every import in the `probity:plugin` world.
//!
//! Deny by default: the WASI context is empty (no preopened directories, no environment,
//! no arguments, no stdin, no sockets), its clocks are frozen at the Unix epoch and its
//! randomness is a fixed sequence, so a plugin's behaviour depends only on its inputs.
//! Anything the plugin writes to stdout/stderr lands in a small capped buffer that the
//! host reads back to explain a trap (a Rust panic message, for instance).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView,
};

use crate::model::time::Timestamp;
use crate::store::{PluginScope, StateError, TimerError};

pub use probity_abi::{
    MAX_LOG_LINE_BYTES as LOG_LINE_BYTES, MAX_LOG_LINES_PER_CALL as LOG_LINES_PER_CALL,
};
/// Capacity of the captured stdout/stderr buffer.
const CAPTURED_OUTPUT_BYTES: usize = 8 * 1024;

/// Who an instance belongs to, shared by all instances of one loaded plugin.
#[derive(Debug)]
pub struct PluginIdentity {
    /// The configured plugin name.
    pub name: Arc<str>,
    /// The active settings as JSON text.
    pub settings_json: String,
}

/// A failure of the host itself while serving an import (storage error). It traps the
/// guest; the call is classified as a host failure, not the plugin's fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HostFault(pub String);

/// Per-instance state, owned by the instance's wasmtime `Store`.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    captured: MemoryOutputPipe,
    identity: Arc<PluginIdentity>,
    memory_cap: usize,
    /// Set when the instance asked for more memory than its cap.
    pub(crate) memory_denied: bool,
    /// The state and timers of the call in progress (none during manifest/validation).
    pub(crate) scope: Option<PluginScope>,
    /// Event time of the call in progress.
    pub(crate) now: Timestamp,
    log_lines: u32,
    /// Log lines dropped by the rate limit, since the instance was created.
    pub(crate) dropped_log_lines: u64,
}

/// The WASI wall clock reads as the Unix epoch: plugins use `clock.now` (event time).
struct FrozenWallClock;

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// The WASI monotonic clock never moves.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl HostState {
    /// A fresh, fully denied state for a new instance.
    pub(crate) fn new(identity: Arc<PluginIdentity>, memory_cap: usize) -> Self {
        let captured = MemoryOutputPipe::new(CAPTURED_OUTPUT_BYTES);
        let wasi = WasiCtx::builder()
            .stdout(captured.clone())
            .stderr(captured.clone())
            .wall_clock(FrozenWallClock)
            .monotonic_clock(FrozenMonotonicClock)
            .secure_random(Deterministic::new(vec![0x5a, 0x17, 0xc3, 0x88]))
            .insecure_random(Deterministic::new(vec![0x42, 0x99, 0x01, 0x7e]))
            .insecure_random_seed(0x5eed)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            captured,
            identity,
            memory_cap,
            memory_denied: false,
            scope: None,
            now: 0,
            log_lines: 0,
            dropped_log_lines: 0,
        }
    }

    /// Reset per-call budgets and lend the call its scope.
    pub(crate) fn begin_call(&mut self, scope: Option<PluginScope>, now: Timestamp) {
        self.scope = scope;
        self.now = now;
        self.log_lines = 0;
        self.memory_denied = false;
    }

    /// How many bytes the guest has printed to stdout/stderr so far.
    pub(crate) fn captured_len(&self) -> usize {
        self.captured.contents().len()
    }

    /// What the guest printed (the tail of its stdout/stderr), for trap messages.
    pub(crate) fn captured_output(&self) -> String {
        let bytes = self.captured.contents();
        let text = String::from_utf8_lossy(&bytes);
        let trimmed = text.trim();
        let tail_start = trimmed
            .char_indices()
            .rev()
            .nth(600)
            .map_or(0, |(index, _)| index);
        trimmed[tail_start..].to_string()
    }

    fn scope(&mut self) -> Result<&mut PluginScope> {
        self.scope.as_mut().ok_or_else(|| {
            wasmtime::Error::new(HostFault(
                "state and timers are not available during manifest or validate-settings".into(),
            ))
        })
    }
}

fn host_fault(err: impl std::fmt::Display) -> wasmtime::Error {
    wasmtime::Error::new(HostFault(err.to_string()))
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        if desired > self.memory_cap {
            self.memory_denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The host side of every `probity:plugin` import, for one world version: the bindings of
/// each version (`super::abi`) have their own traits and types, so the same code is
/// generated for each.
macro_rules! imports_of_version {
    ($module:ident, $($world:ident)::+) => {
        mod $module {
            use super::*;
            use super::super::abi::$($world)::+::probity::plugin::{clock, log, settings, state, timers, types};

        impl types::Host for HostState {}

        impl log::Host for HostState {
            fn write(&mut self, level: log::Level, message: String) -> Result<()> {
                if self.log_lines >= LOG_LINES_PER_CALL {
                    self.dropped_log_lines += 1;
                    return Ok(());
                }
                self.log_lines += 1;
                let mut end = message.len().min(LOG_LINE_BYTES);
                while !message.is_char_boundary(end) {
                    end -= 1;
                }
                let line = &message[..end];
                let plugin = &*self.identity.name;
                match level {
                    log::Level::Trace => tracing::trace!(target: "plugin", plugin, "{line}"),
                    log::Level::Debug => tracing::debug!(target: "plugin", plugin, "{line}"),
                    log::Level::Info => tracing::info!(target: "plugin", plugin, "{line}"),
                    log::Level::Warn => tracing::warn!(target: "plugin", plugin, "{line}"),
                    log::Level::Error => tracing::error!(target: "plugin", plugin, "{line}"),
                }
                Ok(())
            }
        }

        impl settings::Host for HostState {
            fn get(&mut self) -> Result<String> {
                Ok(self.identity.settings_json.clone())
            }
        }

        impl clock::Host for HostState {
            fn now(&mut self) -> Result<Timestamp> {
                Ok(self.now)
            }
        }

        fn state_error(err: StateError) -> state::StateError {
            match err {
                StateError::QuotaExceeded => state::StateError::QuotaExceeded,
                StateError::BadKey => state::StateError::BadKey,
                StateError::ValueTooLarge => state::StateError::ValueTooLarge,
                StateError::NotACounter => state::StateError::NotACounter,
            }
        }

        fn timer_error(err: TimerError) -> timers::TimerError {
            match err {
                TimerError::QuotaExceeded => timers::TimerError::QuotaExceeded,
                TimerError::BadKey => timers::TimerError::BadKey,
                TimerError::PayloadTooLarge => timers::TimerError::PayloadTooLarge,
            }
        }

        impl state::Host for HostState {
            fn get(&mut self, key: String) -> Result<Option<Vec<u8>>> {
                self.scope()?.get(&key).map_err(host_fault)
            }

            fn set(
                &mut self,
                key: String,
                value: Vec<u8>,
                ttl: Option<u64>,
            ) -> Result<std::result::Result<(), state::StateError>> {
                let outcome = self.scope()?.set(&key, value, ttl).map_err(host_fault)?;
                Ok(outcome.map_err(state_error))
            }

            fn delete(&mut self, key: String) -> Result<bool> {
                self.scope()?.delete(&key).map_err(host_fault)
            }

            fn increment(
                &mut self,
                key: String,
                delta: i64,
                ttl: Option<u64>,
            ) -> Result<std::result::Result<i64, state::StateError>> {
                let outcome = self
                    .scope()?
                    .increment(&key, delta, ttl)
                    .map_err(host_fault)?;
                Ok(outcome.map_err(state_error))
            }

            fn scan_prefix(&mut self, prefix: String, limit: u32) -> Result<Vec<state::Entry>> {
                let entries = self
                    .scope()?
                    .scan_prefix(&prefix, limit)
                    .map_err(host_fault)?;
                Ok(entries
                    .into_iter()
                    .map(|(key, value)| state::Entry { key, value })
                    .collect())
            }
        }

        impl timers::Host for HostState {
            fn schedule(
                &mut self,
                key: String,
                due: Timestamp,
                payload: Vec<u8>,
            ) -> Result<std::result::Result<(), timers::TimerError>> {
                let outcome = self
                    .scope()?
                    .schedule(&key, due, payload)
                    .map_err(host_fault)?;
                Ok(outcome.map_err(timer_error))
            }

            fn cancel(&mut self, key: String) -> Result<bool> {
                self.scope()?.cancel(&key).map_err(host_fault)
            }
        }
        }
    };
}

imports_of_version!(current, bindings);
imports_of_version!(v0_1, bindings_v0_1);
