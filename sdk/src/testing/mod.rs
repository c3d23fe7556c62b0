//! Run a plugin natively, with the host's semantics, in unit tests and benchmarks.
//!
//! [`Harness`] drives the same [`Plugin`] code the wasm build exports, against an
//! in-memory host that follows the WIT's rules: the event-time clock, timers firing in
//! `(due, key)` order after each event, state with time-to-live in event time, quotas that
//! refuse writes with the host's errors, and roll-back of every state and timer change of
//! a failed call. The functions below ([`listing`], [`order_paid`]…) build test events in
//! one line.
//!
//! ```
//! use probity_sdk::prelude::*;
//! use probity_sdk::testing::{self, Harness};
//!
//! struct ShipCheck;
//!
//! impl Plugin for ShipCheck {
//!     type Settings = NoSettings;
//!     fn manifest() -> Manifest {
//!         Manifest::new("ship-check", "0.1.0", "orders paid but not shipped within an hour")
//!             .subscribe(EventType::OrderPaid)
//!     }
//!     fn new(_: NoSettings) -> Self {
//!         ShipCheck
//!     }
//!     fn handle(&mut self, ctx: &mut Context, envelope: &Envelope) -> Result<Vec<Finding>, PluginError> {
//!         let order = envelope.order_id().unwrap_or_default();
//!         ctx.timers().schedule(order, envelope.occurred_at + 3_600_000, order.as_bytes())?;
//!         Ok(vec![])
//!     }
//!     fn on_timer(&mut self, _ctx: &mut Context, timer: Timer) -> Result<Vec<Finding>, PluginError> {
//!         let late = Finding::builder(Subject::order(&timer.key))
//!             .rule("ship.late")
//!             .message("paid but not shipped within an hour");
//!         Ok(vec![late.build()])
//!     }
//! }
//!
//! let mut harness = Harness::<ShipCheck>::new("{}").unwrap();
//! assert!(harness.handle(testing::order_paid("O-1").at(1_000)).findings().is_empty());
//! let later = harness.advance_clock(1_000 + 3_600_000);
//! assert_eq!(later.rules(), ["ship.late"]);
//! ```
//!
//! Logging is capped like the host does it: 32 lines per call, each cut to 1 KiB.
//!
//! What a call returns is checked as the host checks it (at most 1000 findings, the
//! output size limit, non-empty subject id, rule of `a-z0-9._-`, non-empty message, spans
//! that do not end before they start…); output the host would refuse makes the call fail
//! with code `invalid_output`, like the host's `plugin_error.invalid_output`.
//!
//! Where the harness differs from the host: it does not deduplicate `event_id`s, removes
//! all expired state entries after each event (the host at most 1000 per event), and does
//! not enforce deadlines, fuel or memory. A panic in plugin code propagates to the test
//! (the host would see a trap).

mod events;
mod memory;
mod output;

pub use events::*;
pub use output::{MAX_EVIDENCE_PER_FINDING, MAX_FINDINGS_PER_CALL};

use std::fmt;

pub(crate) use memory::MemoryHost;

use crate::plugin::{Instance, settings_from_json};
use crate::prelude::*;

/// Most timers fired after one event (or clock advance); the rest fire after the next one,
/// as in the host. Bounds the work of a plugin that keeps re-scheduling into the past.
pub const MAX_TIMER_FIRES_PER_EVENT: usize = 10_000;

/// The limits the in-memory host enforces, as in the plugin's host configuration.
/// (Deadline, fuel and memory are not emulated.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Cap on the sum of key and value lengths of all state entries, in bytes (the host's
    /// `state_quota_kib` × 1024).
    pub state_quota_bytes: u64,
    /// Cap on the number of pending timers (the host's `timers_quota`).
    pub timers_quota: u64,
    /// Cap on the size of one call's findings, counted like the host counts it (the
    /// host's `output_kib` × 1024).
    pub output_bytes: u64,
}

impl Default for Limits {
    /// The host's defaults: 64 MiB of state, a million pending timers, 256 KiB of output.
    fn default() -> Self {
        Limits {
            state_quota_bytes: 64 * 1024 * 1024,
            timers_quota: 1_000_000,
            output_bytes: 256 * 1024,
        }
    }
}

/// One line the plugin logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// Its text, cut to 1 KiB like the host does.
    pub message: String,
}

/// A timer that fired, and what `on_timer` returned for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerRun {
    /// The timer as handed to `on_timer`.
    pub timer: Timer,
    /// What `on_timer` returned. On an error, the call's state and timer changes were
    /// rolled back; the timer itself stays consumed.
    pub result: Result<Vec<Finding>, PluginError>,
}

impl TimerRun {
    /// The findings, or none if the call failed.
    pub fn findings(&self) -> &[Finding] {
        self.result.as_deref().unwrap_or_default()
    }
}

/// What one [`Harness::handle`] or [`Harness::advance_clock`] did: the event's call, then
/// every timer that came due.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Outcome {
    /// What `handle` returned; `None` when it was not called: the event's type is not in
    /// the manifest's subscriptions (the host would not send it), or this is the outcome
    /// of [`Harness::advance_clock`].
    pub event: Option<Result<Vec<Finding>, PluginError>>,
    /// The timers that fired afterwards, in firing order.
    pub timers: Vec<TimerRun>,
}

impl Outcome {
    /// Every finding: the event's, then each timer's, in order (failed calls contribute
    /// none).
    pub fn findings(&self) -> Vec<&Finding> {
        self.event_findings()
            .iter()
            .chain(self.timers.iter().flat_map(TimerRun::findings))
            .collect()
    }

    /// The findings of the event's call alone (none if it failed or was not made).
    pub fn event_findings(&self) -> &[Finding] {
        match &self.event {
            Some(Ok(findings)) => findings,
            _ => &[],
        }
    }

    /// The findings of the timers alone, in firing order.
    pub fn timer_findings(&self) -> Vec<&Finding> {
        self.timers.iter().flat_map(TimerRun::findings).collect()
    }

    /// The rule of every finding, in the order of [`findings`](Self::findings): handy in
    /// assertions.
    pub fn rules(&self) -> Vec<&str> {
        self.findings()
            .into_iter()
            .map(|f| f.rule.as_str())
            .collect()
    }

    /// Every error, the event's first.
    pub fn errors(&self) -> Vec<&PluginError> {
        let event = self.event.iter().filter_map(|result| result.as_ref().err());
        let timers = self
            .timers
            .iter()
            .filter_map(|run| run.result.as_ref().err());
        event.chain(timers).collect()
    }

    /// All findings, or the first error.
    pub fn into_findings(self) -> Result<Vec<Finding>, PluginError> {
        let mut all = match self.event {
            Some(result) => result?,
            None => Vec::new(),
        };
        for run in self.timers {
            all.extend(run.result?);
        }
        Ok(all)
    }
}

/// A plugin and an in-memory host with the real host's semantics.
///
/// Like the host, it calls [`Plugin::manifest`] and validates the settings when created,
/// builds the plugin value lazily on the first call, throws it away after a failed call
/// (the next call builds a new one), and keeps state and timers across calls.
pub struct Harness<P: Plugin> {
    manifest: Manifest,
    instance: Instance<P>,
    host: MemoryHost,
}

impl<P: Plugin> fmt::Debug for Harness<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", &self.manifest.name)
            .field("clock", &self.host.clock())
            .finish_non_exhaustive()
    }
}

impl<P: Plugin> Harness<P> {
    /// Load the plugin with `settings` (a JSON object text; `"{}"` for none), refused as
    /// the host would refuse them.
    pub fn new(settings: &str) -> Result<Self, SettingsError> {
        settings_from_json::<P>(settings)?;
        Ok(Harness {
            manifest: P::manifest(),
            instance: Instance::new(),
            host: MemoryHost::new(settings.to_string(), Limits::default()),
        })
    }

    /// Use these quotas from now on (they apply to later writes; nothing is evicted).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.host.set_limits(limits);
        self
    }

    /// Start the event-time clock at `now` (it starts at the lowest timestamp, so the
    /// first event sets it). The clock never goes backwards.
    pub fn with_clock(mut self, now: Timestamp) -> Self {
        self.host.advance_clock(now);
        self.host.remove_expired();
        self
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The event-time clock: the highest `occurred_at` (or `advance_clock` time) so far.
    pub fn now(&self) -> Timestamp {
        self.host.clock()
    }

    /// Deliver one event as the host does: move the clock to
    /// `max(clock, occurred_at)`, call `handle` (if the manifest subscribes to the event's
    /// type), remove the state entries that expired, then fire every timer due at or
    /// before the clock, in `(due, key)` order, including timers those calls schedule
    /// already due (at most [`MAX_TIMER_FIRES_PER_EVENT`]; the rest fire next time).
    ///
    /// A failed call's state and timer changes are rolled back and its instance thrown
    /// away; later calls go on. A fired timer is removed whatever `on_timer` returns.
    pub fn handle(&mut self, envelope: Envelope) -> Outcome {
        self.host.advance_clock(envelope.occurred_at);
        let event = self
            .manifest
            .subscribes_to(envelope.event_type())
            .then(|| self.call(|instance, host| instance.handle(host, &envelope)));
        self.host.remove_expired();
        Outcome {
            event,
            timers: self.fire_due_timers(),
        }
    }

    /// Move the clock forward to `now` without an event (as a live host's wall clock
    /// does) and fire the timers that came due.
    pub fn advance_clock(&mut self, now: Timestamp) -> Outcome {
        self.host.advance_clock(now);
        self.host.remove_expired();
        Outcome {
            event: None,
            timers: self.fire_due_timers(),
        }
    }

    /// The live state entries, in key order.
    pub fn state_entries(&self) -> Vec<StateEntry> {
        self.host.state_entries()
    }

    /// The live value under `key`.
    pub fn state_get(&self, key: &str) -> Option<Vec<u8>> {
        use crate::host::HostCalls;
        self.host.state_get(key)
    }

    /// What the state counts against the quota: the sum of key and value lengths.
    pub fn state_bytes(&self) -> u64 {
        self.host.state_bytes()
    }

    /// The pending timers, in firing order.
    pub fn pending_timers(&self) -> Vec<Timer> {
        self.host.pending_timers()
    }

    /// Every line logged so far.
    pub fn logs(&self) -> &[LogLine] {
        self.host.logs()
    }

    /// Every line logged so far, clearing the log.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        self.host.take_logs()
    }

    /// How many lines were dropped because a call logged more than the host keeps (32).
    pub fn dropped_log_lines(&self) -> u64 {
        self.host.dropped_log_lines()
    }

    /// How many times the plugin value was built with [`Plugin::new`]: once, plus once
    /// after each failed call.
    pub fn instances_built(&self) -> u64 {
        self.instance.times_built()
    }

    fn fire_due_timers(&mut self) -> Vec<TimerRun> {
        let mut runs = Vec::new();
        while runs.len() < MAX_TIMER_FIRES_PER_EVENT {
            let Some(timer) = self.host.pop_due_timer() else {
                break;
            };
            let result = self.call(|instance, host| instance.on_timer(host, timer.clone()));
            runs.push(TimerRun { timer, result });
        }
        runs
    }

    /// One call as the host makes it: its writes kept only if it succeeds and its output
    /// passes the host's checks; a failed instance is discarded.
    fn call(
        &mut self,
        call: impl FnOnce(&mut Instance<P>, &mut MemoryHost) -> Result<Vec<Finding>, PluginError>,
    ) -> Result<Vec<Finding>, PluginError> {
        self.host.begin_call();
        let result = call(&mut self.instance, &mut self.host).and_then(|findings| {
            output::check_output(&findings, self.host.limits().output_bytes)?;
            Ok(findings)
        });
        if result.is_ok() {
            self.host.commit_call();
        } else {
            self.host.roll_back_call();
            self.instance.discard();
        }
        result
    }
}
