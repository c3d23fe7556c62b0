//! Seller shards: the unit that plugin state, timers and (in a cluster) ownership are
//! divided into.
//!
//! Every seller belongs to one of [`SHARDS`] shards, by a stable hash of its id. A
//! plugin's state and timers are kept per shard, so what a plugin sees while it handles a
//! seller's event is exactly what it wrote while handling that shard's earlier events —
//! never something another shard's events wrote concurrently. That is what lets the
//! shards be evaluated on any number of threads (`server.partitions`) or machines and
//! still give the same verdicts: the number of shards is fixed, the number of threads
//! that serve them is not.
//!
//! The hash is FNV-1a (64 bit) of the seller id's bytes, reduced modulo [`SHARDS`]: simple,
//! stable across versions and platforms, and written down here because stores depend on
//! it.

/// How many shards there are. Fixed: a store's plugin state is laid out by it.
pub const SHARDS: u16 = 32;

/// A shard number, `0..SHARDS`.
pub type Shard = u16;

/// The shard a seller's events are evaluated in.
pub fn shard_of(seller_id: &str) -> Shard {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seller_id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(SHARDS)) as Shard
}

/// Which shards one partition (a thread, or in a cluster a node's share) serves: those
/// whose number is `index` modulo `count`.
/// Whose shard a plugin's events and state follow (the manifest's `keyed-by`).
///
/// A seller-keyed plugin (every 0.1.0 plugin) gets each subscribed event in its seller's
/// shard. A buyer-keyed plugin gets only the events that have a buyer — `order.placed`
/// and the later events of an order the host has seen placed — in the shard of the
/// buyer's pseudonym ([`shard_of`] applied to it), so its state sees a buyer's orders
/// across sellers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ShardKey {
    /// The seller's shard.
    #[default]
    Seller,
    /// The buyer's shard.
    Buyer,
}

impl ShardKey {
    /// `seller` or `buyer`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShardKey::Seller => "seller",
            ShardKey::Buyer => "buyer",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSet {
    index: u16,
    count: u16,
}

impl ShardSet {
    /// Every shard (a single partition).
    pub const ALL: ShardSet = ShardSet { index: 0, count: 1 };

    /// The shards of partition `index` of `count` (`count` at least 1).
    pub fn partition(index: u16, count: u16) -> ShardSet {
        let count = count.max(1);
        ShardSet {
            index: index % count,
            count,
        }
    }

    /// Whether `shard` is served here.
    pub fn contains(self, shard: Shard) -> bool {
        shard % self.count == self.index
    }

    /// The partition that serves `shard` among `count` partitions.
    pub fn partition_of(shard: Shard, count: u16) -> u16 {
        shard % count.max(1)
    }
}

/// The state namespace of `plugin` in `shard`: how the store keys its state, timers and
/// usage. `#` sorts before every character a plugin name may hold, so namespaces sort by
/// plugin name first, as plugin names do.
pub fn namespace(plugin: &str, shard: Shard) -> String {
    format!("{plugin}#{shard:02}")
}

/// The plugin and shard of a [`namespace`]; `None` for anything else.
pub fn split_namespace(namespace: &str) -> Option<(&str, Shard)> {
    let (plugin, shard) = namespace.rsplit_once('#')?;
    let shard: Shard = shard.parse().ok()?;
    (shard < SHARDS).then_some((plugin, shard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable() {
        // Stores depend on these: a change here must be a new schema.
        assert_eq!(shard_of(""), (0xcbf2_9ce4_8422_2325_u64 % 32) as u16);
        let spread: std::collections::BTreeSet<Shard> =
            (0..1000).map(|i| shard_of(&format!("S-{i}"))).collect();
        assert_eq!(
            spread.len(),
            SHARDS as usize,
            "1,000 sellers cover every shard"
        );
    }

    #[test]
    fn a_namespace_splits_back() {
        assert_eq!(split_namespace(&namespace("sla", 7)), Some(("sla", 7)));
        assert_eq!(split_namespace("sla"), None);
        assert_eq!(split_namespace("sla#99"), None);
        assert!(namespace("a", 3) < namespace("a-b", 0));
        assert!(namespace("a-b", 31) < namespace("ab", 0));
    }

    #[test]
    fn partitions_cover_every_shard_once() {
        for count in 1..=5 {
            for shard in 0..SHARDS {
                let serving = (0..count)
                    .filter(|i| ShardSet::partition(*i, count).contains(shard))
                    .count();
                assert_eq!(serving, 1);
            }
        }
    }
}
