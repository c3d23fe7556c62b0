//! Sellers' credit ratings (信用评级): a score, a grade and the reasons, from facts the
//! pipeline records per seller in event time.
//!
//! **Why in the host, not a plugin.** A rating rests on what every plugin found and on
//! what happened to each order and complaint; a plugin sees only its own findings, and a
//! compliance team's settings (weights, windows, grade bands) should apply to every
//! rating at once, including ratings as they stood on an earlier day. So the pipeline
//! records plain facts ([`facts`]) in the same unit as the event or timer that made them
//! — deterministic, replayed, the same on every node of a cluster — and a rating is
//! computed from them when it is read ([`score`]), with the settings in force.
//!
//! This module knows the store only through the [`Store`] trait; nothing here knows HTTP.

pub mod facts;
pub mod publish;
pub mod score;

#[cfg(test)]
mod tests;

pub use facts::{ComplaintFact, FactWrites, FindingFact, RATING_NAMESPACE, seller_namespace};
pub use publish::{MeasureRecord, PeriodSummary, PublishError};
pub use score::{Rating, Reason, SellerFacts, Text, grade_of, rate};

use crate::model::shard::{SHARDS, namespace};
use crate::store::{Store, StoreError};

/// Read every fact of `seller`.
pub fn seller_facts(store: &dyn Store, seller: &str) -> Result<SellerFacts, StoreError> {
    let ns = seller_namespace(seller);
    let mut out = SellerFacts::default();
    for kind in ['o', 'r'] {
        let prefix = facts::prefix(kind, seller);
        for entry in store.state_scan(&ns, &prefix) {
            let (key, _) = entry?;
            if let Some(at) = key.get(prefix.len()..).and_then(facts::time_of) {
                match kind {
                    'o' => out.orders.push(at),
                    _ => out.refunds.push(at),
                }
            }
        }
    }
    for entry in store.state_scan(&ns, &facts::prefix('c', seller)) {
        let (_, value) = entry?;
        if let Ok(fact) = serde_json::from_slice(&value.bytes) {
            out.complaints.push(fact);
        }
    }
    for entry in store.state_scan(&ns, &facts::prefix('g', seller)) {
        let (_, value) = entry?;
        if let Ok(fact) = serde_json::from_slice(&value.bytes) {
            out.findings.push(fact);
        }
    }
    Ok(out)
}

/// Whether anything is recorded for `seller`.
pub fn is_known(store: &dyn Store, seller: &str) -> Result<bool, StoreError> {
    Ok(store
        .state_get(&seller_namespace(seller), &facts::prefix('s', seller))?
        .is_some())
}

/// Whether any seller has facts (stops at the first one found).
pub fn has_sellers(store: &dyn Store) -> Result<bool, StoreError> {
    for shard in 0..SHARDS {
        if let Some(entry) = store
            .state_scan(&namespace(RATING_NAMESPACE, shard), "s")
            .next()
        {
            entry?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every seller with facts, in id order, after `after`, at most `limit`.
pub fn sellers(
    store: &dyn Store,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut all = Vec::new();
    for shard in 0..SHARDS {
        for entry in store.state_scan(&namespace(RATING_NAMESPACE, shard), "s") {
            let (key, _) = entry?;
            let Some(seller) = key.get(5..) else { continue };
            if after.is_none_or(|after| seller > after) {
                all.push(seller.to_string());
            }
        }
    }
    all.sort();
    all.truncate(limit);
    Ok(all)
}
