//! Event → plugins → findings → verdicts, in event time.
//!
//! Every event first passes the [`Sequencer`], one at a time: it recognises re-sent
//! ids, assigns the event-time clock (`max(clock, occurred_at)`, never back), finds the
//! seller shard ([`crate::model::shard`]) and appends the event with both to the log.
//! A [`Pipeline`] then evaluates the events of the shards it serves — all of them, or one
//! partition's share — in log order, each at the clock the sequencer assigned. Plugin
//! state and timers are kept per shard, so the verdicts do not depend on how many
//! partitions there are or how their work interleaves. For each event:
//!
//! 1. (the clock was assigned by the sequencer; timers due before it already fired);
//! 2. every enabled plugin that subscribes to the event's type is called, in name order,
//!    each with its own state scope; a failed call's writes are dropped and it becomes a
//!    `plugin_error` finding on the event's primary subject, of severity `info` (fail open)
//!    or `medium` (fail closed) per the plugin's `on_error`;
//! 3. findings update the verdicts of their subjects; every subject the event names gets
//!    a verdict (`allow` when nothing was found);
//! 4. all of it — state, timers, verdicts, history, clock — is committed as one unit;
//! 5. timers due at or before the clock fire in (due, plugin, key) order, each timer one
//!    unit: the timer is removed, the plugin's `on-timer` is called at the timer's due
//!    time, its findings applied. Before each, only the state that expired by its due
//!    time is removed, so a timer sees the state as it stood when it came due, however
//!    far the clock jumped;
//! 6. state entries whose time-to-live passed by the clock are removed (one unit).
//!
//! Units are committed but not flushed here: the caller flushes (group commit) before it
//! acknowledges anything.
//!
//! A partition also hears of every other event's clock (a *tick*), and fires its own
//! timers due by then: a deadline passes on time even when its seller is quiet.

mod decisions;
mod findings;
mod plugin_set;
mod replay;
mod routing;
mod sequencer;
mod timers;
mod verdicts;

use std::sync::Arc;

pub use decisions::apply_decision;
pub use findings::primary_subject;
pub use plugin_set::{PluginSet, PluginSetError};
pub use replay::due_by;
pub use routing::{InFlight, describe_reference, introduces, reference_of};
pub use sequencer::{PARK_MAX_MS, Route, Routed, Sequencer};

use findings::{plugin_error, timer_quota_finding, to_finding};
use verdicts::{VerdictStep, VerdictWork};

use crate::model::event::Event;
use crate::model::shard::{ShardKey, ShardSet, namespace, split_namespace};
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::Timestamp;
use crate::rating::FactWrites;
use crate::runtime::{CheckedFinding, PluginFailure, abi};
use crate::store::{
    DeadlineHit, EventLogWrite, LogAppend, PluginScope, Store, StoreError, WriteBatch,
};
use crate::verdict::Verdict;

/// What the plugin calls on one routed event produced, before verdicts are applied.
struct Calls {
    /// Their state and timer writes.
    batch: WriteBatch,
    /// What they do to verdicts, in order.
    steps: Vec<VerdictStep>,
    /// The calls that hit their wall-clock deadline.
    deadline_hits: Vec<DeadlineHit>,
}

/// Most timers fired after one event; the rest fire after the next one. Bounds the work a
/// plugin that keeps re-scheduling itself into the past can cause.
pub const MAX_TIMER_FIRES_PER_EVENT: usize = 10_000;

/// Most expired state entries removed after one event.
const MAX_EXPIRED_PER_EVENT: usize = 1_000;

/// Why an event could not be applied. Nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The host failed while serving a plugin (a storage error inside a call).
    #[error("plugin `{plugin}`: {failure}")]
    Host {
        /// The plugin being served.
        plugin: String,
        /// The failure.
        failure: PluginFailure,
    },
}

/// What handling one event changed.
#[derive(Clone, Debug, Default)]
pub struct EventReport {
    /// The verdicts of every subject the event named or a finding of it concerned, after
    /// the event (before timers fired).
    pub touched: Vec<Verdict>,
    /// Every verdict change, in order: the event's own, then those of fired timers.
    pub changes: Vec<Verdict>,
    /// How many timers fired.
    pub timers_fired: usize,
}

/// What became of an event handed to [`Pipeline::ingest`].
#[derive(Clone, Debug)]
pub enum Ingested {
    /// Evaluated and committed.
    Accepted(EventReport),
    /// Its id was accepted before with the same content: the current verdicts of the
    /// subjects it touched then.
    Duplicate {
        /// Those verdicts.
        verdicts: Vec<Verdict>,
    },
    /// Its id was accepted before with different content; nothing was done.
    Conflict {
        /// The log position of the event accepted under that id.
        seq: u64,
    },
    /// Logged, and parked until its order or complaint is known (see [`Sequencer`]).
    Parked {
        /// What it waits for (`o/<order id>` or `c/<complaint id>`).
        waiting_for: String,
    },
}

/// The current verdicts of the subjects the accepted event `event_id` touched (what a
/// duplicate is answered with; none while it is not applied yet).
pub fn verdicts_of_event(store: &dyn Store, event_id: &str) -> Result<Vec<Verdict>, StoreError> {
    let Some(record) = store.event_record(event_id)? else {
        return Ok(Vec::new());
    };
    let mut verdicts = Vec::with_capacity(record.subjects.len());
    for subject in &record.subjects {
        verdicts.extend(store.verdict(subject)?);
    }
    Ok(verdicts)
}

/// SHA-256 (hex) of an event's pseudonymised JSON, as its idempotency record keeps it.
pub fn event_digest(event: &Event) -> String {
    LoggedEvent::new(event).digest
}

/// An event as the log stores it, with its content digest.
struct LoggedEvent {
    json: Vec<u8>,
    digest: String,
}

impl LoggedEvent {
    fn new(event: &Event) -> Self {
        use sha2::Digest;
        // Serialising our own plain data type cannot fail.
        let json = serde_json::to_vec(event).unwrap_or_default();
        let digest = hex::encode(sha2::Sha256::digest(&json));
        LoggedEvent { json, digest }
    }
}

/// The event-time pipeline over a store and a plugin set, for some shards.
pub struct Pipeline {
    store: Arc<dyn Store>,
    plugins: Arc<PluginSet>,
    /// The shards this pipeline evaluates.
    shards: ShardSet,
    /// The clock of the last event or tick this pipeline saw.
    clock: Option<Timestamp>,
    /// Orders the events handed to [`Pipeline::ingest`]; `None` in a partition, whose
    /// events the worker's sequencer routes.
    sequencer: Option<Sequencer>,
    /// Events logged but not committed, cleared as their units commit.
    in_flight: Arc<InFlight>,
    /// In a replay, the `on-timer` attempts that hit their deadline live, by (plugin, key,
    /// due, attempt), with the deadline then; `None` live.
    recorded_timer_deadlines: Option<replay::RecordedTimerDeadlines>,
    /// In a replay, the calls on events that hit their deadline live, by event position.
    recorded_event_deadlines: Option<replay::RecordedEventDeadlines>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("clock", &self.clock)
            .field("shards", &self.shards)
            .field("plugins", &self.plugins.plugins().len())
            .finish()
    }
}

impl Pipeline {
    /// A pipeline over `store` with `plugins` for every shard, with its own sequencer,
    /// resuming the store's clock.
    pub fn new(store: Arc<dyn Store>, plugins: Arc<PluginSet>) -> Result<Self, StoreError> {
        let mut sequencer = Sequencer::new(store.clone())?;
        sequencer.set_buyer_routes(plugins.has_buyer_keyed());
        let in_flight = sequencer.in_flight().clone();
        Ok(Pipeline {
            clock: store.clock()?,
            store,
            plugins,
            shards: ShardSet::ALL,
            sequencer: Some(sequencer),
            in_flight,
            recorded_timer_deadlines: None,
            recorded_event_deadlines: None,
        })
    }

    /// A partition: a pipeline for `shards` whose events a [`Sequencer`] (sharing
    /// `in_flight`) routes to it, to [`Pipeline::evaluate_routed`] and [`Pipeline::tick`].
    pub fn partition(
        store: Arc<dyn Store>,
        plugins: Arc<PluginSet>,
        shards: ShardSet,
        in_flight: Arc<InFlight>,
    ) -> Result<Self, StoreError> {
        Ok(Pipeline {
            clock: store.clock()?,
            store,
            plugins,
            shards,
            sequencer: None,
            in_flight,
            recorded_timer_deadlines: None,
            recorded_event_deadlines: None,
        })
    }

    /// Hand over the sequencer (to a worker that routes events to partitions).
    pub fn take_sequencer(&mut self) -> Option<Sequencer> {
        self.sequencer.take()
    }

    /// The event-time clock.
    pub fn clock(&self) -> Option<Timestamp> {
        match &self.sequencer {
            Some(sequencer) => sequencer.clock(),
            None => self.clock,
        }
    }

    /// How many events wait for their order or complaint (a pipeline with its own
    /// sequencer; 0 otherwise).
    pub fn parked(&self) -> usize {
        self.sequencer.as_ref().map_or(0, Sequencer::parked)
    }

    /// The running plugin set.
    pub fn plugins(&self) -> &Arc<PluginSet> {
        &self.plugins
    }

    /// Swap in a new plugin set; the next event sees it.
    pub fn set_plugins(&mut self, plugins: Arc<PluginSet>) {
        if let Some(sequencer) = &mut self.sequencer {
            sequencer.set_buyer_routes(plugins.has_buyer_keyed());
        }
        self.plugins = plugins;
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether a state namespace belongs to one of this pipeline's shards.
    fn serves(&self, namespace: &str) -> bool {
        split_namespace(namespace).is_some_and(|(_, shard)| self.shards.contains(shard))
    }

    fn sequencer(&mut self) -> Result<&mut Sequencer, PipelineError> {
        self.sequencer.as_mut().ok_or_else(|| {
            PipelineError::Store(StoreError::Database(
                "a partition's pipeline takes routed events only".into(),
            ))
        })
    }

    /// Sequence and evaluate one event unless its `event_id` was accepted before: a
    /// re-send with the same content is a [`Ingested::Duplicate`] (no plugin runs,
    /// nothing is written), one with other content a [`Ingested::Conflict`]. The
    /// parked events it releases are evaluated after it (their changes are in the
    /// report's `changes`).
    pub fn ingest(&mut self, event: &Event) -> Result<Ingested, PipelineError> {
        let route = self.sequencer()?.route(event.clone())?;
        let outcome = match route {
            Route::Duplicate { .. } => Ingested::Duplicate {
                verdicts: self.duplicate_verdicts(&event.event_id)?,
            },
            Route::Conflict { seq } => Ingested::Conflict { seq },
            Route::Parked {
                clock,
                waiting_for,
                released,
                ..
            } => {
                // Parked, it still moved the clock: what came due fires.
                self.tick(clock, &event.event_id)?;
                for routed in &released {
                    self.evaluate_routed(routed)?;
                }
                Ingested::Parked { waiting_for }
            }
            Route::Evaluate(items) => {
                let mut report = EventReport::default();
                for (index, routed) in items.iter().enumerate() {
                    let done = self.evaluate_routed(routed)?;
                    if index == 0 {
                        report = done;
                    } else {
                        report.changes.extend(done.changes);
                        report.timers_fired += done.timers_fired;
                    }
                }
                Ingested::Accepted(report)
            }
        };
        self.note_applied();
        Ok(outcome)
    }

    /// Tell the store how far the log is applied (a pipeline with its own sequencer).
    fn note_applied(&self) {
        if let Some(sequencer) = &self.sequencer {
            self.store.note_log_applied(sequencer.decided());
        }
    }

    /// [`Pipeline::ingest`], for callers that send each id once: a duplicate, conflict or
    /// parked event gives an empty report.
    pub fn process(&mut self, event: &Event) -> Result<EventReport, PipelineError> {
        Ok(match self.ingest(event)? {
            Ingested::Accepted(report) => report,
            _ => EventReport::default(),
        })
    }

    /// The current verdicts of the subjects the accepted event `event_id` touched.
    pub fn duplicate_verdicts(&self, event_id: &str) -> Result<Vec<Verdict>, StoreError> {
        verdicts_of_event(self.store.as_ref(), event_id)
    }

    /// Another shard's event (or a clock advance, `cause`) moved the clock to `clock`:
    /// fire this pipeline's timers due by then.
    pub fn tick(&mut self, clock: Timestamp, cause: &str) -> Result<EventReport, PipelineError> {
        self.clock = Some(self.clock.map_or(clock, |c| c.max(clock)));
        let (changes, timers_fired) = self.fire_due_timers(clock, cause)?;
        Ok(EventReport {
            touched: Vec::new(),
            changes,
            timers_fired,
        })
    }

    /// Evaluate an event the sequencer routed to one of this pipeline's shards (see the
    /// module docs for the steps), then fire the timers due by its clock. A buyer route
    /// ([`Routed::buyer`]) runs only the buyer-keyed plugins ([`Pipeline::evaluate_for_buyer`]).
    pub fn evaluate_routed(&mut self, routed: &Routed) -> Result<EventReport, PipelineError> {
        if let Some(buyer) = &routed.buyer {
            return self.evaluate_for_buyer(routed, buyer);
        }
        let event = routed.event.as_ref();
        let now = routed.clock;
        let primary = primary_subject(event);
        let plugins = self.plugins.clone();
        let Calls {
            mut batch,
            steps,
            deadline_hits,
        } = self.call_plugins(routed, ShardKey::Seller, &primary)?;
        // Verdicts are read, changed and committed under the verdict lock: a subject is
        // normally its shard's alone, but a plugin may name another seller's subject, and
        // two partitions must not change one verdict from the same stale copy.
        let in_flight = self.in_flight.clone();
        let _verdicts = in_flight.verdict_lock();
        let mut work = VerdictWork::new(self.store.as_ref());
        let seller = event.seller_id();
        for subject in event.subjects() {
            work.touch(&subject, seller, now)?;
        }
        work.apply_steps(steps, &primary, now, &plugins)?;
        let touched_subjects: Vec<Subject> = work.verdicts.keys().cloned().collect();
        batch.event = Some(EventLogWrite {
            event_id: event.event_id.clone(),
            digest: routed.digest.clone(),
            subjects: touched_subjects.clone(),
            seq: routed.event_seq,
        });
        let known = routing::made_known(event);
        batch.refs.extend(known.iter().cloned());
        self.log_deadline_hits(routed.event_seq, &deadline_hits)?;
        let mut facts = FactWrites::default();
        if FactWrites::records(event) {
            // The seller of a refund or an answer is its order's or complaint's.
            let seller = match event.seller_id() {
                Some(seller) => Some(seller.to_string()),
                None => match routing::reference_of(event) {
                    Some(reference) => self.store.seller_of(&reference)?,
                    None => None,
                },
            };
            let read = |ns: &str, key: &str| Ok(self.store.state_get(ns, key)?.map(|v| v.bytes));
            facts.of_event(event, seller.as_deref(), &read)?;
        }
        work.record_facts(&mut facts)?;
        facts.into_batch(&mut batch);
        let (changes, verdicts) = work.finish(&mut batch);
        self.store.commit(batch)?;
        drop(_verdicts);
        self.in_flight.committed(&event.event_id, &known);
        self.after_unit(&touched_subjects, &verdicts, changes, now, &event.event_id)
    }

    /// Call every enabled plugin keyed by `key` that subscribes to the routed event, in
    /// name order, each in its own state scope of the routed shard; a failed call becomes
    /// a `plugin_error` finding on `primary`.
    fn call_plugins(
        &self,
        routed: &Routed,
        key: ShardKey,
        primary: &Subject,
    ) -> Result<Calls, PipelineError> {
        let event = routed.event.as_ref();
        let now = routed.clock;
        let lent = abi::Lent::new(event);
        let event_type = event.event_type();
        let forced: &[DeadlineHit] = self
            .recorded_event_deadlines
            .as_ref()
            .and_then(|recorded| recorded.get(&routed.event_seq))
            .map_or(&[], Vec::as_slice);
        let mut calls = Calls {
            batch: WriteBatch {
                clock: Some(now),
                ..WriteBatch::default()
            },
            steps: Vec::new(),
            deadline_hits: Vec::new(),
        };
        for plugin in self
            .plugins
            .plugins()
            .iter()
            .filter(|p| p.keyed_by() == key && p.subscribes_to(event_type))
        {
            let namespace: Arc<str> = namespace(plugin.name(), routed.shard).into();
            let scope =
                PluginScope::open(self.store.clone(), namespace.clone(), now, plugin.quotas())?;
            // A deadline the live run hit is not left to this machine's speed.
            let outcome = match forced.iter().find(|hit| hit.plugin == plugin.name()) {
                Some(hit) => plugin.replay_failure(PluginFailure::Deadline {
                    limit_ms: hit.limit_ms,
                }),
                None => plugin.handle(&lent, scope),
            };
            if let Err(PluginFailure::Deadline { limit_ms }) = &outcome.result {
                calls.deadline_hits.push(DeadlineHit {
                    plugin: plugin.name().to_string(),
                    limit_ms: *limit_ms,
                });
            }
            let refused = outcome
                .scope
                .as_ref()
                .map_or(0, PluginScope::timers_refused);
            let findings =
                self.settle(&namespace, outcome.result, outcome.scope, &mut calls.batch)?;
            let findings = match findings {
                Ok(mut findings) => {
                    calls
                        .steps
                        .push(VerdictStep::ClearErrors(plugin.name().to_string()));
                    if refused > 0 {
                        // A deadline the plugin wanted to track will not be: say so on
                        // the subject, where compliance sees it, not only in a log.
                        findings.push(timer_quota_finding(plugin, refused, primary.clone()));
                    }
                    findings
                }
                Err(failure) => vec![plugin_error(plugin, &failure, primary.clone())],
            };
            for checked in findings {
                let (subject, finding) = to_finding(plugin, checked, &event.event_id, now);
                calls.steps.push(VerdictStep::Apply(subject, finding));
            }
        }
        Ok(calls)
    }

    /// The buyer route of an event: the buyer-keyed plugins, in the buyer's shard. Its
    /// unit holds their state, timers and findings, the buyer's verdict (`allow` when
    /// nothing was found) and the mark that it was applied; the event's idempotency
    /// record, references and rating facts are the seller route's.
    fn evaluate_for_buyer(
        &mut self,
        routed: &Routed,
        buyer: &str,
    ) -> Result<EventReport, PipelineError> {
        let event = routed.event.as_ref();
        let now = routed.clock;
        let primary = Subject::new(SubjectType::Buyer, buyer);
        let plugins = self.plugins.clone();
        let Calls {
            mut batch,
            steps,
            deadline_hits,
        } = self.call_plugins(routed, ShardKey::Buyer, &primary)?;
        let in_flight = self.in_flight.clone();
        let _verdicts = in_flight.verdict_lock();
        let mut work = VerdictWork::new(self.store.as_ref());
        work.touch(&primary, None, now)?;
        work.apply_steps(steps, &primary, now, &plugins)?;
        let touched_subjects: Vec<Subject> = work.verdicts.keys().cloned().collect();
        batch.refs.push((
            routing::buyer_applied_reference(&event.event_id),
            buyer.to_string(),
        ));
        self.log_deadline_hits(routed.event_seq, &deadline_hits)?;
        let (changes, verdicts) = work.finish(&mut batch);
        self.store.commit(batch)?;
        drop(_verdicts);
        self.after_unit(&touched_subjects, &verdicts, changes, now, &event.event_id)
    }

    /// Live, the calls that hit their deadline go into the log before their unit, so a
    /// replay fails them the same way.
    fn log_deadline_hits(&self, seq: u64, hits: &[DeadlineHit]) -> Result<(), StoreError> {
        if !hits.is_empty() && self.recorded_event_deadlines.is_none() {
            self.store
                .append_log(LogAppend::EventDeadline { seq, hits })?;
        }
        Ok(())
    }

    /// After an event's unit committed at `now`: the clock, the verdicts of the subjects
    /// it touched, and the timers due by then fired (their changes after `changes`).
    fn after_unit(
        &mut self,
        touched_subjects: &[Subject],
        verdicts: &std::collections::BTreeMap<Subject, Verdict>,
        mut changes: Vec<Verdict>,
        now: Timestamp,
        cause: &str,
    ) -> Result<EventReport, PipelineError> {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
        let touched = touched_subjects
            .iter()
            .filter_map(|s| verdicts.get(s).cloned())
            .collect();
        let (timer_changes, timers_fired) = self.fire_due_timers(now, cause)?;
        changes.extend(timer_changes);
        Ok(EventReport {
            touched,
            changes,
            timers_fired,
        })
    }

    /// Whether the buyer route of `event_id` was applied (its unit committed).
    pub fn buyer_route_applied(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .seller_of(&routing::buyer_applied_reference(event_id))?
            .is_some())
    }

    /// In a cluster, an event of a partition another node owns: commit only what the
    /// sequencer depends on — its idempotency record (with `subjects`, when the owner's
    /// units already said which) and the order or complaint it makes known — so that
    /// this node's sequencer routes the events after it as the owner's did. The
    /// owner's units bring the rest ([`crate::service::division`]).
    pub fn record_only(
        &mut self,
        routed: &Routed,
        subjects: Vec<Subject>,
    ) -> Result<(), PipelineError> {
        if routed.buyer.is_some() {
            // The seller route records what the sequencer reads.
            return Ok(());
        }
        let event = routed.event.as_ref();
        let known = routing::made_known(event);
        let batch = WriteBatch {
            clock: Some(routed.clock),
            event: Some(EventLogWrite {
                event_id: event.event_id.clone(),
                digest: routed.digest.clone(),
                subjects,
                seq: routed.event_seq,
            }),
            refs: known.clone(),
            ..WriteBatch::default()
        };
        self.store.commit(batch)?;
        self.in_flight.committed(&event.event_id, &known);
        Ok(())
    }

    /// Keep a successful call's writes; turn storage failures into a pipeline error.
    fn settle(
        &self,
        namespace: &str,
        result: Result<Vec<CheckedFinding>, PluginFailure>,
        scope: Option<PluginScope>,
        batch: &mut WriteBatch,
    ) -> Result<Result<Vec<CheckedFinding>, PluginFailure>, PipelineError> {
        match result {
            Ok(findings) => {
                if let Some(scope) = scope {
                    batch.merge(namespace, scope.into_writes());
                }
                Ok(Ok(findings))
            }
            Err(failure @ PluginFailure::Host { .. }) => Err(PipelineError::Host {
                plugin: namespace.to_string(),
                failure,
            }),
            Err(failure) => Ok(Err(failure)),
        }
    }
}
