//! Ingest: raw contract events in, pseudonymised [`Event`](crate::model::Event)s out.
//!
//! This is the one place that reads the contract's event JSON (§1 "Events in"). It owns
//! the contract's validation rules and their [limits], the precise [`EventError`]s the
//! API turns into problem+json, and the moment personal data is pseudonymised: an
//! [`Event`](crate::model::Event) leaving [`parse_event`] holds no raw personal value, so
//! nothing after it (pipeline, plugins, store, logs) can leak one. It knows nothing of
//! HTTP or storage.
//!
//! - [`parse_event`] parses one event (one JSON object).
//! - [`split_ndjson`] cuts an NDJSON batch into numbered lines for it.
//! - [`check_not_ahead`] refuses an event dated too far ahead of the wall clock.
//! - [`EventError`] says what is wrong and where: [`EventError::kind`] is a stable code,
//!   [`EventError::field`] the contract path (`buyer.account_created_at`, `price.amount`).
//!
//! ```
//! use probity::ingest::{parse_event, split_ndjson};
//! use probity::privacy::Pseudonymizer;
//! let pz = Pseudonymizer::new(b"0123456789abcdef").unwrap();
//! let body = br#"{"event_id":"e1","type":"order.paid","occurred_at":"2026-11-01T10:00:00Z","order_id":"O-1"}
//! {"event_id":"e2","type":"order.paid","occurred_at":"2026-11-01T10:00:00Z"}"#;
//! let results: Vec<_> = split_ndjson(body).map(|(line, raw)| (line, parse_event(raw, &pz))).collect();
//! assert!(results[0].1.is_ok());
//! assert_eq!(results[1].1.as_ref().unwrap_err().field(), Some("order_id"));
//! ```

mod currency;
mod error;
mod fields;
mod future;
mod json;
pub mod limits;
mod ndjson;
mod parse;

pub use currency::{ISO_4217, is_iso_4217};
pub use error::EventError;
pub use future::check_not_ahead;
pub use limits::*;
pub use ndjson::split_ndjson;
pub use parse::parse_event;

#[cfg(test)]
mod tests;
