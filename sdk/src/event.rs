//! Helpers on the event types a plugin receives: [`EventType`], [`Event`], [`Envelope`].

use std::fmt;

use crate::prelude::{
    ComplaintOpened, ComplaintResolved, ComplaintResponded, Envelope, Event, EventType,
    ListingUpserted, OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderShipped,
    RefundCompleted, RefundRequested, ReviewPosted, Subject, Timestamp,
};

impl EventType {
    /// Every event type, in the WIT's order.
    pub const ALL: [EventType; 12] = [
        EventType::ListingUpserted,
        EventType::OrderPlaced,
        EventType::OrderPaid,
        EventType::OrderShipped,
        EventType::OrderDelivered,
        EventType::OrderCancelled,
        EventType::RefundRequested,
        EventType::RefundCompleted,
        EventType::ReviewPosted,
        EventType::ComplaintOpened,
        EventType::ComplaintResponded,
        EventType::ComplaintResolved,
    ];

    /// The contract's name of the type: `listing.upserted`, `order.paid`…
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ListingUpserted => "listing.upserted",
            EventType::OrderPlaced => "order.placed",
            EventType::OrderPaid => "order.paid",
            EventType::OrderShipped => "order.shipped",
            EventType::OrderDelivered => "order.delivered",
            EventType::OrderCancelled => "order.cancelled",
            EventType::RefundRequested => "refund.requested",
            EventType::RefundCompleted => "refund.completed",
            EventType::ReviewPosted => "review.posted",
            EventType::ComplaintOpened => "complaint.opened",
            EventType::ComplaintResponded => "complaint.responded",
            EventType::ComplaintResolved => "complaint.resolved",
        }
    }

    /// The event type with the contract's name `name` (`order.paid`), if there is one.
    pub fn from_contract_name(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for EventType {
    /// The contract's name: `listing.upserted`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    /// Which type of event this is.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::ListingUpserted(_) => EventType::ListingUpserted,
            Event::OrderPlaced(_) => EventType::OrderPlaced,
            Event::OrderPaid(_) => EventType::OrderPaid,
            Event::OrderShipped(_) => EventType::OrderShipped,
            Event::OrderDelivered(_) => EventType::OrderDelivered,
            Event::OrderCancelled(_) => EventType::OrderCancelled,
            Event::RefundRequested(_) => EventType::RefundRequested,
            Event::RefundCompleted(_) => EventType::RefundCompleted,
            Event::ReviewPosted(_) => EventType::ReviewPosted,
            Event::ComplaintOpened(_) => EventType::ComplaintOpened,
            Event::ComplaintResponded(_) => EventType::ComplaintResponded,
            Event::ComplaintResolved(_) => EventType::ComplaintResolved,
        }
    }

    /// The order the event is about: every order, refund and review event has one, a
    /// `complaint.opened` may have one.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            Event::OrderPlaced(e) => Some(&e.order_id),
            Event::OrderPaid(e) => Some(&e.order_id),
            Event::OrderShipped(e) => Some(&e.order_id),
            Event::OrderDelivered(e) => Some(&e.order_id),
            Event::OrderCancelled(e) => Some(&e.order_id),
            Event::RefundRequested(e) => Some(&e.order_id),
            Event::RefundCompleted(e) => Some(&e.order_id),
            Event::ReviewPosted(e) => Some(&e.order_id),
            Event::ComplaintOpened(e) => e.order_id.as_deref(),
            Event::ListingUpserted(_)
            | Event::ComplaintResponded(_)
            | Event::ComplaintResolved(_) => None,
        }
    }

    /// The seller named by the event (`listing.upserted`, `order.placed`,
    /// `complaint.opened`).
    pub fn seller_id(&self) -> Option<&str> {
        match self {
            Event::ListingUpserted(e) => Some(&e.seller_id),
            Event::OrderPlaced(e) => Some(&e.seller_id),
            Event::ComplaintOpened(e) => Some(&e.seller_id),
            _ => None,
        }
    }

    /// The listing named by the event (`listing.upserted`, `order.placed`).
    pub fn listing_id(&self) -> Option<&str> {
        match self {
            Event::ListingUpserted(e) => Some(&e.listing_id),
            Event::OrderPlaced(e) => Some(&e.listing_id),
            _ => None,
        }
    }

    /// The complaint the event is about (the three complaint events).
    pub fn complaint_id(&self) -> Option<&str> {
        match self {
            Event::ComplaintOpened(e) => Some(&e.complaint_id),
            Event::ComplaintResponded(e) => Some(&e.complaint_id),
            Event::ComplaintResolved(e) => Some(&e.complaint_id),
            _ => None,
        }
    }

    /// The subject the event is primarily about: the listing of a listing event, the order
    /// of an order, refund or review event, the complaint of a complaint event.
    pub fn subject(&self) -> Subject {
        match self {
            Event::ListingUpserted(e) => Subject::listing(&e.listing_id),
            Event::ComplaintOpened(e) => Subject::complaint(&e.complaint_id),
            Event::ComplaintResponded(e) => Subject::complaint(&e.complaint_id),
            Event::ComplaintResolved(e) => Subject::complaint(&e.complaint_id),
            Event::OrderPlaced(e) => Subject::order(&e.order_id),
            Event::OrderPaid(e) => Subject::order(&e.order_id),
            Event::OrderShipped(e) => Subject::order(&e.order_id),
            Event::OrderDelivered(e) => Subject::order(&e.order_id),
            Event::OrderCancelled(e) => Subject::order(&e.order_id),
            Event::RefundRequested(e) => Subject::order(&e.order_id),
            Event::RefundCompleted(e) => Subject::order(&e.order_id),
            Event::ReviewPosted(e) => Subject::order(&e.order_id),
        }
    }
}

impl Envelope {
    /// An envelope around `event`.
    pub fn new(
        event_id: impl Into<String>,
        occurred_at: Timestamp,
        event: impl Into<Event>,
    ) -> Self {
        Envelope {
            event_id: event_id.into(),
            occurred_at,
            event: event.into(),
        }
    }

    /// See [`Event::event_type`].
    pub fn event_type(&self) -> EventType {
        self.event.event_type()
    }

    /// See [`Event::order_id`].
    pub fn order_id(&self) -> Option<&str> {
        self.event.order_id()
    }

    /// See [`Event::seller_id`].
    pub fn seller_id(&self) -> Option<&str> {
        self.event.seller_id()
    }

    /// See [`Event::listing_id`].
    pub fn listing_id(&self) -> Option<&str> {
        self.event.listing_id()
    }

    /// See [`Event::complaint_id`].
    pub fn complaint_id(&self) -> Option<&str> {
        self.event.complaint_id()
    }

    /// See [`Event::subject`].
    pub fn subject(&self) -> Subject {
        self.event.subject()
    }
}

macro_rules! event_from_record {
    ($($record:ident),* $(,)?) => {$(
        impl From<$record> for Event {
            fn from(record: $record) -> Self {
                Event::$record(record)
            }
        }
    )*};
}

event_from_record!(
    ListingUpserted,
    OrderPlaced,
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    RefundRequested,
    RefundCompleted,
    ReviewPosted,
    ComplaintOpened,
    ComplaintResponded,
    ComplaintResolved,
);
