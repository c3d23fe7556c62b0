//! `GET /v1/plugins`, `POST /v1/admin/reload`, `GET /v1/admin/audit`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::rejection::query_problem;
use super::{AppState, Problem, ProblemKind};
use crate::runtime::{FAILURE_KINDS, LoadedPlugin};
use crate::service::auth::Caller;
use crate::service::reload::{ReloadReport, Trigger};

/// `GET /v1/plugins`: every configured plugin, loaded or not, with its counters.
pub async fn plugins(State(state): State<Arc<AppState>>) -> Json<Value> {
    let running = state.reloader.running();
    let plugins: Vec<Value> = running
        .config
        .plugins
        .iter()
        .map(|(name, entry)| {
            let loaded = running.plugins.get(name);
            // Usage also for a disabled plugin: its timers wait for it.
            let usage = state.store.usage_total(name).ok();
            json!({
                "name": name,
                "enabled": entry.enabled,
                "mode": entry.mode,
                "on_error": entry.on_error,
                "source": entry.source_label(),
                "pinned_sha256": entry.sha256,
                "version": loaded.map(|p| p.manifest().version.clone()),
                "description": loaded.map(|p| p.manifest().description.clone()),
                "digest": loaded.map(|p| format!("sha256:{}", p.digest())),
                "subscribes": loaded.map(|p| p.manifest().subscribes.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
                "keyed_by": loaded.map(|p| p.keyed_by().as_str()),
                "world_version": loaded.map(|p| p.manifest().world_version),
                "limits": entry.limits,
                "breaker": entry.breaker,
                "breaker_state": loaded.map(|p| p.breaker()),
                "settings": entry.settings,
                "counters": loaded.map(|p| counters(p)),
                "usage": usage.map(|u| json!({
                    "state_bytes": u.state_bytes,
                    "state_entries": u.state_entries,
                    "timers": u.timers,
                })),
            })
        })
        .collect();
    Json(json!({ "config_digest": running.digest, "plugins": plugins }))
}

fn counters(plugin: &LoadedPlugin) -> Value {
    let c = plugin.counters();
    let by_kind: BTreeMap<&str, u64> = FAILURE_KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| (*kind, c.errors_by_kind[i].load(Ordering::Relaxed)))
        .collect();
    json!({
        "calls": c.calls.load(Ordering::Relaxed),
        "findings": c.findings.load(Ordering::Relaxed),
        "errors": c.errors.load(Ordering::Relaxed),
        "errors_by_kind": by_kind,
        "fuel": c.fuel.load(Ordering::Relaxed),
        "time_ms": c.micros.load(Ordering::Relaxed) as f64 / 1000.0,
        "instantiations": c.instantiations.load(Ordering::Relaxed),
    })
}

/// `POST /v1/admin/reload`.
pub async fn reload(
    State(state): State<Arc<AppState>>,
    caller: Option<Extension<Caller>>,
) -> Result<Json<ReloadReport>, Problem> {
    let reloader = state.reloader.clone();
    let actor = caller.map(|Extension(c)| c.name);
    let outcome =
        tokio::task::spawn_blocking(move || reloader.reload(Trigger::Api, actor.as_deref()))
            .await
            .map_err(|err| Problem::internal(format!("the reload task failed: {err}")))?;
    outcome.map(Json).map_err(|refused| {
        Problem::of(
            ProblemKind::ConfigRefused,
            format!("{refused}; the running configuration stays in force"),
        )
    })
}

/// The query of `GET /v1/admin/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditParams {
    limit: Option<usize>,
}

/// The audit trail, newest first.
#[derive(Debug, Serialize)]
pub struct AuditResponse {
    entries: Vec<Value>,
}

/// `GET /v1/admin/audit?limit=`.
pub async fn audit(
    State(state): State<Arc<AppState>>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditResponse>, Problem> {
    let Query(params) = params.map_err(query_problem)?;
    let limit = params.limit.unwrap_or(100).clamp(1, 10_000);
    let entries = state
        .store
        .audit(limit)
        .map_err(|err| Problem::internal(format!("reading the audit trail failed: {err}")))?;
    Ok(Json(AuditResponse { entries }))
}
