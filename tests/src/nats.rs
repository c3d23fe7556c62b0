//! A real `nats-server` with JetStream for the cluster tests: started on a free loopback
//! port with a temporary store directory, killed when dropped. `.ci/run` installs it
//! (Debian's `nats-server`, 2.9).

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `nats-server -js`.
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Start one and wait until it accepts connections. Panics with the reason when
    /// `nats-server` is missing or does not come up.
    pub fn start() -> NatsServer {
        let store = tempfile::tempdir().expect("a temporary store directory");
        let port = free_port();
        let child = spawn(port, store.path());
        NatsServer {
            child,
            port,
            _store: store,
        }
    }

    /// Stop it (SIGKILL) and start it again on the same port and store directory.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.port, self._store.path());
    }

    /// Its client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `nats-server -js` and wait until it listens.
fn spawn(port: u16, store: &std::path::Path) -> Child {
    let child = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("starting nats-server (apt-get install nats-server): {err}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}
