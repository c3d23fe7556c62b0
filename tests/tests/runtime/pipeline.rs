//! The pipeline end to end with a real component: findings, state, timers in event time,
//! restarts and deterministic replay.

use probity::model::subject::SubjectType;
use probity::runtime::{CacheOutcome, PluginEngine, load_plugin};
use probity::verdict::{Action, Category, Severity, Verdict};
use probity_e2e::harness::{
    config, entry, listing, one_listing, paid, pipeline, pipeline_in, placed, shipped,
};
use probity_e2e::test_plugin;
use serde_json::json;

fn at(text: &str) -> i64 {
    probity::model::time::parse_rfc3339(text).expect("timestamp")
}

fn good() -> probity::config::Config {
    config(vec![("good", entry("good", json!({"word": "forbidden"})))])
}

fn find<'a>(verdicts: &'a [Verdict], kind: SubjectType, id: &str) -> &'a Verdict {
    verdicts
        .iter()
        .rev()
        .find(|v| v.subject.kind == kind && v.subject.id == id)
        .unwrap_or_else(|| panic!("no verdict for {kind:?} {id} in {verdicts:#?}"))
}

#[test]
fn a_text_finding_carries_field_span_and_excerpt() {
    let report = one_listing(&good(), "a forbidden thing");
    let verdict = find(&report.touched, SubjectType::Listing, "L-1");
    assert_eq!(verdict.action, Action::Block);
    let finding = &verdict.findings[0];
    assert_eq!(
        (finding.rule.as_str(), finding.category, finding.severity),
        ("good.word", Category::MisleadingClaim, Severity::High)
    );
    let evidence = &finding.evidence[0];
    assert_eq!(evidence.field, "title");
    assert_eq!((evidence.start, evidence.end), (Some(2), Some(11)));
    assert_eq!(evidence.excerpt.as_deref(), Some("forbidden"));
    assert_eq!(finding.event_id, "e1");
    assert_eq!(finding.plugin_version, "0.1.0");
}

#[test]
fn every_subject_an_event_names_gets_a_clean_verdict() {
    let (_dir, mut pipeline) = pipeline(&good());
    let report = pipeline
        .process(&listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "nice"))
        .expect("processed");
    let listing = find(&report.touched, SubjectType::Listing, "L-1");
    let seller = find(&report.touched, SubjectType::Seller, "S-1");
    assert!(listing.findings.is_empty() && listing.action == Action::Allow);
    assert!(seller.findings.is_empty() && seller.action == Action::Allow);
}

#[test]
fn state_persists_between_events() {
    let (_dir, mut pipeline) = pipeline(&good());
    let mut last = None;
    for i in 1..=3 {
        let report = pipeline
            .process(&listing(
                &format!("e{i}"),
                "2026-11-01T10:00:00Z",
                &format!("L-{i}"),
                "S-1",
                "ok",
            ))
            .expect("processed");
        last = Some(report);
    }
    let report = last.expect("three events");
    let seller = find(&report.touched, SubjectType::Seller, "S-1");
    assert_eq!(seller.findings[0].rule, "good.seller_listings");
}

#[test]
fn a_timer_fires_when_the_clock_passes_its_due_time() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    // 59 minutes later: not due yet.
    let early = pipeline
        .process(&listing("e2", "2026-11-01T10:59:00Z", "L-1", "S-1", "ok"))
        .expect("processed");
    assert_eq!(early.timers_fired, 0);
    // An unrelated event two hours later moves the clock past the deadline.
    let late = pipeline
        .process(&listing("e3", "2026-11-01T12:00:00Z", "L-2", "S-1", "ok"))
        .expect("processed");
    assert_eq!(late.timers_fired, 1);
    let order = find(&late.changes, SubjectType::Order, "O-1");
    assert_eq!(order.findings[0].rule, "good.not_shipped");
    assert_eq!(order.findings[0].event_id, "e3");
    assert_eq!(order.action, Action::Review);
}

#[test]
fn a_timer_cancelled_in_time_never_fires() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    pipeline
        .process(&shipped("e2", "2026-11-01T10:30:00Z", "O-1"))
        .expect("shipped");
    let later = pipeline
        .process(&listing("e3", "2026-11-02T10:00:00Z", "L-1", "S-1", "ok"))
        .expect("processed");
    assert_eq!(later.timers_fired, 0);
}

#[test]
fn advancing_the_clock_without_an_event_fires_due_timers() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    let report = pipeline
        .advance_clock(at("2026-11-01T20:00:00Z"), "tick")
        .expect("advanced");
    assert_eq!(report.timers_fired, 1);
}

#[test]
fn timers_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut pipeline = pipeline_in(dir.path(), &good());
        pipeline
            .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
            .expect("placed");
        pipeline
            .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
            .expect("paid");
        pipeline.store().flush().expect("flush");
    }
    let mut pipeline = pipeline_in(dir.path(), &good());
    let report = pipeline
        .process(&listing("e2", "2026-11-01T12:00:00Z", "L-1", "S-1", "ok"))
        .expect("processed");
    assert_eq!(report.timers_fired, 1);
    assert_eq!(
        find(&report.changes, SubjectType::Order, "O-1").findings[0].rule,
        "good.not_shipped"
    );
}

#[test]
fn the_clock_never_goes_back_for_late_events() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&listing("e1", "2026-11-01T12:00:00Z", "L-1", "S-1", "ok"))
        .expect("first");
    pipeline
        .process(&listing("e2", "2026-11-01T08:00:00Z", "L-2", "S-1", "ok"))
        .expect("late");
    assert_eq!(pipeline.clock(), Some(at("2026-11-01T12:00:00Z")));
    assert_eq!(pipeline.store().clock().expect("clock"), pipeline.clock());
}

fn replay() -> Vec<String> {
    let (_dir, mut pipeline) = pipeline(&good());
    let events = [
        placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"),
        placed("e00", "2026-11-01T09:59:00Z", "O-2", "S-2"),
        paid("e1", "2026-11-01T10:00:00Z", "O-1"),
        listing(
            "e2",
            "2026-11-01T10:05:00Z",
            "L-1",
            "S-1",
            "forbidden fruit",
        ),
        paid("e3", "2026-11-01T10:10:00Z", "O-2"),
        listing("e4", "2026-11-01T10:20:00Z", "L-2", "S-1", "ok"),
        shipped("e5", "2026-11-01T10:30:00Z", "O-2"),
        listing("e6", "2026-11-01T13:00:00Z", "L-3", "S-1", "ok"),
    ];
    let mut out = Vec::new();
    for event in &events {
        for verdict in pipeline.process(event).expect("processed").changes {
            out.push(serde_json::to_string(&verdict).expect("json"));
        }
    }
    out
}

#[test]
fn replaying_the_same_events_gives_the_same_verdicts() {
    let first = replay();
    assert!(first.len() > 5);
    assert_eq!(first, replay());
}

#[test]
fn compiled_plugins_are_cached_on_disk() {
    let cache = tempfile::tempdir().expect("tempdir");
    let wasm = std::fs::read(test_plugin("good")).expect("good.wasm");
    let entry = entry("good", json!({}));
    let cold = PluginEngine::new(&Default::default(), cache.path().to_path_buf()).expect("engine");
    let (_, report) = load_plugin(&cold, "good", &entry, &wasm, 1).expect("load");
    assert_eq!(report.cache, CacheOutcome::Miss);
    let warm = PluginEngine::new(&Default::default(), cache.path().to_path_buf()).expect("engine");
    let (plugin, report) = load_plugin(&warm, "good", &entry, &wasm, 1).expect("load");
    assert_eq!(report.cache, CacheOutcome::Hit);
    assert_eq!(plugin.manifest().name, "good");
}

/// A `plugin_error` finding stands only until the plugin next succeeds on the subject:
/// with `on_error = "review"`, one failed call must not hold a listing in review for good.
#[test]
fn a_later_successful_call_replaces_the_plugin_error_finding() {
    use probity::config::{Limits, OnError};
    use probity_e2e::harness::entry_with;
    // What each title costs, with the instance's set-up, to set a fuel budget the short
    // title fits in and the long one does not.
    let long_title = "a fine mug ".repeat(90);
    let (_dir, mut probe) = pipeline(&good());
    let plugin = probe.plugins().get("good").expect("loaded").clone();
    let fuel = || {
        plugin
            .counters()
            .fuel
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let mut costs = Vec::new();
    for (i, title) in ["a fine mug", long_title.as_str(), "a fine mug"]
        .into_iter()
        .enumerate()
    {
        let before = fuel();
        probe
            .process(&listing(
                &format!("p{i}"),
                "2026-11-01T10:00:00Z",
                &format!("L-{i}"),
                &format!("S-{i}"),
                title,
            ))
            .expect("processed");
        costs.push(fuel() - before);
    }
    let setup = costs[0].saturating_sub(costs[2]);
    let (short, long) = (setup + costs[2], setup + costs[1]);
    assert!(long > short + 1_000, "the long title costs more: {costs:?}");
    eprintln!("fuel: short {short}, long {long} (set-up {setup})");
    let budget = short + (long - short) / 2;
    let mut entry = entry_with(
        "good",
        Limits {
            fuel: budget,
            ..Limits::default()
        },
        OnError::Review,
    );
    entry.settings = json!({"word": "forbidden"});
    let (_dir, mut pipeline) = pipeline(&config(vec![("good", entry)]));

    let report = pipeline
        .process(&listing(
            "e1",
            "2026-11-01T10:00:00Z",
            "L-1",
            "S-1",
            &long_title,
        ))
        .expect("processed");
    let failed = find(&report.touched, SubjectType::Listing, "L-1");
    assert_eq!(failed.action, Action::Review, "{failed:#?}");
    assert_eq!(failed.findings[0].category, Category::PluginError);

    let report = pipeline
        .process(&listing(
            "e2",
            "2026-11-01T10:05:00Z",
            "L-1",
            "S-1",
            "a fine mug",
        ))
        .expect("processed");
    let fixed = find(&report.touched, SubjectType::Listing, "L-1");
    assert_eq!(fixed.action, Action::Allow, "{fixed:#?}");
    assert!(fixed.findings.is_empty(), "{fixed:#?}");
}

/// A listing re-sent with the same offending title keeps its finding, and the history
/// does not grow with a copy of it on every upsert.
#[test]
fn a_finding_repeated_by_a_resend_is_not_history_again() {
    let (_dir, mut pipeline) = pipeline(&good());
    for (i, minute) in ["00", "05", "10"].iter().enumerate() {
        pipeline
            .process(&listing(
                &format!("e{i}"),
                &format!("2026-11-01T10:{minute}:00Z"),
                "L-1",
                "S-1",
                "a forbidden thing",
            ))
            .expect("processed");
    }
    let subject = probity::model::subject::Subject {
        kind: SubjectType::Listing,
        id: "L-1".into(),
    };
    let history = pipeline.store().history(&subject).expect("history");
    let listing_findings: Vec<_> = history.iter().filter(|f| f.rule == "good.word").collect();
    assert_eq!(listing_findings.len(), 1, "{history:#?}");
    let verdict = pipeline
        .store()
        .verdict(&subject)
        .expect("read")
        .expect("verdict");
    assert_eq!(verdict.action, Action::Block);
    assert_eq!(verdict.findings[0].event_id, "e0", "first raised by e0");
}
