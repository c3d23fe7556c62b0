//! `probity serve`: reading verdicts against the real binary with the `good` test plugin:
//! `GET /v1/verdicts/{type}/{id}` and its history, unknown subjects and routes, and the
//! `GET /v1/verdicts` list with its filters, ordering and cursor pagination.

use std::collections::BTreeSet;

use probity_e2e::server::{
    Client, at_minute, listing, millis, order_paid, order_placed, order_shipped,
    start_usual as start, subject_key as k, verdict_key as key, verdict_keys as keys,
};
use serde_json::{Value, json};

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

/// History comes a page at a time, oldest first, each finding once; a re-send of the same
/// listing adds nothing.
#[test]
fn history_pages_cover_every_finding_once() {
    let server = start();
    let c = server.client();
    // Five different findings (the word moves, so the evidence differs), each sent twice.
    for i in 0..5 {
        let title = format!("{}forbidden", "x".repeat(i));
        for copy in 0..2 {
            c.send(&listing(
                &format!("e-{i}-{copy}"),
                &at_minute(i as u32 * 2 + copy),
                "L-1",
                "S-1",
                &title,
            ))
            .ok();
        }
    }
    let mut starts = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/verdicts/listing/L-1/history?limit=2&cursor={cursor}"),
            None => "/v1/verdicts/listing/L-1/history?limit=2".to_string(),
        };
        let page = c.get(&path).ok().clone();
        pages += 1;
        let findings = page["findings"].as_array().expect("findings").clone();
        assert!(findings.len() <= 2, "{page}");
        starts.extend(
            findings
                .iter()
                .filter(|f| f["rule"] == "good.word")
                .map(|f| f["evidence"][0]["start"].as_u64().unwrap_or(99)),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(starts, [0, 1, 2, 3, 4], "each finding once, oldest first");
    assert!(pages >= 3);
    c.get("/v1/verdicts/listing/L-1/history?limit=0")
        .problem(400, "invalid-parameter");
    c.get("/v1/verdicts/listing/L-1/history?cursor=zz")
        .problem(400, "invalid-parameter");
}
