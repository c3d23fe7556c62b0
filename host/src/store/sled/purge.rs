//! Purging the event log's oldest entries (`[privacy] event_log_retention_days`).
//!
//! The log keeps every accepted event, pseudonymised and with free text masked, so that
//! `probity rebuild` can replay it. A retention limit trades that for keeping less: the
//! oldest entries go, in log order, and a later rebuild replays only what is left
//! (verdicts of subjects known only from purged events are then gone from the rebuilt
//! store). Verdicts, history and idempotency records are not touched by a purge.
//!
//! A purge first checkpoints, and never removes an entry the checkpointed derived state
//! does not reflect yet: a restart must still be able to replay everything after it.

use super::SledStore;
use crate::model::time::Timestamp;
use crate::store::{LogEntry, Store, StoreError, codec};

impl SledStore {
    /// See [`Store::purge_log_before`](crate::store::Store::purge_log_before).
    pub(super) fn purge_log(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        self.checkpoint_now()?;
        let applied = self.log_applied()?;
        let mut keep = |seq: u64, payload: &[u8]| {
            let at = match codec::decode_log_entry(payload) {
                Ok(LogEntry::Event { event, .. }) => event.occurred_at,
                Ok(LogEntry::ClockAdvance { to, .. }) => to,
                Ok(LogEntry::Release { clock, .. }) => clock,
                Ok(LogEntry::TimerDeadline(hit)) => hit.due,
                Ok(LogEntry::Decision(decision)) => decision.at,
                // Goes with its event, which comes before it.
                Ok(LogEntry::EventDeadline { .. } | LogEntry::Reload { .. }) => Timestamp::MIN,
                Err(err) => {
                    tracing::error!(seq, error = %err, "an event log entry cannot be read; the purge stops before it");
                    return true;
                }
            };
            at >= cutoff
        };
        Ok(self.log.purge(applied, &mut keep)?)
    }
}
