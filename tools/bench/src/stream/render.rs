//! Each step of the life cycle written as one contract JSON event.
//!
//! Details that do not steer the simulation — a carrier, a tracking number, a review's
//! wording — are hashes of the seed and the order, not draws from the generator, so they
//! cost nothing to keep deterministic.

use std::fmt::Write as _;

use super::json::{push_field, push_key, push_money, push_timestamp};
use super::lifecycle::{Buyer, Order, Pending, Step};
use super::market::{self, BuyerSpec, CARRIERS, CITIES, DAY, ListingSpec, mix};
use super::{CAMPAIGN_MS, EventStream, RING_DEVICES};

impl EventStream {
    /// Write `pending` as one contract JSON object.
    pub(super) fn render(&mut self, pending: &Pending, out: &mut String) {
        self.events += 1;
        self.clock_ms = self.clock_ms.max(pending.occurred_ms);
        let prefix = &self.config.prefix;
        let _ = write!(
            out,
            r#"{{"event_id":"{prefix}e{}","type":"{}","occurred_at":""#,
            self.events,
            pending.step.type_name()
        );
        push_timestamp(out, pending.occurred_ms);
        out.push('"');
        let seed = self.config.seed;
        let order_id = |out: &mut String, order: &Order| {
            let _ = write!(out, r#","order_id":"{prefix}o{}""#, order.id);
        };
        match &pending.step {
            Step::Listing {
                listing,
                cents,
                reference,
            } => {
                let spec = ListingSpec::of(seed, *listing);
                let seller = listing % self.config.sellers.max(1);
                spec.push_fields(out, *listing, seller, *cents, *reference);
            }
            Step::Placed(order) => {
                order_id(out, order);
                let _ = write!(
                    out,
                    r#","listing_id":"L{}","seller_id":"S{}""#,
                    order.listing, order.seller
                );
                self.push_buyer(out, order);
                let _ = write!(out, r#","quantity":{}"#, order.quantity);
                push_key(out, "total");
                push_money(out, order.total);
            }
            Step::Paid(order) => {
                order_id(out, order);
                let card = match order.buyer {
                    Buyer::Honest(b) => BuyerSpec::of(seed, b).card(b),
                    Buyer::Ring { campaign, member } => {
                        format!("card-{prefix}ring{campaign}-{}", member % 2)
                    }
                };
                push_field(out, "payment_fingerprint", &card);
                if let Some(promise) = order.promise_ms {
                    out.push_str(r#","presale":true,"promised_ship_by":""#);
                    push_timestamp(out, promise);
                    out.push('"');
                }
            }
            Step::Shipped(order) => {
                order_id(out, order);
                let h = mix(seed, order.id);
                let (carrier, code) = CARRIERS[(h % CARRIERS.len() as u64) as usize];
                let weight = match order.buyer {
                    Buyer::Ring { .. } => 8 + h % 18,
                    Buyer::Honest(_) => {
                        let grams = u64::from(ListingSpec::of(seed, order.listing).grams);
                        grams * order.quantity + 30 + (h >> 8) % 170
                    }
                };
                let origin = market::seller_city(seed, order.seller);
                let destination = match order.buyer {
                    Buyer::Honest(b) => BuyerSpec::of(seed, b).city,
                    // Always another city than the seller's: fast delivery across cities
                    // is one of the brushing signals.
                    Buyer::Ring { member, .. } => {
                        let mut city = CITIES[member as usize % CITIES.len()];
                        if city == origin {
                            city = CITIES[(member as usize + 1) % CITIES.len()];
                        }
                        city
                    }
                };
                let _ = write!(
                    out,
                    r#","carrier":"{carrier}","tracking_number":"{code}{:012}","parcel_weight_grams":{weight}"#,
                    (h >> 16) % 1_000_000_000_000
                );
                push_field(out, "origin_city", origin);
                push_field(out, "destination_city", destination);
            }
            Step::Delivered(order) => order_id(out, order),
            Step::Cancelled(order) => {
                order_id(out, order);
                let reasons = market::CANCEL_REASONS;
                push_field(
                    out,
                    "reason",
                    reasons[(order.id % reasons.len() as u64) as usize],
                );
            }
            Step::RefundRequested {
                order,
                return_required,
            } => {
                order_id(out, order);
                let _ = write!(out, r#","refund_id":"{prefix}r{}""#, order.id);
                let reasons = market::REFUND_REASONS;
                push_field(
                    out,
                    "reason",
                    reasons[(order.id % reasons.len() as u64) as usize],
                );
                push_key(out, "amount");
                push_money(out, refund_amount(order));
                let _ = write!(out, r#","return_required":{return_required}"#);
            }
            Step::RefundCompleted(order) => {
                order_id(out, order);
                let _ = write!(out, r#","refund_id":"{prefix}r{}""#, order.id);
                push_key(out, "amount");
                push_money(out, refund_amount(order));
            }
            Step::Review(order) => {
                order_id(out, order);
                let h = mix(seed ^ 0x5245_5649, order.id);
                let rating = match (order.buyer, h % 20) {
                    (Buyer::Ring { .. }, _) | (_, 0..12) => 5,
                    (_, 12..17) => 4,
                    (_, r) => 20 - r,
                };
                let _ = write!(
                    out,
                    r#","review_id":"{prefix}v{}","rating":{rating}"#,
                    order.id
                );
                match order.buyer {
                    Buyer::Ring { .. } => market::push_farmed_review(out, h >> 8),
                    Buyer::Honest(_) if (h >> 8) % 10 < 7 => {
                        market::push_honest_review(out, h >> 12)
                    }
                    Buyer::Honest(_) => {}
                }
            }
            Step::ComplaintOpened {
                complaint,
                seller,
                order,
            } => {
                let text = market::COMPLAINTS[(complaint % 4) as usize];
                let _ = write!(
                    out,
                    r#","complaint_id":"{prefix}c{complaint}","seller_id":"S{seller}","order_id":"{prefix}o{order}""#
                );
                push_field(out, "text", text);
            }
            Step::ComplaintResponded(complaint) => {
                let _ = write!(out, r#","complaint_id":"{prefix}c{complaint}""#);
                push_field(
                    out,
                    "text",
                    "您好，已为您安排补发 / we have re-sent the item",
                );
            }
            Step::ComplaintResolved(complaint) => {
                let _ = write!(out, r#","complaint_id":"{prefix}c{complaint}""#);
                push_field(out, "outcome", market::OUTCOMES[(complaint % 3) as usize]);
            }
        }
        out.push('}');
    }

    fn push_buyer(&self, out: &mut String, order: &Order) {
        let (seed, start, prefix) = (self.config.seed, self.config.start_ms, &self.config.prefix);
        match order.buyer {
            Buyer::Honest(b) => {
                let _ = write!(out, r#","buyer_id":"B{b}""#);
                BuyerSpec::of(seed, b).push_profile(out, b, start);
            }
            Buyer::Ring { campaign, member } => {
                // Accounts made one to four days before their campaign.
                let created = start + i64::from(campaign) * CAMPAIGN_MS
                    - DAY * (1 + i64::from(member % 4))
                    - (mix(seed, u64::from(member)) % 86_400_000) as i64;
                let _ = write!(
                    out,
                    r#","buyer_id":"{prefix}R{campaign}-{member}","buyer":{{"account_created_at":""#
                );
                push_timestamp(out, created);
                let _ = write!(
                    out,
                    r#"","device_id":"ring-{prefix}{campaign}-{}","ip":"100.80.{}.{}","shipping_address":"{} Fake Street, drop {campaign}","phone":"+86 17{:09}"}}"#,
                    member % RING_DEVICES,
                    campaign % 250,
                    1 + member,
                    member,
                    mix(seed ^ u64::from(campaign), u64::from(member)) % 1_000_000_000
                );
            }
        }
    }
}

/// The amount refunded for `order`: in full for seven in ten, half for the rest.
fn refund_amount(order: &Order) -> u64 {
    if order.id % 10 < 7 {
        order.total
    } else {
        order.total / 2
    }
}
