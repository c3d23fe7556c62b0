//! A plugin in the SDK's harness that keeps the live findings per subject and rule, as
//! the host's verdicts do (a newer finding of a rule replaces the older one), and checks
//! on the way that no call failed and every finding has evidence.

use std::collections::BTreeMap;

use probity_sdk::prelude::*;
use probity_sdk::testing::{Harness, Outcome};

/// The harness and the live findings by (subject id, rule).
pub struct Probe<P: Plugin> {
    /// The plugin in the SDK's harness.
    pub harness: Harness<P>,
    /// The latest finding per (subject id, rule).
    pub live: BTreeMap<(String, String), Finding>,
}

impl<P: Plugin> Probe<P> {
    /// The plugin with `settings` (JSON).
    pub fn new(settings: &str) -> Self {
        Probe {
            harness: Harness::new(settings).expect("settings"),
            live: BTreeMap::new(),
        }
    }

    /// Keep an outcome's findings, checking none is an error or lacks evidence.
    pub fn keep(&mut self, outcome: &Outcome) -> Vec<Finding> {
        assert!(outcome.errors().is_empty(), "{:?}", outcome.errors());
        let findings: Vec<Finding> = outcome.findings().into_iter().cloned().collect();
        for f in &findings {
            assert!(!f.evidence.is_empty(), "no evidence: {f:?}");
            self.live
                .insert((f.subject.id.clone(), f.rule.clone()), f.clone());
        }
        findings
    }

    /// Deliver an event; the findings it produced.
    pub fn send(&mut self, envelope: Envelope) -> Vec<Finding> {
        let outcome = self.harness.handle(envelope);
        self.keep(&outcome)
    }

    /// Move event time to `to`; the findings of the timers that fired.
    pub fn advance(&mut self, to: i64) -> Vec<Finding> {
        let outcome = self.harness.advance_clock(to);
        self.keep(&outcome)
    }

    /// The live finding of `rule` on `subject`.
    pub fn rule(&self, subject: &str, rule: &str) -> Option<&Finding> {
        self.live.get(&(subject.to_string(), rule.to_string()))
    }

    /// The strongest live severity of `rules` on `subject`.
    pub fn level(&self, subject: &str, rules: &[&str]) -> Option<Severity> {
        rules
            .iter()
            .filter_map(|r| self.rule(subject, r))
            .map(|f| f.severity)
            .max_by_key(|s| *s as u8)
    }
}

/// The sorted subject ids of the findings of `rule`.
pub fn subjects(findings: &[Finding], rule: &str) -> Vec<String> {
    let mut ids: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.subject.id.clone())
        .collect();
    ids.sort();
    ids
}
