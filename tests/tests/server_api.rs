//! `probity serve`: every endpoint of the HTTP API, as the spec describes it, against the
//! real binary with the `good` test plugin.

use std::collections::BTreeSet;

use probity_e2e::server::{
    Client, ConfigText, Server, at_minute, listing, millis, order_paid, order_placed,
    order_shipped, sha256_hex,
};
use probity_e2e::test_plugin;
use serde_json::{Value, json};

fn start() -> Server {
    Server::start(&ConfigText::new().render())
}

/// `(type, id)` of a verdict.
fn key(verdict: &Value) -> (String, String) {
    (
        verdict["subject"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        verdict["subject"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn keys(verdicts: &Value) -> Vec<(String, String)> {
    verdicts
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {verdicts}"))
        .iter()
        .map(key)
        .collect()
}

fn k(kind: &str, id: &str) -> (String, String) {
    (kind.to_string(), id.to_string())
}

/// A single event is answered with the verdicts of the subjects it touched, sorted by
/// (type, id), the flagged listing blocked with the plugin's finding in full.
#[test]
fn a_single_event_returns_the_verdicts_of_the_subjects_it_touched() {
    let server = start();
    let c = server.client();
    let reply = c.send(&listing(
        "e-1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "forbidden cream",
    ));
    let body = reply.ok();
    assert_eq!(body["event_id"], "e-1");
    assert_eq!(body["status"], "accepted");
    let touched = keys(&body["verdicts"]);
    let mut sorted = touched.clone();
    sorted.sort();
    assert_eq!(touched, sorted, "verdicts sorted by (type, id)");
    assert!(touched.contains(&k("listing", "L-1")), "{}", reply.text);
    for subject in &touched {
        assert!(
            [k("listing", "L-1"), k("seller", "S-1")].contains(subject),
            "only subjects named in the event or found on: {subject:?}"
        );
    }
    let verdict = body["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| key(v) == k("listing", "L-1"))
        .unwrap();
    assert_eq!(verdict["action"], "block");
    let score = verdict["score"].as_f64().expect("score is a number");
    assert!(score > 0.0 && score <= 1.0, "score {score}");
    assert_eq!(verdict["seller_id"], "S-1");
    let finding = &verdict["findings"][0];
    assert_eq!(finding["plugin"], "good");
    assert_eq!(finding["plugin_version"], "0.1.0");
    assert_eq!(finding["rule"], "good.word");
    assert_eq!(finding["category"], "misleading_claim");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["mode"], "enforce");
    assert!(finding["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        finding["evidence"][0],
        json!({"field": "title", "start": 0, "end": 9, "excerpt": "forbidden"})
    );
    assert_eq!(finding["event_id"], "e-1");
    assert_eq!(
        millis(finding["at"].as_str().unwrap()),
        millis("2026-11-01T10:00:00Z")
    );
    assert_eq!(
        millis(verdict["updated_at"].as_str().unwrap()),
        millis("2026-11-01T10:00:00Z")
    );
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
}

/// A clean listing gets an `allow` verdict with no findings.
#[test]
fn a_clean_listing_is_allowed_without_findings() {
    let server = start();
    let c = server.client();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "nice cream"))
        .ok();
    let verdict = c.verdict("listing", "L-1");
    let v = verdict.ok();
    assert_eq!(v["subject"], json!({"type": "listing", "id": "L-1"}));
    assert_eq!(v["action"], "allow");
    assert_eq!(v["findings"], json!([]));
}

/// `GET /v1/verdicts/{type}/{id}` returns the current verdict (the same as the ingest
/// answer), and the newer finding of a rule replaces the older one.
#[test]
fn get_verdict_returns_the_current_verdict() {
    let server = start();
    let c = server.client();
    let first = c.send(&listing(
        "e-1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "forbidden cream",
    ));
    let from_ingest = first.ok()["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| key(v) == k("listing", "L-1"))
        .unwrap()
        .clone();
    let got = c.verdict("listing", "L-1");
    assert_eq!(got.ok(), &from_ingest);

    c.send(&listing(
        "e-2",
        "2026-11-01T11:00:00Z",
        "L-1",
        "S-1",
        "new forbidden cream",
    ))
    .ok();
    let got = c.verdict("listing", "L-1");
    let v = got.ok();
    assert_eq!(v["action"], "block");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "one finding per rule: {}", got.text);
    assert_eq!(findings[0]["event_id"], "e-2");
    assert_eq!(findings[0]["evidence"][0]["start"], 4);
    assert_eq!(
        millis(v["updated_at"].as_str().unwrap()),
        millis("2026-11-01T11:00:00Z")
    );
}

/// The history of a subject holds every finding ever recorded for it, oldest first.
#[test]
fn history_lists_every_finding_oldest_first() {
    let server = start();
    let c = server.client();
    c.send(&listing(
        "e-1",
        "2026-11-01T10:00:00Z",
        "L-1",
        "S-1",
        "forbidden cream",
    ))
    .ok();
    c.send(&listing(
        "e-2",
        "2026-11-01T11:00:00Z",
        "L-1",
        "S-1",
        "new forbidden cream",
    ))
    .ok();
    c.send(&listing(
        "e-3",
        "2026-11-01T12:00:00Z",
        "L-1",
        "S-1",
        "really, forbidden",
    ))
    .ok();
    let reply = c.get("/v1/verdicts/listing/L-1/history");
    let h = reply.ok();
    assert_eq!(h["subject"], json!({"type": "listing", "id": "L-1"}));
    let findings = h["findings"].as_array().expect("findings array");
    let events: Vec<&str> = findings
        .iter()
        .map(|f| f["event_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(events, ["e-1", "e-2", "e-3"], "{}", reply.text);
    let starts: Vec<&Value> = findings
        .iter()
        .map(|f| &f["evidence"][0]["start"])
        .collect();
    assert_eq!(starts, [&json!(0), &json!(4), &json!(8)]);
    assert!(findings.iter().all(|f| f["rule"] == "good.word"));
}

/// A subject never seen is a `404 not-found` problem, for the verdict and its history;
/// an unknown subject type is `400 invalid-parameter`; an unknown route is a 404.
#[test]
fn unseen_subjects_unknown_types_and_routes() {
    let server = start();
    let c = server.client();
    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "nice"))
        .ok();
    c.verdict("listing", "L-404").problem(404, "not-found");
    c.verdict("order", "L-1").problem(404, "not-found");
    c.get("/v1/verdicts/listing/L-404/history")
        .problem(404, "not-found");
    c.verdict("complaint", "C-1").problem(404, "not-found");
    c.verdict("user", "L-1").problem(400, "invalid-parameter");
    c.get("/v1/verdicts/user/L-1/history")
        .problem(400, "invalid-parameter");
    c.get("/v1/nothing-here").problem(404, "not-found");
}

/// Events for the list tests, one minute apart: listings L-1…L-5 of sellers S-1 / S-2
/// (L-1 and L-3 flagged, L-5 the third listing of S-1), order O-1 of L-2 placed, paid
/// and left unshipped until a later event fires its timer (→ review, sla_breach).
fn populate(c: &Client) {
    let events = [
        listing("p-1", &at_minute(0), "L-1", "S-1", "forbidden a"),
        listing("p-2", &at_minute(1), "L-2", "S-1", "fine"),
        listing("p-3", &at_minute(2), "L-3", "S-2", "forbidden b"),
        listing("p-4", &at_minute(3), "L-4", "S-2", "fine"),
        listing("p-5", &at_minute(4), "L-5", "S-1", "fine"),
        order_placed("p-6", &at_minute(5), "O-1", "L-2", "S-1", "B-1"),
        order_paid("p-7", &at_minute(6), "O-1"),
        // 2 h later: the clock passes O-1's ship-by time.
        listing("p-8", &at_minute(126), "L-6", "S-3", "fine"),
    ];
    for event in &events {
        c.send(event).ok();
    }
}

fn list(c: &Client, query: &str) -> Vec<(String, String)> {
    let reply = c.get(&format!("/v1/verdicts?limit=1000&{query}"));
    let body = reply.ok();
    assert_eq!(body["next_cursor"], Value::Null, "{query}: one page");
    keys(&body["verdicts"])
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(a, b)| k(a, b)).collect()
}

fn as_set(items: Vec<(String, String)>) -> BTreeSet<(String, String)> {
    let len = items.len();
    let set: BTreeSet<_> = items.into_iter().collect();
    assert_eq!(set.len(), len, "no duplicates");
    set
}

/// The list endpoint filters by subject type, action, category and seller (alone and
/// combined), newest `updated_at` first.
#[test]
fn list_filters_by_type_action_category_and_seller() {
    let server = start();
    let c = server.client();
    populate(&c);
    assert_eq!(
        c.verdict("order", "O-1").ok()["action"],
        "review",
        "the O-1 timer fired"
    );

    let listings = set(&[
        ("listing", "L-1"),
        ("listing", "L-2"),
        ("listing", "L-3"),
        ("listing", "L-4"),
        ("listing", "L-5"),
        ("listing", "L-6"),
    ]);
    assert_eq!(as_set(list(&c, "subject_type=listing")), listings);
    assert_eq!(
        as_set(list(&c, "subject_type=order")),
        set(&[("order", "O-1")])
    );
    let sellers = as_set(list(&c, "subject_type=seller"));
    assert!(sellers.is_subset(&set(&[
        ("seller", "S-1"),
        ("seller", "S-2"),
        ("seller", "S-3")
    ])));
    assert!(sellers.contains(&k("seller", "S-1")), "S-1 has a finding");

    assert_eq!(
        as_set(list(&c, "action=block")),
        set(&[("listing", "L-1"), ("listing", "L-3")])
    );
    assert_eq!(as_set(list(&c, "action=review")), set(&[("order", "O-1")]));
    let allowed = as_set(list(&c, "action=allow"));
    assert!(allowed.contains(&k("listing", "L-2")) && allowed.contains(&k("seller", "S-1")));
    assert!(!allowed.contains(&k("listing", "L-1")) && !allowed.contains(&k("order", "O-1")));

    assert_eq!(
        as_set(list(&c, "category=misleading_claim")),
        set(&[("listing", "L-1"), ("listing", "L-3")])
    );
    assert_eq!(
        as_set(list(&c, "category=sla_breach")),
        set(&[("order", "O-1")])
    );
    assert_eq!(
        as_set(list(&c, "category=other")),
        set(&[("seller", "S-1")])
    );
    assert_eq!(as_set(list(&c, "category=payment_fraud")), set(&[]));

    // seller_id: the seller's listings and orders (the seller subject itself may or may
    // not count as belonging to itself).
    let reply = c.get("/v1/verdicts?limit=1000&seller_id=S-1");
    for v in reply.ok()["verdicts"].as_array().unwrap() {
        if v["subject"]["type"] != "seller" {
            assert_eq!(v["seller_id"], "S-1", "{v}");
        }
    }
    let of_s1: BTreeSet<_> = as_set(keys(&reply.body["verdicts"]))
        .into_iter()
        .filter(|(kind, _)| kind != "seller")
        .collect();
    assert_eq!(
        of_s1,
        set(&[
            ("listing", "L-1"),
            ("listing", "L-2"),
            ("listing", "L-5"),
            ("order", "O-1")
        ])
    );

    assert_eq!(
        as_set(list(&c, "subject_type=listing&seller_id=S-1&action=allow")),
        set(&[("listing", "L-2"), ("listing", "L-5")])
    );
    assert_eq!(
        as_set(list(
            &c,
            "subject_type=listing&category=misleading_claim&seller_id=S-2"
        )),
        set(&[("listing", "L-3")])
    );
    assert_eq!(
        as_set(list(&c, "subject_type=order&action=block")),
        set(&[])
    );

    // Newest first.
    let all = c.get("/v1/verdicts?limit=1000");
    let times: Vec<i64> = all.ok()["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| millis(v["updated_at"].as_str().unwrap()))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest updated_at first: {}",
        all.text
    );
}

/// `since` keeps the verdicts updated at or after it, in any RFC 3339 offset.
#[test]
fn list_filters_by_since() {
    let server = start();
    let c = server.client();
    populate(&c);
    let all = c.get("/v1/verdicts?limit=1000");
    let all = all.ok()["verdicts"].as_array().unwrap().clone();
    let since = millis(&at_minute(3));
    let expected: BTreeSet<_> = all
        .iter()
        .filter(|v| millis(v["updated_at"].as_str().unwrap()) >= since)
        .map(key)
        .collect();
    assert!(
        expected.contains(&k("listing", "L-4")),
        "L-4 updated at 10:03"
    );
    assert!(
        !expected.contains(&k("listing", "L-1")),
        "L-1 updated at 10:00"
    );
    assert!(expected.len() < all.len());

    assert_eq!(
        as_set(list(&c, &format!("since={}", at_minute(3)))),
        expected
    );
    // The same instant written in +08:00 (`+` escaped in the query).
    assert_eq!(
        as_set(list(&c, "since=2026-11-01T18:03:00%2B08:00")),
        expected
    );
    let listings_since: BTreeSet<_> = expected
        .iter()
        .filter(|(kind, _)| kind == "listing")
        .cloned()
        .collect();
    assert!(listings_since.contains(&k("listing", "L-5")));
    assert_eq!(
        as_set(list(
            &c,
            "since=2026-11-01T10:03:00.000Z&subject_type=listing"
        )),
        listings_since
    );
    assert_eq!(as_set(list(&c, "since=2027-01-01T00:00:00Z")), set(&[]));
}

/// Following `next_cursor` with a small `limit` visits every verdict exactly once, in
/// the same order as one big page, and the last page says `next_cursor: null`.
#[test]
fn cursor_pagination_covers_all_results_without_duplicates() {
    let server = start();
    let c = server.client();
    populate(&c);
    for filter in ["", "&subject_type=listing", "&seller_id=S-1"] {
        let full = c.get(&format!("/v1/verdicts?limit=1000{filter}"));
        let full = keys(&full.ok()["verdicts"]);
        assert!(full.len() >= 3, "{filter}: {full:?}");
        for limit in [1, 2, 3] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            for page in 0.. {
                assert!(page <= full.len(), "{filter} limit {limit}: too many pages");
                let path = match &cursor {
                    None => format!("/v1/verdicts?limit={limit}{filter}"),
                    Some(cursor) => {
                        format!(
                            "/v1/verdicts?limit={limit}{filter}&cursor={}",
                            encode(cursor)
                        )
                    }
                };
                let reply = c.get(&path);
                let body = reply.ok();
                let items = keys(&body["verdicts"]);
                assert!(items.len() <= limit, "{path}: {}", reply.text);
                seen.extend(items);
                match &body["next_cursor"] {
                    Value::Null => break,
                    Value::String(next) => cursor = Some(next.clone()),
                    other => panic!("next_cursor must be a string or null: {other}"),
                }
            }
            assert_eq!(seen, full, "{filter} limit {limit}");
        }
    }
}

/// Percent-encode a cursor for a query string (it is opaque: anything may be in it).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Bad query parameters are `400 invalid-parameter`: subject type, since, limit, cursor.
#[test]
fn list_rejects_bad_parameters() {
    let server = start();
    let c = server.client();
    populate(&c);
    for query in [
        "subject_type=user",
        "since=yesterday",
        "since=2026-11-01T10:00:00",
        "limit=0",
        "limit=1001",
        "limit=ten",
        "limit=-1",
        "cursor=not-a-cursor",
    ] {
        let reply = c.get(&format!("/v1/verdicts?{query}"));
        reply.problem(400, "invalid-parameter");
    }
    // The bounds themselves are fine; the default page is at most 100.
    c.get("/v1/verdicts?limit=1").ok();
    c.get("/v1/verdicts?limit=1000").ok();
    assert!(
        c.get("/v1/verdicts").ok()["verdicts"]
            .as_array()
            .unwrap()
            .len()
            <= 100
    );
}

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
    for key in ["state_bytes", "state_entries", "timers"] {
        assert!(before["usage"][key].is_number(), "usage.{key}: {before}");
    }

    c.send(&listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden"))
        .ok();
    c.send(&listing("e-2", &at_minute(1), "L-2", "S-1", "fine"))
        .ok();
    c.send(&order_paid("e-3", &at_minute(2), "O-1")).ok();
    // Not subscribed: no call.
    c.send(&json!({"event_id": "e-4", "type": "order.delivered", "occurred_at": at_minute(3), "order_id": "O-9"}))
        .ok();

    let after = c.plugin("good");
    let n = |v: &Value, k: &str| v["counters"][k].as_u64().unwrap_or(0);
    assert_eq!(n(&after, "calls") - n(&before, "calls"), 3, "{after}");
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

/// An NDJSON batch applies the good lines, counts duplicates, reports each bad line by
/// its exact number (blank lines count but are ignored) and counts flagged events.
#[test]
fn ndjson_batch_applies_good_lines_and_reports_bad_ones() {
    let server = start();
    let c = server.client();
    let pre = listing("b-0", &at_minute(0), "L-0", "S-0", "fine");
    c.send(&pre).ok();
    let lines = [
        listing("b-1", &at_minute(1), "L-1", "S-1", "forbidden cream").to_string(),
        listing("b-2", &at_minute(2), "L-2", "S-2", "fine cream").to_string(),
        json!({"event_id": "b-3", "type": "order.placed", "occurred_at": at_minute(3),
               "order_id": "O-3", "listing_id": "L-2", "seller_id": "S-2", "buyer_id": "B-1",
               "quantity": 0, "total": {"amount": "19.90", "currency": "CNY"}})
        .to_string(),
        String::new(),
        pre.to_string(),
        "{\"event_id\": \"b-6\", \"type\": ".to_string(),
        json!({"event_id": "b-7", "type": "listing.deleted", "occurred_at": at_minute(7)})
            .to_string(),
        "   ".to_string(),
        order_paid("b-9", &at_minute(9), "O-9").to_string(),
    ];
    let body = lines.join("\n") + "\n";
    let reply = c.send_ndjson(&body);
    let r = reply.ok();
    assert_eq!(r["accepted"], 3, "{}", reply.text);
    assert_eq!(r["duplicates"], 1, "{}", reply.text);
    assert_eq!(r["flagged"], 1, "{}", reply.text);
    let rejected = r["rejected"].as_array().expect("rejected array");
    let numbers: Vec<&Value> = rejected.iter().map(|x| &x["line"]).collect();
    assert_eq!(numbers, [&json!(3), &json!(6), &json!(7)], "{}", reply.text);
    assert!(
        rejected[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("quantity")),
        "line 3 names the field: {}",
        reply.text
    );
    assert!(
        rejected
            .iter()
            .all(|x| x["error"].as_str().is_some_and(|e| !e.is_empty()))
    );

    assert_eq!(c.verdict("listing", "L-1").ok()["action"], "block");
    assert_eq!(c.verdict("listing", "L-2").ok()["action"], "allow");
    c.verdict("order", "O-9").ok();
    c.verdict("order", "O-3").problem(404, "not-found");
}

/// A batch whose every line is bad is still a `200` with everything rejected; an empty
/// batch accepts nothing.
#[test]
fn ndjson_batch_of_only_bad_lines_or_no_lines() {
    let server = start();
    let c = server.client();
    let reply = c.send_ndjson("nope\n{}\n");
    let r = reply.ok();
    assert_eq!(r["accepted"], 0);
    assert_eq!(r["duplicates"], 0);
    assert_eq!(r["flagged"], 0);
    let lines: Vec<&Value> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["line"])
        .collect();
    assert_eq!(lines, [&json!(1), &json!(2)]);
    let reply = c.send_ndjson("\n\n");
    assert_eq!(reply.ok()["accepted"], 0);
    assert_eq!(reply.body["rejected"], json!([]));
}

/// Re-sending an event is idempotent: `duplicate`, the same verdicts, no plugin call; the
/// same `event_id` with different content is `409 event-id-conflict` and changes nothing.
#[test]
fn resend_is_idempotent_and_conflicting_content_is_refused() {
    let server = start();
    let c = server.client();
    let event = listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden cream");
    let first = c.send(&event);
    assert_eq!(first.ok()["status"], "accepted");
    let calls = c.plugin("good")["counters"]["calls"].clone();

    let again = c.send(&event);
    assert_eq!(again.ok()["status"], "duplicate");
    assert_eq!(again.body["event_id"], "e-1");
    assert_eq!(again.body["verdicts"], first.body["verdicts"]);
    assert_eq!(
        c.plugin("good")["counters"]["calls"],
        calls,
        "no plugin ran"
    );

    let conflict = listing("e-1", &at_minute(0), "L-1", "S-1", "harmless cream");
    c.send(&conflict).problem(409, "event-id-conflict");
    let conflict = listing("e-1", &at_minute(1), "L-1", "S-1", "forbidden cream");
    c.send(&conflict).problem(409, "event-id-conflict");
    assert_eq!(
        c.plugin("good")["counters"]["calls"],
        calls,
        "no plugin ran"
    );
    assert_eq!(c.verdict("listing", "L-1").ok()["action"], "block");

    // Later, after other events changed the subjects: still a duplicate, with the
    // current verdicts of the same subjects.
    c.send(&listing("e-2", &at_minute(5), "L-1", "S-1", "now fine"))
        .ok();
    let later = c.send(&event);
    assert_eq!(later.ok()["status"], "duplicate");
    assert_eq!(keys(&later.body["verdicts"]), keys(&first.body["verdicts"]));
    let listing_now = later.body["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| key(v) == k("listing", "L-1"))
        .unwrap()
        .clone();
    assert_eq!(&listing_now, c.verdict("listing", "L-1").ok());
}

/// The same event re-serialised (other key order, whitespace) is the same content: a
/// duplicate, not a conflict.
#[test]
fn resend_with_other_key_order_and_whitespace_is_a_duplicate() {
    let server = start();
    let c = server.client();
    let compact = r#"{"event_id":"e-1","type":"listing.upserted","occurred_at":"2026-11-01T10:00:00Z","listing_id":"L-1","seller_id":"S-1","title":"forbidden cream","price":{"amount":"19.90","currency":"CNY"}}"#;
    let reordered = r#"{ "price": { "currency": "CNY", "amount": "19.90" },
        "title": "forbidden cream", "seller_id": "S-1", "listing_id": "L-1",
        "occurred_at": "2026-11-01T10:00:00Z", "type": "listing.upserted", "event_id": "e-1" }"#;
    let json = [("content-type", "application/json")];
    let first = c.request("POST", "/v1/events", &json, Some(compact.as_bytes()));
    assert_eq!(first.ok()["status"], "accepted");
    let second = c.request("POST", "/v1/events", &json, Some(reordered.as_bytes()));
    assert_eq!(second.ok()["status"], "duplicate");
}

/// Bodies that are not JSON, or not UTF-8, are `400 malformed-json`.
#[test]
fn malformed_json_and_invalid_utf8_are_400() {
    let server = start();
    let c = server.client();
    let json = [("content-type", "application/json")];
    for body in [
        &b"{\"event_id\": \"e-1\", "[..],
        b"not json at all",
        b"",
        b"{\"event_id\":\"e-1\"}}",
        b"{\"event_id\":\"e-\xff\xfe\",\"type\":\"order.paid\",\"occurred_at\":\"2026-11-01T10:00:00Z\",\"order_id\":\"O-1\"}",
    ] {
        let reply = c.request("POST", "/v1/events", &json, Some(body));
        reply.problem(400, "malformed-json");
    }
    // Nothing was applied.
    c.verdict("order", "O-1").problem(404, "not-found");
}

/// JSON that is not a valid event is `422 invalid-event` naming the field at fault:
/// wrong types, bad values, missing fields, unknown `type`.
#[test]
fn invalid_events_are_422_with_the_field() {
    let server = start();
    let c = server.client();
    let base = || {
        json!({"event_id": "e-1", "type": "order.placed", "occurred_at": "2026-11-01T10:00:00Z",
               "order_id": "O-1", "listing_id": "L-1", "seller_id": "S-1", "buyer_id": "B-1",
               "quantity": 1, "total": {"amount": "19.90", "currency": "CNY"},
               "buyer": {"ip": "10.0.0.1"}})
    };
    c.send(&base()).ok();
    // (field named in the problem, JSON pointer to change, new value or None = remove)
    let cases: [(&str, &str, Option<Value>); 9] = [
        ("quantity", "/quantity", Some(json!("one"))),
        ("quantity", "/quantity", Some(json!(0))),
        ("total.amount", "/total/amount", Some(json!(19.9))),
        ("buyer.ip", "/buyer/ip", Some(json!(12345))),
        ("order_id", "/order_id", Some(json!(7))),
        ("occurred_at", "/occurred_at", Some(json!("yesterday"))),
        ("buyer_id", "/buyer_id", None),
        ("type", "/type", Some(json!("order.teleported"))),
        ("event_id", "/event_id", Some(json!(""))),
    ];
    for (i, (field, pointer, value)) in cases.into_iter().enumerate() {
        let mut event = base();
        match value {
            Some(value) => *event.pointer_mut(pointer).expect("pointer") = value,
            None => {
                event.as_object_mut().unwrap().remove(&pointer[1..]);
            }
        }
        if field != "event_id" {
            event["event_id"] = json!(format!("bad-{i}"));
        }
        let reply = c.send(&event);
        let problem = reply.problem(422, "invalid-event");
        assert_eq!(problem["field"], field, "{event}: {}", reply.text);
    }
    // A JSON array or string is JSON but not an event.
    c.send(&json!([1, 2])).problem(422, "invalid-event");
    // Nothing of the bad events was applied.
    assert_eq!(
        c.get("/v1/verdicts/order/O-1/history").ok()["findings"],
        json!([])
    );
}

/// Unknown extra fields are accepted and ignored.
#[test]
fn unknown_extra_fields_are_ignored() {
    let server = start();
    let c = server.client();
    let mut event = listing("e-1", &at_minute(0), "L-1", "S-1", "forbidden");
    event["flavour"] = json!({"nested": [1, 2, 3]});
    assert_eq!(c.send(&event).ok()["status"], "accepted");
}

/// A missing or unsupported content type is `415`; `application/json` with a charset is
/// fine.
#[test]
fn content_types() {
    let server = start();
    let c = server.client();
    let event = listing("e-1", &at_minute(0), "L-1", "S-1", "fine").to_string();
    c.request("POST", "/v1/events", &[], Some(event.as_bytes()))
        .problem(415, "unsupported-media-type");
    c.request(
        "POST",
        "/v1/events",
        &[("content-type", "text/plain")],
        Some(event.as_bytes()),
    )
    .problem(415, "unsupported-media-type");
    c.request(
        "POST",
        "/v1/events",
        &[("content-type", "application/xml")],
        Some(event.as_bytes()),
    )
    .problem(415, "unsupported-media-type");
    c.verdict("listing", "L-1").problem(404, "not-found");
    let reply = c.request(
        "POST",
        "/v1/events",
        &[("content-type", "application/json; charset=utf-8")],
        Some(event.as_bytes()),
    );
    assert_eq!(reply.ok()["status"], "accepted");
}

/// A body above `server.max_body_bytes`, and a batch above `server.max_batch_events`
/// lines, are `413 body-too-large` and apply nothing.
#[test]
fn body_and_batch_limits_are_413() {
    let config = ConfigText::new()
        .server("max_body_bytes = 4096")
        .server("max_batch_events = 3")
        .render();
    let server = Server::start(&config);
    let c = server.client();
    let mut big = listing("e-big", &at_minute(0), "L-big", "S-1", "fine");
    big["description"] = json!("x".repeat(8192));
    c.send(&big).problem(413, "body-too-large");
    c.verdict("listing", "L-big").problem(404, "not-found");

    let four: Vec<String> = (1..=4)
        .map(|i| {
            listing(
                &format!("b-{i}"),
                &at_minute(i),
                &format!("L-{i}"),
                "S-1",
                "fine",
            )
            .to_string()
        })
        .collect();
    c.send_ndjson(&four.join("\n"))
        .problem(413, "body-too-large");
    c.verdict("listing", "L-1").problem(404, "not-found");

    // Within the limits all is well.
    let reply = c.send_ndjson(&four[..3].join("\n"));
    assert_eq!(reply.ok()["accepted"], 3);
    c.send(&listing("e-small", &at_minute(9), "L-small", "S-1", "fine"))
        .ok();
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

/// Order events carry the seller: the order verdict knows its `seller_id`; shipping in
/// time leaves the order allowed when the clock passes its ship-by time.
#[test]
fn orders_shipped_in_time_stay_allowed() {
    let server = start();
    let c = server.client();
    c.send(&order_placed(
        "e-1",
        &at_minute(0),
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&order_paid("e-2", &at_minute(1), "O-1")).ok();
    c.send(&order_shipped("e-3", &at_minute(30), "O-1")).ok();
    c.send(&listing("e-4", &at_minute(300), "L-9", "S-9", "fine"))
        .ok();
    let v = c.verdict("order", "O-1");
    assert_eq!(v.ok()["action"], "allow");
    assert_eq!(v.body["seller_id"], "S-1");
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

/// Within one batch, a repeat of an earlier line is a duplicate and the same `event_id`
/// with other content is rejected on its line; `flagged` counts every accepted event
/// after which a subject it touched is not `allow` (an order placed on a blocked listing
/// counts too).
#[test]
fn batch_repeats_conflicts_and_flagged_counting() {
    let server = start();
    let c = server.client();
    let flagged_listing = listing("r-1", &at_minute(0), "L-1", "S-1", "forbidden cream");
    let lines = [
        flagged_listing.to_string(),
        order_placed("r-2", &at_minute(1), "O-1", "L-1", "S-1", "B-1").to_string(),
        listing("r-3", &at_minute(2), "L-2", "S-2", "fine").to_string(),
        flagged_listing.to_string(),
        listing("r-1", &at_minute(0), "L-1", "S-1", "other cream").to_string(),
    ];
    let reply = c.send_ndjson(&lines.join("\n"));
    let r = reply.ok();
    assert_eq!(r["accepted"], 3, "{}", reply.text);
    assert_eq!(r["duplicates"], 1, "{}", reply.text);
    assert_eq!(r["flagged"], 2, "{}", reply.text);
    let rejected: Vec<&Value> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["line"])
        .collect();
    assert_eq!(rejected, [&json!(5)], "{}", reply.text);
    let v = c.verdict("listing", "L-1");
    assert_eq!(v.ok()["findings"][0]["evidence"][0]["excerpt"], "forbidden");
}

/// Verdicts updated at the same instant are listed by subject, descending.
#[test]
fn list_ties_are_ordered_by_subject_descending() {
    let server = start();
    let c = server.client();
    let at = "2026-11-01T10:00:00Z";
    c.send(&listing("t-1", at, "L-1", "S-1", "fine")).ok();
    c.send(&listing("t-2", at, "L-2", "S-2", "fine")).ok();
    let reply = c.get("/v1/verdicts?limit=1000");
    assert_eq!(
        keys(&reply.ok()["verdicts"]),
        [
            k("seller", "S-2"),
            k("seller", "S-1"),
            k("listing", "L-2"),
            k("listing", "L-1")
        ],
        "{}",
        reply.text
    );
}
