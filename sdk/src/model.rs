//! Constructors and builders on the WIT types a plugin returns: [`Finding`], [`Subject`],
//! [`Evidence`], [`Manifest`], and the two error records.

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;

use crate::prelude::{
    Category, EventType, Evidence, Finding, Manifest, PluginError, SettingsError, Severity,
    ShardKey, Span, StateError, Subject, SubjectType, Timer, TimerError,
};

impl Subject {
    /// A subject of any kind.
    pub fn new(kind: SubjectType, id: impl Into<String>) -> Self {
        Subject {
            kind,
            id: id.into(),
        }
    }

    /// A listing, by `listing_id`.
    pub fn listing(id: impl Into<String>) -> Self {
        Self::new(SubjectType::Listing, id)
    }

    /// An order, by `order_id`.
    pub fn order(id: impl Into<String>) -> Self {
        Self::new(SubjectType::Order, id)
    }

    /// A seller, by `seller_id`.
    pub fn seller(id: impl Into<String>) -> Self {
        Self::new(SubjectType::Seller, id)
    }

    /// A complaint, by `complaint_id`.
    pub fn complaint(id: impl Into<String>) -> Self {
        Self::new(SubjectType::Complaint, id)
    }

    /// A buyer, by the pseudonym of `buyer_id` exactly as the plugin received it (the
    /// `buyer_id` of `order.placed`). A platform finds the verdict by computing the same
    /// pseudonym of its own buyer id (`probity pseudonym`).
    pub fn buyer(pseudonym: impl Into<String>) -> Self {
        Self::new(SubjectType::Buyer, pseudonym)
    }
}

impl Evidence {
    /// Evidence about the event field `field`, as a contract path (`title`,
    /// `buyer.device_id`…). Add a span, excerpt or detail with the other methods.
    pub fn field(field: impl Into<String>) -> Self {
        Evidence {
            field: field.into(),
            span: None,
            excerpt: None,
            detail: None,
        }
    }

    /// The byte range `[start, end)` of the match in the field's UTF-8 text.
    pub fn span(mut self, start: usize, end: usize) -> Self {
        self.span = Some(Span {
            start: saturate(start),
            end: saturate(end),
        });
        self
    }

    /// The matched text itself.
    pub fn excerpt(mut self, excerpt: impl Into<String>) -> Self {
        self.excerpt = Some(excerpt.into());
        self
    }

    /// Free text for a human reviewer: "7 buyers, 19 orders".
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Span and excerpt of the bytes `range` of `text` (the field's value). A range that
    /// splits a UTF-8 character gets a lossy excerpt; one past the end is clamped.
    pub fn matched(self, text: &str, range: Range<usize>) -> Self {
        let end = range.end.min(text.len());
        let start = range.start.min(end);
        let excerpt = String::from_utf8_lossy(&text.as_bytes()[start..end]).into_owned();
        self.span(start, end).excerpt(excerpt)
    }
}

fn saturate(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

impl Finding {
    /// Start building a finding about `subject`.
    ///
    /// Until set, the rule and message are empty (set both: the host refuses a finding
    /// with an empty rule or message), the category is [`Category::Other`] and the
    /// severity [`Severity::Info`].
    pub fn builder(subject: Subject) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                subject,
                rule: String::new(),
                category: Category::Other,
                severity: Severity::Info,
                message: String::new(),
                evidence: Vec::new(),
            },
        }
    }
}

/// A fluent builder for a [`Finding`], from [`Finding::builder`].
#[derive(Clone, Debug)]
#[must_use = "call .build() to get the finding"]
pub struct FindingBuilder {
    finding: Finding,
}

impl FindingBuilder {
    /// The stable rule id, `plugin.rule` style: `claims.absolute_term` (at most 128 bytes
    /// of `a-z`, `0-9`, `.`, `_`, `-`).
    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.finding.rule = rule.into();
        self
    }

    /// The contract category.
    pub fn category(mut self, category: Category) -> Self {
        self.finding.category = category;
        self
    }

    /// How serious it is.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }

    /// One sentence for a human reviewer (1–4096 bytes).
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.finding.message = message.into();
        self
    }

    /// Add one piece of evidence (call again for more).
    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.finding.evidence.push(evidence);
        self
    }

    /// The finished finding.
    pub fn build(self) -> Finding {
        self.finding
    }
}

impl From<FindingBuilder> for Finding {
    fn from(builder: FindingBuilder) -> Self {
        builder.build()
    }
}

impl Manifest {
    /// A manifest subscribing to nothing yet; add event types with
    /// [`subscribe`](Self::subscribe).
    ///
    /// `name` is lower-case with dashes (`brush-orders`), `version` a semantic version.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Manifest {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            subscribes: Vec::new(),
            keyed_by: ShardKey::Seller,
        }
    }

    /// Receive the events that have a buyer in the buyer's shard instead of the seller's,
    /// so that `state` and `timers` see one buyer's orders across every seller (see
    /// [`ShardKey::Buyer`]). Listing events, and events of an order the host never saw
    /// placed, do not reach a buyer-keyed plugin.
    pub fn keyed_by_buyer(mut self) -> Self {
        self.keyed_by = ShardKey::Buyer;
        self
    }

    /// Also receive events of `event_type` (subscribing twice is harmless).
    pub fn subscribe(mut self, event_type: EventType) -> Self {
        if !self.subscribes.contains(&event_type) {
            self.subscribes.push(event_type);
        }
        self
    }

    /// Receive events of every type.
    pub fn subscribe_all(self) -> Self {
        EventType::ALL.into_iter().fold(self, Self::subscribe)
    }

    /// Whether events of `event_type` are sent to the plugin.
    pub fn subscribes_to(&self, event_type: EventType) -> bool {
        self.subscribes.contains(&event_type)
    }
}

impl PluginError {
    /// A plugin failure: a short machine-readable `code` (`bad_state`) and a message for
    /// the operator.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        PluginError {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl SettingsError {
    /// Refused settings: the offending `field` as a path (`price.window_days`, `terms[3]`;
    /// `""` for the whole object) and what would be right.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Settings that cannot be used: code `bad_settings`, message `field: what is wrong`.
///
/// The host validates settings before it builds a plugin, so a plugin that resolves its
/// settings again in [`Plugin::new`](crate::Plugin::new) can keep the outcome as a
/// `Result<_, PluginError>` and return the error from every call should it ever fail.
impl From<SettingsError> for PluginError {
    fn from(err: SettingsError) -> Self {
        PluginError::new("bad_settings", format!("{}: {}", err.field, err.message))
    }
}

/// A refused state write as a plugin error: code `state_` + the WIT case name with
/// underscores (`state_quota_exceeded`, `state_bad_key`, `state_value_too_large`,
/// `state_not_a_counter`), so `?` works in `handle`.
impl From<StateError> for PluginError {
    fn from(err: StateError) -> Self {
        let code = format!("state_{}", err.name().replace('-', "_"));
        PluginError::new(
            code,
            format!(
                "a state write was refused ({}): {}",
                err.name(),
                err.message()
            ),
        )
    }
}

/// A refused timer as a plugin error: code `timer_` + the WIT case name with underscores
/// (`timer_quota_exceeded`, `timer_bad_key`, `timer_payload_too_large`).
impl From<TimerError> for PluginError {
    fn from(err: TimerError) -> Self {
        let code = format!("timer_{}", err.name().replace('-', "_"));
        PluginError::new(
            code,
            format!("a timer was refused ({}): {}", err.name(), err.message()),
        )
    }
}

impl Timer {
    /// The payload as UTF-8 text, if it is.
    pub fn payload_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }

    /// The payload decoded from JSON (as written by
    /// [`Timers::schedule_json`](crate::Timers::schedule_json)); a payload that does not
    /// decode as `T` gives a `PluginError` with code `bad_timer_payload`.
    pub fn payload_json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.payload).map_err(|err| {
            PluginError::new(
                "bad_timer_payload",
                format!(
                    "timer `{}` has a payload that is not the expected JSON: {err}",
                    self.key
                ),
            )
        })
    }
}

impl fmt::Display for Subject {
    /// `order:O-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

impl SubjectType {
    /// The contract's name: `listing`, `order`, `seller`, `complaint` or `buyer`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Listing => "listing",
            SubjectType::Order => "order",
            SubjectType::Seller => "seller",
            SubjectType::Complaint => "complaint",
            SubjectType::Buyer => "buyer",
        }
    }
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity named `name` (`"medium"`), as settings spell it.
    ///
    /// ```
    /// use probity_sdk::prelude::Severity;
    /// assert_eq!(Severity::from_name("high"), Some(Severity::High));
    /// assert_eq!(Severity::from_name("urgent"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The severity a setting at `field` names, or a [`SettingsError`] for that field
    /// listing the names there are.
    ///
    /// ```
    /// use probity_sdk::prelude::Severity;
    /// let err = Severity::from_setting("ring.severity", "urgent").unwrap_err();
    /// assert_eq!(err.field, "ring.severity");
    /// ```
    pub fn from_setting(field: &str, name: &str) -> Result<Severity, SettingsError> {
        Severity::from_name(name).ok_or_else(|| {
            SettingsError::new(
                field,
                format!("`{name}` is not a severity: use info, low, medium, high or critical"),
            )
        })
    }

    /// The contract's name: `info`, `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl Category {
    /// The contract's name: `misleading_claim`, `sla_breach`…
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
            Category::Other => "other",
        }
    }
}
