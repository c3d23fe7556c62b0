//! `sla`: holds sellers to the promises platforms make to buyers — shipping on time,
//! answering complaints, completing refunds — including deadlines that pass with
//! nothing happening.
//!
//! Every deadline ([`deadline`]) has a timer in event time, so a breach is reported when
//! the host's clock passes it even if no event about the order or complaint ever comes
//! again; the awaited event cancels the timer. Orders ([`orders`]) carry the shipping
//! deadline and refund deadlines, complaints ([`complaints`]) the answer deadline, and
//! each seller a rolling record of deadlines met and missed ([`record`]). Only event time
//! is used, so the same stream gives the same findings, replays included.

pub mod complaints;
pub mod deadline;
pub mod orders;
pub mod record;
pub mod run;
pub mod settings;

use probity_sdk::prelude::*;

use crate::run::Run;
use crate::settings::{Config, Settings};

/// The plugin: its resolved settings.
pub struct Sla {
    config: Result<Config, PluginError>,
}

impl Plugin for Sla {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "sla",
            env!("CARGO_PKG_VERSION"),
            "service deadlines: shipping, complaint answers and refunds on time, including deadlines that pass in silence",
        )
        .subscribe(EventType::ListingUpserted)
        .subscribe(EventType::OrderPlaced)
        .subscribe(EventType::OrderPaid)
        .subscribe(EventType::OrderShipped)
        .subscribe(EventType::OrderDelivered)
        .subscribe(EventType::OrderCancelled)
        .subscribe(EventType::RefundRequested)
        .subscribe(EventType::RefundCompleted)
        .subscribe(EventType::ComplaintOpened)
        .subscribe(EventType::ComplaintResponded)
        .subscribe(EventType::ComplaintResolved)
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        settings.resolve().map(drop)
    }

    fn new(settings: Settings) -> Self {
        let config = settings.resolve().map_err(PluginError::from);
        Sla { config }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let at = envelope.occurred_at;
        let mut run = Run::new(ctx, config);
        match &envelope.event {
            Event::ListingUpserted(listing) => run.listing(listing)?,
            Event::OrderPlaced(placed) => run.placed(placed)?,
            Event::OrderPaid(paid) => run.paid(paid, at)?,
            Event::OrderShipped(shipped) => run.shipped(&shipped.order_id, at, false)?,
            Event::OrderDelivered(delivered) => run.shipped(&delivered.order_id, at, true)?,
            Event::OrderCancelled(cancelled) => run.ended(&cancelled.order_id, at)?,
            Event::RefundRequested(request) => run.refund_requested(request, at)?,
            Event::RefundCompleted(done) => run.refund_completed(done, at)?,
            Event::ComplaintOpened(opened) => run.opened(opened, at)?,
            Event::ComplaintResponded(r) => run.answered(&r.complaint_id, at, false)?,
            Event::ComplaintResolved(r) => run.answered(&r.complaint_id, at, true)?,
            Event::ReviewPosted(_) => {}
        }
        Ok(run.findings)
    }

    fn on_timer(&mut self, ctx: &mut Context, timer: Timer) -> Result<Vec<Finding>, PluginError> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        let mut run = Run::new(ctx, config);
        if timer.key.starts_with(orders::SHIP_TIMER) || timer.key.starts_with(orders::REFUND_TIMER)
        {
            run.order_timer(&timer)?;
        } else if timer.key.starts_with(complaints::ANSWER_TIMER) {
            run.complaint_timer(&timer)?;
        } else if timer.key.starts_with(record::TIMER_PREFIX) {
            run.recheck(&timer);
        }
        Ok(run.findings)
    }
}

probity_sdk::export_plugin!(Sla);
