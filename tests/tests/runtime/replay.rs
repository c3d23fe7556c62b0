//! Replay gives the verdicts of the live run: with the three bundled plugins on a
//! generated marketplace, and where a wall-clock deadline decided, because the log records
//! the calls that hit it and a replay fails them again instead of running them.

use std::sync::Arc;

use probity::config::{BreakerConfig, Limits, PluginConfig};
use probity::model::subject::{Subject, SubjectType};
use probity::pipeline::Pipeline;
use probity::store::{LogEntry, Store, VerdictQuery};
use probity::verdict::Verdict;
use probity_e2e::brush::market::{Market, Params};
use probity_e2e::harness::{config, entry, event, listing, load, pipeline};
use serde_json::json;

/// Every verdict in the store, by subject.
fn all_verdicts(store: &dyn Store) -> Vec<Verdict> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query_verdicts(&VerdictQuery {
                limit: 1000,
                cursor,
                ..VerdictQuery::default()
            })
            .expect("query");
        all.extend(page.verdicts);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    all.sort_by(|a, b| a.subject.cmp(&b.subject));
    all
}

/// Empty the derived views and replay the whole log with `config`'s plugins.
fn replay(store: &Arc<dyn Store>, config: &probity::config::Config) {
    store.reset_derived().expect("reset");
    let mut replay =
        Pipeline::new(store.clone(), Arc::new(load(config).expect("plugins"))).expect("pipeline");
    replay.replay_from(1).expect("replayed");
}

fn bundled(name: &str) -> PluginConfig {
    PluginConfig {
        limits: Limits {
            deadline_ms: 10_000,
            ..Limits::default()
        },
        ..PluginConfig::bundled(name)
    }
}

#[test]
fn the_bundled_plugins_on_a_generated_market_replay_to_the_same_verdicts() {
    let config = config(vec![
        ("brush-orders", bundled("brush-orders")),
        ("claims", bundled("claims")),
        ("sla", bundled("sla")),
    ]);
    let market = Market::generate(Params::small(5));
    let (_dir, mut live) = pipeline(&config);
    for ev in &market.events {
        live.process(&event(ev.json())).expect("processed");
    }
    let store = live.store().clone();
    let before = all_verdicts(store.as_ref());
    let flagged = before.iter().filter(|v| !v.findings.is_empty()).count();
    assert!(flagged > 10, "the market flags something: {flagged}");
    drop(live);
    replay(&store, &config);
    let after = all_verdicts(store.as_ref());
    assert_eq!(after.len(), before.len());
    assert!(after == before, "a replay changed a verdict");
    eprintln!(
        "replay: {} events, {} verdicts ({flagged} with findings), identical after a replay",
        market.events.len(),
        before.len()
    );
}

/// `entry` with a 30 ms deadline, no fuel limit and no circuit breaker: a slow call hits
/// the deadline every time.
fn tight(entry: PluginConfig) -> PluginConfig {
    PluginConfig {
        limits: Limits {
            deadline_ms: 30,
            fuel: 0,
            ..Limits::default()
        },
        breaker: BreakerConfig {
            failures: 0,
            ..BreakerConfig::default()
        },
        ..entry
    }
}

#[test]
fn a_deadline_the_live_run_hit_is_replayed_not_run_again() {
    // `busy` spins far past its 30 ms deadline on every event: live, it always hits it.
    let busy = |iterations: u64| tight(entry("busy", json!({ "iterations": iterations })));
    let live_config = config(vec![("busy", busy(1_000_000_000_000))]);
    let (_dir, mut live) = pipeline(&live_config);
    live.process(&listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "tea"))
        .expect("processed");
    let store = live.store().clone();
    let subject = Subject {
        kind: SubjectType::Listing,
        id: "L-1".into(),
    };
    store.flush().expect("the log synced");
    let before = store.verdict(&subject).expect("read").expect("verdict");
    assert_eq!(
        before.findings[0].rule, "plugin_error.deadline",
        "{before:#?}"
    );
    let logged: Vec<(u64, LogEntry)> = store
        .logged_events()
        .collect::<Result<_, _>>()
        .expect("log");
    match &logged[1].1 {
        LogEntry::EventDeadline { seq, hits } => {
            assert_eq!(
                (*seq, hits.len()),
                (1, 1),
                "the hit is in the log: {logged:?}"
            );
            assert_eq!(hits[0].plugin, "busy");
        }
        other => panic!("the event, then its deadline hit: {other:?}"),
    }
    drop(live);
    // Replayed where the same plugin would finish at once: the log, not the machine,
    // decides, and the verdict is the live one.
    replay(&store, &config(vec![("busy", busy(1))]));
    let after = store.verdict(&subject).expect("read").expect("verdict");
    assert_eq!(after, before);
}

/// The same for a timer: an `on-timer` call that hit its deadline live is logged with the
/// deferral, and the replay defers the same attempt without running it.
#[test]
fn a_timer_call_that_hit_its_deadline_live_is_deferred_the_same_in_a_replay() {
    let good = |spin: u64| {
        tight(entry(
            "good",
            json!({ "word": "forbidden", "spin_timers": spin }),
        ))
    };
    let live_config = config(vec![("good", good(1_000_000_000_000))]);
    let (_dir, mut live) = pipeline(&live_config);
    live.process(&probity_e2e::harness::placed(
        "e0",
        "2026-11-01T09:59:00Z",
        "O-1",
        "S-1",
    ))
    .expect("placed");
    live.process(&probity_e2e::harness::paid(
        "e1",
        "2026-11-01T10:00:00Z",
        "O-1",
    ))
    .expect("paid");
    live.advance_clock(
        probity::model::time::parse_rfc3339("2026-11-01T11:00:30Z").expect("time"),
        "tick",
    )
    .expect("advanced");
    let store = live.store().clone();
    store.flush().expect("the log synced");
    let deferred_to = store
        .timer_due(&probity_e2e::harness::namespace("good", "S-1"), "ship:O-1")
        .expect("read");
    assert!(deferred_to.is_some(), "the slow timer call was deferred");
    assert!(
        store
            .logged_events()
            .filter_map(Result::ok)
            .any(|(_, entry)| matches!(entry, LogEntry::TimerDeadline(_))),
        "the deadline hit is in the log"
    );
    let order = Subject {
        kind: SubjectType::Order,
        id: "O-1".into(),
    };
    let before = store.verdict(&order).expect("read");
    drop(live);
    // Replayed where the call would finish at once: deferred the same, no finding.
    let entries: Vec<(u64, LogEntry)> = store
        .logged_events()
        .collect::<Result<_, _>>()
        .expect("log");
    store.reset_derived().expect("reset");
    let mut replay = Pipeline::new(
        store.clone(),
        Arc::new(load(&config(vec![("good", good(0))])).expect("plugins")),
    )
    .expect("pipeline");
    replay.replay_deadlines(&entries);
    for (seq, entry) in &entries {
        replay.replay_entry(*seq, entry).expect("replayed");
    }
    assert_eq!(
        store
            .timer_due(&probity_e2e::harness::namespace("good", "S-1"), "ship:O-1")
            .expect("read"),
        deferred_to
    );
    assert_eq!(store.verdict(&order).expect("read"), before);
}
