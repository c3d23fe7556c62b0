//! Signals and file watching: SIGTERM / Ctrl-C stop, SIGHUP and file changes reload.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::service::reload::{Reloader, Trigger};

/// How long the file must be quiet before a change reloads (editors write in steps).
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_requested() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Reload on every SIGHUP, forever.
pub async fn reload_on_sighup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(signal) => signal,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGHUP");
                return;
            }
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            reload_in_background(reloader.clone(), Trigger::Signal).await;
        }
    }
    #[cfg(not(unix))]
    let _ = reloader;
}

async fn reload_in_background(reloader: Arc<Reloader>, trigger: Trigger) {
    let _ = tokio::task::spawn_blocking(move || {
        // Failures are logged and audited by the reloader.
        let _ = reloader.reload(trigger, None);
    })
    .await;
}

/// What identifies a version of a file without reading it (a read is itself an event).
fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?, meta.ino()))
}

/// Watch the configuration file (through its directory, since editors often replace the
/// file rather than write it) and reload when it changes. Keep the returned value alive.
pub fn watch_file(
    path: &Path,
    reloader: Arc<Reloader>,
) -> Result<Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>> {
    let file =
        std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))?;
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .context("the configuration file has no directory")?;
    let handle = tokio::runtime::Handle::current();
    let watched = file.clone();
    // The watcher also reports reads of the file (notify 8 has access events), and every
    // reload reads it: only a new size, modification time or inode counts as a change,
    // or each reload would trigger the next.
    let mut last = stamp(&file);
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        if !events.iter().any(|e| e.path == watched) {
            return;
        }
        let now = stamp(&watched);
        if now == last {
            return;
        }
        last = now;
        tracing::info!(file = %watched.display(), "configuration file changed: reloading");
        handle.spawn(reload_in_background(reloader.clone(), Trigger::File));
    })
    .context("starting the file watcher")?;
    debouncer
        .watcher()
        .watch(&dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("watching {}", dir.display()))?;
    Ok(debouncer)
}
