//! Probity: a WebAssembly plugin host for marketplace integrity checks.
//!
//! An event travels `api → service → pipeline (sequencer → log → partition) → runtime → (plugins) → pipeline → store`;
//! the event log in [`store`] is the source of truth, and everything else is derived from
//! it. `server` is the composition root: it builds these parts, starts them and stops
//! them.
//!
//! **Imports run one way, up this table.** A module uses only the modules in its "may use"
//! column (each of them above it), never one below, so there are no cycles; and it never
//! names the libraries in its last column. The test `layering` below reads this table and
//! the source and fails on an import that breaks it.
//!
//! | module | owns | may use | must not know about |
//! |---|---|---|---|
//! | [`model`] | events, subjects, money, event time and seller shards | — | wasmtime, sled, HTTP |
//! | [`privacy`] | keyed pseudonyms; normalisation and masking of personal data | `model` | wasmtime, sled, HTTP |
//! | [`verdict`] | findings, actions, and how they combine (pure) | `model` | wasmtime, sled, HTTP |
//! | [`config`] | the configuration file: parsing, layering, validation | `model`, `verdict` | wasmtime, sled, HTTP |
//! | [`ingest`] | contract JSON → validated, pseudonymised events | `model`, `privacy` | wasmtime, sled, HTTP |
//! | [`store`] | the event log (segments, `fdatasync`, group commit) and, in `store/sled` only, sled for what is derived | `model`, `verdict` | wasmtime, HTTP |
//! | [`rating`] | sellers' credit ratings: facts recorded in event time, scores, grades and reasons | `config`, `model`, `store`, `verdict` | wasmtime, sled, HTTP |
//! | [`runtime`] | wasmtime: engine, cache, instances, limits, host imports, both world versions | `config`, `model`, `store`, `verdict` | sled, HTTP |
//! | [`pipeline`] | the sequencer (idempotency, clock, seller and buyer shards, parking, log first); event → plugins → verdicts in event time for a set of shards; timers; replay of the log | `config`, `model`, `rating`, `runtime`, `store`, `verdict` | sled, HTTP |
//! | [`cluster`] | nodes on NATS JetStream: the event stream (the log of record), the owners' changelog, partition leases in a key-value bucket | `model` | wasmtime, sled, HTTP |
//! | [`service`] | what requests call: the router and partition threads and group commit, a cluster node's ingest and follower, the division of a cluster's work (owners evaluate, the others apply their changelog), reload and audit, auth, pseudonym key, metrics | `cluster`, `config`, `model`, `pipeline`, `privacy`, `rating`, `runtime`, `store`, `verdict` | sled, HTTP |
//! | [`api`] | HTTP: routes, extractors, handlers, problem+json | `cluster`, `config`, `ingest`, `model`, `pipeline`, `privacy`, `rating`, `runtime`, `service`, `store`, `verdict` | wasmtime, sled |
//! | [`bundled`] | the bundled plugins' components, embedded in the binary | — | sled, HTTP |
//! | [`server`] | `probity serve`: start-up, the listener, tickers, signals, shutdown | `api`, `bundled`, `cluster`, `config`, `model`, `pipeline`, `privacy`, `runtime`, `service`, `store`, `verdict` | wasmtime, sled |
//! | [`cli`] | the `probity` subcommands | `bundled`, `config`, `ingest`, `model`, `pipeline`, `privacy`, `runtime`, `server`, `service`, `store`, `verdict` | sled, HTTP |

pub mod api;
pub mod bundled;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod privacy;
pub mod rating;
pub mod runtime;
pub mod server;
pub mod service;
pub mod store;
pub mod verdict;

#[cfg(test)]
mod layering;
