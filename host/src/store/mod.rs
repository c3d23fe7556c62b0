//! Durable storage behind a trait of our own.
//!
//! The rest of the host talks to [`Store`]; only [`SledStore`] knows about sled. Work is
//! committed in *units*: everything one event (or one fired timer) changes — plugin state,
//! timers, verdicts, finding history, the clock — goes into one [`WriteBatch`] and is
//! committed atomically by [`Store::commit`].
//!
//! **The event log is the source of truth** ([`EventLog`], in `data_dir/log/`): a unit's
//! log record (the event, a clock advance, a deadline hit) is appended as it is committed,
//! and [`Store::flush`] writes every appended record and `fdatasync`s it; callers
//! acknowledge work only after a flush that covers it (group commit: one sync for many
//! units). What is derived from the log — state, timers, verdicts, history, indexes,
//! idempotency records — is served from memory and sled (`data_dir/store/`), and sled
//! is written in the background, never ahead of the durable log, each write recording
//! the log position it reflects ([`Store::log_applied`]). [`Store::checkpoint`] makes
//! sled durable too (with a real `fsync`). After a crash the derived state is a prefix of
//! the log, and the pipeline replays the log after [`Store::log_applied`].
//!
//! Plugins see their state through a [`PluginScope`]: an overlay over the store that
//! collects one call's writes, enforces quotas, and is merged into the unit's batch only
//! if the call succeeds — so a failed call leaves no trace in state.

mod batch;
mod codec;
mod health;
mod index;
mod log;
mod scope;
mod sled;

pub use self::sled::{
    SledStore, clear_cluster_copy, exchange_dirs, rebuild_dir, remove_interrupted_rebuild,
};
pub use batch::{
    DeadlineHit, EventLogWrite, PluginWrites, StateWrite, TimerDeadlineHit, TimerRetry, TimerWrite,
    UsageDelta, WriteBatch,
};
pub use health::{FaultKind, StorageFault, StoreHealth};
pub use index::{VerdictPage, VerdictQuery};
pub use log::{EventLog, LogError, LogIo, LogRecords, RealIo};
pub use scope::{PluginQuotas, PluginScope, ScanEntry, StateError, TimerError};

use crate::model::event::Event;
use crate::model::shard::Shard;
use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::verdict::{Decision, Finding, Verdict};

/// A stored state value with its expiry in event time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredValue {
    /// The bytes the plugin stored (in hex when serialised).
    #[serde(with = "hex::serde")]
    pub bytes: Vec<u8>,
    /// When it expires (event time); `None` = never.
    pub expires_at: Option<Timestamp>,
}

impl StoredValue {
    /// Whether it reads as absent at event time `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A pending timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTimer {
    /// The plugin that scheduled it.
    pub plugin: String,
    /// Its key, unique per plugin.
    pub key: String,
    /// When it is due (event time).
    pub due: Timestamp,
    /// The bytes given when it was scheduled.
    pub payload: Vec<u8>,
    /// Set when the host put it off because it could not run it at its due time.
    pub retry: Option<TimerRetry>,
}

impl PendingTimer {
    /// The due time the plugin set (what it is shown), however often it was put off.
    pub fn original_due(&self) -> Timestamp {
        self.retry.map_or(self.due, |retry| retry.original_due)
    }
}

/// What the idempotency index remembers of an accepted event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventRecord {
    /// Its position in the event log.
    pub seq: u64,
    /// SHA-256 (hex) of its pseudonymised content: a re-send with another content is a
    /// conflict, not a duplicate.
    pub digest: String,
    /// The subjects its evaluation touched, whose verdicts a duplicate is answered with.
    pub subjects: Vec<Subject>,
}

/// A page of a subject's history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryPage {
    /// The findings, oldest first.
    pub findings: Vec<Finding>,
    /// The position of the last finding returned, when more follow: pass it as `after`.
    pub next_after: Option<u64>,
}

/// Where the sequencer sent an event, as its log record says: the event-time clock it
/// assigned and the shard that evaluates it (`None`: parked until its order or
/// complaint is known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    /// The event-time clock the event is evaluated at.
    pub clock: Timestamp,
    /// Its shard, or `None` while it waits for its order or complaint.
    pub shard: Option<Shard>,
    /// Its buyer's pseudonym when it is also evaluated for the buyer-keyed plugins, in
    /// that buyer's shard ([`crate::model::shard::ShardKey::Buyer`]).
    pub buyer: Option<String>,
}

/// One entry of the event log.
#[derive(Clone, Debug)]
pub enum LogEntry {
    /// An accepted event (boxed: an event is large, an advance two words), with where it
    /// was sent (`None` in a log written before shards: a replay routes it afresh) and,
    /// in a log written before deadline records, the plugin calls on it that hit their
    /// wall-clock deadline.
    Event {
        /// The event.
        event: Box<Event>,
        /// Its clock and shard.
        routing: Option<Routing>,
        /// Deadline hits logged with it (old logs; new ones use [`LogEntry::EventDeadline`]).
        deadline_hits: Vec<DeadlineHit>,
    },
    /// A parked event (at `seq`) sent to its shard, its order or complaint now known (or
    /// its wait over): it is evaluated here, at `clock`.
    Release {
        /// The parked event's own position.
        seq: u64,
        /// The shard that evaluates it.
        shard: Shard,
        /// The clock it is evaluated at.
        clock: Timestamp,
        /// Its buyer's pseudonym when it is also evaluated for the buyer-keyed plugins.
        buyer: Option<String>,
    },
    /// The plugin calls on the event at `seq` that hit their wall-clock deadline: a
    /// replay fails them the same way, without running them.
    EventDeadline {
        /// The event's position.
        seq: u64,
        /// The calls.
        hits: Vec<DeadlineHit>,
    },
    /// The event-time clock moved to `to` without an event (a live server following the
    /// wall clock). A replay repeats it at the same point of the log, so the same timers
    /// fire at the same points as in the live run.
    ClockAdvance {
        /// The new clock.
        to: Timestamp,
        /// Why it moved (`wall-clock`).
        cause: String,
    },
    /// An `on-timer` call that hit its wall-clock deadline live (the timer was deferred).
    /// A replay reads these before it starts and fails the same attempts.
    TimerDeadline(TimerDeadlineHit),
    /// The configuration (by its digest) took effect here: every partition evaluated
    /// the entries before it with the previous plugin set and those after with this one.
    Reload {
        /// The configuration's digest (`sha256:…`), as the audit trail names it.
        config_digest: String,
    },
    /// A reviewer's decision on a finding, applied here: a replay applies it at the same
    /// point.
    Decision(Box<Decision>),
}

/// A record to append to the event log (see [`LogEntry`] for what each means).
#[derive(Clone, Debug)]
pub enum LogAppend<'a> {
    /// An event, as pseudonymised JSON, with its routing.
    Event {
        /// The event's JSON.
        json: &'a [u8],
        /// Its clock and shard.
        routing: Routing,
    },
    /// See [`LogEntry::Release`].
    Release {
        /// The parked event's position.
        seq: u64,
        /// Its shard.
        shard: Shard,
        /// Its clock.
        clock: Timestamp,
        /// Its buyer's pseudonym, for the buyer-keyed plugins.
        buyer: Option<&'a str>,
    },
    /// See [`LogEntry::EventDeadline`].
    EventDeadline {
        /// The event's position.
        seq: u64,
        /// The calls.
        hits: &'a [DeadlineHit],
    },
    /// See [`LogEntry::ClockAdvance`].
    ClockAdvance {
        /// The new clock.
        to: Timestamp,
        /// Why.
        cause: &'a str,
    },
    /// See [`LogEntry::TimerDeadline`].
    TimerDeadline(&'a TimerDeadlineHit),
    /// See [`LogEntry::Reload`].
    Reload {
        /// The configuration's digest.
        config_digest: &'a str,
    },
    /// See [`LogEntry::Decision`] (its `seq` is set when it is read back).
    Decision(&'a Decision),
}

/// How the reference index spells an order or complaint id: `o/<id>` or `c/<id>`.
pub fn reference_key(kind: crate::model::subject::SubjectType, id: &str) -> String {
    match kind {
        crate::model::subject::SubjectType::Complaint => format!("c/{id}"),
        _ => format!("o/{id}"),
    }
}

/// A filter on state namespaces (a partition's shards); see [`crate::model::shard`].
pub type NamespaceFilter<'a> = &'a dyn Fn(&str) -> bool;

/// Iterator over the event log, oldest first: `(seq, entry)`.
pub type EventIter<'a> = Box<dyn Iterator<Item = Result<(u64, LogEntry), StoreError>> + 'a>;

/// What a plugin holds in the store, for quotas and reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PluginUsage {
    /// Sum of key and value lengths of its state entries.
    pub state_bytes: u64,
    /// Number of its state entries.
    pub state_entries: u64,
    /// Number of its pending timers.
    pub timers: u64,
}

/// A storage failure. The store is never left half-written by one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory is in use by another Probity process.
    #[error(
        "the data directory {path} is locked by another running Probity process; stop it or use another data directory"
    )]
    Locked {
        /// The data directory.
        path: String,
    },
    /// The store was written by a newer Probity.
    #[error(
        "the store in {path} has schema version {found}, newer than this Probity understands ({supported}); upgrade Probity or use another data directory (nothing was changed)"
    )]
    NewerSchema {
        /// The data directory.
        path: String,
        /// The version found.
        found: u32,
        /// The newest version this build supports.
        supported: u32,
    },
    /// A stored record could not be decoded.
    #[error("corrupt record in tree `{tree}`: {detail}")]
    Corrupt {
        /// The sled tree.
        tree: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Reading or writing the database failed (a full disk, a read-only file system, an
    /// I/O error).
    #[error("storage error: {0}")]
    Io(std::io::Error),
    /// The database found itself corrupt, or failed in a way it reports as its own bug.
    #[error("storage error: {0}")]
    Database(String),
    /// The event log failed.
    #[error("{0}")]
    Log(LogError),
    /// The derived state reflects log positions the log does not hold.
    #[error(
        "the store in {path} reflects the event log up to position {applied}, but the log ends at {log_end}: the log was truncated, removed or restored from an older backup; restore the whole data directory from one backup (nothing was changed)"
    )]
    LogBehind {
        /// The data directory.
        path: String,
        /// The log position the derived state reflects.
        applied: u64,
        /// The last position in the log.
        log_end: u64,
    },
}

impl From<LogError> for StoreError {
    fn from(err: LogError) -> Self {
        match err {
            LogError::Locked { path } => StoreError::Locked { path },
            other => StoreError::Log(other),
        }
    }
}

/// Iterator over `(key, value)` of one plugin's state, ascending by key.
pub type StateIter<'a> = Box<dyn Iterator<Item = Result<(String, StoredValue), StoreError>> + 'a>;

/// Everything the host persists.
pub trait Store: Send + Sync {
    /// A plugin's state entry, expired or not (callers check expiry against the clock).
    fn state_get(&self, plugin: &str, key: &str) -> Result<Option<StoredValue>, StoreError>;

    /// A plugin's state entries whose key starts with `prefix`, ascending.
    fn state_scan<'a>(&'a self, plugin: &str, prefix: &str) -> StateIter<'a>;

    /// The due time of a plugin's pending timer.
    fn timer_due(&self, plugin: &str, key: &str) -> Result<Option<Timestamp>, StoreError>;

    /// What a plugin holds.
    fn usage(&self, plugin: &str) -> Result<PluginUsage, StoreError>;

    /// The event-time clock, if any event was ever accepted.
    fn clock(&self) -> Result<Option<Timestamp>, StoreError>;

    /// What a plugin holds over every shard.
    fn usage_total(&self, plugin: &str) -> Result<PluginUsage, StoreError> {
        let mut total = PluginUsage::default();
        for shard in 0..crate::model::shard::SHARDS {
            let usage = self.usage(&crate::model::shard::namespace(plugin, shard))?;
            total.state_bytes += usage.state_bytes;
            total.state_entries += usage.state_entries;
            total.timers += usage.timers;
        }
        Ok(total)
    }

    /// The earliest pending timer due at or before `up_to` (ties by namespace, then key)
    /// among the namespaces `serves` accepts.
    fn next_due_timer(
        &self,
        up_to: Timestamp,
        serves: NamespaceFilter<'_>,
    ) -> Result<Option<PendingTimer>, StoreError>;

    /// Up to `limit` state entries that expired at or before `up_to`, among the
    /// namespaces `serves` accepts: `(namespace, key)`.
    fn expired_state(
        &self,
        up_to: Timestamp,
        limit: usize,
        serves: NamespaceFilter<'_>,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The seller an order or complaint belongs to (by [`reference_key`]), once an event
    /// naming both was applied.
    fn seller_of(&self, reference: &str) -> Result<Option<String>, StoreError>;

    /// Append a record to the event log (durable with the next [`Store::flush`]); returns
    /// its position.
    fn append_log(&self, record: LogAppend<'_>) -> Result<u64, StoreError>;

    /// Say that every log entry up to `seq` is applied (its units committed): the next
    /// write-back records it as [`Store::log_applied`]. Never moves back.
    fn note_log_applied(&self, seq: u64);

    /// The current verdict on a subject.
    fn verdict(&self, subject: &Subject) -> Result<Option<Verdict>, StoreError>;

    /// Every finding recorded for a subject, oldest first.
    fn history(&self, subject: &Subject) -> Result<Vec<Finding>, StoreError>;

    /// At most `limit` findings of a subject's history, oldest first, after the entry
    /// `after` (a [`HistoryPage::next_after`] of an earlier page).
    fn history_page(
        &self,
        subject: &Subject,
        after: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError>;

    /// Apply one unit of work atomically (visible at once, durable after `flush`).
    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Make every appended log record durable — written and `fdatasync`ed —
    /// and return the bytes written. A failed flush is final: the store then refuses
    /// every unit until a restart.
    fn flush(&self) -> Result<usize, StoreError>;

    /// Write every committed unit's derived writes to sled and make them durable (sled's
    /// flush followed by an `fsync` of its files), so that a restart replays only the
    /// log after this point.
    fn checkpoint(&self) -> Result<(), StoreError>;

    /// The last log position the derived state reflects (0 for none).
    fn log_applied(&self) -> Result<u64, StoreError>;

    /// The event log's durable entries from position `from` on.
    fn logged_events_from<'a>(&'a self, from: u64) -> EventIter<'a>;

    /// The accepted event with this id, if any (the idempotency index).
    fn event_record(&self, event_id: &str) -> Result<Option<EventRecord>, StoreError>;

    /// The event log (pseudonymised events as accepted), oldest first.
    fn logged_events<'a>(&'a self) -> EventIter<'a> {
        self.logged_events_from(0)
    }

    /// A page of verdicts matching `query`, newest first, served from the indexes.
    fn query_verdicts(&self, query: &VerdictQuery) -> Result<VerdictPage, StoreError>;

    /// Append an entry to the audit trail (durably); returns its sequence number, which
    /// is also stored in the entry as `seq`.
    fn append_audit(&self, entry: serde_json::Value) -> Result<u64, StoreError>;

    /// Remove the event log's oldest entries, in log order, up to the first one dated at
    /// or after `cutoff` (an event's `occurred_at`, a clock advance's time), and make the
    /// removal durable; returns how many went. Nothing derived changes: verdicts, history
    /// and idempotency records stay. Call between units (on the pipeline thread).
    fn purge_log_before(&self, cutoff: Timestamp) -> Result<usize, StoreError>;

    /// The latest `limit` audit entries, newest first.
    fn audit(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError>;

    /// A small named value of the host's own (for example the pseudonym key's
    /// fingerprint).
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Set a named value of the host's own (durably).
    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Remove everything derived from the event log — verdicts, history, indexes, plugin
    /// state, timers, the clock and the idempotency index — keeping the log, the audit
    /// trail and host metadata, so the log can be replayed into fresh views.
    fn reset_derived(&self) -> Result<(), StoreError>;
}
