//! [`EventError`]: why one raw event was refused, precisely enough to fix it.

use crate::model::event::EventType;

/// The longest piece of sender text (an unknown `type`) echoed back in an error.
const MAX_ECHO_CHARS: usize = 64;

/// Why a raw event was refused. Messages never echo personal values.
///
/// [`kind`](Self::kind) is a stable machine code (for problem+json `type`s and metrics),
/// [`field`](Self::field) the contract path of the offending field when there is one
/// (`buyer.account_created_at`, `price.amount`, `attributes.color`), and `Display` a
/// sentence for a human.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The raw event is larger than [`MAX_EVENT_BYTES`](super::MAX_EVENT_BYTES).
    #[error("the event is {size} bytes; at most {max} bytes are accepted")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not UTF-8.
    #[error("the event is not valid UTF-8: invalid byte sequence at byte offset {offset}")]
    InvalidUtf8 {
        /// 0-based offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    MalformedJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// The JSON is valid but not an object.
    #[error("an event must be a JSON object, but this is {found}")]
    NotAnObject {
        /// What it is instead: `an array`, `a string`…
        found: &'static str,
    },
    /// `type` names no contract event type.
    #[error(
        "unknown event type \"{found}\"; accepted types: {}",
        EventType::accepted_names()
    )]
    UnknownEventType {
        /// The type sent (cut to 64 characters).
        found: String,
    },
    /// A required field is absent.
    #[error("missing required field `{field}`")]
    MissingField {
        /// Its contract path.
        field: String,
    },
    /// A field is present but its type or value breaks a rule.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// Its contract path.
        field: String,
        /// What is wrong and what would be right.
        reason: String,
    },
}

impl EventError {
    /// The stable machine code of this error: `event_too_large`, `invalid_utf8`,
    /// `malformed_json`, `not_an_object`, `unknown_event_type`, `missing_field` or
    /// `invalid_field`.
    pub fn kind(&self) -> &'static str {
        match self {
            EventError::TooLarge { .. } => "event_too_large",
            EventError::InvalidUtf8 { .. } => "invalid_utf8",
            EventError::MalformedJson { .. } => "malformed_json",
            EventError::NotAnObject { .. } => "not_an_object",
            EventError::UnknownEventType { .. } => "unknown_event_type",
            EventError::MissingField { .. } => "missing_field",
            EventError::InvalidField { .. } => "invalid_field",
        }
    }

    /// The contract path of the offending field, if the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EventError::MissingField { field } | EventError::InvalidField { field, .. } => {
                Some(field)
            }
            EventError::UnknownEventType { .. } => Some("type"),
            _ => None,
        }
    }

    pub(super) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        EventError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(super) fn missing(field: impl Into<String>) -> Self {
        EventError::MissingField {
            field: field.into(),
        }
    }

    pub(super) fn unknown_type(found: &str) -> Self {
        let mut echoed: String = found.chars().take(MAX_ECHO_CHARS).collect();
        if echoed.len() < found.len() {
            echoed.push('…');
        }
        EventError::UnknownEventType { found: echoed }
    }

    pub(super) fn from_json(err: &serde_json::Error) -> Self {
        let full = err.to_string();
        // serde_json appends " at line L column C"; we report those separately.
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        EventError::MalformedJson {
            line: err.line(),
            column: err.column(),
            message,
        }
    }
}
