//! [`Context`]: what the host offers a plugin during one call.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host::HostCalls;
use crate::prelude::{
    DurationMs, LogLevel, PluginError, StateEntry, StateError, TimerError, Timestamp,
};

/// The host's services during one `handle` or `on_timer` call: the event-time clock,
/// logging, the plugin's private [`State`] and its [`Timers`].
///
/// In a wasm build each method is one call of the component's imports; in a native build
/// ([`testing`](crate::testing)) an in-memory host with the same semantics answers.
pub struct Context<'h> {
    host: &'h mut dyn HostCalls,
}

impl<'h> Context<'h> {
    pub(crate) fn new(host: &'h mut dyn HostCalls) -> Self {
        Context { host }
    }

    /// The host's event time in milliseconds since the Unix epoch: at least the current
    /// event's `occurred_at` (or the current timer's `due`), never going backwards.
    ///
    /// This is the only clock: `std::time::SystemTime` reads as the epoch in the sandbox.
    pub fn now(&self) -> Timestamp {
        self.host.now()
    }

    /// Write a line to the host's log, tagged with the plugin's name. The host keeps a few
    /// dozen lines per call and cuts each to 1 KiB. Never log personal data.
    pub fn log(&mut self, level: LogLevel, message: &str) {
        self.host.log(level, message);
    }

    /// [`log`](Self::log) at [`LogLevel::Debug`].
    pub fn debug(&mut self, message: &str) {
        self.log(LogLevel::Debug, message);
    }

    /// [`log`](Self::log) at [`LogLevel::Info`].
    pub fn info(&mut self, message: &str) {
        self.log(LogLevel::Info, message);
    }

    /// [`log`](Self::log) at [`LogLevel::Warn`].
    pub fn warn(&mut self, message: &str) {
        self.log(LogLevel::Warn, message);
    }

    /// [`log`](Self::log) at [`LogLevel::Error`].
    pub fn error(&mut self, message: &str) {
        self.log(LogLevel::Error, message);
    }

    /// The JSON record under `key`, or `None` when it is absent, expired, or no longer
    /// reads as a `T` (say, written by an older version of the plugin): that is logged as
    /// a warning and treated as absent, so the plugin rebuilds the record from what comes
    /// next instead of failing every event that touches it. Use
    /// [`State::get_json`] to treat an unreadable record as an error instead.
    pub fn read_json<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.state().get_json(key) {
            Ok(value) => value,
            Err(err) => {
                self.warn(&format!(
                    "ignoring an unreadable state record: {}",
                    err.message
                ));
                None
            }
        }
    }

    /// The plugin's durable key-value store.
    pub fn state(&mut self) -> State<'_> {
        State {
            host: &mut *self.host,
        }
    }

    /// The plugin's event-time timers.
    pub fn timers(&mut self) -> Timers<'_> {
        Timers {
            host: &mut *self.host,
        }
    }
}

/// A durable key-value store private to the plugin (from [`Context::state`]).
///
/// Writes of a call become durable together with that call's findings and are discarded
/// if the call fails, so state never reflects half an event. Limits: keys are 1–512 bytes,
/// values at most 64 KiB, and the plugin's keys + values together at most its
/// `state_quota`. A time-to-live counts in event time from [`Context::now`]; an entry
/// whose expiry is at or before `now` reads as absent.
pub struct State<'c> {
    host: &'c mut dyn HostCalls,
}

impl State<'_> {
    /// The value under `key`, if present and not expired.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.host.state_get(key)
    }

    /// Store `value` under `key`, replacing any earlier value (and its expiry). With `ttl`
    /// the entry expires `ttl` milliseconds of event time from now; without, never.
    pub fn set(
        &mut self,
        key: &str,
        value: &[u8],
        ttl: Option<DurationMs>,
    ) -> Result<(), StateError> {
        self.host.state_set(key, value, ttl)
    }

    /// Remove `key`. Returns whether a live entry was there.
    pub fn delete(&mut self, key: &str) -> bool {
        self.host.state_delete(key)
    }

    /// Add `delta` to the counter under `key` (absent counts as 0; the sum wraps on
    /// overflow) and return the new value. A counter is 8 bytes, little-endian two's
    /// complement; anything else gives [`StateError::NotACounter`]. With `ttl` the expiry
    /// is reset to `ttl` from now; without, an existing expiry is kept.
    pub fn increment(
        &mut self,
        key: &str,
        delta: i64,
        ttl: Option<DurationMs>,
    ) -> Result<i64, StateError> {
        self.host.state_increment(key, delta, ttl)
    }

    /// Up to `limit` (at most 1000) live entries whose key starts with `prefix`, in
    /// ascending key order.
    pub fn scan_prefix(&self, prefix: &str, limit: u32) -> Vec<StateEntry> {
        self.host.state_scan_prefix(prefix, limit)
    }

    /// The value under `key` decoded from JSON.
    ///
    /// A value that does not decode as `T` gives a `PluginError` with code `bad_state`.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, PluginError> {
        self.get(key)
            .map(|bytes| {
                serde_json::from_slice(&bytes).map_err(|err| {
                    PluginError::new(
                        "bad_state",
                        format!("state entry `{key}` is not the expected JSON: {err}"),
                    )
                })
            })
            .transpose()
    }

    /// Store `value` as JSON under `key` (see [`set`](Self::set)). A refused write becomes
    /// a `PluginError` (see `From<StateError> for PluginError`).
    pub fn set_json<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
        ttl: Option<DurationMs>,
    ) -> Result<(), PluginError> {
        let bytes = to_json(value, "state value")?;
        Ok(self.set(key, &bytes, ttl)?)
    }
}

/// Event-time timers (from [`Context::timers`]).
///
/// A timer fires (through [`Plugin::on_timer`](crate::Plugin::on_timer)) once the host's
/// event time reaches its `due`: after the event that moved the clock past it, before the
/// next event, in order of `due` then key. A timer already due when scheduled fires right
/// after the current call. Keys are 1–512 bytes and unique per plugin, payloads at most
/// 16 KiB, and the number of pending timers is capped by the plugin's `timers_quota`.
/// Like state, timer changes of a failed call are discarded.
pub struct Timers<'c> {
    host: &'c mut dyn HostCalls,
}

impl Timers<'_> {
    /// Schedule a timer, or re-schedule it if `key` is already pending (which does not
    /// count against the quota again).
    pub fn schedule(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: &[u8],
    ) -> Result<(), TimerError> {
        self.host.timers_schedule(key, due, payload)
    }

    /// [`schedule`](Self::schedule) with `payload` encoded as JSON; read it back with
    /// [`Timer::payload_json`](crate::prelude::Timer::payload_json).
    pub fn schedule_json<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        due: Timestamp,
        payload: &T,
    ) -> Result<(), PluginError> {
        let bytes = to_json(payload, "timer payload")?;
        Ok(self.schedule(key, due, &bytes)?)
    }

    /// Cancel the pending timer `key`. Returns whether one was pending.
    pub fn cancel(&mut self, key: &str) -> bool {
        self.host.timers_cancel(key)
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|err| {
        PluginError::new(
            "bad_json",
            format!("cannot encode the {what} as JSON: {err}"),
        )
    })
}
