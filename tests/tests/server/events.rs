//! `probity serve`: `POST /v1/events` against the real binary with the `good` test
//! plugin: single events and their verdicts, NDJSON batches, idempotent re-sends and
//! `event_id` conflicts, malformed and invalid bodies, content types and size limits.

use probity_e2e::server::{
    ConfigText, Server, at_minute, listing, millis, order_paid, order_placed, start_usual as start,
    subject_key as k, verdict_key as key, verdict_keys as keys,
};
use serde_json::{Value, json};

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
    assert_eq!(
        r["waiting"], 1,
        "the payment waits for its order: {}",
        reply.text
    );
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
    // O-9 was never placed: its payment waits for it, logged, with no verdict yet.
    c.verdict("order", "O-9").problem(404, "not-found");
    c.verdict("order", "O-3").problem(404, "not-found");
    c.send_ndjson(
        &(order_placed("b-10", &at_minute(10), "O-9", "L-1", "S-1", "B-1").to_string() + "\n"),
    )
    .ok();
    assert_eq!(
        c.verdict("order", "O-9").ok()["findings"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "evaluated once its order came"
    );
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
