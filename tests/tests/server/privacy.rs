//! `probity serve` never writes raw personal data (`buyer_id`, `buyer.device_id`,
//! `buyer.ip`, `buyer.shipping_address`, `buyer.phone`, `payment_fingerprint`) or bearer
//! tokens (accepted or refused) to disk or to its logs, even at debug level and for
//! requests it rejects.

use probity_e2e::server::{ConfigText, Server, contains_bytes, files_under, token_table};
use serde_json::{Value, json};

/// Distinctive raw values, and the forms a careless normaliser might store instead.
const RAW: &[&str] = &[
    // Accepted order.
    "buyer-RAW-7731",
    "device-RAW-5512",
    "203.0.113.77",
    "Room 1202, 88 Nanjing Road",
    "room 1202 88 nanjing road",
    "Nanjing Road",
    "+86 138 0013 8000",
    "+8613800138000",
    "13800138000",
    "0013 8000",
    "pf-RAW-9f3c2a41",
    // Rejected order (quantity 0) and a malformed body.
    "buyer-RAW-4410",
    "device-RAW-6620",
    "198.51.100.23",
    "Flat 7, 12 Huaihai Road",
    "Huaihai Road",
    "+86 139 1111 2222",
    "13911112222",
    "buyer-RAW-9999",
    // A value that is not an IP address.
    "not-an-ip-RAW-8080",
    // The conflicting resend of the accepted order.
    "+86 137 5555 6666",
    "13755556666",
    // Batch lines.
    "buyer-RAW-5150",
    "device-RAW-5151",
    "buyer-RAW-5252",
    "pf-RAW-77aa01",
    // Typed into free text (a complaint, a refund reason): masked before storing.
    "+86 135 7777 8888",
    "13577778888",
    "7777 8888",
    "li.si-RAW@example.com",
    "4111 1111 1111 1111",
    "110101199003074477",
    // Bearer tokens: the server's own, and ones it refuses.
    TOKEN,
    "tok-RAW-wrong-5d1e0c77b2",
    "tok-RAW-basic-9a3f",
];

/// The token every request of [`exercise`] carries (role ingest, read, admin).
const TOKEN: &str = "tok-RAW-secret-6f2a91c4e07d";

/// The usual configuration with [`TOKEN`].
fn with_token() -> String {
    ConfigText::new()
        .tail(&token_table("ops", TOKEN, &["ingest", "read", "admin"]))
        .render()
}

fn placed(event_id: &str, order_id: &str, buyer: Value, quantity: u32) -> Value {
    let buyer_id = buyer["buyer_id"].clone();
    let mut buyer = buyer;
    buyer.as_object_mut().unwrap().remove("buyer_id");
    json!({
        "event_id": event_id, "type": "order.placed", "occurred_at": "2026-11-01T10:00:00Z",
        "order_id": order_id, "listing_id": "L-P", "seller_id": "S-P", "buyer_id": buyer_id,
        "quantity": quantity, "total": {"amount": "19.90", "currency": "CNY"}, "buyer": buyer
    })
}

/// Send every kind of request carrying personal data: accepted, duplicate, conflicting,
/// rejected (422, 400), in a batch; then read verdicts and histories back (which must not
/// hold raw values either).
fn exercise(server: &Server) {
    let c = server.client();
    c.send(&json!({
        "event_id": "c-1", "type": "complaint.opened", "occurred_at": "2026-11-01T09:00:00Z",
        "complaint_id": "C-P1", "seller_id": "S-P",
        "text": "call me at +86 135 7777 8888 or mail li.si-RAW@example.com"
    }))
    .ok();
    c.send(&json!({
        "event_id": "r-1", "type": "refund.requested", "occurred_at": "2026-11-01T09:01:00Z",
        "order_id": "O-P9", "refund_id": "RF-P1",
        "reason": "charged twice on 4111 1111 1111 1111, id 110101199003074477"
    }))
    .ok();
    let good = placed(
        "p-1",
        "O-P1",
        json!({"buyer_id": "buyer-RAW-7731", "device_id": "device-RAW-5512",
               "ip": "203.0.113.77", "shipping_address": "Room 1202, 88 Nanjing Road",
               "phone": "+86 138 0013 8000", "account_created_at": "2026-10-01T00:00:00Z"}),
        1,
    );
    assert_eq!(c.send(&good).ok()["status"], "accepted");
    assert_eq!(c.send(&good).ok()["status"], "duplicate");
    let mut conflicting = good.clone();
    conflicting["buyer"]["phone"] = json!("+86 137 5555 6666");
    c.send(&conflicting).problem(409, "event-id-conflict");

    let paid = json!({"event_id": "p-2", "type": "order.paid", "occurred_at": "2026-11-01T10:01:00Z",
                      "order_id": "O-P1", "payment_fingerprint": "pf-RAW-9f3c2a41"});
    c.send(&paid).ok();

    let rejected = placed(
        "p-3",
        "O-P3",
        json!({"buyer_id": "buyer-RAW-4410", "device_id": "device-RAW-6620",
               "ip": "198.51.100.23", "shipping_address": "Flat 7, 12 Huaihai Road",
               "phone": "+86 139 1111 2222"}),
        0,
    );
    c.send(&rejected).problem(422, "invalid-event");
    let malformed =
        br#"{"event_id": "p-4", "type": "order.placed", "buyer_id": "buyer-RAW-9999", "#;
    c.request(
        "POST",
        "/v1/events",
        &[("content-type", "application/json")],
        Some(&malformed[..]),
    )
    .problem(400, "malformed-json");
    let bad_ip = placed(
        "p-5",
        "O-P5",
        json!({"buyer_id": "B-5", "ip": "not-an-ip-RAW-8080"}),
        1,
    );
    let reply = c.send(&bad_ip);
    assert!(reply.status == 200 || reply.status == 422, "{}", reply.text);

    let batch = [
        placed(
            "p-6",
            "O-P6",
            json!({"buyer_id": "buyer-RAW-5150", "device_id": "device-RAW-5151"}),
            1,
        )
        .to_string(),
        placed("p-7", "O-P7", json!({"buyer_id": "buyer-RAW-5252"}), 0).to_string(),
        json!({"event_id": "p-8", "type": "order.paid", "occurred_at": "2026-11-01T10:02:00Z",
               "order_id": "O-P6", "payment_fingerprint": "pf-RAW-77aa01"})
        .to_string(),
        // Clock past the ship-by times: timers fire with what they stored.
        json!({"event_id": "p-9", "type": "order.delivered", "occurred_at": "2026-11-01T12:00:00Z",
               "order_id": "O-P9"})
        .to_string(),
    ];
    let reply = c.send_ndjson(&batch.join("\n"));
    assert_eq!(reply.ok()["accepted"], 3, "{}", reply.text);

    // Refused tokens, and a reload (which logs and audits the configuration).
    for header in [
        "Bearer tok-RAW-wrong-5d1e0c77b2",
        "Basic tok-RAW-basic-9a3f",
    ] {
        c.request("GET", "/v1/plugins", &[("authorization", header)], None)
            .problem(401, "unauthorized");
    }
    c.post_empty("/v1/admin/reload").ok();

    let mut read_back = String::new();
    for path in [
        "/v1/verdicts/order/O-P1",
        "/v1/verdicts/order/O-P1/history",
        "/v1/verdicts/order/O-P6/history",
        "/v1/verdicts?limit=1000",
        "/v1/plugins",
        "/metrics",
        "/v1/admin/audit",
    ] {
        let reply = c.get(path);
        reply.expect_status(200);
        read_back.push_str(&reply.text);
    }
    assert_eq!(c.verdict("order", "O-P1").ok()["action"], "review");
    for raw in RAW {
        assert!(
            !read_back.to_lowercase().contains(&raw.to_lowercase()),
            "`{raw}` is in what the API returns from storage"
        );
    }
}

/// Bytes with ASCII letters lowercased.
fn lower(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_lowercase()
}

/// The forms a raw value could be written in: as is (compared case-insensitively), as
/// lowercase hex, and as a list of decimal bytes (how sled's debug logs print keys).
fn encodings(raw: &str) -> Vec<Vec<u8>> {
    let bytes = raw.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let decimal: Vec<String> = bytes.iter().map(u8::to_string).collect();
    vec![
        raw.to_ascii_lowercase().into_bytes(),
        hex.into_bytes(),
        decimal.join(", ").into_bytes(),
    ]
}

/// Stop the server and scan every file under its directory and all of its stderr.
fn assert_nothing_leaked(mut server: Server, debug_marker: &str) {
    server.stop();
    let files = files_under(server.dir());
    let data_files = files_under(&server.data_dir());
    let data_bytes: u64 = data_files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    assert!(data_bytes > 0, "the data directory holds the store");
    let stderr = server.stderr_bytes();
    let text = String::from_utf8_lossy(&stderr);
    assert!(text.contains("listening on"), "stderr was captured");
    assert!(
        text.contains(debug_marker),
        "PROBITY_LOG=debug took effect (`{debug_marker}` in stderr)"
    );
    let stderr = lower(&stderr);
    let mut leaks = Vec::new();
    let contents: Vec<Vec<u8>> = files
        .iter()
        .map(|file| lower(&std::fs::read(file).unwrap_or_default()))
        .collect();
    for raw in RAW {
        for needle in encodings(raw) {
            let shown = String::from_utf8_lossy(&needle).into_owned();
            if contains_bytes(&stderr, &needle) {
                leaks.push(format!("`{raw}` (as `{shown}`) in stderr"));
            }
            for (file, bytes) in files.iter().zip(&contents) {
                if contains_bytes(bytes, &needle) {
                    leaks.push(format!("`{raw}` (as `{shown}`) in {}", file.display()));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "raw personal data leaked:\n{}\n--- stderr ---\n{}",
        leaks.join("\n"),
        server.stderr_text()
    );
}

/// Text logs at debug level, then the data directory and stderr hold no raw personal
/// value and no token.
#[test]
fn no_raw_personal_data_on_disk_or_in_text_logs() {
    let server = Server::builder(&with_token())
        .token(TOKEN)
        .env("PROBITY_LOG", "debug")
        .start();
    exercise(&server);
    assert_nothing_leaked(server, " DEBUG ");
}

/// The same with JSON logs at debug level.
#[test]
fn no_raw_personal_data_on_disk_or_in_json_logs() {
    let server = Server::builder(&with_token())
        .token(TOKEN)
        .env("PROBITY_LOG", "debug")
        .arg("--log-format")
        .arg("json")
        .start();
    exercise(&server);
    assert_nothing_leaked(server, "\"level\":\"DEBUG\"");
}
