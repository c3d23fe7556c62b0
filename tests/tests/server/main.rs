//! End-to-end tests of `probity serve`: each test starts the real binary on a fresh data
//! directory, talks to it over HTTP and reads the verdicts back.
//!
//! One test binary with a module per concern (as in cargo's own `testsuite`): every binary
//! links wasmtime, so a binary per file would cost a link and hundreds of megabytes each.

mod auth;
mod brush_http;
mod check_cli;
mod claims_http;
mod cluster;
mod crashes;
mod decisions;
mod durability;
mod edge;
mod event_time;
mod events;
mod fairness;
mod hostile_input;
mod hostile_plugins;
mod isolation;
mod js_plugin;
mod ops;
mod partitions;
mod plugin_cli;
mod privacy;
mod python_plugin;
mod ratings;
mod reload;
mod sla_http;
mod storage_faults;
mod store;
mod syscalls;
mod verdicts;
