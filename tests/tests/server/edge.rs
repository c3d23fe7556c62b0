//! The HTTP edge: what a client controls can neither grow `/metrics` nor reach the API
//! through DNS rebinding, and the unauthenticated `/readyz` shows no digest of the
//! configuration (which holds the pseudonym key).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use probity_e2e::server::start_usual;

/// Send one raw HTTP/1.1 request and return the status line and the whole answer.
fn raw(base: &str, request: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn made_up_methods_do_not_create_metric_series_or_long_log_lines() {
    let server = start_usual();
    let method = "X".repeat(5_000);
    for i in 0..20 {
        let (status, text) = raw(
            server.base_url(),
            &format!(
                "{method}{i} /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
            ),
        );
        assert!((400..500).contains(&status), "{text}");
    }
    let metrics = server
        .client()
        .get("/metrics")
        .expect_status(200)
        .text
        .clone();
    assert!(!metrics.contains("XXXX"), "a method reached /metrics");
    assert!(
        metrics.contains(r#"method="other""#),
        "unknown methods are counted under `other`"
    );
    assert!(
        !server.stderr_text().contains(&method[..1_000]),
        "a log line quoted the whole method"
    );
}

#[test]
fn with_auth_off_a_foreign_host_name_is_refused() {
    let server = start_usual();
    let (status, text) = raw(
        server.base_url(),
        "GET /v1/plugins HTTP/1.1\r\nhost: rebind.attacker.example:8080\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("urn:probity:problem:forbidden"), "{text}");
    assert!(text.contains("loopback"), "{text}");
    for host in ["localhost:8080", "127.0.0.1", "[::1]:8080"] {
        let (status, text) = raw(
            server.base_url(),
            &format!("GET /v1/plugins HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"),
        );
        assert_eq!(status, 200, "{host}: {text}");
    }
}

#[test]
fn readyz_shows_no_configuration_digest() {
    let server = start_usual();
    let c = server.client();
    let ready = c.get("/readyz").ok().clone();
    assert_eq!(ready["status"], "ready");
    assert!(ready.get("config_digest").is_none(), "{ready}");
    let plugins = c.get("/v1/plugins").ok().clone();
    assert!(
        plugins["config_digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{plugins}"
    );
}

fn connect(base: &str) -> TcpStream {
    let stream = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
}

/// Whether the server closed `stream` (a read returns end of file or a reset) within
/// `within`; a read timeout means it is still open.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an answer (e.g. 408) before the close
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Slowloris: connections that never finish their header are closed after
/// `header_read_timeout_ms`, and so is a keep-alive connection left idle.
#[test]
fn half_sent_headers_and_idle_keep_alive_connections_are_closed() {
    let server = probity_e2e::server::Server::start(
        &probity_e2e::server::ConfigText::new()
            .server("header_read_timeout_ms = 500")
            .render(),
    );
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = connect(server.base_url());
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ")
                .expect("write");
            s
        })
        .collect();
    let mut idle = connect(server.base_url());
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .expect("write");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 200");
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(5)),
            "half-sent header {i} still open"
        );
    }
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)),
        "an idle keep-alive connection is closed too"
    );
    server.client().get("/healthz").expect_status(200);
}

/// At most `max_connections` are open; one more is closed at once, counted, and the
/// server serves again as soon as connections close.
#[test]
fn connections_past_the_cap_are_closed_at_once() {
    let server = probity_e2e::server::Server::start(
        &probity_e2e::server::ConfigText::new()
            .server("max_connections = 4")
            .render(),
    );
    // Six connections for four places: two are closed at once (three, if a connection
    // of the start-up probe is still open), the others wait for their header.
    let mut held: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut s = connect(server.base_url());
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n");
            s
        })
        .collect();
    let mut closed = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(1500)) {
            closed += 1;
        }
    }
    assert!(
        (2..=3).contains(&closed),
        "{closed} of 6 closed with room for 4"
    );
    drop(held);
    let mut metrics = String::new();
    for _ in 0..50 {
        if let Ok(reply) = server.client().try_request("GET", "/metrics", &[], None)
            && reply.status == 200
        {
            metrics = reply.text;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        metrics.contains("probity_http_connections_refused_total"),
        "{metrics}"
    );
}

/// SIGTERM with 50 connections holding half-sent headers: the server still exits 0
/// within its shutdown bound.
#[test]
fn shutdown_finishes_within_its_bound_whatever_clients_do() {
    let mut server = probity_e2e::server::Server::start(
        &probity_e2e::server::ConfigText::new()
            .server("header_read_timeout_ms = 600000")
            .server("shutdown_timeout_ms = 1000")
            .render(),
    );
    let _held: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = connect(server.base_url());
            s.write_all(b"POST /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-")
                .expect("write");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = std::time::Instant::now();
    server.stop();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "stopped in {took:?}, far past the 1 s bound"
    );
}

/// Past `max_queued_kib` of queued request bodies, ingest answers `503 overloaded` with
/// `retry-after` at once, while `/healthz` keeps answering; the queued batch is applied.
#[test]
fn a_full_ingest_queue_answers_503_with_retry_after_at_once() {
    use probity_e2e::server::{ConfigText, Server, listing};
    // `busy` spins until its 300 ms deadline on every event: a slow pipeline.
    let busy = format!(
        "[plugins.busy]\npath = '{}'\nlimits = {{ deadline_ms = 300, fuel = 0 }}\nbreaker = {{ failures = 0 }}\nsettings = {{ iterations = 1000000000000 }}\n",
        probity_e2e::test_plugin("busy").display()
    );
    let server = Server::start(
        &ConfigText::new()
            .server("max_queued_kib = 64")
            .tail(&busy)
            .render(),
    );
    let description = "tea ".repeat(2_000);
    let body: String = (0..10)
        .map(|i| {
            let mut event = listing(
                &format!("b-{i}"),
                "2026-11-01T10:00:00Z",
                "L-1",
                "S-1",
                "tea",
            );
            event["description"] = serde_json::Value::String(description.clone());
            format!("{event}\n")
        })
        .collect();
    assert!(body.len() > 64 * 1024);
    let batch_client = server.client();
    let batch = std::thread::spawn(move || batch_client.send_ndjson(&body));
    std::thread::sleep(Duration::from_millis(700));

    let c = server.client();
    let reply = c.send(&listing("e-1", "2026-11-01T10:00:00Z", "L-2", "S-1", "tea"));
    reply.problem(503, "overloaded");
    assert_eq!(reply.header("retry-after"), Some("1"), "{}", reply.text);
    c.get("/healthz").expect_status(200);

    let batch = batch.join().expect("batch thread");
    assert_eq!(batch.ok()["accepted"], 10, "{}", batch.text);
    c.send(&listing("e-1", "2026-11-01T10:00:00Z", "L-2", "S-1", "tea"))
        .ok();
}
