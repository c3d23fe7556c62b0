//! Prometheus metrics.
//!
//! Two sources make up `GET /metrics`:
//!
//! - the [`metrics`] facade, rendered by `metrics-exporter-prometheus`: HTTP requests and
//!   latency (counted by the API's middleware, `api/metrics.rs`), events by outcome, store flush latency and batch size, timers fired, the
//!   event-time clock's lag behind the wall clock;
//! - the per-plugin counters the runtime keeps anyway ([`PluginCounters`]), rendered at
//!   scrape time — so the hot path of a plugin call pays for no metric of its own — and
//!   each plugin's circuit breaker (quarantined now, times quarantined).

use std::fmt::Write;
use std::sync::atomic::Ordering;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::pipeline::PluginSet;
use crate::runtime::{BreakerState, FAILURE_KINDS, PluginCounters};

/// Latency buckets, in seconds: 100 µs to 10 s.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// Requests per flush buckets.
const COUNT_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Install the process-wide recorder; call once.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("requests".into()), &COUNT_BUCKETS)?
        .install_recorder()
}

/// The per-plugin metrics of the running set, in Prometheus text format.
pub fn render_plugins(plugins: &PluginSet) -> String {
    type Read = fn(&PluginCounters) -> f64;
    let families: [(&str, &str, &str, Read); 5] = [
        (
            "probity_plugin_calls_total",
            "counter",
            "Calls of each plugin (handle and on-timer).",
            |c| c.calls.load(Ordering::Relaxed) as f64,
        ),
        (
            "probity_plugin_findings_total",
            "counter",
            "Findings reported by each plugin.",
            |c| c.findings.load(Ordering::Relaxed) as f64,
        ),
        (
            "probity_plugin_fuel_total",
            "counter",
            "Fuel (Wasm instructions, roughly) used by each plugin.",
            |c| c.fuel.load(Ordering::Relaxed) as f64,
        ),
        (
            "probity_plugin_call_seconds_total",
            "counter",
            "Wall-clock time spent in each plugin's calls.",
            |c| c.micros.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "probity_plugin_instantiations_total",
            "counter",
            "Instances created for each plugin.",
            |c| c.instantiations.load(Ordering::Relaxed) as f64,
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, read) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for plugin in plugins.plugins() {
            let _ = writeln!(
                out,
                "{name}{{plugin=\"{}\"}} {}",
                plugin.name(),
                read(plugin.counters())
            );
        }
    }
    let name = "probity_plugin_errors_total";
    let _ = writeln!(
        out,
        "# HELP {name} Failed plugin calls by kind.\n# TYPE {name} counter"
    );
    for plugin in plugins.plugins() {
        for (index, kind) in FAILURE_KINDS.iter().enumerate() {
            let count = plugin.counters().errors_by_kind[index].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}{{plugin=\"{}\",kind=\"{kind}\"}} {count}",
                plugin.name()
            );
        }
    }
    let name = "probity_plugin_quarantined";
    let _ = writeln!(
        out,
        "# HELP {name} 1 while the plugin's circuit breaker has it quarantined (open or half-open).\n# TYPE {name} gauge"
    );
    for plugin in plugins.plugins() {
        let open = plugin.breaker().state != BreakerState::Closed;
        let _ = writeln!(
            out,
            "{name}{{plugin=\"{}\"}} {}",
            plugin.name(),
            u8::from(open)
        );
    }
    let name = "probity_plugin_quarantines_total";
    let _ = writeln!(
        out,
        "# HELP {name} Times each plugin's circuit breaker opened.\n# TYPE {name} counter"
    );
    for plugin in plugins.plugins() {
        let opened = plugin.breaker().opened_total;
        let _ = writeln!(out, "{name}{{plugin=\"{}\"}} {opened}", plugin.name());
    }
    out
}
