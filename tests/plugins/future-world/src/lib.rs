//! Compatibility: a plugin built against `probity:plugin@0.3.0`, a world version this
//! host does not implement (`wit/` here is the 0.1.0 world renumbered). The host must
//! refuse it at load and say which versions it accepts.

wit_bindgen::generate!({
    world: "probity:plugin/plugin@0.3.0",
    path: "wit",
});

use probity::plugin::types::EventType;

struct Future;

impl Guest for Future {
    fn manifest() -> Manifest {
        Manifest {
            name: "future-world".into(),
            version: "0.1.0".into(),
            description: "built against probity:plugin@0.3.0".into(),
            subscribes: vec![EventType::ListingUpserted],
        }
    }

    fn validate_settings(_settings: String) -> Result<(), SettingsError> {
        Ok(())
    }

    fn handle(_envelope: Envelope) -> Result<Vec<Finding>, PluginError> {
        Ok(vec![])
    }

    fn on_timer(_timer: Timer) -> Result<Vec<Finding>, PluginError> {
        Ok(vec![])
    }
}

export!(Future);
