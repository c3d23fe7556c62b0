//! The facts a rating is computed from, recorded per seller as the pipeline evaluates.
//!
//! Facts live in the host's own state namespace `@rating` of the seller's shard (a name
//! no plugin can have), written in the same unit as the event or timer that made them —
//! so they are as durable, replayable and deterministic as plugin state, and a cluster's
//! nodes record the same ones. Keys start with a kind letter and the seller's id
//! (length-prefixed, so one seller's keys never run into another's):
//!
//! | key | value | written when |
//! |---|---|---|
//! | `s<seller>` | `{}` | anything is recorded for the seller (the list of sellers) |
//! | `o<seller><at><order>` | `{}` | `order.placed` |
//! | `r<seller><at><order>` | `{}` | `refund.completed` |
//! | `c<seller><complaint>` | `{"opened": ms, "answered": ms?}` | `complaint.opened`, `complaint.responded` |
//! | `g<seller><subject>\u{1f}<plugin>\u{1f}<rule>` | `{"at": ms, "category": "…", "event_id": "…"}` | an enforce-mode finding changes a verdict of the seller's |
//!
//! A finding re-reported for the same subject and rule (a late shipment reported when the
//! deadline passes and again with its real lateness) is one fact, dated by its first
//! report: a rating counts flagged subjects per rule, not reports.

use serde::{Deserialize, Serialize};

use crate::model::event::{Event, EventBody};
use crate::model::shard::{namespace, shard_of};
use crate::model::subject::Subject;
use crate::model::time::Timestamp;
use crate::store::{StateWrite, StoreError, StoredValue, WriteBatch};
use crate::verdict::{Category, Decision, DecisionKind, Finding, Mode};

/// Reads a fact already stored: `(namespace, key)` → its bytes.
pub type ReadFact<'a> = dyn Fn(&str, &str) -> Result<Option<Vec<u8>>, StoreError> + 'a;

/// The state namespace's plugin name (not a valid plugin name, so never a plugin's).
pub const RATING_NAMESPACE: &str = "@rating";

/// The namespace of `seller`'s facts.
pub fn seller_namespace(seller: &str) -> String {
    namespace(RATING_NAMESPACE, shard_of(seller))
}

/// The key prefix of `kind` facts of `seller`.
pub fn prefix(kind: char, seller: &str) -> String {
    format!("{kind}{:04x}{seller}", seller.len())
}

/// Milliseconds as a key part that sorts in time order.
fn time_key(at: Timestamp) -> String {
    format!("{:016x}", (at as u64) ^ (1 << 63))
}

/// The time in a key part written by [`time_key`].
pub fn time_of(key_part: &str) -> Option<Timestamp> {
    let bits = u64::from_str_radix(key_part.get(..16)?, 16).ok()?;
    Some((bits ^ (1 << 63)) as Timestamp)
}

fn finding_key(seller: &str, subject: &Subject, plugin: &str, rule: &str) -> String {
    format!(
        "{}{}/{}\u{1f}{plugin}\u{1f}{rule}",
        prefix('g', seller),
        subject.kind.as_str(),
        subject.id
    )
}

/// A complaint's fact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplaintFact {
    /// When it was opened.
    pub opened: Option<Timestamp>,
    /// When the seller answered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<Timestamp>,
}

/// A finding's fact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingFact {
    /// When it was first reported.
    pub at: Timestamp,
    /// Its category.
    pub category: Category,
    /// The event whose evaluation reported it first.
    pub event_id: String,
    /// The plugin's rule id.
    #[serde(default)]
    pub rule: String,
    /// The plugin that reported it.
    #[serde(default)]
    pub plugin: String,
    /// The kind of subject it is on (`order`, `listing`, `seller`, `complaint`).
    #[serde(default)]
    pub subject_type: String,
    /// When a reviewer overturned it: it no longer counts from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overturned_at: Option<Timestamp>,
    /// When a reviewer confirmed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<Timestamp>,
}

/// Facts to write in one unit: `(namespace, key, value)`.
#[derive(Debug, Default)]
pub struct FactWrites {
    writes: Vec<(String, String, Vec<u8>)>,
}

impl FactWrites {
    fn put(&mut self, seller: &str, key: String, value: Vec<u8>) {
        let namespace = seller_namespace(seller);
        self.writes
            .push((namespace.clone(), prefix('s', seller), b"{}".to_vec()));
        self.writes.push((namespace, key, value));
    }

    /// Whether `event` makes any fact known (only then is its seller worth looking up).
    pub fn records(event: &Event) -> bool {
        matches!(
            event.body,
            EventBody::OrderPlaced(_)
                | EventBody::RefundCompleted(_)
                | EventBody::ComplaintOpened(_)
                | EventBody::ComplaintResponded(_)
        )
    }

    /// The facts `event`, of `seller` (its own, or its order's or complaint's), makes
    /// known; `read` reads a fact already stored.
    pub fn of_event(
        &mut self,
        event: &Event,
        seller: Option<&str>,
        read: &ReadFact<'_>,
    ) -> Result<(), StoreError> {
        let Some(seller) = seller else {
            return Ok(());
        };
        let at = event.occurred_at;
        match &event.body {
            EventBody::OrderPlaced(e) => {
                let key = format!("{}{}{}", prefix('o', seller), time_key(at), e.order_id);
                self.put(seller, key, b"{}".to_vec());
            }
            EventBody::RefundCompleted(e) => {
                let key = format!("{}{}{}", prefix('r', seller), time_key(at), e.order_id);
                self.put(seller, key, b"{}".to_vec());
            }
            EventBody::ComplaintOpened(e) => {
                self.complaint(seller, &e.complaint_id, read, |c| {
                    c.opened.get_or_insert(at);
                })?
            }
            EventBody::ComplaintResponded(e) => {
                self.complaint(seller, &e.complaint_id, read, |c| {
                    c.answered.get_or_insert(at);
                })?
            }
            _ => {}
        }
        Ok(())
    }

    fn complaint(
        &mut self,
        seller: &str,
        complaint: &str,
        read: &ReadFact<'_>,
        change: impl FnOnce(&mut ComplaintFact),
    ) -> Result<(), StoreError> {
        let key = format!("{}{complaint}", prefix('c', seller));
        let mut fact: ComplaintFact = read(&seller_namespace(seller), &key)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        change(&mut fact);
        self.put(seller, key, serde_json::to_vec(&fact).unwrap_or_default());
        Ok(())
    }

    /// A finding that changed `subject`'s verdict, `seller`'s subject: a fact when it
    /// counts (enforce mode, not a plugin error) and is new for its subject and rule.
    pub fn of_finding(
        &mut self,
        seller: &str,
        subject: &Subject,
        finding: &Finding,
        read: &ReadFact<'_>,
    ) -> Result<(), StoreError> {
        if finding.mode != Mode::Enforce || finding.category == Category::PluginError {
            return Ok(());
        }
        let key = finding_key(seller, subject, &finding.plugin, &finding.rule);
        // One fact per subject and rule; after a reviewer overturned it, the same rule
        // on new facts (a finding the verdict took again) counts afresh.
        let counted = read(&seller_namespace(seller), &key)?
            .and_then(|bytes| serde_json::from_slice::<FindingFact>(&bytes).ok())
            .is_some_and(|fact| fact.overturned_at.is_none());
        if counted || self.writes.iter().any(|(_, k, _)| *k == key) {
            return Ok(());
        }
        let fact = FindingFact {
            at: finding.at,
            category: finding.category,
            event_id: finding.event_id.clone(),
            rule: finding.rule.clone(),
            plugin: finding.plugin.clone(),
            subject_type: subject.kind.as_str().to_string(),
            overturned_at: None,
            confirmed_at: None,
        };
        self.put(seller, key, serde_json::to_vec(&fact).unwrap_or_default());
        Ok(())
    }

    /// A reviewer's decision on a finding of `seller`'s subject: the finding's fact is
    /// marked overturned (it stops counting from `decision.at`) or confirmed.
    pub fn of_decision(
        &mut self,
        seller: &str,
        decision: &Decision,
        read: &ReadFact<'_>,
    ) -> Result<(), StoreError> {
        let f = &decision.finding;
        let key = finding_key(seller, &decision.subject, &f.plugin, &f.rule);
        let Some(mut fact) = read(&seller_namespace(seller), &key)?
            .and_then(|bytes| serde_json::from_slice::<FindingFact>(&bytes).ok())
        else {
            return Ok(());
        };
        match decision.decision {
            DecisionKind::Overturn => fact.overturned_at = Some(decision.at),
            DecisionKind::Confirm => fact.confirmed_at = Some(decision.at),
        }
        self.put(seller, key, serde_json::to_vec(&fact).unwrap_or_default());
        Ok(())
    }

    /// Merge the facts into `batch` as state writes of the `@rating` namespaces.
    pub fn into_batch(self, batch: &mut WriteBatch) {
        // No usage is counted: the namespace is the host's, under no plugin's quota.
        for (namespace, key, bytes) in self.writes {
            let target = batch.plugins.entry(namespace).or_default();
            target.state.insert(
                key,
                StateWrite {
                    old_expiry: None,
                    new: Some(StoredValue {
                        bytes,
                        expires_at: None,
                    }),
                },
            );
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}
