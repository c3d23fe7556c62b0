//! Identifiers shared by several buyers of one seller, and the state keys of the plugin.
//!
//! For each seller and each identifier value (a device, phone, payment instrument,
//! address or IP pseudonym) the plugin keeps the distinct buyers seen with it in the
//! window, each with when it was last seen: at most [`CAP_BUYERS`] of them, the oldest
//! dropped first. That is enough to tell "5 or more" from "a family of 4" and bounds the
//! entry to a few hundred bytes whatever happens.
//!
//! Keys hash buyers and identifier values to 16 hex digits (64-bit FNV-1a): fixed-size
//! keys, no separator inside them, and collisions within one seller's buyers are
//! negligible (about 10⁻¹¹ for 10,000 buyers).

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Most buyers remembered per identifier value (the highest `min_buyers` accepted).
pub const CAP_BUYERS: usize = 16;

/// Separates the parts of a state key (ids sent by a marketplace never contain it).
pub const SEP: char = '\u{1f}';

/// An identifier kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `buyer.device_id`.
    Device,
    /// `buyer.phone`.
    Phone,
    /// `payment_fingerprint`.
    Payment,
    /// `buyer.shipping_address`.
    Address,
    /// `buyer.ip`.
    Ip,
}

impl Kind {
    /// Every kind, in [`index`](Self::index) order.
    pub const ALL: [Kind; 5] = [
        Kind::Device,
        Kind::Phone,
        Kind::Payment,
        Kind::Address,
        Kind::Ip,
    ];

    /// Its position in per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name in settings.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::Phone => "phone",
            Kind::Payment => "payment",
            Kind::Address => "address",
            Kind::Ip => "ip",
        }
    }

    /// The contract field it comes from.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Device => "buyer.device_id",
            Kind::Phone => "buyer.phone",
            Kind::Payment => "payment_fingerprint",
            Kind::Address => "buyer.shipping_address",
            Kind::Ip => "buyer.ip",
        }
    }

    /// What a reviewer calls it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::Phone => "phone number",
            Kind::Payment => "payment instrument",
            Kind::Address => "shipping address",
            Kind::Ip => "IP address",
        }
    }
}

/// 64-bit FNV-1a.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The state keys, one function per kind of entry.
pub mod key {
    use super::{Kind, SEP};

    /// An order's facts.
    pub fn order(order_id: &str) -> String {
        format!("o{SEP}{order_id}")
    }
    /// A buyer at a seller: recent orders and its node in the seller's buyer groups.
    pub fn node(seller: &str, buyer: u64) -> String {
        format!("b{SEP}{seller}{SEP}{buyer:016x}")
    }
    /// The buyers of a seller seen with one identifier value.
    pub fn identifier(seller: &str, kind: Kind, value: u64) -> String {
        format!("i{SEP}{seller}{SEP}{}{SEP}{value:016x}", kind.name())
    }
    /// The prefix of a group's member list.
    pub fn members(seller: &str, root: u64) -> String {
        format!("m{SEP}{seller}{SEP}{root:016x}{SEP}")
    }
    /// One member of a group.
    pub fn member(seller: &str, root: u64, buyer: u64) -> String {
        format!("{}{buyer:016x}", members(seller, root))
    }
    /// A listing's weights.
    pub fn listing(listing_id: &str) -> String {
        format!("w{SEP}{listing_id}")
    }
    /// A seller's recent review fingerprints.
    pub fn reviews(seller: &str) -> String {
        format!("r{SEP}{seller}")
    }
    /// A seller's ring tally.
    pub fn seller(seller: &str) -> String {
        format!("s{SEP}{seller}")
    }
}

/// The buyers of one seller seen with one identifier value: `(buyer, last seen)`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IdentifierUse(pub Vec<(u64, i64)>);

/// What recording one use of an identifier value found.
#[derive(Debug)]
pub struct Sharing {
    /// Distinct buyers (this one included) seen with the value within the window.
    pub buyers: u32,
    /// The other buyers, most recent first.
    pub others: Vec<u64>,
    /// Whether this buyer is new to the value (so links must be made).
    pub new_buyer: bool,
}

/// Record that `buyer` used `value` of `kind` at `seller` at `at`, and say who else did
/// within `window_ms` before it.
pub fn record_use(
    ctx: &mut Context<'_>,
    seller: &str,
    kind: Kind,
    value: &str,
    buyer: u64,
    at: Timestamp,
    window_ms: i64,
) -> Result<Sharing, PluginError> {
    let key = key::identifier(seller, kind, fnv64(value.as_bytes()));
    let mut uses: IdentifierUse = ctx.state().get_json(&key)?.unwrap_or_default();
    let since = at.saturating_sub(window_ms);
    uses.0.retain(|(_, seen)| *seen >= since);
    let new_buyer = match uses.0.iter_mut().find(|(b, _)| *b == buyer) {
        Some(entry) => {
            entry.1 = entry.1.max(at);
            false
        }
        None => {
            if uses.0.len() >= CAP_BUYERS {
                // Drop the buyer seen longest ago.
                if let Some(oldest) = (0..uses.0.len()).min_by_key(|&i| uses.0[i].1) {
                    uses.0.swap_remove(oldest);
                }
            }
            uses.0.push((buyer, at));
            true
        }
    };
    uses.0.sort_by_key(|(_, seen)| std::cmp::Reverse(*seen));
    let sharing = Sharing {
        buyers: uses.0.len() as u32,
        others: uses
            .0
            .iter()
            .map(|(b, _)| *b)
            .filter(|b| *b != buyer)
            .collect(),
        new_buyer,
    };
    crate::store::put(ctx, &key, &uses, window_ms)?;
    Ok(sharing)
}
