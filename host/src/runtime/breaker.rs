//! The circuit breaker that quarantines a plugin which keeps failing.
//!
//! Why: a plugin that traps or times out on every event still costs a fresh instance and
//! a full deadline per call, and floods the logs. After
//! [`BreakerConfig::failures`] failed calls in a row the breaker *opens*: the next
//! [`BreakerConfig::cooldown_calls`] calls are refused without running the plugin (each
//! one still becomes a `plugin_error` finding, so `on_error` is honoured). The call after
//! the cool-down is a *probe*; its success closes the breaker, its failure opens it again.
//!
//! Only the plugin's own failures count. A [`PluginFailure::Host`] (the host could not
//! serve the call) neither opens nor closes the breaker.
//!
//! The breaker lives in memory with its [`LoadedPlugin`](super::LoadedPlugin): a restart,
//! or a reload that changes the plugin's code or configuration, starts it closed. A reload
//! that leaves the plugin unchanged keeps it, and its state.

use std::sync::{Mutex, PoisonError};

use super::failure::PluginFailure;
use crate::config::BreakerConfig;

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls are made.
    Closed,
    /// The plugin is quarantined: calls are refused.
    Open,
    /// The cool-down is over; the next call is a probe.
    HalfOpen,
}

/// A copy of the breaker's state, for `/v1/plugins` and metrics.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BreakerSnapshot {
    /// Where it stands.
    pub state: BreakerState,
    /// Failed calls in a row, up to now.
    pub consecutive_failures: u32,
    /// How many times it opened.
    pub opened_total: u64,
    /// Calls refused while open, in all.
    pub refused_total: u64,
    /// Calls still to refuse before the probe (0 unless open).
    pub probe_in: u64,
    /// The last failure that counted: its kind and message.
    pub last_failure: Option<LastFailure>,
}

/// A failure remembered by the breaker.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LastFailure {
    /// [`PluginFailure::kind`].
    pub kind: &'static str,
    /// Its message.
    pub message: String,
}

/// What [`CircuitBreaker::record`] changed, so the caller can log transitions once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Nothing worth a log line.
    None,
    /// It just opened (the plugin is quarantined).
    Opened,
    /// A probe succeeded: it closed again.
    Closed,
}

/// One plugin's circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<BreakerSnapshot>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            inner: Mutex::new(BreakerSnapshot {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_total: 0,
                refused_total: 0,
                probe_in: 0,
                last_failure: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerSnapshot> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// May a call be made? `Err` is the [`PluginFailure::Quarantined`] standing for a
    /// refused call. The last refused call of a cool-down turns the breaker half-open, so
    /// the call after it is the probe.
    pub fn admit(&self) -> Result<(), PluginFailure> {
        let mut inner = self.lock();
        if inner.state != BreakerState::Open {
            return Ok(());
        }
        inner.refused_total += 1;
        inner.probe_in = inner.probe_in.saturating_sub(1);
        let failure = PluginFailure::Quarantined {
            failures: inner.consecutive_failures,
            last: inner
                .last_failure
                .as_ref()
                .map_or_else(String::new, |f| f.message.clone()),
            probe_in: inner.probe_in,
        };
        if inner.probe_in == 0 {
            inner.state = BreakerState::HalfOpen;
        }
        Err(failure)
    }

    /// Count the outcome of a call that was made.
    pub fn record<T>(&self, result: &Result<T, PluginFailure>) -> Transition {
        let mut inner = self.lock();
        match result {
            Ok(_) => {
                inner.consecutive_failures = 0;
                let was = std::mem::replace(&mut inner.state, BreakerState::Closed);
                if was == BreakerState::Closed {
                    Transition::None
                } else {
                    Transition::Closed
                }
            }
            Err(PluginFailure::Host { .. } | PluginFailure::Quarantined { .. }) => Transition::None,
            Err(failure) => {
                inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
                inner.last_failure = Some(LastFailure {
                    kind: failure.kind(),
                    message: failure.to_string(),
                });
                let trips = self.config.failures > 0
                    && (inner.state == BreakerState::HalfOpen
                        || inner.consecutive_failures >= self.config.failures);
                if trips && inner.state != BreakerState::Open {
                    inner.state = BreakerState::Open;
                    inner.probe_in = self.config.cooldown_calls.max(1);
                    inner.opened_total += 1;
                    Transition::Opened
                } else {
                    Transition::None
                }
            }
        }
    }

    /// A copy of its state.
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap() -> Result<(), PluginFailure> {
        Err(PluginFailure::Trap {
            message: "unreachable".into(),
        })
    }

    fn breaker(failures: u32, cooldown_calls: u64) -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig {
            failures,
            cooldown_calls,
        })
    }

    #[test]
    fn opens_after_the_configured_failures_in_a_row() {
        let b = breaker(3, 10);
        assert_eq!(b.record(&trap()), Transition::None);
        assert_eq!(b.record(&trap()), Transition::None);
        assert!(b.admit().is_ok());
        assert_eq!(b.record(&trap()), Transition::Opened);
        let refused = b.admit().expect_err("quarantined");
        assert_eq!(refused.kind(), "quarantined");
        assert!(
            refused.to_string().contains("3 consecutive failures"),
            "{refused}"
        );
        assert!(refused.to_string().contains("unreachable"), "{refused}");
        assert_eq!(b.snapshot().state, BreakerState::Open);
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = breaker(2, 10);
        b.record(&trap());
        b.record::<()>(&Ok(()));
        b.record(&trap());
        assert!(b.admit().is_ok());
        assert_eq!(b.snapshot().consecutive_failures, 1);
    }

    #[test]
    fn after_the_cooldown_one_probe_closes_it_on_success() {
        let b = breaker(1, 3);
        assert_eq!(b.record(&trap()), Transition::Opened);
        for _ in 0..3 {
            assert!(b.admit().is_err());
        }
        assert_eq!(b.snapshot().state, BreakerState::HalfOpen);
        assert!(b.admit().is_ok(), "the probe is let through");
        assert_eq!(b.record::<()>(&Ok(())), Transition::Closed);
        let s = b.snapshot();
        assert_eq!(
            (s.state, s.refused_total, s.opened_total),
            (BreakerState::Closed, 3, 1)
        );
    }

    #[test]
    fn a_failed_probe_opens_it_again_for_a_whole_cooldown() {
        let b = breaker(5, 2);
        for _ in 0..5 {
            b.record(&trap());
        }
        assert!(b.admit().is_err());
        assert!(b.admit().is_err());
        assert!(b.admit().is_ok());
        assert_eq!(
            b.record(&trap()),
            Transition::Opened,
            "one failed probe is enough"
        );
        assert!(b.admit().is_err());
        assert!(b.admit().is_err());
        assert!(b.admit().is_ok());
        assert_eq!(b.snapshot().opened_total, 2);
    }

    #[test]
    fn host_failures_do_not_count_and_zero_turns_it_off() {
        let b = breaker(1, 5);
        let host: Result<(), _> = Err(PluginFailure::Host {
            reason: "disk".into(),
        });
        assert_eq!(b.record(&host), Transition::None);
        assert!(b.admit().is_ok());

        let off = breaker(0, 5);
        for _ in 0..100 {
            off.record(&trap());
        }
        assert!(off.admit().is_ok());
    }
}
