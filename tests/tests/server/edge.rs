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
