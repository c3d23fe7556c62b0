//! A real `probity serve` process for end-to-end tests of the HTTP server.
//!
//! [`Server::start`] writes a configuration into a temporary directory the server owns,
//! starts the binary built next to the test (`target/debug/probity`), captures all of its
//! stderr (tests scan it for leaked personal data) and waits for the one line
//! `probity: listening on http://ADDR`. The directory (and so the data directory) outlives
//! the process, so [`Server::restart`] starts the same configuration over the same data.
//!
//! Configurations are TOML with placeholders the harness fills in: `{dir}` (the server's
//! temporary directory), `{data}` (`{dir}/data`), `{cache}` (a compiled-plugin cache
//! shared by every server of every test, so the plugin compiles once) and `{good}` (the
//! `good` test plugin's component). [`ConfigText`] writes the usual one.
//!
//! Requests go through [`Client`], which never treats a 4xx/5xx status as an error: every
//! answer comes back as a [`Reply`] with status, headers and JSON body.
//!
//! The binary must be current: `cargo test --workspace` builds it; with
//! `cargo test -p probity-e2e` run `cargo build -p probity` first.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::test_plugin;

/// How long a server may take to print its listening line (the first start of a test
/// binary may compile plugins).
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a server may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The pseudonym key in [`ConfigText`] configurations.
pub const PSEUDONYM_KEY: &str = "0123456789abcdef0123456789abcdef";

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

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lowercase hex SHA-256 of `token`, as `[[auth.tokens]] sha256` wants it.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// An `[[auth.tokens]]` table for `token` with `roles`.
pub fn token_table(name: &str, token: &str, roles: &[&str]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| format!("{r:?}")).collect();
    format!(
        "[[auth.tokens]]\nname = {name:?}\nsha256 = {:?}\nroles = [{}]\n",
        hash_token(token),
        roles.join(", ")
    )
}

/// The usual configuration: loopback on a free port, data in `{data}`, the shared cache,
/// a fixed pseudonym key and the `good` plugin with `word`, plus whatever is added.
#[derive(Clone, Debug)]
pub struct ConfigText {
    server: Vec<String>,
    word: Option<String>,
    good: Vec<String>,
    tail: Vec<String>,
}

impl Default for ConfigText {
    fn default() -> Self {
        ConfigText {
            server: Vec::new(),
            word: Some("forbidden".into()),
            good: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl ConfigText {
    /// The usual configuration with the word `forbidden`.
    pub fn new() -> Self {
        ConfigText::default()
    }

    /// Add a line to `[server]` (e.g. `max_body_bytes = 4096`); a `listen` line replaces
    /// the default one.
    pub fn server(mut self, line: &str) -> Self {
        self.server.push(line.to_string());
        self
    }

    /// The `word` setting of `good` (`None`: no settings table at all).
    pub fn word(mut self, word: Option<&str>) -> Self {
        self.word = word.map(str::to_string);
        self
    }

    /// Add a line to `[plugins.good]` (e.g. `mode = "monitor"`).
    pub fn good(mut self, line: &str) -> Self {
        self.good.push(line.to_string());
        self
    }

    /// Add TOML after everything else (other plugins, `[[auth.tokens]]`…).
    pub fn tail(mut self, text: &str) -> Self {
        self.tail.push(text.to_string());
        self
    }

    /// The TOML text, with placeholders.
    pub fn render(&self) -> String {
        let mut out = String::from("[server]\n");
        if !self
            .server
            .iter()
            .any(|l| l.trim_start().starts_with("listen"))
        {
            out.push_str("listen = \"127.0.0.1:0\"\n");
        }
        out.push_str("data_dir = '{data}'\n");
        for line in &self.server {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\n[runtime]\ncache_dir = '{cache}'\n");
        out.push_str(&format!(
            "\n[privacy]\npseudonym_key = \"{PSEUDONYM_KEY}\"\n"
        ));
        // A generous deadline: a loaded test machine must not turn findings into
        // plugin errors.
        out.push_str("\n[plugins.good]\npath = '{good}'\nlimits = { deadline_ms = 10000 }\n");
        for line in &self.good {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(word) = &self.word {
            out.push_str(&format!("[plugins.good.settings]\nword = {word:?}\n"));
        }
        for text in &self.tail {
            out.push('\n');
            out.push_str(text);
            out.push('\n');
        }
        out
    }
}

impl std::fmt::Display for ConfigText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// One HTTP answer: any status, the headers (names lowercase), the body as text and as
/// JSON (`Value::Null` when it is not JSON).
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every header, name lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body as (lossy) text.
    pub text: String,
    /// The body as JSON, or `Null`.
    pub body: Value,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Assert the status is `status`, showing the whole answer if not.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected status {status}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// The body after asserting a `200`.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        self.expect_status(200);
        &self.body
    }

    /// Assert this is an RFC 9457 problem `urn:probity:problem:<slug>` with `status`: the
    /// content type, `type`, `status`, a `title`, a `detail` and the `request_id` of the
    /// `x-request-id` header. Returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16, slug: &str) -> &Value {
        self.expect_status(status);
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "a problem must be application/problem+json, got `{content_type}`: {}",
            self.text
        );
        let p = &self.body;
        assert_eq!(
            p["type"],
            format!("urn:probity:problem:{slug}"),
            "problem type: {}",
            self.text
        );
        assert_eq!(p["status"], status, "problem status: {}", self.text);
        assert!(
            p["title"].as_str().is_some_and(|t| !t.is_empty()),
            "problem title: {}",
            self.text
        );
        assert!(
            p["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "problem detail: {}",
            self.text
        );
        let request_id = self.header("x-request-id");
        assert!(request_id.is_some(), "no x-request-id on {}", self.text);
        assert_eq!(
            p["request_id"].as_str(),
            request_id,
            "problem request_id vs x-request-id header: {}",
            self.text
        );
        p
    }
}

/// A cloneable, thread-safe HTTP client for one server address; never treats a status
/// as an error.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Client {
    /// A client for `base` (`http://127.0.0.1:PORT`) without a token.
    pub fn new(base: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            // A fresh connection per request: no stale pooled connection after a kill.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent,
            token: None,
        }
    }

    /// This client sending `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request; `body` is sent as is (no content type unless in `headers`). A
    /// transport failure (refused, reset, timed out) is an `Err`.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, String> {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = &self.token {
            request = request.set("authorization", &format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport.to_string()),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .flat_map(|name| {
                response
                    .all(&name)
                    .into_iter()
                    .map(|v| (name.to_ascii_lowercase(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(64 << 20)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("reading the body: {err}"))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            text,
            body,
        })
    }

    /// Any request; panics on a transport failure.
    #[track_caller]
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        match self.try_request(method, path, headers, body) {
            Ok(reply) => reply,
            Err(err) => panic!("{method} {path}: {err}"),
        }
    }

    /// `GET path`.
    #[track_caller]
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    /// `POST path` with a JSON body.
    #[track_caller]
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    /// `POST path` without a body.
    #[track_caller]
    pub fn post_empty(&self, path: &str) -> Reply {
        self.request("POST", path, &[], Some(b""))
    }

    /// `POST /v1/events` with one event.
    #[track_caller]
    pub fn send(&self, event: &Value) -> Reply {
        self.post_json("/v1/events", event)
    }

    /// `POST /v1/events` with one event; `Err` on a transport failure.
    pub fn try_send(&self, event: &Value) -> Result<Reply, String> {
        self.try_request(
            "POST",
            "/v1/events",
            &[("content-type", "application/json")],
            Some(event.to_string().as_bytes()),
        )
    }

    /// `POST /v1/events` with an NDJSON batch.
    #[track_caller]
    pub fn send_ndjson(&self, body: &str) -> Reply {
        self.request(
            "POST",
            "/v1/events",
            &[("content-type", "application/x-ndjson")],
            Some(body.as_bytes()),
        )
    }

    /// `GET /v1/verdicts/{kind}/{id}`.
    #[track_caller]
    pub fn verdict(&self, kind: &str, id: &str) -> Reply {
        self.get(&format!("/v1/verdicts/{kind}/{id}"))
    }

    /// The entry of plugin `name` in `GET /v1/plugins` (panics if missing).
    #[track_caller]
    pub fn plugin(&self, name: &str) -> Value {
        let reply = self.get("/v1/plugins");
        let plugins = reply.ok()["plugins"]
            .as_array()
            .unwrap_or_else(|| panic!("no plugins array: {}", reply.text));
        plugins
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no plugin `{name}` in {}", reply.text))
            .clone()
    }
}

/// A running (or stopped) `probity serve` over a directory it owns.
pub struct Server {
    dir: tempfile::TempDir,
    config_text: String,
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
    args: Vec<String>,
    envs: Vec<(String, String)>,
    token: Option<String>,
}

impl ServerBuilder {
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

    /// Stop the server (SIGTERM, asserting a clean exit, if it still runs) and start it
    /// again over the same directory and configuration file.
    #[track_caller]
    pub fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.terminate();
            assert!(
                status.success(),
                "SIGTERM must exit 0, got {status}; stderr:\n{}",
                self.stderr_text()
            );
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
        let mut command = Command::new(probity_binary());
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

/// Poll `check` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `listing.upserted` event (price 19.90 CNY).
pub fn listing(event_id: &str, at: &str, listing_id: &str, seller: &str, title: &str) -> Value {
    json!({
        "event_id": event_id, "type": "listing.upserted", "occurred_at": at,
        "listing_id": listing_id, "seller_id": seller, "title": title,
        "price": {"amount": "19.90", "currency": "CNY"}
    })
}

/// An `order.placed` event (one item, 19.90 CNY, no `buyer` object).
pub fn order_placed(
    event_id: &str,
    at: &str,
    order_id: &str,
    listing_id: &str,
    seller: &str,
    buyer: &str,
) -> Value {
    json!({
        "event_id": event_id, "type": "order.placed", "occurred_at": at,
        "order_id": order_id, "listing_id": listing_id, "seller_id": seller,
        "buyer_id": buyer, "quantity": 1, "total": {"amount": "19.90", "currency": "CNY"}
    })
}

/// An `order.paid` event.
pub fn order_paid(event_id: &str, at: &str, order_id: &str) -> Value {
    json!({"event_id": event_id, "type": "order.paid", "occurred_at": at, "order_id": order_id})
}

/// An `order.shipped` event.
pub fn order_shipped(event_id: &str, at: &str, order_id: &str) -> Value {
    json!({"event_id": event_id, "type": "order.shipped", "occurred_at": at, "order_id": order_id})
}

/// `2026-11-01T10:MM:00Z` plus `minutes` (up to a day), for ordered event times.
pub fn at_minute(minutes: u32) -> String {
    let total = 10 * 60 + minutes;
    assert!(total < 24 * 60, "at_minute stays within one day");
    format!("2026-11-01T{:02}:{:02}:00Z", total / 60, total % 60)
}

/// The milliseconds since the epoch of an RFC 3339 text (panics if it is not one).
#[track_caller]
pub fn millis(text: &str) -> i64 {
    probity::model::time::parse_rfc3339(text)
        .unwrap_or_else(|err| panic!("`{text}` is not RFC 3339: {err}"))
}
