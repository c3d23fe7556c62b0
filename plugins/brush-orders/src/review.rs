//! Review farming: fast 5-star reviews whose text nearly repeats other reviews of the
//! same seller.
//!
//! Brushers are handed a template ("质量很好，物流超快，包装用心，会回购的！") and change a
//! word or two. Each review text is reduced to letters and digits (so punctuation, case
//! and spacing do not matter), cut into overlapping three-character shingles, and
//! summarised by a MinHash signature of [`SLOTS`] 16-bit minima; the share of equal slots
//! estimates the Jaccard similarity of two texts' shingle sets. A seller keeps the
//! signatures of its last [`CAP_PRINTS`] candidate reviews within the window (~5 KB).
//!
//! A review is *farmed* when its rating is at least `min_rating`, it came within
//! `max_hours` of delivery (or before delivery), and it is a near duplicate
//! (`min_similarity`) of another such review of the seller by a different buyer (a loyal
//! customer pasting their own review again is not a template). The first review of a
//! template is flagged when the second arrives. Short texts ("好评", "good") are never
//! compared: they repeat honestly.

use probity_sdk::prelude::*;

use crate::identifiers::{fnv64, key};
use crate::run::{REVIEW_RULE, Run, detail, message};
use crate::store;

/// MinHash slots per signature.
pub const SLOTS: usize = 32;
/// Most signatures kept per seller.
pub const CAP_PRINTS: usize = 64;

/// One remembered review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Print {
    /// When it was posted.
    pub at: i64,
    /// Whether it was flagged already.
    pub flagged: bool,
    /// The reviewer's hash: a buyer repeating their own review is not a template.
    pub buyer: u64,
    /// Its signature.
    pub mins: [u16; SLOTS],
    /// The reviewed order.
    pub order: String,
}

/// The MinHash signature of `text`, or `None` when it has fewer than `min_chars`
/// letters and digits.
pub fn signature(text: &str, min_chars: u32) -> Option<[u16; SLOTS]> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if chars.len() < min_chars.max(3) as usize {
        return None;
    }
    let mut mins = [u64::MAX; SLOTS];
    let mut buffer = [0u8; 12];
    for window in chars.windows(3) {
        let mut len = 0;
        for c in window {
            len += c.encode_utf8(&mut buffer[len..]).len();
        }
        let base = fnv64(&buffer[..len]);
        for (slot, min) in mins.iter_mut().enumerate() {
            *min = (*min).min(mix(base ^ SEEDS[slot]));
        }
    }
    Some(mins.map(|m| (m >> 48) as u16))
}

/// The estimated Jaccard similarity of two signatures.
pub fn similarity(a: &[u16; SLOTS], b: &[u16; SLOTS]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / SLOTS as f64
}

/// SplitMix64's finaliser: one independent-looking hash per slot from one base hash.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Per-slot seeds (the SplitMix64 sequence from 0).
const SEEDS: [u64; SLOTS] = {
    let mut seeds = [0u64; SLOTS];
    let mut state: u64 = 0;
    let mut i = 0;
    while i < SLOTS {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        seeds[i] = z ^ (z >> 31);
        i += 1;
    }
    seeds
};

/// Encode prints compactly: per print, `at` (8 bytes LE), flags (1), buyer (8 LE),
/// minima (2 × SLOTS LE), order id length (2 LE) and bytes.
pub fn encode(prints: &[Print]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prints.len() * (19 + 2 * SLOTS + 16));
    for print in prints {
        out.extend_from_slice(&print.at.to_le_bytes());
        out.push(u8::from(print.flagged));
        out.extend_from_slice(&print.buyer.to_le_bytes());
        for min in print.mins {
            out.extend_from_slice(&min.to_le_bytes());
        }
        let id = print.order.as_bytes();
        let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&id[..usize::from(len)]);
    }
    out
}

/// Decode [`encode`]'s output; `None` if it is malformed.
pub fn decode(mut bytes: &[u8]) -> Option<Vec<Print>> {
    fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
        let (head, rest) = bytes.split_at_checked(n)?;
        *bytes = rest;
        Some(head)
    }
    let mut prints = Vec::new();
    while !bytes.is_empty() {
        let at = i64::from_le_bytes(take(&mut bytes, 8)?.try_into().ok()?);
        let flagged = take(&mut bytes, 1)?[0] != 0;
        let buyer = u64::from_le_bytes(take(&mut bytes, 8)?.try_into().ok()?);
        let mut mins = [0u16; SLOTS];
        for min in &mut mins {
            *min = u16::from_le_bytes(take(&mut bytes, 2)?.try_into().ok()?);
        }
        let len = u16::from_le_bytes(take(&mut bytes, 2)?.try_into().ok()?);
        let order = String::from_utf8(take(&mut bytes, usize::from(len))?.to_vec()).ok()?;
        prints.push(Print {
            at,
            flagged,
            buyer,
            mins,
            order,
        });
    }
    Some(prints)
}

impl Run<'_, '_> {
    /// `review.posted`.
    pub fn review(&mut self, review: &ReviewPosted) -> Result<(), PluginError> {
        let rule = self.cfg.farmed_review;
        let record = self.order(&review.order_id);
        let Some(placed) = record.placed.clone() else {
            return Ok(());
        };
        let since_delivery = self.now - record.delivered.unwrap_or(placed.at);
        if !rule.enabled || review.rating < rule.min_rating || since_delivery > rule.max_ms {
            return Ok(());
        }
        let Some(mins) = review
            .text
            .as_deref()
            .and_then(|t| signature(t, rule.min_chars))
        else {
            return Ok(());
        };
        let key = key::reviews(&placed.seller);
        let bytes = self.ctx.state().get(&key).unwrap_or_default();
        let mut prints = decode(&bytes).unwrap_or_default();
        let since = self.now.saturating_sub(self.cfg.window_ms);
        prints.retain(|p| p.at >= since && p.order != review.order_id);
        let twins: Vec<usize> = (0..prints.len())
            .filter(|&i| prints[i].buyer != placed.buyer)
            .filter(|&i| similarity(&prints[i].mins, &mins) >= rule.min_similarity)
            .collect();
        let farmed = !twins.is_empty();
        // The earlier reviews of the template, flagged now that it repeats.
        let mut earlier = Vec::new();
        for &i in &twins {
            if !prints[i].flagged {
                prints[i].flagged = true;
                earlier.push(prints[i].order.clone());
            }
        }
        if prints.len() >= CAP_PRINTS {
            prints.remove(0);
        }
        prints.push(Print {
            at: self.now,
            flagged: farmed,
            buyer: placed.buyer,
            mins,
            order: review.order_id.clone(),
        });
        store::put_bytes(self.ctx, &key, &encode(&prints), self.cfg.window_ms)?;
        if !farmed {
            return Ok(());
        }
        let twins = u8::try_from(twins.len()).unwrap_or(u8::MAX);
        let hours = since_delivery.max(0) / crate::config::HOUR_MS;
        let after = if record.delivered.is_some() {
            "delivery"
        } else {
            "the order, before any delivery"
        };
        let what = format!(
            "a {}-star review {hours} h after {after} nearly repeats {twins} other recent review(s) of seller {}",
            review.rating, placed.seller
        );
        self.farmed(&review.order_id, &what, twins)?;
        for order in earlier {
            let what = format!(
                "a fast 5-star review later repeated nearly word for word by order {}'s review",
                review.order_id
            );
            self.farmed(&order, &what, 1)?;
        }
        Ok(())
    }

    /// Report a farmed review of `order_id` and add it to the order's brushing signals.
    fn farmed(&mut self, order_id: &str, what: &str, twins: u8) -> Result<(), PluginError> {
        let rule = self.cfg.farmed_review;
        let finding = Finding::builder(Subject::order(order_id))
            .rule(REVIEW_RULE)
            .category(Category::ReviewManipulation)
            .severity(rule.severity)
            .message(message(&format!(
                "the review of order {order_id} looks farmed: {what}"
            )))
            .evidence(Evidence::field("text").detail(detail(what)))
            .build();
        self.findings.push(finding);
        let mut record = self.order(order_id);
        if record.signals.review_duplicates < twins {
            record.signals.review_duplicates = twins;
            self.refresh(order_id, record)?;
        }
        Ok(())
    }
}
