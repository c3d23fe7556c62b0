//! Hostile: `handle` never returns. The host's deadline (or fuel) must end the call.

use probity_sdk::prelude::*;

struct InfiniteLoop;

impl Plugin for InfiniteLoop {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("infinite-loop", "0.1.0", "test plugin: loops forever").subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        InfiniteLoop
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let mut spins = 0_u64;
        loop {
            // Opaque to the optimiser, so the loop is really executed.
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
}

probity_sdk::export_plugin!(InfiniteLoop);
