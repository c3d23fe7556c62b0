//! Deceptive reference prices: a struck-through "original" price must not exceed the
//! lowest price the listing had during the window before (明码标价和禁止价格欺诈规定
//! art. 16(2) and 17: 7 days; EU Directive 98/6/EC art. 6a: 30 days).
//!
//! The plugin keeps each listing's price changes in its state (event time, price) and,
//! for a `listing.upserted` that shows a reference price above the current price, finds
//! the lowest price in effect at any moment of the window: the price already in effect
//! when the window opened, and every change inside it. A two-hour price hike just before
//! the "discount" therefore does not make the higher price honest: the lower price
//! before the hike is still in the window.
//!
//! The listing's offered price stands in for the transaction price, which the host does
//! not see per listing. History is bounded: changes older than the window (except the one
//! in effect when it opens) are dropped, at most [`MAX_POINTS`] are kept (older ones
//! merge, keeping the lower price, so merging can only make the check stricter), and the
//! whole record expires `history_days` after the listing's last event.

use std::cmp::Ordering;

use probity_sdk::prelude::{Money, Timestamp};
use serde::{Deserialize, Serialize};

/// Most price points kept per listing.
pub const MAX_POINTS: usize = 256;

/// Slack kept beyond the window for events that arrive late (one day).
const LATE_SLACK_MS: i64 = 86_400_000;

/// One price change: from `at` on, the listing cost `price`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// When (event time, ms).
    pub at: Timestamp,
    /// The price's mantissa.
    pub mantissa: i64,
    /// The price's scale.
    pub scale: u8,
    /// The price's currency.
    pub currency: String,
}

impl Point {
    /// The price as money.
    pub fn money(&self) -> Money {
        Money::new(self.mantissa, self.scale, self.currency.clone())
    }
}

/// What the window says about a reference price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// No reference price, or not above the current price: nothing to check.
    NotADiscount,
    /// The reference price is not above the lowest price of the window.
    Honest,
    /// No earlier price in this currency is known, so the reference price was never seen
    /// charged.
    Unverified,
    /// The reference price is above `lowest`, which was in effect from `since`.
    AboveLowest {
        /// The lowest price in the window.
        lowest: Money,
        /// When that price took effect (may be before the window opened).
        since: Timestamp,
    },
}

/// A listing's price history, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The changes, sorted by `at`.
    pub points: Vec<Point>,
}

impl History {
    /// Check `reference` against the prices in effect during `[at - window_ms, at)`,
    /// for a listing now offered at `price`.
    pub fn check(
        &self,
        at: Timestamp,
        price: &Money,
        reference: Option<&Money>,
        window_ms: i64,
    ) -> Check {
        let Some(reference) = reference else {
            return Check::NotADiscount;
        };
        if reference.cmp_exact(price) != Some(Ordering::Greater) {
            return Check::NotADiscount;
        }
        let opens = at.saturating_sub(window_ms);
        let before: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.at < at && p.currency == reference.currency)
            .collect();
        // The last change at or before the window opened was still in effect then.
        let in_effect_at_open = before.iter().rposition(|p| p.at <= opens).unwrap_or(0);
        let lowest = before[in_effect_at_open.min(before.len())..]
            .iter()
            .min_by(|a, b| a.money().cmp_exact(&b.money()).unwrap_or(Ordering::Equal));
        match lowest {
            None => Check::Unverified,
            Some(lowest) if reference.cmp_exact(&lowest.money()) == Some(Ordering::Greater) => {
                Check::AboveLowest {
                    lowest: lowest.money(),
                    since: lowest.at,
                }
            }
            Some(_) => Check::Honest,
        }
    }

    /// Record that the listing is offered at `price` from `at` on, then drop what the
    /// window no longer needs.
    pub fn record(&mut self, at: Timestamp, price: &Money, window_ms: i64) {
        let point = Point {
            at,
            mantissa: price.mantissa,
            scale: price.scale,
            currency: price.currency.clone(),
        };
        let index = self.points.partition_point(|p| p.at <= at);
        if index > 0 && self.points[index - 1].at == at {
            self.points[index - 1] = point;
        } else {
            self.points.insert(index, point);
        }
        self.points
            .dedup_by(|later, earlier| later.money().eq_exact(&earlier.money()));
        self.prune(window_ms);
    }

    fn prune(&mut self, window_ms: i64) {
        let Some(latest) = self.points.last().map(|p| p.at) else {
            return;
        };
        let cut = latest.saturating_sub(window_ms.saturating_add(LATE_SLACK_MS));
        // Keep the last point at or before the cut: it is in effect when the window opens.
        let first_kept = self.points.iter().rposition(|p| p.at <= cut).unwrap_or(0);
        self.points.drain(..first_kept);
        while self.points.len() > MAX_POINTS {
            let merged = lower(&self.points[0], &self.points[1]);
            self.points[1] = Point {
                at: self.points[0].at,
                ..merged
            };
            self.points.remove(0);
        }
    }
}

/// The lower-priced of two points (the later one if they cannot be compared).
fn lower(a: &Point, b: &Point) -> Point {
    match a.money().cmp_exact(&b.money()) {
        Some(Ordering::Less) => a.clone(),
        _ => b.clone(),
    }
}
