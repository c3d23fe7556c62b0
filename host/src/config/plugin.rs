//! One plugin's entry: `[plugins.NAME]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::verdict::Mode;

/// Where a plugin's `.wasm` comes from: exactly one of `bundled` or `path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PluginSource {
    /// A plugin built into the binary, by name.
    Bundled(String),
    /// A component file on disk.
    Path(PathBuf),
}

/// What the host does when a plugin fails on an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Fail open: record a `plugin_error` finding of severity `info`; the action is not
    /// changed.
    #[default]
    Allow,
    /// Fail closed: record a `plugin_error` finding of severity `medium`, which the default
    /// mapping turns into `review`.
    Review,
}

/// Hard limits for one plugin. Every call runs within them; a breach ends the call with
/// a typed error and discards the instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock deadline per call, in milliseconds (epoch interruption, 1 ms ticks).
    pub deadline_ms: u64,
    /// Fuel (roughly, Wasm instructions) per call; `0` means unlimited. Needs
    /// `runtime.fuel_metering`.
    pub fuel: u64,
    /// Linear memory cap per instance, in MiB.
    pub memory_mib: u32,
    /// Cap on the total size of what one call returns, in KiB.
    pub output_kib: u32,
    /// Cap on the plugin's durable state (keys + values), in KiB.
    pub state_quota_kib: u64,
    /// Cap on the plugin's pending timers.
    pub timers_quota: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 100,
            fuel: 200_000_000,
            memory_mib: 64,
            output_kib: 256,
            state_quota_kib: 64 * 1024,
            timers_quota: 1_000_000,
        }
    }
}

/// The circuit breaker of one plugin: `[plugins.NAME.breaker]`.
///
/// After `failures` calls in a row fail, the plugin is *quarantined*: its next
/// `cooldown_calls` calls are not made at all and each becomes a `plugin_error.quarantined`
/// finding (per `on_error`, like any failure). The call after that is a probe: if it
/// succeeds the breaker closes, if it fails the plugin is quarantined again. Loading
/// changed code or configuration (a reload) starts with a closed breaker.
///
/// The cool-down counts calls, not seconds, so that replaying the same events gives the
/// same verdicts whatever the wall clock did.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the breaker; `0` turns the breaker off.
    pub failures: u32,
    /// Calls skipped while open, before one probe call.
    pub cooldown_calls: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 5,
            cooldown_calls: 100,
        }
    }
}

/// The largest memory cap accepted, in MiB (the pooling allocator reserves this much).
pub const MAX_MEMORY_MIB: u32 = 1024;

/// One `[plugins.NAME]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The name of a bundled plugin (exclusive with `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundled: Option<String>,
    /// The path of a component file (exclusive with `bundled`); relative paths are
    /// relative to the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The expected SHA-256 of the `.wasm` (hex); a mismatch refuses to load it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether events go to it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `enforce` or `monitor`.
    #[serde(default)]
    pub mode: Mode,
    /// `allow` (fail open) or `review` (fail closed).
    #[serde(default)]
    pub on_error: OnError,
    /// Resource limits.
    #[serde(default)]
    pub limits: Limits,
    /// When to quarantine a plugin that keeps failing.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Free-form settings handed to the plugin (checked by its `validate-settings`).
    #[serde(default = "empty_settings")]
    pub settings: serde_json::Value,
}

fn yes() -> bool {
    true
}

fn empty_settings() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

impl PluginConfig {
    /// A bundled plugin with every default.
    pub fn bundled(name: &str) -> Self {
        PluginConfig {
            bundled: Some(name.to_string()),
            path: None,
            sha256: None,
            enabled: true,
            mode: Mode::Enforce,
            on_error: OnError::Allow,
            limits: Limits::default(),
            breaker: BreakerConfig::default(),
            settings: empty_settings(),
        }
    }

    /// A component file with every default.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        PluginConfig {
            bundled: None,
            path: Some(path.into()),
            ..PluginConfig::bundled("")
        }
    }

    /// Where the `.wasm` comes from.
    pub fn source(&self) -> PluginSource {
        match (&self.bundled, &self.path) {
            (Some(name), _) => PluginSource::Bundled(name.clone()),
            (None, Some(path)) => PluginSource::Path(path.clone()),
            // `validate` refuses this; a default keeps this function total.
            (None, None) => PluginSource::Bundled(String::new()),
        }
    }

    /// Where the `.wasm` comes from, for people: `bundled:NAME` or `path:FILE`.
    pub fn source_label(&self) -> String {
        match self.source() {
            PluginSource::Bundled(name) => format!("bundled:{name}"),
            PluginSource::Path(path) => format!("path:{}", path.display()),
        }
    }

    /// The settings as JSON text, as handed to the plugin.
    pub fn settings_json(&self) -> String {
        self.settings.to_string()
    }

    /// Check the entry; the error is `(key, message)` relative to the entry.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let err = |key: &str, message: &str| Err((key.to_string(), message.to_string()));
        match (&self.bundled, &self.path) {
            (Some(_), Some(_)) => return err("path", "give either `bundled` or `path`, not both"),
            (None, None) => {
                return err(
                    "bundled",
                    "say where the plugin comes from: `bundled = \"NAME\"` or `path = \"FILE.wasm\"`",
                );
            }
            _ => {}
        }
        if let Some(digest) = &self.sha256
            && (digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return err("sha256", "must be 64 hexadecimal characters");
        }
        if !self.settings.is_object() {
            return err("settings", "must be a table");
        }
        let limits = &self.limits;
        if limits.deadline_ms == 0 || limits.deadline_ms > 60_000 {
            return err("limits.deadline_ms", "must be between 1 and 60000");
        }
        if limits.memory_mib == 0 || limits.memory_mib > MAX_MEMORY_MIB {
            return err(
                "limits.memory_mib",
                &format!("must be between 1 and {MAX_MEMORY_MIB}"),
            );
        }
        if limits.output_kib == 0 || limits.output_kib > 64 * 1024 {
            return err("limits.output_kib", "must be between 1 and 65536");
        }
        if self.breaker.cooldown_calls == 0 {
            return err(
                "breaker.cooldown_calls",
                "must be at least 1 (to turn the breaker off, set `breaker.failures = 0`)",
            );
        }
        Ok(())
    }
}

/// Plugin names are used in keys, metrics and URLs: lower-case letters, digits, `-`, `_`.
pub(crate) fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("a plugin name must be 1-64 characters of a-z, 0-9, `-` and `_`".into())
    }
}
