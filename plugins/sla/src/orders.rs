//! Orders: the shipping deadline and the refund deadlines, under `o␟{order}`.
//!
//! - `order.paid` starts the shipping clock: `promised_ship_by` if the payment names
//!   one, else `presale_hours` for a presale, else `ship.hours` (per category of the
//!   listing, from `listing.upserted`).
//! - `order.shipped` meets it. A delivery with no shipment seen meets it too, at the
//!   latest time the parcel can have left; a shipment arriving later with an earlier time
//!   corrects it.
//! - `order.cancelled`, or a refund completed for the whole amount, voids it: no breach
//!   before the deadline, the breach stands after it.
//! - `refund.requested` starts a refund clock (`refund.hours`, or `return_hours` when a
//!   return is required); `refund.completed` meets it.
//!
//! Events may come in any order: a shipment, cancellation or refund seen before the
//! payment or request is remembered and applied when the clock starts. Once every
//! deadline of an order is settled its timers are gone and its record is kept only
//! `CLOSED_TTL_MS`, long enough to recognise late duplicates.

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::deadline::{Deadline, Duty, Owner};
use crate::run::Run;
use crate::settings::DAY_MS;

/// How long an order is remembered after its last deadline is settled (or, unpaid,
/// after its last event); an open deadline keeps it until this long after it falls due.
const CLOSED_TTL_MS: i64 = 30 * DAY_MS;
/// Most refunds tracked per order.
pub const MAX_REFUNDS: usize = 8;
/// The prefix of shipping timers.
pub const SHIP_TIMER: &str = "ship\u{1f}";
/// The prefix of refund timers.
pub const REFUND_TIMER: &str = "refund\u{1f}";

/// What the plugin knows of an order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OrderSla {
    /// The seller.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    /// The listing's category.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The total: (mantissa, scale).
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub total: Option<(i64, u8)>,
    /// The payment: (at, promised ship-by, presale).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<(i64, Option<i64>, bool)>,
    /// The shipping deadline.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub ship: Option<Deadline>,
    /// The earliest shipment (or delivery) time seen.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub shipped: Option<i64>,
    /// When the order ended (cancelled or fully refunded).
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<i64>,
    /// Refunds.
    #[serde(rename = "r", default)]
    pub refunds: Vec<Refund>,
}

/// One refund of an order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Refund {
    /// Its id.
    pub id: String,
    /// Its deadline, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// When it was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<i64>,
}

fn key(order: &str) -> String {
    format!("o\u{1f}{order}")
}

/// Whether `amount` covers `total` (compared exactly at the larger scale).
fn covers(amount: &Money, total: (i64, u8)) -> bool {
    let scale = amount.scale.max(total.1);
    let widen = |m: i64, s: u8| i128::from(m) * 10i128.pow(u32::from(scale - s));
    widen(amount.mantissa, amount.scale) >= widen(total.0, total.1)
}

impl Run<'_, '_> {
    fn order(&mut self, id: &str) -> OrderSla {
        self.ctx.read_json(&key(id)).unwrap_or_default()
    }

    fn save_order(&mut self, id: &str, order: &OrderSla) -> Result<(), PluginError> {
        let open = order
            .ship
            .iter()
            .chain(order.refunds.iter().filter_map(|r| r.deadline.as_ref()))
            .filter(|d| !d.settled())
            .map(|d| d.due)
            .max();
        let ttl = self.ttl_past(open, CLOSED_TTL_MS);
        self.put(&key(id), order, ttl)
    }

    fn ship_owner<'o>(id: &str, seller: Option<&'o str>) -> Owner<'o> {
        Owner {
            duty: Duty::Ship,
            subject: Subject::order(id),
            name: format!("order {id}"),
            seller,
            timer: format!("{SHIP_TIMER}{id}"),
        }
    }

    fn refund_owner<'o>(id: &str, refund: &str, seller: Option<&'o str>) -> Owner<'o> {
        Owner {
            duty: Duty::Refund,
            subject: Subject::order(id),
            name: format!("refund {refund} of order {id}"),
            seller,
            timer: format!("{REFUND_TIMER}{id}\u{1f}{refund}"),
        }
    }

    /// The shipping deadline of a payment at `at`.
    fn ship_due(&self, paid: (i64, Option<i64>, bool), category: Option<&str>) -> Option<i64> {
        let length = self.cfg.ship_ms_for(category)?;
        Some(match paid {
            (_, Some(promised), _) => promised,
            (at, None, true) => at + self.cfg.presale_ms,
            (at, None, false) => at + length,
        })
    }

    /// `listing.upserted`: remember its category for shipping deadlines.
    pub fn listing(&mut self, listing: &ListingUpserted) -> Result<(), PluginError> {
        let key = format!("l\u{1f}{}", listing.listing_id);
        match &listing.category {
            Some(category) if !self.cfg.ship_by_category.is_empty() => {
                self.put(&key, category, 365 * DAY_MS)
            }
            _ => Ok(()),
        }
    }

    /// `order.placed`: the seller, total and category.
    pub fn placed(&mut self, placed: &OrderPlaced) -> Result<(), PluginError> {
        let id = placed.order_id.as_str();
        let mut order = self.order(id);
        order.seller = Some(placed.seller_id.clone());
        order.total = Some((placed.total.mantissa, placed.total.scale));
        // Categories are only stored (and so only worth a read) with per-category deadlines.
        if !self.cfg.ship_by_category.is_empty() {
            order.category = self.ctx.read_json(&format!("l\u{1f}{}", placed.listing_id));
        }
        // A payment seen first set its deadline without the category: set it again.
        if let (Some(paid), Some(deadline)) = (order.paid, order.ship.as_mut())
            && let Some(due) = self.ship_due(paid, order.category.as_deref())
            && !deadline.settled()
            && deadline.reported.is_none()
            && deadline.due != due
        {
            deadline.due = due;
            let owner = Self::ship_owner(id, order.seller.as_deref());
            self.arm(&owner, deadline);
        }
        self.save_order(id, &order)
    }

    /// `order.paid`: start the shipping clock.
    pub fn paid(&mut self, paid: &OrderPaid, at: i64) -> Result<(), PluginError> {
        let id = paid.order_id.as_str();
        let mut order = self.order(id);
        if order.paid.is_some() {
            return Ok(());
        }
        let payment = (at, paid.promised_ship_by, paid.presale.unwrap_or(false));
        order.paid = Some(payment);
        let Some(due) = self.ship_due(payment, order.category.as_deref()) else {
            return self.save_order(id, &order);
        };
        let mut deadline = Deadline::new(at, due);
        let seller = order.seller.clone();
        let owner = Self::ship_owner(id, seller.as_deref());
        if let Some(shipped) = order.shipped {
            self.fulfil(&owner, &mut deadline, shipped);
        } else if let Some(ended) = order.ended {
            self.void(&owner, &mut deadline, ended);
        } else {
            self.arm(&owner, &deadline);
        }
        order.ship = Some(deadline);
        self.save_order(id, &order)
    }

    /// `order.shipped` (or, with no shipment seen, `order.delivered`) at `at`.
    pub fn shipped(&mut self, id: &str, at: i64, delivery: bool) -> Result<(), PluginError> {
        let mut order = self.order(id);
        if delivery && order.shipped.is_some() {
            return Ok(());
        }
        order.shipped = Some(order.shipped.map_or(at, |s| s.min(at)));
        let seller = order.seller.clone();
        if let Some(deadline) = order.ship.as_mut() {
            let owner = Self::ship_owner(id, seller.as_deref());
            self.fulfil(&owner, deadline, at);
        }
        self.save_order(id, &order)
    }

    /// `order.cancelled`, or a full refund, at `at`.
    pub fn ended(&mut self, id: &str, at: i64) -> Result<(), PluginError> {
        let mut order = self.order(id);
        self.end(id, &mut order, at);
        self.save_order(id, &order)
    }

    fn end(&mut self, id: &str, order: &mut OrderSla, at: i64) {
        order.ended = Some(order.ended.map_or(at, |e| e.min(at)));
        let seller = order.seller.clone();
        if let Some(deadline) = order.ship.as_mut() {
            let owner = Self::ship_owner(id, seller.as_deref());
            self.void(&owner, deadline, at);
        }
    }

    /// `refund.requested`: start a refund clock.
    pub fn refund_requested(
        &mut self,
        request: &RefundRequested,
        at: i64,
    ) -> Result<(), PluginError> {
        let Some((plain, with_return)) = self.cfg.refund_ms else {
            return Ok(());
        };
        let id = request.order_id.as_str();
        let mut order = self.order(id);
        let length = if request.return_required.unwrap_or(false) {
            with_return
        } else {
            plain
        };
        let index = match order.refunds.iter().position(|r| r.id == request.refund_id) {
            Some(index) if order.refunds[index].deadline.is_some() => return Ok(()),
            Some(index) => index,
            None if order.refunds.len() >= MAX_REFUNDS => {
                self.ctx
                    .warn("too many refunds on one order; this one is not tracked");
                return Ok(());
            }
            None => {
                order.refunds.push(Refund {
                    id: request.refund_id.clone(),
                    ..Refund::default()
                });
                order.refunds.len() - 1
            }
        };
        let mut deadline = Deadline::new(at, at + length);
        let seller = order.seller.clone();
        let owner = Self::refund_owner(id, &request.refund_id, seller.as_deref());
        match order.refunds[index].completed {
            Some(completed) => self.fulfil(&owner, &mut deadline, completed),
            None => self.arm(&owner, &deadline),
        }
        order.refunds[index].deadline = Some(deadline);
        self.save_order(id, &order)
    }

    /// `refund.completed`: meet its clock; a refund of the whole total ends the order.
    pub fn refund_completed(&mut self, done: &RefundCompleted, at: i64) -> Result<(), PluginError> {
        let id = done.order_id.as_str();
        let mut order = self.order(id);
        let seller = order.seller.clone();
        match order.refunds.iter().position(|r| r.id == done.refund_id) {
            Some(index) => {
                let refund = &mut order.refunds[index];
                refund.completed = Some(refund.completed.map_or(at, |c| c.min(at)));
                if let Some(deadline) = refund.deadline.as_mut() {
                    let owner = Self::refund_owner(id, &done.refund_id, seller.as_deref());
                    self.fulfil(&owner, deadline, at);
                }
            }
            None if order.refunds.len() < MAX_REFUNDS => order.refunds.push(Refund {
                id: done.refund_id.clone(),
                deadline: None,
                completed: Some(at),
            }),
            None => {}
        }
        let full = match (&done.amount, order.total) {
            (Some(amount), Some(total)) => covers(amount, total),
            (None, _) => true,
            (Some(_), None) => false,
        };
        if full {
            self.end(id, &mut order, at);
        }
        self.save_order(id, &order)
    }

    /// A shipping or refund timer fired.
    pub fn order_timer(&mut self, timer: &Timer) -> Result<(), PluginError> {
        let now = self.ctx.now();
        if let Some(id) = timer.key.strip_prefix(SHIP_TIMER) {
            let mut order = self.order(id);
            let seller = order.seller.clone();
            if let Some(deadline) = order.ship.as_mut() {
                self.overdue(&Self::ship_owner(id, seller.as_deref()), deadline, now);
                return self.save_order(id, &order);
            }
        } else if let Some(rest) = timer.key.strip_prefix(REFUND_TIMER) {
            let Some((id, refund_id)) = rest.split_once('\u{1f}') else {
                return Ok(());
            };
            let mut order = self.order(id);
            let seller = order.seller.clone();
            if let Some(refund) = order.refunds.iter_mut().find(|r| r.id == refund_id) {
                if let Some(deadline) = refund.deadline.as_mut() {
                    self.overdue(
                        &Self::refund_owner(id, refund_id, seller.as_deref()),
                        deadline,
                        now,
                    );
                }
                return self.save_order(id, &order);
            }
        }
        Ok(())
    }
}
