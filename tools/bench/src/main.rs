//! `probity-bench`: the one-command benchmark suite.
//!
//! ```sh
//! cargo run --release -p probity-bench                  # everything, a million events
//! cargo run --release -p probity-bench -- --quick       # a smoke run in a few minutes
//! cargo run --release -p probity-bench -- --only latency --rate 4000
//! ```
//!
//! It first builds the server (`cargo build --release -p probity --bin probity`), so one
//! command always measures the code as it is now, then runs each section and prints one
//! table of every figure next to its target (issue 7). The sections, each a module:
//!
//! - [`stream`]: the seeded marketplace event stream everything else sends;
//! - [`server`]: cold and warm start-up of `probity serve`, and its memory;
//! - [`ingest`]: the stream as NDJSON batches, durable events per second, store size;
//! - [`latency`]: single events at a fixed rate, open-loop, corrected for coordinated
//!   omission;
//! - [`floor`]: raw sled with the same writes per event, the ceiling for ingest;
//! - [`plugin_cost`]: each bundled plugin natively and as a component, the sandbox tax.
//!
//! [`suite`] runs them in order and [`report`] turns their figures into the table.
//!
//! See `BENCHMARKS.md` at the repository's root for the method and the latest results.

/// The server's allocator (see `host/src/main.rs`): the plugin-cost section runs the
/// pipeline in this process, and its figures should be the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cluster;
mod floor;
mod http;
mod ingest;
mod latency;
mod plugin_cost;
mod report;
mod server;
mod stream;
mod suite;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use clap::{Parser, ValueEnum};
use serde_json::json;

/// The benchmark suite of Probity: throughput, latency, start-up, memory, the sled floor
/// and the sandbox tax per plugin, in one run, against the targets of issue 7.
#[derive(Parser, Debug)]
#[command(name = "probity-bench", version)]
struct Args {
    /// Events to ingest, write to the sled floor and generate (default 1,000,000;
    /// 50,000 with --quick).
    #[arg(long)]
    events: Option<u64>,
    /// A small smoke run: 50,000 events, a 5-second latency phase, the small marketplace
    /// for the per-plugin cost.
    #[arg(long)]
    quick: bool,
    /// Single-event requests per second in the latency phase.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Length of the latency phase in seconds (default 30; 5 with --quick).
    #[arg(long)]
    seconds: Option<f64>,
    /// Keep-alive connections of the latency phase.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Keep-alive connections of the ingest run.
    #[arg(long, default_value_t = 4)]
    ingest_connections: usize,
    /// Events per NDJSON batch in the ingest run (the server takes at most 10,000).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// The generator's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run only this section.
    #[arg(long, value_enum)]
    only: Option<Section>,
    /// Measure only this plugin in the plugin-cost section (e.g. under a profiler).
    #[arg(long, value_parser = plugin_cost::PLUGINS)]
    plugin: Option<String>,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A setting of the server's `[server]` table, e.g. `store_cache_mib=32`
    /// (repeatable): to compare settings.
    #[arg(long = "server-setting", value_name = "KEY=VALUE")]
    server_settings: Vec<String>,
    /// A TOML file appended to every server's configuration, e.g. a `[plugins.NAME]`
    /// table of one more plugin (to measure what it costs).
    #[arg(long, value_name = "FILE")]
    extra_config: Option<std::path::PathBuf>,
    /// Cluster section: ingest into clusters of 1 to this many nodes on one
    /// `nats-server -js` the bench starts (needs `nats-server` on the PATH).
    #[arg(long, default_value_t = 3)]
    cluster_nodes: usize,
}

/// The sections of the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Section {
    Stream,
    Server,
    Ingest,
    Latency,
    Floor,
    PluginCost,
    /// Not in the default suite (it needs `nats-server`): `--only cluster`.
    Cluster,
    /// Not in the default suite (it needs `nats-server`): `--only takeover`, a node's
    /// takeover and a restarted node's rebuild against the streams' length.
    Takeover,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.rate > 0.0 && args.connections > 0 && args.batch > 0,
        "--rate, --connections and --batch must be positive"
    );
    let started = Instant::now();
    let binary = if [
        Section::Server,
        Section::Ingest,
        Section::Latency,
        Section::Cluster,
        Section::Takeover,
    ]
    .into_iter()
    .any(|s| args.wants(s))
    {
        Some(build_server()?)
    } else {
        None
    };
    let report = suite::run(&args, binary)?;

    let total = started.elapsed().as_secs_f64();
    let targets = report
        .figures()
        .iter()
        .filter(|f| f.target.is_some())
        .count();
    println!("\n{}", report.table());
    println!(
        "{} of {targets} targets missed; whole run {total:.0} s",
        report.missed()
    );
    if let Some(path) = &args.json {
        let run = json!({
            "events": args.events(), "quick": args.quick, "rate": args.rate,
            "seconds": args.latency_seconds(), "connections": args.connections,
            "ingest_connections": args.ingest_connections, "batch": args.batch,
            "seed": args.seed, "only": args.only.map(|s| format!("{s:?}")),
            "elapsed_seconds": total,
        });
        let text = serde_json::to_string_pretty(&report.to_json(run))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}

impl Args {
    /// Whether `section` is to run.
    fn wants(&self, section: Section) -> bool {
        match self.only {
            Some(only) => only == section,
            None => !matches!(section, Section::Cluster | Section::Takeover),
        }
    }

    /// Events to ingest, write to the floor and generate.
    fn events(&self) -> u64 {
        self.events
            .unwrap_or(if self.quick { 50_000 } else { 1_000_000 })
    }

    /// Length of the latency phase, in seconds.
    fn latency_seconds(&self) -> f64 {
        self.seconds.unwrap_or(if self.quick { 5.0 } else { 30.0 })
    }
}

/// Build the release server with the cargo that runs us, and find it next to our own
/// executable (`target/release/`).
fn build_server() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    eprintln!("== building the server: cargo build --release -p probity --bin probity");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-p",
            "probity",
            "--bin",
            "probity",
            "--manifest-path",
            manifest,
        ])
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    ensure!(status.success(), "building the server failed ({status})");
    let exe = std::env::current_exe().context("finding our own executable")?;
    let dir = exe.parent().context("our executable has no directory")?;
    // A debug build of the bench still measures the release server.
    let release = if dir.ends_with("release") {
        dir.to_path_buf()
    } else {
        dir.join("../release")
    };
    if !dir.ends_with("release") {
        eprintln!("warning: probity-bench is not a release build; run it with --release");
    }
    let binary = release.join(format!("probity{}", std::env::consts::EXE_SUFFIX));
    ensure!(binary.is_file(), "no server binary at {}", binary.display());
    Ok(binary)
}
