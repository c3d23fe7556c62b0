//! Tests of the bundled plugins' rules: each plugin crate is built natively and driven
//! through the SDK's harness, and its labelled corpus is also run through the real
//! component in the host's engine to prove both agree.
//!
//! One binary with a module per concern, for the same reason as `tests/server`.

mod brush_market;
mod brush_rings;
mod brush_rules;
mod claims_corpus;
mod claims_evasions;
mod claims_price;
mod claims_rules;
mod claims_units;
mod sla_rules;
