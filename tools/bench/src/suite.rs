//! The run itself: each section in turn, its figures added to the report with the
//! targets of issue 7.
//!
//! Order matters for two figures: the start-up section runs first, because a cold start
//! needs the compiled-plugin cache still empty; and the latency phase runs on the server
//! the ingest run just filled, so single events are measured against a store holding the
//! million events (and an event clock where that stream ended), as in production.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use hyper::body::Bytes;

use crate::report::{Report, Target, number};
use crate::stream::{EventStream, START_MS, StreamConfig};
use crate::{Args, Section, floor, http, ingest, latency, plugin_cost, server};

/// The targets.
const INGEST_TARGET: f64 = 25_000.0;
const P99_TARGET_MS: f64 = 5.0;
const SANDBOX_TAX_TARGET: f64 = 2.0;
const PEAK_RSS_TARGET_MIB: f64 = 256.0;
const WARM_START_TARGET_MS: f64 = 300.0;

/// Run the sections `args` asks for; `binary` is the server, when a section needs it.
pub fn run(args: &Args, binary: Option<PathBuf>) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let events = args.events();
    if args.wants(Section::Stream) {
        stream_section(args, events, &mut report);
    }
    if let Some(binary) = binary {
        let root = tempfile::Builder::new()
            .prefix("probity-bench-")
            .tempdir()
            .context("creating the benchmark's temporary directory")?;
        let mut setup = server::ServerSetup::new(binary, root.path(), &args.server_settings)?;
        if let Some(path) = &args.extra_config {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --extra-config {}", path.display()))?;
            setup = setup.with_extra(&format!("\n{text}\n"));
        }
        if args.wants(Section::Server) {
            server_section(&setup, &mut report)?;
        }
        if args.wants(Section::Ingest) || args.wants(Section::Latency) {
            load_sections(args, events, &setup, &mut report)?;
        }
        if args.wants(Section::Cluster) {
            crate::cluster::cluster_section(args, events, &setup, &mut report)?;
        }
        if args.wants(Section::Takeover) {
            crate::cluster::takeover_section(args, events, &setup, &mut report)?;
        }
    }
    if args.wants(Section::Floor) {
        floor_section(events, &mut report)?;
    }
    if args.wants(Section::PluginCost) {
        plugin_cost_section(args, &mut report)?;
    }
    Ok(report)
}

fn stream_section(args: &Args, events: u64, report: &mut Report) {
    eprintln!("== stream: generating {events} events");
    let mut stream = EventStream::new(StreamConfig::new(args.seed, "i-", START_MS));
    let mut buffer = String::with_capacity(1 << 20);
    let (mut bytes, started) = (0, Instant::now());
    for _ in 0..events.div_ceil(1000) {
        buffer.clear();
        stream.write_batch(1000, &mut buffer);
        bytes += buffer.len();
    }
    let secs = started.elapsed().as_secs_f64();
    let generated = stream.events_written() as f64;
    report.add("stream", "generator speed", generated / secs, "events/s");
    report.add(
        "stream",
        "mean event size",
        bytes as f64 / generated,
        "bytes",
    );
    // The mix, counted on a second pass so the timing above is the generator's alone.
    let mut stream = EventStream::new(StreamConfig::new(args.seed, "i-", START_MS));
    let groups = ["listing.", "order.", "refund.", "review.", "complaint."];
    let mut counts = [0u64; 5];
    for _ in 0..generated as u64 {
        buffer.clear();
        stream.write_next(&mut buffer);
        let kind = buffer.split("\"type\":\"").nth(1).unwrap_or_default();
        if let Some(i) = groups.iter().position(|g| kind.starts_with(g)) {
            counts[i] += 1;
        }
    }
    for (group, count) in groups.iter().zip(counts) {
        let name = format!("share of {group}* events");
        report.add("stream", name, 100.0 * count as f64 / generated, "%");
    }
}

fn server_section(setup: &server::ServerSetup, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("== server: one cold start, three warm starts");
    let startup = server::measure_startup(setup, 3)?;
    report.add(
        "server",
        "cold start to /readyz (empty plugin cache)",
        startup.cold_ms,
        "ms",
    );
    report.add_with_target(
        "server",
        "warm start to /readyz (median of 3)",
        startup.warm_median_ms(),
        "ms",
        Target::AtMost(WARM_START_TARGET_MS),
    );
    report.add(
        "server",
        "peak RSS, idle after start",
        mib(startup.idle_rss_bytes),
        "MiB",
    );
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Ingest, then the latency phase on the same server (its store warm with the ingested
/// events, its event clock where the ingest stream ended).
fn load_sections(
    args: &Args,
    events: u64,
    setup: &server::ServerSetup,
    report: &mut Report,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let (server, _) = setup.start("load")?;
    let mut latency_start = START_MS;
    if args.wants(Section::Ingest) {
        eprintln!(
            "== ingest: {events} events in NDJSON batches of {} over {} connections",
            args.batch, args.ingest_connections
        );
        let options = ingest::IngestOptions {
            stream: StreamConfig::new(args.seed, "i-", START_MS),
            events,
            batch: args.batch,
            connections: args.ingest_connections,
        };
        let ingest = runtime.block_on(ingest::run(server.addr(), options))?;
        report.add_with_target(
            "ingest",
            format!(
                "batch ingest, durable ({} per batch, {} connections)",
                args.batch, args.ingest_connections
            ),
            ingest.events_per_sec(),
            "events/s",
            Target::AtLeast(INGEST_TARGET),
        );
        report.add(
            "ingest",
            "slowest batch answer",
            ingest.slowest_batch.as_secs_f64() * 1e3,
            "ms",
        );
        report.add(
            "ingest",
            "events flagged (not allow)",
            ingest.flagged as f64,
            "events",
        );
        report.add(
            "ingest",
            "events accepted",
            ingest.accepted as f64,
            "events",
        );
        report.add("ingest", "duplicates", ingest.duplicates as f64, "events");
        let store = server::dir_size(server.data_dir())?;
        report.add(
            "ingest",
            "store on disk",
            store as f64 / 1e6 / (events as f64 / 1e6),
            "MB per M events",
        );
        report.add_with_target(
            "ingest",
            format!("server peak RSS over the {events}-event run"),
            mib(server.peak_rss_bytes()?),
            "MiB",
            Target::AtMost(PEAK_RSS_TARGET_MIB),
        );
        let metrics = crate::http::get_text(server.addr(), "/metrics")?;
        for (name, figure) in [
            (
                "probity_store_write_back_longest_seconds",
                "longest write-back to sled (background writer)",
            ),
            (
                "probity_checkpoint_longest_seconds",
                "longest checkpoint (write-back, sled flush, fsync)",
            ),
        ] {
            if let Some(seconds) = crate::http::metric(&metrics, name) {
                report.add("ingest", figure, seconds * 1e3, "ms");
            }
        }
        latency_start = ingest.clock_ms + 60_000;
    }
    if args.wants(Section::Latency) {
        latency_section(args, latency_start, &runtime, &server, report)?;
        report.add(
            "latency",
            "server peak RSS, whole life",
            mib(server.peak_rss_bytes()?),
            "MiB",
        );
    }
    server.stop()
}

fn latency_section(
    args: &Args,
    start_ms: i64,
    runtime: &tokio::runtime::Runtime,
    server: &server::Server,
    report: &mut Report,
) -> anyhow::Result<()> {
    let seconds = args.latency_seconds();
    let schedule = latency::Schedule {
        rate: args.rate,
        count: (args.rate * seconds).round() as u64,
    };
    eprintln!(
        "== latency: {} single events at {} req/s over {} connections",
        schedule.count, args.rate, args.connections
    );
    let mut stream = EventStream::new(StreamConfig::new(args.seed.wrapping_add(1), "l-", start_ms));
    let body = move |_| {
        let mut line = String::with_capacity(768);
        stream.write_next(&mut line);
        Bytes::from(line)
    };
    let figures = runtime.block_on(async {
        let mut targets = Vec::with_capacity(args.connections);
        for _ in 0..args.connections {
            targets.push(latency::EventTarget(
                http::Connection::open(server.addr()).await?,
            ));
        }
        anyhow::Ok(latency::open_loop(schedule, targets, latency::Pacing::Thread, body).await)
    })?;
    let at = format!("at {} req/s", number(args.rate));
    report.add(
        "latency",
        format!("single event p50 {at}"),
        figures.ms_at(0.5),
        "ms",
    );
    report.add_with_target(
        "latency",
        format!("single event p99 {at}"),
        figures.ms_at(0.99),
        "ms",
        Target::AtMost(P99_TARGET_MS),
    );
    report.add(
        "latency",
        format!("single event p99.9 {at}"),
        figures.ms_at(0.999),
        "ms",
    );
    report.add(
        "latency",
        format!("single event max {at}"),
        figures.max_ms(),
        "ms",
    );
    report.add("latency", "achieved rate", figures.achieved_rate(), "req/s");
    report.add(
        "latency",
        "answers not 200 (and failed requests)",
        figures.not_ok() as f64,
        "requests",
    );
    if figures.not_ok() > 0 {
        eprintln!(
            "  latency: answers by status {:?}, failed requests {}",
            figures.statuses, figures.errors
        );
    }
    Ok(())
}

fn plugin_cost_section(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let market = plugin_cost::market(args.quick);
    eprintln!(
        "== plugin cost: {} events of the brush marketplace, natively and as components",
        market.events.len()
    );
    let section = "plugin cost";
    for name in plugin_cost::PLUGINS {
        if args.plugin.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let cost = plugin_cost::measure(name, &market)?;
        let native = format!("{name}: native");
        report.add(section, native, cost.native_us_per_call, "µs/call");
        let per_event = format!("{name}: native per event");
        report.add(section, per_event, cost.native_us_per_event, "µs/event");
        let component = format!("{name}: component");
        report.add(section, component, cost.component_us_per_call, "µs/call");
        let pipeline = format!("{name}: whole pipeline");
        report.add(section, pipeline, cost.pipeline_us_per_event, "µs/event");
        report.add_with_target(
            section,
            format!("{name}: sandbox tax (component ÷ native)"),
            cost.ratio(),
            "×",
            Target::AtMost(SANDBOX_TAX_TARGET),
        );
        let (bytes, entries) = cost.native_state_peak;
        let state = format!("{name}: state at its peak ({entries} entries)");
        report.add(section, state, bytes as f64 / 1e3, "KB");
        let (took, event) = &cost.slowest_event;
        let slowest = format!("{name}: slowest pipeline event ({event})");
        report.add(section, slowest, took.as_secs_f64() * 1e3, "ms");
        if cost.component_errors > 0 || cost.native_calls != cost.component_calls {
            eprintln!(
                "  {name}: {} component errors; {} native calls vs {} component calls",
                cost.component_errors, cost.native_calls, cost.component_calls
            );
        }
    }
    Ok(())
}

fn floor_section(events: u64, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("== floor: raw sled, {events} events' writes, a flush per 1,000 events");
    let floor = floor::run(events)?;
    let per_event = 1 + floor::SMALL_RECORDS_PER_EVENT;
    report.add(
        "floor",
        format!("sled, {per_event} inserts/event, flushed per 1,000"),
        floor.events_per_sec(),
        "events/s",
    );
    report.add(
        "floor",
        "sled raw inserts",
        floor.inserts_per_sec(),
        "inserts/s",
    );
    report.add(
        "floor",
        "sled on disk",
        floor.disk_bytes as f64 / events as f64,
        "MB per M events",
    );
    Ok(())
}
