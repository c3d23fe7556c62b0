//! The categories about sizes and encodings: strings at and over their limits, huge
//! numbers, deep nesting, media types and gzip bodies.

use serde_json::{Value, json};

use super::{Case, Expected, JSON, Malformed, gzip_bomb, gzip_stored, set};

impl Malformed {
    /// A string member exactly at its limit (accepted) or just over it (`422` naming
    /// it), an event over the 1 MiB event limit (`413`).
    pub fn huge_string(&mut self) -> Case {
        // (type, path, limit, counted in characters)
        let limits: [(usize, &[&str], usize, bool); 12] = [
            (0, &["title"], 1024, false),
            (0, &["description"], 65_536, false),
            (0, &["category"], 1024, false),
            (0, &["attributes", "color"], 1024, false),
            (0, &["listing_id"], 128, true),
            (0, &["event_id"], 128, true),
            (1, &["buyer", "shipping_address"], 1024, false),
            (1, &["buyer", "phone"], 1024, false),
            (1, &["buyer_id"], 128, true),
            (8, &["text"], 65_536, false),
            (11, &["outcome"], 1024, false),
            (9, &["text"], 65_536, false),
        ];
        let mut event = self.event(Some(0));
        if self.below(0..10) == 0 {
            let size = (1 << 20) + self.below(1..4096);
            event["x-padding"] = json!("p".repeat(size));
            return Self::case(
                "huge_strings",
                event.to_string().into_bytes(),
                Expected::too_large(),
            );
        }
        let (kind, path, limit, chars) = *self.pick(&limits);
        event = self.event(Some(kind));
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        let over = self.below(0..4) != 0;
        let extra = if over { self.below(1..2048) } else { 0 };
        let prefix = format!("hx{}-", self.serial());
        let value = if chars {
            prefix.clone() + &"é".repeat(limit + extra - prefix.len())
        } else if self.below(0..2) == 0 {
            "a".repeat(limit % 3 + extra) + &"国".repeat(limit / 3)
        } else {
            "a".repeat(limit + extra)
        };
        set(&mut event, &path, json!(value));
        let expected = if over {
            Expected::invalid(&path.join("."))
        } else {
            Expected::Accepted
        };
        Self::case("huge_strings", event.to_string().into_bytes(), expected)
    }

    /// A whole-number member or a money amount holding a huge, negative-zero, float or
    /// non-JSON number: `422` naming the member, or `400` when the literal is no JSON
    /// number serde can hold (`1e400`, `NaN`, `+1`, `01`).
    pub fn huge_number(&mut self) -> Case {
        let targets: [(usize, &[&str]); 5] = [
            (1, &["quantity"]),
            (8, &["rating"]),
            (3, &["parcel_weight_grams"]),
            (0, &["price", "amount"]),
            (1, &["total", "amount"]),
        ];
        let field_errors = [
            "18446744073709551616",
            "18446744073709551615",
            "4294967296",
            "-0",
            "-1",
            "0.0",
            "1.0",
            "1e2",
            "1.5",
            "-9223372036854775809",
            "1e-400",
            "0",
            "1e308",
        ];
        let not_json = [
            "1e400",
            "-1e400",
            "1E+400",
            "NaN",
            "-NaN",
            "Infinity",
            "-Infinity",
            "+1",
            "01",
            "0x10",
            ".5",
            "1.",
            "1e",
            "--1",
        ];
        let (kind, path) = *self.pick(&targets);
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        let mut event = self.event(Some(kind));
        let marker = "\"__NUMBER__\"";
        set(&mut event, &path, json!("__NUMBER__"));
        let (literal, expected) = if self.below(0..3) == 0 {
            (self.pick(&not_json).to_string(), Expected::malformed())
        } else if self.below(0..6) == 0 {
            (
                "9".repeat(self.below(20..300)),
                Expected::invalid(&path.join(".")),
            )
        } else {
            let literal = match *self.pick(&field_errors) {
                // A parcel may weigh 0 g.
                "0" if path[0] == "parcel_weight_grams" => "-1",
                literal => literal,
            };
            (literal.to_owned(), Expected::invalid(&path.join(".")))
        };
        let body = event.to_string().replacen(marker, &literal, 1).into_bytes();
        Self::case("huge_numbers", body, expected)
    }

    /// Nesting 129–10,000 levels deep (10,000 on the first call): past serde's recursion
    /// limit, arrays and objects alike, closed or not, at the top or inside a known or an
    /// unknown member, it is `400 malformed-json`.
    pub fn deep_nesting(&mut self, first: bool) -> Case {
        let depth = if first {
            10_000
        } else {
            self.below(129..10_001)
        };
        let arrays = |closed: bool| {
            "[".repeat(depth)
                + &if closed {
                    "]".repeat(depth)
                } else {
                    String::new()
                }
        };
        let objects = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        let mut event = self.event(Some(1));
        event["x-deep"] = json!("__DEEP__");
        let inside =
            |deep: &str, event: &Value| event.to_string().replacen("\"__DEEP__\"", deep, 1);
        let (body, expected) = match self.below(0..7) {
            0 => (arrays(false), Expected::malformed()),
            // Arrays meet the recursion limit like objects, wherever they are.
            1 => (arrays(true), Expected::malformed()),
            2 => (objects.clone(), Expected::malformed()),
            3 => (inside(&arrays(true), &event), Expected::malformed()),
            4 => (inside(&objects, &event), Expected::malformed()),
            5 => {
                event["buyer"] = json!("__DEEP__");
                let body = event.to_string().replacen("\"__DEEP__\"", &arrays(true), 1);
                (body.replacen("\"__DEEP__\"", "1", 1), Expected::malformed())
            }
            _ => (inside(&arrays(false), &event), Expected::malformed()),
        };
        Self::case("deep_nesting", body.into_bytes(), expected)
    }

    /// A valid event under a content type that is not JSON (`415`), or with a
    /// `content-encoding: gzip` body that is not gzip (`400`).
    pub fn bad_media(&mut self) -> Case {
        let body = self.event(None).to_string().into_bytes();
        let types = [
            "text/plain",
            "application/xml",
            "application/jsonx",
            "multipart/form-data",
            "application/json-patch+json",
            "application/x-www-form-urlencoded",
            "json",
            "*/*",
        ];
        let unsupported = Expected::problem(415, "unsupported-media-type", None);
        let mut case = Self::case("media_types", body, unsupported);
        match self.below(0..5) {
            0 => case.headers.clear(),
            1 => {
                case.headers.push(("content-encoding", "gzip".to_owned()));
                case.expected = Expected::malformed();
            }
            _ => case.headers[0].1 = (*self.pick(&types)).to_owned(),
        }
        case
    }

    /// A `content-encoding: gzip` body: another category's case (or a valid event),
    /// compressed, gets the same answer; a bomb inflating past `server.max_body_bytes`
    /// is `413`; a truncated member or a wrong CRC is `400`.
    pub fn gzipped(&mut self) -> Case {
        let inner = match self.below(0..6) {
            0 => self.wrong_type(),
            1 => self.invalid_utf8(),
            2 => self.bad_json(false),
            3 => self.huge_number(),
            4 => self.bad_timestamp(),
            _ => {
                let body = self.event(None).to_string().into_bytes();
                Self::case("gzip", body, Expected::Accepted)
            }
        };
        let mut body = gzip_stored(&inner.body);
        let expected = match self.below(0..10) {
            0 => {
                body = gzip_bomb(b' ', (17 << 20) + self.below(0..1 << 20));
                Expected::too_large()
            }
            1 => {
                body.truncate(self.below(1..body.len()));
                Expected::malformed()
            }
            2 => {
                let crc = body.len() - 8;
                body[crc] ^= 0xFF;
                Expected::malformed()
            }
            _ => inner.expected,
        };
        Case {
            category: "gzip",
            headers: vec![
                ("content-type", JSON.to_owned()),
                ("content-encoding", "gzip".to_owned()),
            ],
            body,
            expected,
        }
    }
}
