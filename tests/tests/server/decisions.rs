//! Reviewers' decisions (issue 21): an overturned finding stops counting for its
//! subject's action and its seller's rating; the history shows the decision beside the
//! finding; the same claim on the same facts is not raised again (new facts are); a
//! confirmed finding stays; decisions are exported as labelled data, survive a restart
//! (they are in the event log), need the `review` (or `admin`) role, and a decision on a
//! finding that is not there is refused with nothing recorded.

use probity_e2e::server::{ConfigText, Server, hash_token, listing, order_placed, token_table};
use serde_json::{Value, json};

const REVIEWER: &str = "reviewer-token-0123456789abcdef0001";
const READER: &str = "reader-token-0123456789abcdef000002";
const ADMIN: &str = "admin-token-0123456789abcdef0000003";

fn config(misleading_points: u32) -> String {
    ConfigText::new()
        .server("watch_config = false")
        .tail(&format!(
            "{}{}{}[rating.inputs.misleading_claim]\npoints = {misleading_points}\n\n{}",
            token_table("reviewer", REVIEWER, &["review"]),
            token_table("reader", READER, &["read", "ingest"]),
            token_table("admin", ADMIN, &["admin", "read"]),
            concat!(
                "[[rating.measures]]\nname = \"listing_review\"\nrule = \"good.word\"\n",
                "confirmed = true\nnotice_en = \"Listings under review.\"\nnotice_zh = \"商品复核中。\"\n",
            ),
        ))
        .render()
}

fn rating(client: &probity_e2e::server::Client) -> Value {
    client.get("/v1/sellers/S-1/rating").ok().clone()
}

#[test]
fn an_overturned_finding_stops_counting_and_is_not_raised_again() {
    let _ = hash_token;
    let mut server = Server::start(&config(3));
    let reader = server.client().with_token(READER);
    let reviewer = server.client().with_token(REVIEWER);
    let admin = server.client().with_token(ADMIN);
    for k in 0..6 {
        let at = format!("2026-11-01T10:0{k}:00Z");
        reader
            .send(&order_placed(
                &format!("o-{k}"),
                &at,
                &format!("O-{k}"),
                "L-0",
                "S-1",
                "B-1",
            ))
            .ok();
    }
    let flagged = reader
        .send(&listing(
            "l-1",
            "2026-11-01T11:00:00Z",
            "L-1",
            "S-1",
            "forbidden soap",
        ))
        .ok()
        .clone();
    assert!(flagged.to_string().contains("good.word"), "{flagged}");
    assert_eq!(reader.verdict("listing", "L-1").ok()["action"], "block");
    let before = rating(&reader);
    assert_eq!(before["score"], 97.0, "one misleading claim: {before}");
    // Event time moves on before the review.
    reader
        .send(&order_placed(
            "o-6",
            "2026-11-01T11:30:00Z",
            "O-6",
            "L-0",
            "S-1",
            "B-2",
        ))
        .ok();

    // The `review` role is needed (admin may too); a reader may not.
    let body = json!({"plugin": "good", "rule": "good.word", "event_id": "l-1",
                      "decision": "overturn", "note": "the word is the brand's name"});
    reader
        .post_json("/v1/verdicts/listing/L-1/decisions", &body)
        .problem(403, "forbidden");
    // A finding that is not there: refused, nothing recorded.
    reviewer
        .post_json(
            "/v1/verdicts/listing/L-1/decisions",
            &json!({"plugin": "good", "rule": "no.such_rule", "decision": "overturn"}),
        )
        .problem(404, "not-found");
    reviewer
        .post_json(
            "/v1/verdicts/listing/L-1/decisions",
            &json!({"plugin": "good", "rule": "good.word", "decision": "maybe"}),
        )
        .problem(400, "invalid-parameter");

    let answer = reviewer
        .post_json("/v1/verdicts/listing/L-1/decisions", &body)
        .ok()
        .clone();
    assert_eq!(answer["decision"]["decision"], "overturn");
    assert_eq!(answer["decision"]["reviewer"], "reviewer");
    assert_eq!(answer["verdict"]["action"], "allow", "{answer}");
    let verdict = reader.verdict("listing", "L-1").ok().clone();
    assert_eq!(verdict["action"], "allow");
    assert_eq!(
        verdict["findings"].as_array().map(Vec::len),
        Some(0),
        "{verdict}"
    );
    let after = rating(&reader);
    assert_eq!(after["score"], 100.0, "the rating rose: {after}");
    assert!(
        after.to_string().contains("overturned on review"),
        "{after}"
    );
    // As it stood before the decision: still counted.
    let earlier = reader
        .get("/v1/sellers/S-1/rating?at=2026-11-01T11:15:00Z")
        .ok()
        .clone();
    assert_eq!(earlier["score"], 97.0, "{earlier}");
    let history = reader.get("/v1/verdicts/listing/L-1/history").ok().clone();
    let first = &history["findings"][0];
    assert_eq!(first["rule"], "good.word");
    assert_eq!(first["decisions"][0]["decision"], "overturn", "{history}");
    assert_eq!(
        first["decisions"][0]["note"],
        "the word is the brand's name"
    );

    // The same listing again (a re-send with a new event id): the same claim on the same
    // facts is not raised again. A new title is new facts: raised.
    reader
        .send(&listing(
            "l-2",
            "2026-11-01T12:00:00Z",
            "L-1",
            "S-1",
            "forbidden soap",
        ))
        .ok();
    assert_eq!(reader.verdict("listing", "L-1").ok()["action"], "allow");
    reader
        .send(&listing(
            "l-3",
            "2026-11-01T13:00:00Z",
            "L-1",
            "S-1",
            "soap, forbidden",
        ))
        .ok();
    assert_eq!(reader.verdict("listing", "L-1").ok()["action"], "block");

    // A confirmation keeps the finding.
    let confirmed = admin
        .post_json(
            "/v1/verdicts/listing/L-1/decisions",
            &json!({"plugin": "good", "rule": "good.word", "decision": "confirm", "note": "yes"}),
        )
        .ok()
        .clone();
    assert_eq!(confirmed["verdict"]["action"], "block");
    // The finding taken again on new facts counts again (3 points; and 1 for `good`'s
    // seller finding at the third listing event); confirmed, it starts the measure that
    // asks for a confirmed `good.word`.
    assert_eq!(rating(&reader)["score"], 96.0);
    let published = admin.post_empty("/v1/admin/ratings/publish").ok().clone();
    let period = published["period"].as_str().expect("period").to_string();
    let measures = reader.get("/v1/sellers/S-1/measures").ok().clone();
    assert_eq!(
        measures["measures"][0]["measure"], "listing_review",
        "{measures}"
    );
    assert_eq!(measures["measures"][0]["started_period"], period.as_str());

    // The rating's settings reload live and are audited.
    server.set_config(&config(10));
    let reload = admin.post_empty("/v1/admin/reload").ok().clone();
    assert!(reload.to_string().contains("\"rating\""), "{reload}");
    assert_eq!(
        rating(&reader)["score"],
        89.0,
        "10 points a misleading claim now"
    );

    // Exported as labelled data, oldest first.
    let export = reviewer.get("/v1/decisions").ok().clone();
    let all = export["decisions"].as_array().expect("decisions").clone();
    assert_eq!(all.len(), 2, "{export}");
    assert_eq!(all[0]["decision"], "overturn");
    assert_eq!(all[0]["finding"]["evidence"][0]["excerpt"], "forbidden");
    assert_eq!(all[0]["subject"], json!({"type": "listing", "id": "L-1"}));
    assert_eq!(all[1]["decision"], "confirm");
    let page = reviewer.get("/v1/decisions?limit=1").ok().clone();
    let cursor = page["next_cursor"].as_u64().expect("a cursor");
    let rest = reviewer
        .get(&format!("/v1/decisions?cursor={cursor}"))
        .ok()
        .clone();
    assert_eq!(rest["decisions"].as_array().map(Vec::len), Some(1));
    let audit = admin.get("/v1/admin/audit").ok().clone();
    assert!(
        audit.to_string().contains("\"action\":\"decision\""),
        "{audit}"
    );

    // In the event log: a restart (and a rebuild) keeps every decision's effect.
    let rated = rating(&reader);
    server.stop();
    let rebuilt = server.rebuild();
    assert!(rebuilt.contains("rebuilt"), "{rebuilt}");
    server.restart();
    let reader = server.client().with_token(READER);
    let verdict = reader.verdict("listing", "L-1").ok().clone();
    assert_eq!(
        verdict["decisions"].as_array().map(Vec::len),
        Some(2),
        "{verdict}"
    );
    assert_eq!(verdict["action"], "block");
    assert_eq!(rating(&reader), rated, "the same rating after a rebuild");
}
