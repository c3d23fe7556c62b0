//! [`parse_event`]: one raw contract event in, one pseudonymised [`Event`] out.
//!
//! Two steps: the bytes become an order-preserving JSON tree ([`Json`]); then the
//! builder for the event's `type` reads the members it knows through [`Fields`], which
//! applies each contract rule and names the failing path. Unknown members are ignored.
//! Personal values are pseudonymised as they are read, so the raw values never leave
//! this function (the tree holding them is dropped on return).

use super::error::EventError;
use super::fields::Fields;
use super::json::Json;
use super::limits::{
    MAX_EVENT_BYTES, MAX_LONG_TEXT_BYTES, MAX_STRING_BYTES, MAX_TITLE_BYTES, MIN_QUANTITY,
    RATING_RANGE,
};
use crate::model::event::{
    BuyerProfile, ComplaintOpened, ComplaintResolved, ComplaintResponded, Event, EventBody,
    EventType, ListingUpserted, OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced,
    OrderShipped, RefundCompleted, RefundRequested, ReviewPosted,
};
use crate::privacy::{PersonalField, Pseudonymizer};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parse one raw contract event (a JSON object) into a pseudonymised [`Event`].
///
/// A leading UTF-8 byte order mark is tolerated. Every personal field is replaced by its
/// pseudonym under `pseudonymizer`; a blank optional personal value reads as absent.
///
/// ```
/// use probity::ingest::parse_event;
/// use probity::privacy::Pseudonymizer;
/// let pz = Pseudonymizer::new(b"0123456789abcdef").unwrap();
/// let raw = br#"{"event_id":"e1","type":"order.delivered","occurred_at":"2026-11-01T18:00:00+08:00","order_id":"O-1"}"#;
/// let event = parse_event(raw, &pz).unwrap();
/// assert_eq!(event.occurred_at, 1_793_527_200_000);
///
/// let err = parse_event(br#"{"event_id":"e1","type":"order.delivered"}"#, &pz).unwrap_err();
/// assert_eq!((err.kind(), err.field()), ("missing_field", Some("occurred_at")));
/// ```
pub fn parse_event(bytes: &[u8], pseudonymizer: &Pseudonymizer) -> Result<Event, EventError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            size: bytes.len(),
            max: MAX_EVENT_BYTES,
        });
    }
    let (bytes, bom) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, UTF8_BOM.len()),
        None => (bytes, 0),
    };
    let text = std::str::from_utf8(bytes).map_err(|err| EventError::InvalidUtf8 {
        offset: bom + err.valid_up_to(),
    })?;
    let root: Json = serde_json::from_str(text).map_err(|err| {
        let mut error = EventError::from_json(&err);
        // serde_json counts columns in bytes; put the stripped BOM back on line 1.
        if let EventError::MalformedJson {
            line: 1, column, ..
        } = &mut error
        {
            *column += bom;
        }
        error
    })?;
    let members = match &root {
        Json::Object(members) => members,
        other => {
            return Err(EventError::NotAnObject {
                found: other.describe(),
            });
        }
    };
    let fields = Fields::new(members, String::new());
    let event_id = fields.id("event_id")?;
    let type_name = fields.type_name()?;
    let event_type: EventType = type_name
        .parse()
        .map_err(|_| EventError::unknown_type(type_name))?;
    let occurred_at = fields.timestamp("occurred_at")?;
    let body = body(event_type, &fields, pseudonymizer)?;
    Ok(Event {
        event_id,
        occurred_at,
        body,
    })
}

/// The body of an event of type `event_type`: one arm per row of the contract table.
fn body(event_type: EventType, f: &Fields, pz: &Pseudonymizer) -> Result<EventBody, EventError> {
    Ok(match event_type {
        EventType::ListingUpserted => EventBody::ListingUpserted(ListingUpserted {
            listing_id: f.id("listing_id")?,
            seller_id: f.id("seller_id")?,
            title: f.text("title", MAX_TITLE_BYTES)?,
            price: f.money("price")?,
            description: f.opt_text("description", MAX_LONG_TEXT_BYTES)?,
            category: f.opt_text("category", MAX_STRING_BYTES)?,
            reference_price: f.opt_money("reference_price")?,
            attributes: f.attributes("attributes")?,
            language: f.opt_text("language", MAX_STRING_BYTES)?,
        }),
        EventType::OrderPlaced => EventBody::OrderPlaced(OrderPlaced {
            order_id: f.id("order_id")?,
            listing_id: f.id("listing_id")?,
            seller_id: f.id("seller_id")?,
            buyer_id: f.personal_id("buyer_id", PersonalField::BuyerId, pz)?,
            quantity: f.count("quantity", MIN_QUANTITY)?,
            total: f.money("total")?,
            buyer: f
                .opt_object("buyer")?
                .map(|buyer| buyer_profile(&buyer, pz))
                .transpose()?,
        }),
        EventType::OrderPaid => EventBody::OrderPaid(OrderPaid {
            order_id: f.id("order_id")?,
            payment_fingerprint: f.opt_personal(
                "payment_fingerprint",
                PersonalField::PaymentFingerprint,
                pz,
            )?,
            presale: f.opt_bool("presale")?,
            promised_ship_by: f.opt_timestamp("promised_ship_by")?,
        }),
        EventType::OrderShipped => EventBody::OrderShipped(OrderShipped {
            order_id: f.id("order_id")?,
            carrier: f.opt_text("carrier", MAX_STRING_BYTES)?,
            tracking_number: f.opt_free_text("tracking_number", MAX_STRING_BYTES)?,
            parcel_weight_grams: f.opt_count("parcel_weight_grams")?,
            origin_city: f.opt_text("origin_city", MAX_STRING_BYTES)?,
            destination_city: f.opt_text("destination_city", MAX_STRING_BYTES)?,
        }),
        EventType::OrderDelivered => EventBody::OrderDelivered(OrderDelivered {
            order_id: f.id("order_id")?,
        }),
        EventType::OrderCancelled => EventBody::OrderCancelled(OrderCancelled {
            order_id: f.id("order_id")?,
            reason: f.opt_free_text("reason", MAX_STRING_BYTES)?,
        }),
        EventType::RefundRequested => EventBody::RefundRequested(RefundRequested {
            order_id: f.id("order_id")?,
            refund_id: f.id("refund_id")?,
            reason: f.opt_free_text("reason", MAX_STRING_BYTES)?,
            amount: f.opt_money("amount")?,
            return_required: f.opt_bool("return_required")?,
        }),
        EventType::RefundCompleted => EventBody::RefundCompleted(RefundCompleted {
            order_id: f.id("order_id")?,
            refund_id: f.id("refund_id")?,
            amount: f.opt_money("amount")?,
        }),
        EventType::ReviewPosted => EventBody::ReviewPosted(ReviewPosted {
            order_id: f.id("order_id")?,
            review_id: f.id("review_id")?,
            rating: f.small_number("rating", RATING_RANGE)?,
            text: f.opt_free_text("text", MAX_LONG_TEXT_BYTES)?,
        }),
        EventType::ComplaintOpened => EventBody::ComplaintOpened(ComplaintOpened {
            complaint_id: f.id("complaint_id")?,
            seller_id: f.id("seller_id")?,
            order_id: f.opt_id("order_id")?,
            text: f.opt_free_text("text", MAX_LONG_TEXT_BYTES)?,
        }),
        EventType::ComplaintResponded => EventBody::ComplaintResponded(ComplaintResponded {
            complaint_id: f.id("complaint_id")?,
            text: f.opt_free_text("text", MAX_LONG_TEXT_BYTES)?,
        }),
        EventType::ComplaintResolved => EventBody::ComplaintResolved(ComplaintResolved {
            complaint_id: f.id("complaint_id")?,
            outcome: f.opt_free_text("outcome", MAX_STRING_BYTES)?,
        }),
    })
}

/// The `buyer` object of `order.placed`.
fn buyer_profile(b: &Fields, pz: &Pseudonymizer) -> Result<BuyerProfile, EventError> {
    Ok(BuyerProfile {
        account_created_at: b.opt_timestamp("account_created_at")?,
        device_id: b.opt_personal("device_id", PersonalField::DeviceId, pz)?,
        ip: b.opt_personal("ip", PersonalField::Ip, pz)?,
        shipping_address: b.opt_personal("shipping_address", PersonalField::ShippingAddress, pz)?,
        phone: b.opt_personal("phone", PersonalField::Phone, pz)?,
    })
}
