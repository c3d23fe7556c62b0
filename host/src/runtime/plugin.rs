//! A loaded plugin: its manifest, configuration, warm instances and counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::abi::bindings::probity::plugin::types as t;
use super::abi::{self, CheckedFinding, EventType, Lent};
use super::breaker::{BreakerSnapshot, CircuitBreaker, Transition};
use super::failure::PluginFailure;
use super::instance::{CallOutcome, CallStats, InstancePool};
use crate::config::PluginConfig;
use crate::model::event::EventType as HostEventType;
use crate::model::shard::ShardKey;
use crate::store::{PendingTimer, PluginQuotas, PluginScope};

/// What a plugin says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line on what it checks.
    pub description: String,
    /// The event types it handles.
    pub subscribes: Vec<HostEventType>,
    /// Whose shard its events and state follow.
    pub keyed_by: ShardKey,
    /// The `probity:plugin` world version it was built against (`0.1.0`, `0.2.0`).
    pub world_version: &'static str,
}

impl Manifest {
    /// Check and convert the plugin's manifest.
    pub(crate) fn from_abi(
        manifest: t::Manifest,
        world_version: &'static str,
    ) -> Result<Self, String> {
        if manifest.name.is_empty() || manifest.name.len() > 64 {
            return Err("name must be 1-64 characters".into());
        }
        if manifest.version.is_empty() || manifest.version.len() > 64 {
            return Err("version must be 1-64 characters".into());
        }
        if manifest.description.len() > 1024 {
            return Err("description must be at most 1024 bytes".into());
        }
        let mut subscribes: Vec<HostEventType> = manifest
            .subscribes
            .into_iter()
            .map(host_event_type)
            .collect();
        subscribes.sort_by_key(|t| t.as_str());
        subscribes.dedup();
        Ok(Manifest {
            name: manifest.name,
            version: manifest.version,
            description: manifest.description,
            subscribes,
            keyed_by: match manifest.keyed_by {
                t::ShardKey::Seller => ShardKey::Seller,
                t::ShardKey::Buyer => ShardKey::Buyer,
            },
            world_version,
        })
    }
}

fn host_event_type(event_type: EventType) -> HostEventType {
    match event_type {
        EventType::ListingUpserted => HostEventType::ListingUpserted,
        EventType::OrderPlaced => HostEventType::OrderPlaced,
        EventType::OrderPaid => HostEventType::OrderPaid,
        EventType::OrderShipped => HostEventType::OrderShipped,
        EventType::OrderDelivered => HostEventType::OrderDelivered,
        EventType::OrderCancelled => HostEventType::OrderCancelled,
        EventType::RefundRequested => HostEventType::RefundRequested,
        EventType::RefundCompleted => HostEventType::RefundCompleted,
        EventType::ReviewPosted => HostEventType::ReviewPosted,
        EventType::ComplaintOpened => HostEventType::ComplaintOpened,
        EventType::ComplaintResponded => HostEventType::ComplaintResponded,
        EventType::ComplaintResolved => HostEventType::ComplaintResolved,
    }
}

/// Running totals for one plugin, for `/v1/plugins` and metrics.
#[derive(Debug, Default)]
pub struct PluginCounters {
    /// Calls made (handle + on-timer).
    pub calls: AtomicU64,
    /// Findings accepted.
    pub findings: AtomicU64,
    /// Failed calls, and calls refused while quarantined.
    pub errors: AtomicU64,
    /// Fuel consumed.
    pub fuel: AtomicU64,
    /// Wall time spent in calls, in microseconds.
    pub micros: AtomicU64,
    /// Instances created.
    pub instantiations: AtomicU64,
    /// Failed calls by kind, indexed like [`FAILURE_KINDS`].
    pub errors_by_kind: [AtomicU64; FAILURE_KINDS.len()],
}

/// Every [`PluginFailure::kind`], in counter order.
pub const FAILURE_KINDS: [&str; 10] = [
    "deadline",
    "fuel",
    "memory",
    "stack_overflow",
    "trap",
    "invalid_output",
    "reported",
    "instantiate",
    "quarantined",
    "host",
];

/// A plugin ready to serve calls.
pub struct LoadedPlugin {
    name: Arc<str>,
    config: PluginConfig,
    manifest: Manifest,
    digest: String,
    pool: InstancePool,
    counters: PluginCounters,
    breaker: CircuitBreaker,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("version", &self.manifest.version)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    pub(crate) fn new(
        name: &str,
        config: PluginConfig,
        manifest: Manifest,
        digest: String,
        pool: InstancePool,
    ) -> Self {
        LoadedPlugin {
            name: Arc::from(name),
            breaker: CircuitBreaker::new(config.breaker.clone()),
            config,
            manifest,
            digest,
            pool,
            counters: PluginCounters::default(),
        }
    }

    /// The configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configured name, shared.
    pub fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// Its configuration entry.
    pub fn config(&self) -> &PluginConfig {
        &self.config
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// SHA-256 of its component, hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Its counters.
    pub fn counters(&self) -> &PluginCounters {
        &self.counters
    }

    /// Its circuit breaker's state.
    pub fn breaker(&self) -> BreakerSnapshot {
        self.breaker.snapshot()
    }

    /// Its state and timer quotas.
    pub fn quotas(&self) -> PluginQuotas {
        PluginQuotas {
            state_bytes: self.config.limits.state_quota_kib.saturating_mul(1024),
            timers: self.config.limits.timers_quota,
        }
    }

    /// Whose shard its events and state follow.
    pub fn keyed_by(&self) -> ShardKey {
        self.manifest.keyed_by
    }

    /// Whether `handle` is called for events of `event_type`.
    pub fn subscribes_to(&self, event_type: HostEventType) -> bool {
        self.manifest.subscribes.contains(&event_type)
    }

    /// Call `handle` with one event.
    pub fn handle(&self, event: &Lent<'_>, scope: PluginScope) -> CallOutcome<Vec<CheckedFinding>> {
        if let Err(refused) = self.breaker.admit() {
            return self.refuse(refused);
        }
        let now = scope.now();
        let _span =
            tracing::debug_span!("plugin_call", plugin = %self.name, export = "handle").entered();
        let outcome = self.pool.call(Some(scope), now, |plugin, store| {
            plugin.handle(store, event)
        });
        self.finish(outcome)
    }

    /// Account `failure` — recorded in the event log when the live run hit it (a
    /// wall-clock deadline) — as a failed `handle` call, without running the plugin: the
    /// counters and the circuit breaker see it as the live run did, so a replay decides
    /// as the live run did.
    pub fn replay_failure(&self, failure: PluginFailure) -> CallOutcome<Vec<CheckedFinding>> {
        if let Err(refused) = self.breaker.admit() {
            return self.refuse(refused);
        }
        self.finish(CallOutcome {
            result: Err(failure),
            scope: None,
            stats: CallStats::default(),
        })
    }

    /// Call `on-timer` with a due timer.
    pub fn on_timer(
        &self,
        timer: &PendingTimer,
        scope: PluginScope,
    ) -> CallOutcome<Vec<CheckedFinding>> {
        if let Err(refused) = self.breaker.admit() {
            return self.refuse(refused);
        }
        let now = scope.now();
        let abi_timer = t::Timer {
            key: timer.key.clone(),
            due: timer.original_due(),
            payload: timer.payload.clone(),
        };
        let _span =
            tracing::debug_span!("plugin_call", plugin = %self.name, export = "on-timer").entered();
        let outcome = self.pool.call(Some(scope), now, |plugin, store| {
            plugin.on_timer(store, &abi_timer)
        });
        self.finish(outcome)
    }

    /// A call the breaker refused: counted as an error of kind `quarantined`, not run.
    fn refuse(&self, refused: PluginFailure) -> CallOutcome<Vec<CheckedFinding>> {
        self.count_error(&refused);
        tracing::debug!(plugin = %self.name, error = %refused, "plugin call refused");
        CallOutcome {
            result: Err(refused),
            scope: None,
            stats: CallStats::default(),
        }
    }

    fn count_error(&self, failure: &PluginFailure) {
        let c = &self.counters;
        c.errors.fetch_add(1, Ordering::Relaxed);
        if let Some(index) = FAILURE_KINDS.iter().position(|k| *k == failure.kind()) {
            c.errors_by_kind[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Validate the result, and count.
    fn finish(
        &self,
        outcome: CallOutcome<Result<Vec<t::Finding>, t::PluginError>>,
    ) -> CallOutcome<Vec<CheckedFinding>> {
        let output_cap = (self.config.limits.output_kib as usize) * 1024;
        let result = match outcome.result {
            Ok(Ok(findings)) => abi::findings_from_plugin(findings, output_cap)
                .map_err(|reason| PluginFailure::InvalidOutput { reason }),
            Ok(Err(err)) => Err(PluginFailure::Reported {
                code: err.code,
                message: err.message,
            }),
            Err(failure) => Err(failure),
        };
        let c = &self.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        c.fuel.fetch_add(outcome.stats.fuel, Ordering::Relaxed);
        c.micros
            .fetch_add(outcome.stats.elapsed.as_micros() as u64, Ordering::Relaxed);
        if outcome.stats.instantiated {
            c.instantiations.fetch_add(1, Ordering::Relaxed);
        }
        match &result {
            Ok(findings) => {
                c.findings
                    .fetch_add(findings.len() as u64, Ordering::Relaxed);
            }
            Err(failure) => {
                self.count_error(failure);
                tracing::warn!(plugin = %self.name, kind = failure.kind(), error = %failure, "plugin call failed");
            }
        }
        match self.breaker.record(&result) {
            Transition::Opened => {
                let b = self.breaker.snapshot();
                tracing::warn!(
                    plugin = %self.name,
                    failures = b.consecutive_failures,
                    cooldown_calls = b.probe_in,
                    "plugin quarantined: its circuit breaker opened"
                );
            }
            Transition::Closed => {
                tracing::info!(plugin = %self.name, "plugin recovered: its circuit breaker closed");
            }
            Transition::None => {}
        }
        CallOutcome {
            result,
            scope: outcome.scope,
            stats: outcome.stats,
        }
    }
}
