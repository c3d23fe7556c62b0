//! Rings: buyers of one seller linked through shared identifiers, found with a
//! union-find kept in the state store.
//!
//! Each buyer of a seller has a node (`b␟{seller}␟{buyer}`) holding its recent orders
//! and, once it shares an identifier that links (device, phone, payment, address by
//! default; never the IP), a parent pointer. A root node carries its group's tally:
//! buyers, orders, suspicious orders, links by kind, first and last activity. Union is by
//! size and `find` compresses paths, so a lookup touches a handful of entries even in a
//! large group.
//!
//! Linking alone proves nothing: a family shares a tablet, colleagues share an office
//! address, a campus shares a parcel locker. A group becomes a *ring* only when it has
//! at least `ring.min_buyers` buyers **and** at least `ring.min_suspicious_orders`
//! suspicious orders (orders at review level on their own signals) making up at least
//! `ring.min_suspicious_share` of its orders. Then every order of its members within the
//! window is flagged (retro-flagging), the seller gets a finding, and every later order
//! of a member is flagged as it comes.
//!
//! Bounds: a value already shared by [`CAP_BUYERS`] buyers is a hub (a locker, a
//! carrier's NAT) and links no one more; a group lists at most [`MAX_MEMBERS`] members
//! for retro-flagging; one call flags at most [`MAX_RETRO`] orders. Every node, member
//! entry and tally lives for the longer of the window and `order_days` after its last
//! touch (as long as the orders it points at), so an idle group dissolves by itself.
//! Retro-flagging reaches back `order_days`.

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::identifiers::{CAP_BUYERS, Kind, key};
use crate::run::Run;
use crate::store;

/// Most members a group lists for retro-flagging.
pub const MAX_MEMBERS: u32 = 256;
/// Most orders one buyer's node remembers.
pub const MAX_NODE_ORDERS: usize = 16;
/// Most orders flagged retroactively in one call.
pub const MAX_RETRO: usize = 256;

/// A buyer at a seller.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Node {
    /// Recent orders: `(order id, placed at)`, oldest first.
    #[serde(rename = "o", default)]
    pub orders: Vec<(String, i64)>,
    /// Orders placed while it was alone (a group's root counts the group's instead).
    #[serde(rename = "n", default)]
    pub placed: u32,
    /// Suspicious orders while it was alone.
    #[serde(rename = "u", default)]
    pub suspicious: u32,
    /// The parent in the union-find; `None` at a root.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    /// At the root of a group of two or more: its tally.
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
}

/// The tally of a group, kept at its root.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Group {
    /// Buyers.
    pub size: u32,
    /// Orders.
    pub orders: u32,
    /// Suspicious orders.
    pub suspicious: u32,
    /// Links made, by [`Kind::index`].
    pub links: [u32; 5],
    /// First activity.
    pub first: i64,
    /// Last activity.
    pub last: i64,
    /// When it was confirmed as a ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<i64>,
    /// Members listed under `m␟…`.
    pub listed: u32,
}

impl Group {
    /// "23 buyers linked by device ×14, address ×6; 57 orders (41 suspicious) from … to …".
    pub fn describe(&self, seller: &str) -> String {
        let links: Vec<String> = Kind::ALL
            .iter()
            .filter(|kind| self.links[kind.index()] > 0)
            .map(|kind| format!("{} ×{}", kind.noun(), self.links[kind.index()]))
            .collect();
        format!(
            "{} buyers of seller {seller} linked by shared {}; {} orders ({} suspicious) between {} and {}",
            self.size,
            links.join(", "),
            self.orders,
            self.suspicious,
            probity_sdk::time::minutes(self.first),
            probity_sdk::time::minutes(self.last),
        )
    }

    fn singleton(node: &Node, at: i64) -> Group {
        Group {
            size: 1,
            orders: node.placed,
            suspicious: node.suspicious,
            first: node.orders.first().map_or(at, |(_, t)| *t),
            last: at,
            ..Group::default()
        }
    }
}

impl Run<'_, '_> {
    /// The node of `buyer` at `seller` (a fresh one if none).
    pub fn node(&mut self, seller: &str, buyer: u64) -> Node {
        self.ctx
            .read_json(&key::node(seller, buyer))
            .unwrap_or_default()
    }

    /// Store a node for the window.
    pub fn save_node(&mut self, seller: &str, buyer: u64, node: &Node) -> Result<(), PluginError> {
        store::put(
            self.ctx,
            &key::node(seller, buyer),
            node,
            self.cfg.keep_ms(),
        )
    }

    /// The root of `buyer`'s group and its node, compressing the path walked. A parent
    /// whose node expired detaches the child: it becomes a root again.
    pub fn find(&mut self, seller: &str, buyer: u64) -> Result<(u64, Node), PluginError> {
        let mut current = buyer;
        let mut walked = Vec::new();
        let mut node = self.node(seller, current);
        // A path is at most log2(buyers) long; the bound guards against a corrupt cycle.
        for _ in 0..64 {
            let Some(parent) = node.parent else { break };
            let Some(parent_node) = self.ctx.read_json::<Node>(&key::node(seller, parent)) else {
                node.parent = None;
                self.save_node(seller, current, &node)?;
                break;
            };
            walked.push(current);
            current = parent;
            node = parent_node;
        }
        if node.parent.is_some() {
            return Err(PluginError::new("bad_state", "a cycle in a buyer group"));
        }
        // Point every node walked, but the last, straight at the root.
        for child in walked.iter().rev().skip(1) {
            let mut child_node = self.node(seller, *child);
            child_node.parent = Some(current);
            self.save_node(seller, *child, &child_node)?;
        }
        Ok((current, node))
    }

    /// Store `buyer`'s `node` (already holding `order_id`) and count the order before
    /// the buyer's identifiers link it anywhere new: in its own node while it is alone,
    /// else in its group, flagged at once if the group is a confirmed ring. A root's
    /// node is counted and stored in one write.
    pub fn group_order(
        &mut self,
        seller: &str,
        buyer: u64,
        node: Node,
        order_id: &str,
    ) -> Result<(), PluginError> {
        let (root, mut node) = if node.parent.is_none() {
            (buyer, node)
        } else {
            self.save_node(seller, buyer, &node)?;
            self.find(seller, buyer)?
        };
        let Some(group) = node.group.as_mut() else {
            node.placed += 1;
            return self.save_node(seller, root, &node);
        };
        group.orders += 1;
        group.last = group.last.max(self.now);
        let snapshot = group.clone();
        self.save_node(seller, root, &node)?;
        if snapshot.confirmed.is_some() {
            self.flag_ring_order(order_id, seller, &snapshot)?;
        }
        Ok(())
    }

    /// One more suspicious order of `buyer`: count it, and confirm the ring if it now
    /// qualifies.
    pub fn group_suspicious(&mut self, seller: &str, buyer: u64) -> Result<(), PluginError> {
        let (root, mut node) = self.find(seller, buyer)?;
        let Some(group) = node.group.as_mut() else {
            node.suspicious += 1;
            return self.save_node(seller, root, &node);
        };
        group.suspicious += 1;
        group.last = group.last.max(self.now);
        self.save_node(seller, root, &node)?;
        self.confirm_if_ring(seller, root, node)
    }

    /// Link `a` and `b` (buyers of `seller` sharing a value of `kind`).
    pub fn link(&mut self, seller: &str, a: u64, b: u64, kind: Kind) -> Result<(), PluginError> {
        let (root_a, mut node_a) = self.find(seller, a)?;
        let (root_b, node_b) = self.find(seller, b)?;
        if root_a == root_b {
            if let Some(group) = node_a.group.as_mut() {
                group.links[kind.index()] += 1;
                self.save_node(seller, root_a, &node_a)?;
            }
            return Ok(());
        }
        let group_a = node_a
            .group
            .clone()
            .unwrap_or_else(|| Group::singleton(&node_a, self.now));
        let group_b = node_b
            .group
            .clone()
            .unwrap_or_else(|| Group::singleton(&node_b, self.now));
        // Union by size: the smaller group goes under the larger one's root.
        let (big, mut big_node, big_group, small, mut small_node, small_group) =
            if group_a.size >= group_b.size {
                (root_a, node_a, group_a, root_b, node_b, group_b)
            } else {
                (root_b, node_b, group_b, root_a, node_a, group_a)
            };
        let mut merged = Group {
            size: big_group.size + small_group.size,
            orders: big_group.orders + small_group.orders,
            suspicious: big_group.suspicious + small_group.suspicious,
            links: std::array::from_fn(|i| big_group.links[i] + small_group.links[i]),
            first: big_group.first.min(small_group.first),
            last: big_group.last.max(small_group.last).max(self.now),
            confirmed: big_group.confirmed.or(small_group.confirmed),
            listed: big_group.listed,
        };
        merged.links[kind.index()] += 1;
        if big_group.size == 1 {
            merged.listed += self.list_member(seller, big, big, merged.listed)?;
        }
        let moved = self.move_members(seller, small, &small_group, big, merged.listed)?;
        merged.listed += moved;
        small_node.parent = Some(big);
        small_node.group = None;
        self.save_node(seller, small, &small_node)?;
        big_node.group = Some(merged.clone());
        self.save_node(seller, big, &big_node)?;
        // A confirmed ring absorbing buyers flags their orders too.
        if merged.confirmed.is_some() {
            if big_group.confirmed.is_none() || small_group.confirmed.is_none() {
                self.flag_members(seller, big, &merged)?;
            }
            return Ok(());
        }
        self.confirm_if_ring(seller, big, big_node)
    }

    /// Add `buyer` to the member list of `root` unless the list is full; 1 if added.
    fn list_member(
        &mut self,
        seller: &str,
        root: u64,
        buyer: u64,
        listed: u32,
    ) -> Result<u32, PluginError> {
        if listed >= MAX_MEMBERS {
            return Ok(0);
        }
        store::put_bytes(
            self.ctx,
            &key::member(seller, root, buyer),
            &[],
            self.cfg.keep_ms(),
        )?;
        Ok(1)
    }

    /// Move the members of the group at `from` to the list of `to`; how many were added.
    fn move_members(
        &mut self,
        seller: &str,
        from: u64,
        from_group: &Group,
        to: u64,
        listed: u32,
    ) -> Result<u32, PluginError> {
        if from_group.size == 1 {
            return self.list_member(seller, to, from, listed);
        }
        let prefix = key::members(seller, from);
        let entries = self.ctx.state().scan_prefix(&prefix, MAX_MEMBERS);
        let mut added = 0;
        for entry in entries {
            self.ctx.state().delete(&entry.key);
            if let Some(member) = entry
                .key
                .strip_prefix(&prefix)
                .and_then(|h| u64::from_str_radix(h, 16).ok())
            {
                added += self.list_member(seller, to, member, listed + added)?;
            }
        }
        Ok(added)
    }

    /// Confirm the group at `root` as a ring if it qualifies: flag its orders and report
    /// the seller.
    fn confirm_if_ring(
        &mut self,
        seller: &str,
        root: u64,
        mut node: Node,
    ) -> Result<(), PluginError> {
        let ring = self.cfg.ring;
        let Some(group) = node.group.as_mut() else {
            return Ok(());
        };
        let qualifies = ring.enabled
            && group.confirmed.is_none()
            && group.size >= ring.min_buyers
            && group.suspicious >= ring.min_suspicious_orders
            && f64::from(group.suspicious)
                >= ring.min_suspicious_share * f64::from(group.orders.max(1));
        if !qualifies {
            return Ok(());
        }
        group.confirmed = Some(self.now);
        let group = group.clone();
        self.save_node(seller, root, &node)?;
        self.report_seller_ring(seller, &group)?;
        self.flag_members(seller, root, &group)
    }

    /// Flag every recent order of every listed member of the group at `root`.
    fn flag_members(&mut self, seller: &str, root: u64, group: &Group) -> Result<(), PluginError> {
        let prefix = key::members(seller, root);
        let entries = self.ctx.state().scan_prefix(&prefix, MAX_MEMBERS);
        let since = self.now.saturating_sub(self.cfg.order_ttl_ms);
        for entry in entries {
            let Some(member) = entry
                .key
                .strip_prefix(&prefix)
                .and_then(|h| u64::from_str_radix(h, 16).ok())
            else {
                continue;
            };
            let node = self.node(seller, member);
            for (order_id, at) in &node.orders {
                if *at >= since {
                    self.flag_ring_order(order_id, seller, group)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a value shared by `buyers` buyers (the newcomer included) is a hub that
/// links no one more.
pub fn is_hub(buyers: u32) -> bool {
    buyers as usize >= CAP_BUYERS
}
