//! Several Probity nodes on a NATS JetStream cluster (issue 19), partitioned by seller.
//!
//! Why JetStream and not a protocol of ours: an operator running a national marketplace
//! will not accept a home-made replication scheme, and does not have to. JetStream
//! already stores streams durably and replicated, de-duplicates publishes, and offers
//! key-value buckets whose writes are compare-and-set on a revision. Probity uses those
//! for everything that needs agreement between nodes:
//!
//! - **Ownership** ([`ownership`]): each partition is owned by exactly one live node, by
//!   a lease in the key-value bucket `probity_owners` — a key per partition whose value
//!   is the owner's name, renewed by a compare-and-set on its revision and expiring with
//!   the bucket's `max_age` when its node stops renewing. Nodes announce themselves in
//!   `probity_nodes` the same way. Which node *should* own a partition is decided by
//!   rendezvous hashing over the live nodes, so every node computes the same answer and
//!   a joining or leaving node moves only its share.
//!
//! - **The event stream** ([`log`]): the JetStream stream `PROBITY_EVENTS` is the
//!   cluster's log of record — every event, and every clock advance, in one order that
//!   every node follows ([`crate::service::cluster_node`] is the node's side of it).
//!
//! A partition here is the unit that moves between nodes: a fixed set of the 32 seller
//! shards ([`crate::model::shard`]), shard `s` in partition `s mod partitions`.
//!
//! - **The changelog** ([`changelog`]): `PROBITY_CHANGES`, where each partition's owner
//!   publishes what its units wrote, so that only the owner runs the plugins and every
//!   other node applies the writes ([`crate::service::division`]); a fence there marks
//!   each takeover.

pub mod changelog;
pub mod log;
pub mod ownership;

/// A connection to NATS.
pub type Client = async_nats::Client;

/// Connect to the NATS server(s) at `url` (comma-separated for several).
pub async fn connect(url: &str) -> Result<Client, ownership::ClusterError> {
    async_nats::connect(url)
        .await
        .map_err(|err| ownership::ClusterError::Nats {
            what: "connecting",
            source: err.into(),
        })
}

/// The bucket of facts every node must agree on (e.g. the pseudonym key's fingerprint).
pub const FACTS_BUCKET: &str = "probity_cluster";

/// Record `value` under `key` in the cluster's facts if nobody did yet, and return the
/// value the cluster has: the caller compares it with its own.
pub async fn agreed_fact(
    client: &Client,
    replicas: usize,
    key: &str,
    value: &str,
) -> Result<String, ownership::ClusterError> {
    use async_nats::jetstream::{self, kv};
    let nats = |what: &'static str| {
        move |err: async_nats::Error| ownership::ClusterError::Nats { what, source: err }
    };
    let js = jetstream::new(client.clone());
    let facts = js
        .create_key_value(kv::Config {
            bucket: FACTS_BUCKET.to_string(),
            description: "Facts every Probity node must agree on".to_string(),
            history: 1,
            storage: jetstream::stream::StorageType::File,
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .map_err(|err| nats("opening the cluster's facts bucket")(err.into()))?;
    if facts.create(key, value.to_string().into()).await.is_ok() {
        return Ok(value.to_string());
    }
    let stored = facts
        .get(key)
        .await
        .map_err(|err| nats("reading the cluster's facts")(err.into()))?
        .unwrap_or_default();
    Ok(String::from_utf8_lossy(&stored).into_owned())
}
