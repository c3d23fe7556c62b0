//! One keep-alive HTTP/1.1 connection to the server, on hyper's client (the HTTP stack
//! the server itself is built on), plus a blocking one-shot `GET` for readiness polls.
//!
//! The load generators hold one [`Connection`] per task and send one request at a time
//! on it, so "connections" in the options means exactly that many TCP connections, and
//! a busy connection makes the next request wait — which the latency section counts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;

/// A keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    /// Connect to `addr` (the connection's driver runs on its own task).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection; a
            // failure surfaces as an error of the request in flight.
            let _ = driver.await;
        });
        Ok(Connection {
            sender,
            host: addr.to_string(),
        })
    }

    /// `POST path` with `body` as `content_type`: the status and the whole response
    /// body.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await.context("the connection closed")?;
        let request = Request::post(path)
            .header(header::HOST, &self.host)
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .context("building the request")?;
        let response = self
            .sender
            .send_request(request)
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer to POST {path}"))?
            .to_bytes();
        Ok((status, body))
    }
}

/// A fresh connection with `GET path` sent on it (uncompressed, closed after the
/// answer), waiting at most `read_timeout` for each read of the answer.
fn send_get(addr: SocketAddr, path: &str, read_timeout: Duration) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(read_timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )?;
    Ok(stream)
}

/// The body of a blocking `GET path` on a fresh connection (`/metrics`), whatever its
/// status.
pub fn get_text(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = send_get(addr, path, Duration::from_secs(10))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .with_context(|| format!("no body in the answer to GET {path}"))?;
    Ok(body)
}

/// The value of the unlabelled series `name` in a Prometheus text body.
pub fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// The status of a blocking `GET path` on a fresh connection, for polling `/readyz`.
pub fn get_status(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = send_get(addr, path, Duration::from_secs(5))?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    // "HTTP/1.1 200"
    let code = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {head:?}"))?;
    Ok(code)
}
