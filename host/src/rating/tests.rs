use super::*;
use crate::config::RatingConfig;
use crate::verdict::Category;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const NOW: i64 = 1_800_000_000_000;

fn orders(n: usize) -> Vec<i64> {
    (0..n).map(|k| NOW - (k as i64 + 1) * HOUR).collect()
}

fn finding(category: Category, at: i64) -> FindingFact {
    FindingFact {
        at,
        category,
        event_id: "e".into(),
        rule: "r".into(),
        plugin: "p".into(),
        subject_type: "order".into(),
        overturned_at: None,
        confirmed_at: None,
    }
}

fn effect(rating: &Rating, input: &str) -> Option<f64> {
    rating
        .reasons
        .iter()
        .find(|r| r.input == input)
        .map(|r| r.effect)
}

#[test]
fn a_seller_with_orders_and_nothing_against_it_is_an_a() {
    let facts = SellerFacts {
        orders: orders(10),
        ..SellerFacts::default()
    };
    let rating = rate("S-1", &facts, &RatingConfig::default(), NOW);
    assert_eq!((rating.score, rating.grade), (Some(100.0), Some("A")));
    assert_eq!(rating.reasons.len(), 1, "{rating:?}");
    assert_eq!(rating.reasons[0].input, "orders");
    assert_eq!(rating.reasons[0].text.en, "10 orders in the last 90 days");
    assert_eq!(rating.reasons[0].text.zh, "近90天共10笔订单");
}

#[test]
fn too_few_orders_is_not_rated_yet_and_says_why() {
    let facts = SellerFacts {
        orders: orders(4),
        findings: vec![finding(Category::BrushOrder, NOW - DAY)],
        ..SellerFacts::default()
    };
    let rating = rate("S-1", &facts, &RatingConfig::default(), NOW);
    assert_eq!(rating.status, "not_rated");
    assert_eq!((rating.score, rating.grade), (None, None));
    let last = rating.reasons.last().expect("a reason");
    assert_eq!(last.input, "not_rated");
    assert!(last.text.en.contains("needs 5 orders"), "{}", last.text.en);
}

#[test]
fn findings_take_points_each_up_to_their_cap_and_only_in_their_window() {
    let mut config = RatingConfig::default();
    let fraud = config
        .inputs
        .get_mut("payment_fraud")
        .expect("payment_fraud");
    fraud.points = 10.0;
    fraud.cap = 25.0;
    let facts = SellerFacts {
        orders: orders(20),
        findings: vec![
            finding(Category::PaymentFraud, NOW - DAY),
            finding(Category::PaymentFraud, NOW - 2 * DAY),
            finding(Category::PaymentFraud, NOW - 3 * DAY),
            // Out of the 90-day window: does not count.
            finding(Category::PaymentFraud, NOW - 100 * DAY),
            finding(Category::MisleadingClaim, NOW - DAY),
            // A plugin error is never a seller's fault.
            finding(Category::PluginError, NOW - DAY),
        ],
        ..SellerFacts::default()
    };
    let rating = rate("S-1", &facts, &config, NOW);
    assert_eq!(effect(&rating, "payment_fraud"), Some(-25.0), "capped");
    assert_eq!(effect(&rating, "misleading_claim"), Some(-3.0));
    assert_eq!(rating.score, Some(72.0));
    assert_eq!(rating.grade, Some("C"));
    assert_eq!(
        rating.reasons[0].input, "payment_fraud",
        "largest effect first"
    );
    assert_eq!(rating.reasons[0].count, 3);
    // As it stood before any of it: an A.
    let before = rate("S-1", &facts, &config, NOW - 4 * DAY);
    assert_eq!(before.status, "not_rated", "its orders came later too");
}

#[test]
fn refunds_and_complaints_count_as_rates_and_answers_by_their_time() {
    let facts = SellerFacts {
        orders: orders(10),
        refunds: vec![NOW - HOUR, NOW - 2 * HOUR],
        complaints: vec![
            // Unanswered for three days.
            ComplaintFact {
                opened: Some(NOW - 3 * DAY),
                answered: None,
            },
            // Answered after 60 h: late.
            ComplaintFact {
                opened: Some(NOW - 5 * DAY),
                answered: Some(NOW - 5 * DAY + 60 * HOUR),
            },
            // Open for an hour: not late yet.
            ComplaintFact {
                opened: Some(NOW - HOUR),
                answered: None,
            },
        ],
        ..SellerFacts::default()
    };
    let rating = rate("S-1", &facts, &RatingConfig::default(), NOW);
    assert_eq!(
        effect(&rating, "refund_rate"),
        Some(-8.0),
        "40 points × 20 %"
    );
    assert_eq!(
        effect(&rating, "complaint_rate"),
        Some(-12.0),
        "40 points × 30 %"
    );
    assert_eq!(effect(&rating, "complaint_unanswered"), Some(-4.0));
    assert_eq!(effect(&rating, "complaint_answered_late"), Some(-1.0));
    assert_eq!(rating.score, Some(75.0));
    assert_eq!(rating.grade, Some("C"));
    let refunds = rating
        .reasons
        .iter()
        .find(|r| r.input == "refund_rate")
        .expect("refunds");
    assert_eq!(
        refunds.text.en,
        "2 refunds for 10 orders (20%) in the last 90 days"
    );
}

#[test]
fn grades_follow_the_configured_bands() {
    let config = RatingConfig::default();
    for (score, grade) in [
        (100.0, "A"),
        (90.0, "A"),
        (89.9, "B"),
        (65.0, "C"),
        (50.0, "D"),
        (49.9, "E"),
        (0.0, "E"),
    ] {
        assert_eq!(grade_of(score, &config), grade, "{score}");
    }
}

#[test]
fn an_overturned_finding_counts_only_before_it_was_overturned() {
    let mut overturned = finding(Category::MisleadingClaim, NOW - 2 * DAY);
    overturned.overturned_at = Some(NOW - DAY);
    let facts = SellerFacts {
        orders: orders(10),
        findings: vec![overturned],
        ..SellerFacts::default()
    };
    let config = RatingConfig::default();
    let now = rate("S-1", &facts, &config, NOW);
    assert_eq!(now.score, Some(100.0));
    assert_eq!(effect(&now, "overturned"), Some(0.0));
    let then = rate("S-1", &facts, &config, NOW - DAY - 1);
    assert_eq!(
        effect(&then, "misleading_claim"),
        Some(-3.0),
        "before the decision it counted"
    );
}

#[test]
fn brushed_orders_count_as_a_rate_and_rings_on_the_seller_each() {
    let mut ring = finding(Category::BrushOrder, NOW - DAY);
    ring.subject_type = "seller".into();
    let facts = SellerFacts {
        orders: orders(10),
        findings: vec![
            finding(Category::BrushOrder, NOW - DAY),
            finding(Category::BrushOrder, NOW - 2 * DAY),
            ring,
        ],
        ..SellerFacts::default()
    };
    let rating = rate("S-1", &facts, &RatingConfig::default(), NOW);
    assert_eq!(
        effect(&rating, "brush_order"),
        Some(-10.0),
        "50 points × 20 %"
    );
    assert_eq!(effect(&rating, "brush_ring"), Some(-15.0));
    assert_eq!(rating.score, Some(75.0));
}
