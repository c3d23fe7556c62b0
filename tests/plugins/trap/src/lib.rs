//! Hostile: `handle` panics with `boom: trap plugin`, which in wasm is a trap (the panic
//! message goes to the component's stderr first).

use probity_sdk::prelude::*;

struct Trap;

impl Plugin for Trap {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("trap", "0.1.0", "test plugin: panics").subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        Trap
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        panic!("boom: trap plugin");
    }
}

probity_sdk::export_plugin!(Trap);
