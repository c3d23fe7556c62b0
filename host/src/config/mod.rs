//! The configuration file: what platform engineers and compliance teams edit.
//!
//! One TOML file, layered by [figment]: built-in defaults, then the file (or, without
//! one, the embedded default that enables every bundled plugin), then environment
//! variables (`PROBITY_LISTEN`, `PROBITY_DATA_DIR`, `PROBITY_PSEUDONYM_KEY`,
//! `PROBITY_NATS_URL`, `PROBITY_NODE`). The result
//! is checked as a whole by [`Config::validate`] so a broken file is refused with a
//! message that names the key, before anything is swapped in.
//!
//! This module knows nothing of wasmtime or sled: it only describes what is wanted.

mod auth;
mod clock;
mod cluster;
mod plugin;
mod rating;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use auth::{AuthConfig, Role, TokenConfig};
pub use clock::{ClockConfig, parse_duration_ms};
pub use cluster::ClusterConfig;
pub(crate) use plugin::validate_name as validate_plugin_name;
pub use plugin::{BreakerConfig, Limits, MAX_MEMORY_MIB, OnError, PluginConfig, PluginSource};
pub use rating::{Bands, INPUTS as RATING_INPUTS, InputConfig, MeasureConfig, RatingConfig};

use crate::verdict::ActionMapping;

/// The embedded default configuration text (see `default.toml`).
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where to listen and keep data.
    pub server: ServerConfig,
    /// Pseudonymisation of personal data.
    pub privacy: PrivacyConfig,
    /// How far event time may run ahead of the wall clock.
    pub clock: ClockConfig,
    /// The plugin runtime as a whole.
    pub runtime: RuntimeConfig,
    /// Which action each severity of an enforce-mode finding leads to.
    pub actions: ActionMapping,
    /// Who may call the HTTP API.
    pub auth: AuthConfig,
    /// The plugins, by the name used in findings, state and metrics.
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Several nodes on NATS JetStream; absent, the node runs alone.
    pub cluster: Option<ClusterConfig>,
    /// How sellers' credit ratings are computed.
    pub rating: RatingConfig,
}

/// The `[server]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The address to listen on (`PROBITY_LISTEN`).
    pub listen: SocketAddr,
    /// The data directory: the store and the compiled-plugin cache (`PROBITY_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Largest request body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// Most events in one NDJSON batch.
    pub max_batch_events: usize,
    /// Longest a request may take, in milliseconds, before it is answered `503`.
    pub request_timeout_ms: u64,
    /// Reload when the configuration file changes (as well as on SIGHUP and
    /// `POST /v1/admin/reload`).
    pub watch_config: bool,
    /// sled's page cache, in MiB.
    pub store_cache_mib: u64,
    /// Derived state changed since the last write-back, kept in memory above sled, in
    /// MiB: past it a background writer writes it back to sled (and past four times it,
    /// commits wait for the writer).
    pub staged_state_mib: u64,
    /// Longest a client may take to send a request's header, in milliseconds; also how
    /// long a keep-alive connection may sit idle between requests.
    pub header_read_timeout_ms: u64,
    /// Request bodies queued for the pipeline, in KiB in all; past it, ingest answers
    /// `503 overloaded` with `retry-after` at once instead of queueing.
    pub max_queued_kib: u32,
    /// Most HTTP connections open at once; more are closed as soon as they connect.
    pub max_connections: usize,
    /// Longest a shutdown (SIGTERM) waits for open connections, in milliseconds.
    pub shutdown_timeout_ms: u64,
    /// How often the derived state is checkpointed to sled, in milliseconds: the longest
    /// stretch of the event log a restart after a crash replays.
    pub checkpoint_interval_ms: u64,
    /// How many partition threads evaluate the seller shards (at most the number of
    /// shards, 32); 0, the default, means one per available core.
    pub partitions: u16,
}

impl ServerConfig {
    /// The number of partitions to run: the setting, or one per available core.
    pub fn partition_count(&self) -> u16 {
        match self.partitions {
            0 => std::thread::available_parallelism().map_or(1, |cores| {
                cores.get().min(usize::from(crate::model::shard::SHARDS)) as u16
            }),
            set => set,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./probity-data"),
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_events: 10_000,
            request_timeout_ms: 30_000,
            watch_config: true,
            store_cache_mib: 128,
            staged_state_mib: 32,
            header_read_timeout_ms: 10_000,
            max_queued_kib: 65_536,
            max_connections: 1024,
            shutdown_timeout_ms: 10_000,
            checkpoint_interval_ms: 5_000,
            partitions: 0,
        }
    }
}

/// The `[privacy]` table.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// The secret key for pseudonyms (`PROBITY_PSEUDONYM_KEY`), at least 16 bytes. When
    /// absent, the server generates one in its data directory on first start.
    pub pseudonym_key: Option<String>,
    /// Keep the event log's entries this many days (by the wall clock), then purge them;
    /// `0` keeps them for ever. Applies live.
    pub event_log_retention_days: u32,
}

impl std::fmt::Debug for PrivacyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.pseudonym_key.as_ref().map(|_| "<redacted>");
        f.debug_struct("PrivacyConfig")
            .field("pseudonym_key", &key)
            .field("event_log_retention_days", &self.event_log_retention_days)
            .finish()
    }
}

/// The `[runtime]` table: settings shared by all plugins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Count fuel (Wasm instructions) so per-plugin fuel budgets work and fuel used is
    /// reported. Costs a little speed; changing it recompiles every plugin.
    pub fuel_metering: bool,
    /// Warm instances kept per plugin.
    pub instances_per_plugin: usize,
    /// Where compiled plugins are cached; default `<data_dir>/compiled`.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            fuel_metering: true,
            instances_per_plugin: 2,
            cache_dir: None,
        }
    }
}

/// A configuration that could not be loaded, with what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed (figment names the key and the file).
    #[error("{0}")]
    Parse(Box<figment::Error>),
    /// A value is well-formed but not acceptable.
    #[error("invalid configuration: `{key}`: {message}")]
    Invalid {
        /// The offending key, dotted.
        key: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        ConfigError::Parse(Box::new(err))
    }
}

impl Config {
    /// Load the configuration: `file` if given, else the embedded default; then the
    /// environment. `bundled` names the bundled plugins, which the embedded default
    /// enables.
    pub fn load(file: Option<&Path>, bundled: &[&str]) -> Result<Config, ConfigError> {
        let base = Figment::from(Serialized::defaults(Config::default()));
        let layered = match file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError::Invalid {
                        key: "--config".into(),
                        message: format!("no configuration file at {}", path.display()),
                    });
                }
                base.merge(Toml::file_exact(path))
            }
            None => base
                .merge(Toml::string(EMBEDDED_DEFAULT))
                .merge(Serialized::default("plugins", bundled_plugins(bundled))),
        };
        let config: Config = layered.merge(env_overrides()).extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Parse a configuration from TOML text (no environment), for tests and tools.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Check what serde cannot: ranges, names and consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.runtime.instances_per_plugin == 0 || self.runtime.instances_per_plugin > 64 {
            return Err(invalid(
                "runtime.instances_per_plugin",
                "must be between 1 and 64",
            ));
        }
        if let Some(key) = &self.privacy.pseudonym_key
            && key.len() < 16
        {
            return Err(invalid(
                "privacy.pseudonym_key",
                "must be at least 16 bytes; use a long random string",
            ));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if self.server.max_batch_events == 0 {
            return Err(invalid("server.max_batch_events", "must be at least 1"));
        }
        if self.server.request_timeout_ms == 0 {
            return Err(invalid("server.request_timeout_ms", "must be at least 1"));
        }
        if self.server.header_read_timeout_ms == 0 {
            return Err(invalid(
                "server.header_read_timeout_ms",
                "must be at least 1",
            ));
        }
        if self.server.max_queued_kib < 64 {
            return Err(invalid("server.max_queued_kib", "must be at least 64"));
        }
        if self.server.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        if self.server.checkpoint_interval_ms < 10 {
            return Err(invalid(
                "server.checkpoint_interval_ms",
                "must be at least 10",
            ));
        }
        if !(1..=4096).contains(&self.server.staged_state_mib) {
            return Err(invalid(
                "server.staged_state_mib",
                "must be between 1 and 4096 (MiB)",
            ));
        }
        if self.server.partitions > crate::model::shard::SHARDS {
            return Err(invalid(
                "server.partitions",
                &format!(
                    "must be at most {} (the number of seller shards); 0 means one per core",
                    crate::model::shard::SHARDS
                ),
            ));
        }
        self.clock
            .validate()
            .map_err(|(key, message)| invalid(&format!("clock.{key}"), &message))?;
        self.auth
            .validate()
            .map_err(|(key, message)| invalid(&format!("auth.{key}"), &message))?;
        self.rating
            .validate()
            .map_err(|(key, message)| invalid(&format!("rating.{key}"), &message))?;
        if let Some(cluster) = &self.cluster {
            cluster
                .validate()
                .map_err(|(key, message)| invalid(&format!("cluster.{key}"), &message))?;
        }
        for (name, plugin) in &self.plugins {
            plugin::validate_name(name)
                .map_err(|message| invalid(&format!("plugins.{name}"), &message))?;
            plugin
                .validate()
                .map_err(|(key, message)| invalid(&format!("plugins.{name}.{key}"), &message))?;
        }
        Ok(())
    }

    /// The compiled-plugin cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.runtime
            .cache_dir
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("compiled"))
    }
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.to_string(),
    }
}

/// The plugins table of the embedded default: every bundled plugin, defaults otherwise.
fn bundled_plugins(bundled: &[&str]) -> BTreeMap<String, PluginConfig> {
    bundled
        .iter()
        .map(|name| (name.to_string(), PluginConfig::bundled(name)))
        .collect()
}

/// `PROBITY_LISTEN`, `PROBITY_DATA_DIR`, `PROBITY_PSEUDONYM_KEY`, `PROBITY_NATS_URL` and
/// `PROBITY_NODE` (either of the last two makes a `[cluster]` table if there is none).
fn env_overrides() -> Env {
    Env::raw()
        .only(&[
            "PROBITY_LISTEN",
            "PROBITY_DATA_DIR",
            "PROBITY_PSEUDONYM_KEY",
            "PROBITY_NATS_URL",
            "PROBITY_NODE",
        ])
        .map(|key| {
            match key.as_str() {
                "PROBITY_LISTEN" => "server.listen",
                "PROBITY_DATA_DIR" => "server.data_dir",
                "PROBITY_NATS_URL" => "cluster.nats_url",
                "PROBITY_NODE" => "cluster.node",
                _ => "privacy.pseudonym_key",
            }
            .into()
        })
        .split(".")
}

#[cfg(test)]
mod tests;
