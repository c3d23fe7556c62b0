//! Reviewers' decisions (申诉 and review): a finding confirmed or overturned, applied as
//! one unit at one point of the event log.
//!
//! A decision is logged like an event ([`crate::store::LogEntry::Decision`]) and applied
//! under the verdict lock: the subject's verdict records it — an overturned finding
//! leaves its live findings, so its action and score, and the same claim on the same
//! facts is not taken again ([`Verdict::apply`]) — and the finding's rating fact is
//! marked, so it stops counting in the seller's rating from then on. A replay applies the
//! logged decision at the same point; one already applied (same log position) changes
//! nothing.

use super::{Pipeline, PipelineError, routing::InFlight};
use crate::model::subject::SubjectType;
use crate::rating::FactWrites;
use crate::store::{Store, StoreError, WriteBatch};
use crate::verdict::{ActionMapping, Decision, Verdict};

/// Apply `decision` (its `seq` set to its log position) to its subject: the verdict
/// afterwards, or `None` if the subject has no verdict.
pub fn apply_decision(
    store: &dyn Store,
    in_flight: &InFlight,
    mapping: &ActionMapping,
    decision: &Decision,
) -> Result<Option<Verdict>, StoreError> {
    let _verdicts = in_flight.verdict_lock();
    let Some(mut verdict) = store.verdict(&decision.subject)? else {
        return Ok(None);
    };
    if !verdict.decide(decision.clone(), mapping) {
        return Ok(Some(verdict));
    }
    let mut batch = WriteBatch::default();
    let seller = match decision.subject.kind {
        SubjectType::Seller => Some(decision.subject.id.clone()),
        _ => verdict.seller_id.clone(),
    };
    if let Some(seller) = seller {
        let read = |ns: &str, key: &str| Ok(store.state_get(ns, key)?.map(|v| v.bytes));
        let mut facts = FactWrites::default();
        facts.of_decision(&seller, decision, &read)?;
        facts.into_batch(&mut batch);
    }
    batch.verdicts.push(verdict.clone());
    store.commit(batch)?;
    Ok(Some(verdict))
}

impl Pipeline {
    /// Apply a logged decision at log position `seq` (a replay).
    pub(super) fn replay_decision(
        &mut self,
        seq: u64,
        decision: &Decision,
    ) -> Result<(), PipelineError> {
        let decision = Decision {
            seq,
            ..decision.clone()
        };
        let mapping = *self.plugins.mapping();
        apply_decision(self.store.as_ref(), &self.in_flight, &mapping, &decision)?;
        Ok(())
    }
}
