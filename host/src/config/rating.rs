//! The `[rating]` table: how sellers' credit ratings are computed (see [`crate::rating`]).
//!
//! Compliance teams edit it like the plugins' settings: a reload applies it at once
//! (ratings are computed when they are read, from facts recorded in event time), and the
//! audit trail records the change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every input a rating has, in the order reasons are listed.
pub const INPUTS: [&str; 13] = [
    "misleading_claim",
    "prohibited_claim",
    "price_deception",
    "brush_order",
    "brush_ring",
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
    /// When ratings are published on a schedule in event time: `"monthly"` (each month
    /// once the clock has passed it) or `"off"` (only on demand).
    pub publish: String,
    /// Whether `GET /public/ratings` (no token) shows the latest published period.
    pub public_page: bool,
    /// Measures against sellers, by grade or by a rule they were found breaking.
    pub measures: Vec<MeasureConfig>,
}

/// A measure (`[[rating.measures]]`): taken when a published rating has one of `grades`,
/// or when the seller has a counted finding of `rule` in the window; ended at the first
/// publication where neither holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureConfig {
    /// Its name, unique (`"interview"`, `"traffic_limit"`, `"suspension"`).
    pub name: String,
    /// The grades it applies to.
    #[serde(default)]
    pub grades: Vec<String>,
    /// A rule (as findings name it, e.g. `"brush.shared_device_ring"`) it applies to.
    #[serde(default)]
    pub rule: Option<String>,
    /// With `rule`: only findings a reviewer confirmed count (e.g. a confirmed ring).
    #[serde(default)]
    pub confirmed: bool,
    /// The notice shown to the seller and in the publication, in English.
    pub notice_en: String,
    /// The same in Chinese.
    pub notice_zh: String,
}

fn measure(name: &str, grade: &str, en: &str, zh: &str) -> MeasureConfig {
    MeasureConfig {
        name: name.into(),
        grades: vec![grade.into()],
        rule: None,
        confirmed: false,
        notice_en: en.into(),
        notice_zh: zh.into(),
    }
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
    /// of 100 % of orders for rates (`brush_order`, `refund_rate`, `complaint_rate`,
    /// `sla_breach`).
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
            ("brush_order", input(50.0, 50.0)),
            ("brush_ring", input(15.0, 30.0)),
            ("review_manipulation", input(3.0, 25.0)),
            ("payment_fraud", input(8.0, 40.0)),
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
            publish: "monthly".into(),
            public_page: true,
            measures: vec![
                measure(
                    "interview",
                    "C",
                    "Warning: the platform will hold an interview with the seller about its rating.",
                    "警示：平台将就信用评级约谈商家。",
                ),
                measure(
                    "traffic_limit",
                    "D",
                    "Traffic limited: the seller's listings are shown less until its rating recovers.",
                    "限制流量：评级恢复前，商家商品的曝光将受到限制。",
                ),
                measure(
                    "suspension",
                    "E",
                    "Suspended: the seller is removed from the platform pending review.",
                    "清退：商家暂停经营，待平台复核。",
                ),
            ],
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
        if !["monthly", "off"].contains(&self.publish.as_str()) {
            return fail(
                "publish".into(),
                format!("must be \"monthly\" or \"off\", got `{}`", self.publish),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (k, measure) in self.measures.iter().enumerate() {
            let key = format!("measures[{k}]");
            if measure.name.is_empty() || !names.insert(measure.name.as_str()) {
                return fail(key, format!("needs a unique name, got `{}`", measure.name));
            }
            if let Some(grade) = measure
                .grades
                .iter()
                .find(|g| !["A", "B", "C", "D", "E"].contains(&g.as_str()))
            {
                return fail(key, format!("grade `{grade}` is not one of A, B, C, D, E"));
            }
            if measure.grades.is_empty() && measure.rule.is_none() {
                return fail(key, "needs `grades` or a `rule`".into());
            }
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
