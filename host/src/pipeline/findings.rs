//! The findings the host makes itself: from a plugin's own (with the host's metadata), for
//! a failed call (`plugin_error.*`) and for timers refused by the quota.

use crate::config::OnError;
use crate::model::event::{Event, EventBody};
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::Timestamp;
use crate::runtime::{CheckedFinding, LoadedPlugin, PluginFailure};
use crate::verdict::{Category, Evidence, Finding, Severity};

/// The subject an event is mainly about; plugin errors land on it.
pub fn primary_subject(event: &Event) -> Subject {
    let (kind, id) = match &event.body {
        EventBody::ListingUpserted(e) => (SubjectType::Listing, &e.listing_id),
        EventBody::OrderPlaced(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderPaid(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderShipped(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderDelivered(e) => (SubjectType::Order, &e.order_id),
        EventBody::OrderCancelled(e) => (SubjectType::Order, &e.order_id),
        EventBody::RefundRequested(e) => (SubjectType::Order, &e.order_id),
        EventBody::RefundCompleted(e) => (SubjectType::Order, &e.order_id),
        EventBody::ReviewPosted(e) => (SubjectType::Order, &e.order_id),
        EventBody::ComplaintOpened(e) => (SubjectType::Complaint, &e.complaint_id),
        EventBody::ComplaintResponded(e) => (SubjectType::Complaint, &e.complaint_id),
        EventBody::ComplaintResolved(e) => (SubjectType::Complaint, &e.complaint_id),
    };
    Subject {
        kind,
        id: id.clone(),
    }
}

/// A plugin finding with the host's metadata.
pub(super) fn to_finding(
    plugin: &LoadedPlugin,
    checked: CheckedFinding,
    event_id: &str,
    at: Timestamp,
) -> (Subject, Finding) {
    let finding = Finding {
        plugin: plugin.name().to_string(),
        plugin_version: plugin.manifest().version.clone(),
        rule: checked.rule,
        category: checked.category,
        severity: checked.severity,
        mode: plugin.config().mode,
        message: checked.message,
        evidence: checked.evidence,
        event_id: event_id.to_string(),
        at,
    };
    (checked.subject, finding)
}

/// The `plugin_error.timer_quota` finding: the plugin asked for `refused` timers past its
/// `timers_quota` while handling an event about `subject`, so those deadlines are not
/// tracked. Severity per `on_error`, as for a failed call.
pub(super) fn timer_quota_finding(
    plugin: &LoadedPlugin,
    refused: u32,
    subject: Subject,
) -> CheckedFinding {
    let severity = error_severity(plugin);
    metrics::counter!("probity_timers_refused_total", "plugin" => plugin.name().to_string())
        .increment(u64::from(refused));
    CheckedFinding {
        subject,
        rule: "plugin_error.timer_quota".to_string(),
        category: Category::PluginError,
        severity,
        message: format!(
            "plugin `{}` was refused {refused} timer(s) over its timers_quota ({}); those deadlines are not tracked",
            plugin.name(),
            plugin.config().limits.timers_quota
        ),
        evidence: vec![Evidence {
            field: "plugin".into(),
            start: None,
            end: None,
            excerpt: None,
            detail: Some("timer_quota".to_string()),
        }],
    }
}

/// The `plugin_error` finding standing for a failed call, per the plugin's `on_error`.
pub(super) fn plugin_error(
    plugin: &LoadedPlugin,
    failure: &PluginFailure,
    subject: Subject,
) -> CheckedFinding {
    let severity = error_severity(plugin);
    CheckedFinding {
        subject,
        rule: format!("plugin_error.{}", failure.kind()),
        category: Category::PluginError,
        severity,
        message: format!("plugin `{}` {failure}", plugin.name()),
        evidence: vec![Evidence {
            field: "plugin".into(),
            start: None,
            end: None,
            excerpt: None,
            detail: Some(failure.kind().to_string()),
        }],
    }
}

/// The severity of the host's `plugin_error` findings for `plugin`, per its `on_error`:
/// `info` fails open (`allow`), `medium` fails closed (`review`).
fn error_severity(plugin: &LoadedPlugin) -> Severity {
    match plugin.config().on_error {
        OnError::Allow => Severity::Info,
        OnError::Review => Severity::Medium,
    }
}
