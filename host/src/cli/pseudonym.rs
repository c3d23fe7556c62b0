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
    /// Which personal field the values are: each has its own normalisation and hash
    /// domain.
    #[arg(long, value_enum, default_value_t = FieldArg::BuyerId)]
    pub field: FieldArg,
    /// The raw values; none: read them from standard input, one per line.
    pub values: Vec<String>,
}

/// A personal field on the command line, named as the contract names it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum FieldArg {
    /// `buyer_id`.
    BuyerId,
    /// `buyer.device_id`.
    DeviceId,
    /// `buyer.ip`.
    Ip,
    /// `buyer.shipping_address`.
    ShippingAddress,
    /// `buyer.phone`.
    Phone,
    /// `payment_fingerprint`.
    PaymentFingerprint,
}

impl From<FieldArg> for PersonalField {
    fn from(field: FieldArg) -> Self {
        match field {
            FieldArg::BuyerId => PersonalField::BuyerId,
            FieldArg::DeviceId => PersonalField::DeviceId,
            FieldArg::Ip => PersonalField::Ip,
            FieldArg::ShippingAddress => PersonalField::ShippingAddress,
            FieldArg::Phone => PersonalField::Phone,
            FieldArg::PaymentFingerprint => PersonalField::PaymentFingerprint,
        }
    }
}

/// Run `probity pseudonym`.
pub fn run(args: &PseudonymArgs) -> Result<i32> {
    let config = Config::load(args.config.as_deref(), &bundled::names())?;
    let pseudonymizer = existing_pseudonymizer(
        config.privacy.pseudonym_key.as_deref(),
        &config.server.data_dir,
    )?;
    let field = PersonalField::from(args.field);
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
