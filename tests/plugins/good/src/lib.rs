//! A well-behaved, deterministic plugin that exercises the whole pipeline:
//!
//! - `listing.upserted` whose title contains the configured word (case-sensitive):
//!   a `high` `misleading-claim` finding `good.word` on the listing, with the span;
//! - the third listing event of a seller: an `info` finding `good.seller_listings` on the
//!   seller (counted in state with `increment`);
//! - `order.paid`: a timer `ship:{order_id}` one hour later; `order.shipped` cancels it;
//!   when it fires, a `medium` `sla-breach` finding `good.not_shipped` on the order.
//!
//! Settings: `{"word": "forbidden"}` (the default); `"ignore_timer_refusals": true` makes
//! it carry on when a timer is refused (quota), as a careless plugin would;
//! `"fail_timers": true` makes every `on-timer` call fail (code `failing_timer`);
//! `"spin_timers": N` makes every `on-timer` call spin N iterations first (a slow call).

use probity_sdk::prelude::*;

/// How long a paid order may wait for shipping, in milliseconds.
pub const SHIP_WITHIN_MS: i64 = 3_600_000;

/// The plugin's settings.
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The word to look for in listing titles.
    pub word: String,
    /// Carry on when scheduling a timer is refused.
    pub ignore_timer_refusals: bool,
    /// Fail every `on-timer` call.
    pub fail_timers: bool,
    /// Spin this many iterations at the start of every `on-timer` call.
    pub spin_timers: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            word: "forbidden".into(),
            ignore_timer_refusals: false,
            fail_timers: false,
            spin_timers: 0,
        }
    }
}

/// The plugin.
pub struct Good {
    word: String,
    ignore_timer_refusals: bool,
    fail_timers: bool,
    spin_timers: u64,
}

impl Plugin for Good {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "good",
            "0.1.0",
            "test plugin: word check, seller counter, shipping timer",
        )
        .subscribe(EventType::ListingUpserted)
        .subscribe(EventType::OrderPlaced)
        .subscribe(EventType::OrderPaid)
        .subscribe(EventType::OrderShipped)
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        if settings.word.is_empty() {
            return Err(SettingsError::new("word", "must not be empty"));
        }
        Ok(())
    }

    fn new(settings: Settings) -> Self {
        Good {
            word: settings.word,
            ignore_timer_refusals: settings.ignore_timer_refusals,
            fail_timers: settings.fail_timers,
            spin_timers: settings.spin_timers,
        }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        match &envelope.event {
            Event::ListingUpserted(listing) => self.check_listing(ctx, listing),
            Event::OrderPaid(paid) => {
                let due = envelope.occurred_at.saturating_add(SHIP_WITHIN_MS);
                let key = format!("ship:{}", paid.order_id);
                let scheduled = ctx.timers().schedule(&key, due, paid.order_id.as_bytes());
                if !self.ignore_timer_refusals {
                    scheduled?;
                }
                Ok(vec![])
            }
            Event::OrderShipped(shipped) => {
                ctx.timers().cancel(&format!("ship:{}", shipped.order_id));
                Ok(vec![])
            }
            _ => Ok(vec![]),
        }
    }

    fn on_timer(&mut self, _ctx: &mut Context, timer: Timer) -> Result<Vec<Finding>, PluginError> {
        if self.fail_timers {
            return Err(PluginError::new("failing_timer", "told to fail on timers"));
        }
        let mut acc = 0_u64;
        for i in 0..std::hint::black_box(self.spin_timers) {
            acc = std::hint::black_box(acc.wrapping_add(i));
        }
        std::hint::black_box(acc);
        let order_id = timer.payload_str().unwrap_or_default();
        let finding = Finding::builder(Subject::order(order_id))
            .rule("good.not_shipped")
            .category(Category::SlaBreach)
            .severity(Severity::Medium)
            .message(format!(
                "order {order_id} was paid but not shipped within an hour"
            ))
            .evidence(Evidence::field("order_id").detail(format!("ship-by {}", timer.due)))
            .build();
        Ok(vec![finding])
    }
}

impl Good {
    fn check_listing(
        &self,
        ctx: &mut Context,
        listing: &ListingUpserted,
    ) -> Result<Vec<Finding>, PluginError> {
        let mut findings = Vec::new();
        if let Some(start) = listing.title.find(&self.word) {
            let end = start + self.word.len();
            findings.push(
                Finding::builder(Subject::listing(&listing.listing_id))
                    .rule("good.word")
                    .category(Category::MisleadingClaim)
                    .severity(Severity::High)
                    .message(format!("the title contains `{}`", self.word))
                    .evidence(Evidence::field("title").matched(&listing.title, start..end))
                    .build(),
            );
        }
        let listings =
            ctx.state()
                .increment(&format!("listings:{}", listing.seller_id), 1, None)?;
        if listings == 3 {
            findings.push(
                Finding::builder(Subject::seller(&listing.seller_id))
                    .rule("good.seller_listings")
                    .category(Category::Other)
                    .severity(Severity::Info)
                    .message(format!("seller {} has 3 listings", listing.seller_id))
                    .evidence(Evidence::field("seller_id").detail("3 listings"))
                    .build(),
            );
        }
        Ok(findings)
    }
}

probity_sdk::export_plugin!(Good);

#[cfg(test)]
mod tests {
    use super::*;
    use probity_sdk::testing::{self, Harness};

    fn harness() -> Harness<Good> {
        Harness::new("{}").unwrap()
    }

    #[test]
    fn a_title_with_the_word_is_flagged_with_its_span() {
        let out = harness().handle(testing::listing("L-1", "S-1", "a forbidden cream"));
        let finding = &out.event_findings()[0];
        assert_eq!(finding.rule, "good.word");
        assert_eq!(finding.subject, Subject::listing("L-1"));
        assert_eq!(finding.evidence[0].span, Some(Span { start: 2, end: 11 }));
        assert_eq!(finding.evidence[0].excerpt.as_deref(), Some("forbidden"));
    }

    #[test]
    fn the_word_comes_from_the_settings_and_is_case_sensitive() {
        let mut h = Harness::<Good>::new(r#"{"word": "Best"}"#).unwrap();
        assert!(
            h.handle(testing::listing("L-1", "S-1", "best"))
                .findings()
                .is_empty()
        );
        assert_eq!(
            h.handle(testing::listing("L-2", "S-2", "Best")).rules(),
            ["good.word"]
        );
        assert_eq!(
            Harness::<Good>::new(r#"{"word": ""}"#).unwrap_err().field,
            "word"
        );
    }

    #[test]
    fn the_third_listing_of_a_seller_is_reported_once() {
        let mut h = harness();
        let rules: Vec<Vec<String>> = (1..=4)
            .map(|i| {
                let out = h.handle(testing::listing(&format!("L-{i}"), "S-1", "fine"));
                out.rules().into_iter().map(String::from).collect()
            })
            .collect();
        assert_eq!(
            rules,
            [
                vec![],
                vec![],
                vec!["good.seller_listings".to_string()],
                vec![]
            ]
        );
    }

    #[test]
    fn an_order_paid_and_not_shipped_within_an_hour_is_reported() {
        let mut h = harness();
        let _ = h.handle(testing::order_paid("O-1").at(1_000));
        assert!(
            h.advance_clock(1_000 + SHIP_WITHIN_MS - 1)
                .findings()
                .is_empty()
        );
        let out = h.advance_clock(1_000 + SHIP_WITHIN_MS);
        assert_eq!(out.rules(), ["good.not_shipped"]);
        assert_eq!(out.findings()[0].subject, Subject::order("O-1"));
    }

    #[test]
    fn shipping_in_time_cancels_the_timer() {
        let mut h = harness();
        let _ = h.handle(testing::order_paid("O-1").at(1_000));
        let _ = h.handle(testing::order_shipped("O-1").at(2_000));
        assert!(h.pending_timers().is_empty());
        assert!(h.advance_clock(10 * SHIP_WITHIN_MS).findings().is_empty());
    }
}
