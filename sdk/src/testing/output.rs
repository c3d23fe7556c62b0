//! The checks the host applies to what a call returns, before it stores anything, so a
//! finding the host would refuse fails in a native test too.
//!
//! Mirrors the host's validation of plugin output (`findings_from_plugin` in the host's
//! runtime); keep the two in step.

use crate::prelude::{Finding, PluginError};

pub use crate::limits::{MAX_EVIDENCE_PER_FINDING, MAX_FINDINGS_PER_CALL};
use crate::limits::{
    MAX_EXCERPT_BYTES, MAX_FIELD_BYTES, MAX_MESSAGE_BYTES, MAX_RULE_BYTES, MAX_SUBJECT_ID_BYTES,
};

/// The size the host counts against `output_kib`: strings plus a fixed overhead per
/// finding and per evidence item.
pub(crate) fn output_size(findings: &[Finding]) -> usize {
    findings
        .iter()
        .map(|f| {
            let evidence: usize = f
                .evidence
                .iter()
                .map(|e| {
                    e.field.len()
                        + e.excerpt.as_ref().map_or(0, String::len)
                        + e.detail.as_ref().map_or(0, String::len)
                        + 16
                })
                .sum();
            f.subject.id.len() + f.rule.len() + f.message.len() + evidence + 32
        })
        .sum()
}

/// Check a call's findings as the host does; the error is the host's `invalid_output`.
pub(crate) fn check_output(findings: &[Finding], output_cap_bytes: u64) -> Result<(), PluginError> {
    let invalid = |why: String| PluginError::new("invalid_output", why);
    if findings.len() > MAX_FINDINGS_PER_CALL {
        return Err(invalid(format!(
            "{} findings in one call; at most {MAX_FINDINGS_PER_CALL} are accepted",
            findings.len()
        )));
    }
    let size = output_size(findings);
    if u64::try_from(size).unwrap_or(u64::MAX) > output_cap_bytes {
        return Err(invalid(format!(
            "{size} bytes of findings exceed the output limit of {output_cap_bytes} bytes"
        )));
    }
    for (index, finding) in findings.iter().enumerate() {
        check_finding(finding).map_err(|why| invalid(format!("finding {index}: {why}")))?;
    }
    Ok(())
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

fn check_finding(finding: &Finding) -> Result<(), String> {
    check_len("subject id", &finding.subject.id, MAX_SUBJECT_ID_BYTES)?;
    check_len("rule", &finding.rule, MAX_RULE_BYTES)?;
    let rule_ok = finding
        .rule
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if !rule_ok {
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
    for (index, item) in finding.evidence.iter().enumerate() {
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
    }
    Ok(())
}
