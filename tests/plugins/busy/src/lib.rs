//! Spins for a configurable number of loop iterations per event, then returns nothing: a
//! plugin whose cost the deadline and fuel tests can dial.
//!
//! Settings: `{"iterations": 1000000}` (the default).

use probity_sdk::prelude::*;

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    iterations: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            iterations: 1_000_000,
        }
    }
}

struct Busy {
    iterations: u64,
}

impl Plugin for Busy {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new("busy", "0.1.0", "test plugin: spins per event").subscribe_all()
    }

    fn new(settings: Settings) -> Self {
        Busy {
            iterations: settings.iterations,
        }
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let mut acc = 0_u64;
        for i in 0..std::hint::black_box(self.iterations) {
            acc = std::hint::black_box(acc.wrapping_add(i));
        }
        std::hint::black_box(acc);
        Ok(vec![])
    }
}

probity_sdk::export_plugin!(Busy);
