//! The sandbox tax: what each bundled plugin costs per event natively and as a Wasm
//! component in the host, in the same run, over the same events.
//!
//! The plugins are ordinary Rust crates, so the same code runs two ways: natively
//! through the SDK's test harness (state as JSON in memory, no host) and as the bundled
//! component inside the host's real pipeline (a warm instance from the pooling
//! allocator, state in sled, each event committed with its verdicts). The ratio of the
//! two per-call costs is the price of the sandbox, host calls included — the figure the
//! issue's "≤ 2× per plugin" target is about.
//!
//! The input is the end-to-end tests' seeded marketplace (`probity_e2e::brush`: seed 7,
//! ~78,000 events of listings, order life cycles and reviews, with brushing rings), which
//! exercises every plugin: `claims` reads its listings, `brush-orders` its orders and
//! reviews, `sla` its deadlines. Each plugin runs alone, so its figures are its own.
//!
//! Per plugin: **native µs/call** (harness time over `handle` and `on_timer` calls),
//! **native µs/event** (over every event of the marketplace), **component µs/call**
//! (the host's per-plugin counters: guest code plus its host calls into the store, on a
//! warm instance), **pipeline µs/event** (the whole `Pipeline::process`: every plugin
//! call, verdicts, history, the sled transaction — no flush), and the ratio
//! component ÷ native per call. On both sides the plugin's first call, which builds it
//! (instantiation, settings, matchers), is left out of the per-call figures: it is paid
//! once per instance, not per event. The host counts call time in whole microseconds
//! per call, so the component figure is up to 1 µs low.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use probity::config::PluginConfig;
use probity_e2e::brush::market::{Market, Params};
use probity_e2e::harness;
use probity_sdk::prelude::Plugin;
use probity_sdk::testing::Harness;

/// The bundled plugins this section measures, by their bundled name.
pub const PLUGINS: [&str; 3] = ["claims", "brush-orders", "sla"];

/// One plugin's costs.
pub struct PluginCost {
    /// Native calls (`handle` on subscribed events, plus timers).
    pub native_calls: u64,
    /// Native time per call, µs.
    pub native_us_per_call: f64,
    /// Native time per marketplace event, µs.
    pub native_us_per_event: f64,
    /// Component calls counted by the host.
    pub component_calls: u64,
    /// Component time per call, µs (guest plus host calls, warm instance).
    pub component_us_per_call: f64,
    /// The whole pipeline per event with this plugin alone, µs.
    pub pipeline_us_per_event: f64,
    /// Failed component calls (should be 0).
    pub component_errors: u64,
    /// The native state at its largest (sampled every 2,000 events): bytes of keys and
    /// values, and entries.
    pub native_state_peak: (u64, usize),
    /// The slowest event through the pipeline: its time and its `event_id`.
    pub slowest_event: (Duration, String),
}

impl PluginCost {
    /// Component cost per call over native cost per call.
    pub fn ratio(&self) -> f64 {
        self.component_us_per_call / self.native_us_per_call
    }
}

/// The marketplace the costs are measured on: the full one (seed 7), or the small one
/// for a quick run.
pub fn market(quick: bool) -> Market {
    Market::generate(if quick {
        Params::small(7)
    } else {
        Params::full(7)
    })
}

/// Measure `name` (one of [`PLUGINS`]) on `market`, natively then as a component.
pub fn measure(name: &str, market: &Market) -> anyhow::Result<PluginCost> {
    let native = match name {
        "claims" => native::<claims::Claims>(market)?,
        "brush-orders" => native::<brush_orders::Brush>(market)?,
        "sla" => native::<sla::Sla>(market)?,
        other => bail!("no plugin `{other}` to measure; the plugins are {PLUGINS:?}"),
    };
    let component = component(name, market)?;
    let events = market.events.len() as f64;
    Ok(PluginCost {
        native_calls: native.calls,
        native_us_per_call: micros(native.in_calls) / native.calls.max(1) as f64,
        native_us_per_event: micros(native.elapsed) / events,
        component_calls: component.calls,
        component_us_per_call: component.micros as f64 / component.calls.max(1) as f64,
        pipeline_us_per_event: micros(component.pipeline) / events,
        component_errors: component.errors,
        native_state_peak: native.state_peak,
        slowest_event: component.slowest,
    })
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// What the SDK harness measured.
struct NativeRun {
    /// Calls after the first.
    calls: u64,
    /// Time in `handle` (with the timers it fires) for the events that made those calls.
    in_calls: Duration,
    /// Time in `handle` for every event after the first call.
    elapsed: Duration,
    /// State bytes and entries at their sampled peak.
    state_peak: (u64, usize),
}

/// Run every event through plugin `P` in the SDK harness.
fn native<P: Plugin>(market: &Market) -> anyhow::Result<NativeRun> {
    let mut plugin =
        Harness::<P>::new("{}").map_err(|e| anyhow!("default settings refused: {e:?}"))?;
    let (mut elapsed, mut in_calls) = (Duration::ZERO, Duration::ZERO);
    let mut calls = 0;
    let mut warm = false;
    let mut state_peak = (0, 0);
    for (i, ev) in market.events.iter().enumerate() {
        let envelope = ev.envelope();
        let started = Instant::now();
        let outcome = plugin.handle(envelope);
        let took = started.elapsed();
        if let Some(error) = outcome.errors().first() {
            bail!("natively, event {} failed: {error:?}", ev.id);
        }
        let made = u64::from(outcome.event.is_some()) + outcome.timers.len() as u64;
        if warm {
            elapsed += took;
            // Per call, only events that called the plugin: the harness's own work for
            // the others (clock, expiry) is not the plugin's, and the host's counters
            // leave it out too.
            if made > 0 {
                in_calls += took;
                calls += made;
            }
        }
        // The call that built the plugin (settings, matchers) is set-up, not per-call cost.
        warm |= made > 0;
        if i % 2000 == 0 {
            state_peak = state_peak.max((plugin.state_bytes(), plugin.state_entries().len()));
        }
    }
    Ok(NativeRun {
        calls,
        in_calls,
        elapsed,
        state_peak,
    })
}

/// What the host's pipeline with one plugin measured.
struct ComponentRun {
    calls: u64,
    micros: u64,
    errors: u64,
    pipeline: Duration,
    slowest: (Duration, String),
}

/// Run every event through the host's pipeline with only the bundled plugin `name`.
fn component(name: &str, market: &Market) -> anyhow::Result<ComponentRun> {
    // Parsed (and pseudonymised) up front: the pipeline's cost, not the parser's.
    let events: Vec<_> = market
        .events
        .iter()
        .map(|ev| harness::event(ev.json()))
        .collect();
    let config = harness::config(vec![(name, PluginConfig::bundled(name))]);
    let (_dir, mut pipeline) = harness::pipeline(&config);
    let plugin = pipeline
        .plugins()
        .get(name)
        .with_context(|| format!("plugin {name} not loaded"))?
        .clone();
    let counters = plugin.counters();
    let read = || {
        (
            counters.calls.load(Ordering::Relaxed),
            counters.micros.load(Ordering::Relaxed),
        )
    };
    // As natively, the first call (instantiation and the plugin's own set-up) is left out.
    let mut first = None;
    let mut slowest = (Duration::ZERO, String::new());
    let started = Instant::now();
    for (event, ev) in events.iter().zip(&market.events) {
        let one = Instant::now();
        pipeline
            .process(event)
            .with_context(|| format!("the pipeline failed on event {}", ev.id))?;
        let took = one.elapsed();
        if took > slowest.0 {
            slowest = (took, ev.id.clone());
        }
        if first.is_none() && read().0 > 0 {
            first = Some(read());
        }
    }
    let elapsed = started.elapsed();
    let (calls, micros) = read();
    let (first_calls, first_micros) = first.unwrap_or_default();
    Ok(ComponentRun {
        calls: calls - first_calls,
        micros: micros - first_micros,
        errors: counters.errors.load(Ordering::Relaxed),
        pipeline: elapsed,
        slowest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_plugin_is_refused_by_name() {
        let market = Market::generate(Params::small(1));
        let err = measure("nope", &market).err().expect("refused");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
