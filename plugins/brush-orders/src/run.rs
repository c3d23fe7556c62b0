//! One call's working context, and the findings it emits.
//!
//! A [`Run`] carries the host context, the resolved settings, the current event time
//! and the findings gathered so far. Handlers (in [`crate::orders`],
//! [`crate::review`], [`crate::ring`]) are methods on it, so any step can flag any
//! subject: the current order, earlier orders of a ring, or the seller.
//!
//! Rule ids and what they are about:
//! - `brush.order` (`brush_order`, on the order): the order's own signals add up to
//!   review or block; re-reported when the level rises or a new signal appears.
//! - `brush.ring_order` (`brush_order`, on the order): the order belongs to a confirmed
//!   ring; earlier orders are flagged when the ring is confirmed.
//! - `brush.ring` (`brush_order`, on the seller): a ring was confirmed at the seller.
//! - `brush.concentrate_rate` (`brush_order`, on the seller): too many orders per buyer
//!   within an hour.
//! - `brush.farmed_review` (`review_manipulation`, on the reviewed order).

use probity_sdk::limits::{MAX_EXCERPT_BYTES, MAX_MESSAGE_BYTES, clip};
use probity_sdk::prelude::*;

use crate::config::Config;
use crate::identifiers::key;
use crate::ring::{Group, MAX_RETRO};
use crate::signals::OrderRecord;
use crate::store;

/// The rule on an order's own signals.
pub const ORDER_RULE: &str = "brush.order";
/// The rule on an order of a confirmed ring.
pub const RING_ORDER_RULE: &str = "brush.ring_order";
/// The rule on a seller with a confirmed ring.
pub const RING_RULE: &str = "brush.ring";
/// The rule on a seller's hourly concentrate rate.
pub const CONCENTRATE_RULE: &str = "brush.concentrate_rate";
/// The rule on a farmed review.
pub const REVIEW_RULE: &str = "brush.farmed_review";

/// One call's context.
pub struct Run<'a, 'h> {
    /// The host.
    pub ctx: &'a mut Context<'h>,
    /// The settings.
    pub cfg: &'a Config,
    /// The event's time (or the timer's due time).
    pub now: Timestamp,
    /// Findings so far.
    pub findings: Vec<Finding>,
    /// Orders flagged retroactively so far in this call.
    pub retro: usize,
}

/// A ring seller's tally, under `s␟{seller}`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SellerTally {
    /// Rings confirmed.
    pub rings: u32,
    /// Buyers in them (at confirmation).
    pub buyers: u32,
}

impl<'a, 'h> Run<'a, 'h> {
    /// A run at `now`.
    pub fn new(ctx: &'a mut Context<'h>, cfg: &'a Config, now: Timestamp) -> Self {
        Run {
            ctx,
            cfg,
            now,
            findings: Vec::new(),
            retro: 0,
        }
    }

    /// The record of `order_id` (an empty one if none).
    pub fn order(&mut self, order_id: &str) -> OrderRecord {
        self.ctx
            .read_json(&key::order(order_id))
            .unwrap_or_default()
    }

    /// Store an order's record for `order_days`.
    pub fn save_order(&mut self, order_id: &str, record: &OrderRecord) -> Result<(), PluginError> {
        store::put(
            self.ctx,
            &key::order(order_id),
            record,
            self.cfg.order_ttl_ms,
        )
    }

    /// Score `record` again, report it if its level rose or a signal was added, store it,
    /// and count it as suspicious in its buyer's group the first time it reaches review.
    pub fn refresh(&mut self, order_id: &str, mut record: OrderRecord) -> Result<(), PluginError> {
        let Some(placed) = record.placed.clone() else {
            return self.save_order(order_id, &record);
        };
        let score = record.signals.score(self.cfg, &placed.seller);
        let level = score.level(self.cfg);
        let (shown_level, shown_bits) = record.shown;
        if level > 0 && (level > shown_level || score.bits & !shown_bits != 0) {
            let severity = if level >= 2 {
                Severity::High
            } else {
                Severity::Medium
            };
            let summary: Vec<&str> = score.parts.iter().map(|p| p.detail.as_str()).collect();
            let mut finding = Finding::builder(Subject::order(order_id))
                .rule(ORDER_RULE)
                .category(Category::BrushOrder)
                .severity(severity)
                .message(message(&format!(
                    "order {order_id} looks brushed ({} points; review at {}, block at {}): {}",
                    score.points,
                    self.cfg.review_points,
                    self.cfg.block_points,
                    summary.join("; ")
                )));
            for part in &score.parts {
                finding = finding.evidence(
                    Evidence::field(part.field)
                        .detail(detail(&format!("{} (+{})", part.detail, part.points))),
                );
            }
            self.findings.push(finding.build());
            record.shown = (level.max(shown_level), shown_bits | score.bits);
        }
        let newly_suspicious = level > 0 && !record.suspicious;
        record.suspicious |= level > 0;
        self.save_order(order_id, &record)?;
        if newly_suspicious {
            self.group_suspicious(&placed.seller, placed.buyer)?;
        }
        Ok(())
    }

    /// Flag `order_id` as an order of the ring `group` at `seller`, once.
    pub fn flag_ring_order(
        &mut self,
        order_id: &str,
        seller: &str,
        group: &Group,
    ) -> Result<(), PluginError> {
        if self.retro >= MAX_RETRO {
            return Ok(());
        }
        let mut record = self.order(order_id);
        if record.ring {
            return Ok(());
        }
        record.ring = true;
        self.save_order(order_id, &record)?;
        self.retro += 1;
        let finding = Finding::builder(Subject::order(order_id))
            .rule(RING_ORDER_RULE)
            .category(Category::BrushOrder)
            .severity(self.cfg.ring.severity)
            .message(message(&format!(
                "order {order_id} was placed by a member of a brushing ring: {}",
                group.describe(seller)
            )))
            .evidence(Evidence::field("buyer_id").detail(detail(&group.describe(seller))))
            .evidence(Evidence::field("occurred_at").detail(format!(
                "ring confirmed at {}",
                probity_sdk::time::minutes(group.confirmed.unwrap_or(self.now))
            )))
            .build();
        self.findings.push(finding);
        Ok(())
    }

    /// Report a newly confirmed ring on its seller.
    pub fn report_seller_ring(&mut self, seller: &str, group: &Group) -> Result<(), PluginError> {
        let key = key::seller(seller);
        let mut tally: SellerTally = self.ctx.read_json(&key).unwrap_or_default();
        tally.rings += 1;
        tally.buyers += group.size;
        store::put(
            self.ctx,
            &key,
            &tally,
            self.cfg.window_ms.max(30 * crate::config::DAY_MS),
        )?;
        let finding = Finding::builder(Subject::seller(seller))
            .rule(RING_RULE)
            .category(Category::BrushOrder)
            .severity(self.cfg.ring.severity)
            .message(message(&format!(
                "seller {seller} has a brushing ring: {} (rings confirmed so far: {}, {} buyers)",
                group.describe(seller),
                tally.rings,
                tally.buyers
            )))
            .evidence(Evidence::field("seller_id").detail(detail(&group.describe(seller))))
            .build();
        self.findings.push(finding);
        Ok(())
    }
}

/// `text` clipped to the host's limit on a message.
pub fn message(text: &str) -> String {
    clip(text, MAX_MESSAGE_BYTES)
}

/// `text` clipped to the host's limit on an evidence detail.
pub fn detail(text: &str) -> String {
    clip(text, MAX_EXCERPT_BYTES)
}
