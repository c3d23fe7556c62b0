//! Due timers whose plugin cannot run are kept, not dropped: a timer of a disabled plugin
//! fires once the plugin is back (showing its original due time); one its plugin keeps
//! failing on is retried with back-off and dropped, visibly, after a bound; a timer
//! refused by the quota becomes a finding on the subject.

use std::sync::Arc;

use probity::config::BreakerConfig;
use probity::model::subject::{Subject, SubjectType};
use probity::model::time::parse_rfc3339;
use probity::pipeline::Pipeline;
use probity::verdict::Category;
use probity_e2e::harness::{config, entry, load, namespace, paid, pipeline, placed};
use serde_json::json;

fn at(text: &str) -> i64 {
    parse_rfc3339(text).expect("time")
}

fn good() -> probity::config::Config {
    config(vec![("good", entry("good", json!({"word": "forbidden"})))])
}

fn order(id: &str) -> Subject {
    Subject {
        kind: SubjectType::Order,
        id: id.into(),
    }
}

fn swap(pipeline: &mut Pipeline, config: &probity::config::Config) {
    pipeline.set_plugins(Arc::new(load(config).expect("plugins load")));
}

#[test]
fn a_timer_of_a_disabled_plugin_waits_and_fires_with_its_original_due_time() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    let store = pipeline.store().clone();
    assert_eq!(
        store
            .timer_due(&namespace("good", "S-1"), "ship:O-1")
            .expect("read"),
        Some(at("2026-11-01T11:00:00Z"))
    );

    // The plugin is disabled while its timer comes due: the timer is kept.
    swap(&mut pipeline, &config(vec![]));
    pipeline
        .advance_clock(at("2026-11-01T12:00:00Z"), "tick")
        .expect("advanced");
    let deferred = store
        .timer_due(&namespace("good", "S-1"), "ship:O-1")
        .expect("read");
    assert!(
        deferred.is_some_and(|due| due > at("2026-11-01T12:00:00Z")),
        "kept and put off: {deferred:?}"
    );
    assert_eq!(
        store
            .usage(&namespace("good", "S-1"))
            .expect("usage")
            .timers,
        1
    );
    assert!(
        store
            .verdict(&order("O-1"))
            .expect("read")
            .expect("v")
            .findings
            .is_empty()
    );

    // Back again: it fires, and the plugin sees the due time it set.
    swap(&mut pipeline, &good());
    pipeline
        .advance_clock(at("2026-11-01T14:00:00Z"), "tick")
        .expect("advanced");
    let verdict = store.verdict(&order("O-1")).expect("read").expect("v");
    let finding = verdict
        .findings
        .iter()
        .find(|f| f.plugin == "good")
        .unwrap_or_else(|| panic!("the timer fired: {verdict:#?}"));
    let shown = finding.evidence[0].detail.clone().unwrap_or_default();
    assert_eq!(
        shown,
        format!("ship-by {}", at("2026-11-01T11:00:00Z")),
        "the plugin is shown its own due time"
    );
    assert_eq!(
        store
            .timer_due(&namespace("good", "S-1"), "ship:O-1")
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .usage(&namespace("good", "S-1"))
            .expect("usage")
            .timers,
        0
    );
}

#[test]
fn a_timer_its_plugin_keeps_failing_on_is_retried_then_dropped() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    let store = pipeline.store().clone();
    // The same plugin, now failing every timer (breaker off, so each retry runs it).
    let mut failing = entry("good", json!({"word": "forbidden", "fail_timers": true}));
    failing.breaker = BreakerConfig {
        failures: 0,
        ..BreakerConfig::default()
    };
    swap(&mut pipeline, &config(vec![("good", failing)]));
    let mut hour = 11;
    let mut kept = Vec::new();
    while hour < 20 {
        pipeline
            .advance_clock(at(&format!("2026-11-01T{hour:02}:30:00Z")), "tick")
            .expect("advanced");
        kept.push(
            store
                .timer_due(&namespace("good", "S-1"), "ship:O-1")
                .expect("read")
                .is_some(),
        );
        hour += 1;
    }
    // Five failed runs, an hour apart: kept after each of the first four, then dropped.
    assert_eq!(kept[..5], [true, true, true, true, false], "{kept:?}");
    assert_eq!(
        store
            .usage(&namespace("good", "S-1"))
            .expect("usage")
            .timers,
        0
    );
}

#[test]
fn a_timer_refused_by_the_quota_is_a_finding_on_the_subject() {
    // A plugin that carries on when its timer is refused: the host still says so.
    let mut limited = entry(
        "good",
        json!({"word": "forbidden", "ignore_timer_refusals": true}),
    );
    limited.limits.timers_quota = 1;
    let (_dir, mut pipeline) = pipeline(&config(vec![("good", limited)]));
    pipeline
        .process(&placed("e0", "2026-11-01T09:59:00Z", "O-1", "S-1"))
        .expect("placed");
    pipeline
        .process(&paid("e1", "2026-11-01T10:00:00Z", "O-1"))
        .expect("paid");
    pipeline
        .process(&placed("e00", "2026-11-01T09:59:00Z", "O-2", "S-1"))
        .expect("placed");
    let report = pipeline
        .process(&paid("e2", "2026-11-01T10:01:00Z", "O-2"))
        .expect("paid");
    let verdict = report
        .touched
        .iter()
        .find(|v| v.subject == order("O-2"))
        .expect("O-2 touched");
    let finding = verdict
        .findings
        .iter()
        .find(|f| f.rule == "plugin_error.timer_quota")
        .unwrap_or_else(|| panic!("a finding says the deadline is not tracked: {verdict:#?}"));
    assert_eq!(finding.category, Category::PluginError);
    assert!(
        finding.message.contains("timers_quota (1)"),
        "{}",
        finding.message
    );
}
