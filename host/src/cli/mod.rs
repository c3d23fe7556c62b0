//! The `probity` command line: parsing and one module per subcommand. `main` only wires
//! logging and dispatch.

pub mod check;
pub mod plugin;
pub mod pseudonym;
pub mod rebuild;
pub mod serve;
pub mod token;

use clap::{Parser, Subcommand};

/// Probity: a WebAssembly plugin host for marketplace integrity checks.
#[derive(Debug, Parser)]
#[command(name = "probity", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run events (NDJSON) through the configured plugins offline and print every verdict
    /// each time it changes.
    Check(check::CheckArgs),
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Make API tokens.
    Token(token::TokenArgs),
    /// Recompute every verdict from the event log (with the server stopped).
    Rebuild(rebuild::RebuildArgs),
    /// Tools for plugin authors: `new`, `test`, `inspect`.
    Plugin(plugin::PluginArgs),
    /// Print the keyed pseudonym this deployment gives personal data (a buyer id…), to
    /// find a buyer's verdict; the raw value is never stored or logged.
    Pseudonym(pseudonym::PseudonymArgs),
}

impl Command {
    /// The log filter when `PROBITY_LOG` is not set: the server logs requests, the
    /// one-shot commands only problems.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Command::Serve(_) => "info",
            _ => "warn",
        }
    }

    /// Whether logs should be JSON lines.
    pub fn json_logs(&self) -> bool {
        matches!(self, Command::Serve(args) if args.log_format == serve::LogFormat::Json)
    }
}
