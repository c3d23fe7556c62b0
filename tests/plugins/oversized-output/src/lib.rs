//! Hostile: answers every event with more output than any host should accept: by default
//! 100 000 findings with 100-byte messages, about 10 MB (> 8 MiB) in all.
//!
//! Settings: `{"count": 100000, "message_bytes": 100}`.

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
            count: 100_000,
            message_bytes: 100,
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
