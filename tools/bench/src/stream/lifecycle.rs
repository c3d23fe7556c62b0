//! The life cycle of what the stream simulates: orders from placement to review, refunds
//! and complaints, as steps on a heap ordered by when they are due; and what follows
//! each step once it is sent.
//!
//! Choices are drawn when a step is *sent*, from the stream's one random generator, so
//! the stream stays deterministic and nothing is decided for events never reached.

use std::cmp::Ordering;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::market::DAY;
use super::{EventStream, HOUR, MINUTE};

/// Who placed an order.
#[derive(Clone, Copy, Debug)]
pub(super) enum Buyer {
    /// Honest buyer number `n` (see `market::BuyerSpec`).
    Honest(u32),
    /// Account `member` of the brushing campaign `campaign`.
    Ring { campaign: u32, member: u32 },
}

/// An order, carried from step to step of its life cycle.
#[derive(Clone, Copy, Debug)]
pub(super) struct Order {
    /// Its number (the id is the stream's prefix, `o` and this).
    pub(super) id: u64,
    /// The listing bought.
    pub(super) listing: u32,
    /// The listing's seller.
    pub(super) seller: u32,
    /// Who bought.
    pub(super) buyer: Buyer,
    /// Items bought.
    pub(super) quantity: u64,
    /// What was paid, in cents.
    pub(super) total: u64,
    /// A presale's promised shipping time, set at payment.
    pub(super) promise_ms: Option<i64>,
}

/// One event to come, by contract type (see `Step::type_name`).
#[derive(Debug)]
pub(super) enum Step {
    Listing {
        listing: u32,
        cents: u64,
        reference: Option<u64>,
    },
    Placed(Order),
    Paid(Order),
    Shipped(Order),
    Delivered(Order),
    Cancelled(Order),
    RefundRequested {
        order: Order,
        return_required: bool,
    },
    RefundCompleted(Order),
    Review(Order),
    ComplaintOpened {
        complaint: u64,
        seller: u32,
        order: u64,
    },
    ComplaintResponded(u64),
    ComplaintResolved(u64),
}

impl Step {
    /// The contract `type` of the event.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Step::Listing { .. } => "listing.upserted",
            Step::Placed(_) => "order.placed",
            Step::Paid(_) => "order.paid",
            Step::Shipped(_) => "order.shipped",
            Step::Delivered(_) => "order.delivered",
            Step::Cancelled(_) => "order.cancelled",
            Step::RefundRequested { .. } => "refund.requested",
            Step::RefundCompleted(_) => "refund.completed",
            Step::Review(_) => "review.posted",
            Step::ComplaintOpened { .. } => "complaint.opened",
            Step::ComplaintResponded(_) => "complaint.responded",
            Step::ComplaintResolved(_) => "complaint.resolved",
        }
    }
}

/// A step waiting for its time; the heap pops the earliest `(emit_ms, seq)`.
#[derive(Debug)]
pub(super) struct Pending {
    /// When it is sent (its `occurred_at`, or later if held back).
    pub(super) emit_ms: i64,
    /// Order of scheduling: ties in `emit_ms` go first come, first sent.
    pub(super) seq: u64,
    /// Its `occurred_at`.
    pub(super) occurred_ms: i64,
    /// Whether it was already held back once.
    pub(super) late: bool,
    /// What it is.
    pub(super) step: Step,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap.
        (other.emit_ms, other.seq).cmp(&(self.emit_ms, self.seq))
    }
}

impl EventStream {
    /// What follows an emitted step in its life cycle.
    pub(super) fn follow_up(&mut self, pending: &Pending) {
        let t = pending.occurred_ms;
        let p = |rng: &mut ChaCha8Rng, share: f64| rng.random_bool(share);
        match pending.step {
            Step::Placed(order) => match order.buyer {
                Buyer::Ring { .. } => self.after(t, MINUTE..5 * MINUTE, Step::Paid(order)),
                Buyer::Honest(_) if p(&mut self.rng, 0.03) => {
                    self.after(t, 5 * MINUTE..120 * MINUTE, Step::Cancelled(order));
                }
                Buyer::Honest(_) => {
                    let paid = t + self.rng.random_range(MINUTE..30 * MINUTE);
                    let mut order = order;
                    if p(&mut self.rng, 0.02) {
                        order.promise_ms = Some(paid + self.rng.random_range(5 * DAY..12 * DAY));
                    }
                    self.schedule(paid, Step::Paid(order));
                }
            },
            Step::Paid(order) => {
                if let Buyer::Ring { .. } = order.buyer {
                    return self.after(t, 2 * HOUR..12 * HOUR, Step::Shipped(order));
                }
                let r: f64 = self.rng.random();
                if r < 0.02 {
                    self.after(t, HOUR..20 * HOUR, Step::Cancelled(order));
                } else if r >= 0.025 {
                    // The 0.5 % in between never ship: a silent breach for `sla`.
                    let late = p(&mut self.rng, 0.12);
                    let at = match (order.promise_ms, late) {
                        (Some(promise), true) => {
                            promise + self.rng.random_range(6 * HOUR..72 * HOUR)
                        }
                        (Some(promise), false) => promise - self.rng.random_range(0..48 * HOUR),
                        (None, true) => t + self.rng.random_range(49 * HOUR..140 * HOUR),
                        (None, false) => t + self.rng.random_range(2 * HOUR..40 * HOUR),
                    };
                    self.schedule(at.max(t + HOUR), Step::Shipped(order));
                }
            }
            Step::Shipped(order) if p(&mut self.rng, 0.98) => {
                let transit = match order.buyer {
                    Buyer::Ring { .. } => 3 * HOUR..10 * HOUR,
                    Buyer::Honest(_) => 20 * HOUR..96 * HOUR,
                };
                self.after(t, transit, Step::Delivered(order));
            }
            Step::Delivered(order) => match order.buyer {
                Buyer::Ring { .. } if p(&mut self.rng, 0.9) => {
                    self.after(t, HOUR..12 * HOUR, Step::Review(order));
                }
                Buyer::Ring { .. } => {}
                Buyer::Honest(_) => {
                    if p(&mut self.rng, 0.05) {
                        let return_required = p(&mut self.rng, 0.5);
                        let step = Step::RefundRequested {
                            order,
                            return_required,
                        };
                        self.after(t, HOUR..72 * HOUR, step);
                    }
                    if p(&mut self.rng, 0.35) {
                        self.after(t, 12 * HOUR..10 * DAY, Step::Review(order));
                    }
                }
            },
            Step::RefundRequested {
                order,
                return_required,
            } if p(&mut self.rng, 0.85) => {
                let wait = if return_required {
                    48 * HOUR..400 * HOUR
                } else {
                    6 * HOUR..90 * HOUR
                };
                self.after(t, wait, Step::RefundCompleted(order));
            }
            Step::ComplaintOpened { complaint, .. } => {
                if p(&mut self.rng, 0.78) {
                    let wait = if p(&mut self.rng, 0.12) {
                        25 * HOUR..60 * HOUR
                    } else {
                        HOUR..20 * HOUR
                    };
                    self.after(t, wait, Step::ComplaintResponded(complaint));
                } else if p(&mut self.rng, 0.4) {
                    self.after(t, 2 * DAY..6 * DAY, Step::ComplaintResolved(complaint));
                }
            }
            Step::ComplaintResponded(complaint) if p(&mut self.rng, 0.7) => {
                self.after(t, DAY..5 * DAY, Step::ComplaintResolved(complaint));
            }
            _ => {}
        }
    }
}
