//! The pseudonym key: where it comes from, and a guard against changing it by accident.
//!
//! The key comes from `privacy.pseudonym_key` or `PROBITY_PSEUDONYM_KEY`. Without one, the
//! server generates 32 random bytes into `<data_dir>/pseudonym.key` (mode 0600) on first
//! start and reuses them after. A fingerprint of the key (the pseudonym of a fixed
//! string, which reveals nothing about the key) is kept in the store: starting with a
//! different key would silently stop pseudonyms from matching earlier ones — brush rings
//! would vanish — so it is refused with an explanation instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::privacy::{PersonalField, Pseudonymizer};
use crate::store::Store;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "pseudonym.key";

const FINGERPRINT: &str = "pseudonym_key_fingerprint";

/// Why the key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("pseudonym key file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key is unusable.
    #[error("{0}")]
    Invalid(String),
    /// No key is configured and the data directory has no key file yet.
    #[error(
        "no pseudonym key: `privacy.pseudonym_key` (PROBITY_PSEUDONYM_KEY) is not set and {path} does not exist yet (`probity serve` creates it at its first start)"
    )]
    NoKey {
        /// The key file looked for.
        path: PathBuf,
    },
    /// The key differs from the one the data directory was written with.
    #[error(
        "the pseudonym key differs from the one the data in {data_dir} was written with, so new pseudonyms would not match stored ones. Restore the previous key (privacy.pseudonym_key, PROBITY_PSEUDONYM_KEY or {data_dir}/{KEY_FILE}), or use a new data directory. Nothing was changed."
    )]
    Mismatch {
        /// The data directory.
        data_dir: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Where the key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The configuration or environment.
    Configured,
    /// The key file, existing.
    File,
    /// The key file, generated now.
    Generated,
}

/// The pseudonymizer for this deployment, checked against the store.
pub fn pseudonymizer(
    configured: Option<&str>,
    data_dir: &Path,
    store: &dyn Store,
) -> Result<(Pseudonymizer, KeySource), KeyError> {
    let (key, source) = match configured {
        Some(key) => (key.as_bytes().to_vec(), KeySource::Configured),
        None => key_file(data_dir)?,
    };
    let pseudonymizer =
        Pseudonymizer::new(&key).map_err(|err| KeyError::Invalid(err.to_string()))?;
    let fingerprint = pseudonymizer
        .pseudonymize(PersonalField::BuyerId, "probity key fingerprint")
        .to_string();
    match store.meta(FINGERPRINT)? {
        None => store.set_meta(FINGERPRINT, fingerprint.as_bytes())?,
        Some(stored) if stored == fingerprint.as_bytes() => {}
        Some(_) => {
            return Err(KeyError::Mismatch {
                data_dir: data_dir.display().to_string(),
            });
        }
    }
    Ok((pseudonymizer, source))
}

/// The deployment's pseudonymizer, read without changing anything: the configured key,
/// else the data directory's key file (never generated here). For `probity pseudonym`,
/// which may run beside a running server.
pub fn existing_pseudonymizer(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<Pseudonymizer, KeyError> {
    let key = match configured {
        Some(key) => key.as_bytes().to_vec(),
        None => read_key_file(data_dir)?.ok_or_else(|| KeyError::NoKey {
            path: data_dir.join(KEY_FILE),
        })?,
    };
    Pseudonymizer::new(&key).map_err(|err| KeyError::Invalid(err.to_string()))
}

/// The fingerprint of the pseudonym key this store was written with (the pseudonym of a
/// fixed text: it shows whether two keys are the same without revealing either).
pub fn fingerprint(store: &dyn Store) -> Option<String> {
    store
        .meta(FINGERPRINT)
        .ok()
        .flatten()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// The data directory's key file, if there is one.
fn read_key_file(data_dir: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().as_bytes().to_vec())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::File { path, source }),
    }
}

/// The data directory's key file, generated when there is none.
fn key_file(data_dir: &Path) -> Result<(Vec<u8>, KeySource), KeyError> {
    if let Some(key) = read_key_file(data_dir)? {
        return Ok((key, KeySource::File));
    }
    let path = data_dir.join(KEY_FILE);
    let fail = |source| KeyError::File {
        path: path.clone(),
        source,
    };
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| KeyError::Invalid(err.to_string()))?;
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(fail)?;
    file.write_all(key.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok((key.into_bytes(), KeySource::Generated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[test]
    fn a_generated_key_is_reused_and_a_different_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(&dir.path().join("store"), 1 << 20).expect("store");
        let (first, source) = pseudonymizer(None, dir.path(), &store).expect("generated");
        assert_eq!(source, KeySource::Generated);
        let (again, source) = pseudonymizer(None, dir.path(), &store).expect("reused");
        assert_eq!(source, KeySource::File);
        assert_eq!(
            first.pseudonymize(PersonalField::Phone, "123"),
            again.pseudonymize(PersonalField::Phone, "123")
        );
        let other = pseudonymizer(Some("another key of enough length"), dir.path(), &store);
        assert!(matches!(other, Err(KeyError::Mismatch { .. })), "{other:?}");
        // `probity pseudonym` reads the same key file and computes the same pseudonyms.
        let read = existing_pseudonymizer(None, dir.path()).expect("the key file");
        assert_eq!(
            read.pseudonymize(PersonalField::BuyerId, "B-1"),
            first.pseudonymize(PersonalField::BuyerId, "B-1")
        );
        let empty = tempfile::tempdir().expect("tempdir");
        let none = existing_pseudonymizer(None, empty.path());
        assert!(matches!(none, Err(KeyError::NoKey { .. })), "{none:?}");
        assert!(
            !empty.path().join(KEY_FILE).exists(),
            "never generated here"
        );
    }
}
