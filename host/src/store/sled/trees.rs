//! The layout of the sled database: its trees, the keys of `meta`, and the small codecs
//! of `meta`'s values. One place, used by every part of the sled store.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `state` | `namespace \0 key` | state value (version, expiry, bytes) |
//! | `state_expiry` | `expiry namespace \0 key` | empty: which entries expire when |
//! | `timers` | `due namespace \0 key` | version, payload: firing order |
//! | `timer_index` | `namespace \0 key` | due: find a plugin's timer by key |
//! | `verdicts` | subject | versioned JSON verdict |
//! | `history` | subject, seq | versioned JSON finding |
//! | `meta` | `clock`, `seq`, `log_applied`, `redo`, `schema`, `usage/<plugin>`, `host/<name>` | numbers, host values |
//! | `events` | seq (u64 BE) | empty since schema 2: the log of a schema-1 store, moved to the event log at open |
//! | `event_ids` | event id | versioned JSON [`EventRecord`](crate::store::EventRecord): idempotency |
//! | `verdict_index` | see [`index`](crate::store::index) | empty |
//! | `audit` | seq (u64 BE) | versioned JSON audit entry |
//! | `refs` | `o/<order id>`, `c/<complaint id>` | seller id: where an event without one goes |
//!
//! A namespace is a plugin in one seller shard, `plugin#NN` (see
//! [`shard`](crate::model::shard)).

use crate::store::PluginUsage;

/// The store layout version this build writes and understands: 3 since plugin state is
/// kept per seller shard (2: the event log moved out of sled into its own files; 1 kept
/// it in the `events` tree).
pub const SCHEMA_VERSION: u32 = 3;

pub(super) const CLOCK: &[u8] = b"clock";
pub(super) const SEQ: &[u8] = b"seq";
pub(super) const EVENT_SEQ: &[u8] = b"event_seq";
/// The last log position the derived trees reflect.
pub(super) const LOG_APPLIED: &[u8] = b"log_applied";
/// A write-back's redo record (see `write_back`).
pub(super) const REDO: &[u8] = b"redo";
pub(super) const AUDIT_SEQ: &[u8] = b"audit_seq";
pub(super) const SCHEMA: &[u8] = b"schema";

/// Indexes into the transaction's tree list, in the order of [`TREE_NAMES`].
pub(super) const STATE: usize = 0;
pub(super) const STATE_EXPIRY: usize = 1;
pub(super) const TIMERS: usize = 2;
pub(super) const TIMER_INDEX: usize = 3;
pub(super) const VERDICTS: usize = 4;
pub(super) const HISTORY: usize = 5;
pub(super) const META: usize = 6;
pub(super) const EVENTS: usize = 7;
pub(super) const EVENT_IDS: usize = 8;
pub(super) const VERDICT_INDEX: usize = 9;
pub(super) const AUDIT: usize = 10;
pub(super) const REFS: usize = 11;
pub(super) const TREE_NAMES: [&str; 12] = [
    "state",
    "state_expiry",
    "timers",
    "timer_index",
    "verdicts",
    "history",
    "meta",
    "events",
    "event_ids",
    "verdict_index",
    "audit",
    "refs",
];

/// The trees [`Store::reset_derived`] empties.
pub(super) const DERIVED: [usize; 9] = [
    STATE,
    STATE_EXPIRY,
    TIMERS,
    TIMER_INDEX,
    VERDICTS,
    HISTORY,
    EVENT_IDS,
    VERDICT_INDEX,
    REFS,
];

/// Whether a meta key holds something derived from the log (reset by a rebuild).
pub(super) fn is_derived_meta(key: &[u8]) -> bool {
    key == CLOCK
        || key == SEQ
        || key == LOG_APPLIED
        || key == REDO
        || key == EVENT_SEQ
        || key.starts_with(b"usage/")
}

/// A big-endian `u64`, or 0 when absent or malformed.
pub(super) fn read_u64(raw: Option<&[u8]>) -> u64 {
    raw.and_then(|bytes| bytes.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The meta key of a plugin's usage counters.
pub(super) fn usage_key(plugin: &str) -> Vec<u8> {
    let mut key = b"usage/".to_vec();
    key.extend_from_slice(plugin.as_bytes());
    key
}

/// Decode a plugin's usage counters.
pub(super) fn decode_usage(raw: Option<&[u8]>) -> PluginUsage {
    match raw {
        Some(bytes) if bytes.len() == 24 => PluginUsage {
            state_bytes: read_u64(Some(&bytes[0..8])),
            state_entries: read_u64(Some(&bytes[8..16])),
            timers: read_u64(Some(&bytes[16..24])),
        },
        _ => PluginUsage::default(),
    }
}

pub(super) fn encode_usage(usage: PluginUsage) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&usage.state_bytes.to_be_bytes());
    out.extend_from_slice(&usage.state_entries.to_be_bytes());
    out.extend_from_slice(&usage.timers.to_be_bytes());
    out
}
