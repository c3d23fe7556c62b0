//! The `[rating]` table: how sellers' credit ratings are computed (see [`crate::rating`]).
//!
//! Compliance teams edit it like the plugins' settings: a reload applies it at once
//! (ratings are computed when they are read, from facts recorded in event time), and the
//! audit trail records the change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every input a rating has, in the order reasons are listed.
pub const INPUTS: [&str; 12] = [
    "misleading_claim",
    "prohibited_claim",
    "price_deception",
    "brush_order",
    "review_manipulation",
    "payment_fraud",
    "sla_breach",
    "other",
    "refund_rate",
    "complaint_rate",
    "complaint_unanswered",
    "complaint_answered_late",
];

/// The `[rating]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatingConfig {
    /// The rolling window of every input without one of its own (`"90d"`).
    pub window: String,
    /// Orders placed in the window below which a seller is "not rated yet".
    pub min_orders: u32,
    /// How long a seller has to answer a complaint (`"48h"`).
    pub answer_within: String,
    /// The lowest score of each grade but the last (`E` is below `D`).
    pub bands: Bands,
    /// Per input, what it costs.
    pub inputs: BTreeMap<String, InputConfig>,
}

/// Grade bands: the lowest score of A, B, C and D.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bands {
    /// Lowest score graded A.
    #[serde(rename = "A")]
    pub a: f64,
    /// Lowest score graded B.
    #[serde(rename = "B")]
    pub b: f64,
    /// Lowest score graded C.
    #[serde(rename = "C")]
    pub c: f64,
    /// Lowest score graded D (below: E).
    #[serde(rename = "D")]
    pub d: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            a: 90.0,
            b: 80.0,
            c: 65.0,
            d: 50.0,
        }
    }
}

/// What one input costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// Points taken off: per occurrence for counts (findings, complaints), or at a rate
    /// of 100 % of orders for rates (`refund_rate`, `complaint_rate`, `sla_breach`).
    pub points: f64,
    /// The most points this input can take off.
    pub cap: f64,
    /// Its own rolling window (`"30d"`); absent: the table's `window`.
    pub window: Option<String>,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            points: 0.0,
            cap: 100.0,
            window: None,
        }
    }
}

fn input(points: f64, cap: f64) -> InputConfig {
    InputConfig {
        points,
        cap,
        window: None,
    }
}

impl Default for RatingConfig {
    fn default() -> Self {
        let inputs = [
            ("misleading_claim", input(3.0, 30.0)),
            ("prohibited_claim", input(6.0, 40.0)),
            ("price_deception", input(4.0, 30.0)),
            ("brush_order", input(3.0, 50.0)),
            ("review_manipulation", input(3.0, 40.0)),
            ("payment_fraud", input(8.0, 50.0)),
            ("sla_breach", input(60.0, 60.0)),
            ("other", input(1.0, 10.0)),
            ("refund_rate", input(40.0, 40.0)),
            ("complaint_rate", input(40.0, 40.0)),
            ("complaint_unanswered", input(4.0, 30.0)),
            ("complaint_answered_late", input(1.0, 15.0)),
        ]
        .into_iter()
        .map(|(name, input)| (name.to_string(), input))
        .collect();
        RatingConfig {
            window: "90d".into(),
            min_orders: 5,
            answer_within: "48h".into(),
            bands: Bands::default(),
            inputs,
        }
    }
}

impl RatingConfig {
    /// `window` in milliseconds.
    pub fn window_ms(&self) -> Result<i64, String> {
        super::parse_duration_ms(&self.window)
    }

    /// The window of `input` in milliseconds.
    pub fn input_window_ms(&self, input: &str) -> Result<i64, String> {
        match self.inputs.get(input).and_then(|i| i.window.as_deref()) {
            Some(window) => super::parse_duration_ms(window),
            None => self.window_ms(),
        }
    }

    /// `answer_within` in milliseconds.
    pub fn answer_within_ms(&self) -> Result<i64, String> {
        super::parse_duration_ms(&self.answer_within)
    }

    /// The longest window of any input, in milliseconds.
    pub fn longest_window_ms(&self) -> i64 {
        INPUTS
            .iter()
            .filter_map(|input| self.input_window_ms(input).ok())
            .max()
            .unwrap_or(0)
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let fail = |key: String, message: String| Err((key, message));
        let day = 86_400_000;
        for (key, value) in [
            ("window".to_string(), self.window_ms()),
            ("answer_within".to_string(), self.answer_within_ms()),
        ] {
            match value {
                Ok(ms) if (1..=3650 * day).contains(&ms) => {}
                Ok(_) => return fail(key, "must be between 1ms and 10 years".into()),
                Err(message) => return fail(key, message),
            }
        }
        let Bands { a, b, c, d } = self.bands;
        if !(a <= 100.0 && a > b && b > c && c > d && d > 0.0) {
            return fail(
                "bands".into(),
                format!(
                    "must fall from A to D within 0–100, e.g. A = 90, B = 80, C = 65, D = 50; got A = {a}, B = {b}, C = {c}, D = {d}"
                ),
            );
        }
        for (name, input) in &self.inputs {
            if !INPUTS.contains(&name.as_str()) {
                return fail(
                    format!("inputs.{name}"),
                    format!("is not an input; the inputs are {}", INPUTS.join(", ")),
                );
            }
            if !(0.0..=100.0).contains(&input.points) || !(0.0..=100.0).contains(&input.cap) {
                return fail(
                    format!("inputs.{name}"),
                    "points and cap must be between 0 and 100".into(),
                );
            }
            if let Err(message) = self.input_window_ms(name) {
                return fail(format!("inputs.{name}.window"), message);
            }
        }
        Ok(())
    }
}
