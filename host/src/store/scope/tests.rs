use std::sync::Arc;

use super::*;
use crate::store::{SledStore, Store, WriteBatch};

fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::temporary(&dir).expect("open");
    (dir, Arc::new(store))
}

const QUOTAS: PluginQuotas = PluginQuotas {
    state_bytes: 100,
    timers: 2,
};

fn scope(store: &Arc<dyn Store>, now: i64) -> PluginScope {
    PluginScope::open(store.clone(), "p".into(), now, QUOTAS).expect("scope")
}

fn commit(store: &Arc<dyn Store>, scope: PluginScope) {
    let mut batch = WriteBatch::default();
    batch.merge("p", scope.into_writes());
    store.commit(batch).expect("commit");
}

#[test]
fn a_call_reads_its_own_writes_and_commits_them() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    s.set("a", b"1".to_vec(), None).unwrap().unwrap();
    assert_eq!(s.get("a").unwrap(), Some(b"1".to_vec()));
    commit(&store, s);
    assert_eq!(scope(&store, 0).get("a").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn a_dropped_scope_leaves_no_trace() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    s.set("a", b"1".to_vec(), None).unwrap().unwrap();
    drop(s);
    assert_eq!(scope(&store, 0).get("a").unwrap(), None);
}

#[test]
fn entries_expire_in_event_time() {
    let (_dir, store) = store();
    let mut s = scope(&store, 1_000);
    s.set("a", b"1".to_vec(), Some(500)).unwrap().unwrap();
    commit(&store, s);
    assert!(scope(&store, 1_499).get("a").unwrap().is_some());
    assert!(scope(&store, 1_500).get("a").unwrap().is_none());
    assert_eq!(
        store.expired_state(1_500, 10, &|_| true).unwrap(),
        vec![("p".into(), "a".into())]
    );
}

#[test]
fn the_state_quota_counts_keys_and_values() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    s.set("k1", vec![0; 48], None).unwrap().unwrap();
    s.set("k2", vec![0; 48], None).unwrap().unwrap();
    assert_eq!(
        s.set("k3", vec![0; 1], None).unwrap(),
        Err(StateError::QuotaExceeded)
    );
    // Replacing a value with a smaller one is always allowed.
    s.set("k2", vec![0; 10], None).unwrap().unwrap();
    commit(&store, s);
    assert_eq!(store.usage("p").unwrap().state_bytes, 50 + 12);
    assert_eq!(store.usage("p").unwrap().state_entries, 2);
}

#[test]
fn increment_counts_and_rejects_non_counters() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    assert_eq!(s.increment("c", 2, None).unwrap(), Ok(2));
    assert_eq!(s.increment("c", -5, None).unwrap(), Ok(-3));
    s.set("text", b"abc".to_vec(), None).unwrap().unwrap();
    assert_eq!(
        s.increment("text", 1, None).unwrap(),
        Err(StateError::NotACounter)
    );
}

#[test]
fn scan_merges_stored_and_new_entries_in_key_order() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    for key in ["x:1", "x:3", "y:1"] {
        s.set(key, key.as_bytes().to_vec(), None).unwrap().unwrap();
    }
    commit(&store, s);
    let mut s = scope(&store, 0);
    s.set("x:2", b"new".to_vec(), None).unwrap().unwrap();
    s.delete("x:1").unwrap();
    let keys: Vec<String> = s
        .scan_prefix("x:", 10)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["x:2", "x:3"]);
    assert_eq!(s.scan_prefix("x:", 1).unwrap().len(), 1);
}

#[test]
fn bad_keys_and_large_values_are_refused() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    assert_eq!(s.set("", vec![], None).unwrap(), Err(StateError::BadKey));
    let long = "k".repeat(MAX_KEY_BYTES + 1);
    assert_eq!(s.set(&long, vec![], None).unwrap(), Err(StateError::BadKey));
    assert_eq!(
        s.set("k", vec![0; MAX_VALUE_BYTES + 1], None).unwrap(),
        Err(StateError::ValueTooLarge)
    );
}

#[test]
fn timers_respect_the_quota_and_rescheduling_is_free() {
    let (_dir, store) = store();
    let mut s = scope(&store, 0);
    s.schedule("a", 10, vec![]).unwrap().unwrap();
    s.schedule("b", 20, vec![]).unwrap().unwrap();
    s.schedule("a", 15, vec![]).unwrap().unwrap();
    assert_eq!(
        s.schedule("c", 5, vec![]).unwrap(),
        Err(TimerError::QuotaExceeded)
    );
    assert!(s.cancel("b").unwrap());
    assert!(!s.cancel("b").unwrap());
    commit(&store, s);
    assert_eq!(store.usage("p").unwrap().timers, 1);
    assert_eq!(store.timer_due("p", "a").unwrap(), Some(15));
    let next = store.next_due_timer(100, &|_| true).unwrap().expect("due");
    assert_eq!((next.key.as_str(), next.due), ("a", 15));
    assert!(store.next_due_timer(14, &|_| true).unwrap().is_none());
}
