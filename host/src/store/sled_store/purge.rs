//! Purging the event log's oldest entries (`[privacy] event_log_retention_days`).
//!
//! The log keeps every accepted event, pseudonymised and with free text masked, so that
//! `probity rebuild` can replay it. A retention limit trades that for keeping less: the
//! oldest entries go, in log order, and a later rebuild replays only what is left
//! (verdicts of subjects known only from purged events are then gone from the rebuilt
//! store). Verdicts, history and idempotency records are not touched by a purge.

use super::{EVENTS, SledStore, codec};
use crate::model::time::Timestamp;
use crate::store::{LogEntry, StoreError};

/// Most entries removed by one purge, so that one call never holds the pipeline long.
const MAX_PURGED: usize = 100_000;

impl SledStore {
    /// See [`Store::purge_log_before`](crate::store::Store::purge_log_before).
    pub(super) fn purge_log(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        // Staged entries reach sled first, so the tree holds the whole log in order.
        self.write_back()?;
        let tree = self.tree(EVENTS);
        let mut purged = 0;
        for item in tree.iter() {
            let (key, value) = item?;
            let at = match codec::decode_log_entry(&value)? {
                LogEntry::Event { event, .. } => event.occurred_at,
                LogEntry::ClockAdvance { to, .. } => to,
                LogEntry::TimerDeadline(hit) => hit.due,
            };
            if at >= cutoff || purged >= MAX_PURGED {
                break;
            }
            tree.remove(key)?;
            purged += 1;
        }
        if purged > 0 {
            self.forget_first_keys();
            self.db.flush()?;
        }
        Ok(purged)
    }
}
