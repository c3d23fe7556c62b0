//! Findings and verdicts: what plugins report and how the host combines it.
//!
//! A [`Finding`] is one thing one plugin reported about one subject. A [`Verdict`] is the
//! host's current judgement of a subject: its live findings, the [`Action`] derived from
//! the findings of plugins in `enforce` mode, and a risk `score`. This module is pure
//! logic: no I/O, no wasmtime, no HTTP, so every rule here is unit-tested directly.
//!
//! Two rules shape a verdict:
//! - **Latest wins per rule.** A newer finding from the same plugin with the same `rule`
//!   replaces the older one in the verdict (the finding history keeps both). That lets a
//!   plugin revise itself, for example "not shipped" becoming "shipped 3 h late".
//! - **Monitor never acts.** Findings of plugins in `monitor` mode are kept and shown, but
//!   never change `action` or `score`.

use serde::{Deserialize, Serialize};

use crate::model::subject::Subject;
use crate::model::time::Timestamp;

/// How serious a finding is, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth recording; no action.
    Info,
    /// Minor.
    Low,
    /// Needs a human look.
    Medium,
    /// Should be stopped.
    High,
    /// Must be stopped now.
    Critical,
}

impl Severity {
    /// The weight of one enforce-mode finding of this severity in the risk score.
    fn score_weight(self) -> f64 {
        match self {
            Severity::Info => 0.0,
            Severity::Low => 0.1,
            Severity::Medium => 0.4,
            Severity::High => 0.8,
            Severity::Critical => 0.95,
        }
    }
}

/// The contract's finding categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Exaggerated or unprovable advertising claims.
    MisleadingClaim,
    /// Claims the law forbids outright.
    ProhibitedClaim,
    /// A fake reference price.
    PriceDeception,
    /// Fake orders.
    BrushOrder,
    /// Fake reviews.
    ReviewManipulation,
    /// Payment fraud.
    PaymentFraud,
    /// A broken service-level promise.
    SlaBreach,
    /// Refunds requested in bad faith (serial refund claims, 职业退款).
    RefundAbuse,
    /// A plugin failed while judging this subject (set by the host only).
    PluginError,
    /// Anything else.
    Other,
}

impl Category {
    /// The contract's name for this category, e.g. `sla_breach`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::MisleadingClaim => "misleading_claim",
            Category::ProhibitedClaim => "prohibited_claim",
            Category::PriceDeception => "price_deception",
            Category::BrushOrder => "brush_order",
            Category::ReviewManipulation => "review_manipulation",
            Category::PaymentFraud => "payment_fraud",
            Category::SlaBreach => "sla_breach",
            Category::RefundAbuse => "refund_abuse",
            Category::PluginError => "plugin_error",
            Category::Other => "other",
        }
    }
}

/// What the platform should do with a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    Allow,
    /// A human should look.
    Review,
    /// Stop it.
    Block,
}

impl Action {
    /// The contract's name for this action, e.g. `review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Review => "review",
            Action::Block => "block",
        }
    }
}

/// Whether a plugin's findings may change actions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Findings decide the action.
    #[default]
    Enforce,
    /// Findings are recorded and shown, never acted on.
    Monitor,
}

/// Which action each severity of an enforce-mode finding leads to (configurable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionMapping {
    /// Action for `info` findings.
    pub info: Action,
    /// Action for `low` findings.
    pub low: Action,
    /// Action for `medium` findings.
    pub medium: Action,
    /// Action for `high` findings.
    pub high: Action,
    /// Action for `critical` findings.
    pub critical: Action,
}

impl Default for ActionMapping {
    fn default() -> Self {
        ActionMapping {
            info: Action::Allow,
            low: Action::Allow,
            medium: Action::Review,
            high: Action::Block,
            critical: Action::Block,
        }
    }
}

impl ActionMapping {
    /// The action one enforce-mode finding of `severity` calls for.
    pub fn action_for(&self, severity: Severity) -> Action {
        match severity {
            Severity::Info => self.info,
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }
}

/// Evidence for a finding: a field, and either a text span with its excerpt or a detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The event field concerned, e.g. `title` or `buyer.device_id`.
    pub field: String,
    /// First byte of the match in the field, for text findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    /// One past the last byte of the match, for text findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u32>,
    /// The matched text, for text findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// Free text for a reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One finding as stored and served: the plugin's report plus what the host knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The configured name of the plugin that reported it.
    pub plugin: String,
    /// That plugin's version (from its manifest).
    pub plugin_version: String,
    /// The plugin's rule id.
    pub rule: String,
    /// The contract category.
    pub category: Category,
    /// How serious.
    pub severity: Severity,
    /// The plugin's mode when it reported this.
    pub mode: Mode,
    /// One sentence for a reviewer.
    pub message: String,
    /// What supports it.
    pub evidence: Vec<Evidence>,
    /// The event being handled when it was reported (for timers: the event whose clock
    /// advance fired the timer).
    pub event_id: String,
    /// Event time when it was reported.
    #[serde(with = "crate::model::time::rfc3339")]
    pub at: Timestamp,
}

impl Finding {
    /// Whether `other` says the same as this finding — same plugin, version, rule,
    /// category, severity, mode, message and evidence — whatever event raised it and when.
    pub fn same_claim(&self, other: &Finding) -> bool {
        self.plugin == other.plugin
            && self.plugin_version == other.plugin_version
            && self.rule == other.rule
            && self.category == other.category
            && self.severity == other.severity
            && self.mode == other.mode
            && self.message == other.message
            && self.evidence == other.evidence
    }
}

/// The current verdict on one subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What it is about.
    pub subject: Subject,
    /// What to do, from enforce-mode findings.
    pub action: Action,
    /// Risk in [0, 1], from enforce-mode findings.
    pub score: f64,
    /// The seller the subject belongs to, when known (an extension of the contract: the
    /// `seller_id` filter of the verdict list uses it). A seller's own id for sellers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    /// The live findings: the latest per (plugin, rule), in the order first reported.
    pub findings: Vec<Finding>,
    /// Event time of the last change.
    #[serde(with = "crate::model::time::rfc3339")]
    pub updated_at: Timestamp,
    /// Reviewers' decisions on its findings, oldest first (an extension of the contract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
}

/// What a reviewer decided about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The finding stands.
    Confirm,
    /// The finding was wrong: it no longer counts.
    Overturn,
}

/// A reviewer's decision (申诉 or review) on one finding of one subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The subject whose finding it is.
    pub subject: Subject,
    /// `confirm` or `overturn`.
    pub decision: DecisionKind,
    /// The finding decided on, as it was then.
    pub finding: Finding,
    /// Why, in the reviewer's words.
    pub note: String,
    /// Who decided (the token's name).
    pub reviewer: String,
    /// Event time when it was decided (the clock then).
    #[serde(with = "crate::model::time::rfc3339")]
    pub at: Timestamp,
    /// Its position in the event log.
    pub seq: u64,
    /// In a cluster: its id in the event stream (a message read twice is one decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Why a decision cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The subject has no live finding of that plugin and rule (and event).
    #[error("{0}")]
    NoSuchFinding(String),
}

impl Verdict {
    /// A verdict with no findings: `allow`, score 0.
    pub fn clean(subject: Subject, at: Timestamp) -> Self {
        Verdict {
            subject,
            action: Action::Allow,
            score: 0.0,
            seller_id: None,
            findings: Vec::new(),
            updated_at: at,
            decisions: Vec::new(),
        }
    }

    /// The live finding of `plugin` and `rule` (from `event_id`, when given).
    pub fn live_finding(
        &self,
        plugin: &str,
        rule: &str,
        event_id: Option<&str>,
    ) -> Result<&Finding, DecideError> {
        let found = self
            .findings
            .iter()
            .find(|f| f.plugin == plugin && f.rule == rule)
            .ok_or_else(|| {
                DecideError::NoSuchFinding(format!(
                    "{} `{}` has no live finding of plugin `{plugin}`, rule `{rule}`",
                    self.subject.kind.as_str(),
                    self.subject.id
                ))
            })?;
        match event_id {
            Some(event) if event != found.event_id => Err(DecideError::NoSuchFinding(format!(
                "the live finding of plugin `{plugin}`, rule `{rule}` on {} `{}` comes from event `{}`, not `{event}`",
                self.subject.kind.as_str(),
                self.subject.id,
                found.event_id
            ))),
            _ => Ok(found),
        }
    }

    /// Record `decision`; an overturned finding leaves the live findings (and the action
    /// and score), and the same finding for the same facts is not taken again (see
    /// [`Verdict::apply`]). Returns whether the verdict changed: a decision already
    /// recorded (the same log position, in a replay) changes nothing.
    pub fn decide(&mut self, decision: Decision, mapping: &ActionMapping) -> bool {
        if self.decisions.iter().any(|d| d.seq == decision.seq) {
            return false;
        }
        if decision.decision == DecisionKind::Overturn {
            let finding = &decision.finding;
            self.findings
                .retain(|f| !(f.plugin == finding.plugin && f.rule == finding.rule));
            self.recompute(mapping);
        }
        self.updated_at = self.updated_at.max(decision.at);
        self.decisions.push(decision);
        true
    }

    /// Whether a reviewer overturned a finding saying the same as `finding`.
    pub fn overturned(&self, finding: &Finding) -> bool {
        self.decisions
            .iter()
            .any(|d| d.decision == DecisionKind::Overturn && d.finding.same_claim(finding))
    }

    /// Add `finding`, replacing an earlier one with the same plugin and rule, and
    /// recompute action and score. Returns whether the verdict changed: a finding that
    /// says the same as the current one ([`Finding::same_claim`], e.g. a listing
    /// re-sent unchanged) changes nothing, and the current one keeps its event and time.
    pub fn apply(&mut self, finding: Finding, mapping: &ActionMapping) -> bool {
        // Overturned by a reviewer: the same claim on the same facts is not raised again.
        if self.overturned(&finding) {
            return false;
        }
        let same_rule = self
            .findings
            .iter_mut()
            .find(|f| f.plugin == finding.plugin && f.rule == finding.rule);
        match same_rule {
            Some(existing) if existing.same_claim(&finding) => return false,
            Some(existing) => *existing = finding.clone(),
            None => self.findings.push(finding.clone()),
        }
        self.updated_at = self.updated_at.max(finding.at);
        self.recompute(mapping);
        true
    }

    /// Remove `plugin`'s `plugin_error` findings: a later successful call of that plugin
    /// for this subject replaces them. A `plugin_error.quarantined` finding stays: the
    /// event it stands for was never checked (the call was not made), and a later check
    /// of another event does not check it. Returns whether the verdict changed.
    pub fn clear_plugin_errors(&mut self, plugin: &str, mapping: &ActionMapping) -> bool {
        let before = self.findings.len();
        self.findings.retain(|f| {
            !(f.plugin == plugin
                && f.category == Category::PluginError
                && f.rule != "plugin_error.quarantined")
        });
        if self.findings.len() == before {
            return false;
        }
        self.recompute(mapping);
        true
    }

    /// Recompute `action` and `score` from the findings (for example after the severity
    /// mapping changed).
    pub fn recompute(&mut self, mapping: &ActionMapping) {
        let enforced = self.findings.iter().filter(|f| f.mode == Mode::Enforce);
        let mut action = Action::Allow;
        let mut clean_probability = 1.0_f64;
        for finding in enforced {
            action = action.max(mapping.action_for(finding.severity));
            clean_probability *= 1.0 - finding.severity.score_weight();
        }
        self.action = action;
        // Round so that replays and JSON round-trips give bit-identical scores.
        self.score = ((1.0 - clean_probability) * 1e6).round() / 1e6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::subject::SubjectType;

    fn finding(plugin: &str, rule: &str, severity: Severity, mode: Mode) -> Finding {
        Finding {
            plugin: plugin.into(),
            plugin_version: "0.1.0".into(),
            rule: rule.into(),
            category: Category::Other,
            severity,
            mode,
            message: "m".into(),
            evidence: vec![],
            event_id: "e1".into(),
            at: 1_000,
        }
    }

    fn order() -> Verdict {
        Verdict::clean(
            Subject {
                kind: SubjectType::Order,
                id: "O-1".into(),
            },
            0,
        )
    }

    #[test]
    fn a_clean_verdict_allows_with_zero_score() {
        let verdict = order();
        assert_eq!(verdict.action, Action::Allow);
        assert_eq!(verdict.score, 0.0);
    }

    #[test]
    fn severity_maps_to_action_by_default() {
        let mapping = ActionMapping::default();
        for (severity, action) in [
            (Severity::Info, Action::Allow),
            (Severity::Low, Action::Allow),
            (Severity::Medium, Action::Review),
            (Severity::High, Action::Block),
            (Severity::Critical, Action::Block),
        ] {
            let mut verdict = order();
            verdict.apply(finding("p", "r", severity, Mode::Enforce), &mapping);
            assert_eq!(verdict.action, action, "{severity:?}");
        }
    }

    #[test]
    fn monitor_findings_are_kept_but_never_act() {
        let mut verdict = order();
        verdict.apply(
            finding("p", "r", Severity::Critical, Mode::Monitor),
            &ActionMapping::default(),
        );
        assert_eq!(verdict.findings.len(), 1);
        assert_eq!(verdict.action, Action::Allow);
        assert_eq!(verdict.score, 0.0);
    }

    #[test]
    fn a_newer_finding_replaces_the_same_rule_of_the_same_plugin() {
        let mapping = ActionMapping::default();
        let mut verdict = order();
        verdict.apply(finding("p", "r", Severity::High, Mode::Enforce), &mapping);
        verdict.apply(finding("p", "r", Severity::Medium, Mode::Enforce), &mapping);
        verdict.apply(finding("q", "r", Severity::Low, Mode::Enforce), &mapping);
        assert_eq!(verdict.findings.len(), 2);
        assert_eq!(verdict.action, Action::Review);
    }

    #[test]
    fn applying_an_identical_finding_changes_nothing() {
        let mapping = ActionMapping::default();
        let mut verdict = order();
        assert!(verdict.apply(finding("p", "r", Severity::High, Mode::Enforce), &mapping));
        assert!(!verdict.apply(finding("p", "r", Severity::High, Mode::Enforce), &mapping));
    }

    #[test]
    fn score_grows_with_findings_and_stays_below_one() {
        let mapping = ActionMapping::default();
        let mut verdict = order();
        verdict.apply(finding("p", "a", Severity::Medium, Mode::Enforce), &mapping);
        let one = verdict.score;
        verdict.apply(
            finding("p", "b", Severity::Critical, Mode::Enforce),
            &mapping,
        );
        assert!(verdict.score > one && verdict.score < 1.0);
        assert_eq!(one, 0.4);
    }

    fn decision(of: &Finding, kind: DecisionKind, seq: u64) -> Decision {
        Decision {
            subject: order().subject,
            decision: kind,
            finding: of.clone(),
            note: "n".into(),
            reviewer: "r".into(),
            at: 2_000,
            seq,
            id: None,
        }
    }

    #[test]
    fn an_overturned_finding_leaves_the_verdict_and_is_not_taken_again() {
        let mapping = ActionMapping::default();
        let mut verdict = order();
        let wrong = finding("p", "r", Severity::High, Mode::Enforce);
        verdict.apply(wrong.clone(), &mapping);
        verdict.apply(finding("q", "s", Severity::Medium, Mode::Enforce), &mapping);
        assert_eq!(verdict.action, Action::Block);
        assert!(verdict.decide(decision(&wrong, DecisionKind::Overturn, 7), &mapping));
        assert_eq!(
            verdict.action,
            Action::Review,
            "only the other finding is left"
        );
        assert_eq!(verdict.findings.len(), 1);
        assert!(
            !verdict.decide(decision(&wrong, DecisionKind::Overturn, 7), &mapping),
            "a replay of the same decision changes nothing"
        );
        assert!(
            !verdict.apply(wrong.clone(), &mapping),
            "the same claim again"
        );
        let mut new_facts = wrong;
        new_facts.message = "other facts".into();
        assert!(
            verdict.apply(new_facts, &mapping),
            "new facts are a new claim"
        );
        assert_eq!(verdict.action, Action::Block);
    }

    #[test]
    fn a_live_finding_is_found_by_plugin_rule_and_event() {
        let mut verdict = order();
        verdict.apply(
            finding("p", "r", Severity::High, Mode::Enforce),
            &ActionMapping::default(),
        );
        assert!(verdict.live_finding("p", "r", None).is_ok());
        assert!(verdict.live_finding("p", "r", Some("e1")).is_ok());
        assert!(verdict.live_finding("p", "r", Some("e2")).is_err());
        assert!(verdict.live_finding("p", "x", None).is_err());
    }

    #[test]
    fn the_mapping_is_configurable() {
        let mapping = ActionMapping {
            medium: Action::Block,
            ..ActionMapping::default()
        };
        let mut verdict = order();
        verdict.apply(finding("p", "r", Severity::Medium, Mode::Enforce), &mapping);
        assert_eq!(verdict.action, Action::Block);
    }
}
