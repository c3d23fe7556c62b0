//! The server under test: `target/release/probity serve` in a temporary directory, and
//! what start-up and memory cost.
//!
//! Every run starts the real binary the way an operator would — a configuration file
//! enabling the bundled plugins with their defaults, exactly as the embedded default
//! does — so the figures include everything a deployment pays: Cranelift compiling the
//! plugins on a cold start, the compiled-code cache on a warm one, sled opening its
//! store, the HTTP stack. The configuration differs from the embedded default only where
//! a benchmark must: a free loopback port, a data directory and a compiled-plugin cache
//! directory in the temporary directory, a fixed pseudonym key (so no key file is
//! generated), and `follow_wall_clock = false` (the stream is a back-fill of events dated
//! in the past, whose clock only the events may move). The server logs with its default filter; its stderr is drained by a
//! thread and kept (the last 64 KiB) for error messages.
//!
//! Start-up is timed from spawning the process to the first `200` from `GET /readyz`
//! (plugins loaded, store open). Peak memory is the kernel's high-water mark of the
//! resident set (`VmHWM` in `/proc/PID/status`), which covers the whole life of the
//! process, so it is read just before the server is stopped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use crate::http;

/// How long a start may take (a cold start compiles every plugin with Cranelift).
const START_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the server may take to drain and exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// How much of the server's stderr is kept for error messages.
const STDERR_KEPT: usize = 64 * 1024;

/// Where servers run: the binary, a root directory holding each run's directory, and
/// the compiled-plugin cache they share.
pub struct ServerSetup {
    binary: PathBuf,
    root: PathBuf,
    cache_dir: PathBuf,
    /// Extra `key = value` lines of the `[server]` table.
    settings: Vec<String>,
    /// TOML appended to the configuration (a `[cluster]` table).
    extra: String,
}

impl ServerSetup {
    /// Servers of `binary` under `root`, sharing `root/compiled` as their cache (created
    /// empty if missing, so the first start is cold), with `settings` (`key=value`) added
    /// to their `[server]` table.
    pub fn new(binary: PathBuf, root: &Path, settings: &[String]) -> anyhow::Result<ServerSetup> {
        let settings = settings
            .iter()
            .map(|setting| match setting.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    Ok(format!("{} = {}\n", key.trim(), value.trim()))
                }
                _ => bail!("--server-setting {setting:?} is not KEY=VALUE"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let cache_dir = root.join("compiled");
        std::fs::create_dir_all(&cache_dir)
            .with_context(|| format!("creating {}", cache_dir.display()))?;
        Ok(ServerSetup {
            binary,
            root: root.to_path_buf(),
            cache_dir,
            settings,
            extra: String::new(),
        })
    }

    /// The same setup with `text` appended to every configuration (after what it
    /// appends already).
    pub fn with_extra(&self, text: &str) -> ServerSetup {
        ServerSetup {
            binary: self.binary.clone(),
            root: self.root.clone(),
            cache_dir: self.cache_dir.clone(),
            settings: self.settings.clone(),
            extra: format!("{}{text}", self.extra),
        }
    }

    /// Whether the compiled-plugin cache holds nothing yet (the next start is cold).
    pub fn cache_is_empty(&self) -> bool {
        std::fs::read_dir(&self.cache_dir).is_ok_and(|mut entries| entries.next().is_none())
    }

    /// The configuration of a run whose data lives in `data_dir`.
    fn config_text(&self, data_dir: &Path) -> String {
        let mut text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = '{}'\n{}\n\
             [clock]\nfollow_wall_clock = false\n\n\
             [runtime]\nfuel_metering = true\ninstances_per_plugin = 2\ncache_dir = '{}'\n\n\
             [privacy]\npseudonym_key = \"probity-bench-pseudonym-key-0001\"\n",
            data_dir.display(),
            self.settings.concat(),
            self.cache_dir.display()
        );
        // As the embedded default: every bundled plugin, with its defaults.
        for name in probity::bundled::names() {
            text.push_str(&format!("\n[plugins.{name}]\nbundled = \"{name}\"\n"));
        }
        text.push_str(&self.extra);
        text
    }

    /// Start a server over the run directory `name` (reused if it exists: a restart)
    /// and wait until `/readyz` answers `200`; also how long that took.
    pub fn start(&self, name: &str) -> anyhow::Result<(Server, Duration)> {
        let dir = self.root.join(name);
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = dir.join("probity.toml");
        std::fs::write(&config, self.config_text(&data_dir))
            .with_context(|| format!("writing {}", config.display()))?;
        let started = Instant::now();
        let mut child = Command::new(&self.binary)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let stderr = child.stderr.take().context("the server's stderr pipe")?;
        let kept = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let reader = {
            let kept = kept.clone();
            std::thread::spawn(move || drain_stderr(stderr, &kept, &tx))
        };
        let mut server = Server {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            stderr: kept,
            reader: Some(reader),
        };
        server.addr = server.wait_listening(&rx, started)?;
        loop {
            if http::get_status(server.addr, "/readyz").is_ok_and(|status| status == 200) {
                return Ok((server, started.elapsed()));
            }
            server.check_alive(started)?;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Copy the server's stderr into `kept` (its tail) and send the address of the
/// `probity: listening on http://ADDR` line.
fn drain_stderr(
    stderr: std::process::ChildStderr,
    kept: &Mutex<String>,
    tx: &mpsc::Sender<SocketAddr>,
) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line);
        if let Some(addr) = listening_address(&text) {
            let _ = tx.send(addr);
        }
        if let Ok(mut kept) = kept.lock() {
            kept.push_str(&text);
            if kept.len() > 2 * STDERR_KEPT {
                let mut cut = kept.len() - STDERR_KEPT;
                while !kept.is_char_boundary(cut) {
                    cut += 1;
                }
                kept.drain(..cut);
            }
        }
        line.clear();
    }
}

/// The address in a `probity: listening on http://ADDR` line, found as the end-to-end
/// tests find it.
fn listening_address(line: &str) -> Option<SocketAddr> {
    probity_e2e::server::listening_address(line)?
        .strip_prefix("http://")?
        .parse()
        .ok()
}

/// A running `probity serve`.
pub struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    data_dir: PathBuf,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The peak resident set so far (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        let pid = self
            .child
            .as_ref()
            .context("the server is not running")?
            .id();
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .with_context(|| format!("no VmHWM line in {path}"))?;
        Ok(kib * 1024)
    }

    /// Send SIGTERM, wait for a graceful exit and require exit code 0.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let child = self.child.as_mut().context("the server is not running")?;
        let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
        // SAFETY: kill(2) on the pid of our own, not yet reaped, child.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        ensure!(
            rc == 0,
            "kill({pid}, SIGTERM) failed: {}",
            std::io::Error::last_os_error()
        );
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                ensure!(
                    status.success(),
                    "the server exited with {status} after SIGTERM; its stderr ends:\n{}",
                    self.stderr_tail()
                );
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server did not exit within {STOP_TIMEOUT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kill it with SIGKILL (a crash) and reap it.
    pub fn kill_9(mut self) -> anyhow::Result<()> {
        let child = self.child.as_mut().context("the server is not running")?;
        child.kill().context("SIGKILL")?;
        child.wait().context("reaping the killed server")?;
        self.child = None;
        Ok(())
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let kept = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        let lines: Vec<&str> = kept.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn wait_listening(
        &mut self,
        rx: &mpsc::Receiver<SocketAddr>,
        started: Instant,
    ) -> anyhow::Result<SocketAddr> {
        loop {
            match rx.recv_timeout(Duration::from_millis(1)) {
                Ok(addr) => return Ok(addr),
                Err(mpsc::RecvTimeoutError::Timeout) => self.check_alive(started)?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.check_alive(started)?;
                    bail!("the server closed stderr without a `listening on` line");
                }
            }
        }
    }

    /// Fail if the server exited or the start takes too long.
    fn check_alive(&mut self, started: Instant) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            self.child = None;
            if let Some(reader) = self.reader.take() {
                let _ = reader.join();
            }
            bail!(
                "the server exited ({status}) while starting; stderr:\n{}",
                self.stderr_tail()
            );
        }
        ensure!(
            started.elapsed() < START_TIMEOUT,
            "the server was not ready within {START_TIMEOUT:?}; stderr:\n{}",
            self.stderr_tail()
        );
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only on an error path: `stop` takes the child.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Start-up figures: a cold start (empty compiled-plugin cache) and warm restarts.
pub struct StartupFigures {
    /// Spawn to ready with an empty cache, in ms.
    pub cold_ms: f64,
    /// Each warm restart (same cache, same data directory), in ms.
    pub warm_ms: Vec<f64>,
    /// The peak RSS of an idle server that just started, in bytes.
    pub idle_rss_bytes: u64,
}

impl StartupFigures {
    /// The median warm start, in ms.
    pub fn warm_median_ms(&self) -> f64 {
        let mut sorted = self.warm_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Start once cold (the cache must be empty) and `warm` times warm, each stopped again.
pub fn measure_startup(setup: &ServerSetup, warm: usize) -> anyhow::Result<StartupFigures> {
    ensure!(
        setup.cache_is_empty(),
        "a cold start needs an empty compiled-plugin cache"
    );
    let (server, cold) = setup.start("startup")?;
    server.stop()?;
    let mut warm_ms = Vec::new();
    let mut idle_rss_bytes = 0;
    for _ in 0..warm {
        let (server, took) = setup.start("startup")?;
        warm_ms.push(took.as_secs_f64() * 1e3);
        idle_rss_bytes = server.peak_rss_bytes()?;
        server.stop()?;
    }
    Ok(StartupFigures {
        cold_ms: cold.as_secs_f64() * 1e3,
        warm_ms,
        idle_rss_bytes,
    })
}

/// The total size of the files under `dir`, in bytes.
pub fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    // `files_under` skips what it cannot read; the directory itself must be readable.
    std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut total = 0;
    for file in probity_e2e::server::files_under(dir) {
        total += std::fs::metadata(&file)
            .with_context(|| format!("reading {}", file.display()))?
            .len();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_address() {
        let line = "probity: listening on http://127.0.0.1:41234\n";
        assert_eq!(
            listening_address(line),
            Some(SocketAddr::from(([127, 0, 0, 1], 41234)))
        );
        assert_eq!(listening_address("probity: starting"), None);
    }

    #[test]
    fn dir_size_adds_up_nested_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("x"), [0u8; 100]).expect("write");
        std::fs::write(dir.path().join("a/y"), [0u8; 23]).expect("write");
        assert_eq!(dir_size(dir.path()).expect("size"), 123);
    }
}
