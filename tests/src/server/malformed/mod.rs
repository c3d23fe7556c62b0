//! Hostile request bodies for `POST /v1/events`, each with the answer it must get:
//! [`Malformed`] generates them from a seeded RNG, one category per method, so a run is
//! reproducible and every variant knows its exact status, problem slug and `field`.
//!
//! The bodies are built from full events of all twelve types (every optional member
//! present) and then broken: bad JSON, wrong JSON types, invalid UTF-8 and escaped lone
//! surrogates, strings just under and over their limits, huge and malformed numbers,
//! deep nesting, unknown event types, impossible timestamps, bad media types and
//! encodings. Variants that must be *accepted* (a string exactly at its limit, a deep
//! array in an unknown member) carry fresh ids so they never conflict.
//!
//! The pieces: this module ([`Expected`], [`Case`], the generator and the JSON-level
//! categories), `limits` (sizes, numbers, nesting, media types, gzip), `tables` (full
//! events of every type, the byte sequences and texts that are wrong) and `gzip` (gzip
//! bodies without a compression crate).

mod gzip;
mod limits;
mod tables;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

pub use gzip::{gzip_bomb, gzip_stored};
pub use tables::full_event;
use tables::{BAD_TIMESTAMPS, LONE_SURROGATES, NOT_UTF8, set, slots, wrong_values};

/// What a hostile request must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// An RFC 9457 problem `urn:probity:problem:<slug>` with this status, naming `field`
    /// (`None`: no `field` member).
    Problem {
        /// The HTTP status.
        status: u16,
        /// The problem slug.
        slug: &'static str,
        /// The `field` the problem names, if any.
        field: Option<String>,
    },
    /// `200`: the event is valid (a control at a limit).
    Accepted,
}

impl Expected {
    /// `400 malformed-json`.
    pub fn malformed() -> Self {
        Self::problem(400, "malformed-json", None)
    }

    /// `422 invalid-event` naming `field`.
    pub fn invalid(field: &str) -> Self {
        Self::problem(422, "invalid-event", Some(field))
    }

    /// `413 body-too-large`.
    pub fn too_large() -> Self {
        Self::problem(413, "body-too-large", None)
    }

    /// Any problem.
    pub fn problem(status: u16, slug: &'static str, field: Option<&str>) -> Self {
        Expected::Problem {
            status,
            slug,
            field: field.map(str::to_owned),
        }
    }

    /// Whether an answer (status, `content-type`, JSON body) is this one: for a problem,
    /// the status (never a 5xx), `application/problem+json`, the `type` and `status`
    /// members and exactly the `field` expected (or none); for [`Expected::Accepted`], a
    /// `200` whose `status` is `accepted`. `Err` says how it differs.
    pub fn check(&self, got: u16, content_type: Option<&str>, body: &Value) -> Result<(), String> {
        let (status, slug, field) = match self {
            Expected::Accepted if got == 200 && body["status"] == "accepted" => return Ok(()),
            Expected::Accepted => return Err(format!("expected 200 accepted, got {got}")),
            Expected::Problem {
                status,
                slug,
                field,
            } => (*status, *slug, field.as_deref()),
        };
        if got >= 500 {
            return Err(format!("server error {got} (expected {status} {slug})"));
        }
        if got != status {
            return Err(format!("expected {status} {slug}, got {got}"));
        }
        let content_type = content_type.unwrap_or_default();
        if !content_type.starts_with("application/problem+json") {
            return Err(format!(
                "content-type `{content_type}`, not application/problem+json"
            ));
        }
        if body["type"] != format!("urn:probity:problem:{slug}") || body["status"] != status {
            return Err(format!("expected problem {slug} with status {status}"));
        }
        let named = body.get("field").and_then(Value::as_str);
        if named != field {
            return Err(format!("expected field {field:?}, got {named:?}"));
        }
        Ok(())
    }

    /// The `field` a batch's rejected line names (`None` for a problem without one).
    pub fn field(&self) -> Option<&str> {
        match self {
            Expected::Problem { field, .. } => field.as_deref(),
            Expected::Accepted => None,
        }
    }
}

/// One hostile request: its category (for the summary), headers, body and expectation.
#[derive(Clone, Debug)]
pub struct Case {
    /// The category it counts under.
    pub category: &'static str,
    /// Request headers (`content-type` among them, unless it is missing on purpose).
    pub headers: Vec<(&'static str, String)>,
    /// The body, sent as is.
    pub body: Vec<u8>,
    /// What it must get.
    pub expected: Expected,
}

/// The content type of one event.
pub const JSON: &str = "application/json";

/// Generates hostile requests from a seed; ids of accepted variants are unique per
/// generator.
pub struct Malformed {
    rng: ChaCha8Rng,
    serial: usize,
}

impl Malformed {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Malformed {
            rng: ChaCha8Rng::seed_from_u64(seed),
            serial: 0,
        }
    }

    /// A fresh number for ids.
    pub fn serial(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    /// A number in `range`.
    pub fn below(&mut self, range: std::ops::Range<usize>) -> usize {
        self.rng.random_range(range)
    }

    /// An event time: 2026-11-01T00:00:00Z plus `n` seconds.
    pub fn at(n: usize) -> String {
        let base = 1_793_491_200_000_i64;
        let offset = i64::try_from(n).unwrap_or(i64::MAX / 2_000) * 1000;
        probity::model::time::format_rfc3339(base + offset)
    }

    /// A full event of a random type (or of `kind`) with fresh ids.
    pub fn event(&mut self, kind: Option<usize>) -> Value {
        let kind = kind.unwrap_or_else(|| self.below(0..12));
        let n = self.serial();
        full_event(kind, &format!("hx-{n}"), &Self::at(n), n)
    }

    fn case(category: &'static str, body: Vec<u8>, expected: Expected) -> Case {
        Case {
            category,
            headers: vec![("content-type", JSON.to_owned())],
            body,
            expected,
        }
    }

    /// Text that is not JSON (truncated, trailing garbage, wrong brackets, broken
    /// syntax): `400 malformed-json`. Never holds a newline when `one_line`.
    pub fn bad_json(&mut self, one_line: bool) -> Case {
        let text = self.event(None).to_string();
        let variants = if one_line { 8 } else { 9 };
        let body = match self.below(0..variants) {
            0 => {
                let cut = self.below(1..text.len());
                text.as_bytes()[..cut].to_vec()
            }
            1 => {
                let junk = [
                    "x",
                    "}",
                    "]",
                    "{}",
                    ",",
                    "\"",
                    "0",
                    "null",
                    "{\"a\":1}",
                    "\0",
                ];
                (text + *self.pick(&junk)).into_bytes()
            }
            2 => format!("{}]", &text[..text.len() - 1]).into_bytes(),
            3 => format!("[{}", &text[1..]).into_bytes(),
            4 => text.replacen("\":\"", "\"=\"", 1).into_bytes(),
            5 => text.replacen("\"event_id\"", "event_id", 1).into_bytes(),
            6 => text.replacen("\"event_id\"", "'event_id'", 1).into_bytes(),
            7 => {
                let edits = [(",\"", ",,\""), (",\"", " \""), ("}", ",}")];
                let (from, to) = *self.pick(&edits);
                text.replacen(from, to, 1).into_bytes()
            }
            _ => format!("// comment\n{text}").into_bytes(),
        };
        Self::case("bad_json", body, Expected::malformed())
    }

    /// JSON that is not an object (`null`, an array, a number…): `422 invalid-event`
    /// without a field.
    pub fn not_an_object(&mut self) -> Case {
        let event = self.event(None);
        let values = [
            json!(null),
            json!(42),
            json!("event"),
            json!(true),
            json!([]),
            json!([event]),
        ];
        let body = self.pick(&values).to_string().into_bytes();
        Self::case(
            "not_an_object",
            body,
            Expected::problem(422, "invalid-event", None),
        )
    }

    /// A full event with one member (nested ones too) of the wrong JSON type:
    /// `422 invalid-event` naming it.
    pub fn wrong_type(&mut self) -> Case {
        let mut event = self.event(None);
        let slots = slots(&event);
        let (path, slot) = self.pick(&slots).clone();
        let value = self.pick(&wrong_values(slot)).clone();
        set(&mut event, &path, value);
        let body = event.to_string().into_bytes();
        Self::case("wrong_types", body, Expected::invalid(&path.join(".")))
    }

    /// Bytes that are not UTF-8 in a value, a key, the id or anywhere, or an escaped lone
    /// surrogate in a string or a key: `400 malformed-json`.
    pub fn invalid_utf8(&mut self) -> Case {
        let text = self.event(Some(1)).to_string();
        let anchors = [
            "\"event_id\":\"",
            "\"seller_",
            "\"shipping_address\":\"",
            "\"type\":\"order",
        ];
        let at = match self.below(0..5) {
            4 => {
                let mut at = self.below(0..text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                at
            }
            i => text.find(anchors[i]).map_or(0, |p| p + anchors[i].len()),
        };
        let inserted: Vec<u8> = if self.below(0..4) == 0 {
            self.pick(&LONE_SURROGATES).as_bytes().to_vec()
        } else {
            self.pick(&NOT_UTF8).to_vec()
        };
        let body = [&text.as_bytes()[..at], &inserted, &text.as_bytes()[at..]].concat();
        let escaped = inserted.starts_with(b"\\u");
        let category = if escaped {
            "lone_surrogates"
        } else {
            "invalid_utf8"
        };
        // An escape outside a string is no JSON either.
        Self::case(category, body, Expected::malformed())
    }

    /// A full event whose `type` names no event type: `422` naming `type`.
    pub fn unknown_type(&mut self) -> Case {
        let names = [
            "listing.deleted",
            "order.teleported",
            "LISTING.UPSERTED",
            "Listing.Upserted",
            " order.paid",
            "order.paid ",
            "order.paid\n",
            "",
            "order",
            "listing",
            "order.placed.v2",
            "订单.创建",
            "\u{0}",
            "order\u{200b}.paid",
            "review.posted\u{0}",
        ];
        let name = match self.below(0..4) {
            0 => "x".repeat(self.below(1..10_000)),
            1 => (0..self.below(1..40))
                .map(|_| char::from(self.rng.random_range(b' '..b'~')))
                .collect(),
            _ => (*self.pick(&names)).to_owned(),
        };
        let mut event = self.event(None);
        event["type"] = json!(name);
        Self::case(
            "unknown_types",
            event.to_string().into_bytes(),
            Expected::invalid("type"),
        )
    }

    /// A timestamp member (`occurred_at`, `buyer.account_created_at`,
    /// `promised_ship_by`) out of range or malformed: `422` naming it.
    pub fn bad_timestamp(&mut self) -> Case {
        let targets: [(Option<usize>, &[&str]); 3] = [
            (None, &["occurred_at"]),
            (Some(1), &["buyer", "account_created_at"]),
            (Some(2), &["promised_ship_by"]),
        ];
        let (kind, path) = *self.pick(&targets);
        let value = match self.below(0..5) {
            0 => format!("{:04}-06-15T12:00:00Z", self.below(0..1970)),
            1 => format!("{}-06-15T12:00:00+08:00", self.below(10_000..1_000_000)),
            _ => (*self.pick(&BAD_TIMESTAMPS)).to_owned(),
        };
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        let mut event = self.event(kind);
        set(&mut event, &path, json!(value));
        Self::case(
            "timestamps",
            event.to_string().into_bytes(),
            Expected::invalid(&path.join(".")),
        )
    }
}
