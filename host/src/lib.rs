//! Probity: a WebAssembly plugin host for marketplace integrity checks.
//!
//! Data flows one way: `api → pipeline → runtime → (plugins) → pipeline → store`.
//!
//! | module | owns | must not know about |
//! |---|---|---|
//! | [`config`] | the configuration file: parsing, layering, validation | wasmtime, sled |
//! | [`model`] | events, subjects, money and event time | wasmtime, sled, HTTP |
//! | [`ingest`] | contract JSON → validated, pseudonymised events | wasmtime, sled |
//! | [`privacy`] | keyed pseudonyms and normalisation of personal data | everything else |
//! | [`verdict`] | findings, actions, and how they combine (pure) | wasmtime, sled |
//! | [`runtime`] | wasmtime: engine, cache, instances, limits, host imports | sled, HTTP |
//! | [`store`] | sled behind the [`store::Store`] trait | wasmtime, HTTP |
//! | [`pipeline`] | event → plugins → verdicts in event time; timers | HTTP, sled |
//! | [`api`] | HTTP: routes, extractors, problem+json | wasmtime, sled |
//! | [`server`] | `probity serve`: start-up, pipeline thread, group commit, reload, auth, metrics | wasmtime internals |
//! | [`cli`] | the `probity` subcommands | — |

pub mod api;
pub mod bundled;
pub mod cli;
pub mod config;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod privacy;
pub mod runtime;
pub mod server;
pub mod store;
pub mod verdict;
