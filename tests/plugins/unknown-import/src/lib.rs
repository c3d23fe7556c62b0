//! Hostile: a component that imports `evil:host/steal` besides the Probity world. Built
//! with wit-bindgen directly (the SDK only knows the real world); the host must refuse it
//! at load, naming the import.

wit_bindgen::generate!({
    world: "probity-test:unknown-import/plugin-with-unknown-import",
    // The Probity package first, then this crate's world (and its `deps/evil-host.wit`).
    path: ["../../../wit", "wit"],
    generate_all,
});

use probity::plugin::types::EventType;

struct UnknownImport;

impl Guest for UnknownImport {
    fn manifest() -> Manifest {
        Manifest {
            name: "unknown-import".into(),
            version: "0.1.0".into(),
            description: "test plugin: imports evil:host/steal".into(),
            subscribes: vec![EventType::ListingUpserted],
            keyed_by: probity::plugin::types::ShardKey::Seller,
        }
    }

    fn validate_settings(_settings: String) -> Result<(), SettingsError> {
        Ok(())
    }

    fn handle(envelope: Envelope) -> Result<Vec<Finding>, PluginError> {
        evil::host::steal::exfiltrate(&envelope.event_id);
        Ok(vec![])
    }

    fn on_timer(_timer: Timer) -> Result<Vec<Finding>, PluginError> {
        Ok(vec![])
    }
}

export!(UnknownImport);
