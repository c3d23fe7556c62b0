//! Hostile plugins are contained with the right typed error, and a good plugin next to
//! them keeps giving the same verdicts.

use probity::config::{Limits, OnError};
use probity::model::subject::SubjectType;
use probity::pipeline::PluginSetError;
use probity::runtime::{LoadError, PluginFailure};
use probity::verdict::{Action, Category, Verdict};
use probity_e2e::harness::{config, entry, entry_with, listing, load, one_listing, pipeline};
use serde_json::json;

/// Run one listing through `good` plus `hostile`; return the listing's verdict.
fn listing_verdict_next_to(hostile: &str, limits: Limits, on_error: OnError) -> Verdict {
    let config = config(vec![
        ("good", entry("good", json!({}))),
        (hostile, entry_with(hostile, limits, on_error)),
    ]);
    let report = one_listing(&config, "a forbidden thing");
    report
        .touched
        .into_iter()
        .find(|v| v.subject.kind == SubjectType::Listing)
        .expect("listing verdict")
}

/// The hostile plugin's `plugin_error` finding kind, and the good plugin's rules.
fn split(verdict: &Verdict) -> (Vec<String>, Vec<String>) {
    let errors = verdict
        .findings
        .iter()
        .filter(|f| f.category == Category::PluginError)
        .map(|f| f.rule.clone())
        .collect();
    let good = verdict
        .findings
        .iter()
        .filter(|f| f.plugin == "good")
        .map(|f| f.rule.clone())
        .collect();
    (errors, good)
}

fn assert_contained(hostile: &str, limits: Limits, expected_rule: &str) {
    let verdict = listing_verdict_next_to(hostile, limits, OnError::Allow);
    let (errors, good) = split(&verdict);
    assert_eq!(errors, [expected_rule], "{hostile}: {verdict:#?}");
    assert_eq!(
        good,
        ["good.word"],
        "{hostile}: the good plugin's verdict changed"
    );
    // Fail open: only the good plugin's high finding acts.
    assert_eq!(verdict.action, Action::Block);
}

#[test]
fn an_infinite_loop_hits_the_deadline() {
    let limits = Limits {
        deadline_ms: 50,
        fuel: 0,
        ..Limits::default()
    };
    assert_contained("infinite-loop", limits, "plugin_error.deadline");
}

#[test]
fn a_fuel_budget_stops_a_busy_plugin() {
    let limits = Limits {
        deadline_ms: 10_000,
        fuel: 1_000_000,
        ..Limits::default()
    };
    let config = config(vec![(
        "busy",
        probity::config::PluginConfig {
            limits,
            ..entry("busy", json!({"iterations": 1_000_000_000u64}))
        },
    )]);
    let (_dir, mut pipeline) = pipeline(&config);
    let report = pipeline
        .process(&listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "t"))
        .expect("processed");
    let rules: Vec<&str> = report.touched[0]
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(rules, ["plugin_error.fuel"]);
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let limits = Limits {
        memory_mib: 16,
        ..Limits::default()
    };
    assert_contained("memory-bomb", limits, "plugin_error.memory");
}

#[test]
fn deep_recursion_overflows_the_stack() {
    assert_contained(
        "deep-recursion",
        Limits::default(),
        "plugin_error.stack_overflow",
    );
}

#[test]
fn a_panic_is_a_trap_that_carries_the_panic_message() {
    let verdict = listing_verdict_next_to("trap", Limits::default(), OnError::Allow);
    let error = verdict
        .findings
        .iter()
        .find(|f| f.rule == "plugin_error.trap")
        .expect("trap finding");
    assert!(
        error.message.contains("boom: trap plugin"),
        "{}",
        error.message
    );
}

#[test]
fn oversized_output_is_refused() {
    // Room to build its 8 MiB, so the output cap (not the deadline) is what stops it.
    let limits = Limits {
        deadline_ms: 10_000,
        ..Limits::default()
    };
    assert_contained("oversized-output", limits, "plugin_error.invalid_output");
}

#[test]
fn garbage_output_is_refused_with_the_bad_field_named() {
    let verdict = listing_verdict_next_to("garbage-output", Limits::default(), OnError::Allow);
    let error = verdict
        .findings
        .iter()
        .find(|f| f.rule == "plugin_error.invalid_output")
        .expect("invalid output finding");
    assert!(error.message.contains("finding 0"), "{}", error.message);
}

#[test]
fn a_state_flood_is_stopped_by_the_quota() {
    let limits = Limits {
        state_quota_kib: 256,
        ..Limits::default()
    };
    let verdict = listing_verdict_next_to("state-flood", limits, OnError::Allow);
    let error = verdict
        .findings
        .iter()
        .find(|f| f.category == Category::PluginError)
        .expect("error finding");
    assert_eq!(error.rule, "plugin_error.reported");
    assert!(
        error.message.contains("state_full") && error.message.contains("quota"),
        "{}",
        error.message
    );
}

#[test]
fn a_timer_flood_is_stopped_by_the_quota() {
    let limits = Limits {
        timers_quota: 100,
        ..Limits::default()
    };
    let verdict = listing_verdict_next_to("timer-flood", limits, OnError::Allow);
    let error = verdict
        .findings
        .iter()
        .find(|f| f.category == Category::PluginError)
        .expect("error finding");
    assert!(error.message.contains("timers_full"), "{}", error.message);
}

#[test]
fn fail_closed_sends_the_subject_to_review() {
    let config = config(vec![(
        "trap",
        entry_with("trap", Limits::default(), OnError::Review),
    )]);
    let report = one_listing(&config, "harmless");
    let verdict = report
        .touched
        .iter()
        .find(|v| v.subject.kind == SubjectType::Listing)
        .expect("verdict");
    assert_eq!(verdict.action, Action::Review);
}

#[test]
fn fail_open_leaves_the_subject_allowed() {
    let config = config(vec![(
        "trap",
        entry_with("trap", Limits::default(), OnError::Allow),
    )]);
    let report = one_listing(&config, "harmless");
    assert!(report.touched.iter().all(|v| v.action == Action::Allow));
}

#[test]
fn the_sandbox_shows_no_files_environment_or_clock() {
    let config = config(vec![("sneaky", entry("sneaky", json!({})))]);
    let (_dir, mut pipeline) = pipeline(&config);
    let report = pipeline
        .process(&listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "t"))
        .expect("processed");
    let finding = report
        .touched
        .iter()
        .flat_map(|v| v.findings.iter())
        .find(|f| f.rule == "sneaky.report")
        .expect("sneaky reports what it saw");
    let seen: Vec<String> = finding
        .evidence
        .iter()
        .filter_map(|e| e.detail.clone())
        .collect();
    let seen = seen.join(" ");
    for expected in [
        "fs_read_dir=err",
        "fs_read=err",
        "env_count=0",
        "system_time_secs=0",
    ] {
        assert!(seen.contains(expected), "expected {expected} in: {seen}");
    }
}

fn load_error(plugin: &str) -> LoadError {
    let config = config(vec![(plugin, entry(plugin, json!({})))]);
    match load(&config) {
        Err(PluginSetError { error, .. }) => error,
        Ok(_) => panic!("{plugin} must not load"),
    }
}

#[test]
fn a_plugin_that_wants_the_network_is_refused_at_load() {
    let err = load_error("network");
    assert!(
        matches!(&err, LoadError::ForbiddenImport { import, .. } if import.starts_with("wasi:sockets/")),
        "{err}"
    );
}

#[test]
fn a_plugin_importing_an_unknown_function_is_refused_naming_it() {
    let err = load_error("unknown-import");
    assert!(
        matches!(&err, LoadError::ForbiddenImport { import, .. } if import.starts_with("evil:host/steal")),
        "{err}"
    );
}

#[test]
fn a_pinned_digest_mismatch_refuses_the_plugin() {
    let mut good = entry("good", json!({}));
    good.sha256 = Some("0".repeat(64));
    let err = load(&config(vec![("good", good)])).unwrap_err();
    assert!(
        matches!(err.error, LoadError::DigestMismatch { .. }),
        "{err}"
    );
}

#[test]
fn bad_settings_are_refused_naming_the_field() {
    let err = load(&config(vec![("good", entry("good", json!({"word": 5})))])).unwrap_err();
    match &err.error {
        LoadError::Settings { field, .. } => assert_eq!(field, "word"),
        other => panic!("expected a settings error, got {other}"),
    }
}

#[test]
fn an_instance_that_failed_is_replaced_and_the_plugin_keeps_working() {
    let limits = Limits {
        deadline_ms: 30,
        fuel: 0,
        ..Limits::default()
    };
    let config = config(vec![(
        "loop",
        entry_with("infinite-loop", limits, OnError::Allow),
    )]);
    let (_dir, mut pipeline) = pipeline(&config);
    for i in 0..3 {
        let report = pipeline
            .process(&listing(
                &format!("e{i}"),
                "2026-11-01T10:00:00Z",
                &format!("L-{i}"),
                "S-1",
                "t",
            ))
            .expect("processed");
        assert!(
            report
                .touched
                .iter()
                .any(|v| v.findings.iter().any(|f| f.rule == "plugin_error.deadline"))
        );
    }
    let counters = pipeline.plugins().plugins()[0].counters();
    assert_eq!(
        counters.errors.load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    assert!(matches!(
        PluginFailure::StackOverflow.kind(),
        "stack_overflow"
    ));
}
