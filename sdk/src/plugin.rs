//! The [`Plugin`] trait and the life cycle around it: settings parsing and the lazily
//! built per-instance value ([`Instance`]), shared by the wasm exports and the native
//! test harness so both behave alike.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::host::HostCalls;
use crate::prelude::{Envelope, Finding, Manifest, PluginError, SettingsError, Timer};

/// A Probity plugin.
///
/// The host calls [`manifest`](Plugin::manifest) and [`validate`](Plugin::validate) when it
/// loads the plugin (and `validate` again on every configuration reload). Each wasm instance
/// then builds one value with [`new`](Plugin::new), on its first event or timer, and uses
/// it for every later call of that instance: put expensive set-up (compiling patterns,
/// building an automaton) in `new`, not in `handle`.
///
/// The host may run several instances and throws one away after any failed call, so
/// anything that must outlive a call belongs in [`State`](crate::State), never in `self`.
/// Export the implementation with [`export_plugin!`](crate::export_plugin).
pub trait Plugin: Sized + 'static {
    /// The plugin's settings: the `settings` table of its entry in the host configuration,
    /// as JSON.
    ///
    /// Use `#[serde(default)]` so an empty table (`{}`) works, and
    /// `#[serde(deny_unknown_fields)]` so a misspelt setting is refused at load instead of
    /// silently ignored. `Default` is used when the host passes no settings text at all.
    /// [`NoSettings`] suits a plugin without settings.
    type Settings: DeserializeOwned + Default;

    /// Who the plugin is and which event types it subscribes to. Must not depend on
    /// settings.
    fn manifest() -> Manifest;

    /// Check settings that parsed, beyond what their type already says (ranges, non-empty
    /// lists…). The error names the offending field as a path: `price.window_days`.
    fn validate(settings: &Self::Settings) -> Result<(), SettingsError> {
        let _ = settings;
        Ok(())
    }

    /// Build the plugin from settings that passed [`validate`](Plugin::validate). Called
    /// once per wasm instance, just before its first `handle` or `on_timer`.
    fn new(settings: Self::Settings) -> Self;

    /// Check one event (only of a subscribed type) and return what was found.
    ///
    /// Returning an error discards every state and timer change of this call; the host
    /// records a `plugin_error` finding and applies the plugin's `on_error` policy.
    fn handle(
        &mut self,
        ctx: &mut Context<'_>,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError>;

    /// A timer this plugin scheduled has come due (the event-time clock passed its `due`).
    fn on_timer(
        &mut self,
        ctx: &mut Context<'_>,
        timer: Timer,
    ) -> Result<Vec<Finding>, PluginError> {
        let _ = (ctx, timer);
        Ok(Vec::new())
    }
}

/// Settings for a plugin that has none: accepts only an empty object `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// Parse settings text into `P::Settings` and run `P::validate`.
///
/// The text must be a JSON object; empty text stands for `P::Settings::default()`. A type
/// error or unknown field is reported with the path of the offending field.
pub(crate) fn settings_from_json<P: Plugin>(text: &str) -> Result<P::Settings, SettingsError> {
    let trimmed = text.trim_start();
    let settings = if trimmed.is_empty() {
        P::Settings::default()
    } else if !trimmed.starts_with('{') {
        return Err(SettingsError::new(
            "",
            "settings must be a JSON object (a TOML table in the host configuration), e.g. {}",
        ));
    } else {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let settings = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|err| SettingsError::new(path_of(err.path()), err.inner().to_string()))?;
        deserializer
            .end()
            .map_err(|err| SettingsError::new("", err.to_string()))?;
        settings
    };
    P::validate(&settings)?;
    Ok(settings)
}

/// A field path as the WIT's `settings-error.field` wants it; the whole object is `""`.
fn path_of(path: &serde_path_to_error::Path) -> String {
    match path.to_string().as_str() {
        "." | "?" => String::new(),
        other => other.to_string(),
    }
}

/// The plugin value of one instance: built on first use, dropped after a failed call
/// (the host discards a failed instance, so the next call starts afresh — the harness
/// copies that).
#[doc(hidden)]
pub struct Instance<P> {
    plugin: Option<P>,
    built: u64,
}

impl<P: Plugin> Instance<P> {
    /// An instance whose plugin is not built yet.
    pub const fn new() -> Self {
        Instance {
            plugin: None,
            built: 0,
        }
    }

    /// How many times [`Plugin::new`] ran.
    #[cfg_attr(
        target_family = "wasm",
        allow(dead_code, reason = "used by the harness")
    )]
    pub(crate) fn times_built(&self) -> u64 {
        self.built
    }

    /// Drop the plugin value, as the host drops a failed instance.
    #[cfg_attr(
        target_family = "wasm",
        allow(dead_code, reason = "used by the harness")
    )]
    pub(crate) fn discard(&mut self) {
        self.plugin = None;
    }

    /// Call `handle`, building the plugin first if needed.
    pub(crate) fn handle(
        &mut self,
        host: &mut dyn HostCalls,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        self.call(host, |plugin, ctx| plugin.handle(ctx, envelope))
    }

    /// Call `on_timer`, building the plugin first if needed.
    pub(crate) fn on_timer(
        &mut self,
        host: &mut dyn HostCalls,
        timer: Timer,
    ) -> Result<Vec<Finding>, PluginError> {
        self.call(host, |plugin, ctx| plugin.on_timer(ctx, timer))
    }

    fn call(
        &mut self,
        host: &mut dyn HostCalls,
        f: impl FnOnce(&mut P, &mut Context<'_>) -> Result<Vec<Finding>, PluginError>,
    ) -> Result<Vec<Finding>, PluginError> {
        let plugin = match &mut self.plugin {
            Some(plugin) => plugin,
            None => {
                let settings = settings_from_json::<P>(&host.settings()).map_err(|err| {
                    PluginError::new(
                        "bad_settings",
                        format!(
                            "the settings were refused at `{}`: {}",
                            err.field, err.message
                        ),
                    )
                })?;
                self.built += 1;
                self.plugin.insert(P::new(settings))
            }
        };
        let result = f(plugin, &mut Context::new(host));
        if result.is_err() {
            self.discard();
        }
        result
    }
}

impl<P: Plugin> Default for Instance<P> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::testing::{Limits, MemoryHost};

    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        #[serde(default)]
        _word: String,
    }

    struct Picky;

    impl Plugin for Picky {
        type Settings = Strict;
        fn manifest() -> Manifest {
            Manifest::new("picky", "0.1.0", "strict settings")
        }
        fn new(_: Strict) -> Self {
            Picky
        }
        fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            Ok(vec![])
        }
    }

    #[test]
    fn settings_that_no_longer_parse_give_a_bad_settings_error_not_a_panic() {
        let mut host = MemoryHost::new(r#"{"other": 1}"#.into(), Limits::default());
        let mut instance = Instance::<Picky>::new();
        let envelope = crate::testing::order_paid("O-1");
        let err = instance.handle(&mut host, &envelope).unwrap_err();
        assert_eq!(err.code, "bad_settings");
        assert!(err.message.contains("`other`"), "{}", err.message);
        assert_eq!(instance.times_built(), 0);
    }
}
