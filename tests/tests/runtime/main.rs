//! Tests of the runtime below the HTTP layer: the plugin engine and its sandbox, the
//! evaluation pipeline, ingest into the store, and the bundled components themselves.
//!
//! One binary with a module per concern, for the same reason as `tests/server`.

mod buyer;
mod compat;
mod event_time;
mod ingest;
mod log_faults;
mod pipeline;
mod plugins_built;
mod replay;
mod sandbox;
mod timers;
