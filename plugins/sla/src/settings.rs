//! The plugin's settings as a compliance team writes them, and their resolution into a
//! checked [`Config`].
//!
//! ```toml
//! [plugins.sla.settings.ship]
//! hours = 48
//! by_category = { "food/fresh" = 24, "furniture" = 168 }
//!
//! [plugins.sla.settings.severity]
//! steps = [{ after_hours = 0, severity = "low" }, { after_hours = 24, severity = "medium" }]
//! ```

use std::collections::BTreeMap;

use probity_sdk::prelude::{SettingsError, Severity};
use serde::Deserialize;

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The settings table.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Shipping after payment.
    pub ship: ShipSettings,
    /// Answering complaints.
    pub complaint: ComplaintSettings,
    /// Completing refunds.
    pub refund: RefundSettings,
    /// How severity grows with lateness.
    pub severity: SeveritySettings,
    /// The seller's rolling record.
    pub seller: SellerSettings,
}

/// See [`Settings::ship`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShipSettings {
    /// Whether shipping is checked (true).
    pub enabled: Option<bool>,
    /// Hours from payment to shipment (48).
    pub hours: Option<u32>,
    /// Hours for a presale order that names no `promised_ship_by` (360: 15 days).
    pub presale_hours: Option<u32>,
    /// Hours per category prefix of the listing (`"furniture" = 168`); the longest
    /// matching prefix wins.
    pub by_category: BTreeMap<String, u32>,
}

/// See [`Settings::complaint`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintSettings {
    /// Whether complaints are checked (true).
    pub enabled: Option<bool>,
    /// Hours from opening to the seller's first response (24).
    pub hours: Option<u32>,
}

/// See [`Settings::refund`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefundSettings {
    /// Whether refunds are checked (true).
    pub enabled: Option<bool>,
    /// Hours from request to completion when no return is required (72).
    pub hours: Option<u32>,
    /// Hours when the goods must come back first (360: 15 days).
    pub return_hours: Option<u32>,
}

/// See [`Settings::severity`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeveritySettings {
    /// Steps by lateness, ascending; the first must start at 0 hours.
    pub steps: Option<Vec<Step>>,
}

/// One severity step.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// From this many hours late.
    pub after_hours: u32,
    /// This severity.
    pub severity: String,
}

/// See [`Settings::seller`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SellerSettings {
    /// Whether the seller's record is kept (true).
    pub enabled: Option<bool>,
    /// The rolling window in days (30).
    pub window_days: Option<u32>,
    /// Breaches ÷ deadlines decided above which the seller is flagged (0.1).
    pub max_breach_rate: Option<f64>,
    /// Deadlines decided in the window below which the rate means nothing (20).
    pub min_deadlines: Option<u32>,
    /// Severity of the seller finding (`"medium"`).
    pub severity: Option<String>,
}

/// The resolved settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Shipping deadline, or `None` when off.
    pub ship_ms: Option<i64>,
    /// Presale deadline without a promise.
    pub presale_ms: i64,
    /// Shipping deadline per category prefix, longest first.
    pub ship_by_category: Vec<(String, i64)>,
    /// Complaint deadline, or `None` when off.
    pub complaint_ms: Option<i64>,
    /// Refund deadlines (no return, return), or `None` when off.
    pub refund_ms: Option<(i64, i64)>,
    /// Severity steps: (from lateness, severity), ascending.
    pub steps: Vec<(i64, Severity)>,
    /// The seller record: (window, max rate, min deadlines, severity), or `None`.
    pub seller: Option<SellerRule>,
}

/// The resolved seller-record rule.
#[derive(Clone, Copy, Debug)]
pub struct SellerRule {
    /// The rolling window in days.
    pub window_days: i64,
    /// The highest acceptable breach rate.
    pub max_rate: f64,
    /// Deadlines needed before the rate counts.
    pub min_deadlines: u32,
    /// Severity of the finding.
    pub severity: Severity,
}

fn hours(field: &str, value: Option<u32>, default: u32) -> Result<i64, SettingsError> {
    let value = value.unwrap_or(default);
    if value == 0 || value > 24 * 366 {
        return Err(SettingsError::new(
            field,
            format!("must be between 1 and 8784 hours, got {value}"),
        ));
    }
    Ok(i64::from(value) * HOUR_MS)
}

/// The severity named `value`, or `default` when unset.
fn severity(
    field: &str,
    value: Option<&str>,
    default: Severity,
) -> Result<Severity, SettingsError> {
    value.map_or(Ok(default), |name| Severity::from_setting(field, name))
}

impl Settings {
    /// Resolve against the defaults, refusing the first value out of range.
    pub fn resolve(&self) -> Result<Config, SettingsError> {
        let ship_ms = hours("ship.hours", self.ship.hours, 48)?;
        let presale_ms = hours("ship.presale_hours", self.ship.presale_hours, 360)?;
        let mut ship_by_category = Vec::new();
        for (prefix, value) in &self.ship.by_category {
            let field = format!("ship.by_category.{prefix}");
            if prefix.trim().is_empty() {
                return Err(SettingsError::new(
                    field,
                    "a category prefix cannot be empty",
                ));
            }
            ship_by_category.push((prefix.clone(), hours(&field, Some(*value), 48)?));
        }
        ship_by_category.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let complaint_ms = hours("complaint.hours", self.complaint.hours, 24)?;
        let refund_ms = hours("refund.hours", self.refund.hours, 72)?;
        let return_ms = hours("refund.return_hours", self.refund.return_hours, 360)?;
        let steps = match &self.severity.steps {
            None => vec![(0, Severity::Low), (24 * HOUR_MS, Severity::Medium)],
            Some(steps) => {
                let mut resolved = Vec::new();
                for (i, step) in steps.iter().enumerate() {
                    let field = format!("severity.steps[{i}]");
                    let from = i64::from(step.after_hours) * HOUR_MS;
                    if i == 0 && from != 0 {
                        return Err(SettingsError::new(
                            format!("{field}.after_hours"),
                            "the first step must start at 0",
                        ));
                    }
                    if resolved.last().is_some_and(|(last, _)| *last >= from) {
                        return Err(SettingsError::new(
                            format!("{field}.after_hours"),
                            "steps must be in ascending order",
                        ));
                    }
                    resolved.push((
                        from,
                        severity(
                            &format!("{field}.severity"),
                            Some(&step.severity),
                            Severity::Low,
                        )?,
                    ));
                }
                if resolved.is_empty() {
                    return Err(SettingsError::new(
                        "severity.steps",
                        "give at least one step",
                    ));
                }
                resolved
            }
        };
        let s = &self.seller;
        let window_days = i64::from(s.window_days.unwrap_or(30));
        if !(1..=365).contains(&window_days) {
            return Err(SettingsError::new(
                "seller.window_days",
                format!("must be between 1 and 365, got {window_days}"),
            ));
        }
        let max_rate = s.max_breach_rate.unwrap_or(0.1);
        if !(0.0..1.0).contains(&max_rate) {
            return Err(SettingsError::new(
                "seller.max_breach_rate",
                format!("must be at least 0 and below 1, got {max_rate}"),
            ));
        }
        let seller = SellerRule {
            window_days,
            max_rate,
            min_deadlines: s.min_deadlines.unwrap_or(20).max(1),
            severity: severity("seller.severity", s.severity.as_deref(), Severity::Medium)?,
        };
        let on = |enabled: Option<bool>| enabled.unwrap_or(true);
        Ok(Config {
            ship_ms: on(self.ship.enabled).then_some(ship_ms),
            presale_ms,
            ship_by_category,
            complaint_ms: on(self.complaint.enabled).then_some(complaint_ms),
            refund_ms: on(self.refund.enabled).then_some((refund_ms, return_ms)),
            steps,
            seller: on(s.enabled).then_some(seller),
        })
    }
}

impl Config {
    /// The step reached at `late_ms` past a deadline: (index, severity).
    pub fn step(&self, late_ms: i64) -> (usize, Severity) {
        let index = self
            .steps
            .iter()
            .rposition(|(from, _)| late_ms >= *from)
            .unwrap_or(0);
        (index, self.steps[index].1)
    }

    /// The lateness at which the step after `index` starts, if any.
    pub fn next_step(&self, index: usize) -> Option<i64> {
        self.steps.get(index + 1).map(|(from, _)| *from)
    }

    /// The shipping deadline for a listing in `category`.
    pub fn ship_ms_for(&self, category: Option<&str>) -> Option<i64> {
        let default = self.ship_ms?;
        let Some(category) = category else {
            return Some(default);
        };
        Some(
            self.ship_by_category
                .iter()
                .find(|(prefix, _)| category.starts_with(prefix.as_str()))
                .map_or(default, |(_, ms)| *ms),
        )
    }
}
