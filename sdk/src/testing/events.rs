//! One-line test events.
//!
//! Each function returns an [`Envelope`] with the required fields set, every optional
//! field absent, `occurred_at` 0 and an `event_id` made of the type and ids
//! (`order.paid:O-1`). Adjust with [`Envelope::at`] and [`Envelope::with_id`], or build the
//! record yourself and wrap it with [`Envelope::new`] when a test needs other fields.

use crate::prelude::*;

impl Envelope {
    /// The same event, happening at `occurred_at` (test helper).
    pub fn at(mut self, occurred_at: Timestamp) -> Self {
        self.occurred_at = occurred_at;
        self
    }

    /// The same event under another `event_id` (test helper).
    pub fn with_id(mut self, event_id: impl Into<String>) -> Self {
        self.event_id = event_id.into();
        self
    }
}

/// `Money` from a decimal amount and currency code; panics if either is malformed, which
/// in a test is a bug in the test.
pub fn money(amount: &str, currency: &str) -> Money {
    match Money::parse(amount, currency) {
        Ok(money) => money,
        Err(err) => panic!("testing::money: {err}"),
    }
}

fn envelope(id_parts: &[&str], event: impl Into<Event>) -> Envelope {
    let event = event.into();
    let event_id = format!("{}:{}", event.event_type(), id_parts.join(":"));
    Envelope::new(event_id, 0, event)
}

/// `listing.upserted` with a price of 1.00 CNY.
pub fn listing(listing_id: &str, seller_id: &str, title: &str) -> Envelope {
    envelope(
        &[listing_id],
        ListingUpserted {
            listing_id: listing_id.into(),
            seller_id: seller_id.into(),
            title: title.into(),
            price: money("1.00", "CNY"),
            description: None,
            category: None,
            reference_price: None,
            attributes: Vec::new(),
            language: None,
        },
    )
}

/// `order.placed` of one item by `buyer_id` (a pseudonym), for `total` in CNY (`"19.90"`).
pub fn order_placed(
    order_id: &str,
    listing_id: &str,
    seller_id: &str,
    buyer_id: &str,
    total: &str,
) -> Envelope {
    envelope(
        &[order_id],
        OrderPlaced {
            order_id: order_id.into(),
            listing_id: listing_id.into(),
            seller_id: seller_id.into(),
            buyer_id: buyer_id.into(),
            quantity: 1,
            total: money(total, "CNY"),
            buyer: None,
        },
    )
}

/// `order.paid`.
pub fn order_paid(order_id: &str) -> Envelope {
    envelope(
        &[order_id],
        OrderPaid {
            order_id: order_id.into(),
            payment_fingerprint: None,
            presale: None,
            promised_ship_by: None,
        },
    )
}

/// `order.shipped`.
pub fn order_shipped(order_id: &str) -> Envelope {
    envelope(
        &[order_id],
        OrderShipped {
            order_id: order_id.into(),
            carrier: None,
            tracking_number: None,
            parcel_weight_grams: None,
            origin_city: None,
            destination_city: None,
        },
    )
}

/// `order.delivered`.
pub fn order_delivered(order_id: &str) -> Envelope {
    envelope(
        &[order_id],
        OrderDelivered {
            order_id: order_id.into(),
        },
    )
}

/// `order.cancelled`.
pub fn order_cancelled(order_id: &str) -> Envelope {
    envelope(
        &[order_id],
        OrderCancelled {
            order_id: order_id.into(),
            reason: None,
        },
    )
}

/// `refund.requested` for the whole order.
pub fn refund_requested(order_id: &str, refund_id: &str) -> Envelope {
    envelope(
        &[order_id, refund_id],
        RefundRequested {
            order_id: order_id.into(),
            refund_id: refund_id.into(),
            reason: None,
            amount: None,
            return_required: None,
        },
    )
}

/// `refund.completed`.
pub fn refund_completed(order_id: &str, refund_id: &str) -> Envelope {
    envelope(
        &[order_id, refund_id],
        RefundCompleted {
            order_id: order_id.into(),
            refund_id: refund_id.into(),
            amount: None,
        },
    )
}

/// `review.posted` without text.
pub fn review_posted(order_id: &str, review_id: &str, rating: u8) -> Envelope {
    envelope(
        &[order_id, review_id],
        ReviewPosted {
            order_id: order_id.into(),
            review_id: review_id.into(),
            rating,
            text: None,
        },
    )
}

/// `complaint.opened` about no particular order.
pub fn complaint_opened(complaint_id: &str, seller_id: &str) -> Envelope {
    envelope(
        &[complaint_id],
        ComplaintOpened {
            complaint_id: complaint_id.into(),
            seller_id: seller_id.into(),
            order_id: None,
            text: None,
        },
    )
}

/// `complaint.responded`.
pub fn complaint_responded(complaint_id: &str) -> Envelope {
    envelope(
        &[complaint_id],
        ComplaintResponded {
            complaint_id: complaint_id.into(),
            text: None,
        },
    )
}

/// `complaint.resolved`.
pub fn complaint_resolved(complaint_id: &str) -> Envelope {
    envelope(
        &[complaint_id],
        ComplaintResolved {
            complaint_id: complaint_id.into(),
            outcome: None,
        },
    )
}
