//! The wasm-facing types (generated from `wit/` by `bindgen!`) and the conversions
//! between them and the host's own types.
//!
//! Two world versions are generated: the current one (`wit/`, 0.2.0) in [`bindings`], and
//! the frozen 0.1.0 (`wit/0.1.0/`) in [`bindings_v0_1`], so that a plugin built and
//! deployed against 0.1.0 keeps loading. Everything past this module speaks the current
//! version: [`super::world`] converts a 0.1.0 plugin's answers up (its subjects and
//! categories are a subset) and its arguments down.
//!
//! Conversions in: a pseudonymised [`Event`] becomes a [`Lent`] once per event and is
//! then lent to every plugin, each reading the envelope of its version (the 0.1.0 one is
//! made only when a 0.1.0 plugin asks). Conversions out: what a plugin returns is
//! untrusted, so [`findings_from_plugin`] checks sizes and shapes and names the first
//! problem precisely.

mod envelope;

use std::cell::OnceCell;

use crate::model::event::Event;
use crate::model::subject::{Subject, SubjectType as HostSubjectType};
use crate::verdict::{
    Category as HostCategory, Evidence as HostEvidence, Severity as HostSeverity,
};

/// Generated bindings for the current `probity:plugin` world (`wit/`).
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
        imports: { default: trappable },
    });
}

/// Generated bindings for the frozen `probity:plugin@0.1.0` world (`wit/0.1.0/`).
pub mod bindings_v0_1 {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/0.1.0",
        imports: { default: trappable },
    });
}

pub use bindings::probity::plugin::types::{
    Category, Envelope, EventType, Finding, Severity, SubjectType,
};

/// One event, lent to every plugin that handles it: the current envelope, made once, and
/// the 0.1.0 envelope, made on first use.
pub struct Lent<'a> {
    event: &'a Event,
    current: Envelope,
    v0_1: OnceCell<bindings_v0_1::probity::plugin::types::Envelope>,
}

impl<'a> Lent<'a> {
    /// The envelopes of `event` (pseudonymised).
    pub fn new(event: &'a Event) -> Self {
        Lent {
            event,
            current: envelope::current::envelope(event),
            v0_1: OnceCell::new(),
        }
    }

    /// The current world's envelope.
    pub fn current(&self) -> &Envelope {
        &self.current
    }

    /// The 0.1.0 world's envelope.
    pub(crate) fn v0_1(&self) -> &bindings_v0_1::probity::plugin::types::Envelope {
        self.v0_1
            .get_or_init(|| envelope::v0_1::envelope(self.event))
    }
}

pub use probity_abi::{MAX_EVIDENCE_PER_FINDING, MAX_FINDINGS_PER_CALL};
use probity_abi::{
    MAX_EXCERPT_BYTES, MAX_FIELD_BYTES, MAX_MESSAGE_BYTES, MAX_RULE_BYTES, MAX_SUBJECT_ID_BYTES,
};

/// A plugin finding after validation, still without host metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedFinding {
    /// What it is about.
    pub subject: Subject,
    /// The rule id.
    pub rule: String,
    /// The category.
    pub category: HostCategory,
    /// The severity.
    pub severity: HostSeverity,
    /// The message.
    pub message: String,
    /// The evidence.
    pub evidence: Vec<HostEvidence>,
}

/// The approximate number of bytes a list of findings occupies (strings and payload).
pub fn output_size(findings: &[Finding]) -> usize {
    findings
        .iter()
        .map(|f| {
            f.subject.id.len()
                + f.rule.len()
                + f.message.len()
                + f.evidence
                    .iter()
                    .map(|e| {
                        e.field.len()
                            + e.excerpt.as_ref().map_or(0, String::len)
                            + e.detail.as_ref().map_or(0, String::len)
                            + 16
                    })
                    .sum::<usize>()
                + 32
        })
        .sum()
}

/// Validate what a plugin returned. The error names the first bad finding and field.
pub fn findings_from_plugin(
    findings: Vec<Finding>,
    output_cap_bytes: usize,
) -> Result<Vec<CheckedFinding>, String> {
    if findings.len() > MAX_FINDINGS_PER_CALL {
        return Err(format!(
            "{} findings in one call; at most {MAX_FINDINGS_PER_CALL} are accepted",
            findings.len()
        ));
    }
    let size = output_size(&findings);
    if size > output_cap_bytes {
        return Err(format!(
            "{size} bytes of findings exceed the output limit of {output_cap_bytes} bytes"
        ));
    }
    findings
        .into_iter()
        .enumerate()
        .map(|(index, finding)| {
            check_finding(finding).map_err(|why| format!("finding {index}: {why}"))
        })
        .collect()
}

fn check_len(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if value.len() > max {
        return Err(format!("{what} is {} bytes; at most {max}", value.len()));
    }
    Ok(())
}

fn check_finding(finding: Finding) -> Result<CheckedFinding, String> {
    check_len("subject id", &finding.subject.id, MAX_SUBJECT_ID_BYTES)?;
    check_len("rule", &finding.rule, MAX_RULE_BYTES)?;
    if !finding
        .rule
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "rule `{}` may only use a-z, 0-9, `.`, `_` and `-`",
            finding.rule
        ));
    }
    check_len("message", &finding.message, MAX_MESSAGE_BYTES)?;
    if finding.evidence.len() > MAX_EVIDENCE_PER_FINDING {
        return Err(format!(
            "{} evidence items; at most {MAX_EVIDENCE_PER_FINDING}",
            finding.evidence.len()
        ));
    }
    let mut evidence = Vec::with_capacity(finding.evidence.len());
    for (index, item) in finding.evidence.into_iter().enumerate() {
        check_len(
            &format!("evidence {index} field"),
            &item.field,
            MAX_FIELD_BYTES,
        )?;
        for (name, text) in [("excerpt", &item.excerpt), ("detail", &item.detail)] {
            if let Some(text) = text
                && text.len() > MAX_EXCERPT_BYTES
            {
                return Err(format!(
                    "evidence {index} {name} is {} bytes; at most {MAX_EXCERPT_BYTES}",
                    text.len()
                ));
            }
        }
        if let Some(span) = &item.span
            && span.end < span.start
        {
            return Err(format!(
                "evidence {index} span ends ({}) before it starts ({})",
                span.end, span.start
            ));
        }
        evidence.push(HostEvidence {
            field: item.field,
            start: item.span.map(|s| s.start),
            end: item.span.map(|s| s.end),
            excerpt: item.excerpt,
            detail: item.detail,
        });
    }
    Ok(CheckedFinding {
        subject: Subject {
            kind: match finding.subject.kind {
                SubjectType::Listing => HostSubjectType::Listing,
                SubjectType::Order => HostSubjectType::Order,
                SubjectType::Seller => HostSubjectType::Seller,
                SubjectType::Complaint => HostSubjectType::Complaint,
                SubjectType::Buyer => HostSubjectType::Buyer,
            },
            id: finding.subject.id,
        },
        rule: finding.rule,
        category: match finding.category {
            Category::MisleadingClaim => HostCategory::MisleadingClaim,
            Category::ProhibitedClaim => HostCategory::ProhibitedClaim,
            Category::PriceDeception => HostCategory::PriceDeception,
            Category::BrushOrder => HostCategory::BrushOrder,
            Category::ReviewManipulation => HostCategory::ReviewManipulation,
            Category::PaymentFraud => HostCategory::PaymentFraud,
            Category::SlaBreach => HostCategory::SlaBreach,
            Category::RefundAbuse => HostCategory::RefundAbuse,
            Category::Other => HostCategory::Other,
        },
        severity: match finding.severity {
            Severity::Info => HostSeverity::Info,
            Severity::Low => HostSeverity::Low,
            Severity::Medium => HostSeverity::Medium,
            Severity::High => HostSeverity::High,
            Severity::Critical => HostSeverity::Critical,
        },
        message: finding.message,
        evidence,
    })
}
