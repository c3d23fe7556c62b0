//! The on-disk cache of compiled plugins.
//!
//! Compiling a component with Cranelift takes from tens of milliseconds to seconds; loading
//! a precompiled one takes about a millisecond. Entries are keyed by the SHA-256 of the
//! `.wasm` *and* a hash of every engine setting that affects compiled code (wasmtime
//! version, target, fuel metering…), so a setting change or upgrade can never load stale
//! machine code: it just misses and recompiles.
//!
//! The cache directory is trusted like the rest of the data directory: loading a cached
//! file runs its machine code. Entries are written to a temporary file and renamed, so a
//! crash never leaves a half-written entry under a real name.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Whether a load hit the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded precompiled machine code.
    Hit,
    /// Compiled now (and stored, if the directory is writable).
    Miss,
}

/// The compiled-plugin cache.
pub struct CompiledCache {
    dir: PathBuf,
    engine_tag: String,
}

/// Feeds `Hash` output into SHA-256, giving a hash that is stable across Rust releases
/// (unlike `DefaultHasher`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl CompiledCache {
    /// A cache in `dir` for code compiled by `engine`.
    pub fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_tag = hex::encode(&hasher.0.finalize()[..8]);
        CompiledCache { dir, engine_tag }
    }

    fn entry_path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_tag))
    }

    /// The component for `wasm` (whose SHA-256 hex is `digest`), from the cache or
    /// compiled now.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(digest);
        if path.is_file() {
            // SAFETY: the file was written by `store` below from `Component::serialize` of
            // this engine configuration (the name carries the engine hash); wasmtime also
            // checks its header and refuses incompatible files.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(err) => {
                    tracing::warn!(path = %path.display(), error = %err, "ignoring unusable compiled-plugin cache entry");
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = self.store(&path, &component) {
            tracing::warn!(dir = %self.dir.display(), error = %err, "could not write the compiled-plugin cache; the next start will compile again");
        }
        Ok((component, CacheOutcome::Miss))
    }

    fn store(&self, path: &Path, component: &Component) -> anyhow::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        std::fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        temp.as_file().sync_all()?;
        temp.persist(path)?;
        Ok(())
    }
}
