//! The `probity` command line: parsing and one module per subcommand. `main` only wires
//! logging and dispatch.

pub mod check;

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
}
