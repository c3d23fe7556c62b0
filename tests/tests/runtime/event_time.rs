//! Event time with the real bundled `sla` plugin: a jump of the clock — a day, a month,
//! a year — gives the same findings as a clock that moved smoothly through the gap, and a
//! very late event is evaluated without moving the clock.

use probity::config::PluginConfig;
use probity::model::subject::SubjectType;
use probity::model::time::parse_rfc3339;
use probity::pipeline::Pipeline;
use probity::verdict::{Action, Category};
use probity_e2e::harness::{config, event, pipeline};
use serde_json::json;

fn sla_only() -> probity::config::Config {
    config(vec![("sla", PluginConfig::bundled("sla"))])
}

/// Three orders paid on 2026-11-01 and never shipped, and one complaint never answered.
fn quiet_start(pipeline: &mut Pipeline) {
    for n in 1..=3 {
        let order = format!("O-{n}");
        pipeline
            .process(&event(json!({
                "event_id": format!("placed-{n}"), "type": "order.placed",
                "occurred_at": "2026-11-01T10:00:00Z", "order_id": order,
                "listing_id": "L-1", "seller_id": "S-1", "buyer_id": format!("B-{n}"),
                "quantity": 1, "total": {"amount": "59.00", "currency": "CNY"}
            })))
            .expect("placed");
        pipeline
            .process(&event(json!({
                "event_id": format!("paid-{n}"), "type": "order.paid",
                "occurred_at": "2026-11-01T10:05:00Z", "order_id": order
            })))
            .expect("paid");
    }
    pipeline
        .process(&event(json!({
            "event_id": "complaint", "type": "complaint.opened",
            "occurred_at": "2026-11-01T12:00:00Z", "complaint_id": "C-1",
            "seller_id": "S-1", "order_id": "O-1", "text": "还没发货"
        })))
        .expect("complaint");
}

/// The SLA findings on the four subjects: (subject, rule), sorted.
fn sla_findings(pipeline: &Pipeline) -> Vec<(String, String, Action)> {
    let store = pipeline.store();
    let mut out = Vec::new();
    for (kind, id) in [
        (SubjectType::Order, "O-1"),
        (SubjectType::Order, "O-2"),
        (SubjectType::Order, "O-3"),
        (SubjectType::Complaint, "C-1"),
    ] {
        let subject = probity::model::subject::Subject {
            kind,
            id: id.to_string(),
        };
        let verdict = store.verdict(&subject).expect("read").expect("a verdict");
        for finding in verdict
            .findings
            .iter()
            .filter(|f| f.category != Category::PluginError)
        {
            out.push((id.to_string(), finding.rule.clone(), verdict.action));
        }
    }
    out.sort();
    out
}

/// Move the clock a day at a time to `until` with unrelated listings.
fn smooth_to(pipeline: &mut Pipeline, until: i64) {
    let day = 86_400_000;
    let mut at = parse_rfc3339("2026-11-02T00:00:00Z").expect("time");
    let mut n = 0;
    while at <= until {
        pipeline.advance_clock(at, "tick").expect("clock advanced");
        at += day;
        n += 1;
    }
    assert!(n > 0);
}

fn one_unrelated_event_at(pipeline: &mut Pipeline, at: &str) {
    pipeline
        .process(&event(json!({
            "event_id": "later", "type": "listing.upserted", "occurred_at": at,
            "listing_id": "L-9", "seller_id": "S-9", "title": "plain tea",
            "price": {"amount": "9.90", "currency": "CNY"}
        })))
        .expect("later event");
}

#[test]
fn a_jump_of_a_day_a_month_or_a_year_gives_the_findings_of_a_smooth_clock() {
    for until in [
        "2026-11-05T00:00:00Z",
        "2026-12-08T00:00:00Z",
        "2027-11-01T00:00:00Z",
    ] {
        let end = parse_rfc3339(until).expect("time");
        let (_smooth_dir, mut smooth) = pipeline(&sla_only());
        quiet_start(&mut smooth);
        smooth_to(&mut smooth, end);
        let expected = sla_findings(&smooth);
        let orders_flagged = ["O-1", "O-2", "O-3", "C-1"]
            .iter()
            .filter(|id| expected.iter().any(|(subject, _, _)| subject == *id))
            .count();
        assert_eq!(
            orders_flagged, 4,
            "the smooth clock to {until} flags all four: {expected:?}"
        );

        // The same gap in one event.
        let (_dir, mut jumped) = pipeline(&sla_only());
        quiet_start(&mut jumped);
        one_unrelated_event_at(&mut jumped, until);
        assert_eq!(sla_findings(&jumped), expected, "one event at {until}");

        // The same gap in one clock advance (`probity check --advance-to`).
        let (_dir, mut advanced) = pipeline(&sla_only());
        quiet_start(&mut advanced);
        advanced.advance_clock(end, "advance_to").expect("advanced");
        assert_eq!(sla_findings(&advanced), expected, "advance to {until}");
    }
}

#[test]
fn a_very_late_event_is_evaluated_and_leaves_the_clock_alone() {
    let (_dir, mut pipeline) = pipeline(&sla_only());
    quiet_start(&mut pipeline);
    let clock = pipeline.clock();
    // Months older than the clock: an order placed and paid in the spring.
    let report = pipeline
        .process(&event(json!({
            "event_id": "spring", "type": "order.placed",
            "occurred_at": "2026-04-01T10:00:00Z", "order_id": "O-OLD",
            "listing_id": "L-1", "seller_id": "S-1", "buyer_id": "B-9",
            "quantity": 1, "total": {"amount": "59.00", "currency": "CNY"}
        })))
        .expect("a late event is accepted");
    assert_eq!(
        pipeline.clock(),
        clock,
        "a late event never moves the clock"
    );
    assert!(
        report
            .touched
            .iter()
            .any(|v| v.subject.kind == SubjectType::Order && v.subject.id == "O-OLD"),
        "it is evaluated and its subjects get verdicts: {:?}",
        report.touched
    );
}

/// A clock advance is logged in the same unit as its effects; replaying the log repeats
/// it at the same point, so a rebuild gives the same findings.
#[test]
fn a_logged_clock_advance_is_replayed_at_the_same_point() {
    use probity::store::LogEntry;
    let (_dir, mut live) = pipeline(&sla_only());
    quiet_start(&mut live);
    let advance = parse_rfc3339("2026-11-05T00:00:00Z").expect("time");
    assert!(
        live.due_by(advance).expect("due_by"),
        "the ship deadlines are due"
    );
    assert!(
        !live
            .due_by(parse_rfc3339("2026-11-01T13:00:00Z").expect("time"))
            .expect("due_by")
    );
    live.advance_clock(advance, "wall-clock").expect("advanced");
    let expected = sla_findings(&live);
    assert!(!expected.is_empty());

    let store = live.store().clone();
    store.flush().expect("the log synced");
    let entries: Vec<(u64, LogEntry)> = store
        .logged_events()
        .collect::<Result<_, _>>()
        .expect("log");
    assert!(
        matches!(entries.last(), Some((_, LogEntry::ClockAdvance { to, cause })) if *to == advance && cause == "wall-clock"),
        "the advance is the last entry of the log"
    );
    store.reset_derived().expect("reset");
    let set = probity_e2e::harness::load(&sla_only()).expect("plugins");
    let mut replay = Pipeline::new(store.clone(), std::sync::Arc::new(set)).expect("pipeline");
    for (seq, entry) in &entries {
        replay.replay_entry(*seq, entry).expect("replayed");
    }
    assert_eq!(sla_findings(&replay), expected);
    assert_eq!(
        store.logged_events().count(),
        entries.len(),
        "a replay does not log again"
    );
}
