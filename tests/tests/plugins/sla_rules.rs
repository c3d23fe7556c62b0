//! The `sla` plugin rule by rule, natively through the SDK's harness, with exact
//! expectations: every deadline at, just past and long past its time, met, missed in
//! silence, voided, reported late, out of order; the seller's record; replays.

use probity_e2e::sla::*;
use probity_sdk::prelude::*;

fn one(findings: &[Finding]) -> (String, String, Severity, String) {
    assert_eq!(findings.len(), 1, "{:?}", summary(findings));
    summary(findings).remove(0)
}

fn finding(
    subject: &str,
    rule: &str,
    severity: Severity,
    message: &str,
) -> (String, String, Severity, String) {
    (subject.into(), rule.into(), severity, message.into())
}

/// Order O-1 paid at T0: its ship-by time is T0 + 48 h = 2026-10-03 00:00Z.
fn paid_order(settings: &str) -> Probe {
    let mut m = Probe::new(settings);
    m.send(placed("O-1", "S-1", T0 - 60_000));
    m.send(paid("O-1", T0, None, false));
    m
}

#[test]
fn shipping_exactly_at_the_deadline_is_on_time() {
    let mut m = paid_order("{}");
    assert!(m.send(shipped("O-1", T0 + 48 * H)).is_empty());
    assert!(m.advance(T0 + 30 * D).is_empty());
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn shipping_just_past_the_deadline_is_a_low_breach_when_the_shipment_arrives() {
    let mut m = paid_order("{}");
    let found = m.send(shipped("O-1", T0 + 48 * H + 1));
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.ship_late",
            Severity::Low,
            "order O-1 was shipped 1 min after its deadline 2026-10-03 00:00Z"
        )
    );
    assert_eq!(
        found[0].evidence[0].detail.as_deref(),
        Some(
            "started 2026-10-01 00:00Z, deadline 2026-10-03 00:00Z (48 h), shipped 2026-10-03 00:00Z"
        )
    );
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn an_order_never_shipped_is_reported_by_its_timer_and_escalates() {
    let mut m = paid_order("{}");
    assert!(
        m.advance(T0 + 48 * H).is_empty(),
        "at the deadline: not yet"
    );
    // No event about the order ever comes; other traffic moves event time on.
    let found = m.send(placed("O-other", "S-2", T0 + 49 * H));
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.ship_late",
            Severity::Low,
            "order O-1 has not shipped: 1 h past its deadline 2026-10-03 00:00Z"
        )
    );
    assert!(m.advance(T0 + 71 * H).is_empty());
    let found = m.advance(T0 + 72 * H + 1);
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.ship_late",
            Severity::Medium,
            "order O-1 has not shipped: 24 h past its deadline 2026-10-03 00:00Z"
        )
    );
    assert!(m.advance(T0 + 10 * D).is_empty(), "no step after medium");
    // The parcel finally leaves: the finding says how late, once.
    let found = m.send(shipped("O-1", T0 + 10 * D + 4 * H));
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.ship_late",
            Severity::Medium,
            "order O-1 was shipped 8 d 4 h after its deadline 2026-10-03 00:00Z"
        )
    );
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn a_shipment_reported_after_its_timer_fired_but_made_in_time_clears_the_breach() {
    let mut m = paid_order("{}");
    assert_eq!(m.advance(T0 + 50 * H).len(), 1);
    let found = m.send(shipped("O-1", T0 + 47 * H));
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.ship_late",
            Severity::Info,
            "cleared: order O-1 was shipped on time at 2026-10-02 23:00Z (deadline 2026-10-03 00:00Z); the event arrived after the deadline had passed"
        )
    );
    // Sent again, nothing more.
    assert!(m.send(shipped("O-1", T0 + 47 * H)).is_empty());
}

#[test]
fn a_delivery_with_no_shipment_counts_as_shipped_then_the_real_shipment_corrects_it() {
    let mut m = paid_order("{}");
    m.advance(T0 + 47 * H);
    // The shipment event is lost for now; the delivery is the latest it can have left.
    let found = m.send(delivered("O-1", T0 + 60 * H));
    let late = one(&found);
    assert_eq!((late.1.as_str(), late.2), ("sla.ship_late", Severity::Low));
    let found = m.send(shipped("O-1", T0 + 40 * H));
    assert_eq!(one(&found).2, Severity::Info, "shipped in time after all");
}

#[test]
fn an_order_cancelled_or_fully_refunded_before_its_deadline_is_no_breach() {
    let mut m = paid_order("{}");
    assert!(m.send(cancelled("O-1", T0 + 10 * H)).is_empty());
    assert!(m.advance(T0 + 30 * D).is_empty());
    assert!(m.harness.pending_timers().is_empty());

    let mut m = paid_order("{}");
    m.send(refund_requested("O-1", "F-1", T0 + 2 * H, false));
    assert!(
        m.send(refund_completed("O-1", "F-1", T0 + 5 * H, Some(100)))
            .is_empty()
    );
    assert!(
        m.advance(T0 + 30 * D).is_empty(),
        "refunded in full before shipping"
    );
    assert!(m.harness.pending_timers().is_empty());

    // A partial refund does not end the order: it must still ship.
    let mut m = paid_order("{}");
    m.send(refund_requested("O-1", "F-1", T0 + 2 * H, false));
    m.send(refund_completed("O-1", "F-1", T0 + 5 * H, Some(30)));
    assert_eq!(subjects(&m.advance(T0 + 49 * H), "sla.ship_late"), ["O-1"]);
}

#[test]
fn a_cancellation_after_the_deadline_leaves_the_breach_and_stops_the_escalation() {
    let mut m = paid_order("{}");
    assert_eq!(m.advance(T0 + 50 * H).len(), 1);
    assert!(m.send(cancelled("O-1", T0 + 60 * H)).is_empty());
    assert_eq!(
        m.rule("O-1", "sla.ship_late").map(|f| f.severity),
        Some(Severity::Low)
    );
    assert!(m.advance(T0 + 30 * D).is_empty());
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn a_presale_ships_by_its_promise_or_within_fifteen_days() {
    let mut m = Probe::new("{}");
    m.send(paid("O-1", T0, Some(T0 + 10 * D), true));
    assert!(m.advance(T0 + 9 * D).is_empty());
    assert!(
        m.send(shipped("O-1", T0 + 10 * D)).is_empty(),
        "exactly at the promise"
    );

    let mut m = Probe::new("{}");
    m.send(paid("O-2", T0, None, true));
    assert!(m.advance(T0 + 15 * D).is_empty());
    let found = m.advance(T0 + 15 * D + H);
    assert_eq!(subjects(&found, "sla.ship_late"), ["O-2"]);
}

#[test]
fn a_category_can_have_its_own_shipping_deadline() {
    let mut m =
        Probe::new(r#"{"ship": {"by_category": {"furniture": 168, "furniture/outdoor": 240}}}"#);
    m.send(listing("L-sofa", "furniture/sofa"));
    m.send(listing("L-bench", "furniture/outdoor/bench"));
    m.send(placed_from("O-1", "S-1", "L-sofa", T0));
    m.send(paid("O-1", T0, None, false));
    m.send(placed_from("O-2", "S-1", "L-bench", T0));
    m.send(paid("O-2", T0, None, false));
    assert!(m.advance(T0 + 7 * D).is_empty());
    assert_eq!(
        subjects(&m.advance(T0 + 7 * D + 1), "sla.ship_late"),
        ["O-1"]
    );
    assert_eq!(
        subjects(&m.advance(T0 + 8 * D + 1), "sla.ship_late"),
        ["O-1"],
        "O-1 escalates"
    );
    assert!(m.advance(T0 + 10 * D).is_empty());
    assert_eq!(
        subjects(&m.advance(T0 + 10 * D + 1), "sla.ship_late"),
        ["O-2"]
    );
}

#[test]
fn refunds_complete_within_72_hours_or_15_days_with_a_return() {
    let mut m = Probe::new("{}");
    m.send(placed("O-1", "S-1", T0));
    m.send(refund_requested("O-1", "F-1", T0, false));
    let found = m.send(refund_completed("O-1", "F-1", T0 + 73 * H, Some(20)));
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.refund_late",
            Severity::Low,
            "refund F-1 of order O-1 was refunded 1 h after its deadline 2026-10-04 00:00Z"
        )
    );
    m.send(refund_requested("O-1", "F-2", T0, true));
    assert!(m.advance(T0 + 15 * D).is_empty());
    let found = m.advance(T0 + 15 * D + 2 * H);
    assert_eq!(
        one(&found),
        finding(
            "O-1",
            "sla.refund_late",
            Severity::Low,
            "refund F-2 of order O-1 is not refunded: 2 h past its deadline 2026-10-16 00:00Z"
        )
    );
}

#[test]
fn complaints_are_answered_within_24_hours() {
    let mut m = Probe::new("{}");
    m.send(opened("C-1", "S-1", T0));
    assert!(m.send(responded("C-1", T0 + 23 * H)).is_empty());
    m.send(opened("C-2", "S-1", T0));
    let found = m.advance(T0 + 25 * H);
    assert_eq!(
        one(&found),
        finding(
            "C-2",
            "sla.complaint_unanswered",
            Severity::Low,
            "complaint C-2 has no answer: 1 h past its deadline 2026-10-02 00:00Z"
        )
    );
    assert_eq!(found[0].subject.kind, SubjectType::Complaint);
    let found = m.send(responded("C-2", T0 + 26 * H));
    assert_eq!(
        one(&found),
        finding(
            "C-2",
            "sla.complaint_unanswered",
            Severity::Low,
            "complaint C-2 was answered 2 h after its deadline 2026-10-02 00:00Z"
        )
    );
    // Resolved by the platform before the deadline: no breach.
    m.send(opened("C-3", "S-1", T0 + 30 * H));
    assert!(m.send(resolved("C-3", T0 + 40 * H)).is_empty());
    // A response seen before the opening (out of order) meets it.
    assert!(m.send(responded("C-4", T0 + 50 * H)).is_empty());
    assert!(m.send(opened("C-4", "S-1", T0 + 49 * H)).is_empty());
    assert!(m.advance(T0 + 30 * D).is_empty());
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn a_seller_missing_too_many_deadlines_is_flagged_and_cleared_as_the_window_rolls() {
    let settings = r#"{"seller": {"min_deadlines": 4, "max_breach_rate": 0.2}}"#;
    let mut m = Probe::new(settings);
    for i in 0..5 {
        let order = format!("O-{i}");
        m.send(placed(&order, "S-1", T0));
        m.send(paid(&order, T0, None, false));
    }
    for i in 0..3 {
        m.send(shipped(&format!("O-{i}"), T0 + 24 * H));
    }
    let found = m.advance(T0 + 49 * H);
    assert_eq!(subjects(&found, "sla.ship_late"), ["O-3", "O-4"]);
    // Flagged as the record crosses the line: 3 met and the first breach, 25 %.
    let record = m.rule("S-1", "sla.seller_record").expect("flagged");
    assert_eq!(record.severity, Severity::Medium);
    assert!(
        record.message.starts_with("seller S-1 misses its service deadlines: 1 of 4 deadlines missed (25.0 %) in the 30 days"),
        "{}",
        record.message
    );
    // Nothing else happens; a month later the breaches have left the window.
    m.send(shipped("O-3", T0 + 50 * H));
    m.send(shipped("O-4", T0 + 50 * H));
    m.advance(T0 + 33 * D);
    let cleared = m.rule("S-1", "sla.seller_record").expect("cleared");
    assert_eq!(cleared.severity, Severity::Info, "{}", cleared.message);
    assert!(m.harness.pending_timers().is_empty());
}

#[test]
fn the_same_stream_gives_the_same_findings() {
    let stream = || {
        let mut events = Vec::new();
        for i in 0..20i64 {
            let order = format!("O-{i}");
            events.push(placed(&order, &format!("S-{}", i % 3), T0 + i * H));
            events.push(paid(&order, T0 + i * H, None, i % 7 == 0));
            if i % 2 == 0 {
                events.push(shipped(&order, T0 + i * H + (30 + 3 * i) * H));
            }
            if i % 5 == 0 {
                events.push(refund_requested(
                    &order,
                    &format!("F-{i}"),
                    T0 + (i + 3) * H,
                    i % 10 == 0,
                ));
            }
            events.push(opened(&format!("C-{i}"), "S-1", T0 + i * 2 * H));
            if i % 3 == 0 {
                events.push(responded(&format!("C-{i}"), T0 + i * 2 * H + (20 + i) * H));
            }
        }
        events.sort_by_key(|e| e.occurred_at);
        events
    };
    let run = || {
        let mut m = Probe::new(r#"{"seller": {"min_deadlines": 5}}"#);
        let mut all = Vec::new();
        for event in stream() {
            all.extend(summary(&m.send(event)));
        }
        all.extend(summary(&m.advance(T0 + 40 * D)));
        all
    };
    let first = run();
    assert!(first.len() > 20, "{}", first.len());
    assert_eq!(first, run());
}

#[test]
fn settings_are_checked_with_their_path() {
    for (settings, field) in [
        (r#"{"ship": {"hours": 0}}"#, "ship.hours"),
        (
            r#"{"ship": {"by_category": {"food": 100000}}}"#,
            "ship.by_category.food",
        ),
        (
            r#"{"severity": {"steps": [{"after_hours": 5, "severity": "low"}]}}"#,
            "severity.steps[0].after_hours",
        ),
        (
            r#"{"severity": {"steps": [{"after_hours": 0, "severity": "dire"}]}}"#,
            "severity.steps[0].severity",
        ),
        (
            r#"{"seller": {"max_breach_rate": 1.5}}"#,
            "seller.max_breach_rate",
        ),
        (r#"{"refunds": {}}"#, "refunds"),
    ] {
        let err = probity_sdk::testing::Harness::<sla::Sla>::new(settings).expect_err(settings);
        assert_eq!(err.field, field, "{settings}: {}", err.message);
    }
}
