//! Hostile: answers every event with more output than any host should accept: by default
//! 1000 findings (the most the host takes from one call) with 8800-byte messages, about
//! 8.8 MB (> 8 MiB) in all. Few, large findings keep the plugin itself fast, so it is the
//! output check that stops it, not the deadline.
//!
//! Settings: `{"count": 1000, "message_bytes": 8800}`.

use probity_sdk::prelude::*;

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// How many findings to return.
    count: usize,
    /// The length of each finding's message.
    message_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            count: 1000,
            message_bytes: 8800,
        }
    }
}

struct OversizedOutput {
    settings: Settings,
}

impl Plugin for OversizedOutput {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new("oversized-output", "0.1.0", "test plugin: returns too much").subscribe_all()
    }

    fn new(settings: Settings) -> Self {
        OversizedOutput { settings }
    }

    fn handle(
        &mut self,
        _: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let message = "x".repeat(self.settings.message_bytes);
        let subject = envelope.subject();
        let findings = (0..self.settings.count)
            .map(|_| {
                Finding::builder(subject.clone())
                    .rule("oversized.flood")
                    .message(message.clone())
                    .build()
            })
            .collect();
        Ok(findings)
    }
}

probity_sdk::export_plugin!(OversizedOutput);
