//! `probity plugin inspect PLUGIN.wasm`: what a component is and whether this host loads it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::config::{PluginConfig, RuntimeConfig};
use crate::runtime::{ComponentInfo, PluginEngine, inspect_component};

/// Options of `probity plugin inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The plugin component.
    pub plugin: PathBuf,
    /// Settings (JSON) to try loading it with.
    #[arg(long, default_value = "{}")]
    pub settings: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where compiled plugins are cached (default: `$XDG_CACHE_HOME/probity/compiled`).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Run `probity plugin inspect`; exit code 0 when this host can load the plugin, 1 when
/// it cannot.
pub fn run(args: &InspectArgs) -> Result<i32> {
    let wasm = std::fs::read(&args.plugin)
        .with_context(|| format!("reading {}", args.plugin.display()))?;
    let settings: Value = serde_json::from_str(&args.settings).context("--settings is not JSON")?;
    let cache_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(crate::cli::check::default_cache_dir);
    let engine = PluginEngine::new(&RuntimeConfig::default(), cache_dir)?;
    let config = PluginConfig {
        settings,
        ..PluginConfig::from_path(&args.plugin)
    };
    let info = match inspect_component(&engine, &config, &wasm) {
        Ok(info) => info,
        Err(err) => {
            println!("{}: not loadable: {err}", args.plugin.display());
            return Ok(1);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&info))?);
    } else {
        print_text(&args.plugin, &info);
    }
    Ok(if info.load.is_ok() { 0 } else { 1 })
}

fn to_json(info: &ComponentInfo) -> Value {
    json!({
        "size": info.size,
        "sha256": info.digest,
        "world": "probity:plugin",
        "world_versions": info.world_versions,
        "host_accepts": info.accepted,
        "imports": info.imports,
        "exports": info.exports,
        "manifest": info.load.as_ref().ok().map(|m| json!({
            "name": m.name,
            "version": m.version,
            "description": m.description,
            "subscribes": m.subscribes.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "keyed_by": m.keyed_by.as_str(),
            "world_version": m.world_version,
        })),
        "loadable": info.load.is_ok(),
        "error": info.load.as_ref().err().map(ToString::to_string),
    })
}

fn print_text(path: &std::path::Path, info: &ComponentInfo) {
    println!("file:      {} ({} bytes)", path.display(), info.size);
    println!("sha256:    {}", info.digest);
    println!(
        "world:     probity:plugin@{} (this host accepts {})",
        info.world_versions.join(", "),
        info.accepted
    );
    if let Ok(m) = &info.load {
        println!("manifest:  {} {} — {}", m.name, m.version, m.description);
        let types: Vec<&str> = m.subscribes.iter().map(|t| t.as_str()).collect();
        println!("subscribes: {}", types.join(", "));
        println!(
            "keyed by:   {} (world {})",
            m.keyed_by.as_str(),
            m.world_version
        );
    }
    println!("imports:");
    for import in &info.imports {
        println!("  {import}");
    }
    println!("exports:");
    for export in &info.exports {
        println!("  {export}");
    }
    match &info.load {
        Ok(_) => println!("loadable:  yes"),
        Err(err) => println!("loadable:  no: {err}"),
    }
}
