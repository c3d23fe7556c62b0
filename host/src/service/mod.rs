//! What the HTTP handlers (and the `probity` subcommands) call: the services below the API
//! and above the pipeline.
//!
//! Why a layer of its own: the handlers need the pipeline thread, the running plugin set,
//! tokens and metrics, and `probity serve` needs to start and stop the same things. With
//! them in the server, the API imported the server and the server the API. Here they sit
//! below both, so imports run one way — `server → api → service → pipeline` — and the
//! server only composes and starts what this module defines.
//!
//! | module | what |
//! |---|---|
//! | [`cluster_node`] | in a cluster: ingest through the JetStream stream, the follower that applies it in order, leases, `GET /v1/cluster` |
//! | [`division`] | in a cluster: each partition evaluated by its owner alone, the changelog the others apply, fenced takeovers |
//! | [`ratings`] | publishing sellers' ratings, on the schedule and on demand, audited |
//! | [`worker`] | the router thread (sequencing, fair scheduling), group commit (the event log's `fdatasync`), the flush thread |
//! | [`router`] | the router thread: fair scheduling, the sequencer, ticks to the partitions |
//! | [`partition`] | the partition threads that evaluate their seller shards' events |
//! | [`reload`] | the running configuration and plugin set; live reloads, their report |
//! | [`audit`] | the audit trail of configuration changes |
//! | [`auth`] | bearer tokens and roles |
//! | [`keys`] | the pseudonym key and its guard |
//! | [`metrics`] | the Prometheus recorder and the per-plugin families of `/metrics` |

pub mod audit;
pub mod auth;
pub mod cluster_node;
pub mod division;
pub mod keys;
pub mod metrics;
pub mod partition;
pub mod ratings;
pub mod reload;
pub mod router;
pub mod worker;
