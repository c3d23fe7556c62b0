//! Where an event goes: the orders and complaints an event refers to or makes known,
//! and the table of events logged but not yet committed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::model::event::{Event, EventBody};
use crate::model::shard::Shard;
use crate::model::subject::SubjectType;
use crate::store::reference_key;

/// The order or complaint an event without a seller refers to (`None`: it names one).
pub fn reference_of(event: &Event) -> Option<String> {
    if event.seller_id().is_some() {
        return None;
    }
    let (kind, id) = match &event.body {
        EventBody::OrderPaid(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderShipped(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderDelivered(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderCancelled(e) => (SubjectType::Order, &e.order_id),
        EventBody::RefundRequested(e) => (SubjectType::Order, &e.order_id),
        EventBody::RefundCompleted(e) => (SubjectType::Order, &e.order_id),
        EventBody::ReviewPosted(e) => (SubjectType::Order, &e.order_id),
        EventBody::ComplaintResponded(e) => (SubjectType::Complaint, &e.complaint_id),
        EventBody::ComplaintResolved(e) => (SubjectType::Complaint, &e.complaint_id),
        EventBody::ListingUpserted(_)
        | EventBody::OrderPlaced(_)
        | EventBody::ComplaintOpened(_) => {
            return None;
        }
    };
    Some(reference_key(kind, id))
}

/// A reference key in words: `o/O-1` → `order O-1`, `c/C-1` → `complaint C-1`.
pub fn describe_reference(reference: &str) -> String {
    match reference.split_once('/') {
        Some(("c", id)) => format!("complaint {id}"),
        Some((_, id)) => format!("order {id}"),
        None => reference.to_string(),
    }
}

/// The order or complaint an event makes known, with its seller.
pub fn introduces(event: &Event) -> Option<(String, &str)> {
    match &event.body {
        EventBody::OrderPlaced(e) => {
            Some((reference_key(SubjectType::Order, &e.order_id), &e.seller_id))
        }
        EventBody::ComplaintOpened(e) => Some((
            reference_key(SubjectType::Complaint, &e.complaint_id),
            &e.seller_id,
        )),
        _ => None,
    }
}

/// Events logged but not yet committed by their shard (their idempotency records and
/// the references they make known are not in the store yet), shared by the sequencer and
/// the partitions: the sequencer adds, a partition removes after its commit.
/// How the reference index spells the buyer of an order: `b/<order id>` → the buyer's
/// pseudonym. Written with every `order.placed` (whether or not a buyer-keyed plugin runs,
/// so that one enabled later finds the buyers of earlier orders).
pub fn buyer_reference(order_id: &str) -> String {
    format!("b/{order_id}")
}

/// How the reference index marks that an event's buyer route was applied (its unit
/// committed): `a/<event id>`. A replay after a crash reads it, as it reads the event's
/// idempotency record for the seller route.
pub fn buyer_applied_reference(event_id: &str) -> String {
    format!("a/{event_id}")
}

/// The buyer `order.placed` makes known: (`b/<order id>`, the buyer's pseudonym).
pub fn introduces_buyer(event: &Event) -> Option<(String, &str)> {
    match &event.body {
        EventBody::OrderPlaced(e) => Some((buyer_reference(&e.order_id), e.buyer_id.as_str())),
        _ => None,
    }
}

/// Every reference an event makes known, as the reference index stores it: its order or
/// complaint with the seller ([`introduces`]) and its order's buyer
/// ([`introduces_buyer`]). The sequencer reads them before the event's unit commits
/// (from [`InFlight`]), and after (from the store).
pub fn made_known(event: &Event) -> Vec<(String, String)> {
    introduces(event)
        .into_iter()
        .chain(introduces_buyer(event))
        .map(|(reference, value)| (reference, value.to_string()))
        .collect()
}

/// The order whose buyer a later event has: the order an order, refund or review event
/// names, or the one a complaint is about.
pub fn order_of(event: &Event) -> Option<&str> {
    match &event.body {
        EventBody::OrderPaid(e) => Some(&e.order_id),
        EventBody::OrderShipped(e) => Some(&e.order_id),
        EventBody::OrderDelivered(e) => Some(&e.order_id),
        EventBody::OrderCancelled(e) => Some(&e.order_id),
        EventBody::RefundRequested(e) => Some(&e.order_id),
        EventBody::RefundCompleted(e) => Some(&e.order_id),
        EventBody::ReviewPosted(e) => Some(&e.order_id),
        EventBody::ComplaintOpened(e) => e.order_id.as_deref(),
        EventBody::ListingUpserted(_)
        | EventBody::OrderPlaced(_)
        | EventBody::ComplaintResponded(_)
        | EventBody::ComplaintResolved(_) => None,
    }
}

#[derive(Debug, Default)]
pub struct InFlight {
    inner: Mutex<InFlightTables>,
    /// Held while a unit reads, changes and commits verdicts (see
    /// [`InFlight::verdict_lock`]).
    verdicts: Mutex<()>,
}

#[derive(Debug, Default)]
pub(super) struct InFlightTables {
    /// event id → (position, digest, shard; `None` while parked).
    pub(super) events: HashMap<String, (u64, String, Option<Shard>)>,
    /// reference key → seller.
    pub(super) refs: HashMap<String, String>,
}

impl InFlight {
    pub(super) fn tables(&self) -> std::sync::MutexGuard<'_, InFlightTables> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The event with this id is committed (or was dropped): forget it, and the
    /// references it made known ([`made_known`]).
    pub fn committed(&self, event_id: &str, references: &[(String, String)]) {
        let mut tables = self.tables();
        tables.events.remove(event_id);
        for (reference, _) in references {
            tables.refs.remove(reference);
        }
    }

    /// Serialise changes of verdicts across partitions: held from reading a unit's
    /// verdicts to committing it.
    pub fn verdict_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.verdicts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
