//! The plugin's settings as a compliance team writes them in the host configuration.
//!
//! Every value is optional: what is left out keeps its built-in default (see
//! [`Config`](crate::config::Config), which resolves and checks these). A table such as
//! `shared.device` may set just one key; the others keep the defaults *of that signal*.
//!
//! ```toml
//! [plugins.brush.settings]
//! window_hours = 72
//!
//! [plugins.brush.settings.shared.device]
//! min_buyers = 4
//!
//! [plugins.brush.settings.empty_parcel]
//! points = 4
//! ```

use serde::Deserialize;

/// The settings table.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How far back shared identifiers, repeat orders and rings look, in hours (168).
    pub window_hours: Option<u32>,
    /// How long an order's facts are kept for its later events (shipment, review), in
    /// days (15).
    pub order_days: Option<u32>,
    /// Points at which an order is flagged for review (3).
    pub review_points: Option<u32>,
    /// Points at which an order is blocked (6).
    pub block_points: Option<u32>,
    /// Identifiers shared by several buyers of one seller.
    pub shared: SharedSettings,
    /// Accounts created shortly before the order.
    pub new_account: NewAccountSettings,
    /// One buyer ordering again and again from one seller within minutes.
    pub repeat_burst: RepeatBurstSettings,
    /// Parcels far lighter than the goods (空包).
    pub empty_parcel: EmptyParcelSettings,
    /// Deliveries faster than a parcel can travel.
    pub fast_delivery: FastDeliverySettings,
    /// Fast 5-star reviews with near-duplicate text.
    pub farmed_review: FarmedReviewSettings,
    /// Groups of buyers linked by shared identifiers.
    pub ring: RingSettings,
    /// The seller-level concentrate rate (orders ÷ distinct buyers within an hour).
    pub concentrate_rate: ConcentrateRateSettings,
}

/// One table per identifier kind.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedSettings {
    /// `buyer.device_id`.
    pub device: SharedIdentifier,
    /// `buyer.phone`.
    pub phone: SharedIdentifier,
    /// `payment_fingerprint` (from `order.paid`).
    pub payment: SharedIdentifier,
    /// `buyer.shipping_address`.
    pub address: SharedIdentifier,
    /// `buyer.ip`.
    pub ip: SharedIdentifier,
}

/// One identifier kind.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedIdentifier {
    /// Whether the signal counts at all.
    pub enabled: Option<bool>,
    /// Distinct buyers of one seller sharing one value, within the window, at which the
    /// signal fires.
    pub min_buyers: Option<u32>,
    /// Points the signal adds to an order.
    pub points: Option<u32>,
    /// Whether two buyers sharing a value are linked into one group for ring detection.
    pub link: Option<bool>,
}

/// See [`Settings::new_account`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewAccountSettings {
    /// Whether the signal counts.
    pub enabled: Option<bool>,
    /// An account younger than this many days at the order is new (7).
    pub max_age_days: Option<u32>,
    /// Points (1).
    pub points: Option<u32>,
}

/// See [`Settings::repeat_burst`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatBurstSettings {
    /// Whether the signal counts.
    pub enabled: Option<bool>,
    /// Orders of one buyer at one seller within the window that make a burst (3).
    pub min_orders: Option<u32>,
    /// The window, in minutes (60).
    pub window_minutes: Option<u32>,
    /// Points (3).
    pub points: Option<u32>,
}

/// See [`Settings::empty_parcel`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmptyParcelSettings {
    /// Whether the signal counts.
    pub enabled: Option<bool>,
    /// A parcel at most this share of the listing's typical weight is empty (0.25).
    pub max_ratio: Option<f64>,
    /// A parcel at most this many grams is empty when the listing's weight is unknown
    /// or far above it (30).
    pub floor_grams: Option<u32>,
    /// Points (3).
    pub points: Option<u32>,
}

/// See [`Settings::fast_delivery`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FastDeliverySettings {
    /// Whether the signal counts.
    pub enabled: Option<bool>,
    /// Delivered within this many hours of shipping between two different cities (12).
    pub max_hours: Option<u32>,
    /// Points (1).
    pub points: Option<u32>,
}

/// See [`Settings::farmed_review`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FarmedReviewSettings {
    /// Whether reviews are checked.
    pub enabled: Option<bool>,
    /// The lowest rating that counts (5).
    pub min_rating: Option<u8>,
    /// Posted within this many hours of delivery (24).
    pub max_hours: Option<u32>,
    /// Estimated share of common text fragments at which two reviews are near
    /// duplicates, 0–1 (0.5).
    pub min_similarity: Option<f64>,
    /// Shorter texts (in characters, spaces and punctuation left out) are never compared
    /// (10).
    pub min_chars: Option<u32>,
    /// Points the finding adds to the order's brushing score (2).
    pub points: Option<u32>,
    /// Severity of the `review_manipulation` finding (`"medium"`).
    pub severity: Option<String>,
}

/// See [`Settings::ring`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RingSettings {
    /// Whether rings are looked for.
    pub enabled: Option<bool>,
    /// Buyers in a group for it to be a ring (5).
    pub min_buyers: Option<u32>,
    /// Suspicious orders in the group (5).
    pub min_suspicious_orders: Option<u32>,
    /// Share of the group's orders that are suspicious, 0–1 (0.5).
    pub min_suspicious_share: Option<f64>,
    /// Severity of the findings on a ring's orders and its seller (`"high"`).
    pub severity: Option<String>,
}

/// See [`Settings::concentrate_rate`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcentrateRateSettings {
    /// Whether the seller-level rate is checked.
    pub enabled: Option<bool>,
    /// Orders ÷ distinct buyers within an hour at which the seller is flagged (3.0).
    pub min_rate: Option<f64>,
    /// Orders in the hour below which the rate means nothing (10).
    pub min_orders: Option<u32>,
    /// Severity of the seller finding (`"medium"`).
    pub severity: Option<String>,
}
