//! Empty parcels (空包) and implausibly fast deliveries.
//!
//! A brushing seller must show a shipment with a valid tracking number, so it ships an
//! empty envelope or a token gift: the tracking number proves nothing, the weight does.
//! A parcel is judged against its listing's *typical* weight per item:
//! - the weight the listing declares in its attributes (`weight_g`, `weight`, `重量`,
//!   `毛重`, `净重`, in g or kg), else
//! - the median of the last [`CAP_WEIGHTS`] per-item weights seen for the listing (from
//!   at least [`MIN_SAMPLES`] parcels that were not themselves empty). Not a high
//!   percentile: a listing sold in variants (SKUs of 0.35–2.8× the base weight) would
//!   then be judged against its heaviest variant, and every light one would look empty
//!   (issue 20). Parcels judged empty are never learnt, so a listing whose parcels are
//!   mostly empty keeps a real typical weight.
//!
//! With a typical weight, a parcel at most `max_ratio` of it is empty, so a 20 g sticker
//! sent in a 20 g envelope is fine. Without one, only a parcel of at most `floor_grams`
//! is.

use probity_sdk::prelude::ListingUpserted;
use serde::{Deserialize, Serialize};

use crate::config::EmptyParcel;

/// Most per-item weights remembered per listing.
pub const CAP_WEIGHTS: usize = 32;
/// Parcels needed before learnt weights give a typical weight.
pub const MIN_SAMPLES: usize = 5;

/// A listing's weights, under `w␟{listing_id}`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ListingWeights {
    /// The weight per item the listing declares, in grams.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<u32>,
    /// Recent per-item weights of parcels that were not empty, oldest first.
    #[serde(rename = "w", default)]
    pub recent: Vec<u32>,
}

impl ListingWeights {
    /// The typical weight per item, if known.
    pub fn typical(&self) -> Option<u32> {
        if let Some(declared) = self.declared {
            return Some(declared);
        }
        if self.recent.len() < MIN_SAMPLES {
            return None;
        }
        let mut sorted = self.recent.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    }

    /// Remember the per-item weight of a parcel that was not empty.
    pub fn learn(&mut self, per_item: u32) {
        if self.recent.len() >= CAP_WEIGHTS {
            self.recent.remove(0);
        }
        self.recent.push(per_item);
    }
}

/// `(weight, typical or 0)` when a parcel of `weight` grams is empty.
pub fn empty(weight: u32, typical: Option<u32>, rule: &EmptyParcel) -> Option<(u32, u32)> {
    match typical {
        Some(typical) if f64::from(weight) <= rule.max_ratio * f64::from(typical) => {
            Some((weight, typical))
        }
        None if weight <= rule.floor_grams => Some((weight, 0)),
        _ => None,
    }
}

/// Attribute keys that declare a weight, compared case-insensitively.
const WEIGHT_KEYS: [&str; 8] = [
    "weight_g",
    "weight_grams",
    "weight",
    "net_weight",
    "重量",
    "毛重",
    "净重",
    "商品重量",
];

/// The weight per item a listing declares, in grams.
pub fn declared_weight(listing: &ListingUpserted) -> Option<u32> {
    listing.attributes.iter().find_map(|(key, value)| {
        let key = key.trim().to_lowercase();
        WEIGHT_KEYS
            .contains(&key.as_str())
            .then(|| parse_grams(value))
            .flatten()
    })
}

/// `"500"`, `"500g"`, `"500 克"`, `"1.2kg"`, `"1.2 公斤"` as grams.
pub fn parse_grams(text: &str) -> Option<u32> {
    let text = text.trim().to_lowercase();
    let number_end = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(text.len(), |(i, _)| i);
    let number: f64 = text[..number_end].parse().ok()?;
    let factor = match text[number_end..].trim() {
        "" | "g" | "gram" | "grams" | "克" => 1.0,
        "kg" | "kilogram" | "kilograms" | "千克" | "公斤" => 1000.0,
        _ => return None,
    };
    let grams = (number * factor).round();
    (1.0..=1_000_000.0).contains(&grams).then_some(grams as u32)
}
