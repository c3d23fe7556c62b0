//! Brushing rings of different sizes and styles, one per brushing seller.
//!
//! | style | accounts | how they are tied together | parcels |
//! |---|---|---|---|
//! | `Farm` | 30 new accounts | 4 phones (devices), 2 drop addresses, 3 cards | 90 % empty |
//! | `Burst` | 8 aged accounts | 2 shared cards; sessions of 3–5 orders each in 45 min | 60 % empty |
//! | `Chain` | 15 bought aged accounts | a chain: pairs share a phone or a card, no value shared by more than 2 | 85 % empty |
//! | `Drop` | 6 new accounts | 2 drop addresses | all empty |
//! | `Crowd` | 40 hired strangers | nothing: each their own everything, one order each | 80 % empty |
//! | `LargeFarm` | 60 accounts, half new | 8 devices, 6 addresses | 70 % empty |
//!
//! Every ring posts fast 5-star reviews from its seller's template (85 %, the crowd
//! 100 %), and some parcels arrive implausibly fast.

use rand::Rng;
use rand::seq::IndexedRandom;

use super::market::{DAY, Group, HOUR, Market, Person, ReviewText, START};

/// A brushing style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Style {
    /// A phone farm of new accounts.
    Farm,
    /// A crew placing several orders each in short sessions.
    Burst,
    /// Bought aged accounts tied only pairwise.
    Chain,
    /// A few new accounts shipping to drop addresses.
    Drop,
    /// Hired strangers with nothing in common.
    Crowd,
    /// A large farm.
    LargeFarm,
}

impl Style {
    /// Every style.
    pub const ALL: [Style; 6] = [
        Style::Farm,
        Style::Burst,
        Style::Chain,
        Style::Drop,
        Style::Crowd,
        Style::LargeFarm,
    ];

    /// Whether its accounts share identifiers (so a ring can be found).
    pub fn linked(self) -> bool {
        self != Style::Crowd
    }
}

/// How one style's orders look.
struct Shape {
    empty: f64,
    fast: f64,
    review: f64,
}

impl Market {
    /// A ring of `style` brushing for seller `seller`.
    pub(super) fn ring(&mut self, style: Style, seller: usize) {
        let template = seller % super::text::TEMPLATES.len();
        let end = START + self.params.days * DAY;
        let period = self.params.days;
        let span = |days: i64| days.min(period - 1) * DAY;
        match style {
            Style::Farm => {
                let shape = Shape {
                    empty: 0.9,
                    fast: 0.4,
                    review: 0.85,
                };
                let from = self.rng.random_range(START..end - span(12));
                let pools = self.pools("farm", seller, 4, 3, 2, 3);
                for _ in 0..30 {
                    let times = self.times(from, from + span(12), 2..=3);
                    let person = self.ring_person(&pools, true, times[0]);
                    self.ring_orders(&person, seller, &times, style, &shape, template);
                }
            }
            Style::Burst => {
                let shape = Shape {
                    empty: 0.6,
                    fast: 0.2,
                    review: 0.85,
                };
                let cards: Vec<(String, u32)> = (0..2)
                    .map(|i| (format!("card-burst-{seller}-{i}"), 1))
                    .collect();
                let mut crew = Vec::new();
                for _ in 0..8 {
                    let mut person = {
                        let created = START - self.rng.random_range(30 * DAY..200 * DAY);
                        self.person(Some(created))
                    };
                    person.payments = cards.clone();
                    crew.push(person);
                }
                for _ in 0..3 {
                    let session = self.time_in(START, end - DAY);
                    for person in &crew {
                        let n = self.rng.random_range(3..=5);
                        let mut times: Vec<i64> = (0..n)
                            .map(|_| session + self.rng.random_range(0..45 * 60_000))
                            .collect();
                        times.sort_unstable();
                        self.ring_orders(person, seller, &times, style, &shape, template);
                    }
                }
            }
            Style::Chain => {
                let shape = Shape {
                    empty: 0.85,
                    fast: 0.3,
                    review: 0.85,
                };
                let from = self.rng.random_range(START..end - span(14));
                for i in 0..15 {
                    let mut person = {
                        let created = START - self.rng.random_range(300 * DAY..1500 * DAY);
                        self.person(Some(created))
                    };
                    person.phones = vec![(format!("tel-chain-{seller}-{}", i / 2), 1)];
                    person.payments = vec![(format!("card-chain-{seller}-{}", (i + 1) / 2), 1)];
                    let times = self.times(from, from + span(14), 2..=4);
                    self.ring_orders(&person, seller, &times, style, &shape, template);
                }
            }
            Style::Drop => {
                let shape = Shape {
                    empty: 1.0,
                    fast: 0.3,
                    review: 0.85,
                };
                let from = self.rng.random_range(START..end - span(5));
                for i in 0..6 {
                    let times = self.times(from, from + span(5), 1..=2);
                    let created = times[0] - self.rng.random_range(12 * HOUR..4 * DAY);
                    let mut person = self.person(Some(created));
                    person.addresses = vec![(format!("addr-drop-{seller}-{}", i % 2), 1)];
                    self.ring_orders(&person, seller, &times, style, &shape, template);
                }
            }
            Style::Crowd => {
                let shape = Shape {
                    empty: 0.8,
                    fast: 0.5,
                    review: 1.0,
                };
                let from = self.rng.random_range(START..end - span(10));
                for _ in 0..40 {
                    let person = self.person(None);
                    let times = self.times(from, from + span(10), 1..=1);
                    self.ring_orders(&person, seller, &times, style, &shape, template);
                }
            }
            Style::LargeFarm => {
                let shape = Shape {
                    empty: 0.7,
                    fast: 0.3,
                    review: 0.85,
                };
                let from = self.rng.random_range(START..end - span(20));
                let pools = self.pools("bigfarm", seller, 8, 0, 6, 0);
                for i in 0..60 {
                    let times = self.times(from, from + span(20), 2..=2);
                    let mut person = self.ring_person(&pools, i % 2 == 0, times[0]);
                    // Each account sticks to one device and one address of the farm.
                    person.devices = vec![pools.devices[i % pools.devices.len()].clone()];
                    person.addresses = vec![pools.addresses[i % pools.addresses.len()].clone()];
                    self.ring_orders(&person, seller, &times, style, &shape, template);
                }
            }
        }
    }

    fn times(&mut self, from: i64, to: i64, n: std::ops::RangeInclusive<usize>) -> Vec<i64> {
        let n = self.rng.random_range(n);
        let mut times: Vec<i64> = (0..n).map(|_| self.time_in(from, to)).collect();
        times.sort_unstable();
        times
    }

    fn pools(
        &mut self,
        name: &str,
        seller: usize,
        devices: usize,
        phones: usize,
        addresses: usize,
        cards: usize,
    ) -> Pools {
        let pool = |kind: &str, n: usize| -> Vec<(String, u32)> {
            (0..n)
                .map(|i| (format!("{kind}-{name}-{seller}-{i}"), 1))
                .collect()
        };
        Pools {
            devices: pool("dev", devices),
            phones: pool("tel", phones),
            addresses: pool("addr", addresses),
            cards: pool("card", cards),
        }
    }

    /// An account drawing identifiers from the ring's pools (its own where a pool is
    /// empty); new accounts are created days before their first order.
    fn ring_person(&mut self, pools: &Pools, new: bool, first_order: i64) -> Person {
        let created = new.then(|| first_order - self.rng.random_range(12 * HOUR..5 * DAY));
        let mut person = self.person(created);
        for (slot, pool) in [
            (&mut person.devices, &pools.devices),
            (&mut person.phones, &pools.phones),
            (&mut person.addresses, &pools.addresses),
            (&mut person.payments, &pools.cards),
        ] {
            if let Some(value) = pool.choose(&mut self.rng) {
                *slot = vec![value.clone()];
            }
        }
        person
    }

    fn ring_orders(
        &mut self,
        person: &Person,
        seller: usize,
        times: &[i64],
        style: Style,
        shape: &Shape,
        template: usize,
    ) {
        // Brushers push their best seller: the heaviest listing, whose weight shows.
        let hero = (0..self.sellers[seller].listings.len())
            .max_by_key(|&i| self.sellers[seller].listings[i].grams)
            .unwrap_or(0);
        for &at in times {
            let grams = self.sellers[seller].listings[hero].grams;
            let mut story = self.honest_story(grams, 1, false);
            if self.rng.random_bool(shape.empty) {
                story.grams = Some(self.rng.random_range(5..45));
            }
            story.ship_hours = self.rng.random_range(2.0..20.0);
            if self.rng.random_bool(shape.fast) {
                story.transit_hours = self.rng.random_range(2.0..10.0);
            }
            story.review = self.rng.random_bool(shape.review).then(|| {
                (
                    self.rng.random_range(1.0..20.0),
                    5,
                    ReviewText::Template(template),
                )
            });
            self.order(person, seller, hero, at, Group::Ring(style), story);
        }
    }
}

struct Pools {
    devices: Vec<(String, u32)>,
    phones: Vec<(String, u32)>,
    addresses: Vec<(String, u32)>,
    cards: Vec<(String, u32)>,
}
