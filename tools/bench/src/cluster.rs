//! The cluster section (`--only cluster`): the same NDJSON ingest into clusters of 1, 2,
//! … `--cluster-nodes` Probity nodes on one `nats-server -js` the bench starts, the
//! connections spread over the nodes.
//!
//! Two figures per cluster size: the rate at which batches were answered (stored in the
//! JetStream stream and applied by the node that took them), and the rate until *every*
//! node had applied the whole stream. All the nodes share this machine's cores, so the
//! figures say what the design costs on one machine, not what N machines would do (see
//! BENCHMARKS.md for that model).

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};

use crate::report::Report;
use crate::stream::START_MS;
use crate::stream::StreamConfig;
use crate::{Args, http, ingest, server};

/// Ingest `events` into clusters of 1 to `args.cluster_nodes` nodes.
pub fn cluster_section(
    args: &Args,
    events: u64,
    setup: &server::ServerSetup,
    report: &mut Report,
) -> anyhow::Result<()> {
    ensure!(args.cluster_nodes > 0, "--cluster-nodes must be at least 1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    for size in 1..=args.cluster_nodes {
        let nats = probity_e2e::nats::NatsServer::start();
        let mut nodes = Vec::with_capacity(size);
        for n in 0..size {
            let node = setup.with_extra(&format!(
                "\n[cluster]\nnats_url = \"{}\"\nnode = \"node-{n}\"\npartitions = 16\nanswer_wait_ms = 600000\n",
                nats.url()
            ));
            nodes.push(node.start(&format!("cluster-{size}-node-{n}"))?.0);
        }
        let addrs: Vec<_> = nodes.iter().map(server::Server::addr).collect();
        eprintln!(
            "== cluster of {size}: {events} events in NDJSON batches of {} over {} connections",
            args.batch, args.ingest_connections
        );
        let options = ingest::IngestOptions {
            stream: StreamConfig::new(args.seed, "i-", START_MS),
            events,
            batch: args.batch,
            connections: args.ingest_connections.max(size),
        };
        let started = Instant::now();
        let ingest = runtime.block_on(ingest::run_spread(&addrs, options))?;
        wait_until_all_applied(&addrs, events)?;
        let all = started.elapsed();
        report.add(
            "cluster",
            format!("{size} node(s): ingest answered (stored in JetStream, applied by the node taking it)"),
            ingest.events_per_sec(),
            "events/s",
        );
        report.add(
            "cluster",
            format!("{size} node(s): until every node applied the whole stream"),
            events as f64 / all.as_secs_f64(),
            "events/s",
        );
        for node in nodes {
            node.stop()?;
        }
    }
    Ok(())
}

/// Poll every node's `GET /v1/cluster` until each has applied `events` messages.
fn wait_until_all_applied(addrs: &[std::net::SocketAddr], events: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let mut done = true;
        for addr in addrs {
            let text = http::get_text(*addr, "/v1/cluster")?;
            let status: serde_json::Value = serde_json::from_str(&text)?;
            done &= status["applied"].as_u64().unwrap_or(0) >= events;
        }
        if done {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "the nodes never caught up");
        std::thread::sleep(Duration::from_millis(100));
    }
}
