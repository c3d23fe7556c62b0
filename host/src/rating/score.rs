//! A seller's score, grade and reasons from its facts, as of a point in event time.
//!
//! Pure: the same facts, settings and `as_of` give the same rating. The score starts at
//! 100; each input takes points off — per flagged subject for findings of fraud and false
//! claims (per ring for brushing rings on the seller), per complaint for complaints not
//! answered (or answered late), in proportion to orders for brushed orders, refunds,
//! complaints and broken service promises (a seller with ten times
//! the orders may break ten times as many promises for the same rate) — each at most its
//! `cap`, counting only facts inside its rolling window
//! `(as_of − window, as_of]`. A seller with fewer than `min_orders` orders in the window is
//! not rated yet.

use serde::Serialize;

use super::facts::{ComplaintFact, FindingFact};
use crate::config::{RATING_INPUTS, RatingConfig};
use crate::model::time::Timestamp;
use crate::verdict::Category;

/// One seller's facts, as read from the store.
#[derive(Clone, Debug, Default)]
pub struct SellerFacts {
    /// When each order was placed.
    pub orders: Vec<Timestamp>,
    /// When each refund was completed.
    pub refunds: Vec<Timestamp>,
    /// Every complaint.
    pub complaints: Vec<ComplaintFact>,
    /// Every counted finding, one per subject and rule.
    pub findings: Vec<FindingFact>,
}

/// A seller's rating.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rating {
    /// The seller.
    pub seller_id: String,
    /// 0–100, higher is better; `None` while not rated yet.
    pub score: Option<f64>,
    /// `A`–`E`; `None` while not rated yet.
    pub grade: Option<&'static str>,
    /// `rated`, or `not_rated` (too few orders in the window).
    pub status: &'static str,
    /// The event time it is computed for.
    #[serde(with = "crate::model::time::rfc3339")]
    pub as_of: Timestamp,
    /// What took points off (and the volume it rests on), largest effect first.
    pub reasons: Vec<Reason>,
}

/// One input of a rating.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// The input (`brush_order`, `refund_rate`, … or `orders`).
    pub input: &'static str,
    /// How many: flagged subjects, complaints, refunds, orders.
    pub count: u64,
    /// Points it took off (0 or negative).
    pub effect: f64,
    /// In words a seller could be shown.
    pub text: Text,
}

/// A text in English and Chinese.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Text {
    /// English.
    pub en: String,
    /// 中文.
    pub zh: String,
}

/// The grade of `score` under `config`'s bands.
pub fn grade_of(score: f64, config: &RatingConfig) -> &'static str {
    let bands = config.bands;
    match score {
        s if s >= bands.a => "A",
        s if s >= bands.b => "B",
        s if s >= bands.c => "C",
        s if s >= bands.d => "D",
        _ => "E",
    }
}

/// Whether a finding counts at `as_of`: not overturned by then.
fn counts(finding: &FindingFact, as_of: Timestamp) -> bool {
    finding.overturned_at.is_none_or(|at| at > as_of)
}

fn in_window(at: Timestamp, as_of: Timestamp, window: i64) -> bool {
    at <= as_of && at > as_of - window
}

fn days(ms: i64) -> i64 {
    (ms / 86_400_000).max(1)
}

/// The input a finding counts in: brushed orders (`brush_order`) apart from rings and
/// patterns on the seller or its listings (`brush_ring`); otherwise its category's
/// contract name; none for a plugin error.
fn finding_input(finding: &FindingFact) -> Option<&'static str> {
    match finding.category {
        Category::PluginError => None,
        Category::BrushOrder if finding.subject_type != "order" => Some("brush_ring"),
        category => Some(category.as_str()),
    }
}

/// Words for a finding input: (English, Chinese) names.
fn finding_words(input: &str) -> (&'static str, &'static str) {
    match input {
        "misleading_claim" => (
            "listing(s) with misleading claims",
            "个商品存在虚假夸大宣传",
        ),
        "prohibited_claim" => (
            "listing(s) with prohibited claims",
            "个商品存在违禁宣传用语",
        ),
        "price_deception" => (
            "listing(s) with a fake reference price",
            "个商品存在虚构原价",
        ),
        "brush_ring" => (
            "brushing ring(s) or pattern(s) found on the seller or its listings",
            "个刷单团伙或刷单迹象（商家或其商品）",
        ),
        "review_manipulation" => ("manipulated reviews", "条操纵评价记录"),
        "payment_fraud" => ("payment fraud findings", "条支付欺诈记录"),
        _ => ("other findings", "条其他违规记录"),
    }
}

/// Compute `seller`'s rating from `facts` as of `as_of` under `config` (validated).
pub fn rate(seller: &str, facts: &SellerFacts, config: &RatingConfig, as_of: Timestamp) -> Rating {
    let window = |input: &str| config.input_window_ms(input).unwrap_or(90 * 86_400_000);
    let points = |input: &str| {
        config
            .inputs
            .get(input)
            .map_or((0.0, 0.0), |i| (i.points, i.cap))
    };
    let base_window = config.window_ms().unwrap_or(90 * 86_400_000);
    let orders = facts
        .orders
        .iter()
        .filter(|at| in_window(**at, as_of, base_window))
        .count() as u64;
    // The findings that count at `as_of` for `input`, inside window `w`.
    let findings_in = |input: &str, w: i64| {
        facts
            .findings
            .iter()
            .filter(|f| counts(f, as_of) && in_window(f.at, as_of, w))
            .filter(|f| finding_input(f) == Some(input))
            .count()
    };
    let mut reasons = Vec::new();
    for input in RATING_INPUTS {
        let w = window(input);
        let (per, cap) = points(input);
        let (count, effect, en, zh) = match input {
            "refund_rate" | "complaint_rate" | "sla_breach" | "brush_order" => {
                let count = match input {
                    "refund_rate" => facts
                        .refunds
                        .iter()
                        .filter(|at| in_window(**at, as_of, w))
                        .count(),
                    "complaint_rate" => facts
                        .complaints
                        .iter()
                        .filter(|c| c.opened.is_some_and(|at| in_window(at, as_of, w)))
                        .count(),
                    _ => findings_in(input, w),
                } as u64;
                let placed = facts
                    .orders
                    .iter()
                    .filter(|at| in_window(**at, as_of, w))
                    .count() as u64;
                let rate = if placed == 0 {
                    0.0
                } else {
                    (count as f64 / placed as f64).min(1.0)
                };
                let pct = (rate * 1000.0).round() / 10.0;
                let (what_en, what_zh) = match input {
                    "brush_order" => (
                        plural(count, "brushed (fake) order", "brushed (fake) orders"),
                        "笔刷单（虚假交易）",
                    ),
                    "refund_rate" => (plural(count, "refund", "refunds"), "笔退款"),
                    "complaint_rate" => (plural(count, "complaint", "complaints"), "个投诉"),
                    _ => (
                        plural(count, "broken service promise", "broken service promises")
                            + " (late shipping, refunds or answers)",
                        "次违反服务承诺（发货、退款或回复超时）",
                    ),
                };
                (
                    count,
                    (per * rate).min(cap),
                    format!(
                        "{count} {what_en} for {placed} {} ({pct}%) in the last {} days",
                        plural(placed, "order", "orders"),
                        days(w)
                    ),
                    format!("近{}天{placed}笔订单，{count}{what_zh}（{pct}%）", days(w)),
                )
            }
            "complaint_unanswered" | "complaint_answered_late" => {
                let within = config.answer_within_ms().unwrap_or(48 * 3_600_000);
                let hours = within / 3_600_000;
                let count = facts
                    .complaints
                    .iter()
                    .filter(|c| {
                        let Some(opened) = c.opened.filter(|at| in_window(*at, as_of, w)) else {
                            return false;
                        };
                        let answered = c.answered.filter(|at| *at <= as_of);
                        match input {
                            "complaint_unanswered" => answered.is_none() && as_of - opened > within,
                            _ => answered.is_some_and(|at| at - opened > within),
                        }
                    })
                    .count() as u64;
                let (en, zh) = if input == "complaint_unanswered" {
                    (
                        format!(
                            "{count} complaint(s) not answered within {hours} h in the last {} days",
                            days(w)
                        ),
                        format!("近{}天有{count}个投诉超过{hours}小时未回复", days(w)),
                    )
                } else {
                    (
                        format!(
                            "{count} complaint(s) answered later than {hours} h in the last {} days",
                            days(w)
                        ),
                        format!("近{}天有{count}个投诉超过{hours}小时才回复", days(w)),
                    )
                };
                (count, (per * count as f64).min(cap), en, zh)
            }
            _ => {
                let count = findings_in(input, w) as u64;
                let (what_en, what_zh) = finding_words(input);
                (
                    count,
                    (per * count as f64).min(cap),
                    format!("{count} {what_en} in the last {} days", days(w)),
                    format!("近{}天{count}{what_zh}", days(w)),
                )
            }
        };
        if count > 0 {
            reasons.push(Reason {
                input,
                count,
                effect: if effect == 0.0 { 0.0 } else { -round1(effect) },
                text: Text { en, zh },
            });
        }
    }
    reasons.sort_by(|a, b| a.effect.total_cmp(&b.effect).then(a.input.cmp(b.input)));
    let overturned = facts
        .findings
        .iter()
        .filter(|f| f.overturned_at.is_some_and(|at| at <= as_of))
        .count() as u64;
    if overturned > 0 {
        reasons.push(Reason {
            input: "overturned",
            count: overturned,
            effect: 0.0,
            text: Text {
                en: format!(
                    "{overturned} {} overturned on review (not counted)",
                    plural(overturned, "finding", "findings")
                ),
                zh: format!("{overturned}条违规记录经复核撤销（不计入）"),
            },
        });
    }
    let days_base = days(base_window);
    reasons.push(Reason {
        input: "orders",
        count: orders,
        effect: 0.0,
        text: Text {
            en: format!(
                "{orders} {} in the last {days_base} days",
                plural(orders, "order", "orders")
            ),
            zh: format!("近{days_base}天共{orders}笔订单"),
        },
    });
    let rated = orders >= u64::from(config.min_orders);
    let score = round1((100.0 + reasons.iter().map(|r| r.effect).sum::<f64>()).clamp(0.0, 100.0));
    if !rated {
        let min = config.min_orders;
        reasons.push(Reason {
            input: "not_rated",
            count: orders,
            effect: 0.0,
            text: Text {
                en: format!(
                    "not rated yet: a rating needs {min} orders in the last {days_base} days"
                ),
                zh: format!("暂不评级：近{days_base}天订单少于{min}笔"),
            },
        });
    }
    Rating {
        seller_id: seller.to_string(),
        score: rated.then_some(score),
        grade: rated.then(|| grade_of(score, config)),
        status: if rated { "rated" } else { "not_rated" },
        as_of,
        reasons,
    }
}

fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 { one } else { many }.to_string()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
