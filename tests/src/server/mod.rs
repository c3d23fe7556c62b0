//! A real `probity serve` process for end-to-end tests of the HTTP server.
//!
//! [`Server::start`] writes a configuration into a temporary directory the server owns,
//! starts the binary built next to the test (`target/debug/probity`), captures all of its
//! stderr (tests scan it for leaked personal data) and waits for the one line
//! `probity: listening on http://ADDR`. The directory (and so the data directory) outlives
//! the process, so [`Server::restart`] starts the same configuration over the same data.
//!
//! Configurations are TOML with placeholders the harness fills in: `{dir}` (the server's
//! temporary directory), `{data}` (`{dir}/data`), `{cache}` (a compiled-plugin cache
//! shared by every server of every test, so the plugin compiles once) and `{good}` (the
//! `good` test plugin's component). [`ConfigText`] writes the usual one.
//!
//! Requests go through [`Client`], which never treats a 4xx/5xx status as an error: every
//! answer comes back as a [`Reply`] with status, headers and JSON body.
//!
//! The binary must be current: `cargo test --workspace` builds it; with
//! `cargo test -p probity-e2e` run `cargo build -p probity` first.
//!
//! The pieces live in submodules, all re-exported here: `process` ([`Server`],
//! [`ServerBuilder`]), `client` ([`Client`], [`Reply`]), `config` ([`ConfigText`] and the
//! token helpers), `events` (event builders, event times, verdict keys), `scan`
//! (polling, file and byte scanning), `malformed` (hostile request bodies with the answer
//! each must get: [`Malformed`]) and `stream` (huge bodies streamed over a raw socket:
//! [`stream_post`]), `examples` (the plugin examples in other languages, built by
//! their scripts).

mod client;
mod config;
mod events;
mod examples;
mod malformed;
pub mod market;
mod process;
mod scan;
mod stream;

pub use client::{Client, Reply};
pub use config::{ConfigText, PSEUDONYM_KEY, hash_token, sha256_hex, token_table};
pub use events::{
    at_minute, listing, millis, order_paid, order_placed, order_shipped, subject_key, verdict_key,
    verdict_keys,
};
pub use examples::{
    assert_fixtures_pass, build_example, example_dir, inspect_json, plugin_command,
};
pub use malformed::{Case, Expected, JSON, Malformed, full_event, gzip_bomb, gzip_stored};
pub use process::{
    START_TIMEOUT, STOP_TIMEOUT, Server, ServerBuilder, listening_address, probity_binary,
    shared_cache_dir, start_usual,
};
pub use scan::{contains_bytes, files_under, wait_for};
pub use stream::{Framing, StreamReply, stream_post};
