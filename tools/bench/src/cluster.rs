//! The cluster section (`--only cluster`): the same NDJSON ingest into clusters of 1, 2,
//! … `--cluster-nodes` Probity nodes on one `nats-server -js` the bench starts, the
//! connections spread over the nodes.
//!
//! Two figures per cluster size: the rate at which batches were answered (stored in the
//! JetStream stream, their verdicts evaluated by each partition's owner and held by the
//! node that took them), and the rate until *every* node reflected the whole stream. All the nodes share this machine's cores, so the
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
            format!("{size} node(s): ingest answered (stored in JetStream, verdicts at the node taking it)"),
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

/// Poll every node's `GET /v1/cluster` until every partition on each reflects `events`
/// messages of the stream.
fn wait_until_all_applied(addrs: &[std::net::SocketAddr], events: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let mut done = true;
        for addr in addrs {
            let status = cluster_status(*addr)?;
            done &= status["reflected"].as_u64().unwrap_or(0) >= events;
        }
        if done {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "the nodes never caught up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cluster_status(addr: std::net::SocketAddr) -> anyhow::Result<serde_json::Value> {
    let text = http::get_text(addr, "/v1/cluster")?;
    Ok(serde_json::from_str(&text)?)
}

/// The takeover section (`--only takeover`): for streams of a quarter, half and all of
/// `events`, a cluster of two nodes takes them in; then one node is SIGKILLed, and the
/// time until the other owns every partition and reflects the whole stream is the
/// takeover; then the killed node is started again, and the time until it is ready (it
/// rebuilds its copy from the event stream and the changelog) is its rejoin.
pub fn takeover_section(
    args: &Args,
    events: u64,
    setup: &server::ServerSetup,
    report: &mut Report,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    for length in [events / 4, events / 2, events] {
        let nats = probity_e2e::nats::NatsServer::start();
        let node = |n: usize| {
            setup.with_extra(&format!(
                "\n[cluster]\nnats_url = \"{}\"\nnode = \"node-{n}\"\npartitions = 16\nlease = \"2s\"\nanswer_wait_ms = 600000\n",
                nats.url()
            ))
        };
        let survivor = node(0).start(&format!("takeover-{length}-node-0"))?.0;
        let victim = node(1).start(&format!("takeover-{length}-node-1"))?.0;
        let addrs = [survivor.addr(), victim.addr()];
        eprintln!("== takeover: {length} events into two nodes, then one is SIGKILLed");
        let options = ingest::IngestOptions {
            stream: StreamConfig::new(args.seed, "t-", START_MS),
            events: length,
            batch: args.batch,
            connections: args.ingest_connections.max(2),
        };
        runtime.block_on(ingest::run_spread(&addrs, options))?;
        wait_until_all_applied(&addrs, length)?;
        let held = |status: &serde_json::Value| {
            status["partitions"]
                .as_array()
                .map_or(0, |p| p.iter().filter(|p| p["role"] == "owner").count())
        };
        let victims = held(&cluster_status(victim.addr())?);
        let killed = Instant::now();
        victim.kill_9()?;
        let deadline = killed + Duration::from_secs(600);
        loop {
            let status = cluster_status(survivor.addr())?;
            if held(&status) == 16 && status["reflected"].as_u64().unwrap_or(0) >= length {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the survivor never took over: {status}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let takeover = killed.elapsed();
        report.add(
            "takeover",
            format!("{length}-event stream: the survivor owns all 16 partitions ({victims} taken over) and reflects the stream, after a SIGKILL (lease 2 s)"),
            takeover.as_secs_f64(),
            "s",
        );
        let (back, ready) = node(1).start(&format!("takeover-{length}-node-1"))?;
        report.add(
            "takeover",
            format!("{length}-event stream: the killed node, started again, is ready (rebuilt from the event stream and the changelog)"),
            ready.as_secs_f64(),
            "s",
        );
        back.stop()?;
        survivor.stop()?;
    }
    Ok(())
}
