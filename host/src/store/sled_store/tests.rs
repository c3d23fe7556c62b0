use super::*;
use crate::model::subject::SubjectType;
use crate::store::WriteBatch;
use crate::verdict::{Category, Mode, Severity};

fn finding(rule: &str) -> Finding {
    Finding {
        plugin: "p".into(),
        plugin_version: "1".into(),
        rule: rule.into(),
        category: Category::Other,
        severity: Severity::Low,
        mode: Mode::Enforce,
        message: "m".into(),
        evidence: vec![],
        event_id: "e".into(),
        at: 5,
    }
}

#[test]
fn verdicts_history_and_clock_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let subject = Subject {
        kind: SubjectType::Seller,
        id: "S-1".into(),
    };
    {
        let store = SledStore::open(dir.path(), 1 << 20).expect("open");
        let mut verdict = Verdict::clean(subject.clone(), 5);
        verdict.apply(finding("a"), &Default::default());
        let batch = WriteBatch {
            verdicts: vec![verdict],
            history: vec![
                (subject.clone(), finding("a")),
                (subject.clone(), finding("b")),
            ],
            clock: Some(5),
            ..WriteBatch::default()
        };
        store.commit(batch).expect("commit");
        store.flush().expect("flush");
    }
    let store = SledStore::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(store.clock().unwrap(), Some(5));
    let verdict = store.verdict(&subject).unwrap().expect("verdict");
    assert_eq!(verdict.findings.len(), 1);
    let rules: Vec<String> = store
        .history(&subject)
        .unwrap()
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(rules, ["a", "b"]);
}

#[test]
fn a_second_process_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = SledStore::open(dir.path(), 1 << 20).expect("open");
    // sled locks per process with flock; a second open in the same process is allowed by
    // the OS, so we check the message mapping through a child process in the e2e tests.
    // Here: a newer schema is refused and left untouched.
    drop(_first);
    {
        let db = sled::open(dir.path()).expect("raw open");
        db.open_tree("meta")
            .expect("meta")
            .insert(SCHEMA, &(SCHEMA_VERSION + 1).to_be_bytes())
            .expect("insert");
        db.flush().expect("flush");
    }
    let err = SledStore::open(dir.path(), 1 << 20).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1));
    assert!(err.to_string().contains("nothing was changed"));
}
