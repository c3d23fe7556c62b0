//! Hostile: writes 60 KiB state entries under new keys until `set` is refused, then fails
//! with code `state_full` and the refusal's WIT name (e.g. `quota-exceeded`) in the
//! message. Since the call fails, none of its writes may be kept.

use probity_sdk::prelude::*;

const ENTRY_BYTES: usize = 60 * 1024;

struct StateFlood;

impl Plugin for StateFlood {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("state-flood", "0.1.0", "test plugin: fills its state").subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        StateFlood
    }

    fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let value = vec![0xA5_u8; ENTRY_BYTES];
        for written in 0_u64.. {
            if let Err(err) = ctx
                .state()
                .set(&format!("flood:{written:012}"), &value, None)
            {
                return Err(PluginError::new(
                    "state_full",
                    format!("state.set refused entry {written}: {}", err.name()),
                ));
            }
        }
        unreachable!("u64 keys ran out")
    }
}

probity_sdk::export_plugin!(StateFlood);
