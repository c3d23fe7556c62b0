//! One strategy per event type (twelve types in eight strategies), each giving the
//! event's [`Raw`] tree, its fields and the [`Event`] parsing must give; and
//! [`any_event`], which picks one and shuffles its members.

use proptest::prelude::*;
use proptest::strategy::Union;

use super::values::{cash, id, ip, opt, pseudonym, stamp, text};

/// A free-text field as the parser keeps it: personal values masked.
fn masked(text: Option<String>) -> Option<String> {
    text.map(|t| crate::privacy::mask_free_text(&t).into_owned())
}
use super::{Draft, Kind, Opt, Raw, Sample, Stamp};
use crate::ingest::{MAX_LONG_TEXT_BYTES, MAX_STRING_BYTES, MAX_TITLE_BYTES};
use crate::model::event::{
    BuyerProfile, ComplaintOpened, ComplaintResolved, ComplaintResponded, Event, EventBody,
    ListingUpserted, OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderShipped,
    RefundCompleted, RefundRequested, ReviewPosted,
};
use crate::privacy::PersonalField;

/// The expected event: envelope and body.
fn event(event_id: String, at: &Stamp, body: EventBody) -> Event {
    Event {
        event_id,
        occurred_at: at.millis,
        body,
    }
}

/// `listing.upserted`, with ordered `attributes` and optional texts and reference price.
fn listing() -> impl Strategy<Value = Sample> {
    let attributes = prop::collection::btree_map("\\PC{1,12}", text(MAX_STRING_BYTES), 0..8)
        .prop_map(|map| map.into_iter().collect::<Vec<_>>())
        .prop_shuffle();
    let texts = (
        opt(text(MAX_LONG_TEXT_BYTES)),
        opt(text(MAX_STRING_BYTES)),
        opt(text(MAX_STRING_BYTES)),
    );
    let body = (
        id(),
        id(),
        text(MAX_TITLE_BYTES),
        cash(),
        opt(cash()),
        opt(attributes),
    );
    (id(), stamp(), body, texts).prop_map(|(event_id, at, body, texts)| {
        let (listing_id, seller_id, title, price, reference_price, attributes) = body;
        let (description, category, language) = texts;
        let mut d = Draft::new(&event_id, "listing.upserted", &at);
        d.string("listing_id", &listing_id, Kind::Id, true);
        d.string("seller_id", &seller_id, Kind::Id, true);
        d.string("title", &title, Kind::Text(MAX_TITLE_BYTES), true);
        d.money("price", &price, true);
        d.opt_string("description", &description, Kind::Text(MAX_LONG_TEXT_BYTES));
        d.opt_string("category", &category, Kind::Text(MAX_STRING_BYTES));
        d.opt("reference_price", &reference_price, Kind::Money, |d, c| {
            d.money("reference_price", c, false)
        });
        d.opt("attributes", &attributes, Kind::Attributes, |d, list| {
            let mut sub = d.sub("attributes");
            for (key, value) in list {
                sub.string(key, value, Kind::Attribute, false);
            }
            d.adopt("attributes", sub, Kind::Attributes, false);
        });
        d.opt_string("language", &language, Kind::Text(MAX_STRING_BYTES));
        d.finish(event(
            event_id,
            &at,
            EventBody::ListingUpserted(ListingUpserted {
                listing_id,
                seller_id,
                title,
                price: price.money,
                description: description.flatten(),
                category: category.flatten(),
                reference_price: reference_price.flatten().map(|c| c.money),
                attributes: attributes.flatten().unwrap_or_default(),
                language: language.flatten(),
            }),
        ))
    })
}

/// The generated `buyer` object of `order.placed`.
type Buyer = (
    Opt<Stamp>,
    Opt<String>,
    Opt<String>,
    Opt<String>,
    Opt<String>,
);

/// The optional members of `buyer`: account time and personal values.
fn buyer() -> impl Strategy<Value = Buyer> {
    (
        opt(stamp()),
        opt("[A-Za-z0-9-]{0,24}"),
        opt(ip()),
        opt("\\PC{0,40}"),
        opt("\\+?[0-9 ()-]{0,20}"),
    )
}

/// `order.placed`, with a pseudonymised buyer and an optional `buyer` object.
fn order_placed() -> impl Strategy<Value = Sample> {
    let buyer_id = prop_oneof!["U-[0-9]{1,12}", "\\PC{0,20}[a-z0-9]"];
    let quantity = prop_oneof![4 => 1..=100u32, 1 => 1..=u32::MAX];
    let body = (id(), id(), id(), buyer_id, quantity, cash(), opt(buyer()));
    (id(), stamp(), body).prop_map(|(event_id, at, body)| {
        let (order_id, listing_id, seller_id, buyer_id, quantity, total, buyer) = body;
        let mut d = Draft::new(&event_id, "order.placed", &at);
        d.string("order_id", &order_id, Kind::Id, true);
        d.string("listing_id", &listing_id, Kind::Id, true);
        d.string("seller_id", &seller_id, Kind::Id, true);
        d.string("buyer_id", &buyer_id, Kind::PersonalId, true);
        d.number("quantity", quantity.into(), 1, u32::MAX.into(), true);
        d.money("total", &total, true);
        d.opt(
            "buyer",
            &buyer,
            Kind::Object,
            |d, (created, device, ip, address, phone)| {
                let mut sub = d.sub("buyer");
                sub.opt("account_created_at", created, Kind::Timestamp, |s, at| {
                    s.string("account_created_at", &at.text, Kind::Timestamp, false)
                });
                sub.opt_string("device_id", device, Kind::Personal);
                sub.opt_string("ip", ip, Kind::Personal);
                sub.opt_string("shipping_address", address, Kind::Personal);
                sub.opt_string("phone", phone, Kind::Personal);
                d.adopt("buyer", sub, Kind::Object, false);
            },
        );
        let pz = crate::ingest::tests::pz();
        let profile = buyer
            .flatten()
            .map(|(created, device, ip, address, phone)| BuyerProfile {
                account_created_at: created.flatten().map(|at| at.millis),
                device_id: pseudonym(PersonalField::DeviceId, &device),
                ip: pseudonym(PersonalField::Ip, &ip),
                shipping_address: pseudonym(PersonalField::ShippingAddress, &address),
                phone: pseudonym(PersonalField::Phone, &phone),
            });
        let body = EventBody::OrderPlaced(OrderPlaced {
            order_id,
            listing_id,
            seller_id,
            buyer_id: pz
                .pseudonymize_present(PersonalField::BuyerId, &buyer_id)
                .expect("generated buyer ids are not blank"),
            quantity,
            total: total.money,
            buyer: profile,
        });
        d.finish(event(event_id, &at, body))
    })
}

/// `order.paid`, with a payment fingerprint, presale flag and shipping promise.
fn order_paid() -> impl Strategy<Value = Sample> {
    let fingerprint = opt(prop_oneof!["card:[0-9X-]{4,19}", "\\PC{0,20}"]);
    (
        id(),
        stamp(),
        id(),
        fingerprint,
        opt(any::<bool>()),
        opt(stamp()),
    )
        .prop_map(|(event_id, at, order_id, fingerprint, presale, ship_by)| {
            let mut d = Draft::new(&event_id, "order.paid", &at);
            d.string("order_id", &order_id, Kind::Id, true);
            d.opt_string("payment_fingerprint", &fingerprint, Kind::Personal);
            d.opt("presale", &presale, Kind::Bool, |d, b| {
                d.put("presale", Raw::Value((*b).into()), Kind::Bool, false)
            });
            d.opt("promised_ship_by", &ship_by, Kind::Timestamp, |d, s| {
                d.string("promised_ship_by", &s.text, Kind::Timestamp, false)
            });
            let body = EventBody::OrderPaid(OrderPaid {
                order_id,
                payment_fingerprint: pseudonym(PersonalField::PaymentFingerprint, &fingerprint),
                presale: presale.flatten(),
                promised_ship_by: ship_by.flatten().map(|s| s.millis),
            });
            d.finish(event(event_id, &at, body))
        })
}

/// `order.shipped`, with carrier facts and a parcel weight up to `u32::MAX`.
fn order_shipped() -> impl Strategy<Value = Sample> {
    let short = || opt(text(MAX_STRING_BYTES));
    let weight = opt(prop_oneof![0..=5000u32, Just(u32::MAX)]);
    let body = (id(), short(), short(), weight, short(), short());
    (id(), stamp(), body).prop_map(|(event_id, at, body)| {
        let (order_id, carrier, tracking, weight, origin, destination) = body;
        let mut d = Draft::new(&event_id, "order.shipped", &at);
        d.string("order_id", &order_id, Kind::Id, true);
        d.opt_string("carrier", &carrier, Kind::Text(MAX_STRING_BYTES));
        d.opt_string("tracking_number", &tracking, Kind::Text(MAX_STRING_BYTES));
        d.opt(
            "parcel_weight_grams",
            &weight,
            Kind::Number(0, u32::MAX.into()),
            |d, w| {
                d.number(
                    "parcel_weight_grams",
                    (*w).into(),
                    0,
                    u32::MAX.into(),
                    false,
                )
            },
        );
        d.opt_string("origin_city", &origin, Kind::Text(MAX_STRING_BYTES));
        d.opt_string(
            "destination_city",
            &destination,
            Kind::Text(MAX_STRING_BYTES),
        );
        let body = EventBody::OrderShipped(OrderShipped {
            order_id,
            carrier: carrier.flatten(),
            tracking_number: masked(tracking.flatten()),
            parcel_weight_grams: weight.flatten(),
            origin_city: origin.flatten(),
            destination_city: destination.flatten(),
        });
        d.finish(event(event_id, &at, body))
    })
}

/// The events whose body is an order id and at most one optional text.
fn order_simple() -> impl Strategy<Value = Sample> {
    (
        id(),
        stamp(),
        id(),
        any::<bool>(),
        opt(text(MAX_STRING_BYTES)),
    )
        .prop_map(|(event_id, at, order_id, delivered, reason)| {
            let type_name = if delivered {
                "order.delivered"
            } else {
                "order.cancelled"
            };
            let mut d = Draft::new(&event_id, type_name, &at);
            d.string("order_id", &order_id, Kind::Id, true);
            let body = if delivered {
                EventBody::OrderDelivered(OrderDelivered { order_id })
            } else {
                d.opt_string("reason", &reason, Kind::Text(MAX_STRING_BYTES));
                EventBody::OrderCancelled(OrderCancelled {
                    order_id,
                    reason: masked(reason.flatten()),
                })
            };
            d.finish(event(event_id, &at, body))
        })
}

/// `refund.requested` or `refund.completed`, with an optional amount.
fn refund() -> impl Strategy<Value = Sample> {
    let body = (
        id(),
        id(),
        any::<bool>(),
        opt(text(MAX_STRING_BYTES)),
        opt(cash()),
    );
    (id(), stamp(), body, opt(any::<bool>())).prop_map(|(event_id, at, body, ret)| {
        let (order_id, refund_id, requested, reason, amount) = body;
        let type_name = if requested {
            "refund.requested"
        } else {
            "refund.completed"
        };
        let mut d = Draft::new(&event_id, type_name, &at);
        d.string("order_id", &order_id, Kind::Id, true);
        d.string("refund_id", &refund_id, Kind::Id, true);
        d.opt("amount", &amount, Kind::Money, |d, c| {
            d.money("amount", c, false)
        });
        let amount = amount.flatten().map(|c| c.money);
        let body = if requested {
            d.opt_string("reason", &reason, Kind::Text(MAX_STRING_BYTES));
            d.opt("return_required", &ret, Kind::Bool, |d, b| {
                d.put(
                    "return_required",
                    Raw::Value((*b).into()),
                    Kind::Bool,
                    false,
                )
            });
            EventBody::RefundRequested(RefundRequested {
                order_id,
                refund_id,
                reason: masked(reason.flatten()),
                amount,
                return_required: ret.flatten(),
            })
        } else {
            EventBody::RefundCompleted(RefundCompleted {
                order_id,
                refund_id,
                amount,
            })
        };
        d.finish(event(event_id, &at, body))
    })
}

/// `review.posted`, rating 1–5.
fn review() -> impl Strategy<Value = Sample> {
    (
        id(),
        stamp(),
        id(),
        id(),
        1..=5u8,
        opt(text(MAX_LONG_TEXT_BYTES)),
    )
        .prop_map(|(event_id, at, order_id, review_id, rating, text)| {
            let mut d = Draft::new(&event_id, "review.posted", &at);
            d.string("order_id", &order_id, Kind::Id, true);
            d.string("review_id", &review_id, Kind::Id, true);
            d.number("rating", rating.into(), 1, 5, true);
            d.opt_string("text", &text, Kind::Text(MAX_LONG_TEXT_BYTES));
            let body = EventBody::ReviewPosted(ReviewPosted {
                order_id,
                review_id,
                rating,
                text: masked(text.flatten()),
            });
            d.finish(event(event_id, &at, body))
        })
}

/// `complaint.opened`, `complaint.responded` or `complaint.resolved`.
fn complaint() -> impl Strategy<Value = Sample> {
    let body = (
        id(),
        0..3u8,
        id(),
        opt(id()),
        opt(text(MAX_LONG_TEXT_BYTES)),
    );
    (id(), stamp(), body).prop_map(|(event_id, at, body)| {
        let (complaint_id, which, seller_id, order_id, text) = body;
        let type_name = [
            "complaint.opened",
            "complaint.responded",
            "complaint.resolved",
        ];
        let mut d = Draft::new(&event_id, type_name[usize::from(which)], &at);
        d.string("complaint_id", &complaint_id, Kind::Id, true);
        let text_max = if which == 2 {
            MAX_STRING_BYTES
        } else {
            MAX_LONG_TEXT_BYTES
        };
        let text = text.map(|t| t.filter(|t| t.len() <= text_max));
        let body = match which {
            0 => {
                d.string("seller_id", &seller_id, Kind::Id, true);
                d.opt("order_id", &order_id, Kind::Id, |d, o| {
                    d.string("order_id", o, Kind::Id, false)
                });
                d.opt_string("text", &text, Kind::Text(text_max));
                EventBody::ComplaintOpened(ComplaintOpened {
                    complaint_id,
                    seller_id,
                    order_id: order_id.flatten(),
                    text: masked(text.flatten()),
                })
            }
            1 => {
                d.opt_string("text", &text, Kind::Text(text_max));
                EventBody::ComplaintResponded(ComplaintResponded {
                    complaint_id,
                    text: masked(text.flatten()),
                })
            }
            _ => {
                d.opt_string("outcome", &text, Kind::Text(text_max));
                EventBody::ComplaintResolved(ComplaintResolved {
                    complaint_id,
                    outcome: masked(text.flatten()),
                })
            }
        };
        d.finish(event(event_id, &at, body))
    })
}

/// A valid event of any of the twelve types, its top-level members in a random order.
pub(in crate::ingest::tests) fn any_event() -> impl Strategy<Value = Sample> {
    let kinds = Union::new([
        listing().boxed(),
        order_placed().boxed(),
        order_paid().boxed(),
        order_shipped().boxed(),
        order_simple().boxed(),
        refund().boxed(),
        review().boxed(),
        complaint().boxed(),
    ]);
    (kinds, any::<u64>()).prop_map(|(mut sample, seed)| {
        shuffle(sample.raw.members_mut(&[]), seed);
        sample
    })
}

/// A Fisher–Yates shuffle driven by a 64-bit LCG (no RNG crate in the host's tests).
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from((seed >> 33) % (i as u64 + 1)).expect("small");
        items.swap(i, j);
    }
}
