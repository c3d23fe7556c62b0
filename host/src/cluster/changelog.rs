//! The changelog: what each partition's owner did, for the other nodes to apply.
//!
//! Only a partition's owner evaluates its events (see
//! [`crate::service::division`]). Everything a unit of work wrote — plugin state,
//! timers, verdicts, history, rating facts — it publishes to the JetStream stream
//! `PROBITY_CHANGES`, on `probity.changes.<partition>`, and every other node applies
//! those writes to its own store without running a plugin. So reads still answer on
//! every node, while each node spends its CPU on its own partitions only.
//!
//! Three kinds of message, all JSON ([`Change`]):
//!
//! - **units**: the writes of the owner's units for a run of items of the event stream,
//!   each identified by a [`Mark`] — the event stream's sequence and the item's index
//!   among the partition's items at that sequence. Marks are the same on every node,
//!   because every node's sequencer makes the same decisions from the same stream. An
//!   owner under load gathers up to 64 items in one message, and sends what it has
//!   whenever it has nothing else to do;
//! - a **watermark**: units with none in them, saying that the owner has evaluated
//!   everything up to a mark (most items write nothing: a tick that fires no timer);
//! - a **fence**: a node taking a partition over. Its stream sequence becomes the
//!   partition's *epoch*; every later units message carries the epoch its publisher
//!   took the partition in, and messages of an older epoch published after the fence
//!   (a stalled former owner that woke up) are ignored by every node alike. Fencing is
//!   JetStream's order, not a clock.
//!
//! Messages are de-duplicated by `Nats-Msg-Id` =
//! `<partition>.<epoch>.<position>.<index>.<through>` (of the last item), so a publisher
//! that retries after a lost acknowledgement stores each once.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::log::{PendingAppend, headers, ordered_from, start_publish};
use super::ownership::ClusterError;

/// The stream.
pub const STREAM: &str = "PROBITY_CHANGES";

/// The subject of a partition's changes.
pub fn subject(partition: u32) -> String {
    format!("probity.changes.{partition}")
}

/// A point in a partition's work: the event stream's sequence of the entry being
/// applied, and the index of the item among the partition's items for that entry (an
/// event may release parked events, which its partition evaluates after it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Mark {
    /// The event stream's sequence.
    pub position: u64,
    /// The item's index at that sequence.
    pub index: u32,
}

/// One changelog message's content.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change<U> {
    /// `node` takes the partition over from here: the message's own sequence is its epoch.
    Fence,
    /// The owner's units for a run of items, each under its mark (items that wrote
    /// nothing are left out; none at all: a watermark).
    Units {
        /// The epoch the publisher took the partition in.
        epoch: u64,
        /// The last item the owner had evaluated.
        last: Mark,
        /// The owner has evaluated every item of the partition at event stream
        /// sequences up to this one.
        through: u64,
        /// `(mark, units)` per item, in order (a list).
        items: U,
    },
}

/// A changelog message as published.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangeMessage<U> {
    /// The publishing node.
    pub node: String,
    /// The publishing process (a node that restarts is another run: it applies what it
    /// published before like anyone else's).
    pub run: String,
    /// What it says.
    pub change: Change<U>,
}

/// The header naming the process that published a message, and the one naming its
/// kind (`units` or `fence`): a node skips its own units without reading them.
pub const RUN_HEADER: &str = "Probity-Run";
/// See [`RUN_HEADER`].
pub const KIND_HEADER: &str = "Probity-Kind";

/// A changelog message as a follower reads it.
#[derive(Debug)]
pub struct FollowedChange {
    /// Its sequence in `PROBITY_CHANGES`.
    pub sequence: u64,
    /// Its partition.
    pub partition: u32,
    /// The publishing process and the message's kind, from its headers.
    pub run_and_kind: Option<(String, String)>,
    /// Its JSON (decoded by the service, which knows the units' type).
    pub payload: Bytes,
}

/// The cluster's changelog stream.
#[derive(Clone)]
pub struct ChangeLog {
    js: jetstream::Context,
    stream: stream::Stream,
    node: String,
}

impl std::fmt::Debug for ChangeLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeLog").finish_non_exhaustive()
    }
}

fn nats(what: &'static str) -> impl FnOnce(async_nats::Error) -> ClusterError {
    move |source| ClusterError::Nats { what, source }
}

impl ChangeLog {
    /// Open the changelog behind `client` as `node`, creating it if this is the first
    /// node. It keeps everything: a node that starts applies it from the beginning.
    pub async fn open(
        client: async_nats::Client,
        node: &str,
        replicas: usize,
        duplicate_window: Duration,
    ) -> Result<Self, ClusterError> {
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: STREAM.to_string(),
                description: Some(
                    "Probity's changelog: each partition owner's writes, for the other nodes"
                        .into(),
                ),
                subjects: vec!["probity.changes.*".to_string()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|err| nats("creating the changelog stream")(err.into()))?;
        Ok(ChangeLog {
            js,
            stream,
            node: node.to_string(),
        })
    }

    /// Start publishing one message (`id` de-duplicates it; `run` and `kind` go in its
    /// headers) to `partition`'s subject;
    /// the returned future resolves once JetStream stored it. Messages started in order
    /// are stored in order.
    pub async fn start_publish(
        &self,
        partition: u32,
        id: &str,
        (run, kind): (&str, &str),
        payload: Bytes,
    ) -> Result<PendingAppend, ClusterError> {
        let mut headers = headers(id, &self.node);
        headers.insert(RUN_HEADER, run);
        headers.insert(KIND_HEADER, kind);
        start_publish(
            &self.js,
            subject(partition),
            headers,
            payload,
            "the changelog",
        )
        .await
    }

    /// Follow the changelog from `from` on: every message in order. An error ends the
    /// follow; start again after the last sequence seen.
    pub async fn follow(
        &self,
        from: u64,
    ) -> Result<
        impl futures_util::Stream<Item = Result<FollowedChange, ClusterError>> + use<>,
        ClusterError,
    > {
        use futures_util::StreamExt;
        let messages = ordered_from(&self.stream, from, "following the changelog").await?;
        Ok(messages.map(|message| {
            let message = message.map_err(|err| nats("reading the changelog")(err.into()))?;
            let sequence = message
                .info()
                .map_err(|err| nats("reading a change's position")(err))?
                .stream_sequence;
            let partition = message
                .subject
                .rsplit('.')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(u32::MAX);
            let header = |name: &str| {
                message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .map(|v| v.as_str().to_string())
            };
            Ok(FollowedChange {
                sequence,
                partition,
                run_and_kind: header(RUN_HEADER).zip(header(KIND_HEADER)),
                payload: message.payload.clone(),
            })
        }))
    }

    /// The last sequence stored (0: empty).
    pub async fn last_sequence(&self) -> Result<u64, ClusterError> {
        let mut stream = self.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|err| nats("reading the changelog's state")(err.into()))?;
        Ok(info.state.last_sequence)
    }
}
