//! What the plugin knows about one order, and how its signals add up to a score.
//!
//! Each signal adds points (configurable); an order at `review_points` is flagged for a
//! human, at `block_points` blocked. No single default signal blocks on its own: a
//! blocked order needs two strong signals, or membership of a confirmed ring
//! ([`crate::ring`]). That is what keeps families, offices and loyal customers — each of
//! which shows one weak signal at most — out of the blocked set.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::identifiers::Kind;

/// An order's facts, under `o␟{order_id}` for `order_days`.
///
/// Events may arrive out of order, so every part is optional: a shipment seen before
/// the order is kept and judged once `order.placed` says which listing it is.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OrderRecord {
    /// From `order.placed`.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub placed: Option<Placed>,
    /// A payment fingerprint that arrived before the order.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub early_payment: Option<String>,
    /// When it was shipped.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub shipped: Option<i64>,
    /// Whether it was shipped between two different cities (when both are known).
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub between_cities: Option<bool>,
    /// The parcel's weight in grams.
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// When it was delivered.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<i64>,
    /// The signals found so far.
    #[serde(rename = "z", default)]
    pub signals: Signals,
    /// What the last `brush.order` finding showed: (level, signal bits).
    #[serde(rename = "e", default)]
    pub shown: (u8, u16),
    /// Whether it was flagged as a ring order.
    #[serde(rename = "r", default)]
    pub ring: bool,
    /// Whether it counts as suspicious in its buyer's group.
    #[serde(rename = "u", default)]
    pub suspicious: bool,
}

/// The facts of `order.placed`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Placed {
    /// The seller.
    #[serde(rename = "s")]
    pub seller: String,
    /// The buyer's hash.
    #[serde(rename = "b")]
    pub buyer: u64,
    /// The listing.
    #[serde(rename = "l")]
    pub listing: String,
    /// Items ordered.
    #[serde(rename = "q")]
    pub quantity: u32,
    /// When.
    #[serde(rename = "t")]
    pub at: i64,
}

/// The signals of one order. Zero or `None` means "not seen".
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Signals {
    /// Distinct buyers of the seller sharing each of the order's identifiers, by
    /// [`Kind::index`].
    #[serde(rename = "h", default)]
    pub shared: [u8; 5],
    /// The account's age in hours at the order, when it was new.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub new_account_hours: Option<u32>,
    /// The buyer's orders at the seller within the burst window, when a burst.
    #[serde(rename = "b", default)]
    pub burst: u8,
    /// The parcel was empty: its weight and the listing's typical weight it was
    /// compared with (0 when unknown), in grams.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub empty: Option<(u32, u32)>,
    /// Minutes from shipping to delivery, when implausibly fast.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub fast_minutes: Option<u32>,
    /// Near-duplicate reviews, when the order's review was farmed.
    #[serde(rename = "r", default)]
    pub review_duplicates: u8,
}

/// One signal's share of a score.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    /// Its bit in [`Score::bits`].
    pub bit: u16,
    /// Points added.
    pub points: u32,
    /// The contract field it concerns.
    pub field: &'static str,
    /// What a reviewer reads.
    pub detail: String,
}

/// An order's score.
#[derive(Debug, Default)]
pub struct Score {
    /// The sum of the parts' points.
    pub points: u32,
    /// One bit per signal present.
    pub bits: u16,
    /// The signals, strongest first.
    pub parts: Vec<Part>,
}

impl Score {
    /// 0 below review, 1 review, 2 block.
    pub fn level(&self, cfg: &Config) -> u8 {
        if self.points >= cfg.block_points {
            2
        } else if self.points >= cfg.review_points {
            1
        } else {
            0
        }
    }

    fn add(&mut self, bit: u16, points: u32, field: &'static str, detail: String) {
        self.points += points;
        self.bits |= 1 << bit;
        self.parts.push(Part {
            bit,
            points,
            field,
            detail,
        });
    }
}

/// `hours` as "7 d" or "36 h".
pub fn span_text(ms: i64) -> String {
    let hours = ms / 3_600_000;
    if hours >= 48 && hours % 24 == 0 {
        format!("{} d", hours / 24)
    } else if hours >= 1 {
        format!("{hours} h")
    } else {
        format!("{} min", ms / 60_000)
    }
}

impl Signals {
    /// Score the signals under `cfg`, with details naming `seller`.
    pub fn score(&self, cfg: &Config, seller: &str) -> Score {
        let mut score = Score::default();
        let window = span_text(cfg.window_ms);
        for kind in Kind::ALL {
            let rule = cfg.shared[kind.index()];
            let buyers = u32::from(self.shared[kind.index()]);
            if rule.enabled && buyers >= rule.min_buyers {
                let detail = format!(
                    "{buyers} buyers of seller {seller} used this {} within {window}",
                    kind.noun()
                );
                score.add(kind.index() as u16, rule.points, kind.field(), detail);
            }
        }
        if let (true, Some(hours)) = (cfg.new_account.enabled, self.new_account_hours) {
            let detail = format!(
                "the account was {} old when it ordered",
                span_text(i64::from(hours) * 3_600_000)
            );
            score.add(
                5,
                cfg.new_account.points,
                "buyer.account_created_at",
                detail,
            );
        }
        if cfg.repeat_burst.enabled && u32::from(self.burst) >= cfg.repeat_burst.min_orders {
            let detail = format!(
                "the buyer placed {} orders with seller {seller} within {}",
                self.burst,
                span_text(cfg.repeat_burst.window_ms)
            );
            score.add(6, cfg.repeat_burst.points, "buyer_id", detail);
        }
        if let (true, Some((weight, typical))) = (cfg.empty_parcel.enabled, self.empty) {
            let detail = if typical > 0 {
                format!("the parcel weighed {weight} g against the listing's typical {typical} g")
            } else {
                format!(
                    "the parcel weighed {weight} g (at most {} g, for goods of unknown weight)",
                    cfg.empty_parcel.floor_grams
                )
            };
            score.add(7, cfg.empty_parcel.points, "parcel_weight_grams", detail);
        }
        if let (true, Some(minutes)) = (cfg.fast_delivery.enabled, self.fast_minutes) {
            let detail = format!(
                "delivered {} after shipping, between two cities",
                span_text(i64::from(minutes) * 60_000)
            );
            score.add(8, cfg.fast_delivery.points, "occurred_at", detail);
        }
        if cfg.farmed_review.enabled && self.review_duplicates > 0 {
            let detail = format!(
                "its 5-star review came fast and nearly repeats {} other reviews of seller {seller}",
                self.review_duplicates
            );
            score.add(9, cfg.farmed_review.points, "text", detail);
        }
        score
            .parts
            .sort_by(|a, b| b.points.cmp(&a.points).then(a.bit.cmp(&b.bit)));
        score
    }
}
