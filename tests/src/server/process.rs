//! The `probity serve` process: [`Server`] and its [`ServerBuilder`], starting, signalling,
//! restarting and stopping the binary over a temporary directory it owns, with all of its
//! stderr captured; where the binary and the shared compiled-plugin cache are; and
//! [`listening_address`], which finds the bound address in the server's stderr.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Client;
use crate::test_plugin;

/// How long a server may take to print its listening line (the first start of a test
/// binary may compile plugins).
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a server may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The `probity` binary built next to the running test binary
/// (`target/debug/deps/<test>` → `target/debug/probity`), or `$PROBITY_BIN`.
pub fn probity_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("PROBITY_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current test executable");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable under target/<profile>/deps");
    let binary = debug.join(format!("probity{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build -p probity` (or `cargo test --workspace`) first",
        binary.display()
    );
    binary
}

/// The compiled-plugin cache shared by every server the tests start.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("OUT_DIR")).join("server-compiled-plugins")
}

/// A running (or stopped) `probity serve` over a directory it owns.
pub struct Server {
    dir: tempfile::TempDir,
    config_text: String,
    wrapper: Vec<String>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    token: Option<String>,
    child: Option<Child>,
    reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    base: String,
}

/// How to start a [`Server`]: extra arguments and environment.
pub struct ServerBuilder {
    config: String,
    wrapper: Vec<String>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    token: Option<String>,
}

impl ServerBuilder {
    /// Run the server under `command` (e.g. `strace -f -o FILE --`): the process started
    /// is `command… probity serve …`, and [`Server::pid`] is that wrapper's.
    pub fn wrapped_in(mut self, command: &[&str]) -> Self {
        self.wrapper = command.iter().map(|part| part.to_string()).collect();
        self
    }

    /// Add a command-line argument after `serve --config FILE`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Set an environment variable for the server.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.to_string(), value.to_string()));
        self
    }

    /// Send this bearer token with every request of [`Server::client`]'s clients.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// Start and wait until it listens (and is ready).
    #[track_caller]
    pub fn start(self) -> Server {
        let mut server = self.prepare();
        server.spawn_and_wait();
        server
    }

    /// Start and wait for the process to exit on its own (it must, within
    /// `timeout`): its exit status and stderr.
    #[track_caller]
    pub fn run_to_exit(self, timeout: Duration) -> (ExitStatus, String) {
        let mut server = self.prepare();
        let (child, reader, _rx) = server.spawn();
        server.child = Some(child);
        server.reader = Some(reader);
        let status = server.wait_exit(timeout).unwrap_or_else(|| {
            panic!(
                "the server did not exit within {timeout:?}; stderr:\n{}",
                server.stderr_text()
            )
        });
        (status, server.stderr_text())
    }

    fn prepare(self) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("probity-server-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(shared_cache_dir()).expect("shared cache dir");
        let server = Server {
            dir,
            config_text: self.config,
            wrapper: self.wrapper,
            args: self.args,
            envs: self.envs,
            token: self.token,
            child: None,
            reader: None,
            stderr: Arc::new(Mutex::new(Vec::new())),
            base: String::new(),
        };
        server.write_config(&server.config_text);
        server
    }
}

/// Start a server with the usual configuration ([`ConfigText::new`](super::ConfigText::new))
/// and wait until it is ready.
#[track_caller]
pub fn start_usual() -> Server {
    Server::start(&super::ConfigText::new().render())
}

impl Server {
    /// Start a server with `config` (placeholders filled in) and wait until it is ready.
    #[track_caller]
    pub fn start(config: &str) -> Server {
        Server::builder(config).start()
    }

    /// A builder for a server with `config`.
    pub fn builder(config: &str) -> ServerBuilder {
        ServerBuilder {
            config: config.to_string(),
            wrapper: Vec::new(),
            args: Vec::new(),
            envs: Vec::new(),
            token: None,
        }
    }

    /// `text` with the placeholders filled in for this server.
    pub fn fill(&self, text: &str) -> String {
        let good = test_plugin("good");
        text.replace("{data}", &self.data_dir().display().to_string())
            .replace("{cache}", &shared_cache_dir().display().to_string())
            .replace("{good}", &good.display().to_string())
            .replace("{dir}", &self.dir().display().to_string())
    }

    /// Overwrite the configuration file with `text` (placeholders filled in). Later
    /// restarts use it too.
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), self.fill(text)).expect("write config");
    }

    /// Overwrite the configuration file and remember it for restarts.
    pub fn set_config(&mut self, text: &str) {
        self.write_config(text);
        self.config_text = text.to_string();
    }

    /// The directory the server owns (configuration, data).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir().join("probity.toml")
    }

    /// The data directory (`{data}`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// `http://ADDR` of the current run.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` on the current run.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client for the current run (with the builder's token, if any).
    pub fn client(&self) -> Client {
        let client = Client::new(&self.base);
        match &self.token {
            Some(token) => client.with_token(token),
            None => client,
        }
    }

    /// Everything the server wrote to stderr, over all runs.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr lock")).into_owned()
    }

    /// Everything the server wrote to stderr, over all runs, as bytes.
    pub fn stderr_bytes(&self) -> Vec<u8> {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// The process id of the current run.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Send `signal` (e.g. `libc::SIGHUP`) to the server.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid");
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Run `probity rebuild` with this server's configuration (stop the server first);
    /// asserts that it succeeds and returns what it printed on stderr.
    #[track_caller]
    pub fn rebuild(&self) -> String {
        let output = Command::new(probity_binary())
            .args(["rebuild", "--config"])
            .arg(self.config_path())
            .output()
            .expect("probity rebuild runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "probity rebuild failed: {stderr}");
        stderr
    }

    /// SIGKILL the server and reap it (no chance to flush anything).
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_reader();
    }

    /// SIGTERM the server, wait for it to exit and return its exit status (with all of
    /// its stderr captured).
    #[track_caller]
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_for_exit()
    }

    /// Wait (up to [`STOP_TIMEOUT`]) for the process to exit after a signal sent some
    /// other way, and return its exit status; SIGKILL and panic if it does not.
    #[track_caller]
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        match self.wait_exit(STOP_TIMEOUT) {
            Some(status) => status,
            None => {
                self.kill_9();
                panic!(
                    "the server did not exit within {STOP_TIMEOUT:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
        }
    }

    /// SIGTERM the server and assert that it exits 0 (a graceful, draining stop).
    #[track_caller]
    pub fn stop(&mut self) {
        let status = self.terminate();
        assert!(
            status.success(),
            "SIGTERM must exit 0, got {status}; stderr:\n{}",
            self.stderr_text()
        );
    }

    /// Stop the server (SIGTERM, asserting a clean exit, if it still runs) and start it
    /// again over the same directory and configuration file.
    #[track_caller]
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.write_config(&self.config_text.clone());
        self.spawn_and_wait();
    }

    /// Wait up to `timeout` for the process to exit; `None` if it still runs.
    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                self.join_reader();
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    fn spawn(&self) -> (Child, JoinHandle<()>, mpsc::Receiver<String>) {
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(probity_binary());
                command
            }
            None => Command::new(probity_binary()),
        };
        command
            .arg("serve")
            .arg("--config")
            .arg(self.config_path())
            .args(&self.args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn probity serve");
        let stderr = child.stderr.take().expect("stderr pipe");
        let captured = self.stderr.clone();
        // PROBITY_TEST_SERVER_LOGS=DIR: also copy each server's stderr to DIR/<its dir>.log
        // as it is written (to watch a test that hangs).
        let mut copy = std::env::var_os("PROBITY_TEST_SERVER_LOGS").and_then(|dir| {
            let name = self.dir().file_name()?.to_owned();
            let path = PathBuf::from(dir).join(name).with_extension("log");
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        captured
                            .lock()
                            .expect("stderr lock")
                            .extend_from_slice(&line);
                        if let Some(file) = copy.as_mut() {
                            let _ = std::io::Write::write_all(file, &line);
                        }
                        let text = String::from_utf8_lossy(&line);
                        if let Some(addr) = listening_address(&text) {
                            let _ = tx.send(addr);
                        }
                    }
                }
            }
        });
        (child, reader, rx)
    }

    #[track_caller]
    fn spawn_and_wait(&mut self) {
        let (child, reader, rx) = self.spawn();
        self.child = Some(child);
        self.reader = Some(reader);
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.wait_exit(Duration::from_secs(5));
                    panic!(
                        "the server exited ({status:?}) before listening; stderr:\n{}",
                        self.stderr_text()
                    );
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                self.join_reader();
                panic!(
                    "the server exited ({status}) before listening; stderr:\n{}",
                    self.stderr_text()
                );
            }
            if Instant::now() > deadline {
                self.kill_9();
                panic!(
                    "no `listening on http://…` line within {START_TIMEOUT:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
        };
        // 0.0.0.0 / [::] are not addresses to connect to: use loopback.
        self.base = addr
            .replace("://0.0.0.0:", "://127.0.0.1:")
            .replace("://[::]:", "://[::1]:");
        // Readiness: the listening line should mean ready; give it a little slack without
        // failing here (the readiness test checks /readyz itself).
        let client = Client::new(&self.base);
        let ready_by = Instant::now() + Duration::from_secs(10);
        while Instant::now() < ready_by {
            if client
                .try_request("GET", "/readyz", &[], None)
                .is_ok_and(|r| r.status == 200)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_reader();
    }
}

/// `http://HOST:PORT` from a line containing `listening on http://HOST:PORT`.
pub fn listening_address(line: &str) -> Option<String> {
    let start = line.find("listening on http://")? + "listening on ".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',' || c == '\u{1b}')
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_string())
}
