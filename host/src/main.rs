//! The `probity` binary: logging, argument parsing, dispatch. Everything else lives in
//! the library.

use clap::Parser;
use probity::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: the pipeline allocates many small, short-lived
/// buffers (JSON, keys, values), and with glibc a quarter of its time went to `malloc`
/// and `free` (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // The subcommands print to stdout, often into a pipe (`probity plugin inspect
        // --json X | head`): when the reader goes, end quietly as other Unix tools do
        // instead of panicking in `println!` on EPIPE. The server keeps Rust's default
        // (SIGPIPE ignored) so that a client that goes away is an error, not its death.
        // SAFETY: setting a signal's disposition to the default, before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let filter = EnvFilter::try_from_env("PROBITY_LOG")
        .unwrap_or_else(|_| EnvFilter::new(cli.command.default_log_filter()));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter);
    if cli.command.json_logs() {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    let result = match &cli.command {
        Command::Check(args) => probity::cli::check::run(args),
        Command::Serve(args) => probity::cli::serve::run(args),
        Command::Token(args) => probity::cli::token::run(args),
        Command::Rebuild(args) => probity::cli::rebuild::run(args),
        Command::Plugin(args) => probity::cli::plugin::run(args),
        Command::Pseudonym(args) => probity::cli::pseudonym::run(args),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
