//! Hostile input against one real `probity serve`: thousands of malformed requests, each
//! generated from a seeded RNG with the exact answer it must get
//! ([`probity_e2e::server::Malformed`]).
//!
//! What it proves: every malformed single event — bad JSON, JSON that is no object,
//! wrong JSON types in every member of every event type, invalid UTF-8 and escaped lone
//! surrogates, strings just under (accepted) and over their limits, huge and malformed
//! numbers, nesting up to 10,000 levels, unknown types, impossible timestamps, unsupported
//! media types, gzip bodies (compressed bad events, truncated members, wrong CRCs, bombs
//! inflating past the body limit), `event_id`s re-sent with other content, bodies of
//! 16 MiB + 1 and 100 MiB (streamed, with and without a length) — gets a 4xx (never a 5xx, never a
//! dropped connection) with `content-type: application/problem+json`, the precise
//! problem `type` and the `field` the README names; NDJSON batches with broken lines in
//! the middle apply the good lines before and after them (read back with `GET`) and
//! report exactly the broken line numbers; and afterwards the server is still up
//! (`/healthz`, `/readyz`), accepts a valid event and serves `/metrics`.
//!
//! `PROBITY_LONG_TESTS=1` runs ten times as many variants. The test prints one summary
//! line, `hostile input: N requests …, by category: …`.
//!
//! Three more tests cover refusals made outside the event parser, which must be problems
//! too: an unsupported `content-encoding`, unreadable path and query parameters, and a
//! wrong method.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use probity_e2e::rounds;
use probity_e2e::server::{
    Case, Client, Expected, Framing, JSON, Malformed, Reply, full_event, start_usual, stream_post,
};
use serde_json::{Value, json};

const SEED: u64 = 0x0BAD_1DEA;
const NDJSON: &str = "application/x-ndjson";
const HUGE: u64 = 100 * 1024 * 1024;

/// One category of single hostile requests.
type Generator = fn(&mut Malformed) -> Case;

/// Requests sent, by category, and every wrong answer.
#[derive(Default)]
struct Tally {
    sent: BTreeMap<&'static str, usize>,
    broken_lines: usize,
    failures: Vec<String>,
}

impl Tally {
    fn count(&mut self, category: &'static str) {
        *self.sent.entry(category).or_default() += 1;
    }

    fn fail(&mut self, category: &str, what: String) {
        self.failures.push(format!("[{category}] {what}"));
    }

    /// Send `case` and check the answer.
    fn send(&mut self, c: &Client, case: &Case) {
        self.count(case.category);
        let headers: Vec<(&str, &str)> =
            case.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        match c.try_request("POST", "/v1/events", &headers, Some(&case.body)) {
            Ok(reply) => {
                if let Err(err) = check(&reply, &case.expected) {
                    self.fail(
                        case.category,
                        format!("{err}; sent {}", preview(&case.body)),
                    );
                }
            }
            Err(err) => {
                let what = format!("dropped connection: {err}; sent {}", preview(&case.body));
                self.fail(case.category, what);
            }
        }
    }

    fn total(&self) -> usize {
        self.sent.values().sum()
    }
}

fn preview(body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(240)]);
    format!("{head:?} ({} bytes)", body.len())
}

fn cut(text: &str) -> &str {
    let mut end = text.len().min(400);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn check(reply: &Reply, expected: &Expected) -> Result<(), String> {
    expected
        .check(reply.status, reply.header("content-type"), &reply.body)
        .map_err(|err| format!("{err}: {}", cut(&reply.text)))
}

/// Each event id taken by an accepted original, re-sent: the same content is a
/// duplicate (also with an unknown member, or the same instant at another offset);
/// other content (another time, type, member or spelling of the price) is
/// `409 event-id-conflict` naming `event_id`.
fn conflicts(c: &Client, g: &mut Malformed, t: &mut Tally, originals: usize) {
    for _ in 0..originals {
        let (kind, n) = (g.below(0..12), g.serial());
        let (id, at) = (format!("hx-c{n}"), Malformed::at(n));
        let original = full_event(kind, &id, &at, n);
        let mut extra = original.clone();
        extra["x-note"] = json!("ignored");
        let mut shifted = original.clone();
        let local = probity::model::time::parse_rfc3339(&at).expect("at") + 8 * 3_600_000;
        let local = probity::model::time::format_rfc3339(local);
        shifted["occurred_at"] = json!(local.replace('Z', "+08:00"));
        let expect = |event: &Value, status: &str, t: &mut Tally| {
            t.count("conflict_controls");
            let reply = c.try_send(event);
            match reply {
                Ok(r) if r.status == 200 && r.body["status"] == status => {}
                Ok(r) => t.fail(
                    "conflicts",
                    format!("expected 200 {status}, got {}: {}", r.status, cut(&r.text)),
                ),
                Err(err) => t.fail("conflicts", format!("dropped connection: {err}")),
            }
        };
        expect(&original, "accepted", t);
        for same in [&original, &extra, &shifted] {
            expect(same, "duplicate", t);
        }
        let mut later = original.clone();
        later["occurred_at"] = json!(Malformed::at(n + 1));
        let other_type = full_event(kind + 1 + g.below(0..11), &id, &at, n);
        let mut other_member = original.clone();
        let member = ["listing_id", "order_id", "complaint_id"]
            .into_iter()
            .find(|m| original.get(*m).is_some())
            .expect("every full event names a listing, order or complaint");
        other_member[member] = json!(format!("other-{n}"));
        let mut variants = vec![later, other_type, other_member];
        for money in ["price", "total", "amount"] {
            if original.get(money).is_some() {
                let mut respelled = original.clone();
                respelled[money]["amount"] = json!("19.9");
                variants.push(respelled);
            }
        }
        for variant in variants {
            let case = Case {
                category: "conflicts",
                headers: vec![("content-type", JSON.to_owned())],
                body: variant.to_string().into_bytes(),
                expected: Expected::problem(409, "event-id-conflict", Some("event_id")),
            };
            t.send(c, &case);
        }
    }
}

/// A broken NDJSON line (no newline inside) and what its rejection must name.
fn broken_line(g: &mut Malformed) -> (Vec<u8>, Expected) {
    loop {
        let case = match g.below(0..8) {
            0 => g.bad_json(true),
            1 => g.wrong_type(),
            2 => g.invalid_utf8(),
            3 => g.unknown_type(),
            4 => g.bad_timestamp(),
            5 => g.huge_number(),
            6 => g.not_an_object(),
            _ => g.huge_string(),
        };
        if case.expected != Expected::Accepted && !case.body.contains(&b'\n') {
            return (case.body, case.expected);
        }
    }
}

/// NDJSON batches: good listings, then broken lines (and blank ones, and more good
/// lines) in the middle, then good listings. Every good line is applied — its verdict
/// reads back — and exactly the broken lines are rejected, naming their fields.
fn ndjson(c: &Client, g: &mut Malformed, t: &mut Tally, batches: usize) {
    for _ in 0..batches {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let (mut good, mut broken) = (Vec::new(), Vec::new());
        let mut push_good = |g: &mut Malformed, lines: &mut Vec<Vec<u8>>| {
            let event = g.event(Some(0));
            good.push(event["listing_id"].as_str().unwrap_or_default().to_owned());
            lines.push(event.to_string().into_bytes());
        };
        for _ in 0..g.below(1..4) {
            push_good(g, &mut lines);
        }
        for _ in 0..g.below(1..4) {
            match g.below(0..3) {
                0 => lines.push(b"  ".to_vec()),
                1 => push_good(g, &mut lines),
                _ => {}
            }
            let (line, expected) = broken_line(g);
            lines.push(line);
            broken.push((lines.len(), expected));
        }
        for _ in 0..g.below(1..4) {
            push_good(g, &mut lines);
        }
        t.count("ndjson");
        t.broken_lines += broken.len();
        let body = [lines.join(&b'\n'), b"\n".to_vec()].concat();
        let reply = match c.try_request(
            "POST",
            "/v1/events",
            &[("content-type", NDJSON)],
            Some(&body),
        ) {
            Ok(reply) => reply,
            Err(err) => {
                t.fail("ndjson", format!("dropped connection: {err}"));
                continue;
            }
        };
        let r = &reply.body;
        let rejected: Vec<(u64, Option<&str>)> = r["rejected"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| (x["line"].as_u64().unwrap_or(0), x["field"].as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let expected: Vec<(u64, Option<&str>)> = broken
            .iter()
            .map(|(line, e)| (*line as u64, e.field()))
            .collect();
        if reply.status != 200
            || r["accepted"] != good.len()
            || r["duplicates"] != 0
            || rejected != expected
        {
            let what = format!(
                "expected {} accepted and rejected {expected:?}; got {}: {}",
                good.len(),
                reply.status,
                cut(&reply.text)
            );
            t.fail("ndjson", what);
        }
        for id in &good {
            t.count("read_back");
            match c.try_request("GET", &format!("/v1/verdicts/listing/{id}"), &[], None) {
                Ok(v) if v.status == 200 && v.body["action"] == "allow" => {}
                Ok(v) => t.fail("read_back", format!("{id}: {} {}", v.status, cut(&v.text))),
                Err(err) => t.fail("read_back", format!("{id}: dropped connection: {err}")),
            }
        }
    }
}

/// 100 MiB bodies streamed (with a length, chunked, as NDJSON), 16 MiB + 1 through the
/// usual client, and a batch of 10,001 lines: `413 body-too-large`, quickly. Returns a
/// note of the streamed timings.
fn huge_bodies(base: &str, c: &Client, t: &mut Tally) -> String {
    let mut notes = Vec::new();
    for (content_type, framing) in [
        (JSON, Framing::Length),
        (JSON, Framing::Chunked),
        (NDJSON, Framing::Length),
    ] {
        t.count("body_too_large");
        let label = format!("100 MiB {content_type} {framing:?}");
        match stream_post(
            base,
            "/v1/events",
            content_type,
            HUGE,
            framing,
            Duration::from_secs(60),
        ) {
            Ok(r) => {
                let ct = r.header("content-type");
                if let Err(err) = Expected::too_large().check(r.status, ct, &r.body) {
                    t.fail("body_too_large", format!("{label}: {err}: {}", r.body));
                }
                if r.elapsed > Duration::from_secs(10) {
                    t.fail(
                        "body_too_large",
                        format!("{label}: answered after {:?}", r.elapsed),
                    );
                }
                notes.push(format!(
                    "{framing:?} {content_type} {} ms ({} MiB sent)",
                    r.elapsed.as_millis(),
                    r.sent >> 20
                ));
            }
            Err(err) => t.fail(
                "body_too_large",
                format!("{label}: dropped connection: {err}"),
            ),
        }
    }
    let over = Case {
        category: "body_too_large",
        headers: vec![("content-type", JSON.to_owned())],
        body: vec![b' '; 16 * 1024 * 1024 + 1],
        expected: Expected::too_large(),
    };
    t.send(c, &over);
    let lines = Case {
        category: "body_too_large",
        headers: vec![("content-type", NDJSON.to_owned())],
        body: "x\n".repeat(10_001).into_bytes(),
        expected: Expected::too_large(),
    };
    t.send(c, &lines);
    notes.join(", ")
}

/// After everything: alive, ready, accepting a valid event, serving metrics.
fn still_up(c: &Client, g: &mut Malformed) {
    c.get("/healthz").expect_status(200);
    c.get("/readyz").expect_status(200);
    let event = g.event(Some(0));
    assert_eq!(
        c.send(&event).ok()["status"],
        "accepted",
        "a valid event after the storm"
    );
    let listing = event["listing_id"].as_str().expect("listing id");
    c.verdict("listing", listing).ok();
    let metrics = c.get("/metrics");
    metrics.expect_status(200);
    assert!(
        metrics.text.contains("probity_events_total"),
        "{}",
        cut(&metrics.text)
    );
}

/// Thousands of malformed requests against one server: each gets the precise 4xx
/// problem; batches apply their good lines; the server stays up.
#[test]
fn thousands_of_hostile_requests_get_precise_problems_and_the_server_stays_up() {
    let server = start_usual();
    let c = server.client();
    let started = Instant::now();
    let mut g = Malformed::new(SEED);
    let mut t = Tally::default();
    let x = rounds(1, 10);
    let generators: [(usize, Generator); 10] = [
        (600, |g| g.bad_json(false)),
        (100, Malformed::not_an_object),
        (1200, Malformed::wrong_type),
        (800, Malformed::invalid_utf8),
        (300, Malformed::huge_string),
        (800, Malformed::huge_number),
        (500, Malformed::unknown_type),
        (800, Malformed::bad_timestamp),
        (200, Malformed::bad_media),
        (200, Malformed::gzipped),
    ];
    for (n, generate) in generators {
        for _ in 0..n * x {
            let case = generate(&mut g);
            t.send(&c, &case);
        }
    }
    for i in 0..60 * x {
        let case = g.deep_nesting(i == 0);
        t.send(&c, &case);
    }
    conflicts(&c, &mut g, &mut t, 50 * x);
    ndjson(&c, &mut g, &mut t, 100 * x);
    let streamed = huge_bodies(server.base_url(), &c, &mut t);
    still_up(&c, &mut g);

    let by_category: Vec<String> = t.sent.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!(
        "hostile input: {} requests in {:.1} s, by category: {}; {} broken NDJSON lines; 100 MiB bodies: {streamed}",
        t.total(),
        started.elapsed().as_secs_f64(),
        by_category.join(", "),
        t.broken_lines,
    );
    assert!(
        t.failures.is_empty(),
        "{} of {} hostile requests got a wrong answer; the first ones:\n{}",
        t.failures.len(),
        t.total(),
        t.failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// An unsupported `content-encoding` is a problem like every other refusal.
#[test]
fn unsupported_content_encodings_get_a_problem() {
    let server = start_usual();
    let c = server.client();
    let event = full_event(2, "ce-1", &Malformed::at(1), 1).to_string();
    for encoding in ["br", "deflate", "zstd", "compress", "foo"] {
        let headers = [("content-type", JSON), ("content-encoding", encoding)];
        let reply = c.request("POST", "/v1/events", &headers, Some(event.as_bytes()));
        reply.problem(415, "unsupported-media-type");
    }
}

/// Path and query parameters the extractors cannot read are `400 invalid-parameter`
/// problems naming them.
#[test]
fn unreadable_path_and_query_parameters_get_a_problem() {
    let server = start_usual();
    let c = server.client();
    let reply = c.get("/v1/verdicts/listing/%FF");
    assert_eq!(
        reply.problem(400, "invalid-parameter")["field"],
        "subject_id"
    );
    let reply = c.get("/v1/admin/audit?limit=abc");
    assert_eq!(reply.problem(400, "invalid-parameter")["field"], "limit");
}

/// A method a route does not take is a `405` problem.
#[test]
fn wrong_methods_get_a_problem() {
    let server = start_usual();
    let c = server.client();
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let reply = c.request(method, "/v1/events", &[], None);
        assert_eq!(reply.status, 405, "{method}: {}", reply.text);
        let content_type = reply.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "{method}: `{content_type}`"
        );
        assert_eq!(reply.body["status"], 405, "{method}: {}", reply.text);
    }
}
