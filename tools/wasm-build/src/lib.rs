//! Build plugin crates for `wasm32-wasip2` from a build script, once per change.
//!
//! Tests that load real components need them built first, and building them per test is
//! slow. A crate's `build.rs` calls [`build_plugins`] instead: one nested
//! `cargo build --release --target wasm32-wasip2` for all the plugins, whose `.wasm`
//! files the crate then finds through an environment variable it exports itself.
//!
//! ```no_run
//! // build.rs
//! use std::path::Path;
//!
//! fn main() {
//!     let manifest = Path::new("plugins/Cargo.toml");
//!     let target_dir = Path::new("../target/wasm");
//!     probity_wasm_build::rerun_if_changed(["../sdk", "../wit"]);
//!     match probity_wasm_build::build_plugins(manifest, &["good"], target_dir) {
//!         Ok(built) => {
//!             for (package, wasm) in built {
//!                 println!("cargo:warning=built {package} at {}", wasm.display());
//!             }
//!         }
//!         Err(err) => panic!("{err}"),
//!     }
//! }
//! ```
//!
//! Why it is careful about its environment: a build script inherits the outer build's
//! variables. Flags meant for the host (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`), wrappers
//! (`RUSTC_WRAPPER`, and `RUSTC_WORKSPACE_WRAPPER`, which `cargo clippy` sets), and the
//! outer package's `CARGO_*` variables would leak into the nested build and break or
//! silently change it; they are removed. `CARGO_HOME`, `RUSTUP_TOOLCHAIN` (same toolchain)
//! and `CARGO_MAKEFLAGS` (share the outer build's job slots) are kept. The nested build
//! uses its own target directory: pointing it at the outer one would wait forever on the
//! lock the outer build holds.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every Probity plugin is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Why the plugins could not be built.
#[derive(Debug)]
pub enum Error {
    /// The nested cargo could not be started.
    Spawn {
        /// The program that was run.
        cargo: PathBuf,
        /// Why it did not start.
        source: io::Error,
    },
    /// The nested build failed.
    BuildFailed {
        /// The command line, for reproducing it.
        command: String,
        /// The nested cargo's error output.
        stderr: String,
    },
    /// The `wasm32-wasip2` standard library is not installed and could not be added.
    TargetMissing {
        /// What was tried, and why it did not work.
        detail: String,
    },
    /// The build succeeded but a package's `.wasm` is not where cargo puts it.
    MissingOutput {
        /// The package.
        package: String,
        /// Where its component was expected.
        path: PathBuf,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spawn { cargo, source } => write!(
                f,
                "could not run `{}` to build the wasm plugins: {source}",
                cargo.display()
            ),
            Error::BuildFailed { command, stderr } => write!(
                f,
                "building the wasm plugins failed (is the `{TARGET}` target installed? \
                 `rustup target add {TARGET}`)\ncommand: {command}\n{stderr}"
            ),
            Error::TargetMissing { detail } => write!(
                f,
                "the `{TARGET}` target is not installed for this toolchain, and adding it \
                 failed ({detail}).\nRun this once, then build again:\n\n    rustup target add {TARGET}\n"
            ),
            Error::MissingOutput { package, path } => write!(
                f,
                "the build of `{package}` produced no {}: is it a `cdylib` crate?",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Variables kept although they start with `CARGO_`: where cargo lives, its job server,
/// and how it reaches registries.
const KEPT_CARGO_VARS: &[&str] = &["CARGO_HOME", "CARGO_MAKEFLAGS"];
const KEPT_CARGO_PREFIXES: &[&str] = &[
    "CARGO_NET_",
    "CARGO_HTTP_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
];

/// Variables a build script sees that must not reach the nested build.
const REMOVED_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "OPT_LEVEL",
    "PROFILE",
    "DEBUG",
    "NUM_JOBS",
];

/// Whether the variable `name` is dropped from the nested build's environment.
fn is_leaky(name: &str) -> bool {
    if REMOVED_VARS.contains(&name) || name.starts_with("__CARGO") {
        return true;
    }
    name.starts_with("CARGO_")
        && !KEPT_CARGO_VARS.contains(&name)
        && !KEPT_CARGO_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// The file cargo writes for a `cdylib` package: dashes in the package name become
/// underscores (`infinite-loop` → `infinite_loop.wasm`).
pub fn wasm_file_name(package: &str) -> String {
    format!("{}.wasm", package.replace('-', "_"))
}

/// Build `packages` of the workspace at `manifest_path` for `wasm32-wasip2` in release
/// mode, with one nested cargo run in `target_dir`, and return each package's component:
/// `(package, <target_dir>/wasm32-wasip2/release/<package with _>.wasm)`.
///
/// `target_dir` must not be the outer build's target directory (the nested cargo would
/// wait for the outer one's lock): use a directory of its own such as
/// `<workspace>/target/wasm`. The nested cargo is `$CARGO` (the one running the build
/// script) and runs in the plugins' workspace directory with a cleaned environment (see
/// the crate docs). Also prints `cargo:rerun-if-changed` for that workspace's files, so
/// the calling build script runs again when a plugin changes; add other sources the
/// plugins depend on with [`rerun_if_changed`].
pub fn build_plugins(
    manifest_path: &Path,
    packages: &[&str],
    target_dir: &Path,
) -> Result<Vec<(String, PathBuf)>, Error> {
    let workspace_dir = manifest_path.parent().unwrap_or(Path::new("."));
    rerun_if_workspace_changed(workspace_dir, target_dir);
    ensure_target(target_dir)?;

    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let mut command = Command::new(&cargo);
    command
        .arg("build")
        .arg("--release")
        .args(["--target", TARGET])
        .arg("--manifest-path")
        .arg(manifest_path)
        .arg("--target-dir")
        .arg(target_dir);
    for package in packages {
        command.args(["--package", package]);
    }
    if !workspace_dir.as_os_str().is_empty() {
        // So the plugins' own `.cargo/config.toml`, if any, applies.
        command.current_dir(workspace_dir);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_none_or(is_leaky) {
            command.env_remove(&name);
        }
    }

    let output = command.output().map_err(|source| Error::Spawn {
        cargo: cargo.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::BuildFailed {
            command: describe(&command),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }

    let out_dir = target_dir.join(TARGET).join("release");
    packages
        .iter()
        .map(|package| {
            let path = out_dir.join(wasm_file_name(package));
            if path.is_file() {
                Ok((package.to_string(), path))
            } else {
                Err(Error::MissingOutput {
                    package: package.to_string(),
                    path,
                })
            }
        })
        .collect()
}

/// Make sure the toolchain that runs this build has the `wasm32-wasip2` standard library,
/// adding it with `rustup target add` when it is missing.
///
/// Why: `rust-toolchain.toml` names the target, but rustup installs a toolchain's targets
/// only when it installs the toolchain. A machine that already had the pinned toolchain
/// without the target would otherwise build for minutes and then fail with "can't find
/// crate for `std`". Two build scripts (the host's and the tests') may get here at once,
/// so the check and the `rustup` call run under a lock file in `target_dir`. Prints one
/// `cargo:warning` line when it adds the target.
pub fn ensure_target(target_dir: &Path) -> Result<(), Error> {
    if target_installed()? {
        return Ok(());
    }
    std::fs::create_dir_all(target_dir).map_err(|err| Error::TargetMissing {
        detail: format!("cannot create {}: {err}", target_dir.display()),
    })?;
    let lock_path = target_dir.join(".rustup-target-add.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|err| Error::TargetMissing {
        detail: format!("cannot create {}: {err}", lock_path.display()),
    })?;
    lock.lock().map_err(|err| Error::TargetMissing {
        detail: format!("cannot lock {}: {err}", lock_path.display()),
    })?;
    // Another build script may have added it while this one waited for the lock.
    if target_installed()? {
        return Ok(());
    }
    let mut command = Command::new("rustup");
    command.args(["target", "add", TARGET]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        command.arg("--toolchain").arg(toolchain);
    }
    let output = command.output().map_err(|err| Error::TargetMissing {
        detail: format!("`rustup` could not be run: {err}"),
    })?;
    if !output.status.success() {
        return Err(Error::TargetMissing {
            detail: format!(
                "`{}` failed: {}",
                describe(&command),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    println!(
        "cargo:warning=the {TARGET} target was missing; added it with `rustup target add {TARGET}`"
    );
    if target_installed()? {
        Ok(())
    } else {
        Err(Error::TargetMissing {
            detail: format!(
                "`{}` succeeded but rustc still has no {TARGET} standard library",
                describe(&command)
            ),
        })
    }
}

/// Whether the rustc of this build has the target's standard library: its target libdir
/// holds a `libstd-*.rlib`.
fn target_installed() -> Result<bool, Error> {
    let rustc = std::env::var_os("RUSTC").map_or_else(|| PathBuf::from("rustc"), PathBuf::from);
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|err| Error::TargetMissing {
            detail: format!(
                "`{} --print target-libdir` could not be run: {err}",
                rustc.display()
            ),
        })?;
    if !output.status.success() {
        // An old rustc that does not know the target at all.
        return Ok(false);
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let Ok(entries) = std::fs::read_dir(&libdir) else {
        return Ok(false);
    };
    Ok(entries.filter_map(Result::ok).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with("libstd-") && name.ends_with(".rlib")
    }))
}

/// Print `cargo:rerun-if-changed` for each path (a directory counts with everything in
/// it), e.g. the SDK and WIT directories the plugins are built from.
pub fn rerun_if_changed<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) {
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.as_ref().display());
    }
}

/// Watch every top-level entry of the plugins' workspace except build output and hidden
/// files: watching the directory itself would see the nested build's own writes.
fn rerun_if_workspace_changed(workspace_dir: &Path, target_dir: &Path) {
    let dir = if workspace_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        workspace_dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        rerun_if_changed([dir]);
        return;
    };
    let mut watched: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or(OsStr::new(""));
            let hidden = name.to_string_lossy().starts_with('.');
            !hidden && name != "target" && !target_dir.starts_with(path)
        })
        .collect();
    watched.sort();
    // `.cargo/config.toml` changes how the plugins build. Watched only when it exists:
    // cargo takes a missing watched file for a changed one and would rerun the build
    // script, and rebuild everything that depends on it, on every build.
    let config = dir.join(".cargo").join("config.toml");
    if config.is_file() {
        watched.push(config);
    }
    rerun_if_changed(watched);
}

fn describe(command: &Command) -> String {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// The plugin packages of a plugins workspace directory: every subdirectory holding a
/// `Cargo.toml`, by directory name (which must be the package name), sorted. A missing
/// directory has none.
pub fn plugin_packages(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_variables_flags_and_wrappers_are_dropped() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_CFG_TARGET_OS",
            "CARGO_FEATURE_STD",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTFLAGS",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "OUT_DIR",
            "__CARGO_DEFAULT_LIB_METADATA",
        ] {
            assert!(is_leaky(name), "{name} should be removed");
        }
    }

    #[test]
    fn the_toolchain_job_server_and_registry_access_are_kept() {
        for name in [
            "CARGO_HOME",
            "CARGO_MAKEFLAGS",
            "RUSTUP_TOOLCHAIN",
            "CARGO_NET_OFFLINE",
            "CARGO_HTTP_TIMEOUT",
            "CARGO",
            "PATH",
            "HOME",
        ] {
            assert!(!is_leaky(name), "{name} should be kept");
        }
    }

    #[test]
    fn wasm_files_are_named_like_cargo_names_them() {
        assert_eq!(wasm_file_name("infinite-loop"), "infinite_loop.wasm");
        assert_eq!(wasm_file_name("good"), "good.wasm");
    }
}
