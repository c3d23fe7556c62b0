//! The order life cycle: what each event adds to an order's signals.
//!
//! - `order.placed`: the buyer's identifiers are counted per seller (and may link the
//!   buyer into a group), the account's age, the buyer's burst of orders, the seller's
//!   hourly tally;
//! - `order.paid`: the payment instrument, like the other identifiers;
//! - `order.shipped`: the parcel's weight against the listing's (see [`crate::parcel`]);
//! - `order.delivered`: how fast it arrived.
//!
//! When a value reaches `min_buyers` buyers, or a buyer's orders reach a burst, the
//! earlier orders concerned get the signal too, not only the one that tipped it.

use probity_sdk::prelude::*;

use crate::config::HOUR_MS;
use crate::identifiers::{Kind, fnv64, key, record_use};
use crate::parcel::{ListingWeights, declared_weight, empty};
use crate::ring::{MAX_NODE_ORDERS, is_hub};
use crate::run::Run;
use crate::signals::{OrderRecord, Placed};
use crate::store;

/// Orders of other buyers (or earlier orders) that get a signal late.
#[derive(Default)]
struct Late {
    /// `(buyers, kind, count)`: every recent order of these buyers shares a value.
    shared: Vec<(Vec<u64>, Kind, u8)>,
    /// Earlier orders of a burst and the burst's size.
    burst: Vec<(String, u8)>,
}

/// Milliseconds as whole minutes, saturating.
fn minutes(ms: i64) -> u32 {
    u32::try_from(ms.max(0) / 60_000).unwrap_or(u32::MAX)
}

impl Run<'_, '_> {
    /// `listing.upserted`: remember the weight it declares.
    pub fn listing(&mut self, listing: &ListingUpserted) -> Result<(), PluginError> {
        let declared = declared_weight(listing);
        let key = key::listing(&listing.listing_id);
        let mut weights: ListingWeights = self.ctx.read_json(&key).unwrap_or_default();
        if weights.declared != declared {
            weights.declared = declared;
            store::put(self.ctx, &key, &weights, 90 * crate::config::DAY_MS)?;
        }
        Ok(())
    }

    /// `order.placed`.
    pub fn placed(&mut self, order: &OrderPlaced) -> Result<(), PluginError> {
        let id = order.order_id.as_str();
        let seller = order.seller_id.as_str();
        let buyer = fnv64(order.buyer_id.as_bytes());
        let at = self.now;
        let mut record = self.order(id);
        if record.placed.is_some() {
            return Ok(()); // the same order sent again under another event id
        }
        record.placed = Some(Placed {
            seller: seller.to_string(),
            buyer,
            listing: order.listing_id.clone(),
            quantity: order.quantity.max(1),
            at,
        });
        let early_payment = record.early_payment.take();
        self.save_order(id, &record)?;

        // The buyer's recent orders at this seller: bursts and the hourly tally.
        let mut node = self.node(seller, buyer);
        let since = at.saturating_sub(self.cfg.order_ttl_ms);
        node.orders.retain(|(_, t)| *t >= since);
        node.orders.push((id.to_string(), at));
        node.orders.sort_by_key(|(_, t)| *t);
        if node.orders.len() > MAX_NODE_ORDERS {
            node.orders.remove(0);
        }
        let burst_since = at.saturating_sub(self.cfg.repeat_burst.window_ms);
        let burst: Vec<String> = node
            .orders
            .iter()
            .filter(|(_, t)| *t > burst_since && *t <= at)
            .map(|(o, _)| o.clone())
            .collect();
        self.group_order(seller, buyer, node, id)?;
        self.count_rate(seller, buyer, at)?;

        let mut late = Late::default();
        let mut shared = [0u8; 5];
        let profile = order.buyer.as_ref();
        let values = [
            (Kind::Device, profile.and_then(|p| p.device_id.as_deref())),
            (Kind::Phone, profile.and_then(|p| p.phone.as_deref())),
            (Kind::Payment, early_payment.as_deref()),
            (
                Kind::Address,
                profile.and_then(|p| p.shipping_address.as_deref()),
            ),
            (Kind::Ip, profile.and_then(|p| p.ip.as_deref())),
        ];
        for (kind, value) in values {
            if let Some(value) = value {
                shared[kind.index()] = self.identify(seller, buyer, kind, value, &mut late)?;
            }
        }

        let mut record = self.order(id);
        for kind in Kind::ALL {
            record.signals.shared[kind.index()] =
                record.signals.shared[kind.index()].max(shared[kind.index()]);
        }
        let age = profile
            .and_then(|p| p.account_created_at)
            .map(|created| at - created);
        if let Some(age) = age.filter(|age| *age < self.cfg.new_account.max_age_ms) {
            record.signals.new_account_hours =
                Some(u32::try_from(age.max(0) / HOUR_MS).unwrap_or(0));
        }
        let burst_size = u8::try_from(burst.len()).unwrap_or(u8::MAX);
        if u32::from(burst_size) >= self.cfg.repeat_burst.min_orders {
            record.signals.burst = burst_size;
            if u32::from(burst_size) == self.cfg.repeat_burst.min_orders {
                late.burst = burst
                    .into_iter()
                    .filter(|o| o != id)
                    .map(|o| (o, burst_size))
                    .collect();
            }
        }
        // A shipment or delivery that arrived before the order.
        if let Some(weight) = record.weight {
            self.judge_parcel(&mut record, weight)?;
        }
        self.judge_transit(&mut record);
        self.refresh(id, record)?;
        self.apply_late(seller, late)
    }

    /// `order.paid`: the payment instrument.
    pub fn paid(&mut self, paid: &OrderPaid) -> Result<(), PluginError> {
        let Some(fingerprint) = paid.payment_fingerprint.as_deref() else {
            return Ok(());
        };
        let id = paid.order_id.as_str();
        let mut record = self.order(id);
        let Some(placed) = record.placed.clone() else {
            record.early_payment = Some(fingerprint.to_string());
            return self.save_order(id, &record);
        };
        let mut late = Late::default();
        let buyers = self.identify(
            &placed.seller,
            placed.buyer,
            Kind::Payment,
            fingerprint,
            &mut late,
        )?;
        let mut record = self.order(id);
        let slot = &mut record.signals.shared[Kind::Payment.index()];
        *slot = (*slot).max(buyers);
        self.refresh(id, record)?;
        self.apply_late(&placed.seller, late)
    }

    /// `order.shipped`: the parcel.
    pub fn shipped(&mut self, shipped: &OrderShipped) -> Result<(), PluginError> {
        let id = shipped.order_id.as_str();
        let mut record = self.order(id);
        record.shipped = Some(self.now);
        if let (Some(from), Some(to)) = (&shipped.origin_city, &shipped.destination_city) {
            record.between_cities = Some(!from.trim().eq_ignore_ascii_case(to.trim()));
        }
        if let Some(weight) = shipped.parcel_weight_grams {
            record.weight = Some(weight);
            if record.placed.is_some() {
                self.judge_parcel(&mut record, weight)?;
            }
        }
        self.judge_transit(&mut record);
        self.refresh(id, record)
    }

    /// `order.delivered`: the transit time.
    pub fn delivered(&mut self, delivered: &OrderDelivered) -> Result<(), PluginError> {
        let id = delivered.order_id.as_str();
        let mut record = self.order(id);
        record.delivered = Some(self.now);
        self.judge_transit(&mut record);
        self.refresh(id, record)
    }

    /// Record one identifier use; link the buyer; note late signals. The buyers sharing.
    fn identify(
        &mut self,
        seller: &str,
        buyer: u64,
        kind: Kind,
        value: &str,
        late: &mut Late,
    ) -> Result<u8, PluginError> {
        let rule = self.cfg.shared[kind.index()];
        let sharing = record_use(
            self.ctx,
            seller,
            kind,
            value,
            buyer,
            self.now,
            self.cfg.window_ms,
        )?;
        if rule.link && sharing.new_buyer && !is_hub(sharing.buyers) {
            for other in &sharing.others {
                self.link(seller, buyer, *other, kind)?;
            }
        }
        let count = u8::try_from(sharing.buyers).unwrap_or(u8::MAX);
        if sharing.new_buyer && sharing.buyers == rule.min_buyers {
            late.shared.push((sharing.others, kind, count));
        }
        Ok(count)
    }

    /// Give the late signals to the orders concerned.
    fn apply_late(&mut self, seller: &str, late: Late) -> Result<(), PluginError> {
        let since = self.now.saturating_sub(self.cfg.window_ms);
        for (buyers, kind, count) in late.shared {
            for buyer in buyers {
                let node = self.node(seller, buyer);
                let recent = node.orders.iter().filter(|(_, t)| *t >= since);
                for order_id in recent.map(|(o, _)| o) {
                    let mut record = self.order(order_id);
                    let slot = &mut record.signals.shared[kind.index()];
                    if *slot < count {
                        *slot = count;
                        self.refresh(order_id, record)?;
                    }
                }
            }
        }
        for (order_id, size) in late.burst {
            let mut record = self.order(&order_id);
            if record.signals.burst < size {
                record.signals.burst = size;
                self.refresh(&order_id, record)?;
            }
        }
        Ok(())
    }

    /// Judge a parcel of `weight` grams against its listing, and learn from it.
    fn judge_parcel(&mut self, record: &mut OrderRecord, weight: u32) -> Result<(), PluginError> {
        let Some(placed) = &record.placed else {
            return Ok(());
        };
        let key = key::listing(&placed.listing);
        let mut weights: ListingWeights = self.ctx.read_json(&key).unwrap_or_default();
        let verdict = empty(weight, weights.typical(), &self.cfg.empty_parcel);
        record.signals.empty = verdict;
        if verdict.is_none() {
            weights.learn(weight / placed.quantity.max(1));
            store::put(self.ctx, &key, &weights, 90 * crate::config::DAY_MS)?;
        }
        Ok(())
    }

    /// Flag a delivery between two cities faster than plausible.
    fn judge_transit(&mut self, record: &mut OrderRecord) {
        if let (Some(shipped), Some(delivered), Some(true)) =
            (record.shipped, record.delivered, record.between_cities)
        {
            let transit = delivered - shipped;
            if transit <= self.cfg.fast_delivery.max_ms {
                record.signals.fast_minutes = Some(minutes(transit));
            }
        }
    }
}
