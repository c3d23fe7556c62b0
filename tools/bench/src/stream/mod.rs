//! The benchmark's event stream: a seeded marketplace, generated lazily, in contract JSON.
//!
//! The figures the suite reports are only worth what its input is worth: a stream of
//! identical listings would measure a cache, not Probity. So [`EventStream`] simulates a
//! marketplace — 2,000 sellers with 8 listings each (8 % with a misleading title, 3 %
//! with a fake struck-through price), 100,000 buyers (households sharing a tablet, a
//! third behind mobile-carrier IPs, a few brand-new accounts), full order life cycles
//! (placed with the buyer's identifiers, paid — sometimes presale with a promised date —
//! shipped with carrier, tracking number and weight, delivered, some cancelled, some
//! refunded, a third reviewed), complaints (a fifth never answered), and a brushing ring
//! every four days at another seller: fresh accounts on three devices, empty parcels and
//! pasted five-star reviews. One order in eight ships after its 48-hour deadline and one
//! in two hundred never ships, so the `sla` plugin's timers fire.
//!
//! Events come out in event-time order, except that 1 % are held back for up to two
//! minutes and sent late with their original `occurred_at`, as real feeds do.
//!
//! **Lazily**: a million events as strings would be ~600 MB; the generator keeps only
//! the life-cycle steps not yet due (a heap of a few tens of thousands) and writes each
//! line into the caller's buffer. **Deterministic**: one seeded [`ChaCha8Rng`] drives
//! every choice, and per-entity traits are hashes of the seed, so a seed always gives
//! the same bytes and runs are comparable.

mod json;
mod lifecycle;
mod market;
mod render;
#[cfg(test)]
mod tests;

use std::collections::{BinaryHeap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use lifecycle::{Buyer, Order, Pending, Step};
use market::{DAY, ListingSpec, mix};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// Listings per seller.
const LISTINGS_PER_SELLER: u32 = 8;
/// Accounts in one brushing campaign; they share [`RING_DEVICES`] devices.
const RING_MEMBERS: u32 = 24;
const RING_DEVICES: u32 = 3;
/// One brushing campaign lasts this long; the next is at another seller, new accounts.
const CAMPAIGN_MS: i64 = 4 * DAY;
/// Share of events held back and sent late, up to two minutes.
const LATE_SHARE: f64 = 0.01;
/// Recent orders a complaint may be about.
const RECENT_ORDERS: usize = 4096;

/// 2026-10-01T00:00:00+08:00, where the suite's streams start, in milliseconds since
/// the epoch.
pub const START_MS: i64 = 1_790_784_000_000;

/// What to generate.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// The seed: the same configuration always gives the same bytes.
    pub seed: u64,
    /// Prefix of every id the stream creates (events, orders, refunds, reviews,
    /// complaints, ring accounts), so two streams never send the same id. Sellers,
    /// listings and honest buyers are shared: it is one marketplace.
    pub prefix: String,
    /// `occurred_at` of the first event, in milliseconds since the epoch.
    pub start_ms: i64,
    /// Number of sellers.
    pub sellers: u32,
    /// Number of honest buyers.
    pub buyers: u32,
    /// Orders placed per day of event time (how fast event time moves): at 8,000,
    /// a million events span about a month.
    pub orders_per_day: u32,
}

impl StreamConfig {
    /// The usual marketplace (2,000 sellers, 100,000 buyers, 8,000 orders a day) with
    /// this seed and id prefix, starting at `start_ms`.
    pub fn new(seed: u64, prefix: &str, start_ms: i64) -> StreamConfig {
        StreamConfig {
            seed,
            prefix: prefix.to_string(),
            start_ms,
            sellers: 2_000,
            buyers: 100_000,
            orders_per_day: 8_000,
        }
    }
}

/// An endless, deterministic marketplace event stream (see the module docs). Take as
/// many events as wanted with [`EventStream::write_next`] or as an iterator of lines.
pub struct EventStream {
    config: StreamConfig,
    rng: ChaCha8Rng,
    heap: BinaryHeap<Pending>,
    seq: u64,
    events: u64,
    next_arrival_ms: i64,
    mean_gap_ms: f64,
    /// Current price of each listing in cents; 0 until it is first listed.
    prices: Vec<u64>,
    next_order: u64,
    next_complaint: u64,
    recent: VecDeque<(u64, u32)>,
    clock_ms: i64,
}

impl EventStream {
    /// A stream for `config`.
    pub fn new(config: StreamConfig) -> EventStream {
        // Arrivals are orders plus ~4.5 % listing updates and complaints.
        let arrivals_per_day = f64::from(config.orders_per_day.max(1)) / 0.96;
        EventStream {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            heap: BinaryHeap::new(),
            seq: 0,
            events: 0,
            next_arrival_ms: config.start_ms,
            mean_gap_ms: DAY as f64 / arrivals_per_day,
            prices: vec![0; (config.sellers.max(1) * LISTINGS_PER_SELLER) as usize],
            next_order: 0,
            next_complaint: 0,
            recent: VecDeque::with_capacity(RECENT_ORDERS),
            clock_ms: config.start_ms,
            config,
        }
    }

    /// The highest `occurred_at` written so far, in milliseconds since the epoch.
    pub fn clock_ms(&self) -> i64 {
        self.clock_ms
    }

    /// Events written so far.
    pub fn events_written(&self) -> u64 {
        self.events
    }

    /// Append the next event, one JSON object without a newline, to `out`.
    pub fn write_next(&mut self, out: &mut String) {
        loop {
            let due = self
                .heap
                .peek()
                .is_some_and(|p| p.emit_ms <= self.next_arrival_ms);
            if !due {
                let at = self.next_arrival_ms;
                self.arrive(at);
                let u: f64 = self.rng.random();
                self.next_arrival_ms += (-(1.0 - u).ln() * self.mean_gap_ms) as i64 + 1;
                continue;
            }
            let mut pending = self.heap.pop().expect("peeked a pending step");
            if !pending.late && self.rng.random_bool(LATE_SHARE) {
                pending.late = true;
                pending.emit_ms += self.rng.random_range(1_000..120_000);
                pending.seq = self.next_seq();
                self.heap.push(pending);
                continue;
            }
            self.render(&pending, out);
            self.follow_up(&pending);
            return;
        }
    }

    /// Append the next `n` events to `out`, each followed by a newline (NDJSON).
    pub fn write_batch(&mut self, n: usize, out: &mut String) {
        for _ in 0..n {
            self.write_next(out);
            out.push('\n');
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn schedule(&mut self, at: i64, step: Step) {
        let seq = self.next_seq();
        self.heap.push(Pending {
            emit_ms: at,
            seq,
            occurred_ms: at,
            late: false,
            step,
        });
    }

    /// Schedule `step` a random time in `range` (milliseconds) after `from`.
    fn after(&mut self, from: i64, range: std::ops::Range<i64>, step: Step) {
        let at = from + self.rng.random_range(range);
        self.schedule(at, step);
    }

    /// Something new happens at `at`: an order, a ring order, a listing change or a
    /// complaint.
    fn arrive(&mut self, at: i64) {
        let u: f64 = self.rng.random();
        if u < 0.008 {
            self.ring_order(at);
        } else if u < 0.028 {
            let listing = self.rng.random_range(0..self.prices.len() as u32);
            self.relist(listing, at);
        } else if u < 0.043 && !self.recent.is_empty() {
            let (order, seller) = self.recent[self.rng.random_range(0..self.recent.len())];
            self.next_complaint += 1;
            let complaint = self.next_complaint;
            self.schedule(
                at,
                Step::ComplaintOpened {
                    complaint,
                    seller,
                    order,
                },
            );
        } else {
            // Popular listings and returning buyers: both skewed towards low numbers.
            let u: f64 = self.rng.random();
            let listing = (u.powf(1.6) * self.prices.len() as f64) as u32;
            let u: f64 = self.rng.random();
            let buyer = (u * u * f64::from(self.config.buyers)) as u32;
            let quantity = if self.rng.random_bool(0.85) {
                1
            } else {
                self.rng.random_range(2..=4)
            };
            self.place(at, listing, Buyer::Honest(buyer), quantity);
        }
    }

    fn ring_order(&mut self, at: i64) {
        let campaign = ((at - self.config.start_ms).max(0) / CAMPAIGN_MS) as u32;
        let seller = (mix(self.config.seed ^ 0x5249_4E47, u64::from(campaign))
            % u64::from(self.config.sellers.max(1))) as u32;
        let listing = seller + self.config.sellers * (campaign % LISTINGS_PER_SELLER);
        let member = self.rng.random_range(0..RING_MEMBERS);
        self.place(at, listing, Buyer::Ring { campaign, member }, 1);
    }

    fn place(&mut self, at: i64, listing: u32, buyer: Buyer, quantity: u64) {
        let listing = listing.min(self.prices.len() as u32 - 1);
        if self.prices[listing as usize] == 0 {
            self.relist(listing, at);
        }
        self.next_order += 1;
        let order = Order {
            id: self.next_order,
            listing,
            seller: listing % self.config.sellers.max(1),
            buyer,
            quantity,
            total: self.prices[listing as usize] * quantity,
            promise_ms: None,
        };
        if self.recent.len() == RECENT_ORDERS {
            self.recent.pop_front();
        }
        self.recent.push_back((order.id, order.seller));
        self.schedule(at, Step::Placed(order));
    }

    /// List `listing` for the first time or change its price.
    fn relist(&mut self, listing: u32, at: i64) {
        let spec = ListingSpec::of(self.config.seed, listing);
        let old = self.prices[listing as usize];
        let cents = if old == 0 {
            spec.base_cents
        } else {
            spec.base_cents * self.rng.random_range(75..=115) / 100
        };
        let reference = if spec.fake_reference {
            Some(cents * self.rng.random_range(3..=6))
        } else if old > cents && self.rng.random_bool(0.5) {
            Some(old)
        } else {
            None
        };
        self.prices[listing as usize] = cents;
        self.schedule(
            at,
            Step::Listing {
                listing,
                cents,
                reference,
            },
        );
    }
}

impl Iterator for EventStream {
    type Item = String;

    /// The next event as one JSON line (no newline). The stream never ends.
    fn next(&mut self) -> Option<String> {
        let mut line = String::with_capacity(640);
        self.write_next(&mut line);
        Some(line)
    }
}
