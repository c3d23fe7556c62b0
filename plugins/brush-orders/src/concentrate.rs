//! The concentrate rate (集中度): a seller's orders ÷ distinct buyers within any hour.
//!
//! Brushing crews place several orders each in a short session, so a seller's orders
//! per buyer rises far above the one-and-a-bit of honest trade. The plugin keeps each
//! seller's orders of the last hour (`c␟{seller}`: time and buyer, at most
//! [`CAP_RECENT`]) and, at every order, computes the rate over the hour ending at it —
//! the windows ending at an order are the ones where the rate peaks, so this is the
//! rate of *any* 1-hour window. A busy seller's list holds its last [`CAP_RECENT`]
//! orders, a window shorter than an hour: a high rate there is a high rate within an
//! hour too, so nothing is flagged wrongly, only very busy sellers are checked over a
//! shorter span.
//!
//! At `min_orders` orders and a rate of `min_rate`, the seller gets a finding at once
//! and an *episode* opens (`ce␟{seller}`), tracking the peak; a timer an hour later
//! closes it and reports the peak, replacing the first finding. One burst, two findings
//! at most, however many orders it has.

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::HOUR_MS;
use crate::identifiers::SEP;
use crate::run::{CONCENTRATE_RULE, Run, detail, message};
use crate::store;

/// Most recent orders kept per seller.
pub const CAP_RECENT: usize = 128;

/// The prefix of the episode-closing timers' keys.
pub const TIMER_PREFIX: &str = "rate\u{1f}";

/// How long an episode outlives its timer if the timer cannot fire (a full quota).
const EPISODE_TTL_MS: i64 = 30 * 24 * HOUR_MS;

/// A burst being watched.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Episode {
    /// When the rate first crossed.
    pub start: i64,
    /// The highest rate's orders.
    pub orders: u32,
    /// The highest rate's buyers.
    pub buyers: u32,
    /// The end of the hour with the highest rate.
    pub peak_at: i64,
}

fn recent_key(seller: &str) -> String {
    format!("c{SEP}{seller}")
}

fn episode_key(seller: &str) -> String {
    format!("ce{SEP}{seller}")
}

/// `(time, buyer)` pairs as 16 bytes each, little-endian.
fn encode(recent: &[(i64, u64)]) -> Vec<u8> {
    recent
        .iter()
        .flat_map(|(t, b)| t.to_le_bytes().into_iter().chain(b.to_le_bytes()))
        .collect()
}

fn decode(bytes: &[u8]) -> Vec<(i64, u64)> {
    bytes
        .chunks_exact(16)
        .map(|chunk| {
            let (t, b) = chunk.split_at(8);
            let t = i64::from_le_bytes(t.try_into().unwrap_or([0; 8]));
            let b = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
            (t, b)
        })
        .collect()
}

impl Episode {
    fn rate(&self) -> f64 {
        f64::from(self.orders) / f64::from(self.buyers.max(1))
    }
}

impl Run<'_, '_> {
    /// Count an order by `buyer` at `seller` placed at `at`; flag the seller if the hour
    /// ending at it is concentrated.
    pub fn count_rate(
        &mut self,
        seller: &str,
        buyer: u64,
        at: Timestamp,
    ) -> Result<(), PluginError> {
        let rule = self.cfg.concentrate_rate;
        if !rule.enabled {
            return Ok(());
        }
        let key = recent_key(seller);
        let mut recent = decode(&self.ctx.state().get(&key).unwrap_or_default());
        let newest = recent.iter().map(|(t, _)| *t).max().unwrap_or(at).max(at);
        recent.retain(|(t, _)| *t > newest - HOUR_MS);
        recent.push((at, buyer));
        recent.sort_unstable();
        if recent.len() > CAP_RECENT {
            recent.remove(0);
        }
        store::put_bytes(self.ctx, &key, &encode(&recent), 2 * HOUR_MS)?;
        let mut buyers: Vec<u64> = recent
            .iter()
            .filter(|(t, _)| *t > at - HOUR_MS && *t <= at)
            .map(|(_, b)| *b)
            .collect();
        let orders = buyers.len() as u32;
        buyers.sort_unstable();
        buyers.dedup();
        let buyers = buyers.len() as u32;
        let now = Episode {
            start: at,
            orders,
            buyers,
            peak_at: at,
        };
        if orders < rule.min_orders || now.rate() < rule.min_rate {
            return Ok(());
        }
        let key = episode_key(seller);
        match self.ctx.read_json::<Episode>(&key) {
            Some(mut episode) => {
                if (now.rate(), now.orders) > (episode.rate(), episode.orders) {
                    episode.orders = now.orders;
                    episode.buyers = now.buyers;
                    episode.peak_at = at;
                    store::put(self.ctx, &key, &episode, EPISODE_TTL_MS)?;
                }
            }
            None => {
                store::put(self.ctx, &key, &now, EPISODE_TTL_MS)?;
                let timer = format!("{TIMER_PREFIX}{seller}");
                if let Err(err) =
                    self.ctx
                        .timers()
                        .schedule(&timer, at + HOUR_MS, seller.as_bytes())
                {
                    self.ctx
                        .warn(&format!("cannot schedule the end of a burst: {err:?}"));
                }
                self.report_rate(seller, &now, false);
            }
        }
        Ok(())
    }

    /// An hour after a burst began: report its peak and close it.
    pub fn end_of_burst(&mut self, timer: &Timer) -> Result<(), PluginError> {
        let Some(seller) = timer.key.strip_prefix(TIMER_PREFIX) else {
            return Ok(());
        };
        let key = episode_key(seller);
        let Some(episode) = self.ctx.read_json::<Episode>(&key) else {
            return Ok(());
        };
        self.ctx.state().delete(&key);
        self.report_rate(seller, &episode, true);
        Ok(())
    }

    fn report_rate(&mut self, seller: &str, episode: &Episode, closed: bool) {
        let rule = self.cfg.concentrate_rate;
        let what = format!(
            "{} orders from {} buyers in the hour up to {}: {:.1} orders per buyer (flagged at {:.1})",
            episode.orders,
            episode.buyers,
            probity_sdk::time::minutes(episode.peak_at),
            episode.rate(),
            rule.min_rate
        );
        let state = if closed {
            format!(
                "a burst from {} peaked at {what}",
                probity_sdk::time::minutes(episode.start)
            )
        } else {
            what.clone()
        };
        let finding = Finding::builder(Subject::seller(seller))
            .rule(CONCENTRATE_RULE)
            .category(Category::BrushOrder)
            .severity(rule.severity)
            .message(message(&format!(
                "seller {seller} concentrates its orders in few buyers: {state}"
            )))
            .evidence(Evidence::field("buyer_id").detail(detail(&what)))
            .build();
        self.findings.push(finding);
    }
}
