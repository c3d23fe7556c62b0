//! A host event as each `probity:plugin` world version's envelope. The event records are
//! the same in every version so far, but each version's bindings have their own Rust
//! types, so one macro writes the conversion for each.

use crate::model::event::{Event, EventBody};
use crate::model::money::Money as HostMoney;

macro_rules! envelope_of_version {
    ($name:ident, $($types:ident)::+) => {
        pub(crate) mod $name {
            use super::*;
            use super::super::$($types)::+ as t;

            fn money(m: &HostMoney) -> t::Money {
                t::Money {
                    mantissa: m.mantissa,
                    scale: m.scale,
                    currency: m.currency.clone(),
                }
            }

            /// The envelope handed to plugins for a (pseudonymised) host event.
            pub fn envelope(event: &Event) -> t::Envelope {
                let body = match &event.body {
                    EventBody::ListingUpserted(e) => t::Event::ListingUpserted(t::ListingUpserted {
                        listing_id: e.listing_id.clone(),
                        seller_id: e.seller_id.clone(),
                        title: e.title.clone(),
                        price: money(&e.price),
                        description: e.description.clone(),
                        category: e.category.clone(),
                        reference_price: e.reference_price.as_ref().map(money),
                        attributes: e.attributes.clone(),
                        language: e.language.clone(),
                    }),
                    EventBody::OrderPlaced(e) => t::Event::OrderPlaced(t::OrderPlaced {
                        order_id: e.order_id.clone(),
                        listing_id: e.listing_id.clone(),
                        seller_id: e.seller_id.clone(),
                        buyer_id: e.buyer_id.to_string(),
                        quantity: e.quantity,
                        total: money(&e.total),
                        buyer: e.buyer.as_ref().map(|b| t::BuyerProfile {
                            account_created_at: b.account_created_at,
                            device_id: b.device_id.as_ref().map(ToString::to_string),
                            ip: b.ip.as_ref().map(ToString::to_string),
                            shipping_address: b.shipping_address.as_ref().map(ToString::to_string),
                            phone: b.phone.as_ref().map(ToString::to_string),
                        }),
                    }),
                    EventBody::OrderPaid(e) => t::Event::OrderPaid(t::OrderPaid {
                        order_id: e.order_id.clone(),
                        payment_fingerprint: e.payment_fingerprint.as_ref().map(ToString::to_string),
                        presale: e.presale,
                        promised_ship_by: e.promised_ship_by,
                    }),
                    EventBody::OrderShipped(e) => t::Event::OrderShipped(t::OrderShipped {
                        order_id: e.order_id.clone(),
                        carrier: e.carrier.clone(),
                        tracking_number: e.tracking_number.clone(),
                        parcel_weight_grams: e.parcel_weight_grams,
                        origin_city: e.origin_city.clone(),
                        destination_city: e.destination_city.clone(),
                    }),
                    EventBody::OrderDelivered(e) => t::Event::OrderDelivered(t::OrderDelivered {
                        order_id: e.order_id.clone(),
                    }),
                    EventBody::OrderCancelled(e) => t::Event::OrderCancelled(t::OrderCancelled {
                        order_id: e.order_id.clone(),
                        reason: e.reason.clone(),
                    }),
                    EventBody::RefundRequested(e) => t::Event::RefundRequested(t::RefundRequested {
                        order_id: e.order_id.clone(),
                        refund_id: e.refund_id.clone(),
                        reason: e.reason.clone(),
                        amount: e.amount.as_ref().map(money),
                        return_required: e.return_required,
                    }),
                    EventBody::RefundCompleted(e) => t::Event::RefundCompleted(t::RefundCompleted {
                        order_id: e.order_id.clone(),
                        refund_id: e.refund_id.clone(),
                        amount: e.amount.as_ref().map(money),
                    }),
                    EventBody::ReviewPosted(e) => t::Event::ReviewPosted(t::ReviewPosted {
                        order_id: e.order_id.clone(),
                        review_id: e.review_id.clone(),
                        rating: e.rating,
                        text: e.text.clone(),
                    }),
                    EventBody::ComplaintOpened(e) => t::Event::ComplaintOpened(t::ComplaintOpened {
                        complaint_id: e.complaint_id.clone(),
                        seller_id: e.seller_id.clone(),
                        order_id: e.order_id.clone(),
                        text: e.text.clone(),
                    }),
                    EventBody::ComplaintResponded(e) => t::Event::ComplaintResponded(t::ComplaintResponded {
                        complaint_id: e.complaint_id.clone(),
                        text: e.text.clone(),
                    }),
                    EventBody::ComplaintResolved(e) => t::Event::ComplaintResolved(t::ComplaintResolved {
                        complaint_id: e.complaint_id.clone(),
                        outcome: e.outcome.clone(),
                    }),
                };
                t::Envelope {
                    event_id: event.event_id.clone(),
                    occurred_at: event.occurred_at,
                    event: body,
                }
            }
        }
    };
}

envelope_of_version!(current, bindings::probity::plugin::types);
envelope_of_version!(v0_1, bindings_v0_1::probity::plugin::types);
