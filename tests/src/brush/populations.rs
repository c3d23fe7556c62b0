//! The honest populations of the generated marketplace: individuals, households,
//! offices and loyal customers (see [`super::market`] for what each looks like).

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom;

use super::market::{CITIES, DAY, Group, HOUR, Market, Person, ReviewText, START};
use super::text;

impl Market {
    pub(super) fn individuals(&mut self, sellers: &WeightedIndex<f64>) {
        let end = START + self.params.days * DAY;
        for i in 0..self.params.individuals {
            // One in twenty-five joined during the period and orders in its first days.
            let joined = (i % 25 == 0).then(|| self.rng.random_range(START..end - 2 * DAY));
            let person = self.person(joined);
            let from = joined.map_or(START, |j| j + HOUR);
            for _ in 0..self.rng.random_range(1..=7) {
                let seller = sellers.sample(&mut self.rng);
                let at = self.time_in(from, end);
                self.honest_order(&person, seller, at, Group::Individual);
            }
        }
    }

    pub(super) fn households(&mut self, sellers: &WeightedIndex<f64>) {
        let end = START + self.params.days * DAY;
        for _ in 0..self.params.households {
            let home = self.id("home");
            let tablet = format!("tablet-{home}");
            let family_card = self
                .rng
                .random_bool(0.3)
                .then(|| format!("familycard-{home}"));
            let favourite = sellers.sample(&mut self.rng);
            let city = *CITIES.choose(&mut self.rng).unwrap_or(&"上海");
            // Many families give one contact phone (a parent's) for every account.
            let family_phone = self
                .rng
                .random_bool(self.params.realities.family_phones)
                .then(|| format!("tel-{home}"));
            for _ in 0..self.rng.random_range(2..=4) {
                let mut member = self.person(None);
                member.city = city;
                member.addresses = vec![(format!("addr-{home}"), 1)];
                member.ips = vec![(format!("ip-{home}"), 1)];
                member.devices.push((tablet.clone(), 1));
                if let Some(card) = &family_card {
                    member.payments.push((card.clone(), 2));
                }
                if let Some(phone) = &family_phone {
                    member.phones = vec![(phone.clone(), 1)];
                }
                for _ in 0..self.rng.random_range(2..=6) {
                    let seller = if self.rng.random_bool(0.5) {
                        favourite
                    } else {
                        sellers.sample(&mut self.rng)
                    };
                    let at = self.time_in(START, end);
                    self.honest_order(&member, seller, at, Group::Household);
                }
            }
        }
    }

    pub(super) fn offices(&mut self, sellers: &WeightedIndex<f64>) {
        let end = START + self.params.days * DAY;
        for _ in 0..self.params.offices {
            let office = self.id("office");
            let city = *CITIES.choose(&mut self.rng).unwrap_or(&"上海");
            let lunch_seller = self.rng.random_range(0..self.params.sellers.min(20));
            let mut colleagues = Vec::new();
            for _ in 0..self.rng.random_range(20..=40) {
                let mut person = self.person(None);
                person.city = city;
                person.ips = vec![
                    (format!("ip-{office}"), 3),
                    (format!("ip-home-{}", person.buyer), 1),
                ];
                if self.rng.random_bool(0.5) {
                    person.addresses = vec![(format!("addr-{office}"), 1)];
                }
                for _ in 0..self.rng.random_range(1..=4) {
                    let seller = sellers.sample(&mut self.rng);
                    let at = self.time_in(START, end);
                    self.honest_order(&person, seller, at, Group::Office);
                }
                colleagues.push(person);
            }
            // Lunch orders: many colleagues, one seller, one hour (04:00 UTC is noon).
            for _ in 0..self.rng.random_range(3..=5) {
                let day = self.rng.random_range(0..self.params.days);
                let noon = START + day * DAY + 4 * HOUR;
                let n = self.rng.random_range(10..=colleagues.len().min(25));
                let eaters: Vec<Person> = colleagues
                    .choose_multiple(&mut self.rng, n)
                    .cloned()
                    .collect();
                for person in eaters {
                    let at = noon + self.rng.random_range(0..50 * 60_000);
                    self.honest_order(&person, lunch_seller, at, Group::Office);
                }
            }
        }
    }

    pub(super) fn loyal(&mut self) {
        let end = START + self.params.days * DAY;
        for _ in 0..self.params.loyal {
            let person = self.person(None);
            let seller = self.rng.random_range(0..self.params.sellers);
            let listing = self
                .rng
                .random_range(0..self.sellers[seller].listings.len());
            let own_review = text::honest(&mut self.rng);
            let mut at = START + self.rng.random_range(0..3 * DAY);
            while at < end {
                let grams = self.variant_grams(seller, listing);
                let same_city = self.sellers[seller].city == person.city;
                let mut story = self.honest_story(grams, 1, same_city);
                // Loyal customers often review at once, pasting the same text every time.
                if self.rng.random_bool(0.5) {
                    let after = self.rng.random_range(1.0..20.0);
                    story.review = Some((after, 5, ReviewText::Fixed(own_review.clone())));
                }
                self.order(&person, seller, listing, at, Group::Loyal, story);
                // Sometimes a second order the same day (forgot one), else days later.
                at += if self.rng.random_bool(0.1) {
                    self.rng.random_range(HOUR..6 * HOUR)
                } else {
                    self.rng.random_range(2 * DAY..6 * DAY)
                };
            }
        }
    }
}
