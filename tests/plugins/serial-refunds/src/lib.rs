//! `serial-refunds`: a buyer-level rule, the worked example of a buyer-keyed plugin
//! (`sdk/README.md`, "Buyer-level rules").
//!
//! A buyer who asks several sellers for refunds within a few weeks (职业退款, serial
//! "refund without return" claims) is invisible to any one seller's rules. Keyed by
//! buyer, this plugin gets every order and refund of a buyer, whichever seller sold it,
//! in the buyer's shard, so its state sees them together:
//!
//! - `order.placed`: remember the order's buyer and seller (`order:{id}`, kept for the
//!   window);
//! - `refund.requested`: add the request to the buyer's list (`refunds:{buyer}`, requests
//!   older than the window dropped). With at least `min_refunds` requests at
//!   `min_sellers` different sellers, a `refund-abuse` finding `serial-refunds.buyer` on
//!   the **buyer** (`medium`; `high` from twice `min_refunds`), whose evidence names the
//!   counts and the orders.
//!
//! Settings: `{"window_days": 30, "min_refunds": 3, "min_sellers": 2}`.

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// The plugin's settings.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How far back refund requests count, in days.
    pub window_days: u32,
    /// How many requests in the window make a finding.
    pub min_refunds: u32,
    /// At how many different sellers, at least.
    pub min_sellers: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window_days: 30,
            min_refunds: 3,
            min_sellers: 2,
        }
    }
}

/// What `order.placed` tells about an order.
#[derive(Serialize, Deserialize)]
struct Order {
    buyer: String,
    seller: String,
}

/// One refund request of a buyer.
#[derive(Serialize, Deserialize)]
struct Request {
    at: Timestamp,
    order: String,
    seller: String,
}

/// The plugin.
pub struct SerialRefunds {
    window_ms: i64,
    min_refunds: usize,
    min_sellers: usize,
}

impl Plugin for SerialRefunds {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "serial-refunds",
            "0.1.0",
            "one buyer requesting refunds from several sellers within a window",
        )
        .subscribe(EventType::OrderPlaced)
        .subscribe(EventType::RefundRequested)
        .keyed_by_buyer()
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        if !(1..=365).contains(&settings.window_days) {
            return Err(SettingsError::new("window_days", "must be 1–365 days"));
        }
        if !(2..=100).contains(&settings.min_refunds) {
            return Err(SettingsError::new("min_refunds", "must be 2–100"));
        }
        if settings.min_sellers < 1 || settings.min_sellers > settings.min_refunds {
            return Err(SettingsError::new(
                "min_sellers",
                "must be at least 1 and at most min_refunds",
            ));
        }
        Ok(())
    }

    fn new(settings: Settings) -> Self {
        SerialRefunds {
            window_ms: i64::from(settings.window_days) * DAY_MS,
            min_refunds: settings.min_refunds as usize,
            min_sellers: settings.min_sellers as usize,
        }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let ttl = Some(self.window_ms as u64 * 2);
        match &envelope.event {
            Event::OrderPlaced(order) => {
                let known = Order {
                    buyer: order.buyer_id.clone(),
                    seller: order.seller_id.clone(),
                };
                ctx.state()
                    .set_json(&format!("order:{}", order.order_id), &known, ttl)?;
                Ok(vec![])
            }
            Event::RefundRequested(refund) => {
                // Every event reaching a buyer-keyed plugin has a buyer the host knows,
                // so its order.placed came here first.
                let Some(order) = ctx
                    .state()
                    .get_json::<Order>(&format!("order:{}", refund.order_id))?
                else {
                    return Ok(vec![]);
                };
                let key = format!("refunds:{}", order.buyer);
                let mut requests: Vec<Request> = ctx.state().get_json(&key)?.unwrap_or_default();
                let since = envelope.occurred_at.saturating_sub(self.window_ms);
                requests.retain(|r| r.at > since);
                requests.push(Request {
                    at: envelope.occurred_at,
                    order: refund.order_id.clone(),
                    seller: order.seller.clone(),
                });
                ctx.state().set_json(&key, &requests, ttl)?;
                Ok(self.judge(&order.buyer, &requests).into_iter().collect())
            }
            _ => Ok(vec![]),
        }
    }
}

impl SerialRefunds {
    fn judge(&self, buyer: &str, requests: &[Request]) -> Option<Finding> {
        let mut sellers: Vec<&str> = requests.iter().map(|r| r.seller.as_str()).collect();
        sellers.sort_unstable();
        sellers.dedup();
        if requests.len() < self.min_refunds || sellers.len() < self.min_sellers {
            return None;
        }
        let severity = if requests.len() >= 2 * self.min_refunds {
            Severity::High
        } else {
            Severity::Medium
        };
        let days = self.window_ms / DAY_MS;
        let orders: Vec<&str> = requests.iter().map(|r| r.order.as_str()).collect();
        Some(
            Finding::builder(Subject::buyer(buyer))
                .rule("serial-refunds.buyer")
                .category(Category::RefundAbuse)
                .severity(severity)
                .message(format!(
                    "the buyer requested {} refunds from {} sellers within {days} days",
                    requests.len(),
                    sellers.len()
                ))
                .evidence(Evidence::field("buyer_id").detail(format!(
                    "{} refund requests, {} sellers, {days} days",
                    requests.len(),
                    sellers.len()
                )))
                .evidence(Evidence::field("order_id").detail(format!("orders {}", orders.join(", "))))
                .build(),
        )
    }
}

probity_sdk::export_plugin!(SerialRefunds);
