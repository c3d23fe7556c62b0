//! Hostile: schedules timers (far in the future) under new keys until `schedule` is
//! refused, then fails with code `timers_full` and the refusal's WIT name (e.g.
//! `quota-exceeded`) in the message. Since the call fails, none of its timers may be kept.

use probity_sdk::prelude::*;

/// A year of event time: the timers never fire during a test.
const FAR_AHEAD_MS: i64 = 365 * 24 * 3_600_000;

struct TimerFlood;

impl Plugin for TimerFlood {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new(
            "timer-flood",
            "0.1.0",
            "test plugin: schedules timers without end",
        )
        .subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        TimerFlood
    }

    fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let due = ctx.now().saturating_add(FAR_AHEAD_MS);
        for scheduled in 0_u64.. {
            if let Err(err) = ctx
                .timers()
                .schedule(&format!("flood:{scheduled:012}"), due, b"")
            {
                return Err(PluginError::new(
                    "timers_full",
                    format!("timers.schedule refused timer {scheduled}: {}", err.name()),
                ));
            }
        }
        unreachable!("u64 keys ran out")
    }
}

probity_sdk::export_plugin!(TimerFlood);
