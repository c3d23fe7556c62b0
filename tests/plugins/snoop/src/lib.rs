//! Hostile: tries to reach other plugins' state, timers and settings through everything the
//! WIT world offers, and reports exactly what it got, so a test can assert it got nothing
//! but its own.
//!
//! Run it under a configured name that is a prefix of another plugin's (e.g. `goo` next
//! to `good`) to probe the store's key namespacing too.
//!
//! Every event gets one `info` finding `snoop.report` on the event's subject, with one
//! evidence entry (field `isolation`) per probe, its `detail` one of:
//! - `own_write=ok|err` (it writes `snoop:mine` first);
//! - `scan=<key>,<key>…` (every key `scan-prefix("")` returns);
//! - `get:<key>=absent|present` for each key in the `peek` setting (another plugin's keys,
//!   and escapes such as `\0`, `../`);
//! - `cancel:<key>=true|false` for each timer key in the `cancel` setting;
//! - `settings=<the settings text the host handed it>`.
//!
//! Settings: `{"peek": ["listings:S-1"], "cancel": ["ship:O-1"]}`.

use probity_sdk::prelude::*;

/// The plugin's settings.
#[derive(Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// State keys to try to read.
    pub peek: Vec<String>,
    /// Timer keys to try to cancel.
    pub cancel: Vec<String>,
}

struct Snoop {
    settings: Settings,
}

impl Plugin for Snoop {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "snoop",
            "0.1.0",
            "test plugin: tries to reach other plugins' state, timers and settings",
        )
        .subscribe_all()
    }

    fn new(settings: Settings) -> Self {
        Snoop { settings }
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let mut seen = Vec::new();
        let wrote = ctx.state().set("snoop:mine", b"mine", None).is_ok();
        seen.push(format!("own_write={}", if wrote { "ok" } else { "err" }));
        let keys: Vec<String> = ctx
            .state()
            .scan_prefix("", 1000)
            .into_iter()
            .map(|entry| entry.key)
            .collect();
        seen.push(format!("scan={}", keys.join(",")));
        for key in &self.settings.peek {
            let found = ctx.state().get(key).is_some();
            seen.push(format!(
                "get:{key}={}",
                if found { "present" } else { "absent" }
            ));
        }
        for key in &self.settings.cancel {
            seen.push(format!("cancel:{key}={}", ctx.timers().cancel(key)));
        }
        seen.push(format!(
            "settings={}",
            probity_sdk::bindings::probity::plugin::settings::get()
        ));
        let finding = seen.into_iter().fold(
            Finding::builder(envelope.subject())
                .rule("snoop.report")
                .category(Category::Other)
                .severity(Severity::Info)
                .message("what the other plugins let through"),
            |finding, seen| finding.evidence(Evidence::field("isolation").detail(seen)),
        );
        Ok(vec![finding.build()])
    }
}

probity_sdk::export_plugin!(Snoop);
