//! The host's events: what [`crate::ingest`] produces, the event log stores and
//! `runtime` hands to plugins.
//!
//! An [`Event`] is always **pseudonymised**: every personal field (`buyer_id`,
//! `buyer.device_id`, `buyer.ip`, `buyer.shipping_address`, `buyer.phone`,
//! `payment_fingerprint`) is a [`Pseudonym`], so holding, logging, storing or debugging an
//! `Event` never exposes raw personal data. Each body struct mirrors its WIT record field
//! for field (snake_case for kebab-case), so conversion to the plugin ABI is mechanical.
//!
//! The serde form is the *storage* form: the contract's shape with pseudonyms in place of
//! personal values, timestamps as RFC 3339 UTC text with milliseconds and money in its
//! contract form, e.g.
//! `{"event_id":"e1","occurred_at":"2026-11-01T10:00:00.000Z","type":"order.delivered","order_id":"O-1"}`.
//! It round-trips exactly, and reading it never pseudonymises anything again (the
//! pseudonyms are read back as they are). Raw contract JSON goes through
//! [`crate::ingest::parse_event`] instead.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::money::Money;
use super::subject::{Subject, SubjectType};
pub use super::time::Timestamp;

/// A keyed pseudonym of a personal value (hex text of a keyed hash); see
/// [`crate::privacy::Pseudonymizer`]. Compare for equality only.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pseudonym(String);

impl Pseudonym {
    /// Wrap pseudonym text that was computed earlier (read from storage or a test
    /// fixture). Raw personal values must go through the `Pseudonymizer` instead.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Pseudonym(text.into())
    }

    /// The pseudonym text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pseudonym text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares [`EventType`] and its contract names in one place.
macro_rules! event_types {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// The kinds of event the contract defines; mirrors the WIT `event-type`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            /// Every event type, in contract order.
            pub const ALL: [EventType; 12] = [$(EventType::$variant),*];

            /// The contract's name, e.g. `listing.upserted`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }
        }
    };
}

event_types! {
    ListingUpserted => "listing.upserted", "`listing.upserted`: a listing was created or changed.";
    OrderPlaced => "order.placed", "`order.placed`: a buyer placed an order.";
    OrderPaid => "order.paid", "`order.paid`: an order was paid.";
    OrderShipped => "order.shipped", "`order.shipped`: the parcel went to a carrier.";
    OrderDelivered => "order.delivered", "`order.delivered`: the parcel was delivered.";
    OrderCancelled => "order.cancelled", "`order.cancelled`: the order was cancelled.";
    RefundRequested => "refund.requested", "`refund.requested`: the buyer asked for a refund.";
    RefundCompleted => "refund.completed", "`refund.completed`: the refund was paid out.";
    ReviewPosted => "review.posted", "`review.posted`: the buyer reviewed an order.";
    ComplaintOpened => "complaint.opened", "`complaint.opened`: someone complained about a seller.";
    ComplaintResponded => "complaint.responded", "`complaint.responded`: the seller answered.";
    ComplaintResolved => "complaint.resolved", "`complaint.resolved`: the platform closed it.";
}

impl EventType {
    /// The accepted names, comma-separated, for error messages.
    pub fn accepted_names() -> String {
        EventType::ALL.map(EventType::as_str).join(", ")
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `type` that is none of the contract's event types.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type \"{found}\"; accepted types: {}",
    EventType::accepted_names()
)]
pub struct UnknownEventType {
    /// The name given (as sent).
    pub found: String,
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownEventType {
                found: name.to_owned(),
            })
    }
}

/// One pseudonymised marketplace event; mirrors the WIT `envelope`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The sender's unique id of this event (1–128 characters).
    pub event_id: String,
    /// When it happened in the marketplace (event time).
    #[serde(with = "super::time::rfc3339")]
    pub occurred_at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened: one case per event type; mirrors the WIT `event` variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventBody {
    /// `listing.upserted`.
    #[serde(rename = "listing.upserted")]
    ListingUpserted(ListingUpserted),
    /// `order.placed`.
    #[serde(rename = "order.placed")]
    OrderPlaced(OrderPlaced),
    /// `order.paid`.
    #[serde(rename = "order.paid")]
    OrderPaid(OrderPaid),
    /// `order.shipped`.
    #[serde(rename = "order.shipped")]
    OrderShipped(OrderShipped),
    /// `order.delivered`.
    #[serde(rename = "order.delivered")]
    OrderDelivered(OrderDelivered),
    /// `order.cancelled`.
    #[serde(rename = "order.cancelled")]
    OrderCancelled(OrderCancelled),
    /// `refund.requested`.
    #[serde(rename = "refund.requested")]
    RefundRequested(RefundRequested),
    /// `refund.completed`.
    #[serde(rename = "refund.completed")]
    RefundCompleted(RefundCompleted),
    /// `review.posted`.
    #[serde(rename = "review.posted")]
    ReviewPosted(ReviewPosted),
    /// `complaint.opened`.
    #[serde(rename = "complaint.opened")]
    ComplaintOpened(ComplaintOpened),
    /// `complaint.responded`.
    #[serde(rename = "complaint.responded")]
    ComplaintResponded(ComplaintResponded),
    /// `complaint.resolved`.
    #[serde(rename = "complaint.resolved")]
    ComplaintResolved(ComplaintResolved),
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match &self.body {
            EventBody::ListingUpserted(_) => EventType::ListingUpserted,
            EventBody::OrderPlaced(_) => EventType::OrderPlaced,
            EventBody::OrderPaid(_) => EventType::OrderPaid,
            EventBody::OrderShipped(_) => EventType::OrderShipped,
            EventBody::OrderDelivered(_) => EventType::OrderDelivered,
            EventBody::OrderCancelled(_) => EventType::OrderCancelled,
            EventBody::RefundRequested(_) => EventType::RefundRequested,
            EventBody::RefundCompleted(_) => EventType::RefundCompleted,
            EventBody::ReviewPosted(_) => EventType::ReviewPosted,
            EventBody::ComplaintOpened(_) => EventType::ComplaintOpened,
            EventBody::ComplaintResponded(_) => EventType::ComplaintResponded,
            EventBody::ComplaintResolved(_) => EventType::ComplaintResolved,
        }
    }

    /// The seller the event names, if it names one (`listing.upserted`, `order.placed`,
    /// `complaint.opened`).
    pub fn seller_id(&self) -> Option<&str> {
        match &self.body {
            EventBody::ListingUpserted(e) => Some(&e.seller_id),
            EventBody::OrderPlaced(e) => Some(&e.seller_id),
            EventBody::ComplaintOpened(e) => Some(&e.seller_id),
            _ => None,
        }
    }

    /// Every subject the event names (its listing, order, seller and complaint ids),
    /// sorted by kind then id, without duplicates. Refund and review ids are not
    /// subjects: a refund or review is judged through its order.
    pub fn subjects(&self) -> Vec<Subject> {
        use SubjectType::{Complaint, Listing, Order, Seller};
        let named: Vec<(SubjectType, &str)> = match &self.body {
            EventBody::ListingUpserted(e) => vec![(Listing, &e.listing_id), (Seller, &e.seller_id)],
            EventBody::OrderPlaced(e) => vec![
                (Listing, &e.listing_id),
                (Order, &e.order_id),
                (Seller, &e.seller_id),
            ],
            EventBody::OrderPaid(OrderPaid { order_id, .. })
            | EventBody::OrderShipped(OrderShipped { order_id, .. })
            | EventBody::OrderDelivered(OrderDelivered { order_id })
            | EventBody::OrderCancelled(OrderCancelled { order_id, .. })
            | EventBody::RefundRequested(RefundRequested { order_id, .. })
            | EventBody::RefundCompleted(RefundCompleted { order_id, .. })
            | EventBody::ReviewPosted(ReviewPosted { order_id, .. }) => vec![(Order, order_id)],
            EventBody::ComplaintOpened(e) => {
                let mut named = vec![(Complaint, e.complaint_id.as_str()), (Seller, &e.seller_id)];
                named.extend(e.order_id.as_deref().map(|id| (Order, id)));
                named
            }
            EventBody::ComplaintResponded(ComplaintResponded { complaint_id, .. })
            | EventBody::ComplaintResolved(ComplaintResolved { complaint_id, .. }) => {
                vec![(Complaint, complaint_id)]
            }
        };
        let mut subjects: Vec<Subject> = named
            .into_iter()
            .map(|(kind, id)| Subject::new(kind, id))
            .collect();
        subjects.sort();
        subjects.dedup();
        subjects
    }
}

/// `listing.upserted`: the listing as buyers see it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingUpserted {
    /// The listing's id.
    pub listing_id: String,
    /// The seller offering it.
    pub seller_id: String,
    /// The title shown to buyers.
    pub title: String,
    /// The price a buyer pays now.
    pub price: Money,
    /// The long description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The marketplace's category path, e.g. `cosmetics/skincare`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The struck-through "original" price shown next to `price`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_price: Option<Money>,
    /// Further key/value attributes, in the order sent.
    #[serde(default, with = "ordered_map", skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, String)>,
    /// The BCP 47 language tag of the texts, e.g. `zh-CN`, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// What the marketplace knows about the buyer of an order; every identifier is a
/// pseudonym.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerProfile {
    /// When the buyer's account was created.
    #[serde(
        default,
        with = "super::time::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_created_at: Option<Timestamp>,
    /// The device the order was placed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Pseudonym>,
    /// The IP address the order was placed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Pseudonym>,
    /// The shipping address (normalised before hashing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Pseudonym>,
    /// The buyer's phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Pseudonym>,
}

/// `order.placed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// The order's id.
    pub order_id: String,
    /// The listing bought.
    pub listing_id: String,
    /// The seller of that listing.
    pub seller_id: String,
    /// The buyer's account.
    pub buyer_id: Pseudonym,
    /// How many items (at least 1).
    pub quantity: u32,
    /// What the buyer pays in total.
    pub total: Money,
    /// Extra facts about the buyer, when the marketplace sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<BuyerProfile>,
}

/// `order.paid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    /// The order's id.
    pub order_id: String,
    /// The payment instrument used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_fingerprint: Option<Pseudonym>,
    /// Whether this is a presale order (ships later by promise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presale: Option<bool>,
    /// The ship-by time promised to the buyer.
    #[serde(
        default,
        with = "super::time::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub promised_ship_by: Option<Timestamp>,
}

/// `order.shipped`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShipped {
    /// The order's id.
    pub order_id: String,
    /// The carrier's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// The parcel's weight in grams as recorded by the carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel_weight_grams: Option<u32>,
    /// The city the parcel left from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_city: Option<String>,
    /// The city the parcel goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_city: Option<String>,
}

/// `order.delivered`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDelivered {
    /// The order's id.
    pub order_id: String,
}

/// `order.cancelled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order's id.
    pub order_id: String,
    /// Why, in the marketplace's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `refund.requested`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequested {
    /// The order refunded.
    pub order_id: String,
    /// The refund's id.
    pub refund_id: String,
    /// Why, in the buyer's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How much is asked back; absent means the whole order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Whether the goods must be sent back first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_required: Option<bool>,
}

/// `refund.completed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCompleted {
    /// The order refunded.
    pub order_id: String,
    /// The refund's id.
    pub refund_id: String,
    /// How much was paid back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// `review.posted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPosted {
    /// The order reviewed.
    pub order_id: String,
    /// The review's id.
    pub review_id: String,
    /// Stars, 1–5.
    pub rating: u8,
    /// The review text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `complaint.opened`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintOpened {
    /// The complaint's id.
    pub complaint_id: String,
    /// The seller complained about.
    pub seller_id: String,
    /// The order concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The complaint text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `complaint.responded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintResponded {
    /// The complaint's id.
    pub complaint_id: String,
    /// The seller's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `complaint.resolved`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintResolved {
    /// The complaint's id.
    pub complaint_id: String,
    /// How it ended, in the platform's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// `Vec<(String, String)>` as a JSON object whose entries keep their order.
mod ordered_map {
    use std::fmt;

    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    /// Write the entries as a JSON object, in order.
    pub fn serialize<S: Serializer>(
        entries: &[(String, String)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }

    /// Read a JSON object's entries, in order.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, String)>, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Vec<(String, String)>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string to string")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(entries)
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
    }
}
