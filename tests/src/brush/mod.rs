//! The brush-orders plugin against a generated marketplace with ground truth.
//!
//! [`market`] builds the marketplace (honest trade and the trap groups), [`rings`] adds
//! brushing rings, [`events`] renders it for the SDK harness or the host. This module
//! runs it — natively through the SDK's harness, or through the real component in the
//! host's pipeline — and scores the outcome per order.

pub mod events;
pub mod fixtures;
pub mod market;
mod populations;
pub mod rings;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use brush_orders::Brush;
use probity::config::{Limits, PluginConfig};
use probity_sdk::prelude::{Category, Finding, Severity, SubjectType};
use probity_sdk::testing::Harness;

use crate::harness;
use market::{Group, Market};

/// A subject: `("order", "O-1")`.
pub type SubjectKey = (String, String);

/// What a run left: per subject, the live findings by rule (category, severity rank
/// 0–4), plus every problem seen on the way.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Live findings: subject → rule → (category, severity rank).
    pub live: BTreeMap<SubjectKey, BTreeMap<String, (String, u8)>>,
    /// Findings reported, in all.
    pub findings: usize,
    /// Findings without evidence (must be none).
    pub without_evidence: Vec<String>,
    /// Plugin errors (must be none).
    pub errors: Vec<String>,
    /// State size at the end, in bytes (native runs).
    pub state_bytes: u64,
}

/// A severity's order, `info` 0 to `critical` 4 (the WIT enum's declaration order).
fn rank(severity: Severity) -> u8 {
    severity as u8
}

fn kind_name(kind: SubjectType) -> &'static str {
    kind.as_str()
}

impl Outcome {
    fn record(&mut self, finding: &Finding) {
        self.findings += 1;
        if finding.evidence.is_empty() {
            self.without_evidence
                .push(format!("{}: {}", finding.rule, finding.message));
        }
        let category = match finding.category {
            Category::BrushOrder => "BrushOrder",
            Category::ReviewManipulation => "ReviewManipulation",
            _ => "Other",
        }
        .to_string();
        self.live
            .entry((
                kind_name(finding.subject.kind).to_string(),
                finding.subject.id.clone(),
            ))
            .or_default()
            .insert(finding.rule.clone(), (category, rank(finding.severity)));
    }

    /// An order's action from its `brush_order` findings: 0 allow, 1 review, 2 block.
    pub fn order_level(&self, order: &str) -> u8 {
        self.level(("order".into(), order.into()), "BrushOrder")
    }

    /// The order's action from every finding on it, as the host computes it: 0 allow,
    /// 1 review, 2 block.
    pub fn order_action(&self, order: &str) -> u8 {
        let subject = ("order".to_string(), order.to_string());
        self.level(subject.clone(), "BrushOrder")
            .max(self.level(subject, "ReviewManipulation"))
    }

    /// Whether the order's review was flagged.
    pub fn review_flagged(&self, order: &str) -> bool {
        self.level(("order".into(), order.into()), "ReviewManipulation") > 0
    }

    /// The live rules on a seller.
    pub fn seller_rules(&self, seller: &str) -> BTreeSet<String> {
        self.live
            .get(&("seller".to_string(), seller.to_string()))
            .map(|rules| rules.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn level(&self, subject: SubjectKey, category: &str) -> u8 {
        let Some(rules) = self.live.get(&subject) else {
            return 0;
        };
        let worst = rules
            .values()
            .filter(|(c, _)| c == category)
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(0);
        match worst {
            0 | 1 => 0,
            2 => 1,
            _ => 2,
        }
    }
}

/// Run `market` through the plugin natively, with `settings` (JSON), then let event time
/// run two hours past the last event so every end-of-hour timer fires.
pub fn run_native(market: &Market, settings: &str) -> Outcome {
    let mut harness = Harness::<Brush>::new(settings).expect("settings accepted");
    let mut outcome = Outcome::default();
    let mut last = 0;
    for ev in &market.events {
        last = last.max(ev.at);
        let result = harness.handle(ev.envelope());
        for error in result.errors() {
            outcome
                .errors
                .push(format!("{}: {}: {}", ev.id, error.code, error.message));
        }
        for finding in result.findings() {
            outcome.record(finding);
        }
    }
    let result = harness.advance_clock(last + 2 * 3_600_000);
    for finding in result.findings() {
        outcome.record(finding);
    }
    outcome.errors.extend(
        result
            .errors()
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message)),
    );
    outcome.state_bytes = harness.state_bytes();
    outcome
}

/// Run `market` through the bundled component in the host's pipeline (default limits),
/// keeping the last verdict of every subject.
pub fn run_host(market: &Market, settings: serde_json::Value) -> Outcome {
    // A generous deadline: in the unoptimised test build the host's side of a call that
    // flags a whole ring can pass the default 100 ms on a loaded machine.
    let entry = PluginConfig {
        settings,
        limits: Limits {
            deadline_ms: 10_000,
            ..Limits::default()
        },
        ..PluginConfig::bundled("brush-orders")
    };
    let config = harness::config(vec![("brush-orders", entry)]);
    let (_dir, mut pipeline) = harness::pipeline(&config);
    let mut outcome = Outcome::default();
    for ev in &market.events {
        let report = pipeline
            .process(&harness::event(ev.json()))
            .expect("processed");
        for verdict in report.changes {
            let key = (
                verdict.subject.kind.as_str().to_string(),
                verdict.subject.id.clone(),
            );
            let mut rules = BTreeMap::new();
            for finding in verdict.findings {
                let category = serde_json::to_value(finding.category).expect("category");
                let category = category.as_str().unwrap_or_default().to_string();
                if category == "plugin_error" {
                    outcome
                        .errors
                        .push(format!("{}: {}", ev.id, finding.message));
                }
                let severity = serde_json::to_value(finding.severity).expect("severity");
                let rank = ["info", "low", "medium", "high", "critical"]
                    .iter()
                    .position(|s| Some(*s) == severity.as_str())
                    .unwrap_or(0) as u8;
                // The host's categories in the SDK's spelling.
                let category = match category.as_str() {
                    "brush_order" => "BrushOrder",
                    "review_manipulation" => "ReviewManipulation",
                    other => other,
                };
                rules.insert(finding.rule, (category.to_string(), rank));
            }
            outcome.live.insert(key, rules);
        }
    }
    outcome
}

/// Order-level quality of one run.
#[derive(Debug, Default)]
pub struct Scores {
    /// Brush orders flagged (review or block).
    pub true_positives: usize,
    /// Honest orders flagged.
    pub false_positives: usize,
    /// Brush orders not flagged.
    pub false_negatives: usize,
    /// Per group: (orders, flagged, blocked).
    pub groups: BTreeMap<String, (usize, usize, usize)>,
    /// Templated reviews: (flagged, missed); honest reviews flagged.
    pub reviews: (usize, usize, usize),
    /// Honest orders blocked, by group (must be none).
    pub trap_blocks: Vec<String>,
}

impl Scores {
    /// TP / (TP + FP).
    pub fn precision(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_positives).max(1) as f64
    }
    /// TP / (TP + FN).
    pub fn recall(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_negatives).max(1) as f64
    }
}

/// Score `outcome` against `market`'s truth.
pub fn score(market: &Market, outcome: &Outcome) -> Scores {
    let mut scores = Scores::default();
    let reviewed: BTreeSet<&str> = market
        .events
        .iter()
        .filter_map(|ev| match &ev.kind {
            events::EvKind::Review { order, .. } => Some(order.as_str()),
            _ => None,
        })
        .collect();
    for (order, truth) in &market.orders {
        let level = outcome.order_level(order);
        let name = match truth.group {
            Group::Ring(style) => format!("ring {style:?}"),
            group if truth.at_brushing_seller => format!("{group:?} at a brushing seller"),
            group => format!("{group:?}"),
        };
        let entry = scores.groups.entry(name.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(level > 0);
        entry.2 += usize::from(level > 1);
        match (truth.brush(), level > 0) {
            (true, true) => scores.true_positives += 1,
            (true, false) => scores.false_negatives += 1,
            (false, true) => scores.false_positives += 1,
            (false, false) => {}
        }
        if !truth.brush() && level > 1 {
            scores.trap_blocks.push(format!("{order} ({name})"));
        }
        if reviewed.contains(order.as_str()) {
            let farmed = market.farmed_reviews.contains(order);
            match (farmed, outcome.review_flagged(order)) {
                (true, true) => scores.reviews.0 += 1,
                (true, false) => scores.reviews.1 += 1,
                (false, true) => scores.reviews.2 += 1,
                (false, false) => {}
            }
        }
    }
    scores
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "brush orders: precision {:.3}, recall {:.3} (TP {}, FP {}, FN {})",
            self.precision(),
            self.recall(),
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )?;
        writeln!(
            f,
            "{:<36} {:>7} {:>8} {:>8}",
            "group", "orders", "flagged", "blocked"
        )?;
        for (group, (orders, flagged, blocked)) in &self.groups {
            writeln!(f, "{group:<36} {orders:>7} {flagged:>8} {blocked:>8}")?;
        }
        let (hit, missed, wrong) = self.reviews;
        write!(
            f,
            "farmed reviews: {hit} flagged, {missed} missed; honest reviews flagged: {wrong}"
        )
    }
}
