//! `probity serve` with bearer tokens: 401 without a known token, 403 without the
//! endpoint's role, open health endpoints; and the refusal to listen beyond loopback
//! without any token.

use std::time::Duration;

use probity_e2e::server::{Client, ConfigText, Reply, Server, at_minute, listing, token_table};

const INGEST: &str = "tok-ingest-4f1c0b7e9a2d";
const READ: &str = "tok-read-8b2e6d1f0c3a";
const ADMIN: &str = "tok-admin-1a9f7c3e5b2d";
const ALL: &str = "tok-all-6e3b9d0a7f1c";

fn start() -> Server {
    let config = ConfigText::new()
        .tail(&token_table("ingester", INGEST, &["ingest"]))
        .tail(&token_table("reader", READ, &["read"]))
        .tail(&token_table("admin", ADMIN, &["admin"]))
        .tail(&token_table("ops", ALL, &["ingest", "read", "admin"]))
        .render();
    Server::start(&config)
}

/// One protected endpoint: method, path, role, body (JSON).
struct Endpoint {
    method: &'static str,
    path: &'static str,
    role: &'static str,
    body: Option<String>,
}

fn endpoints() -> Vec<Endpoint> {
    let event = listing("e-auth", &at_minute(1), "L-auth", "S-1", "fine").to_string();
    let e = |method, path, role| Endpoint {
        method,
        path,
        role,
        body: None,
    };
    vec![
        Endpoint {
            body: Some(event),
            ..e("POST", "/v1/events", "ingest")
        },
        e("GET", "/v1/verdicts/listing/L-1", "read"),
        e("GET", "/v1/verdicts/listing/L-1/history", "read"),
        e("GET", "/v1/verdicts", "read"),
        e("GET", "/v1/verdicts?subject_type=listing&limit=5", "read"),
        e("GET", "/v1/plugins", "read"),
        e("GET", "/metrics", "read"),
        e("POST", "/v1/admin/reload", "admin"),
        e("GET", "/v1/admin/audit", "admin"),
        e("GET", "/v1/admin/audit?limit=1", "admin"),
    ]
}

fn call(c: &Client, endpoint: &Endpoint, headers: &[(&str, &str)]) -> Reply {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if endpoint.body.is_some() {
        all.push(("content-type", "application/json"));
    }
    let body = endpoint.body.as_deref().map(str::as_bytes);
    let body = match (endpoint.method, body) {
        ("POST", None) => Some(&b""[..]),
        (_, body) => body,
    };
    c.request(endpoint.method, endpoint.path, &all, body)
}

fn token_for(role: &str) -> &'static str {
    match role {
        "ingest" => INGEST,
        "read" => READ,
        "admin" => ADMIN,
        _ => unreachable!(),
    }
}

/// Seed L-1 so the read endpoints have something to return.
/// The refused requests ingested nothing: the listing their event names was never seen.
fn assert_nothing_ingested(server: &Server) {
    server
        .client()
        .with_token(READ)
        .verdict("listing", "L-auth")
        .problem(404, "not-found");
}

fn seed(c: &Client) {
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden"))
        .ok();
}

/// Without a token, with an unknown token or with a malformed `Authorization` header,
/// every protected endpoint is `401 unauthorized` with `WWW-Authenticate: Bearer`.
#[test]
fn missing_or_unknown_tokens_are_401_with_www_authenticate() {
    let server = start();
    seed(&server.client().with_token(INGEST));
    let c = server.client();
    let hash = format!("Bearer {}", probity_e2e::server::hash_token(ALL));
    let bearer_ish = format!("bearer-ish {ALL}");
    for endpoint in endpoints() {
        for headers in [
            vec![],
            vec![("authorization", "Bearer tok-nobody-0000000000")],
            vec![("authorization", "Bearer ")],
            vec![("authorization", "Basic b3BzOnNlY3JldA==")],
            vec![("authorization", bearer_ish.as_str())],
            // A known token's hash is not a token.
            vec![("authorization", hash.as_str())],
        ] {
            let reply = call(&c, &endpoint, &headers);
            reply.problem(401, "unauthorized");
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.starts_with("Bearer"),
                "{} {} with {headers:?}: WWW-Authenticate `{challenge}`",
                endpoint.method,
                endpoint.path
            );
        }
    }
    assert_nothing_ingested(&server);
}

/// A known token without the endpoint's role is `403 forbidden` (no role implies
/// another, admin included).
#[test]
fn tokens_without_the_role_are_403() {
    let server = start();
    seed(&server.client().with_token(INGEST));
    for endpoint in endpoints() {
        for role in ["ingest", "read", "admin"] {
            if role == endpoint.role {
                continue;
            }
            let c = server.client().with_token(token_for(role));
            let reply = call(&c, &endpoint, &[]);
            assert_eq!(
                reply.status, 403,
                "{} {} with the {role} token: {}",
                endpoint.method, endpoint.path, reply.text
            );
            reply.problem(403, "forbidden");
        }
    }
    assert_nothing_ingested(&server);
}

/// The token with the endpoint's role gets `200`, as does a token holding every role.
#[test]
fn tokens_with_the_role_are_allowed() {
    let server = start();
    seed(&server.client().with_token(INGEST));
    for endpoint in endpoints() {
        for token in [token_for(endpoint.role), ALL] {
            let c = server.client().with_token(token);
            let reply = call(&c, &endpoint, &[]);
            assert_eq!(
                reply.status, 200,
                "{} {} with a token for {}: {}",
                endpoint.method, endpoint.path, endpoint.role, reply.text
            );
        }
    }
    let c = server.client().with_token(READ);
    assert_eq!(c.verdict("listing", "L-1").ok()["action"], "block");
    assert_eq!(c.verdict("listing", "L-auth").ok()["action"], "allow");
    // 404 for an unseen subject still needs the role first.
    c.verdict("listing", "L-404").problem(404, "not-found");
    server
        .client()
        .verdict("listing", "L-404")
        .problem(401, "unauthorized");
}

/// `/healthz` and `/readyz` need no token.
#[test]
fn health_endpoints_are_open() {
    let server = start();
    let c = server.client();
    assert_eq!(c.get("/healthz").ok()["status"], "ok");
    assert_eq!(c.get("/readyz").ok()["status"], "ready");
    let c = c.with_token("tok-nobody-0000000000");
    c.get("/healthz").ok();
    c.get("/readyz").ok();
}

/// Without any token, a non-loopback listen address is refused: exit code 2 and a
/// message that says why (loopback).
#[test]
fn non_loopback_without_tokens_is_refused_with_exit_2() {
    let config = ConfigText::new().server("listen = \"0.0.0.0:0\"").render();
    let (status, stderr) = Server::builder(&config).run_to_exit(Duration::from_secs(120));
    assert_eq!(
        status.code(),
        Some(2),
        "exit status {status}; stderr:\n{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("loopback"),
        "the message says why:\n{stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");
}

/// The same refusal when the non-loopback address comes from `PROBITY_LISTEN`.
#[test]
fn non_loopback_from_the_environment_without_tokens_is_refused() {
    let config = ConfigText::new().render();
    let (status, stderr) = Server::builder(&config)
        .env("PROBITY_LISTEN", "0.0.0.0:0")
        .run_to_exit(Duration::from_secs(120));
    assert_eq!(
        status.code(),
        Some(2),
        "exit status {status}; stderr:\n{stderr}"
    );
    assert!(stderr.to_lowercase().contains("loopback"), "{stderr}");
}

/// With tokens configured, a non-loopback address is allowed (and auth is on).
#[test]
fn non_loopback_with_tokens_listens() {
    let config = ConfigText::new()
        .server("listen = \"0.0.0.0:0\"")
        .tail(&token_table("ops", ALL, &["ingest", "read", "admin"]))
        .render();
    let server = Server::start(&config);
    let c = server.client();
    c.get("/v1/plugins").problem(401, "unauthorized");
    c.with_token(ALL).get("/v1/plugins").ok();
}

/// Without tokens on loopback, auth is off: every endpoint answers without a token.
#[test]
fn loopback_without_tokens_needs_no_token() {
    let server = Server::start(&ConfigText::new().render());
    seed(&server.client());
    let c = server.client();
    for endpoint in endpoints() {
        let reply = call(&c, &endpoint, &[]);
        assert_eq!(
            reply.status, 200,
            "{} {}: {}",
            endpoint.method, endpoint.path, reply.text
        );
    }
}

/// Removing the last token turns auth off and makes every local client admin: a reload
/// that does it is refused unless `auth.allow_no_tokens` says it is meant, and then the
/// audit entry warns.
#[test]
fn removing_every_token_needs_an_explicit_setting_and_is_audited() {
    let mut server = Server::start(
        &ConfigText::new()
            .server("watch_config = false")
            .tail(&token_table("admin", ADMIN, &["admin", "read"]))
            .render(),
    );
    let c = server.client().with_token(ADMIN);
    server.set_config(&ConfigText::new().server("watch_config = false").render());
    let reply = c.post_empty("/v1/admin/reload");
    let problem = reply.problem(422, "config-refused");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("allow_no_tokens")),
        "{}",
        reply.text
    );
    // Still guarded: the old tokens are in force.
    server.client().get("/v1/plugins").expect_status(401);

    server.set_config(
        &ConfigText::new()
            .server("watch_config = false")
            .tail("[auth]\nallow_no_tokens = true\n")
            .render(),
    );
    let reply = c.post_empty("/v1/admin/reload");
    let report = reply.ok();
    assert_eq!(report["applied"], true, "{}", reply.text);
    let warned = report["warnings"].as_array().is_some_and(|w| {
        w.iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("auth is now off")))
    });
    assert!(warned, "{}", reply.text);
    let audit = server.client().get("/v1/admin/audit?limit=1").ok().clone();
    assert!(
        audit["entries"][0]["warnings"]
            .to_string()
            .contains("auth is now off"),
        "{audit}"
    );
}
