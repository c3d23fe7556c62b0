//! `probity plugin …`: tools for plugin authors — a project scaffold (`new`), a fixture
//! runner on the real runtime (`test`) and a component inspector (`inspect`).

pub mod fixtures;
pub mod inspect;
pub mod new;
pub mod test;

use anyhow::Result;
use clap::Subcommand;

/// Options of `probity plugin`.
#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// The `plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a Rust plugin project: an example rule, unit tests, fixtures.
    New(new::NewArgs),
    /// Run fixture files through a plugin on the real runtime and limits; exit code 1 on
    /// any mismatch.
    Test(test::TestArgs),
    /// Show a component's manifest, WIT world and version, imports, size and digest, and
    /// whether this host can load it.
    Inspect(inspect::InspectArgs),
}

/// Run `probity plugin …`; returns the exit code.
pub fn run(args: &PluginArgs) -> Result<i32> {
    match &args.command {
        PluginCommand::New(args) => new::run(args),
        PluginCommand::Test(args) => test::run(args),
        PluginCommand::Inspect(args) => inspect::run(args),
    }
}
