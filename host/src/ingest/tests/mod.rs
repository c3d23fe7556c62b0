//! Ingest specifications: every event type, every error, the storage form and privacy.

mod errors;
mod events;
mod mutations;
mod properties;
mod storage;
mod strategies;

use serde_json::Value;

use super::{EventError, parse_event};
use crate::model::event::Event;
use crate::privacy::Pseudonymizer;

const KEY: &[u8] = b"ingest-test-key-0123456789";

fn pz() -> Pseudonymizer {
    Pseudonymizer::new(KEY).expect("test key is long enough")
}

/// Parse a raw event that must be valid.
fn ok(raw: &str) -> Event {
    match parse_event(raw.as_bytes(), &pz()) {
        Ok(event) => event,
        Err(err) => panic!("expected a valid event, got {err}"),
    }
}

/// Parse a raw event that must be refused.
fn err(raw: &[u8]) -> EventError {
    match parse_event(raw, &pz()) {
        Ok(event) => panic!("expected an error, got {event:?}"),
        Err(err) => err,
    }
}

/// Parse a JSON value that must be refused.
fn err_json(value: &Value) -> EventError {
    err(value.to_string().as_bytes())
}
