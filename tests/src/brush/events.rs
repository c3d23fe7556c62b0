//! The generator's events, rendered either as SDK envelopes (for the plugin run
//! natively through the SDK's harness) or as contract JSON (for the host).

use probity_sdk::prelude::*;
use probity_sdk::time::rfc3339;
use serde_json::{Value, json};

/// One generated event.
#[derive(Clone, Debug)]
pub struct Ev {
    /// The `event_id`.
    pub id: String,
    /// `occurred_at`, in milliseconds since the epoch.
    pub at: i64,
    /// What happened.
    pub kind: EvKind,
}

/// What happened.
#[derive(Clone, Debug)]
pub enum EvKind {
    /// `listing.upserted`.
    Listing {
        /// Its id.
        listing: String,
        /// Its seller.
        seller: String,
        /// Its title.
        title: String,
        /// Price in cents.
        cents: i64,
        /// A declared `weight_g` attribute.
        weight: Option<u32>,
    },
    /// `order.placed`.
    Placed(PlacedEv),
    /// `order.paid`.
    Paid {
        /// The order.
        order: String,
        /// The payment fingerprint.
        payment: String,
    },
    /// `order.shipped`.
    Shipped {
        /// The order.
        order: String,
        /// Parcel weight.
        grams: Option<u32>,
        /// Origin city.
        from: String,
        /// Destination city.
        to: String,
    },
    /// `order.delivered`.
    Delivered {
        /// The order.
        order: String,
    },
    /// `review.posted`.
    Review {
        /// The order.
        order: String,
        /// The review's id.
        review: String,
        /// 1–5.
        rating: u8,
        /// Its text.
        text: String,
    },
}

/// The facts of a generated `order.placed`.
#[derive(Clone, Debug)]
pub struct PlacedEv {
    /// Its id.
    pub order: String,
    /// The listing.
    pub listing: String,
    /// The seller.
    pub seller: String,
    /// The buyer.
    pub buyer: String,
    /// Items.
    pub quantity: u32,
    /// Total in cents.
    pub cents: i64,
    /// When the account was created.
    pub created: i64,
    /// Device.
    pub device: String,
    /// IP.
    pub ip: String,
    /// Shipping address.
    pub address: String,
    /// Phone.
    pub phone: String,
}

fn money(cents: i64) -> Money {
    Money {
        mantissa: cents,
        scale: 2,
        currency: "CNY".into(),
    }
}

fn money_json(cents: i64) -> Value {
    json!({"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "CNY"})
}

impl Ev {
    /// As an SDK envelope.
    pub fn envelope(&self) -> Envelope {
        let event = match &self.kind {
            EvKind::Listing {
                listing,
                seller,
                title,
                cents,
                weight,
            } => Event::ListingUpserted(ListingUpserted {
                listing_id: listing.clone(),
                seller_id: seller.clone(),
                title: title.clone(),
                price: money(*cents),
                description: None,
                category: None,
                reference_price: None,
                attributes: weight
                    .iter()
                    .map(|w| ("weight_g".to_string(), w.to_string()))
                    .collect(),
                language: None,
            }),
            EvKind::Placed(p) => Event::OrderPlaced(OrderPlaced {
                order_id: p.order.clone(),
                listing_id: p.listing.clone(),
                seller_id: p.seller.clone(),
                buyer_id: p.buyer.clone(),
                quantity: p.quantity,
                total: money(p.cents),
                buyer: Some(BuyerProfile {
                    account_created_at: Some(p.created),
                    device_id: Some(p.device.clone()),
                    ip: Some(p.ip.clone()),
                    shipping_address: Some(p.address.clone()),
                    phone: Some(p.phone.clone()),
                }),
            }),
            EvKind::Paid { order, payment } => Event::OrderPaid(OrderPaid {
                order_id: order.clone(),
                payment_fingerprint: Some(payment.clone()),
                presale: None,
                promised_ship_by: None,
            }),
            EvKind::Shipped {
                order,
                grams,
                from,
                to,
            } => Event::OrderShipped(OrderShipped {
                order_id: order.clone(),
                carrier: Some("SF".into()),
                tracking_number: Some(format!("SF-{order}")),
                parcel_weight_grams: *grams,
                origin_city: Some(from.clone()),
                destination_city: Some(to.clone()),
            }),
            EvKind::Delivered { order } => Event::OrderDelivered(OrderDelivered {
                order_id: order.clone(),
            }),
            EvKind::Review {
                order,
                review,
                rating,
                text,
            } => Event::ReviewPosted(ReviewPosted {
                order_id: order.clone(),
                review_id: review.clone(),
                rating: *rating,
                text: Some(text.clone()),
            }),
        };
        Envelope {
            event_id: self.id.clone(),
            occurred_at: self.at,
            event,
        }
    }

    /// As contract JSON.
    pub fn json(&self) -> Value {
        let mut body = match &self.kind {
            EvKind::Listing {
                listing,
                seller,
                title,
                cents,
                weight,
            } => {
                let mut v = json!({"type": "listing.upserted", "listing_id": listing, "seller_id": seller,
                    "title": title, "price": money_json(*cents)});
                if let Some(w) = weight {
                    v["attributes"] = json!({"weight_g": w.to_string()});
                }
                v
            }
            EvKind::Placed(p) => {
                json!({"type": "order.placed", "order_id": p.order, "listing_id": p.listing,
                    "seller_id": p.seller, "buyer_id": p.buyer, "quantity": p.quantity, "total": money_json(p.cents),
                    "buyer": {"account_created_at": rfc3339(p.created), "device_id": p.device, "ip": ip_address(&p.ip),
                              "shipping_address": p.address, "phone": p.phone}})
            }
            EvKind::Paid { order, payment } => {
                json!({"type": "order.paid", "order_id": order, "payment_fingerprint": payment})
            }
            EvKind::Shipped {
                order,
                grams,
                from,
                to,
            } => {
                let mut v = json!({"type": "order.shipped", "order_id": order, "carrier": "SF",
                    "tracking_number": format!("SF-{order}"), "origin_city": from, "destination_city": to});
                if let Some(g) = grams {
                    v["parcel_weight_grams"] = json!(g);
                }
                v
            }
            EvKind::Delivered { order } => json!({"type": "order.delivered", "order_id": order}),
            EvKind::Review {
                order,
                review,
                rating,
                text,
            } => {
                json!({"type": "review.posted", "order_id": order, "review_id": review, "rating": rating, "text": text})
            }
        };
        body["event_id"] = json!(self.id);
        body["occurred_at"] = json!(rfc3339(self.at));
        body
    }
}

/// The generator names a buyer's network by a label (`ip-17`, `ip-home-3`); the contract
/// wants an address. Each label becomes a fixed IPv6 address in the unique-local range
/// (its SHA-256 in the low 120 bits), so labels that are equal stay equal and different
/// ones stay different, which is all a plugin can see of them.
fn ip_address(label: &str) -> String {
    use sha2::Digest;
    if label.parse::<std::net::IpAddr>().is_ok() {
        return label.to_string();
    }
    let digest = sha2::Sha256::digest(label.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[0] = 0xfd;
    std::net::Ipv6Addr::from(bytes).to_string()
}
