//! Settings resolved against the built-in defaults: the [`Compiled`] rule set the matcher
//! and the price check use, and the checks that refuse inconsistent settings with the
//! path of the offending one.

use std::collections::BTreeSet;

use probity_sdk::prelude::{Category, SettingsError, Severity};

use crate::lexicon;
use crate::rules::{self, Class, Kind};
use crate::settings::{
    CategorySettings, ListEdit, PriceSettings, RuleSettings, Settings, SeverityOverride,
};

/// Longest accepted term or phrase, in bytes.
const MAX_TERM_BYTES: usize = 256;
/// Most entries in one list (terms of a rule, or a word list).
const MAX_LIST_LEN: usize = 5_000;

/// One resolved rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The reported id: `claims.absolute_term`.
    pub id: String,
    /// Its category.
    pub category: Category,
    /// How its terms match.
    pub kind: Kind,
    /// Severity per class; `None` where it does not apply.
    pub severity: [Option<Severity>; 4],
    /// Whether self-comparison takes a match out of the rule.
    pub self_comparable: bool,
    /// What one match is.
    pub what: String,
    /// Why it is a rule.
    pub basis: String,
    /// Its terms.
    pub terms: Vec<String>,
}

/// The resolved word lists.
#[derive(Clone, Debug)]
pub struct Lists {
    /// See [`Settings::allow_phrases`].
    pub allow_phrases: Vec<String>,
    /// See [`Settings::materials`].
    pub materials: Vec<String>,
    /// See [`Settings::negations`].
    pub negations: Vec<String>,
    /// See [`Settings::self_comparisons`].
    pub self_comparisons: Vec<String>,
    /// See [`Settings::external_scopes`].
    pub external_scopes: Vec<String>,
    /// See [`Settings::source_markers`].
    pub source_markers: Vec<String>,
    /// See [`Settings::medical_verbs`].
    pub medical_verbs: Vec<String>,
    /// See [`Settings::conditions`].
    pub conditions: Vec<String>,
    /// See [`Settings::superlatives`].
    pub superlatives: Vec<String>,
    /// See [`Settings::world_scopes`].
    pub world_scopes: Vec<String>,
    /// See [`Settings::negation_flips`].
    pub negation_flips: Vec<String>,
    /// See [`Settings::not_negations`].
    pub not_negations: Vec<String>,
}

/// The resolved reference-price check.
#[derive(Clone, Copy, Debug)]
pub struct Price {
    /// The look-back window in milliseconds.
    pub window_ms: i64,
    /// How long history lives after the last event, in milliseconds.
    pub history_ms: u64,
    /// Severity of a reference price above the window's lowest price.
    pub severity: Severity,
    /// Severity of an unverifiable reference price, if reported at all.
    pub unverified: Option<Severity>,
}

/// Settings resolved against the defaults: everything the matcher and the price check
/// need, checked.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The enabled rules, in report order.
    pub rules: Vec<Rule>,
    /// The word lists.
    pub lists: Lists,
    /// Attribute keys holding product names (ASCII lower-case).
    pub name_attributes: Vec<String>,
    /// Registered names, as [`name_key`] makes them.
    pub registered_names: Vec<String>,
    /// Markers of a drug or device registration number.
    pub drug_registrations: Vec<String>,
    /// `(prefix, class)`, longest prefix first, ASCII lower-case.
    pub categories: Vec<(String, Class)>,
    /// Whether non-name attribute values are checked.
    pub scan_attributes: bool,
    /// Negation reach, in words or CJK characters.
    pub negation_window: usize,
    /// The reference-price check, if enabled.
    pub price: Option<Price>,
}

const DAY_MS: i64 = 86_400_000;

/// How a product name is compared with the registered ones: normalised (see
/// [`text::Normalized`]), ASCII lower-case, inner whitespace collapsed, trimmed.
pub fn name_key(name: &str) -> String {
    let normalized = crate::text::Normalized::new(name.trim());
    normalized
        .text
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Rule {
    /// Whether the rule is about health (medical, clinical, drug or cosmeceutical
    /// claims): no product name exempts a match of it.
    pub fn is_health(&self) -> bool {
        matches!(
            self.id.as_str(),
            "claims.medical_claim"
                | "claims.clinical_claim"
                | "claims.cosmeceutical"
                | "claims.drug_guarantee"
        )
    }
}

impl Settings {
    /// Resolve against the defaults, refusing anything inconsistent with the path of the
    /// offending setting.
    pub fn compile(&self) -> Result<Compiled, SettingsError> {
        let lists = Lists {
            allow_phrases: self
                .allow_phrases
                .resolve(lexicon::ALLOW_PHRASES, "allow_phrases")?,
            materials: self.materials.resolve(lexicon::MATERIALS, "materials")?,
            negations: self.negations.resolve(lexicon::NEGATIONS, "negations")?,
            self_comparisons: self
                .self_comparisons
                .resolve(lexicon::SELF_COMPARISONS, "self_comparisons")?,
            external_scopes: self
                .external_scopes
                .resolve(lexicon::EXTERNAL_SCOPES, "external_scopes")?,
            source_markers: self
                .source_markers
                .resolve(lexicon::SOURCE_MARKERS, "source_markers")?,
            medical_verbs: self
                .medical_verbs
                .resolve(lexicon::MEDICAL_VERBS, "medical_verbs")?,
            conditions: self.conditions.resolve(lexicon::CONDITIONS, "conditions")?,
            superlatives: self
                .superlatives
                .resolve(lexicon::SUPERLATIVES, "superlatives")?,
            world_scopes: self
                .world_scopes
                .resolve(lexicon::WORLD_SCOPES, "world_scopes")?,
            negation_flips: self
                .negation_flips
                .resolve(lexicon::NEGATION_FLIPS, "negation_flips")?,
            not_negations: self
                .not_negations
                .resolve(lexicon::NOT_NEGATIONS, "not_negations")?,
        };
        let name_attributes = self
            .name_attributes
            .resolve(lexicon::NAME_ATTRIBUTES, "name_attributes")?
            .into_iter()
            .map(|key| key.to_ascii_lowercase())
            .collect();
        let registered_names = self
            .registered_names
            .resolve(lexicon::REGISTERED_NAMES, "registered_names")?
            .iter()
            .map(|name| name_key(name))
            .filter(|name| !name.is_empty())
            .collect();
        let drug_registrations = self
            .drug_registrations
            .resolve(lexicon::DRUG_REGISTRATIONS, "drug_registrations")?;
        let negation_window = match self.negation_window {
            Some(n) if n > 50 => return Err(err("negation_window", "must be 0–50")),
            Some(n) => n as usize,
            None => 6,
        };
        Ok(Compiled {
            rules: self.compile_rules()?,
            lists,
            name_attributes,
            registered_names,
            drug_registrations,
            categories: self.categories.compile()?,
            scan_attributes: self.scan_attributes.unwrap_or(true),
            negation_window,
            price: self.price.compile()?,
        })
    }

    fn compile_rules(&self) -> Result<Vec<Rule>, SettingsError> {
        let builtin = rules::builtin();
        let mut out = Vec::new();
        for def in &builtin {
            let edit = self.rules.get(def.id);
            let path = format!("rules.{}", def.id);
            let mut rule = Rule {
                id: format!("claims.{}", def.id),
                category: def.category,
                kind: def.kind,
                severity: def.severity,
                self_comparable: def.self_comparable,
                what: def.what.to_string(),
                basis: def.basis.to_string(),
                terms: Vec::new(),
            };
            let Some(edit) = edit else {
                rule.terms = def.terms.iter().map(|t| t.to_string()).collect();
                out.push(rule);
                continue;
            };
            if let Some(category) = &edit.category {
                rule.category = parse_category(category, &format!("{path}.category"))?;
            }
            if let Some(what) = &edit.what {
                rule.what = what.clone();
            }
            rule.severity = apply_severity(def.severity, edit.severity.as_ref(), &path)?;
            rule.terms = edit.terms_over(def.terms, &path)?;
            if edit.enabled != Some(false) {
                out.push(rule);
            }
        }
        for (id, edit) in &self.rules {
            if builtin.iter().any(|def| def.id == id) {
                continue;
            }
            out.extend(custom_rule(id, edit, &builtin)?);
        }
        Ok(out)
    }
}

/// A rule the settings define: needs an id, a category and terms.
fn custom_rule(
    id: &str,
    edit: &RuleSettings,
    builtin: &[rules::RuleDef],
) -> Result<Option<Rule>, SettingsError> {
    let path = format!("rules.{id}");
    let valid_id = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_id {
        return Err(err(&path, "a rule id is 1–64 characters of a-z, 0-9 and _"));
    }
    let known: Vec<&str> = builtin.iter().map(|def| def.id).collect();
    let Some(category) = &edit.category else {
        return Err(err(
            &path,
            &format!(
                "`{id}` is not a built-in rule ({}); a new rule needs `category` and `terms`",
                known.join(", ")
            ),
        ));
    };
    let category = parse_category(category, &format!("{path}.category"))?;
    if edit.terms.is_none() || !edit.remove.is_empty() {
        return Err(err(
            &path,
            "a new rule needs `terms` (and has no defaults to `remove`)",
        ));
    }
    let default = [Some(Severity::Medium); 4];
    let rule = Rule {
        id: format!("claims.{id}"),
        category,
        kind: Kind::Term,
        severity: apply_severity(default, edit.severity.as_ref(), &path)?,
        self_comparable: false,
        what: edit
            .what
            .clone()
            .unwrap_or_else(|| format!("term of rule {id}")),
        basis: "a rule of this deployment's configuration".to_string(),
        terms: edit.terms_over(&[], &path)?,
    };
    Ok((edit.enabled != Some(false)).then_some(rule))
}

impl RuleSettings {
    /// The rule's terms: `terms` or the defaults, then `remove` and `add`.
    fn terms_over(&self, defaults: &[&str], path: &str) -> Result<Vec<String>, SettingsError> {
        let edit = ListEdit {
            replace: self.terms.clone(),
            add: self.add.clone(),
            remove: self.remove.clone(),
        };
        let terms = edit.resolve_with(defaults, path, "terms")?;
        if terms.is_empty() {
            return Err(err(
                &format!("{path}.terms"),
                "a rule needs at least one term",
            ));
        }
        Ok(terms)
    }
}

impl ListEdit {
    /// The default list with this edit applied.
    pub fn resolve(&self, defaults: &[&str], path: &str) -> Result<Vec<String>, SettingsError> {
        self.resolve_with(defaults, path, "replace")
    }

    fn resolve_with(
        &self,
        defaults: &[&str],
        path: &str,
        replace_key: &str,
    ) -> Result<Vec<String>, SettingsError> {
        let mut list: Vec<String> = match &self.replace {
            Some(replace) => {
                check_entries(replace, &format!("{path}.{replace_key}"))?;
                replace.clone()
            }
            None => defaults.iter().map(|s| s.to_string()).collect(),
        };
        for (i, gone) in self.remove.iter().enumerate() {
            let before = list.len();
            list.retain(|entry| !entry.eq_ignore_ascii_case(gone));
            if list.len() == before {
                return Err(err(
                    &format!("{path}.remove[{i}]"),
                    &format!("`{gone}` is not in the list, so it cannot be removed"),
                ));
            }
        }
        check_entries(&self.add, &format!("{path}.add"))?;
        list.extend(self.add.iter().cloned());
        let mut seen = BTreeSet::new();
        list.retain(|entry| seen.insert(entry.to_ascii_lowercase()));
        if list.len() > MAX_LIST_LEN {
            return Err(err(path, &format!("at most {MAX_LIST_LEN} entries")));
        }
        Ok(list)
    }
}

fn check_entries(entries: &[String], path: &str) -> Result<(), SettingsError> {
    for (i, entry) in entries.iter().enumerate() {
        if entry.trim().is_empty() {
            return Err(err(&format!("{path}[{i}]"), "must not be empty"));
        }
        if entry.len() > MAX_TERM_BYTES {
            return Err(err(
                &format!("{path}[{i}]"),
                &format!("at most {MAX_TERM_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

impl CategorySettings {
    fn compile(&self) -> Result<Vec<(String, Class)>, SettingsError> {
        let mut out = Vec::new();
        let classes = [
            (
                &self.food,
                lexicon::FOOD_CATEGORIES,
                Class::Food,
                "categories.food",
            ),
            (
                &self.cosmetics,
                lexicon::COSMETICS_CATEGORIES,
                Class::Cosmetics,
                "categories.cosmetics",
            ),
            (
                &self.drug,
                lexicon::DRUG_CATEGORIES,
                Class::Drug,
                "categories.drug",
            ),
        ];
        for (edit, defaults, class, path) in classes {
            for prefix in edit.resolve(defaults, path)? {
                out.push((prefix.trim_matches('/').to_ascii_lowercase(), class));
            }
        }
        out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }
}

impl PriceSettings {
    fn compile(&self) -> Result<Option<Price>, SettingsError> {
        if self.enabled == Some(false) {
            return Ok(None);
        }
        let window_days = self.window_days.unwrap_or(7);
        if !(1..=365).contains(&window_days) {
            return Err(err("price.window_days", "must be 1–365 days"));
        }
        let history_days = self.history_days.unwrap_or(90.max(window_days));
        if history_days < window_days || history_days > 3650 {
            return Err(err(
                "price.history_days",
                "must be at least `window_days` and at most 3650",
            ));
        }
        let severity = match &self.severity {
            Some(level) => Severity::from_setting("price.severity", level)?,
            None => Severity::High,
        };
        let unverified = match self.unverified.as_deref() {
            Some("off") => None,
            Some(level) => Some(Severity::from_setting("price.unverified", level)?),
            None => Some(Severity::Medium),
        };
        Ok(Some(Price {
            window_ms: i64::from(window_days) * DAY_MS,
            history_ms: u64::from(history_days) * DAY_MS as u64,
            severity,
            unverified,
        }))
    }
}

fn apply_severity(
    default: [Option<Severity>; 4],
    over: Option<&SeverityOverride>,
    path: &str,
) -> Result<[Option<Severity>; 4], SettingsError> {
    let path = format!("{path}.severity");
    let mut out = default;
    match over {
        None => {}
        Some(SeverityOverride::All(level)) => {
            let level = Severity::from_setting(&path, level)?;
            for slot in out.iter_mut().filter(|slot| slot.is_some()) {
                *slot = Some(level);
            }
        }
        Some(SeverityOverride::PerClass(table)) => {
            for (class, level) in table {
                let field = format!("{path}.{class}");
                let Some(class) = Class::parse(class) else {
                    return Err(err(&field, "classes are general, food, cosmetics and drug"));
                };
                out[class.index()] = match level.as_str() {
                    "off" => None,
                    level => Some(Severity::from_setting(&field, level)?),
                };
            }
        }
    }
    Ok(out)
}

fn parse_category(name: &str, path: &str) -> Result<Category, SettingsError> {
    Ok(match name {
        "misleading_claim" => Category::MisleadingClaim,
        "prohibited_claim" => Category::ProhibitedClaim,
        "price_deception" => Category::PriceDeception,
        "other" => Category::Other,
        other => {
            return Err(err(
                path,
                &format!(
                    "`{other}` is not a category for listing claims: use misleading_claim, prohibited_claim, price_deception or other"
                ),
            ));
        }
    })
}

fn err(field: &str, message: &str) -> SettingsError {
    SettingsError::new(field, message)
}
