//! Idempotency, the event log and rebuilding verdicts from it, through the real pipeline
//! and a real component.

use std::sync::Arc;

use probity::model::subject::{Subject, SubjectType};
use probity::pipeline::{Ingested, Pipeline, PluginSet};
use probity::store::{SledStore, Store, VerdictQuery};
use probity::verdict::Verdict;
use probity_e2e::harness::{config, entry, event, listing, load, paid, pipeline};
use serde_json::json;

fn good() -> probity::config::Config {
    config(vec![("good", entry("good", json!({"word": "forbidden"})))])
}

fn order_placed(
    event_id: &str,
    at: &str,
    order: &str,
    seller: &str,
) -> probity::model::event::Event {
    event(json!({
        "event_id": event_id, "type": "order.placed", "occurred_at": at,
        "order_id": order, "listing_id": "L-1", "seller_id": seller, "buyer_id": "B-1",
        "quantity": 1, "total": {"amount": "9.90", "currency": "CNY"}
    }))
}

#[test]
fn a_resent_event_is_a_duplicate_and_different_content_under_its_id_a_conflict() {
    let (_dir, mut pipeline) = pipeline(&good());
    let first = listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "forbidden");
    let Ingested::Accepted(report) = pipeline.ingest(&first).expect("ingest") else {
        panic!("first send must be accepted");
    };
    let again = pipeline.ingest(&first).expect("ingest");
    let Ingested::Duplicate { verdicts } = again else {
        panic!("a re-send must be a duplicate, got {again:?}");
    };
    assert_eq!(
        verdicts, report.touched,
        "same answer, no second evaluation"
    );
    let calls = pipeline.plugins().plugins()[0]
        .counters()
        .calls
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(calls, 1, "the plugin ran once");

    let altered = listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "harmless");
    assert!(matches!(
        pipeline.ingest(&altered).expect("ingest"),
        Ingested::Conflict { seq: 1 }
    ));
}

#[test]
fn later_order_events_inherit_the_seller_so_the_seller_filter_finds_them() {
    let (_dir, mut pipeline) = pipeline(&good());
    pipeline
        .process(&order_placed("e1", "2026-11-01T10:00:00Z", "O-1", "S-7"))
        .expect("placed");
    pipeline
        .process(&paid("e2", "2026-11-01T10:05:00Z", "O-1"))
        .expect("paid");
    // The timer fires an hour later, when another event moves the clock.
    pipeline
        .process(&listing("e3", "2026-11-01T12:00:00Z", "L-9", "S-9", "x"))
        .expect("later");
    let page = pipeline
        .store()
        .query_verdicts(&VerdictQuery {
            seller_id: Some("S-7".into()),
            action: Some(probity::verdict::Action::Review),
            limit: 10,
            ..VerdictQuery::default()
        })
        .expect("query");
    let ids: Vec<&str> = page
        .verdicts
        .iter()
        .map(|v| v.subject.id.as_str())
        .collect();
    assert_eq!(ids, ["O-1"]);
}

fn all_verdicts(store: &dyn Store) -> Vec<Verdict> {
    let mut verdicts = store
        .query_verdicts(&VerdictQuery {
            limit: 1000,
            ..VerdictQuery::default()
        })
        .expect("query")
        .verdicts;
    verdicts.sort_by(|a, b| a.subject.cmp(&b.subject));
    verdicts
}

#[test]
fn replaying_the_event_log_rebuilds_the_same_verdicts_and_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = good();
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary(&dir).expect("store"));
    let mut live =
        Pipeline::new(store.clone(), Arc::new(load(&config).expect("load"))).expect("pipeline");
    let events = vec![
        listing("e1", "2026-11-01T10:00:00Z", "L-1", "S-1", "forbidden"),
        order_placed("e2", "2026-11-01T10:01:00Z", "O-1", "S-1"),
        paid("e3", "2026-11-01T10:02:00Z", "O-1"),
        listing("e4", "2026-11-01T10:03:00Z", "L-2", "S-1", "ok"),
        listing("e5", "2026-11-01T10:04:00Z", "L-3", "S-1", "ok"),
        listing("e6", "2026-11-01T12:00:00Z", "L-4", "S-2", "forbidden"),
    ];
    for event in &events {
        live.ingest(event).expect("ingest");
    }
    let before = all_verdicts(store.as_ref());
    let history_before = store
        .history(&Subject::new(SubjectType::Order, "O-1"))
        .expect("history");
    assert!(before.iter().any(|v| !v.findings.is_empty()));
    drop(live);

    store.reset_derived().expect("reset");
    assert!(all_verdicts(store.as_ref()).is_empty());
    let plugins: PluginSet = load(&config).expect("load");
    let mut replay = Pipeline::new(store.clone(), Arc::new(plugins)).expect("pipeline");
    let logged: Vec<_> = store
        .logged_events()
        .collect::<Result<_, _>>()
        .expect("log");
    assert_eq!(logged.len(), events.len());
    for (seq, entry) in &logged {
        replay.replay_entry(*seq, entry).expect("replay");
    }
    assert_eq!(all_verdicts(store.as_ref()), before);
    assert_eq!(
        store
            .history(&Subject::new(SubjectType::Order, "O-1"))
            .expect("history"),
        history_before
    );
    assert!(
        matches!(
            replay.ingest(&events[0]).expect("ingest"),
            Ingested::Duplicate { .. }
        ),
        "ids are remembered again after a rebuild"
    );
    assert_eq!(
        store.logged_events().count(),
        events.len(),
        "replay does not re-log"
    );
}
