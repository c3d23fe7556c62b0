//! [`stream_post`]: an HTTP/1.1 `POST` over a raw TCP socket whose body is generated
//! while it is sent, for bodies too large to build (a 100 MB upload). The body is
//! written from a second thread while this one reads the answer, so a server that
//! answers `413` before reading everything is heard, not mistaken for a dead connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The answer to a [`stream_post`].
#[derive(Clone, Debug)]
pub struct StreamReply {
    /// The status code.
    pub status: u16,
    /// Every header, name lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// From connecting to having the whole answer.
    pub elapsed: Duration,
    /// How many body bytes were written before the answer came (or the server stopped
    /// reading).
    pub sent: u64,
}

impl StreamReply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `content-length: total`, announced up front.
    Length,
    /// `transfer-encoding: chunked`: the server cannot know the size before reading.
    Chunked,
}

const CHUNK: usize = 64 * 1024;

/// `POST path` to `base` (`http://127.0.0.1:PORT`) with `content_type` and a body of
/// `total` bytes of `fill`, streamed in 64 KiB chunks; waits up to `timeout` for the
/// answer. `Err` when no complete answer came (refused, reset before answering, timed
/// out).
pub fn stream_post(
    base: &str,
    path: &str,
    content_type: &str,
    total: u64,
    framing: Framing,
    timeout: Duration,
) -> Result<StreamReply, String> {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let started = Instant::now();
    let mut reader = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    reader
        .set_read_timeout(Some(timeout))
        .map_err(|e| format!("read timeout: {e}"))?;
    let mut writer = reader.try_clone().map_err(|e| format!("clone: {e}"))?;
    let size_header = match framing {
        Framing::Length => format!("content-length: {total}"),
        Framing::Chunked => "transfer-encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\n{size_header}\r\nconnection: close\r\n\r\n"
    );
    let sender = std::thread::spawn(move || -> u64 {
        let chunk = vec![b'a'; CHUNK];
        let mut sent = 0_u64;
        if writer.write_all(head.as_bytes()).is_err() {
            return sent;
        }
        while sent < total {
            let n = usize::try_from((total - sent).min(CHUNK as u64)).unwrap_or(CHUNK);
            let ok = match framing {
                Framing::Length => writer.write_all(&chunk[..n]),
                Framing::Chunked => writer
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|()| writer.write_all(&chunk[..n]))
                    .and_then(|()| writer.write_all(b"\r\n")),
            };
            if ok.is_err() {
                return sent;
            }
            sent += n as u64;
        }
        if framing == Framing::Chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
        sent
    });
    let answer = read_answer(&mut reader);
    let elapsed = started.elapsed();
    // The answer is in (or never will be): stop the sender.
    let _ = reader.shutdown(Shutdown::Both);
    let sent = sender
        .join()
        .map_err(|_| "the sender panicked".to_owned())?;
    let (status, headers, body) = answer.map_err(|e| format!("{e} (after {sent} body bytes)"))?;
    Ok(StreamReply {
        status,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        elapsed,
        sent,
    })
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// Read one HTTP/1.1 answer with a `content-length` (or ending at EOF).
fn read_answer(stream: &mut TcpStream) -> Result<Answer, String> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("closed after {} bytes of answer", buf.len())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = buf[head_end + 4..].to_vec();
    while length.is_none_or(|len| body.len() < len) {
        match stream.read(&mut chunk) {
            Ok(0) if length.is_none() => break,
            Ok(0) => return Err(format!("closed inside the answer body: {head}")),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading the answer body: {e}")),
        }
    }
    Ok((status, headers, body))
}
