//! `probity plugin new NAME`: a ready Rust plugin project.
//!
//! The project depends on the SDK of the Probity source tree this binary was built from
//! (or `--sdk PATH`), has a working example rule with unit tests, a fixture file for
//! `probity plugin test`, and a README with the commands. It is a workspace of its own.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Options of `probity plugin new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The plugin's name: 1-64 characters of a-z, 0-9, `-` and `_`, starting with a
    /// letter. Also the directory created, unless `--dir` says otherwise.
    pub name: String,
    /// Where to create the project (default: `./NAME`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The Probity SDK (`sdk/` of the Probity repository). Default: the one this binary
    /// was built from.
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    (
        "fixtures/basic.json",
        include_str!("template/basic.json.tmpl"),
    ),
    ("README.md", include_str!("template/README.md.tmpl")),
    (".gitignore", "/target\n"),
];

/// Run `probity plugin new`; returns the exit code.
pub fn run(args: &NewArgs) -> Result<i32> {
    let name = &args.name;
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && crate::config::validate_plugin_name(name).is_ok();
    if !valid {
        bail!(
            "`{name}` is not a plugin name: use 1-64 characters of a-z, 0-9, `-` and `_`, starting with a letter"
        );
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        bail!(
            "{} already exists; choose another name or --dir",
            dir.display()
        );
    }
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => built_from_sdk()?,
    };
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the SDK at {}", sdk.display()))?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the Probity SDK (no Cargo.toml); pass --sdk PATH",
            sdk.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let abs_dir = dir.canonicalize()?;
    for (file, template) in FILES {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{sdk}}", &toml_path(&sdk))
            .replace("{{dir}}", &toml_path(&abs_dir));
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created {} (plugin `{name}`, SDK {})",
        dir.display(),
        sdk.display()
    );
    println!("next:");
    println!("  cd {}", dir.display());
    println!("  cargo test");
    println!("  cargo build --release --target wasm32-wasip2");
    println!(
        "  probity plugin test target/wasm32-wasip2/release/{}.wasm fixtures/*.json",
        name.replace('-', "_")
    );
    Ok(0)
}

/// The SDK next to the host crate this binary was built from.
fn built_from_sdk() -> Result<PathBuf> {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    if sdk.join("Cargo.toml").is_file() {
        Ok(sdk)
    } else {
        bail!(
            "the Probity source tree this binary was built from is gone ({}); pass --sdk PATH to the SDK (`sdk/` of the Probity repository)",
            sdk.display()
        )
    }
}

/// A path for a TOML string in single quotes (backslashes are literal there).
fn toml_path(path: &Path) -> String {
    path.display().to_string()
}
