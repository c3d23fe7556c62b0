//! `probity pseudonym`: the keyed pseudonym this deployment gives a piece of personal
//! data, so a platform can find its own buyer's verdict
//! (`GET /v1/verdicts/buyer/<pseudonym>`) without the raw id ever reaching Probity's
//! store or logs.
//!
//! It reads the key as `probity serve` does — `privacy.pseudonym_key` (or
//! `PROBITY_PSEUDONYM_KEY`), else the data directory's key file — and changes nothing.
//! Values come from the arguments or, one per line, from standard input (which keeps
//! them out of shell history); each pseudonym is printed on its own line, in order.
//! Nothing is logged.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::bundled;
use crate::config::Config;
use crate::privacy::PersonalField;
use crate::service::keys::existing_pseudonymizer;

/// Options of `probity pseudonym`.
#[derive(Debug, clap::Args)]
pub struct PseudonymArgs {
    /// Configuration file (its `privacy.pseudonym_key`, else `server.data_dir`'s key file).
    #[arg(long, short, env = "PROBITY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Which personal field the values are, named as the contract names it
    /// (`buyer_id`, `device_id`, `ip`, `shipping_address`, `phone`,
    /// `payment_fingerprint`): each has its own normalisation and hash domain.
    #[arg(long, default_value = "buyer_id", value_parser = personal_field)]
    pub field: PersonalField,
    /// The raw values; none: read them from standard input, one per line.
    pub values: Vec<String>,
}

/// A personal field by its contract name.
fn personal_field(name: &str) -> Result<PersonalField, String> {
    PersonalField::ALL
        .into_iter()
        .find(|field| field.tag() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = PersonalField::ALL.iter().map(|f| f.tag()).collect();
            format!("not a personal field; use one of: {}", names.join(", "))
        })
}

/// Run `probity pseudonym`.
pub fn run(args: &PseudonymArgs) -> Result<i32> {
    let config = Config::load(args.config.as_deref(), &bundled::names())?;
    let pseudonymizer = existing_pseudonymizer(
        config.privacy.pseudonym_key.as_deref(),
        &config.server.data_dir,
    )?;
    let field = args.field;
    let mut out = String::new();
    if args.values.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading values from standard input")?;
            out.push_str(pseudonymizer.pseudonymize(field, &line).as_str());
            out.push('\n');
        }
    } else {
        for value in &args.values {
            out.push_str(pseudonymizer.pseudonymize(field, value).as_str());
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(0)
}
