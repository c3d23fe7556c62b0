//! The seam between plugin code and whatever backs the host's imports.
//!
//! Compiled for wasm, [`HostCalls`] is implemented by the component's imports
//! (`crate::guest`); compiled natively, by the in-memory host of [`crate::testing`]. Plugin
//! code only ever sees [`Context`](crate::Context), so the same code runs unchanged in both.
//! The trait stays private so the two implementations can change together with the WIT.

use crate::prelude::{DurationMs, LogLevel, StateEntry, StateError, TimerError, Timestamp};

/// One method per WIT import function, with the WIT's semantics.
pub(crate) trait HostCalls {
    /// `settings.get`.
    fn settings(&self) -> String;
    /// `clock.now`.
    fn now(&self) -> Timestamp;
    /// `log.write`.
    fn log(&mut self, level: LogLevel, message: &str);
    /// `state.get`.
    fn state_get(&self, key: &str) -> Option<Vec<u8>>;
    /// `state.set`.
    fn state_set(
        &mut self,
        key: &str,
        value: &[u8],
        ttl: Option<DurationMs>,
    ) -> Result<(), StateError>;
    /// `state.delete`.
    fn state_delete(&mut self, key: &str) -> bool;
    /// `state.increment`.
    fn state_increment(
        &mut self,
        key: &str,
        delta: i64,
        ttl: Option<DurationMs>,
    ) -> Result<i64, StateError>;
    /// `state.scan-prefix`.
    fn state_scan_prefix(&self, prefix: &str, limit: u32) -> Vec<StateEntry>;
    /// `timers.schedule`.
    fn timers_schedule(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: &[u8],
    ) -> Result<(), TimerError>;
    /// `timers.cancel`.
    fn timers_cancel(&mut self, key: &str) -> bool;
}
