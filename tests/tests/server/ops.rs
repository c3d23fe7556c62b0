//! `probity serve`: the operational side against the real binary: `GET /v1/plugins`,
//! health and readiness, Prometheus metrics, request ids, problem+json errors, JSON logs,
//! `PROBITY_DATA_DIR` and request timeouts.

use std::collections::BTreeSet;

use probity_e2e::server::{
    ConfigText, Server, at_minute, listing, order_paid, order_placed, sha256_hex,
    start_usual as start,
};
use probity_e2e::test_plugin;
use serde_json::{Value, json};

/// `GET /v1/plugins` describes the loaded `good` plugin (version, digest, subscriptions,
/// limits) with counters that move as events are handled; a disabled plugin is listed
/// with `enabled: false` and null version, digest and counters.
#[test]
fn plugins_lists_the_good_plugin_with_counters() {
    let config = ConfigText::new()
        .tail(&format!(
            "[plugins.spare]\npath = '{}'\nenabled = false\n",
            test_plugin("good").display()
        ))
        .render();
    let server = Server::start(&config);
    let c = server.client();
    let before = c.plugin("good");
    assert_eq!(before["enabled"], true);
    assert_eq!(before["mode"], "enforce");
    assert!(before["on_error"] == "allow" || before["on_error"] == "review");
    assert_eq!(before["version"], "0.1.0");
    assert!(
        before["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(!before["source"].is_null(), "source: {before}");
    let digest = before["digest"].as_str().expect("digest");
    assert!(
        digest.len() == 7 + 64
            && digest.starts_with("sha256:")
            && digest[7..].bytes().all(|b| b.is_ascii_hexdigit()),
        "digest {digest}"
    );
    let wasm = std::fs::read(test_plugin("good")).expect("good.wasm");
    assert_eq!(
        digest,
        format!("sha256:{}", sha256_hex(&wasm)),
        "the file's digest"
    );
    let subscribes: BTreeSet<&str> = before["subscribes"]
        .as_array()
        .expect("subscribes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        subscribes,
        BTreeSet::from([
            "listing.upserted",
            "order.placed",
            "order.paid",
            "order.shipped"
        ])
    );
    assert!(before["limits"].is_object(), "limits: {before}");
    for key in ["deadline_ms", "fuel", "memory_mib"] {
        assert!(before["limits"][key].is_number(), "limits.{key}: {before}");
    }
    for key in [
        "calls",
        "findings",
        "errors",
        "fuel",
        "time_ms",
        "instantiations",
    ] {
        assert!(
            before["counters"][key].is_number(),
            "counters.{key}: {before}"
        );
    }
    assert!(before["counters"]["errors_by_kind"].is_object(), "{before}");
    // The instance made at load (manifest, settings) is counted: it serves the first call.
    assert!(
        before["counters"]["instantiations"].as_u64() >= Some(1),
        "instantiations: {before}"
    );
    for key in ["state_bytes", "state_entries", "timers"] {
        assert!(before["usage"][key].is_number(), "usage.{key}: {before}");
    }

    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden"))
        .ok();
    c.send(&listing("e-2", &at_minute(1), "L-2", "S-1", "fine"))
        .ok();
    c.send(&order_placed(
        "e-3a",
        &at_minute(2),
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("e-3", &at_minute(2), "O-1")).ok();
    // Not subscribed: no call.
    c.send(&json!({"event_id": "e-4", "type": "order.delivered", "occurred_at": at_minute(3), "order_id": "O-9"}))
        .ok();

    let after = c.plugin("good");
    let n = |v: &Value, k: &str| v["counters"][k].as_u64().unwrap_or(0);
    assert_eq!(n(&after, "calls") - n(&before, "calls"), 4, "{after}");
    assert_eq!(n(&after, "findings") - n(&before, "findings"), 1, "{after}");
    assert_eq!(n(&after, "errors"), 0);
    assert!(
        n(&after, "fuel") > n(&before, "fuel"),
        "fuel counted: {after}"
    );
    assert_eq!(after["usage"]["timers"], 1, "the O-1 timer: {after}");
    assert!(after["usage"]["state_entries"].as_u64().unwrap_or(0) >= 1);

    let spare = c.plugin("spare");
    assert_eq!(spare["enabled"], false);
    assert_eq!(spare["version"], Value::Null);
    assert_eq!(spare["digest"], Value::Null);
    assert_eq!(spare["counters"], Value::Null);
}

/// `/healthz` says ok and `/readyz` says ready with the number of loaded plugins.
#[test]
fn health_and_readiness() {
    let server = start();
    let c = server.client();
    assert_eq!(c.get("/healthz").ok(), &json!({"status": "ok"}));
    let ready = c.get("/readyz");
    assert_eq!(ready.ok()["status"], "ready");
    assert_eq!(ready.body["plugins"], 1);
}

/// `/metrics` is Prometheus text with every metric name of the spec once there was
/// traffic, a timer fired, a plugin failed and an event conflicted.
#[test]
fn metrics_expose_every_named_metric() {
    let config = ConfigText::new()
        .tail(&format!(
            "[plugins.trap]\npath = '{}'\n",
            test_plugin("trap").display()
        ))
        .render();
    let server = Server::start(&config);
    let c = server.client();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden"))
        .ok();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden"))
        .ok();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "other"))
        .problem(409, "event-id-conflict");
    c.send(&json!({"event_id": "e-x", "type": "nope", "occurred_at": at_minute(0)}))
        .problem(422, "invalid-event");
    c.send(&order_placed(
        "e-2a",
        &at_minute(1),
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("e-2", &at_minute(1), "O-1")).ok();
    c.send(&listing("e-3", &at_minute(120), "L-2", "S-1", "fine"))
        .ok();
    assert_eq!(c.verdict("order", "O-1").ok()["action"], "review");
    c.get("/v1/verdicts/listing/L-1").ok();

    let metrics = c.get("/metrics");
    metrics.expect_status(200);
    assert!(
        metrics
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "Prometheus text: {:?}",
        metrics.header("content-type")
    );
    let text = &metrics.text;
    let has = |prefix: &str, labels: &[&str]| {
        text.lines()
            .any(|l| l.starts_with(prefix) && labels.iter().all(|label| l.contains(label)))
    };
    // Collect everything missing, so one run reports all of it.
    let mut missing = Vec::new();
    for name in [
        "probity_http_requests_total",
        "probity_http_request_duration_seconds_bucket",
        "probity_http_request_duration_seconds_count",
        "probity_events_total",
        "probity_store_flush_seconds_bucket",
        "probity_event_clock_lag_seconds",
        "probity_plugin_calls_total",
        "probity_plugin_findings_total",
        "probity_plugin_errors_total",
        "probity_plugin_fuel_total",
        "probity_plugin_call_seconds_total",
        "probity_timers_fired_total",
        "probity_partition_events_total",
        "probity_partition_lag_entries",
        "probity_parked_events",
    ] {
        if !has(name, &[]) {
            missing.push(name.to_string());
        }
    }
    // One single event was rejected (422), one duplicated, one conflicted.
    for outcome in ["accepted", "duplicate", "rejected", "conflict"] {
        let label = format!("outcome=\"{outcome}\"");
        if !has("probity_events_total", &[&label]) {
            missing.push(format!("probity_events_total{{{label}}}"));
        }
    }
    let labelled: [(&str, &[&str]); 3] = [
        ("probity_plugin_calls_total", &["plugin=\"good\""]),
        ("probity_plugin_errors_total", &["plugin=\"trap\"", "kind="]),
        (
            "probity_http_requests_total",
            &["method=\"POST\"", "route=", "status=\"409\""],
        ),
    ];
    for (name, labels) in labelled {
        if !has(name, labels) {
            missing.push(format!("{name} with {labels:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "missing from /metrics: {missing:#?}\n{text}"
    );
}

/// `x-request-id` is echoed when sent (also on errors, and in the problem) and generated
/// otherwise.
#[test]
fn request_id_is_echoed_or_generated() {
    let server = start();
    let c = server.client();
    let reply = c.request("GET", "/healthz", &[("x-request-id", "test-req-42")], None);
    assert_eq!(reply.header("x-request-id"), Some("test-req-42"));
    let reply = c.request(
        "GET",
        "/v1/verdicts/listing/L-404",
        &[("x-request-id", "test-req-43")],
        None,
    );
    assert_eq!(reply.header("x-request-id"), Some("test-req-43"));
    assert_eq!(reply.problem(404, "not-found")["request_id"], "test-req-43");
    let one = c.get("/healthz");
    let two = c.get("/healthz");
    let (one, two) = (one.header("x-request-id"), two.header("x-request-id"));
    assert!(one.is_some_and(|id| !id.is_empty()), "generated id");
    assert_ne!(one, two, "a fresh id per request");
    let posted = c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "fine"));
    assert!(posted.header("x-request-id").is_some());
}

/// Errors are problem+json with the stable type, whatever the endpoint.
#[test]
fn errors_are_problem_json() {
    let server = start();
    let c = server.client();
    let reply = c.request(
        "POST",
        "/v1/events",
        &[("content-type", "application/json")],
        Some(b"[}"),
    );
    let p = reply.problem(400, "malformed-json");
    assert!(p.get("field").is_none() || p["field"].is_null() || p["field"].is_string());
    c.get("/v1/verdicts?limit=0")
        .problem(400, "invalid-parameter");
    c.verdict("seller", "nobody").problem(404, "not-found");
}

/// `--log-format json` writes one JSON object per log line on stderr, among them
/// `"message": "listening"` with the bound `addr`; the plain `probity: listening on`
/// line is there too.
#[test]
fn json_logs_announce_the_address() {
    let server = Server::builder(&ConfigText::new().render())
        .arg("--log-format")
        .arg("json")
        .start();
    server.client().get("/healthz").ok();
    let addr = server.base_url().trim_start_matches("http://").to_string();
    let stderr = server.stderr_text();
    let mut announced = false;
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with("probity: listening on http://") {
            continue;
        }
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
        let message = entry["message"]
            .as_str()
            .or_else(|| entry["fields"]["message"].as_str());
        if message == Some("listening") {
            let logged = entry["addr"]
                .as_str()
                .or_else(|| entry["fields"]["addr"].as_str());
            assert_eq!(logged, Some(addr.as_str()), "{line}");
            announced = true;
        }
    }
    assert!(announced, "no JSON `listening` line:\n{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("probity: listening on http://"))
            .count(),
        1
    );
}

/// `PROBITY_DATA_DIR` overrides the configured data directory.
#[test]
fn data_dir_from_the_environment() {
    let probe = tempfile::tempdir().expect("tempdir");
    let data = probe.path().join("from-env");
    let server = Server::builder(&ConfigText::new().render())
        .env("PROBITY_DATA_DIR", &data.display().to_string())
        .start();
    server
        .client()
        .send(&listing("e-1", &at_minute(0), "L-1", "S-1", "fine"))
        .ok();
    assert!(
        probity_e2e::server::files_under(&data)
            .iter()
            .any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0)),
        "the store is under PROBITY_DATA_DIR"
    );
    assert!(
        !server.data_dir().exists(),
        "nothing in the configured data_dir"
    );
}

/// A request that takes longer than `server.request_timeout_ms` (a plugin spinning until
/// its 3 s deadline, against a 200 ms request timeout) is `503 request-timeout`, and the
/// server carries on.
#[test]
fn slow_requests_time_out_with_503() {
    let config = ConfigText::new()
        .server("request_timeout_ms = 200")
        .tail(&format!(
            "[plugins.busy]\npath = '{}'\nlimits = {{ deadline_ms = 3000, fuel = 0 }}\n[plugins.busy.settings]\niterations = 1000000000000\n",
            test_plugin("busy").display()
        ))
        .render();
    let server = Server::start(&config);
    let c = server.client();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "fine"))
        .problem(503, "request-timeout");
    assert_eq!(c.get("/healthz").ok()["status"], "ok");
}
