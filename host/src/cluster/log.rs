//! The event log of a cluster: a JetStream stream, a subject per partition.
//!
//! In a cluster the JetStream stream `PROBITY_EVENTS` is the log of record: an event is
//! appended by publishing its (pseudonymised) JSON to `probity.events.<partition>` —
//! the partition of its seller, or `probity.events.unrouted` for an event that names
//! only an order or a complaint — with its event id as `Nats-Msg-Id`, and it is durable,
//! and may be acknowledged to the client, once JetStream's publish acknowledgement
//! arrives (file storage, as many replicas as the stream is configured with). A re-sent
//! event within the stream's duplicate window comes back as a duplicate with the
//! sequence of the first copy; beyond the window, every node's sequencer recognises it
//! from its idempotency records, as a single node does.
//!
//! The stream's sequence is the one order of the whole cluster: every node follows the
//! stream from its own position ([`EventStream::follow`]) and so sees the same events in
//! the same order. Clock advances (event time following the wall clock on a quiet
//! night) travel the stream too, on `probity.events.clock`, de-duplicated by the second
//! they name, so that every node moves event time at the same point of the log.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;

use super::ownership::ClusterError;
use crate::model::event::Event;
use crate::model::time::Timestamp;

/// The stream.
pub const STREAM: &str = "PROBITY_EVENTS";
/// The subject of clock advances.
pub const CLOCK_SUBJECT: &str = "probity.events.clock";
/// The subject of configuration changes (the plugins and actions every node runs).
pub const CONFIG_SUBJECT: &str = "probity.events.config";
/// The subject of reviewers' decisions.
pub const DECISION_SUBJECT: &str = "probity.events.decision";
/// The subject of events whose seller the publisher could not name.
pub const UNROUTED_SUBJECT: &str = "probity.events.unrouted";
/// The header naming the node that published a message (for operators; nothing
/// depends on it).
pub const NODE_HEADER: &str = "Probity-Node";

/// The headers every Probity message carries: its de-duplication id and its node.
pub(super) fn headers(id: &str, node: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", id);
    headers.insert(NODE_HEADER, node);
    headers
}

/// Start publishing `payload` to `subject` of a stream (`what` names it in errors); the
/// returned future resolves once JetStream stored it.
pub(super) async fn start_publish(
    js: &jetstream::Context,
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
    what: &'static str,
) -> Result<PendingAppend, ClusterError> {
    let ack = js
        .publish_with_headers(subject, headers, payload)
        .await
        .map_err(|err| ClusterError::Nats {
            what,
            source: err.into(),
        })?;
    Ok(Box::pin(async move {
        let ack = ack.await.map_err(|err| ClusterError::Nats {
            what,
            source: err.into(),
        })?;
        Ok(Appended {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }))
}

/// An ordered consumer of `stream` from sequence `from` on (`what`: what fails).
pub(super) async fn ordered_from(
    stream: &stream::Stream,
    from: u64,
    what: &'static str,
) -> Result<consumer::pull::Ordered, ClusterError> {
    stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from.max(1),
            },
            ..Default::default()
        })
        .await
        .map_err(|err| nats(what)(err.into()))?
        .messages()
        .await
        .map_err(|err| nats(what)(err.into()))
}

/// The subject of a partition.
pub fn subject(partition: u32) -> String {
    format!("probity.events.{partition}")
}

/// What one message of the stream says.
#[derive(Debug)]
pub enum StreamEntry {
    /// An event.
    Event(Box<Event>),
    /// Move event time to this point, if that makes something due.
    ClockAdvance(Timestamp),
    /// From here on, run these plugins and actions (the service reads the JSON).
    ConfigChange(serde_json::Value),
    /// A reviewer's decision (the service reads the JSON).
    Decision(serde_json::Value),
    /// A message no Probity node could have written; skipped by every node alike.
    Undecodable(String),
}

impl StreamEntry {
    /// Decode a message's payload (`subject` tells events from clock advances).
    pub fn decode(subject: &str, payload: &[u8]) -> StreamEntry {
        if subject == CLOCK_SUBJECT {
            #[derive(serde::Deserialize)]
            struct Advance {
                clock_advance: Timestamp,
            }
            return match serde_json::from_slice::<Advance>(payload) {
                Ok(advance) => StreamEntry::ClockAdvance(advance.clock_advance),
                Err(err) => StreamEntry::Undecodable(format!("a clock advance: {err}")),
            };
        }
        if subject == DECISION_SUBJECT {
            return match serde_json::from_slice::<serde_json::Value>(payload) {
                Ok(value) => StreamEntry::Decision(value),
                Err(err) => StreamEntry::Undecodable(format!("a decision: {err}")),
            };
        }
        if subject == CONFIG_SUBJECT {
            #[derive(serde::Deserialize)]
            struct Change {
                config_change: serde_json::Value,
            }
            return match serde_json::from_slice::<Change>(payload) {
                Ok(change) => StreamEntry::ConfigChange(change.config_change),
                Err(err) => StreamEntry::Undecodable(format!("a configuration change: {err}")),
            };
        }
        match serde_json::from_slice::<Event>(payload) {
            Ok(event) => StreamEntry::Event(Box::new(event)),
            Err(err) => StreamEntry::Undecodable(format!("an event: {err}")),
        }
    }
}

/// One message as a follower gets it.
#[derive(Debug)]
pub struct FollowedEntry {
    /// Its stream sequence.
    pub sequence: u64,
    /// What it says.
    pub entry: StreamEntry,
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
    stream: stream::Stream,
    node: String,
}

/// An append on its way: await it for JetStream's acknowledgement.
pub type PendingAppend =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Appended, ClusterError>> + Send>>;

/// What the stream holds, as JetStream reports it.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct StreamState {
    /// Messages stored.
    pub messages: u64,
    /// The first sequence still stored.
    pub first_sequence: u64,
    /// The last sequence stored.
    pub last_sequence: u64,
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
    /// Open the stream behind `client` as `node`, creating it if this is the first node
    /// (the same configuration is accepted again; a stream created with other settings
    /// keeps them).
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
                description: Some("Probity's event log, a subject per partition".into()),
                subjects: vec!["probity.events.*".to_string()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|err| nats("creating the event stream")(err.into()))?;
        Ok(EventStream {
            js,
            stream,
            node: node.to_string(),
        })
    }

    /// Start appending one event (its JSON) to `partition` (`None`: the publisher does
    /// not know its seller), de-duplicated by `event_id`; the returned future resolves
    /// once JetStream has stored it. Appends started in order are stored in order.
    pub async fn start_append(
        &self,
        partition: Option<u32>,
        event_id: &str,
        json: Bytes,
    ) -> Result<PendingAppend, ClusterError> {
        let subject = partition.map_or_else(|| UNROUTED_SUBJECT.to_string(), subject);
        self.start_publish(subject, event_id, json).await
    }

    /// Append one event and wait until JetStream has stored it.
    pub async fn append(
        &self,
        partition: u32,
        event_id: &str,
        json: Bytes,
    ) -> Result<Appended, ClusterError> {
        self.start_append(Some(partition), event_id, json)
            .await?
            .await
    }

    /// Append a clock advance to `to` (de-duplicated by its second, so nodes that all
    /// see the wall clock pass a deadline append it once).
    pub async fn append_clock_advance(&self, to: Timestamp) -> Result<Appended, ClusterError> {
        let id = format!("clock:{}", to.div_euclid(1000));
        let json = serde_json::json!({ "clock_advance": to }).to_string();
        self.publish_stored(CLOCK_SUBJECT, &id, json).await
    }

    /// Append a configuration change (`id` de-duplicates the same change published by
    /// several nodes) and wait until JetStream has stored it.
    pub async fn append_config_change(
        &self,
        id: &str,
        change: &serde_json::Value,
    ) -> Result<Appended, ClusterError> {
        let json = serde_json::json!({ "config_change": change }).to_string();
        self.publish_stored(CONFIG_SUBJECT, id, json).await
    }

    /// Append a reviewer's decision (`id` de-duplicates a re-sent one) and wait until
    /// JetStream has stored it.
    pub async fn append_decision(
        &self,
        id: &str,
        decision: &serde_json::Value,
    ) -> Result<Appended, ClusterError> {
        self.publish_stored(DECISION_SUBJECT, id, decision.to_string())
            .await
    }

    /// Publish `json` to `subject` (de-duplicated by `id`) and wait until it is stored.
    async fn publish_stored(
        &self,
        subject: &str,
        id: &str,
        json: String,
    ) -> Result<Appended, ClusterError> {
        self.start_publish(subject.to_string(), id, json.into())
            .await?
            .await
    }

    async fn start_publish(
        &self,
        subject: String,
        id: &str,
        payload: Bytes,
    ) -> Result<PendingAppend, ClusterError> {
        start_publish(
            &self.js,
            subject,
            headers(id, &self.node),
            payload,
            "the event stream",
        )
        .await
    }

    /// Follow the stream from `from` (a stream sequence) on: every message in order, with
    /// its sequence. An error ends the follow; start again from the last sequence seen.
    pub async fn follow(
        &self,
        from: u64,
    ) -> Result<
        impl futures_util::Stream<Item = Result<FollowedEntry, ClusterError>> + use<>,
        ClusterError,
    > {
        use futures_util::StreamExt;
        let messages = ordered_from(&self.stream, from, "following the event stream").await?;
        Ok(messages.map(|message| {
            let message = message.map_err(|err| nats("reading the event stream")(err.into()))?;
            let sequence = message
                .info()
                .map_err(|err| nats("reading a message's position")(err))?
                .stream_sequence;
            Ok(FollowedEntry {
                sequence,
                entry: StreamEntry::decode(message.subject.as_str(), &message.payload),
            })
        }))
    }

    /// What the stream holds now.
    pub async fn state(&self) -> Result<StreamState, ClusterError> {
        let mut stream = self.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|err| nats("reading the event stream's state")(err.into()))?;
        Ok(StreamState {
            messages: info.state.messages,
            first_sequence: info.state.first_sequence,
            last_sequence: info.state.last_sequence,
        })
    }

    /// The event stored at `sequence`: its subject's partition and its JSON.
    pub async fn read(&self, sequence: u64) -> Result<(u32, Bytes), ClusterError> {
        let message = self
            .stream
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

    /// How many messages the stream holds.
    pub async fn stored_events(&self) -> Result<u64, ClusterError> {
        Ok(self.state().await?.messages)
    }
}
