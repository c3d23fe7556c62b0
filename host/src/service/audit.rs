//! The audit trail of configuration changes: what changed, when, and why.
//!
//! A [`Snapshot`] is what compliance cares about in a configuration: every plugin's
//! entry (enabled, mode, on_error, limits, settings, source) with the digest of the code
//! loaded for it, the action mapping, and the names of the API tokens (never hashes).
//! [`diff`] compares two snapshots into a list of [`Change`]s. The last applied snapshot
//! is kept in the store so that a restart with an edited file is audited as a change too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reload::{ReloadReport, Trigger};
use crate::config::{Config, PluginConfig, RatingConfig};
use crate::pipeline::PluginSet;
use crate::store::Store;
use crate::verdict::ActionMapping;

/// The host value holding the last applied snapshot.
const SNAPSHOT_KEY: &str = "config_snapshot";

/// One plugin in a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginSnapshot {
    /// Its configuration entry.
    pub config: PluginConfig,
    /// `sha256:<hex>` of the code loaded for it (absent when disabled).
    pub code: Option<String>,
}

/// What an audit diff compares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every configured plugin, enabled or not.
    pub plugins: BTreeMap<String, PluginSnapshot>,
    /// The severity → action mapping.
    pub actions: ActionMapping,
    /// The names of the API tokens and their roles.
    pub tokens: BTreeMap<String, Vec<String>>,
    /// The rating settings (absent in snapshots saved before ratings).
    #[serde(default)]
    pub rating: Option<RatingConfig>,
}

impl Snapshot {
    /// The snapshot of a configuration and the plugins loaded for it.
    pub fn of(config: &Config, plugins: &PluginSet) -> Snapshot {
        Snapshot {
            plugins: config
                .plugins
                .iter()
                .map(|(name, entry)| {
                    let code = plugins.get(name).map(|p| format!("sha256:{}", p.digest()));
                    (
                        name.clone(),
                        PluginSnapshot {
                            config: entry.clone(),
                            code,
                        },
                    )
                })
                .collect(),
            actions: config.actions,
            tokens: config
                .auth
                .tokens
                .iter()
                .map(|t| {
                    let roles = t.roles.iter().map(|r| r.as_str().to_string()).collect();
                    (t.name.clone(), roles)
                })
                .collect(),
            rating: Some(config.rating.clone()),
        }
    }
}

/// One change between two snapshots.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The plugin concerned; `None` for the action mapping and tokens.
    pub plugin: Option<String>,
    /// `added`, `removed`, `enabled`, `disabled`, `mode`, `on_error`, `limits`,
    /// `settings`, `source`, `sha256`, `code`, `actions`, `tokens`.
    pub change: &'static str,
    /// The value before.
    pub from: Value,
    /// The value after.
    pub to: Value,
}

fn change(plugin: Option<&str>, change: &'static str, from: Value, to: Value) -> Change {
    Change {
        plugin: plugin.map(str::to_string),
        change,
        from,
        to,
    }
}

fn value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Everything that differs from `old` to `new`, plugins in name order.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        old.plugins.keys().chain(new.plugins.keys()).collect();
    for name in names {
        match (old.plugins.get(name), new.plugins.get(name)) {
            (None, Some(added)) => {
                changes.push(change(Some(name), "added", Value::Null, value(added)))
            }
            (Some(removed), None) => {
                changes.push(change(Some(name), "removed", value(removed), Value::Null))
            }
            (Some(a), Some(b)) => plugin_changes(name, a, b, &mut changes),
            (None, None) => {}
        }
    }
    if old.actions != new.actions {
        changes.push(change(
            None,
            "actions",
            value(&old.actions),
            value(&new.actions),
        ));
    }
    if old.tokens != new.tokens {
        changes.push(change(
            None,
            "tokens",
            value(&old.tokens),
            value(&new.tokens),
        ));
    }
    // A snapshot saved before ratings has none: not a change by itself.
    if old.rating.is_some() && old.rating != new.rating {
        changes.push(change(
            None,
            "rating",
            value(&old.rating),
            value(&new.rating),
        ));
    }
    changes
}

fn plugin_changes(name: &str, a: &PluginSnapshot, b: &PluginSnapshot, out: &mut Vec<Change>) {
    let (x, y) = (&a.config, &b.config);
    if x.enabled != y.enabled {
        let kind = if y.enabled { "enabled" } else { "disabled" };
        out.push(change(
            Some(name),
            kind,
            value(&x.enabled),
            value(&y.enabled),
        ));
    }
    let fields: [(&'static str, Value, Value); 6] = [
        ("mode", value(&x.mode), value(&y.mode)),
        ("on_error", value(&x.on_error), value(&y.on_error)),
        ("limits", value(&x.limits), value(&y.limits)),
        ("settings", value(&x.settings), value(&y.settings)),
        (
            "source",
            value(&(&x.bundled, &x.path)),
            value(&(&y.bundled, &y.path)),
        ),
        ("sha256", value(&x.sha256), value(&y.sha256)),
    ];
    for (kind, from, to) in fields {
        if from != to {
            out.push(change(Some(name), kind, from, to));
        }
    }
    if a.code != b.code && a.code.is_some() && b.code.is_some() {
        out.push(change(Some(name), "code", value(&a.code), value(&b.code)));
    }
}

/// The last applied snapshot, if any.
pub fn load_snapshot(store: &dyn Store) -> Option<Snapshot> {
    let raw = store.meta(SNAPSHOT_KEY).ok()??;
    serde_json::from_slice(&raw).ok()
}

/// Remember `snapshot` as the last applied one. Failures are logged: the change is
/// already in force and the audit entry follows.
pub fn save_snapshot(store: &dyn Store, snapshot: &Snapshot) {
    let bytes = serde_json::to_vec(snapshot).unwrap_or_default();
    if let Err(err) = store.set_meta(SNAPSHOT_KEY, &bytes) {
        tracing::error!(error = %err, "could not save the configuration snapshot");
    }
}

/// Append an audit entry for an applied change (`Ok`) or a refused one (`Err`).
pub fn record(
    store: &dyn Store,
    trigger: Trigger,
    actor: Option<&str>,
    digest: Option<&str>,
    previous: Option<&str>,
    outcome: Result<&ReloadReport, &str>,
) {
    let now = crate::model::time::format_rfc3339(crate::model::time::wall_clock_now());
    let entry = match outcome {
        Ok(report) => json!({
            "at": now, "trigger": trigger, "actor": actor, "applied": true,
            "config_digest": digest, "previous_digest": previous,
            "changes": report.changes, "warnings": report.warnings, "error": null,
        }),
        Err(error) => json!({
            "at": now, "trigger": trigger, "actor": actor, "applied": false,
            "config_digest": digest, "previous_digest": previous,
            "changes": [], "warnings": [], "error": error,
        }),
    };
    if let Err(err) = store.append_audit(entry) {
        tracing::error!(error = %err, "could not append to the audit trail");
    }
}

/// Append an audit entry for an action other than a configuration change — a
/// publication of ratings, a reviewer's decision: the common fields (`at`, `trigger`,
/// `actor`, `applied`, `action`), then `fields`. Failures are logged: the action is
/// already done.
pub fn record_action(
    store: &dyn Store,
    trigger: &str,
    actor: Option<&str>,
    action: &str,
    fields: Value,
) {
    let mut entry = json!({
        "at": crate::model::time::format_rfc3339(crate::model::time::wall_clock_now()),
        "trigger": trigger,
        "actor": actor,
        "applied": true,
        "action": action,
    });
    if let (Some(entry), Value::Object(fields)) = (entry.as_object_mut(), fields) {
        entry.extend(fields);
    }
    if let Err(err) = store.append_audit(entry) {
        tracing::error!(error = %err, action, "could not append to the audit trail");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(toml: &str) -> Snapshot {
        let config = Config::from_toml(toml).expect("config");
        Snapshot::of(&config, &PluginSet::default())
    }

    #[test]
    fn toggles_settings_and_modes_are_reported_per_plugin() {
        let old = snapshot(
            "[plugins.a]\nbundled = \"a\"\n[plugins.a.settings]\nword = \"x\"\n[plugins.b]\nbundled = \"b\"\n",
        );
        let new = snapshot(
            "[plugins.a]\nbundled = \"a\"\nmode = \"monitor\"\n[plugins.a.settings]\nword = \"y\"\n[plugins.b]\nbundled = \"b\"\nenabled = false\n[plugins.c]\nbundled = \"c\"\n",
        );
        let kinds: Vec<(Option<String>, &str)> = diff(&old, &new)
            .into_iter()
            .map(|c| (c.plugin, c.change))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Some("a".into()), "mode"),
                (Some("a".into()), "settings"),
                (Some("b".into()), "disabled"),
                (Some("c".into()), "added"),
            ]
        );
    }

    #[test]
    fn identical_snapshots_have_no_changes() {
        let text = "[plugins.a]\nbundled = \"a\"\n";
        assert!(diff(&snapshot(text), &snapshot(text)).is_empty());
    }
}
