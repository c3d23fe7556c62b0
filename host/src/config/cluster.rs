//! The `[cluster]` table: several Probity nodes on one NATS JetStream (see
//! [`crate::cluster`]). Without the table a node runs alone on its embedded store, as it
//! always has; with it, the node joins the cluster named by `nats_url`.

use serde::{Deserialize, Serialize};

/// The `[cluster]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// The NATS server(s), comma-separated (`PROBITY_NATS_URL`), e.g.
    /// `"nats://10.0.0.5:4222"`.
    pub nats_url: String,
    /// This node's name, unique in the cluster (`PROBITY_NODE`): letters, digits, `-`
    /// and `_`.
    pub node: String,
    /// The partition count: fixed for the life of the stream (every node must say the
    /// same). A partition is the unit that moves between nodes.
    pub partitions: u16,
    /// Replicas of the event stream JetStream keeps (1 for a single NATS server; 3 for a
    /// NATS cluster of three). Applies when the stream is created.
    pub replicas: u8,
    /// How long a `POST /v1/events` waits, after JetStream stored its events, for their
    /// verdicts; past it the answer is `202` with the events' stream positions.
    pub answer_wait_ms: u64,
    /// How long JetStream remembers an event id to drop a re-sent copy (`"2m"`, `"1h"`);
    /// beyond it Probity's own idempotency records recognise it.
    pub duplicate_window: String,
    /// How long a partition's lease lasts without renewal: a dead node's partitions move
    /// after about this long.
    pub lease: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nats_url: String::new(),
            node: String::new(),
            partitions: 16,
            replicas: 1,
            answer_wait_ms: 10_000,
            duplicate_window: "2m".into(),
            lease: "6s".into(),
        }
    }
}

impl ClusterConfig {
    /// `duplicate_window` in milliseconds.
    pub fn duplicate_window_ms(&self) -> Result<i64, String> {
        super::parse_duration_ms(&self.duplicate_window)
    }

    /// `lease` in milliseconds.
    pub fn lease_ms(&self) -> Result<i64, String> {
        super::parse_duration_ms(&self.lease)
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, message: String| Err((key.to_string(), message));
        if self.nats_url.trim().is_empty() {
            return fail(
                "nats_url",
                "must name the NATS server, e.g. \"nats://127.0.0.1:4222\" (or set PROBITY_NATS_URL)".into(),
            );
        }
        if self.node.is_empty()
            || self.node.len() > 64
            || !self
                .node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return fail(
                "node",
                format!(
                    "`{}` is not a node name: 1 to 64 letters, digits, `-` or `_`, unique in the cluster (or set PROBITY_NODE)",
                    self.node
                ),
            );
        }
        if !(1..=crate::model::shard::SHARDS).contains(&self.partitions) {
            return fail(
                "partitions",
                format!(
                    "must be between 1 and {} (a partition is a set of the seller shards)",
                    crate::model::shard::SHARDS
                ),
            );
        }
        if !matches!(self.replicas, 1 | 3 | 5) {
            return fail("replicas", "must be 1, 3 or 5".into());
        }
        if self.answer_wait_ms == 0 || self.answer_wait_ms > 600_000 {
            return fail(
                "answer_wait_ms",
                "must be between 1 and 600000 (ten minutes)".into(),
            );
        }
        let window = self
            .duplicate_window_ms()
            .map_err(|message| ("duplicate_window".to_string(), message))?;
        if !(1_000..=7 * 86_400_000).contains(&window) {
            return fail("duplicate_window", "must be between 1s and 7 days".into());
        }
        let lease = self
            .lease_ms()
            .map_err(|message| ("lease".to_string(), message))?;
        if !(1_000..=600_000).contains(&lease) {
            return fail("lease", "must be between 1s and 10m".into());
        }
        Ok(())
    }
}
