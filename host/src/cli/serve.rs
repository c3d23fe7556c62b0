//! `probity serve`: run the HTTP server (see [`crate::server`]).

use std::path::PathBuf;

use anyhow::Result;

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// Options of `probity serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (default: the embedded default — every bundled plugin,
    /// ./probity-data, 127.0.0.1:8080). Watched for changes.
    #[arg(long, short, env = "PROBITY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "PROBITY_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// Run `probity serve` until SIGTERM or Ctrl-C.
pub fn run(args: &ServeArgs) -> Result<i32> {
    crate::server::serve(args.config.clone())?;
    Ok(0)
}
