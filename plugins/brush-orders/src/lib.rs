//! `brush-orders`: fake orders placed to inflate a seller's sales and reviews (刷单炒信,
//! E-Commerce Law art. 17; 网络交易监督管理办法 art. 14), collusive rings, and farmed
//! reviews.
//!
//! No single fact proves brushing, so the plugin adds up signals per order
//! ([`signals`]): identifiers shared by many buyers of one seller ([`identifiers`]), new
//! accounts, bursts of orders from one buyer, empty parcels and impossible deliveries
//! ([`parcel`]), and farmed reviews ([`review`]). Buyers linked by shared identifiers form
//! groups; a group with enough buyers and suspicious orders is a ring ([`ring`]), whose
//! orders are all flagged, earlier ones included, and whose seller is reported. A
//! seller's concentrate rate (orders per buyer within an hour) is watched at every
//! order, and a timer closes each burst with its peak ([`concentrate`]).
//!
//! All state is in the host's store with time-to-live and per-structure caps; see the
//! README for the worst-case size. Settings: [`settings`], resolved by [`config`].

pub mod concentrate;
pub mod config;
pub mod identifiers;
pub mod orders;
pub mod parcel;
pub mod review;
pub mod ring;
pub mod run;
pub mod settings;
pub mod signals;
pub mod store;

use probity_sdk::prelude::*;

use crate::concentrate::TIMER_PREFIX;
use crate::config::Config;
use crate::run::Run;
use crate::settings::Settings;

/// The plugin: its resolved settings.
pub struct Brush {
    config: Result<Config, PluginError>,
}

impl Plugin for Brush {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "brush-orders",
            env!("CARGO_PKG_VERSION"),
            "brush orders (刷单), collusive buyer rings and farmed reviews, with bounded state",
        )
        .subscribe(EventType::ListingUpserted)
        .subscribe(EventType::OrderPlaced)
        .subscribe(EventType::OrderPaid)
        .subscribe(EventType::OrderShipped)
        .subscribe(EventType::OrderDelivered)
        .subscribe(EventType::ReviewPosted)
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        settings.resolve().map(drop)
    }

    fn new(settings: Settings) -> Self {
        let config = settings.resolve().map_err(PluginError::from);
        Brush { config }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let mut run = Run::new(ctx, config, envelope.occurred_at);
        match &envelope.event {
            Event::ListingUpserted(listing) => run.listing(listing)?,
            Event::OrderPlaced(order) => run.placed(order)?,
            Event::OrderPaid(paid) => run.paid(paid)?,
            Event::OrderShipped(shipped) => run.shipped(shipped)?,
            Event::OrderDelivered(delivered) => run.delivered(delivered)?,
            Event::ReviewPosted(review) => run.review(review)?,
            _ => {}
        }
        Ok(run.findings)
    }

    fn on_timer(&mut self, ctx: &mut Context, timer: Timer) -> Result<Vec<Finding>, PluginError> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let mut run = Run::new(ctx, config, timer.due);
        if timer.key.starts_with(TIMER_PREFIX) {
            run.end_of_burst(&timer)?;
        }
        Ok(run.findings)
    }
}

probity_sdk::export_plugin!(Brush);
