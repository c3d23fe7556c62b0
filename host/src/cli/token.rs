//! `probity token`: make API tokens and their configuration entries.

use anyhow::{Context, Result};

use crate::config::Role;
use crate::service::auth::{hash_token, new_token};

/// Options of `probity token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The `token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Generate a random token; print it once, with the `[[auth.tokens]]` entry (holding
    /// only its hash) to paste into the configuration.
    New {
        /// Who will hold it.
        #[arg(long)]
        name: String,
        /// Its roles, comma-separated: ingest, read, admin, review.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<RoleArg>,
    },
    /// Print the SHA-256 of a token read from standard input.
    Hash,
}

/// A role on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoleArg {
    /// `ingest`.
    Ingest,
    /// `read`.
    Read,
    /// `admin`.
    Admin,
    /// `review`.
    Review,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Ingest => Role::Ingest,
            RoleArg::Read => Role::Read,
            RoleArg::Admin => Role::Admin,
            RoleArg::Review => Role::Review,
        }
    }
}

/// Run `probity token`.
pub fn run(args: &TokenArgs) -> Result<i32> {
    match &args.command {
        TokenCommand::New { name, roles } => {
            let token = new_token().map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
            let roles: Vec<String> = roles
                .iter()
                .map(|r| format!("\"{}\"", Role::from(*r).as_str()))
                .collect();
            println!("# token for {name} (shown once; give it to the client, keep it secret):");
            println!("# {token}");
            println!("[[auth.tokens]]");
            println!("name = {name:?}");
            println!("sha256 = \"{}\"", hash_token(&token));
            println!("roles = [{}]", roles.join(", "));
        }
        TokenCommand::Hash => {
            let mut token = String::new();
            std::io::stdin()
                .read_line(&mut token)
                .context("reading the token from stdin")?;
            println!("{}", hash_token(token.trim()));
        }
    }
    Ok(0)
}
