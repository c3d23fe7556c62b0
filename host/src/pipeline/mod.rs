//! Event → plugins → findings → verdicts, in event time.
//!
//! The [`Pipeline`] handles one event at a time, in arrival order, which is what makes a
//! replay of the same events give the same verdicts. For each event:
//!
//! 1. the event-time clock moves to `max(clock, occurred_at)` (it never goes back);
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

mod findings;
mod plugin_set;
mod replay;
mod timers;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

pub use findings::primary_subject;
pub use plugin_set::{PluginSet, PluginSetError};

use findings::{plugin_error, timer_quota_finding, to_finding};

use crate::model::event::Event;
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::Timestamp;
use crate::runtime::{CheckedFinding, LoadedPlugin, PluginFailure, abi};
use crate::store::{DeadlineHit, EventLogWrite, PluginScope, Store, StoreError, WriteBatch};
use crate::verdict::{Finding, Verdict};

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

/// The event-time pipeline over a store and a plugin set.
pub struct Pipeline {
    store: Arc<dyn Store>,
    plugins: Arc<PluginSet>,
    clock: Option<Timestamp>,
    /// In a replay, the `on-timer` attempts that hit their deadline live, by (plugin, key,
    /// due, attempt), with the deadline then; `None` live.
    recorded_timer_deadlines: Option<replay::RecordedTimerDeadlines>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("clock", &self.clock)
            .field("plugins", &self.plugins.plugins().len())
            .finish()
    }
}

/// Verdicts being changed by one unit, loaded from the store on first use.
struct VerdictWork<'a> {
    store: &'a dyn Store,
    verdicts: BTreeMap<Subject, Verdict>,
    changed: Vec<Subject>,
    history: Vec<(Subject, Finding)>,
}

impl<'a> VerdictWork<'a> {
    fn new(store: &'a dyn Store) -> Self {
        VerdictWork {
            store,
            verdicts: BTreeMap::new(),
            changed: Vec::new(),
            history: Vec::new(),
        }
    }

    fn verdict(&mut self, subject: &Subject, at: Timestamp) -> Result<&mut Verdict, StoreError> {
        match self.verdicts.entry(subject.clone()) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let verdict = match self.store.verdict(subject)? {
                    Some(verdict) => verdict,
                    None => {
                        mark_changed(&mut self.changed, subject);
                        let mut verdict = Verdict::clean(subject.clone(), at);
                        if subject.kind == SubjectType::Seller {
                            verdict.seller_id = Some(subject.id.clone());
                        }
                        verdict
                    }
                };
                Ok(entry.insert(verdict))
            }
        }
    }

    /// Make sure `subject` has a verdict, and record the seller it belongs to when the
    /// event names one and the verdict does not know it yet.
    fn touch(
        &mut self,
        subject: &Subject,
        seller: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let verdict = self.verdict(subject, at)?;
        if let Some(seller) = seller
            && verdict.seller_id.is_none()
        {
            verdict.seller_id = Some(seller.to_string());
            mark_changed(&mut self.changed, subject);
        }
        Ok(())
    }

    fn apply(
        &mut self,
        finding: Finding,
        subject: Subject,
        plugins: &PluginSet,
    ) -> Result<(), StoreError> {
        let at = finding.at;
        let mapping = *plugins.mapping();
        let changed = self.verdict(&subject, at)?.apply(finding.clone(), &mapping);
        if changed {
            mark_changed(&mut self.changed, &subject);
        }
        if changed {
            // A finding that repeats the current one is not history.
            self.history.push((subject, finding));
        }
        Ok(())
    }

    /// A successful call of `plugin` on an event about `subject`: its earlier
    /// `plugin_error` findings there no longer hold.
    fn clear_plugin_errors(
        &mut self,
        subject: &Subject,
        plugin: &str,
        at: Timestamp,
        plugins: &PluginSet,
    ) -> Result<(), StoreError> {
        let mapping = *plugins.mapping();
        if self
            .verdict(subject, at)?
            .clear_plugin_errors(plugin, &mapping)
        {
            mark_changed(&mut self.changed, subject);
        }
        Ok(())
    }

    /// Move the changed verdicts and history into `batch`; returns the changed verdicts.
    fn finish(self, batch: &mut WriteBatch) -> (Vec<Verdict>, BTreeMap<Subject, Verdict>) {
        let changed: Vec<Verdict> = self
            .changed
            .iter()
            .filter_map(|subject| self.verdicts.get(subject).cloned())
            .collect();
        batch.verdicts.extend(changed.iter().cloned());
        batch.history.extend(self.history);
        (changed, self.verdicts)
    }
}

fn mark_changed(changed: &mut Vec<Subject>, subject: &Subject) {
    if !changed.contains(subject) {
        changed.push(subject.clone());
    }
}

impl Pipeline {
    /// A pipeline over `store` with `plugins`, resuming the store's clock.
    pub fn new(store: Arc<dyn Store>, plugins: Arc<PluginSet>) -> Result<Self, StoreError> {
        let clock = store.clock()?;
        Ok(Pipeline {
            store,
            plugins,
            clock,
            recorded_timer_deadlines: None,
        })
    }

    /// The event-time clock.
    pub fn clock(&self) -> Option<Timestamp> {
        self.clock
    }

    /// The running plugin set.
    pub fn plugins(&self) -> &Arc<PluginSet> {
        &self.plugins
    }

    /// Swap in a new plugin set; the next event sees it.
    pub fn set_plugins(&mut self, plugins: Arc<PluginSet>) {
        self.plugins = plugins;
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Handle one event unless its `event_id` was accepted before: a re-send with the
    /// same content is a [`Ingested::Duplicate`] (no plugin runs, nothing is written), one
    /// with other content a [`Ingested::Conflict`].
    pub fn ingest(&mut self, event: &Event) -> Result<Ingested, PipelineError> {
        let logged = LoggedEvent::new(event);
        if let Some(record) = self.store.event_record(&event.event_id)? {
            if record.digest != logged.digest {
                return Ok(Ingested::Conflict { seq: record.seq });
            }
            let mut verdicts = Vec::with_capacity(record.subjects.len());
            for subject in &record.subjects {
                verdicts.extend(self.store.verdict(subject)?);
            }
            return Ok(Ingested::Duplicate { verdicts });
        }
        self.evaluate(event, logged, None, &[])
            .map(Ingested::Accepted)
    }

    /// Handle one event (see the module docs for the steps) and append it to the event
    /// log, without checking whether its id was seen (see [`Pipeline::ingest`]).
    pub fn process(&mut self, event: &Event) -> Result<EventReport, PipelineError> {
        self.evaluate(event, LoggedEvent::new(event), None, &[])
    }

    /// Handle an event read back from the log at `seq` (rebuilding the views): as
    /// [`Pipeline::process`], without appending it again; the calls in `deadline_hits`
    /// fail with their deadline as they did live, without running.
    pub fn replay(
        &mut self,
        seq: u64,
        event: &Event,
        deadline_hits: &[DeadlineHit],
    ) -> Result<EventReport, PipelineError> {
        self.evaluate(event, LoggedEvent::new(event), Some(seq), deadline_hits)
    }

    fn evaluate(
        &mut self,
        event: &Event,
        logged: LoggedEvent,
        replayed_seq: Option<u64>,
        forced: &[DeadlineHit],
    ) -> Result<EventReport, PipelineError> {
        let now = self
            .clock
            .map_or(event.occurred_at, |c| c.max(event.occurred_at));
        let envelope = abi::envelope(event);
        let event_type = event.event_type();
        let primary = primary_subject(event);
        let plugins = self.plugins.clone();

        let mut batch = WriteBatch {
            clock: (self.clock != Some(now)).then_some(now),
            ..WriteBatch::default()
        };
        let mut work = VerdictWork::new(self.store.as_ref());
        let mut deadline_hits = Vec::new();
        let seller = event.seller_id();
        for subject in event.subjects() {
            work.touch(&subject, seller, now)?;
        }
        for plugin in plugins
            .plugins()
            .iter()
            .filter(|p| p.subscribes_to(event_type))
        {
            let scope =
                PluginScope::open(self.store.clone(), plugin.name_arc(), now, plugin.quotas())?;
            // A deadline the live run hit is not left to this machine's speed.
            let outcome = match forced.iter().find(|hit| hit.plugin == plugin.name()) {
                Some(hit) => plugin.replay_failure(PluginFailure::Deadline {
                    limit_ms: hit.limit_ms,
                }),
                None => plugin.handle(&envelope, scope),
            };
            if let Err(PluginFailure::Deadline { limit_ms }) = &outcome.result {
                deadline_hits.push(DeadlineHit {
                    plugin: plugin.name().to_string(),
                    limit_ms: *limit_ms,
                });
            }
            let refused = outcome
                .scope
                .as_ref()
                .map_or(0, PluginScope::timers_refused);
            let findings = self.settle(plugin, outcome.result, outcome.scope, &mut batch)?;
            let findings = match findings {
                Ok(mut findings) => {
                    work.clear_plugin_errors(&primary, plugin.name(), now, &plugins)?;
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
                work.apply(finding, subject, &plugins)?;
            }
        }
        let touched_subjects: Vec<Subject> = work.verdicts.keys().cloned().collect();
        batch.event = Some(EventLogWrite {
            event_id: event.event_id.clone(),
            digest: logged.digest,
            json: logged.json,
            subjects: touched_subjects.clone(),
            replayed_seq,
            deadline_hits,
        });
        let (mut changes, verdicts) = work.finish(&mut batch);
        self.store.commit(batch)?;
        self.clock = Some(now);
        let touched = touched_subjects
            .iter()
            .filter_map(|s| verdicts.get(s).cloned())
            .collect();

        let (timer_changes, timers_fired) = self.fire_due_timers(now, &event.event_id)?;
        changes.extend(timer_changes);
        Ok(EventReport {
            touched,
            changes,
            timers_fired,
        })
    }

    /// Keep a successful call's writes; turn storage failures into a pipeline error.
    fn settle(
        &self,
        plugin: &LoadedPlugin,
        result: Result<Vec<CheckedFinding>, PluginFailure>,
        scope: Option<PluginScope>,
        batch: &mut WriteBatch,
    ) -> Result<Result<Vec<CheckedFinding>, PluginFailure>, PipelineError> {
        match result {
            Ok(findings) => {
                if let Some(scope) = scope {
                    batch.merge(plugin.name(), scope.into_writes());
                }
                Ok(Ok(findings))
            }
            Err(failure @ PluginFailure::Host { .. }) => Err(PipelineError::Host {
                plugin: plugin.name().to_string(),
                failure,
            }),
            Err(failure) => Ok(Err(failure)),
        }
    }
}
