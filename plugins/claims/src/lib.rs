//! `claims`: misleading and prohibited advertising claims, and deceptive reference
//! prices, in marketplace listings.
//!
//! For every `listing.upserted` it checks the title, the description and the attribute
//! values (product names excepted) against rules drawn from the PRC Advertising Law,
//! the cosmetics and price-fraud rules and FTC guidance, in Chinese and English, and
//! reports one finding per rule with the field, byte span and excerpt of every match.
//! It also checks the struck-through reference price against the listing's own price
//! history (see [`price`]).
//!
//! A listing is judged as it is now: when a seller fixes a listing, every rule that no
//! longer matches is reported again as an `info` finding ("cleared"), which replaces the
//! earlier finding of that rule in the verdict and so lifts its action.
//!
//! Modules: [`rules`] (the built-in rule table), [`category`] (product classes from
//! real category paths), [`lexicon`] (default word lists),
//! [`settings`] (what compliance teams configure), [`compiled`] (settings resolved
//! against the defaults), [`matcher`] (the automata),
//! [`text`] (boundaries and clauses), [`price`] (reference prices).

pub mod category;
pub mod compiled;
pub mod fold;
pub mod lexicon;
pub mod matcher;
pub mod price;
pub mod rules;
pub mod settings;
pub mod text;

use std::collections::BTreeMap;

use probity_sdk::limits::{MAX_EXCERPT_BYTES, MAX_FIELD_BYTES, MAX_MESSAGE_BYTES, clip};
use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::compiled::Compiled;
use crate::matcher::{Hit, Matcher};
use crate::price::{Check, History};
use crate::rules::Class;
use crate::settings::Settings;

/// The rule id of a reference price above the window's lowest price.
pub const PRICE_RULE: &str = "claims.reference_price";
/// The rule id of a reference price with no known earlier price.
pub const UNVERIFIED_PRICE_RULE: &str = "claims.reference_price_unverified";
/// Most evidence entries in one finding (the host accepts 64).
const MAX_EVIDENCE: usize = 32;
/// How much of each matched term a message quotes.
const MESSAGE_TERM: usize = 64;

/// A severity's order, least serious first (the WIT enum's declaration order).
pub fn severity_rank(severity: Severity) -> u8 {
    severity as u8
}

/// The plugin: the compiled rule set and its automata, built once per instance.
pub struct Claims {
    checker: Result<Checker, PluginError>,
}

struct Checker {
    compiled: Compiled,
    matcher: Matcher,
}

/// What the plugin remembers about a listing between events.
#[derive(Default, Serialize, Deserialize)]
struct ListingRecord {
    /// The listing's price changes.
    #[serde(default)]
    history: History,
    /// The rules whose findings on the listing are live (not cleared).
    #[serde(default)]
    flagged: Vec<String>,
}

impl Plugin for Claims {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "claims",
            env!("CARGO_PKG_VERSION"),
            "misleading and prohibited advertising claims, and deceptive reference prices, in listings",
        )
        .subscribe(EventType::ListingUpserted)
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        let compiled = settings.compile()?;
        Matcher::new(&compiled).map(drop).map_err(|err| {
            SettingsError::new("rules", format!("the terms cannot be compiled: {err}"))
        })
    }

    fn new(settings: Settings) -> Self {
        let checker = settings
            .compile()
            .map_err(PluginError::from)
            .and_then(|compiled| {
                let matcher = Matcher::new(&compiled)
                    .map_err(|err| PluginError::new("bad_settings", err.to_string()))?;
                Ok(Checker { compiled, matcher })
            });
        Claims { checker }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let checker = self.checker.as_ref().map_err(Clone::clone)?;
        let Event::ListingUpserted(listing) = &envelope.event else {
            return Ok(Vec::new());
        };
        checker.check(ctx, envelope.occurred_at, listing)
    }
}

impl Checker {
    fn check(
        &self,
        ctx: &mut Context,
        at: Timestamp,
        listing: &ListingUpserted,
    ) -> Result<Vec<Finding>, PluginError> {
        let subject = Subject::listing(&listing.listing_id);
        let mut findings = self.text_findings(&subject, listing);

        let key = format!("listing:{}", listing.listing_id);
        let mut record: ListingRecord = ctx.state().get_json(&key)?.unwrap_or_default();
        if let Some(price) = self.compiled.price {
            let check = record.history.check(
                at,
                &listing.price,
                listing.reference_price.as_ref(),
                price.window_ms,
            );
            findings.extend(price_finding(&subject, listing, &check, price, at));
            record.history.record(at, &listing.price, price.window_ms);
        }

        let now: Vec<String> = findings.iter().map(|f| f.rule.clone()).collect();
        for rule in record.flagged.iter().filter(|rule| !now.contains(rule)) {
            findings.push(cleared(&subject, rule, &self.compiled));
        }
        record.flagged = now;
        let ttl = self
            .compiled
            .price
            .map_or(90 * 86_400_000, |p| p.history_ms);
        ctx.state().set_json(&key, &record, Some(ttl))?;
        Ok(findings)
    }

    /// One finding per rule that matched any text field.
    fn text_findings(&self, subject: &Subject, listing: &ListingUpserted) -> Vec<Finding> {
        let class = self.class_of(listing);
        // Only names the platform registered exempt anything; whatever else a seller
        // typed in an attribute is text like any other.
        let registered: Vec<(&str, &str, String)> = listing
            .attributes
            .iter()
            .filter(|(key, _)| self.is_name(key))
            .filter_map(|(key, value)| {
                let name = compiled::name_key(value);
                self.compiled.registered_names.contains(&name).then_some((
                    key.as_str(),
                    value.as_str(),
                    name,
                ))
            })
            .collect();
        let names: Vec<String> = registered.iter().map(|(_, _, name)| name.clone()).collect();
        let mut fields: Vec<(String, &str)> = vec![("title".into(), listing.title.as_str())];
        if let Some(description) = &listing.description {
            fields.push(("description".into(), description));
        }
        if self.compiled.scan_attributes {
            for (key, value) in &listing.attributes {
                if !registered
                    .iter()
                    .any(|(name_key, _, _)| *name_key == key.as_str())
                {
                    fields.push((clip(&format!("attributes.{key}"), MAX_FIELD_BYTES), value));
                }
            }
        }
        let rules = &self.compiled.rules;
        let mut by_rule: BTreeMap<usize, Vec<(&str, &str, Hit)>> = BTreeMap::new();
        let mut exempted = 0;
        for (field, text) in &fields {
            let scan = self.matcher.scan(text, class, rules, &names);
            exempted += scan.exempted;
            for hit in scan.hits {
                by_rule
                    .entry(hit.rule)
                    .or_default()
                    .push((field, text, hit));
            }
        }
        by_rule
            .into_iter()
            .filter_map(|(index, hits)| {
                let rule = &rules[index];
                let severity = rule.severity[class.index()]?;
                let mut finding = text_finding(subject, rule, severity, class, &hits);
                if exempted > 0 {
                    // Say which registered name kept which words out of the findings.
                    for (key, value, _) in &registered {
                        finding.evidence.push(
                            Evidence::field(clip(&format!("attributes.{key}"), MAX_FIELD_BYTES))
                                .detail(clip(
                                    &format!(
                                        "registered name {value}: {exempted} match(es) of its words not counted as claims (health claims always are)"
                                    ),
                                    MAX_EXCERPT_BYTES,
                                )),
                        );
                    }
                }
                Some(finding)
            })
            .collect()
    }

    fn is_name(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        self.compiled.name_attributes.contains(&key)
    }

    /// The product class of a listing: a drug or device when it carries a registration
    /// number, else what its category path says ([`category::classify`]).
    fn class_of(&self, listing: &ListingUpserted) -> Class {
        let registered = |text: &str| {
            self.compiled
                .drug_registrations
                .iter()
                .any(|marker| text.contains(marker.as_str()))
        };
        if registered(&listing.title)
            || listing.description.as_deref().is_some_and(registered)
            || listing
                .attributes
                .iter()
                .any(|(_, value)| registered(value))
        {
            return Class::Drug;
        }
        listing.category.as_deref().map_or(Class::General, |path| {
            category::classify(path, &self.compiled.categories)
        })
    }
}

fn text_finding(
    subject: &Subject,
    rule: &compiled::Rule,
    severity: Severity,
    class: Class,
    hits: &[(&str, &str, Hit)],
) -> Finding {
    let mut terms: Vec<String> = Vec::new();
    for (_, text, hit) in hits {
        let excerpt = clip(&text[hit.start..hit.end], MESSAGE_TERM);
        if !terms.contains(&excerpt) {
            terms.push(excerpt);
        }
    }
    let shown: Vec<&str> = terms.iter().take(8).map(String::as_str).collect();
    let more = terms.len().saturating_sub(shown.len());
    let count = if hits.len() == 1 {
        rule.what.clone()
    } else {
        format!("{} × {}", hits.len(), rule.what)
    };
    let mut message = format!(
        "{count} on a {} listing: {}",
        class.as_str(),
        shown.join(", ")
    );
    if more > 0 {
        message.push_str(&format!(" and {more} more"));
    }
    message.push_str(&format!(" ({})", rule.basis));
    let message = clip(&message, MAX_MESSAGE_BYTES);
    let mut builder = Finding::builder(subject.clone())
        .rule(&rule.id)
        .category(rule.category)
        .severity(severity)
        .message(message);
    for (field, text, hit) in hits.iter().take(MAX_EVIDENCE) {
        let evidence = Evidence::field(*field).span(hit.start, hit.end);
        builder =
            builder.evidence(evidence.excerpt(clip(&text[hit.start..hit.end], MAX_EXCERPT_BYTES)));
    }
    if hits.len() > MAX_EVIDENCE {
        builder = builder.evidence(Evidence::field("listing").detail(format!(
            "{} more matches not listed",
            hits.len() - MAX_EVIDENCE
        )));
    }
    builder.build()
}

fn price_finding(
    subject: &Subject,
    listing: &ListingUpserted,
    check: &Check,
    price: compiled::Price,
    at: Timestamp,
) -> Option<Finding> {
    let reference = listing.reference_price.as_ref()?;
    let days = price.window_ms / 86_400_000;
    let shown = |m: &Money| format!("{} {}", m.to_decimal_string(), m.currency);
    let (rule, severity, message, detail) = match check {
        Check::NotADiscount | Check::Honest => return None,
        Check::Unverified => (
            UNVERIFIED_PRICE_RULE,
            price.unverified?,
            format!(
                "reference price {} is shown but no earlier price of this listing is known: it was never seen charged",
                shown(reference)
            ),
            "no earlier price in this currency".to_string(),
        ),
        Check::AboveLowest { lowest, since } => (
            PRICE_RULE,
            price.severity,
            format!(
                "reference price {} is above {}, the lowest price of this listing in the {days} days before (明码标价和禁止价格欺诈规定 art. 17)",
                shown(reference),
                shown(lowest)
            ),
            format!(
                "lowest {} in effect from {} ({} h before this event)",
                shown(lowest),
                since,
                (at - since).max(0) / 3_600_000
            ),
        ),
    };
    Some(
        Finding::builder(subject.clone())
            .rule(rule)
            .category(Category::PriceDeception)
            .severity(severity)
            .message(message)
            .evidence(Evidence::field("reference_price").detail(format!(
                "{} now; current price {}",
                shown(reference),
                shown(&listing.price)
            )))
            .evidence(Evidence::field("price").detail(detail))
            .build(),
    )
}

/// An `info` finding that replaces an earlier finding of `rule` once the listing no
/// longer matches it.
fn cleared(subject: &Subject, rule: &str, compiled: &Compiled) -> Finding {
    let category = compiled
        .rules
        .iter()
        .find(|r| r.id == rule)
        .map(|r| r.category)
        .unwrap_or(if rule.starts_with(PRICE_RULE) {
            Category::PriceDeception
        } else {
            Category::Other
        });
    Finding::builder(subject.clone())
        .rule(rule)
        .category(category)
        .severity(Severity::Info)
        .message(format!("cleared: the listing no longer matches {rule}"))
        .evidence(Evidence::field("listing").detail("re-checked after an update"))
        .build()
}

probity_sdk::export_plugin!(Claims);
