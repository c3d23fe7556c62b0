//! The host's domain vocabulary: events, money, event time and subjects.
//!
//! These are plain data types with no I/O, shared by every other module. They mirror the
//! plugin-facing records in `wit/types.wit` field for field, so `runtime` converts them to
//! the wasm ABI by copying, and they hold personal data only as
//! [`Pseudonym`]s, so nothing downstream of [`crate::ingest`] can leak a
//! raw value. This module must not know about HTTP, wasmtime or the store.
//!
//! - [`event`]: [`Event`], [`EventBody`] (one struct per event type) and [`EventType`].
//! - [`money`]: [`Money`], exact decimal amounts.
//! - [`time`]: [`Timestamp`] (ms since the epoch) and its RFC 3339 form.
//! - [`subject`]: [`Subject`], what a verdict is about.
//! - [`shard`]: which of the fixed seller shards an event belongs to.

pub mod event;
pub mod money;
pub mod shard;
pub mod subject;
pub mod time;

pub use event::{Event, EventBody, EventType, Pseudonym};
pub use money::Money;
pub use subject::{Subject, SubjectType};
pub use time::Timestamp;
