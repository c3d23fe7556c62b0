//! Hand-made events for exact tests of the `sla` plugin.
//!
//! Every builder takes the event time in milliseconds; [`T0`] is 2026-10-01T00:00:00Z
//! and [`H`] an hour, so deadlines read as sums (`T0 + 48 * H`).

use probity_sdk::prelude::*;

/// 2026-10-01T00:00:00Z.
pub const T0: i64 = 1_790_812_800_000;
/// An hour in milliseconds.
pub const H: i64 = 3_600_000;
/// A day in milliseconds.
pub const D: i64 = 24 * H;

/// The `sla` plugin in the SDK's harness, keeping live findings.
pub type Probe = crate::probe::Probe<sla::Sla>;

pub use crate::probe::subjects;

fn envelope(kind: &str, id: &str, at: i64, event: Event) -> Envelope {
    Envelope {
        event_id: format!("{kind}-{id}-{at}"),
        occurred_at: at,
        event,
    }
}

fn money(amount: i64) -> Money {
    Money {
        mantissa: amount * 100,
        scale: 2,
        currency: "CNY".into(),
    }
}

/// `listing.upserted` of `listing` in `category`.
pub fn listing(listing: &str, category: &str) -> Envelope {
    envelope(
        "l",
        listing,
        T0 - D,
        Event::ListingUpserted(ListingUpserted {
            listing_id: listing.into(),
            seller_id: "S-1".into(),
            title: "goods".into(),
            price: money(100),
            description: None,
            category: Some(category.into()),
            reference_price: None,
            attributes: Vec::new(),
            language: None,
        }),
    )
}

/// `order.placed` of `order` at seller `S-1`, listing `L-1` unless given, total 100 CNY.
pub fn placed(order: &str, seller: &str, at: i64) -> Envelope {
    placed_from(order, seller, "L-1", at)
}

/// `order.placed` of `order` from `listing`.
pub fn placed_from(order: &str, seller: &str, listing: &str, at: i64) -> Envelope {
    envelope(
        "p",
        order,
        at,
        Event::OrderPlaced(OrderPlaced {
            order_id: order.into(),
            listing_id: listing.into(),
            seller_id: seller.into(),
            buyer_id: "B-1".into(),
            quantity: 1,
            total: money(100),
            buyer: None,
        }),
    )
}

/// `order.paid`, with an optional promised ship-by time and presale flag.
pub fn paid(order: &str, at: i64, promised: Option<i64>, presale: bool) -> Envelope {
    envelope(
        "y",
        order,
        at,
        Event::OrderPaid(OrderPaid {
            order_id: order.into(),
            payment_fingerprint: None,
            presale: presale.then_some(true),
            promised_ship_by: promised,
        }),
    )
}

/// `order.shipped`.
pub fn shipped(order: &str, at: i64) -> Envelope {
    envelope(
        "s",
        order,
        at,
        Event::OrderShipped(OrderShipped {
            order_id: order.into(),
            carrier: None,
            tracking_number: None,
            parcel_weight_grams: None,
            origin_city: None,
            destination_city: None,
        }),
    )
}

/// `order.delivered`.
pub fn delivered(order: &str, at: i64) -> Envelope {
    envelope(
        "d",
        order,
        at,
        Event::OrderDelivered(OrderDelivered {
            order_id: order.into(),
        }),
    )
}

/// `order.cancelled`.
pub fn cancelled(order: &str, at: i64) -> Envelope {
    envelope(
        "c",
        order,
        at,
        Event::OrderCancelled(OrderCancelled {
            order_id: order.into(),
            reason: None,
        }),
    )
}

/// `refund.requested`.
pub fn refund_requested(order: &str, refund: &str, at: i64, return_required: bool) -> Envelope {
    envelope(
        "rq",
        refund,
        at,
        Event::RefundRequested(RefundRequested {
            order_id: order.into(),
            refund_id: refund.into(),
            reason: None,
            amount: None,
            return_required: Some(return_required),
        }),
    )
}

/// `refund.completed` of `amount` CNY (the whole total when `None`).
pub fn refund_completed(order: &str, refund: &str, at: i64, amount: Option<i64>) -> Envelope {
    envelope(
        "rc",
        refund,
        at,
        Event::RefundCompleted(RefundCompleted {
            order_id: order.into(),
            refund_id: refund.into(),
            amount: amount.map(money),
        }),
    )
}

/// `complaint.opened` against `seller`.
pub fn opened(complaint: &str, seller: &str, at: i64) -> Envelope {
    envelope(
        "co",
        complaint,
        at,
        Event::ComplaintOpened(ComplaintOpened {
            complaint_id: complaint.into(),
            seller_id: seller.into(),
            order_id: None,
            text: Some("the parcel never came".into()),
        }),
    )
}

/// `complaint.responded`.
pub fn responded(complaint: &str, at: i64) -> Envelope {
    envelope(
        "cr",
        complaint,
        at,
        Event::ComplaintResponded(ComplaintResponded {
            complaint_id: complaint.into(),
            text: Some("we are sorry; a new parcel is on its way".into()),
        }),
    )
}

/// `complaint.resolved`.
pub fn resolved(complaint: &str, at: i64) -> Envelope {
    envelope(
        "cz",
        complaint,
        at,
        Event::ComplaintResolved(ComplaintResolved {
            complaint_id: complaint.into(),
            outcome: Some("refunded".into()),
        }),
    )
}

/// The (rule, severity, message) of every finding, for exact comparison.
pub fn summary(findings: &[Finding]) -> Vec<(String, String, Severity, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f.subject.id.clone(),
                f.rule.clone(),
                f.severity,
                f.message.clone(),
            )
        })
        .collect()
}
