//! Storage faults: a data directory that fills up while the server runs, and one that is
//! read-only when it starts. What this proves:
//! - a full disk is answered `507 storage-full` naming the directory and what to do, at
//!   once for every later request; `/readyz` turns 503 with the same reason; the server
//!   stays up and says it once in its log;
//! - after freeing space and restarting, the store opens cleanly with every event that
//!   was acknowledged, and takes new events;
//! - a read-only data directory stops the start with exit status 2 and a message naming
//!   it, and changes nothing: made writable again, the store opens with all its data.
//!
//! Both need real file systems with these properties, made with `mount` (a small tmpfs,
//! a read-only bind mount), which needs root. Without it the tests say so and pass
//! without checking anything; CI runs as root.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use probity_e2e::server::{Client, ConfigText, Server, listing};
use serde_json::Value;

/// A mount made by a test, undone when dropped.
struct Mount {
    path: PathBuf,
}

impl Mount {
    /// `mount ARGS… PATH` (as root: see [`can_mount`]).
    #[track_caller]
    fn new(args: &[&str], path: &Path) -> Mount {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(args)
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount {args:?} {}", path.display());
        Mount {
            path: path.to_path_buf(),
        }
    }

    /// `mount -o OPTIONS PATH` on the existing mount.
    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", options])
            .arg(&self.path)
            .status()
            .expect("mount");
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Whether this process may mount file systems.
fn can_mount() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("storage faults: skipped, mounting needs root (CI runs as root)");
    }
    root
}

/// The usual configuration with its data directory at `data`.
fn config_with_data_at(data: &Path) -> String {
    ConfigText::new()
        .render()
        .replace("{data}", &data.display().to_string())
}

/// A listing with a long title, so the disk fills in a few batches.
fn bulky(n: usize) -> Value {
    let title = format!("{} no. {n}", "a perfectly fine thing ".repeat(20));
    listing(
        &format!("f{n}"),
        "2026-11-01T10:00:00Z",
        &format!("L-{n}"),
        "S-1",
        &title,
    )
}

/// Send batches of 50 until one is refused; returns the events acknowledged and the
/// refusal.
fn fill(c: &Client) -> (Vec<usize>, Value) {
    let mut acked = Vec::new();
    for batch in 0..10_000 {
        let items: Vec<usize> = (batch * 50..(batch + 1) * 50).collect();
        let body: Vec<String> = items.iter().map(|&n| bulky(n).to_string()).collect();
        let reply = c.send_ndjson(&body.join("\n"));
        if reply.status != 200 {
            return (acked, reply.problem(507, "storage-full").clone());
        }
        acked.extend(items);
    }
    panic!("the disk never filled up");
}

#[test]
fn a_full_disk_is_a_clear_507_and_the_store_reopens_with_everything_acknowledged() {
    if !can_mount() {
        return;
    }
    let base = tempfile::tempdir().expect("tempdir");
    let data = base.path().join("data");
    let disk = Mount::new(&["-t", "tmpfs", "-o", "size=4m", "tmpfs"], &data);
    let mut server = Server::start(&config_with_data_at(&data));
    let c = server.client();
    let (acked, problem) = fill(&c);
    assert!(
        !acked.is_empty(),
        "the disk filled before anything was stored"
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    for needle in [
        data.to_str().unwrap_or_default(),
        "is full",
        "No space left",
        "restart",
        // The refused events may or may not have reached the disk: the answer says so.
        "may or may not be",
    ] {
        assert!(detail.contains(needle), "`{needle}` missing from: {detail}");
    }
    // Every later write is refused at once, the same way; the server stays up.
    c.send(&bulky(1_000_000)).problem(507, "storage-full");
    let ready = c.get("/readyz");
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert!(ready.text.contains("is full"), "{}", ready.text);
    assert_eq!(c.get("/healthz").status, 200);
    let log = server.stderr_text();
    assert_eq!(
        log.matches("the store failed").count(),
        1,
        "said once in the log:\n{log}"
    );

    server.kill_9();
    disk.remount("remount,size=64m");
    server.restart();
    let c = server.client();
    for &n in &acked {
        let reply = c.verdict("listing", &format!("L-{n}"));
        assert_eq!(reply.status, 200, "acknowledged f{n} lost: {}", reply.text);
    }
    assert_eq!(c.send(&bulky(2_000_000)).ok()["status"], "accepted");
    eprintln!(
        "storage faults: 4 MiB disk full after {} acknowledged events, all there after a restart",
        acked.len()
    );
}

#[test]
fn a_read_only_data_directory_stops_the_start_and_is_left_intact() {
    if !can_mount() {
        return;
    }
    let base = tempfile::tempdir().expect("tempdir");
    let data = base.path().join("data");
    let config = config_with_data_at(&data);
    let mut server = Server::start(&config);
    let c = server.client();
    for n in 0..20 {
        c.send(&bulky(n)).ok();
    }
    server.stop();

    let bind = Mount::new(&["--bind", data.to_str().unwrap_or_default()], &data);
    bind.remount("remount,bind,ro");
    let (status, stderr) = Server::builder(&config).run_to_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(data.to_str().unwrap_or_default()) && stderr.contains("Read-only"),
        "the error names the directory and the cause: {stderr}"
    );
    drop(bind);

    server.restart();
    let c = server.client();
    for n in 0..20 {
        assert_eq!(c.verdict("listing", &format!("L-{n}")).status, 200, "L-{n}");
    }
}
