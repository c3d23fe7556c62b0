//! The event log of a cluster: a JetStream stream, a subject per partition.
//!
//! In a cluster the JetStream stream `PROBITY_EVENTS` takes the place of the local event
//! log ([`crate::store`]): an event is appended by publishing it to
//! `probity.events.<partition>` with its event id as `Nats-Msg-Id`, and it is durable —
//! and may be acknowledged to the client — once JetStream's publish acknowledgement
//! arrives (file storage, as many replicas as the stream is configured with). A re-sent
//! event within the stream's duplicate window comes back as a duplicate with the
//! sequence of the first copy; beyond the window, the owner's own idempotency records
//! recognise it (as a single node does).
//!
//! Not yet used by `probity serve` (see the module docs of [`crate::cluster`]).

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;

use super::ownership::ClusterError;

/// The stream.
pub const STREAM: &str = "PROBITY_EVENTS";
/// How long JetStream remembers an event id for de-duplication.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The subject of a partition.
pub fn subject(partition: u32) -> String {
    format!("probity.events.{partition}")
}

/// Where an append landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The stream sequence (of the first copy, for a duplicate).
    pub sequence: u64,
    /// Whether JetStream had it already (same event id within the window).
    pub duplicate: bool,
}

/// The cluster's event stream.
#[derive(Clone)]
pub struct EventStream {
    js: jetstream::Context,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

fn nats(what: &'static str) -> impl FnOnce(async_nats::Error) -> ClusterError {
    move |source| ClusterError::Nats { what, source }
}

impl EventStream {
    /// Open the stream behind `client`, creating it if this is the first node (the same
    /// configuration is accepted again).
    pub async fn open(client: async_nats::Client, replicas: usize) -> Result<Self, ClusterError> {
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: STREAM.to_string(),
            description: Some("Probity's event log, a subject per partition (issue 19)".into()),
            subjects: vec!["probity.events.*".to_string()],
            storage: stream::StorageType::File,
            num_replicas: replicas,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(|err| nats("creating the event stream")(err.into()))?;
        Ok(EventStream { js })
    }

    /// Append one event (its JSON) to `partition`, de-duplicated by `event_id`; returns
    /// once JetStream has stored it.
    pub async fn append(
        &self,
        partition: u32,
        event_id: &str,
        json: Bytes,
    ) -> Result<Appended, ClusterError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event_id);
        let ack = self
            .js
            .publish_with_headers(subject(partition), headers, json)
            .await
            .map_err(|err| nats("appending an event")(err.into()))?
            .await
            .map_err(|err| nats("storing an event")(err.into()))?;
        Ok(Appended {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }

    /// The event stored at `sequence`: its subject's partition and its JSON.
    pub async fn read(&self, sequence: u64) -> Result<(u32, Bytes), ClusterError> {
        let stream = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|err| nats("opening the event stream")(err.into()))?;
        let message = stream
            .get_raw_message(sequence)
            .await
            .map_err(|err| nats("reading an event")(err.into()))?;
        let partition = message
            .subject
            .rsplit('.')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| ClusterError::Setting {
                field: "stream",
                message: format!("unexpected subject {}", message.subject),
            })?;
        Ok((partition, message.payload))
    }

    /// How many events the stream holds.
    pub async fn stored_events(&self) -> Result<u64, ClusterError> {
        let mut stream = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|err| nats("opening the event stream")(err.into()))?;
        let info = stream
            .info()
            .await
            .map_err(|err| nats("reading the event stream's state")(err.into()))?;
        Ok(info.state.messages)
    }
}
