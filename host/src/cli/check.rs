//! `probity check`: run events through the configured plugins offline.
//!
//! Events are read as NDJSON (a file or `-` for stdin) and handled in order by the real
//! pipeline and runtime over a temporary store. Every verdict is printed, as one JSON
//! line, each time it changes — including changes made later by timers or by a plugin
//! flagging an earlier subject — so the last line for a subject is its final verdict.
//! Rejected lines are reported on stderr with their line number and the exit code is 1.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::bundled;
use crate::config::Config;
use crate::ingest;
use crate::model::time;
use crate::pipeline::{Ingested, Pipeline, PluginSet};
use crate::privacy::Pseudonymizer;
use crate::runtime::PluginEngine;
use crate::store::{SledStore, Store};

/// The pseudonym key `check` uses when the deployment has none (no configured key, no
/// key file in the data directory): offline checks only.
const CHECK_ONLY_KEY: &[u8] = b"probity-check-offline-key-not-for-production";

/// Options of `probity check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Configuration file (default: the embedded default, every bundled plugin enabled).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// After the last event, move the event-time clock to this RFC 3339 time and fire
    /// the timers that come due (deadlines that pass with nothing happening).
    #[arg(long, value_name = "TIME")]
    pub advance_to: Option<String>,
    /// Accept events dated any time ahead of this machine's clock (a scenario written
    /// in the future). Without it, an event more than `[clock] max_future` ahead is
    /// rejected, as the server rejects it.
    #[arg(long)]
    pub allow_future: bool,
    /// Events as NDJSON; `-` or nothing reads standard input.
    pub events: Option<PathBuf>,
}

/// Run `probity check`; returns the process exit code.
pub fn run(args: &CheckArgs) -> Result<i32> {
    let config = Config::load(args.config.as_deref(), &bundled::names())?;
    let advance_to = args
        .advance_to
        .as_deref()
        .map(|text| time::parse_rfc3339(text).map_err(|err| anyhow::anyhow!("--advance-to: {err}")))
        .transpose()?;
    let max_future = if args.allow_future {
        None
    } else {
        Some(
            config
                .clock
                .max_future_ms()
                .map_err(|err| anyhow::anyhow!("clock.max_future: {err}"))?,
        )
    };
    let scratch = tempfile::tempdir().context("creating a temporary store")?;
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&scratch)?);
    let cache_dir = config
        .runtime
        .cache_dir
        .clone()
        .unwrap_or_else(default_cache_dir);
    let engine = PluginEngine::new(&config.runtime, cache_dir)?;
    let (plugins, _) = PluginSet::load(&engine, &config, bundled::BUNDLED)?;
    let mut pipeline = Pipeline::new(store, Arc::new(plugins))?;
    // The deployment's key when there is one (configured, or the data directory's key
    // file), so `check` gives the pseudonyms `serve` and `probity pseudonym` give;
    // else a fixed offline key.
    let pseudonymizer = match crate::service::keys::existing_pseudonymizer(
        config.privacy.pseudonym_key.as_deref(),
        &config.server.data_dir,
    ) {
        Ok(pseudonymizer) => pseudonymizer,
        Err(crate::service::keys::KeyError::NoKey { .. }) => Pseudonymizer::new(CHECK_ONLY_KEY)?,
        Err(err) => return Err(err.into()),
    };

    let input: Box<dyn BufRead> = match args.events.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(path) if path.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut rejected = 0usize;
    for (index, line) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let line = line.context("reading events")?;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        let parsed = ingest::parse_event(trimmed, &pseudonymizer).and_then(|event| {
            match max_future {
                Some(bound) => ingest::check_not_ahead(&event, time::wall_clock_now(), bound),
                None => Ok(()),
            }
            .map(|()| event)
        });
        let event = match parsed {
            Ok(event) => event,
            Err(err) => {
                rejected += 1;
                eprintln!("line {number}: rejected: {err}");
                continue;
            }
        };
        let report = match pipeline.ingest(&event)? {
            Ingested::Accepted(report) => report,
            Ingested::Parked { waiting_for } => {
                let waiting_for = crate::pipeline::describe_reference(&waiting_for);
                eprintln!("line {number}: waits for {waiting_for}, evaluated once it arrives");
                continue;
            }
            Ingested::Duplicate { .. } => {
                eprintln!("line {number}: duplicate of an earlier event_id, skipped");
                continue;
            }
            Ingested::Conflict { .. } => {
                rejected += 1;
                eprintln!(
                    "line {number}: rejected: its event_id was used before with other content"
                );
                continue;
            }
        };
        for verdict in &report.changes {
            serde_json::to_writer(&mut out, verdict)?;
            out.write_all(b"\n")?;
        }
    }
    if let Some(to) = advance_to {
        let report = pipeline.advance_clock(to, "clock-advance")?;
        for verdict in &report.changes {
            serde_json::to_writer(&mut out, verdict)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    let parked = pipeline.parked();
    if parked > 0 {
        eprintln!(
            "{parked} event(s) still wait for an order or complaint that never came (a server evaluates them after 7 days of event time)"
        );
    }
    if rejected > 0 {
        eprintln!("{rejected} line(s) rejected");
        return Ok(1);
    }
    Ok(0)
}

/// `$XDG_CACHE_HOME/probity/compiled`, else `~/.cache/probity/compiled`, else a temporary
/// directory.
pub(crate) fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("probity")
        .join("compiled")
}
