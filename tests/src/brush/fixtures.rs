//! Hand-made events for exact tests of the brush-orders plugin, and a harness wrapper
//! that keeps the live findings per subject and rule as the host's verdicts do.

use brush_orders::Brush;
use probity_sdk::prelude::*;

/// 2026-10-01T00:00:00Z.
pub const T0: i64 = 1_790_812_800_000;
/// A minute, an hour and a day in milliseconds.
pub const MIN: i64 = 60_000;
/// See [`MIN`].
pub const H: i64 = 60 * MIN;
/// See [`MIN`].
pub const D: i64 = 24 * H;

/// Identifiers of one order's buyer.
#[derive(Clone, Default)]
pub struct Who {
    /// The buyer id.
    pub buyer: String,
    device: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    ip: Option<String>,
    age_days: i64,
}

/// An aged account with no identifiers yet.
pub fn who(buyer: &str) -> Who {
    Who {
        buyer: buyer.into(),
        age_days: 400,
        ..Who::default()
    }
}

impl Who {
    /// With this device.
    pub fn device(mut self, v: &str) -> Self {
        self.device = Some(v.into());
        self
    }
    /// With this shipping address.
    pub fn address(mut self, v: &str) -> Self {
        self.address = Some(v.into());
        self
    }
    /// With this phone.
    pub fn phone(mut self, v: &str) -> Self {
        self.phone = Some(v.into());
        self
    }
    /// With this IP.
    pub fn ip(mut self, v: &str) -> Self {
        self.ip = Some(v.into());
        self
    }
    /// Created two days before its orders.
    pub fn new_account(mut self) -> Self {
        self.age_days = 2;
        self
    }
}

/// An envelope.
pub fn envelope(id: String, at: i64, event: Event) -> Envelope {
    Envelope {
        event_id: id,
        occurred_at: at,
        event,
    }
}

/// `listing.upserted`, declaring `weight` if given.
pub fn listing(id: &str, seller: &str, weight: Option<&str>) -> Envelope {
    let attributes = weight
        .iter()
        .map(|w| ("weight".to_string(), w.to_string()))
        .collect();
    envelope(
        format!("l-{id}"),
        T0 - D,
        Event::ListingUpserted(ListingUpserted {
            listing_id: id.into(),
            seller_id: seller.into(),
            title: "goods".into(),
            price: Money {
                mantissa: 1990,
                scale: 2,
                currency: "CNY".into(),
            },
            description: None,
            category: None,
            reference_price: None,
            attributes,
            language: None,
        }),
    )
}

/// `order.placed` of one item.
pub fn placed(order: &str, seller: &str, listing: &str, w: &Who, at: i64) -> Envelope {
    placed_quantity(order, seller, listing, w, at, 1)
}

/// `order.placed` of `quantity` items.
pub fn placed_quantity(
    order: &str,
    seller: &str,
    listing: &str,
    w: &Who,
    at: i64,
    quantity: u32,
) -> Envelope {
    envelope(
        format!("p-{order}"),
        at,
        Event::OrderPlaced(OrderPlaced {
            order_id: order.into(),
            listing_id: listing.into(),
            seller_id: seller.into(),
            buyer_id: w.buyer.clone(),
            quantity,
            total: Money {
                mantissa: 1990,
                scale: 2,
                currency: "CNY".into(),
            },
            buyer: Some(BuyerProfile {
                account_created_at: Some(at - w.age_days * D),
                device_id: w.device.clone(),
                ip: w.ip.clone(),
                shipping_address: w.address.clone(),
                phone: w.phone.clone(),
            }),
        }),
    )
}

/// `order.paid` with a payment fingerprint.
pub fn paid(order: &str, card: &str, at: i64) -> Envelope {
    envelope(
        format!("y-{order}"),
        at,
        Event::OrderPaid(OrderPaid {
            order_id: order.into(),
            payment_fingerprint: Some(card.into()),
            presale: None,
            promised_ship_by: None,
        }),
    )
}

/// `order.shipped` from 杭州 to 北京.
pub fn shipped(order: &str, grams: u32, at: i64) -> Envelope {
    envelope(
        format!("s-{order}"),
        at,
        Event::OrderShipped(OrderShipped {
            order_id: order.into(),
            carrier: Some("SF".into()),
            tracking_number: Some(format!("SF-{order}")),
            parcel_weight_grams: Some(grams),
            origin_city: Some("杭州".into()),
            destination_city: Some("北京".into()),
        }),
    )
}

/// `order.delivered`.
pub fn delivered(order: &str, at: i64) -> Envelope {
    envelope(
        format!("d-{order}"),
        at,
        Event::OrderDelivered(OrderDelivered {
            order_id: order.into(),
        }),
    )
}

/// `review.posted`.
pub fn review(order: &str, rating: u8, text: &str, at: i64) -> Envelope {
    envelope(
        format!("r-{order}-{at}"),
        at,
        Event::ReviewPosted(ReviewPosted {
            order_id: order.into(),
            review_id: format!("R-{order}-{at}"),
            rating,
            text: Some(text.into()),
        }),
    )
}

/// The brush-orders plugin in the SDK's harness, keeping live findings.
pub type Probe = crate::probe::Probe<Brush>;

pub use crate::probe::subjects;
