//! The brush-orders plugin's group-level rules with exact expectations: a ring confirmed
//! and retro-flagged, a burst and its end-of-burst timer, farmed reviews, settings, and
//! the bounds on its state.

use brush_orders::identifiers::{Kind, fnv64, key};
use probity_e2e::brush::fixtures::*;
use probity_sdk::prelude::*;
use probity_sdk::testing::Harness;

/// Six aged accounts chained pairwise (phone, address, phone, address, phone): no value
/// is shared by more than two, so only the group shows the ring.
fn chain_member(i: usize) -> Who {
    let phone = format!("tel-{}", 2 * i.div_ceil(2) - 1);
    let address = format!("addr-{}", i / 2 * 2);
    who(&format!("B-{i}"))
        .phone(&phone)
        .address(&address)
        .device(&format!("dev-{i}"))
        .new_account()
}

/// Member `i`'s order `O-{i}`, placed `i` hours in and shipped five hours later at
/// `grams`: what the shipment reported.
fn chain_order(m: &mut Probe, i: usize, grams: u32) -> Vec<Finding> {
    let order = format!("O-{i}");
    let at = T0 + i as i64 * H;
    m.send(placed(&order, "S-1", "L-1", &chain_member(i), at));
    m.send(shipped(&order, grams, at + 5 * H))
}

#[test]
fn a_ring_is_confirmed_its_earlier_orders_flagged_and_its_seller_reported() {
    let mut m = Probe::new("{}");
    m.send(listing("L-1", "S-1", Some("500")));
    for i in 1..=4 {
        let found = chain_order(&mut m, i, 12);
        assert_eq!(
            subjects(&found, "brush.order"),
            [format!("O-{i}")],
            "an empty parcel and a new account: review"
        );
        assert!(subjects(&found, "brush.ring_order").is_empty());
    }
    // The fifth buyer joins the group; its order is not yet suspicious: 4 of 5.
    assert!(
        subjects(
            &m.send(placed("O-5", "S-1", "L-1", &chain_member(5), T0 + 5 * H)),
            "brush.ring_order"
        )
        .is_empty()
    );
    let found = m.send(shipped("O-5", 12, T0 + 10 * H));
    assert_eq!(
        subjects(&found, "brush.ring_order"),
        ["O-1", "O-2", "O-3", "O-4", "O-5"]
    );
    let ring = m.rule("S-1", "brush.ring").expect("the seller is reported");
    assert_eq!(ring.severity, Severity::High);
    assert!(
        ring.message.contains(
            "5 buyers of seller S-1 linked by shared phone number ×2, shipping address ×2; 5 orders (5 suspicious) between 2026-10-01 01:00Z and 2026-10-01 10:00Z"
        ),
        "{}",
        ring.message
    );
    assert_eq!(
        m.level("O-1", &["brush.order", "brush.ring_order"]),
        Some(Severity::High)
    );
    // A new member's order is flagged as it is placed; an honest buyer's is not.
    let found = m.send(placed("O-6", "S-1", "L-1", &chain_member(6), T0 + 11 * H));
    assert_eq!(subjects(&found, "brush.ring_order"), ["O-6"]);
    assert!(
        m.send(placed(
            "O-7",
            "S-1",
            "L-1",
            &who("B-honest").device("dev-h"),
            T0 + 12 * H
        ))
        .is_empty()
    );
}

#[test]
fn a_group_without_suspicious_orders_is_no_ring() {
    let mut m = Probe::new("{}");
    m.send(listing("L-1", "S-1", Some("500")));
    for i in 1..=6 {
        chain_order(&mut m, i, 560);
    }
    assert!(m.live.is_empty(), "{:?}", m.live.keys().collect::<Vec<_>>());
}

#[test]
fn a_burst_flags_each_buyers_orders_and_the_seller_then_a_timer_reports_its_peak() {
    let mut m = Probe::new("{}");
    let mut crossed = Vec::new();
    for round in 0..3 {
        for b in 0..4 {
            let order = format!("O-{b}-{round}");
            let at = T0 + (round * 4 + b) * 2 * MIN;
            let found = m.send(placed(
                &order,
                "S-B",
                "L-1",
                &who(&format!("B-{b}"))
                    .device(&format!("d-{b}"))
                    .new_account(),
                at,
            ));
            if !subjects(&found, "brush.concentrate_rate").is_empty() {
                crossed.push(order);
            }
        }
    }
    assert_eq!(
        crossed,
        ["O-3-2"],
        "12 orders from 4 buyers: a rate of 3.0 at the twelfth"
    );
    for b in 0..4 {
        for round in 0..3 {
            let finding = m
                .rule(&format!("O-{b}-{round}"), "brush.order")
                .expect("each order of the burst");
            assert_eq!(finding.evidence[0].field, "buyer_id");
        }
    }
    let first = m
        .rule("S-B", "brush.concentrate_rate")
        .expect("seller")
        .message
        .clone();
    assert!(
        first.contains(
            "12 orders from 4 buyers in the hour up to 2026-10-01 00:22Z: 3.0 orders per buyer"
        ),
        "{first}"
    );
    // No further event about the seller: the timer closes the burst an hour later.
    assert!(m.advance(T0 + 30 * MIN).is_empty());
    let closed = m.advance(T0 + 2 * H);
    assert_eq!(subjects(&closed, "brush.concentrate_rate"), ["S-B"]);
    assert!(
        closed[0]
            .message
            .contains("a burst from 2026-10-01 00:22Z peaked at 12 orders from 4 buyers"),
        "{}",
        closed[0].message
    );
    assert!(m.harness.pending_timers().is_empty());
}

const TEMPLATE: &str =
    "宝贝收到了，跟描述的一模一样，卖家服务态度超级好，物流也快，强烈推荐，下次还会光顾的！";
const VARIANT: &str =
    "宝贝收到了，和图片完全一致，卖家服务态度超级好，物流也快，强烈推荐，下次还会光顾的！";

#[test]
fn fast_near_duplicate_five_star_reviews_are_farmed_the_first_one_too() {
    let mut m = Probe::new("{}");
    let buyers = [who("B-1"), who("B-2").new_account(), who("B-3"), who("B-4")];
    for (i, w) in buyers.iter().enumerate() {
        let order = format!("O-{}", i + 1);
        m.send(placed(&order, "S-1", "L-1", w, T0));
        m.send(delivered(&order, T0 + 30 * H));
    }
    assert!(
        m.send(review("O-1", 5, TEMPLATE, T0 + 32 * H)).is_empty(),
        "one review is no template"
    );
    let found = m.send(review("O-2", 5, VARIANT, T0 + 33 * H));
    assert_eq!(subjects(&found, "brush.farmed_review"), ["O-1", "O-2"]);
    let farmed = m.rule("O-2", "brush.farmed_review").expect("farmed");
    assert_eq!(
        (farmed.category, farmed.severity),
        (Category::ReviewManipulation, Severity::Medium)
    );
    assert_eq!(farmed.evidence[0].field, "text");
    // Farming adds 2 points: with a new account, O-2 reaches review.
    assert_eq!(subjects(&found, "brush.order"), ["O-2"]);
    // Three days after delivery is not fast; a short text is never compared.
    assert!(m.send(review("O-3", 5, TEMPLATE, T0 + 4 * D)).is_empty());
    assert!(m.send(review("O-4", 5, "好评", T0 + 31 * H)).is_empty());
}

#[test]
fn minhash_tells_variants_of_a_template_from_different_reviews() {
    use brush_orders::review::{signature, similarity};
    let a = signature(TEMPLATE, 10).expect("long enough");
    let b = signature(VARIANT, 10).expect("long enough");
    let c = signature("质量不错，物流有点慢，孩子很喜欢，第二次买了", 10).expect("long enough");
    assert!(similarity(&a, &b) >= 0.5, "{}", similarity(&a, &b));
    assert!(similarity(&a, &c) < 0.2, "{}", similarity(&a, &c));
    assert_eq!(signature("Great!! 👍", 10), None, "too short once reduced");
    assert_eq!(
        signature("FAST delivery, great seller", 10),
        signature("fast-delivery great   seller!", 10)
    );
}

#[test]
fn settings_are_checked_with_their_path_and_a_partial_table_keeps_its_defaults() {
    for (settings, field) in [
        (
            r#"{"shared": {"device": {"min_buyers": 40}}}"#,
            "shared.device.min_buyers",
        ),
        (r#"{"block_points": 2}"#, "block_points"),
        (r#"{"ring": {"severity": "urgent"}}"#, "ring.severity"),
        (
            r#"{"empty_parcel": {"max_ratio": 1.5}}"#,
            "empty_parcel.max_ratio",
        ),
        (r#"{"window_hour": 3}"#, "window_hour"),
    ] {
        let err = Harness::<brush_orders::Brush>::new(settings).expect_err(settings);
        assert_eq!(err.field, field, "{settings}: {}", err.message);
    }
    let mut m = Probe::new(r#"{"shared": {"device": {"min_buyers": 3}}}"#);
    m.send(placed("O-1", "S-1", "L-1", &who("B-1").device("dev-x"), T0));
    m.send(placed(
        "O-2",
        "S-1",
        "L-1",
        &who("B-2").device("dev-x"),
        T0 + H,
    ));
    let found = m.send(placed(
        "O-3",
        "S-1",
        "L-1",
        &who("B-3").device("dev-x"),
        T0 + 2 * H,
    ));
    assert_eq!(subjects(&found, "brush.order"), ["O-1", "O-2", "O-3"]);
    assert_eq!(
        found[0].evidence[0].detail.as_deref(),
        Some("3 buyers of seller S-1 used this device within 7 d (+3)")
    );
}

#[test]
fn state_stays_bounded_under_a_flood_and_expires_when_idle() {
    let mut m = Probe::new("{}");
    let orders = 2000;
    let mut most_findings = 0;
    for i in 0..orders {
        let w = who(&format!("B-{i}"))
            .device("dev-hub")
            .address("locker")
            .new_account();
        let order = format!("O-{i}");
        let found = m.send(placed(&order, "S-1", "L-1", &w, T0 + i * 1000));
        most_findings = most_findings.max(found.len());
        m.send(paid(&order, "card-hub", T0 + i * 1000 + 500));
    }
    let device = key::identifier("S-1", Kind::Device, fnv64(b"dev-hub"));
    let buyers: Vec<(u64, i64)> =
        serde_json::from_slice(&m.harness.state_get(&device).expect("kept")).expect("json");
    assert_eq!(buyers.len(), brush_orders::identifiers::CAP_BUYERS);
    let recent = m.harness.state_get("c\u{1f}S-1").expect("recent orders");
    assert_eq!(recent.len(), brush_orders::concentrate::CAP_RECENT * 16);
    let per_order = m.harness.state_bytes() / orders as u64;
    println!(
        "flood: {} bytes of state, {per_order} per order; at most {most_findings} findings per call",
        m.harness.state_bytes()
    );
    assert!(per_order < 700, "{per_order} bytes per order");
    assert!(
        most_findings <= brush_orders::ring::MAX_RETRO + 4,
        "{most_findings}"
    );
    // A month later with nothing new, everything but the listing weights has expired.
    m.advance(T0 + 40 * D);
    let left: Vec<String> = m
        .harness
        .state_entries()
        .into_iter()
        .map(|e| e.key)
        .filter(|k| !k.starts_with('w'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
