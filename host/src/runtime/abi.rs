//! The wasm-facing types (generated from `wit/` by `bindgen!`) and the conversions
//! between them and the host's own types.
//!
//! Conversions in: a pseudonymised [`Event`] becomes an [`abi::Envelope`](Envelope) once
//! per event and is then lent to every plugin. Conversions out: what a plugin returns is
//! untrusted, so [`findings_from_plugin`] checks sizes and shapes and names the first
//! problem precisely.

use crate::model::event::{Event, EventBody};
use crate::model::money::Money as HostMoney;
use crate::model::subject::{Subject, SubjectType as HostSubjectType};
use crate::verdict::{
    Category as HostCategory, Evidence as HostEvidence, Severity as HostSeverity,
};

/// Generated bindings for the `probity:plugin` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
        imports: { default: trappable },
    });
}

use bindings::probity::plugin::types as t;
pub use bindings::probity::plugin::types::{
    Category, Envelope, Event as AbiEvent, EventType, Finding, Money, Severity, SubjectType,
};

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

fn money(m: &HostMoney) -> Money {
    Money {
        mantissa: m.mantissa,
        scale: m.scale,
        currency: m.currency.clone(),
    }
}

/// The ABI event type of a host event type, for subscription checks.
pub fn event_type(event: &Event) -> EventType {
    match &event.body {
        EventBody::ListingUpserted(_) => EventType::ListingUpserted,
        EventBody::OrderPlaced(_) => EventType::OrderPlaced,
        EventBody::OrderPaid(_) => EventType::OrderPaid,
        EventBody::OrderShipped(_) => EventType::OrderShipped,
        EventBody::OrderDelivered(_) => EventType::OrderDelivered,
        EventBody::OrderCancelled(_) => EventType::OrderCancelled,
        EventBody::RefundRequested(_) => EventType::RefundRequested,
        EventBody::RefundCompleted(_) => EventType::RefundCompleted,
        EventBody::ReviewPosted(_) => EventType::ReviewPosted,
        EventBody::ComplaintOpened(_) => EventType::ComplaintOpened,
        EventBody::ComplaintResponded(_) => EventType::ComplaintResponded,
        EventBody::ComplaintResolved(_) => EventType::ComplaintResolved,
    }
}

/// The envelope handed to plugins for a (pseudonymised) host event.
pub fn envelope(event: &Event) -> Envelope {
    let body = match &event.body {
        EventBody::ListingUpserted(e) => AbiEvent::ListingUpserted(t::ListingUpserted {
            listing_id: e.listing_id.clone(),
            seller_id: e.seller_id.clone(),
            title: e.title.clone(),
            price: money(&e.price),
            description: e.description.clone(),
            category: e.category.clone(),
            reference_price: e.reference_price.as_ref().map(money),
            attributes: e.attributes.clone(),
            language: e.language.clone(),
        }),
        EventBody::OrderPlaced(e) => AbiEvent::OrderPlaced(t::OrderPlaced {
            order_id: e.order_id.clone(),
            listing_id: e.listing_id.clone(),
            seller_id: e.seller_id.clone(),
            buyer_id: e.buyer_id.to_string(),
            quantity: e.quantity,
            total: money(&e.total),
            buyer: e.buyer.as_ref().map(|b| t::BuyerProfile {
                account_created_at: b.account_created_at,
                device_id: b.device_id.as_ref().map(ToString::to_string),
                ip: b.ip.as_ref().map(ToString::to_string),
                shipping_address: b.shipping_address.as_ref().map(ToString::to_string),
                phone: b.phone.as_ref().map(ToString::to_string),
            }),
        }),
        EventBody::OrderPaid(e) => AbiEvent::OrderPaid(t::OrderPaid {
            order_id: e.order_id.clone(),
            payment_fingerprint: e.payment_fingerprint.as_ref().map(ToString::to_string),
            presale: e.presale,
            promised_ship_by: e.promised_ship_by,
        }),
        EventBody::OrderShipped(e) => AbiEvent::OrderShipped(t::OrderShipped {
            order_id: e.order_id.clone(),
            carrier: e.carrier.clone(),
            tracking_number: e.tracking_number.clone(),
            parcel_weight_grams: e.parcel_weight_grams,
            origin_city: e.origin_city.clone(),
            destination_city: e.destination_city.clone(),
        }),
        EventBody::OrderDelivered(e) => AbiEvent::OrderDelivered(t::OrderDelivered {
            order_id: e.order_id.clone(),
        }),
        EventBody::OrderCancelled(e) => AbiEvent::OrderCancelled(t::OrderCancelled {
            order_id: e.order_id.clone(),
            reason: e.reason.clone(),
        }),
        EventBody::RefundRequested(e) => AbiEvent::RefundRequested(t::RefundRequested {
            order_id: e.order_id.clone(),
            refund_id: e.refund_id.clone(),
            reason: e.reason.clone(),
            amount: e.amount.as_ref().map(money),
            return_required: e.return_required,
        }),
        EventBody::RefundCompleted(e) => AbiEvent::RefundCompleted(t::RefundCompleted {
            order_id: e.order_id.clone(),
            refund_id: e.refund_id.clone(),
            amount: e.amount.as_ref().map(money),
        }),
        EventBody::ReviewPosted(e) => AbiEvent::ReviewPosted(t::ReviewPosted {
            order_id: e.order_id.clone(),
            review_id: e.review_id.clone(),
            rating: e.rating,
            text: e.text.clone(),
        }),
        EventBody::ComplaintOpened(e) => AbiEvent::ComplaintOpened(t::ComplaintOpened {
            complaint_id: e.complaint_id.clone(),
            seller_id: e.seller_id.clone(),
            order_id: e.order_id.clone(),
            text: e.text.clone(),
        }),
        EventBody::ComplaintResponded(e) => AbiEvent::ComplaintResponded(t::ComplaintResponded {
            complaint_id: e.complaint_id.clone(),
            text: e.text.clone(),
        }),
        EventBody::ComplaintResolved(e) => AbiEvent::ComplaintResolved(t::ComplaintResolved {
            complaint_id: e.complaint_id.clone(),
            outcome: e.outcome.clone(),
        }),
    };
    Envelope {
        event_id: event.event_id.clone(),
        occurred_at: event.occurred_at,
        event: body,
    }
}
