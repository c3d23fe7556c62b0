//! Live configuration: re-read the file, load what changed, swap atomically, audit.
//!
//! A reload (file change, SIGHUP or `POST /v1/admin/reload`) reads and validates the whole
//! configuration, then loads the new plugin set off the request path — reusing every
//! plugin whose code and configuration are unchanged, so their warm instances and
//! counters carry over — and only then swaps it in between two events. Anything wrong
//! (unparsable TOML, an unknown key, a plugin that fails to load or rejects its
//! settings) refuses the whole reload with a precise message and the running set stays.
//!
//! Every applied change and every refused attempt is appended to the audit trail with the
//! wall-clock time, the configuration's digest, what triggered it, and the changes.
//! Settings that only take effect at start (`[server]`, `[runtime]`, `[privacy]`) are
//! reported as warnings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::audit::{self, Change, Snapshot};
use super::auth::Tokens;
use super::cluster_node::ClusterNode;
use super::worker::Worker;
use crate::config::{Config, EMBEDDED_DEFAULT, PluginConfig};
use crate::pipeline::PluginSet;
use crate::runtime::PluginEngine;
use crate::store::Store;
use crate::verdict::ActionMapping;

/// What started a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The server started.
    Startup,
    /// `POST /v1/admin/reload`.
    Api,
    /// The configuration file changed.
    File,
    /// SIGHUP.
    Signal,
    /// In a cluster: a change of plugins or actions reached through the event stream
    /// (published by a reload on some node), applied at the same point on every node.
    Cluster,
}

/// The configuration in force.
#[derive(Debug)]
pub struct Running {
    /// The configuration.
    pub config: Config,
    /// `sha256:<hex>` of the configuration text.
    pub digest: String,
    /// The loaded plugins.
    pub plugins: Arc<PluginSet>,
    /// What the audit trail compares the next change with.
    pub snapshot: Snapshot,
}

/// The outcome of a reload that was not refused.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadReport {
    /// Whether anything changed (and was swapped in).
    pub applied: bool,
    /// `sha256:<hex>` of the configuration text now in force.
    pub config_digest: String,
    /// What changed.
    pub changes: Vec<Change>,
    /// Changes read but not applied until a restart.
    pub warnings: Vec<String>,
}

/// A refused reload; the running configuration stays.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReloadRefused(pub String);

/// Where the configuration comes from: a file or the embedded default.
#[derive(Clone, Debug)]
pub struct ConfigSource {
    /// The file, if one was given.
    pub path: Option<PathBuf>,
    /// The bundled plugins (for the embedded default and `bundled = …` sources).
    pub bundled: &'static [(&'static str, &'static [u8])],
}

impl ConfigSource {
    /// Read and validate the configuration; returns it with its [public
    /// digest](public_digest).
    pub fn read(&self) -> Result<(Config, String), ReloadRefused> {
        let names: Vec<&str> = self.bundled.iter().map(|(name, _)| *name).collect();
        let config = Config::load(self.path.as_deref(), &names)
            .map_err(|err| ReloadRefused(err.to_string()))?;
        let digest = public_digest(&config);
        Ok((config, digest))
    }

    /// `sha256:<hex>` of the configuration text as it is now. It covers the pseudonym
    /// key, so it is only compared, never shown: see [`public_digest`].
    pub fn digest(&self) -> Result<String, ReloadRefused> {
        let text = match &self.path {
            Some(path) => std::fs::read(path)
                .map_err(|err| ReloadRefused(format!("cannot read {}: {err}", path.display())))?,
            None => EMBEDDED_DEFAULT.as_bytes().to_vec(),
        };
        Ok(format!("sha256:{}", hex::encode(Sha256::digest(&text))))
    }
}

/// `sha256:<hex>` of the configuration in force, as shown in `/v1/plugins`, reload
/// answers and the audit trail. It is taken over the validated configuration with the
/// pseudonym key left out, so it covers no secret: a digest of the text would let anyone
/// who knows the rest of the file test guesses of the key offline.
pub fn public_digest(config: &Config) -> String {
    let mut shown = config.clone();
    if shown.privacy.pseudonym_key.is_some() {
        shown.privacy.pseudonym_key = Some("<secret>".to_string());
    }
    // Serialising our own plain configuration type cannot fail.
    let json = serde_json::to_vec(&shown).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&json)))
}

/// Reloads the configuration; one reload at a time.
pub struct Reloader {
    source: ConfigSource,
    engine: Arc<PluginEngine>,
    store: Arc<dyn Store>,
    worker: Worker,
    running: ArcSwap<Running>,
    tokens: Arc<ArcSwap<Tokens>>,
    /// The digest of the text last tried, so that one edit seen several times by the
    /// file watcher is tried (and audited) once.
    last_tried: Mutex<Option<String>>,
    /// In a cluster: the node, through whose stream plugin and action changes travel.
    cluster: OnceLock<Arc<ClusterNode>>,
}

/// What a configuration change in a cluster carries: everything that decides verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ClusterConfigChange {
    /// The plugins table.
    pub plugins: BTreeMap<String, PluginConfig>,
    /// The actions table.
    pub actions: ActionMapping,
    /// The rating settings (the published ratings must be the same on every node).
    #[serde(default)]
    pub rating: crate::config::RatingConfig,
    /// The node whose reload published it.
    pub origin: String,
}

impl ClusterConfigChange {
    /// What of `config` decides verdicts, published by `origin`.
    fn of(config: &Config, origin: &str) -> Self {
        ClusterConfigChange {
            plugins: config.plugins.clone(),
            actions: config.actions,
            rating: config.rating.clone(),
            origin: origin.to_string(),
        }
    }

    /// Whether `a` and `b` decide verdicts alike.
    fn same_verdicts(a: &Config, b: &Config) -> bool {
        a.plugins == b.plugins && a.actions == b.actions && a.rating == b.rating
    }

    /// `config` with this change's plugins and actions.
    pub fn applied_to(&self, config: &Config) -> Config {
        Config {
            plugins: self.plugins.clone(),
            actions: self.actions,
            rating: self.rating.clone(),
            ..config.clone()
        }
    }
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader for the configuration `running` (already in force in `worker`).
    pub fn new(
        source: ConfigSource,
        engine: Arc<PluginEngine>,
        store: Arc<dyn Store>,
        worker: Worker,
        running: Running,
        tokens: Arc<ArcSwap<Tokens>>,
    ) -> Self {
        Reloader {
            source,
            engine,
            store,
            worker,
            running: ArcSwap::from_pointee(running),
            tokens,
            last_tried: Mutex::new(None),
            cluster: OnceLock::new(),
        }
    }

    /// In a cluster: send changes of plugins and actions through `node`'s stream.
    pub fn join_cluster(&self, node: Arc<ClusterNode>) {
        let _ = self.cluster.set(node);
    }

    /// In a cluster, the follower reached a configuration change in the stream: run its
    /// plugins and actions from this point (between the events before and after it).
    /// Blocking. A change this node cannot load is an error: the follower stops there and
    /// tries again, since running other plugins than the cluster would give other
    /// verdicts.
    pub fn apply_cluster_change(&self, change: &ClusterConfigChange) -> Result<(), String> {
        let old = self.running.load_full();
        let config = change.applied_to(&old.config);
        if ClusterConfigChange::same_verdicts(&old.config, &config) {
            return Ok(());
        }
        config.validate().map_err(|err| err.to_string())?;
        let (plugins, _) = PluginSet::load_reusing(
            &self.engine,
            &config,
            self.source.bundled,
            Some(&old.plugins),
        )
        .map_err(|err| format!("loading the cluster's plugins: {err}"))?;
        let plugins = Arc::new(plugins);
        let digest = public_digest(&config);
        self.worker
            .set_plugins_blocking(plugins.clone(), &digest)
            .map_err(|err| err.to_string())?;
        let snapshot = Snapshot::of(&config, &plugins);
        let report = ReloadReport {
            applied: true,
            config_digest: digest.clone(),
            changes: audit::diff(&old.snapshot, &snapshot),
            warnings: Vec::new(),
        };
        audit::save_snapshot(self.store.as_ref(), &snapshot);
        tracing::info!(origin = %change.origin, digest = %digest, changes = report.changes.len(), "the cluster's configuration applied");
        self.running.store(Arc::new(Running {
            config,
            digest: digest.clone(),
            plugins,
            snapshot,
        }));
        audit::record(
            self.store.as_ref(),
            Trigger::Cluster,
            Some(&change.origin),
            Some(&digest),
            Some(&old.digest),
            Ok(&report),
        );
        Ok(())
    }

    /// In a cluster: publish the plugins and actions of `next` and wait until this node's
    /// follower applied them; then what is this node's alone (tokens) applies here.
    fn reload_in_cluster(
        &self,
        cluster: &ClusterNode,
        old: &Running,
        next: Running,
    ) -> Result<Running, ReloadRefused> {
        if !ClusterConfigChange::same_verdicts(&old.config, &next.config) {
            let change = ClusterConfigChange::of(&next.config, cluster.node_name());
            tokio::runtime::Handle::current()
                .block_on(cluster.publish_config_change(&change))
                .map_err(ReloadRefused)?;
        }
        // The cluster's plugins, actions and rating (now in force), the rest this file's.
        let now = self.running.load_full();
        let config =
            ClusterConfigChange::of(&now.config, cluster.node_name()).applied_to(&next.config);
        let snapshot = Snapshot::of(&config, &now.plugins);
        Ok(Running {
            config,
            digest: next.digest,
            plugins: now.plugins.clone(),
            snapshot,
        })
    }

    /// The configuration in force.
    pub fn running(&self) -> Arc<Running> {
        self.running.load_full()
    }

    /// Re-read and apply the configuration. Blocking (plugins may compile): call it on a
    /// blocking thread. `actor` names the token behind an API call.
    pub fn reload(
        &self,
        trigger: Trigger,
        actor: Option<&str>,
    ) -> Result<ReloadReport, ReloadRefused> {
        let mut last_tried = self.last_tried.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.running.load_full();
        let digest = self.source.digest().ok();
        if trigger == Trigger::File && digest.is_some() && *last_tried == digest {
            return Ok(ReloadReport {
                applied: false,
                config_digest: old.digest.clone(),
                changes: Vec::new(),
                warnings: Vec::new(),
            });
        }
        *last_tried = digest;
        match self.prepare(&old) {
            Ok((next, warnings)) => {
                let changes = audit::diff(&old.snapshot, &next.snapshot);
                let report = ReloadReport {
                    applied: !changes.is_empty(),
                    config_digest: next.digest.clone(),
                    changes,
                    warnings,
                };
                if !report.applied {
                    return Ok(report);
                }
                let next = match self.cluster.get() {
                    Some(cluster) => self.reload_in_cluster(cluster, &old, next)?,
                    None => {
                        self.worker
                            .set_plugins_blocking(next.plugins.clone(), &next.digest)
                            .map_err(|err| ReloadRefused(err.to_string()))?;
                        next
                    }
                };
                self.tokens
                    .store(Arc::new(Tokens::from_config(&next.config.auth)));
                audit::save_snapshot(self.store.as_ref(), &next.snapshot);
                tracing::info!(
                    trigger = ?trigger,
                    digest = %next.digest,
                    changes = report.changes.len(),
                    "configuration applied"
                );
                self.running.store(Arc::new(next));
                audit::record(
                    self.store.as_ref(),
                    trigger,
                    actor,
                    Some(&report.config_digest),
                    Some(&old.digest),
                    Ok(&report),
                );
                Ok(report)
            }
            Err(refused) => {
                tracing::warn!(trigger = ?trigger, error = %refused, "configuration refused; the running one stays");
                audit::record(
                    self.store.as_ref(),
                    trigger,
                    actor,
                    None,
                    Some(&old.digest),
                    Err(&refused.0),
                );
                Err(refused)
            }
        }
    }

    /// Read, check and load the next configuration without touching the running one.
    fn prepare(&self, old: &Running) -> Result<(Running, Vec<String>), ReloadRefused> {
        let (config, digest) = self.source.read()?;
        let mut warnings = Vec::new();
        let needs_restart = [
            ("server", old.config.server != config.server),
            ("runtime", old.config.runtime != config.runtime),
            (
                "privacy",
                old.config.privacy.pseudonym_key != config.privacy.pseudonym_key,
            ),
        ];
        for (table, changed) in needs_restart {
            if changed {
                warnings.push(format!(
                    "[{table}] changed: it takes effect at the next restart"
                ));
            }
        }
        if config.auth.tokens.is_empty() && !old.config.auth.tokens.is_empty() {
            if !old.config.server.listen.ip().is_loopback() {
                return Err(ReloadRefused(format!(
                    "auth.tokens: removing every token would turn auth off while listening on {}, which is not a loopback address",
                    old.config.server.listen
                )));
            }
            if !config.auth.allow_no_tokens {
                return Err(ReloadRefused(
                    "auth.tokens: removing every token would turn auth off, making every local client admin; set `auth.allow_no_tokens = true` if that is meant".to_string(),
                ));
            }
            warnings.push(
                "auth is now off: every token was removed (auth.allow_no_tokens = true), so every client on this machine is admin".to_string(),
            );
        }
        // Timers of a plugin that stops running are kept: say how many wait for it.
        for (name, entry) in &old.config.plugins {
            let stays = config.plugins.get(name).is_some_and(|e| e.enabled);
            let pending = self.store.usage_total(name).map(|u| u.timers).unwrap_or(0);
            if entry.enabled && !stays && pending > 0 {
                warnings.push(format!(
                    "plugin `{name}` stops with {pending} pending timer(s): they are kept, put off while it is not loaded, and fire when a plugin named `{name}` runs again"
                ));
            }
        }
        let (plugins, _) = PluginSet::load_reusing(
            &self.engine,
            &config,
            self.source.bundled,
            Some(&old.plugins),
        )
        .map_err(|err| ReloadRefused(err.to_string()))?;
        let snapshot = Snapshot::of(&config, &plugins);
        Ok((
            Running {
                config,
                digest,
                plugins: Arc::new(plugins),
                snapshot,
            },
            warnings,
        ))
    }
}
