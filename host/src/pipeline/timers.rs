//! Firing due timers and removing expired state, each as its own unit.

use std::collections::BTreeMap;

use super::{
    MAX_EXPIRED_PER_EVENT, MAX_TIMER_FIRES_PER_EVENT, Pipeline, PipelineError, VerdictWork,
    to_finding,
};
use crate::model::shard::split_namespace;
use crate::model::time::Timestamp;
use crate::runtime::PluginFailure;
use crate::store::{
    LogAppend, PendingTimer, PluginScope, PluginWrites, StateWrite, TimerDeadlineHit, TimerRetry,
    TimerWrite, UsageDelta, WriteBatch,
};
use crate::verdict::Verdict;

/// Failed runs of a plugin on one timer after which the timer is dropped.
pub const MAX_TIMER_FAILURES: u32 = 5;

/// The first back-off of a deferred timer, in event time.
const TIMER_RETRY_BASE_MS: i64 = 60_000;

/// The longest back-off of a deferred timer, in event time.
const TIMER_RETRY_MAX_MS: i64 = 3_600_000;

/// Why a due timer did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deferral {
    /// Its plugin is disabled or not in the configuration.
    NotLoaded,
    /// Its plugin's circuit breaker is open.
    Quarantined,
    /// Its plugin ran and failed on it.
    Failed,
}

impl Deferral {
    fn label(self) -> &'static str {
        match self {
            Deferral::NotLoaded => "not_loaded",
            Deferral::Quarantined => "quarantined",
            Deferral::Failed => "failed",
        }
    }
}

/// The unit part that removes `timer` (it fired, or is dropped).
fn removal(timer: &PendingTimer) -> PluginWrites {
    PluginWrites {
        timers: BTreeMap::from([(
            timer.key.clone(),
            TimerWrite {
                old_due: Some(timer.due),
                new: None,
                retry: None,
            },
        )]),
        usage: UsageDelta {
            timers: -1,
            ..UsageDelta::default()
        },
        ..PluginWrites::default()
    }
}

impl Pipeline {
    /// Fire every timer due at or before `now` (at most [`MAX_TIMER_FIRES_PER_EVENT`]) in
    /// due order, each at its own due time, then remove the state expired at `now`.
    /// Returns the verdict changes and how many fired.
    pub(super) fn fire_due_timers(
        &mut self,
        now: Timestamp,
        event_id: &str,
    ) -> Result<(Vec<Verdict>, usize), PipelineError> {
        let mut changes = Vec::new();
        let mut fired = 0;
        while fired < MAX_TIMER_FIRES_PER_EVENT {
            let store = self.store.clone();
            let Some(timer) = store.next_due_timer(now, &|ns| self.serves(ns))? else {
                break;
            };
            // The timer runs against the state as it stood at its due time, however far
            // the clock has jumped since: only what expired by then is swept, and the
            // call's event time is the due time. A jump of a month thus gives the same
            // findings as a clock that moved smoothly through it.
            self.expire_state(timer.due)?;
            fired += 1;
            changes.extend(self.fire(&timer, timer.due, now, event_id)?);
        }
        self.expire_state(now)?;
        Ok((changes, fired))
    }

    /// Fire one timer as one unit, at event time `at` (its due time), the clock being
    /// `clock`. The timer is removed when the plugin ran it; when the plugin could not
    /// run it, it is [deferred](Self::defer) instead, never silently dropped.
    fn fire(
        &mut self,
        timer: &PendingTimer,
        at: Timestamp,
        clock: Timestamp,
        event_id: &str,
    ) -> Result<Vec<Verdict>, PipelineError> {
        let plugins = self.plugins.clone();
        // `timer.plugin` is the plugin's namespace in the timer's shard.
        let name = split_namespace(&timer.plugin).map_or(timer.plugin.as_str(), |(name, _)| name);
        let Some(plugin) = plugins.get(name) else {
            // Its plugin is disabled or removed: keep the timer for when it is back.
            self.defer(timer, clock, Deferral::NotLoaded, None)?;
            return Ok(Vec::new());
        };
        let removal = removal(timer);
        let scope = PluginScope::resume(
            self.store.clone(),
            timer.plugin.as_str().into(),
            at,
            plugin.quotas(),
            removal,
        )?;
        let attempt = timer.retry.map_or(0, |retry| retry.attempts);
        let recorded = self.recorded_timer_deadlines.as_ref().and_then(|recorded| {
            let id = (
                name.to_string(),
                timer.key.clone(),
                timer.original_due(),
                attempt,
            );
            recorded.get(&id).copied()
        });
        // In a replay, an attempt that hit its deadline live fails the same way unrun.
        let outcome = match recorded {
            Some(limit_ms) => plugin.replay_failure(PluginFailure::Deadline { limit_ms }),
            None => plugin.on_timer(timer, scope),
        };
        let mut batch = WriteBatch::default();
        let findings = match self.settle(
            &timer.plugin,
            outcome.result,
            outcome.scope,
            &mut batch,
        )? {
            Ok(findings) => findings,
            Err(failure) => {
                let deferral = match failure {
                    PluginFailure::Quarantined { .. } => Deferral::Quarantined,
                    _ => Deferral::Failed,
                };
                // Live, a deadline hit goes into the log with the deferral.
                let logged = match (&failure, &self.recorded_timer_deadlines) {
                    (PluginFailure::Deadline { limit_ms }, None) => Some(TimerDeadlineHit {
                        plugin: name.to_string(),
                        key: timer.key.clone(),
                        due: timer.original_due(),
                        attempt,
                        limit_ms: *limit_ms,
                    }),
                    _ => None,
                };
                tracing::warn!(plugin = %plugin.name(), key = %timer.key, error = %failure, "timer call failed; the timer is deferred");
                self.defer(timer, clock, deferral, logged)?;
                return Ok(Vec::new());
            }
        };
        let in_flight = self.in_flight.clone();
        // See `evaluate_routed`: verdicts change under the verdict lock.
        let _verdicts = in_flight.verdict_lock();
        let mut work = VerdictWork::new(self.store.as_ref());
        for checked in findings {
            let (subject, finding) = to_finding(plugin, checked, event_id, at);
            work.apply(finding, subject, &plugins)?;
        }
        let mut facts = crate::rating::FactWrites::default();
        work.record_facts(&mut facts)?;
        facts.into_batch(&mut batch);
        let (changes, _) = work.finish(&mut batch);
        self.store.commit(batch)?;
        Ok(changes)
    }

    /// Put off a due timer its plugin could not run, to `clock` plus a back-off of event
    /// time (1 min, doubling, at most 1 h), as one unit. The plugin is later shown the
    /// timer's original due time. A timer whose plugin is not loaded or is quarantined
    /// waits as long as that lasts; one whose plugin *ran and failed* on it
    /// [`MAX_TIMER_FAILURES`] times is dropped, counted in
    /// `probity_timers_dropped_total` and logged as an error.
    fn defer(
        &mut self,
        timer: &PendingTimer,
        clock: Timestamp,
        deferral: Deferral,
        deadline_hit: Option<TimerDeadlineHit>,
    ) -> Result<(), PipelineError> {
        let previous = timer.retry.unwrap_or(TimerRetry {
            original_due: timer.due,
            attempts: 0,
            failures: 0,
        });
        let retry = TimerRetry {
            original_due: previous.original_due,
            attempts: previous.attempts.saturating_add(1),
            failures: previous
                .failures
                .saturating_add(u32::from(deferral == Deferral::Failed)),
        };
        // The deadline hit goes into the log before the unit that defers the timer.
        if let Some(hit) = &deadline_hit {
            self.store.append_log(LogAppend::TimerDeadline(hit))?;
        }
        let mut batch = WriteBatch::default();
        let name = split_namespace(&timer.plugin)
            .map_or(timer.plugin.as_str(), |(name, _)| name)
            .to_string();
        if retry.failures >= MAX_TIMER_FAILURES {
            tracing::error!(plugin = %name, key = %timer.key, failures = retry.failures, "dropping a timer its plugin failed on every time");
            metrics::counter!("probity_timers_dropped_total", "plugin" => name.clone())
                .increment(1);
            batch.merge(&timer.plugin, removal(timer));
            self.store.commit(batch)?;
            return Ok(());
        }
        let delay = TIMER_RETRY_BASE_MS
            .saturating_mul(1 << retry.attempts.saturating_sub(1).min(6))
            .min(TIMER_RETRY_MAX_MS);
        let writes = PluginWrites {
            timers: BTreeMap::from([(
                timer.key.clone(),
                TimerWrite {
                    old_due: Some(timer.due),
                    new: Some((clock.saturating_add(delay), timer.payload.clone())),
                    retry: Some(retry),
                },
            )]),
            ..PluginWrites::default()
        };
        batch.merge(&timer.plugin, writes);
        self.store.commit(batch)?;
        metrics::counter!(
            "probity_timers_deferred_total",
            "plugin" => name,
            "reason" => deferral.label()
        )
        .increment(1);
        Ok(())
    }

    /// Remove state entries whose time-to-live has passed, as one unit.
    pub(super) fn expire_state(&mut self, now: Timestamp) -> Result<(), PipelineError> {
        let store = self.store.clone();
        let expired = store.expired_state(now, MAX_EXPIRED_PER_EVENT, &|ns| self.serves(ns))?;
        if expired.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for (plugin, key) in expired {
            // Re-check: only a value that really expired is removed.
            let Some(value) = self
                .store
                .state_get(&plugin, &key)?
                .filter(|v| v.is_expired(now))
            else {
                continue;
            };
            let mut writes = PluginWrites {
                usage: UsageDelta {
                    state_bytes: -((key.len() + value.bytes.len()) as i64),
                    state_entries: -1,
                    timers: 0,
                },
                ..PluginWrites::default()
            };
            writes.state.insert(
                key,
                StateWrite {
                    old_expiry: value.expires_at,
                    new: None,
                },
            );
            batch.merge(&plugin, writes);
        }
        self.store.commit(batch)?;
        Ok(())
    }
}
