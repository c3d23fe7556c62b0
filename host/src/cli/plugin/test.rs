//! `probity plugin test PLUGIN.wasm FIXTURES…`: run fixture cases through the real
//! runtime, with real limits, and compare the findings.
//!
//! Each case gets a fresh temporary store, pipeline and plugin instance (with its own
//! circuit breaker), so state, timers, the plugin's memory and its failures never leak
//! from one case to the next; the plugin is compiled once (the cache) and instantiated
//! per case. Personal fields are pseudonymised as in production (with a fixed
//! test key). Every event's wall time and fuel are printed; the exit code is 0 when every
//! case passed and 1 otherwise, for CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use super::fixtures::{self, Case, Diff, Recorded, SubjectRef, json_name};
use crate::config::{Config, Limits, PluginConfig};
use crate::ingest;
use crate::model::subject::{Subject, SubjectType};
use crate::model::time;
use crate::pipeline::{
    EventReport, Ingested, Pipeline, PluginSet, PluginSetError, describe_reference,
};
use crate::privacy::{PersonalField, Pseudonymizer};
use crate::runtime::{LoadError, LoadedPlugin, PluginEngine};
use crate::store::{SledStore, Store};

/// The pseudonym key of fixture runs.
const FIXTURE_KEY: &[u8] = b"probity-plugin-test-fixture-key";

/// Options of `probity plugin test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The plugin component.
    pub plugin: PathBuf,
    /// Fixture files (JSON).
    #[arg(required = true)]
    pub fixtures: Vec<PathBuf>,
    /// Run only the cases whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Where compiled plugins are cached (default: `$XDG_CACHE_HOME/probity/compiled`).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Accept events dated any time ahead of this machine's clock. Without it, an event
    /// more than the default `[clock] max_future` (10m) ahead fails its case, as the
    /// server would refuse it.
    #[arg(long)]
    pub allow_future: bool,
}

/// One event's cost.
struct EventCost {
    label: String,
    elapsed: Duration,
    fuel: u64,
}

/// Run `probity plugin test`; returns the exit code.
pub fn run(args: &TestArgs) -> Result<i32> {
    let wasm = std::fs::read(&args.plugin)
        .with_context(|| format!("reading {}", args.plugin.display()))?;
    let name = plugin_name(&args.plugin);
    let cache_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(crate::cli::check::default_cache_dir);
    let engine = PluginEngine::new(&Config::default().runtime, cache_dir)?;
    let pseudonymizer = Pseudonymizer::new(FIXTURE_KEY)?;
    let max_future = Config::default()
        .clock
        .max_future_ms()
        .map_err(|err| anyhow!("clock.max_future: {err}"))?;
    let mut loader = Loader {
        engine,
        name,
        path: args.plugin.clone(),
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &args.fixtures {
        let file = fixtures::read(path)?;
        println!("{}", path.display());
        for case in &file.cases {
            if args
                .filter
                .as_ref()
                .is_some_and(|f| !case.name.contains(f.as_str()))
            {
                continue;
            }
            let settings = case
                .settings
                .clone()
                .unwrap_or_else(|| Value::Object(Default::default()));
            let ok = match (loader.load(&settings, &file.limits)?, &case.settings_error) {
                (Loaded::Ready(set), None) => {
                    if passed + failed == 0 {
                        announce(&set, &loader.name, &wasm, &args.plugin);
                    }
                    let max_future = (!args.allow_future).then_some(max_future);
                    run_case(&set, &loader.name, case, &pseudonymizer, path, max_future)?
                }
                (Loaded::Refused { field, message }, Some(want)) => {
                    let ok = field == want.field
                        && want
                            .message
                            .as_ref()
                            .is_none_or(|m| message.contains(m.as_str()));
                    report_settings(case, ok, &format!("refused `{field}`: {message}"));
                    ok
                }
                (Loaded::Ready(_), Some(want)) => {
                    let said = format!("accepted the settings; expected `{}` refused", want.field);
                    report_settings(case, false, &said);
                    false
                }
                (Loaded::Refused { field, message }, None) => {
                    report_settings(case, false, &format!("refused `{field}`: {message}"));
                    false
                }
            };
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    if passed + failed == 0 {
        println!("\nno case ran (check --filter)");
        return Ok(1);
    }
    println!(
        "\n{} case(s): {passed} passed, {failed} failed",
        passed + failed
    );
    Ok(if failed == 0 { 0 } else { 1 })
}

/// The name the plugin runs under: its file name, made a valid plugin name.
fn plugin_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "plugin".to_string()
    } else {
        name
    }
}

/// The plugin loaded with some settings, or its refusal of them.
enum Loaded {
    Ready(Arc<PluginSet>),
    Refused { field: String, message: String },
}

/// Loads the plugin afresh for every case: a new instance (the plugin's own memory), a
/// new circuit breaker and new counters, so no case sees what an earlier one left — five
/// cases that expect a trap do not quarantine the sixth. (The compiled code comes from
/// the cache, so a load costs an instantiation, not a compilation.)
struct Loader {
    engine: PluginEngine,
    name: String,
    path: PathBuf,
}

impl Loader {
    /// `Err` when the plugin cannot load at all (not a component, forbidden import…).
    fn load(&mut self, settings: &Value, limits: &Limits) -> Result<Loaded> {
        let entry = PluginConfig {
            settings: settings.clone(),
            limits: limits.clone(),
            ..PluginConfig::from_path(&self.path)
        };
        let config = Config {
            plugins: [(self.name.clone(), entry)].into_iter().collect(),
            ..Config::default()
        };
        match PluginSet::load(&self.engine, &config, &[]) {
            Ok((set, _)) => Ok(Loaded::Ready(Arc::new(set))),
            Err(PluginSetError {
                error: LoadError::Settings { field, message },
                ..
            }) => Ok(Loaded::Refused { field, message }),
            Err(err) => Err(anyhow!("{}: {err}", self.path.display())),
        }
    }
}

fn report_settings(case: &Case, ok: bool, said: &str) {
    let mark = if ok { "ok  " } else { "FAIL" };
    println!("  {mark} {}", case.name);
    println!("         settings: {said}");
}

fn announce(set: &PluginSet, name: &str, wasm: &[u8], path: &Path) {
    if let Some(plugin) = set.get(name) {
        let m = plugin.manifest();
        println!(
            "{} {} (sha256:{}…, {} KiB) from {}",
            m.name,
            m.version,
            &plugin.digest()[..12],
            wasm.len() / 1024,
            path.display()
        );
    }
}

/// Run one case; prints its result and returns whether it passed.
fn run_case(
    set: &Arc<PluginSet>,
    name: &str,
    case: &Case,
    pseudonymizer: &Pseudonymizer,
    path: &Path,
    max_future: Option<i64>,
) -> Result<bool> {
    let scratch = tempfile::tempdir().context("creating a temporary store")?;
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&scratch)?);
    let mut pipeline = Pipeline::new(store.clone(), set.clone())?;
    let plugin = set
        .get(name)
        .ok_or_else(|| anyhow!("the plugin is not loaded"))?;
    let mut subjects = BTreeSet::new();
    let mut costs = Vec::new();
    // Fixtures name a buyer subject by the raw `buyer_id` their events give.
    let mut buyers = BTreeMap::new();
    for (n, raw) in case.events.iter().enumerate() {
        if let Some(buyer) = raw.get("buyer_id").and_then(|b| b.as_str()) {
            let pseudonym = pseudonymizer.pseudonymize(PersonalField::BuyerId, buyer);
            buyers.insert(pseudonym.as_str().to_string(), buyer.to_string());
        }
        let bytes = serde_json::to_vec(raw)?;
        let event = ingest::parse_event(&bytes, pseudonymizer)
            .and_then(|event| match max_future {
                Some(bound) => {
                    ingest::check_not_ahead(&event, time::wall_clock_now(), bound).map(|()| event)
                }
                None => Ok(event),
            })
            .map_err(|err| anyhow!("{}: case `{}`, event {n}: {err}", path.display(), case.name))?;
        let before = snapshot(plugin);
        let (report, waits) = match pipeline.ingest(&event)? {
            Ingested::Accepted(report) => (report, None),
            Ingested::Parked { waiting_for } => (
                EventReport::default(),
                Some(format!(" (waits for {})", describe_reference(&waiting_for))),
            ),
            Ingested::Duplicate { .. } => (EventReport::default(), Some(" (a duplicate)".into())),
            Ingested::Conflict { .. } => (
                EventReport::default(),
                Some(" (refused: its event_id was sent before with other content)".into()),
            ),
        };
        let after = snapshot(plugin);
        subjects.extend(
            report
                .touched
                .iter()
                .chain(&report.changes)
                .map(|v| v.subject.clone()),
        );
        costs.push(EventCost {
            label: format!(
                "{} {}{}",
                event.event_id,
                event.event_type().as_str(),
                waits.unwrap_or_default()
            ),
            elapsed: Duration::from_micros(after.1.saturating_sub(before.1)),
            fuel: after.0.saturating_sub(before.0),
        });
    }
    if let Some(to) = &case.advance_to {
        let to = time::parse_rfc3339(to)
            .map_err(|err| anyhow!("case `{}`: advance_to: {err}", case.name))?;
        let report = pipeline.advance_clock(to, "advance_to")?;
        subjects.extend(report.changes.iter().map(|v| v.subject.clone()));
    }
    let recorded = recorded(store.as_ref(), name, &subjects, &buyers)?;
    let diff = Diff::between(&case.expect, &recorded);
    print_case(case, &diff, &costs);
    Ok(diff.is_empty())
}

/// (fuel, microseconds) the plugin has used so far.
fn snapshot(plugin: &LoadedPlugin) -> (u64, u64) {
    let c = plugin.counters();
    (
        c.fuel.load(Ordering::Relaxed),
        c.micros.load(Ordering::Relaxed),
    )
}

/// Every finding of the plugin on `subjects`, oldest first per subject; a buyer subject
/// named by the raw id `buyers` maps its pseudonym to.
fn recorded(
    store: &dyn Store,
    name: &str,
    subjects: &BTreeSet<Subject>,
    buyers: &BTreeMap<String, String>,
) -> Result<Vec<Recorded>> {
    let mut all = Vec::new();
    for subject in subjects {
        let id = match subject.kind {
            SubjectType::Buyer => buyers.get(&subject.id).unwrap_or(&subject.id),
            _ => &subject.id,
        };
        let reference = SubjectRef {
            kind: subject.kind.as_str().to_string(),
            id: id.clone(),
        };
        for finding in store.history(subject)? {
            if finding.plugin == name {
                all.push(Recorded {
                    subject: reference.clone(),
                    finding,
                });
            }
        }
    }
    Ok(all)
}

fn print_case(case: &Case, diff: &Diff, costs: &[EventCost]) {
    let mark = if diff.is_empty() { "ok  " } else { "FAIL" };
    println!("  {mark} {}", case.name);
    for cost in costs {
        println!(
            "         {:<40} {:>9.3} ms {:>13} fuel",
            cost.label,
            cost.elapsed.as_secs_f64() * 1000.0,
            cost.fuel
        );
    }
    for want in &diff.missing {
        println!(
            "       - missing:    {}/{} {} {}",
            want.subject.kind,
            want.subject.id,
            want.rule,
            [want.severity.as_deref(), want.category.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    for got in &diff.unexpected {
        let f = &got.finding;
        println!(
            "       + unexpected: {}/{} {} {} {} — {}",
            got.subject.kind,
            got.subject.id,
            f.rule,
            json_name(&f.severity),
            json_name(&f.category),
            f.message
        );
    }
}
