//! The plugin's settings, as a compliance team writes them in the host configuration, and
//! their resolution against the built-in defaults into a
//! [`Compiled`](crate::compiled::Compiled) rule set (in `compiled.rs`).
//!
//! Every word list takes the same three keys, so a team can keep the defaults and adjust
//! them rather than copy them: `add` (more entries), `remove` (drop default entries; a
//! name that is not in the list is refused, which catches typos) and `replace` (a whole
//! new list). Rules add `enabled`, `severity` (one level, or a table per product class
//! with `"off"` to switch the rule off for that class) and `terms` (replace). A rule id
//! that is not built in defines a new rule and then needs `category` and `terms`.
//!
//! ```toml
//! [plugins.claims.settings.rules.absolute_term]
//! add = ["宇宙无敌"]
//! remove = ["至尊"]
//!
//! [plugins.claims.settings.rules.medical_claim]
//! severity = { general = "medium" }
//!
//! [plugins.claims.settings.price]
//! window_days = 30
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// The settings table.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Per-rule changes and new rules, by rule id without the `claims.` prefix.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Phrases that are never claims.
    pub allow_phrases: ListEdit,
    /// Materials that, closely following `100%`, make it a content statement.
    pub materials: ListEdit,
    /// Negation words.
    pub negations: ListEdit,
    /// Signs of comparing with the seller's own products.
    pub self_comparisons: ListEdit,
    /// Words that make a comparison external again.
    pub external_scopes: ListEdit,
    /// Signs that an evidence claim cites a source.
    pub source_markers: ListEdit,
    /// English verbs of a medical claim.
    pub medical_verbs: ListEdit,
    /// Illnesses that complete a medical claim.
    pub conditions: ListEdit,
    /// English superlatives ("best", "finest") that a world scope makes absolute.
    pub superlatives: ListEdit,
    /// World scopes ("in the world", "on the market") that make a superlative before
    /// them in the same clause an absolute term.
    pub world_scopes: ListEdit,
    /// Words after a negated term that turn the negation into a claim again
    /// (不是最好的**不卖**).
    pub negation_flips: ListEdit,
    /// Phrases whose negation word negates nothing ("don't miss").
    pub not_negations: ListEdit,
    /// Attribute keys whose values are product names (brand, model…).
    pub name_attributes: ListEdit,
    /// Brand and product names the platform has registered. Only when a name attribute's
    /// value is exactly one of them (ignoring case and spacing) are that name's words in
    /// the listing exempt — and never from a health claim. Whatever else a seller types
    /// in an attribute is checked like any other text.
    pub registered_names: ListEdit,
    /// Registration-number markers of licensed drugs and medical devices (国药准字,
    /// 械注准…): a listing carrying one is judged as a drug or device.
    pub drug_registrations: ListEdit,
    /// Category prefixes per product class.
    pub categories: CategorySettings,
    /// Whether attribute values (other than names) are checked too. Default `true`.
    pub scan_attributes: Option<bool>,
    /// How far before a term a negation still counts, in words or CJK characters.
    /// Default 6.
    pub negation_window: Option<u32>,
    /// The reference-price check.
    pub price: PriceSettings,
}

/// Changes to one default list.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListEdit {
    /// A whole new list instead of the default.
    pub replace: Option<Vec<String>>,
    /// Entries added to the list.
    pub add: Vec<String>,
    /// Default entries dropped from the list.
    pub remove: Vec<String>,
}

/// Category prefixes per product class (`general` is everything else).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategorySettings {
    /// Food, drinks, supplements.
    pub food: ListEdit,
    /// Cosmetics and personal care.
    pub cosmetics: ListEdit,
    /// Drugs and medical devices.
    pub drug: ListEdit,
}

/// Changes to one rule, or a new rule.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// `false` switches the rule off.
    pub enabled: Option<bool>,
    /// One severity for every class the rule applies to, or a table per class.
    pub severity: Option<SeverityOverride>,
    /// A whole new term list.
    pub terms: Option<Vec<String>>,
    /// Terms added.
    pub add: Vec<String>,
    /// Default terms dropped.
    pub remove: Vec<String>,
    /// The category of a new rule (or a changed one), as in the contract.
    pub category: Option<String>,
    /// What one match of a new rule is, for messages ("banned slogan").
    pub what: Option<String>,
}

/// `severity = "high"` or `severity = { food = "critical", general = "off" }`.
#[derive(Debug)]
pub enum SeverityOverride {
    /// The same level everywhere the rule applies.
    All(String),
    /// Levels (or `"off"`) per class.
    PerClass(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for SeverityOverride {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expecting;
        impl<'de> Visitor<'de> for Expecting {
            type Value = SeverityOverride;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a severity like \"high\", or a table of class = severity or \"off\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(SeverityOverride::All(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((class, level)) = map.next_entry::<String, String>()? {
                    out.insert(class, level);
                }
                Ok(SeverityOverride::PerClass(out))
            }
        }
        deserializer.deserialize_any(Expecting)
    }
}

/// The reference-price check.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriceSettings {
    /// `false` switches the check off. Default `true`.
    pub enabled: Option<bool>,
    /// The reference price must not exceed the lowest price of the listing in this many
    /// days before the event. Default 7 (the PRC rule; the EU uses 30). 1–365.
    pub window_days: Option<u32>,
    /// How long a listing's price history is kept after its last event. Default 90;
    /// at least `window_days`.
    pub history_days: Option<u32>,
    /// Severity of a reference price above that lowest price. Default `high`.
    pub severity: Option<String>,
    /// Severity of a reference price when no earlier price of the listing is known, or
    /// `"off"`. Default `medium`.
    pub unverified: Option<String>,
}
