//! Firing due timers and removing expired state, each as its own unit.

use std::collections::BTreeMap;

use super::{
    MAX_EXPIRED_PER_EVENT, MAX_TIMER_FIRES_PER_EVENT, Pipeline, PipelineError, VerdictWork,
    to_finding,
};
use crate::model::time::Timestamp;
use crate::store::{
    PendingTimer, PluginScope, PluginWrites, StateWrite, TimerWrite, UsageDelta, WriteBatch,
};
use crate::verdict::Verdict;

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
            let Some(timer) = self.store.next_due_timer(now)? else {
                break;
            };
            // The timer runs against the state as it stood at its due time, however far
            // the clock has jumped since: only what expired by then is swept, and the
            // call's event time is the due time. A jump of a month thus gives the same
            // findings as a clock that moved smoothly through it.
            self.expire_state(timer.due)?;
            fired += 1;
            changes.extend(self.fire(&timer, timer.due, event_id)?);
        }
        self.expire_state(now)?;
        Ok((changes, fired))
    }

    /// Fire one timer as one unit, at event time `now` (its due time). The timer is
    /// removed whatever the plugin does, so a failing plugin cannot make a timer fire
    /// forever.
    fn fire(
        &mut self,
        timer: &PendingTimer,
        now: Timestamp,
        event_id: &str,
    ) -> Result<Vec<Verdict>, PipelineError> {
        let removal = PluginWrites {
            timers: BTreeMap::from([(
                timer.key.clone(),
                TimerWrite {
                    old_due: Some(timer.due),
                    new: None,
                },
            )]),
            usage: UsageDelta {
                timers: -1,
                ..UsageDelta::default()
            },
            ..PluginWrites::default()
        };
        let mut batch = WriteBatch::default();
        let plugins = self.plugins.clone();
        let Some(plugin) = plugins.get(&timer.plugin) else {
            // Its plugin is disabled or gone: drop the timer rather than block the queue.
            tracing::warn!(plugin = %timer.plugin, key = %timer.key, "dropping a due timer of a plugin that is not loaded");
            batch.merge(&timer.plugin, removal);
            self.store.commit(batch)?;
            return Ok(Vec::new());
        };
        let scope = PluginScope::resume(
            self.store.clone(),
            plugin.name_arc(),
            now,
            plugin.quotas(),
            removal.clone(),
        )?;
        let outcome = plugin.on_timer(timer, scope);
        let findings = match self.settle(plugin, outcome.result, outcome.scope, &mut batch)? {
            Ok(findings) => findings,
            Err(failure) => {
                // No subject to pin it on: counted and logged by the plugin's counters.
                tracing::warn!(plugin = %plugin.name(), key = %timer.key, error = %failure, "timer call failed; the timer is dropped");
                batch.merge(plugin.name(), removal);
                Vec::new()
            }
        };
        let mut work = VerdictWork::new(self.store.as_ref());
        for checked in findings {
            let (subject, finding) = to_finding(plugin, checked, event_id, timer.due);
            work.apply(finding, subject, &plugins)?;
        }
        let (changes, _) = work.finish(&mut batch);
        self.store.commit(batch)?;
        Ok(changes)
    }

    /// Remove state entries whose time-to-live has passed, as one unit.
    pub(super) fn expire_state(&mut self, now: Timestamp) -> Result<(), PipelineError> {
        let expired = self.store.expired_state(now, MAX_EXPIRED_PER_EVENT)?;
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
