//! [`Settings`] resolved against the built-in defaults and checked, once per instance.
//!
//! A value out of range is refused with its path (`shared.device.min_buyers`) and what
//! would be right, so the host refuses the configuration and keeps the running one.

use probity_sdk::prelude::{SettingsError, Severity};

use crate::identifiers::{CAP_BUYERS, Kind};
use crate::settings::{Settings, SharedIdentifier};

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The resolved settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The look-back window of identifiers, repeat orders and rings.
    pub window_ms: i64,
    /// How long an order's facts are kept.
    pub order_ttl_ms: i64,
    /// Points at which an order is flagged for review.
    pub review_points: u32,
    /// Points at which an order is blocked.
    pub block_points: u32,
    /// Per identifier kind, indexed by [`Kind::index`].
    pub shared: [SharedRule; 5],
    /// New accounts.
    pub new_account: NewAccount,
    /// Repeat bursts.
    pub repeat_burst: RepeatBurst,
    /// Empty parcels.
    pub empty_parcel: EmptyParcel,
    /// Fast deliveries.
    pub fast_delivery: FastDelivery,
    /// Farmed reviews.
    pub farmed_review: FarmedReview,
    /// Rings.
    pub ring: Ring,
    /// The concentrate rate.
    pub concentrate_rate: ConcentrateRate,
}

/// One identifier kind's rule.
#[derive(Clone, Copy, Debug)]
pub struct SharedRule {
    /// Whether it scores.
    pub enabled: bool,
    /// Distinct buyers at which it fires.
    pub min_buyers: u32,
    /// Points.
    pub points: u32,
    /// Whether it links buyers into groups.
    pub link: bool,
}

/// Resolved [`crate::settings::NewAccountSettings`].
#[derive(Clone, Copy, Debug)]
pub struct NewAccount {
    /// Whether it scores.
    pub enabled: bool,
    /// Youngest age that is not new.
    pub max_age_ms: i64,
    /// Points.
    pub points: u32,
}

/// Resolved [`crate::settings::RepeatBurstSettings`].
#[derive(Clone, Copy, Debug)]
pub struct RepeatBurst {
    /// Whether it scores.
    pub enabled: bool,
    /// Orders in the window that make a burst.
    pub min_orders: u32,
    /// The window.
    pub window_ms: i64,
    /// Points.
    pub points: u32,
}

/// Resolved [`crate::settings::EmptyParcelSettings`].
#[derive(Clone, Copy, Debug)]
pub struct EmptyParcel {
    /// Whether it scores.
    pub enabled: bool,
    /// Share of the typical weight.
    pub max_ratio: f64,
    /// Absolute floor in grams.
    pub floor_grams: u32,
    /// Points.
    pub points: u32,
}

/// Resolved [`crate::settings::FastDeliverySettings`].
#[derive(Clone, Copy, Debug)]
pub struct FastDelivery {
    /// Whether it scores.
    pub enabled: bool,
    /// Fastest plausible delivery between two cities.
    pub max_ms: i64,
    /// Points.
    pub points: u32,
}

/// Resolved [`crate::settings::FarmedReviewSettings`].
#[derive(Clone, Copy, Debug)]
pub struct FarmedReview {
    /// Whether reviews are checked.
    pub enabled: bool,
    /// Lowest rating that counts.
    pub min_rating: u8,
    /// Longest time after delivery.
    pub max_ms: i64,
    /// Similarity of near duplicates.
    pub min_similarity: f64,
    /// Shortest text compared.
    pub min_chars: u32,
    /// Points added to the order.
    pub points: u32,
    /// Severity of the finding.
    pub severity: Severity,
}

/// Resolved [`crate::settings::RingSettings`].
#[derive(Clone, Copy, Debug)]
pub struct Ring {
    /// Whether rings are looked for.
    pub enabled: bool,
    /// Buyers in a ring.
    pub min_buyers: u32,
    /// Suspicious orders in a ring.
    pub min_suspicious_orders: u32,
    /// Share of suspicious orders.
    pub min_suspicious_share: f64,
    /// Severity of ring findings.
    pub severity: Severity,
}

/// Resolved [`crate::settings::ConcentrateRateSettings`].
#[derive(Clone, Copy, Debug)]
pub struct ConcentrateRate {
    /// Whether it is checked.
    pub enabled: bool,
    /// Orders per buyer in an hour.
    pub min_rate: f64,
    /// Orders in the hour.
    pub min_orders: u32,
    /// Severity of the seller finding.
    pub severity: Severity,
}

/// Built-in defaults per identifier kind: (min buyers, points, link).
///
/// A family shares a tablet and an address (2–4 people), an office or a mobile carrier
/// shares an IP (dozens to thousands), so the address scores little and the IP nothing:
/// it is shown as context only and never links buyers.
fn shared_default(kind: Kind) -> (u32, u32, bool) {
    match kind {
        Kind::Device => (5, 3, true),
        // Families give one contact phone for 3–4 accounts (issue 20): five buyers is
        // beyond a family.
        Kind::Phone => (5, 3, true),
        Kind::Payment => (5, 3, true),
        Kind::Address => (5, 1, true),
        Kind::Ip => (10, 0, false),
    }
}

fn err(field: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::new(field, message)
}

fn within(
    field: &str,
    value: Option<u32>,
    default: u32,
    lo: u32,
    hi: u32,
) -> Result<u32, SettingsError> {
    let value = value.unwrap_or(default);
    if value < lo || value > hi {
        return Err(err(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ));
    }
    Ok(value)
}

fn share(field: &str, value: Option<f64>, default: f64) -> Result<f64, SettingsError> {
    let value = value.unwrap_or(default);
    if !(value > 0.0 && value <= 1.0) {
        return Err(err(
            field,
            format!("must be above 0 and at most 1, got {value}"),
        ));
    }
    Ok(value)
}

fn points(field: &str, value: Option<u32>, default: u32) -> Result<u32, SettingsError> {
    within(field, value, default, 0, 100)
}

/// The severity named `value`, or `default` when unset.
fn severity(
    field: &str,
    value: Option<&str>,
    default: Severity,
) -> Result<Severity, SettingsError> {
    value.map_or(Ok(default), |name| Severity::from_setting(field, name))
}

impl Config {
    /// How long a buyer's node and a group's member list live after their last touch:
    /// as long as the orders they point at.
    pub fn keep_ms(&self) -> i64 {
        self.window_ms.max(self.order_ttl_ms)
    }
}

impl Settings {
    /// Resolve against the defaults, refusing the first value out of range.
    pub fn resolve(&self) -> Result<Config, SettingsError> {
        let window_hours = within("window_hours", self.window_hours, 168, 1, 2160)?;
        let order_days = within("order_days", self.order_days, 15, 1, 90)?;
        let review_points = within("review_points", self.review_points, 3, 1, 100)?;
        let block_points = within("block_points", self.block_points, 6, 1, 1000)?;
        if block_points <= review_points {
            return Err(err(
                "block_points",
                format!("must be above review_points ({review_points}), got {block_points}"),
            ));
        }
        let shared = Kind::ALL.map(|kind| shared_rule(kind, self.shared.get(kind)));
        let mut rules = [SharedRule {
            enabled: false,
            min_buyers: 0,
            points: 0,
            link: false,
        }; 5];
        for (slot, rule) in rules.iter_mut().zip(shared) {
            *slot = rule?;
        }
        let s = &self.new_account;
        let new_account = NewAccount {
            enabled: s.enabled.unwrap_or(true),
            max_age_ms: i64::from(within(
                "new_account.max_age_days",
                s.max_age_days,
                7,
                1,
                365,
            )?) * DAY_MS,
            points: points("new_account.points", s.points, 1)?,
        };
        let s = &self.repeat_burst;
        let repeat_burst = RepeatBurst {
            enabled: s.enabled.unwrap_or(true),
            min_orders: within("repeat_burst.min_orders", s.min_orders, 3, 2, 16)?,
            window_ms: i64::from(within(
                "repeat_burst.window_minutes",
                s.window_minutes,
                60,
                1,
                1440,
            )?) * 60_000,
            points: points("repeat_burst.points", s.points, 2)?,
        };
        let s = &self.empty_parcel;
        let empty_parcel = EmptyParcel {
            enabled: s.enabled.unwrap_or(true),
            max_ratio: share("empty_parcel.max_ratio", s.max_ratio, 0.25)?,
            floor_grams: within("empty_parcel.floor_grams", s.floor_grams, 30, 0, 1000)?,
            // A weak signal an honest order can show (a light variant, goods of unknown
            // weight): never enough for a review on its own.
            points: points("empty_parcel.points", s.points, 2)?,
        };
        let s = &self.fast_delivery;
        let fast_delivery = FastDelivery {
            enabled: s.enabled.unwrap_or(true),
            // Same-day intercity couriers deliver in 4–12 h: only faster is implausible.
            max_ms: i64::from(within("fast_delivery.max_hours", s.max_hours, 4, 1, 240)?) * HOUR_MS,
            points: points("fast_delivery.points", s.points, 1)?,
        };
        let s = &self.farmed_review;
        let farmed_review = FarmedReview {
            enabled: s.enabled.unwrap_or(true),
            min_rating: within(
                "farmed_review.min_rating",
                s.min_rating.map(u32::from),
                5,
                1,
                5,
            )? as u8,
            max_ms: i64::from(within("farmed_review.max_hours", s.max_hours, 24, 1, 720)?)
                * HOUR_MS,
            min_similarity: share("farmed_review.min_similarity", s.min_similarity, 0.5)?,
            min_chars: within("farmed_review.min_chars", s.min_chars, 10, 3, 10_000)?,
            points: points("farmed_review.points", s.points, 2)?,
            severity: severity(
                "farmed_review.severity",
                s.severity.as_deref(),
                Severity::Medium,
            )?,
        };
        let s = &self.ring;
        let ring = Ring {
            enabled: s.enabled.unwrap_or(true),
            min_buyers: within("ring.min_buyers", s.min_buyers, 5, 2, 1000)?,
            min_suspicious_orders: within(
                "ring.min_suspicious_orders",
                s.min_suspicious_orders,
                5,
                1,
                10_000,
            )?,
            min_suspicious_share: share("ring.min_suspicious_share", s.min_suspicious_share, 0.5)?,
            severity: severity("ring.severity", s.severity.as_deref(), Severity::High)?,
        };
        let s = &self.concentrate_rate;
        let min_rate = s.min_rate.unwrap_or(3.0);
        if !(1.0..=1000.0).contains(&min_rate) {
            return Err(err(
                "concentrate_rate.min_rate",
                format!("must be between 1 and 1000, got {min_rate}"),
            ));
        }
        let concentrate_rate = ConcentrateRate {
            enabled: s.enabled.unwrap_or(true),
            min_rate,
            min_orders: within(
                "concentrate_rate.min_orders",
                s.min_orders,
                10,
                1,
                1_000_000,
            )?,
            severity: severity(
                "concentrate_rate.severity",
                s.severity.as_deref(),
                Severity::Medium,
            )?,
        };
        Ok(Config {
            window_ms: i64::from(window_hours) * HOUR_MS,
            order_ttl_ms: i64::from(order_days) * DAY_MS,
            review_points,
            block_points,
            shared: rules,
            new_account,
            repeat_burst,
            empty_parcel,
            fast_delivery,
            farmed_review,
            ring,
            concentrate_rate,
        })
    }
}

impl crate::settings::SharedSettings {
    fn get(&self, kind: Kind) -> &SharedIdentifier {
        match kind {
            Kind::Device => &self.device,
            Kind::Phone => &self.phone,
            Kind::Payment => &self.payment,
            Kind::Address => &self.address,
            Kind::Ip => &self.ip,
        }
    }
}

fn shared_rule(kind: Kind, s: &SharedIdentifier) -> Result<SharedRule, SettingsError> {
    let (min_buyers, pts, link) = shared_default(kind);
    let name = kind.name();
    Ok(SharedRule {
        enabled: s.enabled.unwrap_or(true),
        min_buyers: within(
            &format!("shared.{name}.min_buyers"),
            s.min_buyers,
            min_buyers,
            2,
            CAP_BUYERS as u32,
        )?,
        points: points(&format!("shared.{name}.points"), s.points, pts)?,
        link: s.link.unwrap_or(link),
    })
}
