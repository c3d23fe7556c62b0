//! Secondary indexes over verdicts, so that every filter of `GET /v1/verdicts` is a range
//! scan rather than a full one.
//!
//! One tree, `verdict_index`, holds one entry per (dimension, verdict):
//!
//! | dimension | key |
//! |---|---|
//! | every verdict | `T ts subject` |
//! | subject type | `S type ts subject` |
//! | action | `A len action ts subject` |
//! | category (one per distinct category among the findings) | `C len category ts subject` |
//! | seller | `L len(u16) seller ts subject` |
//!
//! `ts` is the verdict's `updated_at` as a sortable big-endian key and `subject` is the
//! verdict tree's key, so scanning a dimension's prefix backwards yields newest first, and
//! the `ts subject` suffix of an entry is a stable pagination cursor. Entries are replaced
//! in the same transaction that replaces the verdict, so the index never points at a stale
//! `updated_at`.
//!
//! A query with several filters scans the most selective dimension it names (seller, then
//! category, then action, then type, then everything) and checks the others on the
//! verdicts it reads.

use super::codec;
use crate::model::subject::SubjectType;
use crate::model::time::Timestamp;
use crate::verdict::{Action, Category, Verdict};

/// Filters of the verdict list; all optional, combined with AND.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerdictQuery {
    /// Only subjects of this type.
    pub subject_type: Option<SubjectType>,
    /// Only verdicts with this action.
    pub action: Option<Action>,
    /// Only verdicts with a finding of this category.
    pub category: Option<Category>,
    /// Only subjects of this seller.
    pub seller_id: Option<String>,
    /// Only verdicts updated at or after this event time.
    pub since: Option<Timestamp>,
    /// At most this many (the caller bounds it).
    pub limit: usize,
    /// Continue after this cursor (from [`VerdictPage::next_cursor`]).
    pub cursor: Option<Vec<u8>>,
}

/// One page of the verdict list, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerdictPage {
    /// The verdicts.
    pub verdicts: Vec<Verdict>,
    /// Where the next page starts, when this one is full.
    pub next_cursor: Option<Vec<u8>>,
}

const ALL: u8 = b'T';
const TYPE: u8 = b'S';
const ACTION: u8 = b'A';
const CATEGORY: u8 = b'C';
const SELLER: u8 = b'L';

/// Every index key of `verdict`.
pub fn keys(verdict: &Verdict) -> Vec<Vec<u8>> {
    let suffix = suffix(verdict);
    let mut keys = vec![
        with_suffix(vec![ALL], &suffix),
        with_suffix(type_prefix(verdict.subject.kind), &suffix),
        with_suffix(action_prefix(verdict.action), &suffix),
    ];
    let mut categories: Vec<Category> = verdict.findings.iter().map(|f| f.category).collect();
    categories.sort();
    categories.dedup();
    for category in categories {
        keys.push(with_suffix(category_prefix(category), &suffix));
    }
    if let Some(seller) = &verdict.seller_id {
        keys.push(with_suffix(seller_prefix(seller), &suffix));
    }
    keys
}

/// The prefix of the dimension a query scans.
pub fn scan_prefix(query: &VerdictQuery) -> Vec<u8> {
    if let Some(seller) = &query.seller_id {
        seller_prefix(seller)
    } else if let Some(category) = query.category {
        category_prefix(category)
    } else if let Some(action) = query.action {
        action_prefix(action)
    } else if let Some(kind) = query.subject_type {
        type_prefix(kind)
    } else {
        vec![ALL]
    }
}

/// The key range `[lower, upper)` a query scans (backwards).
pub fn scan_range(query: &VerdictQuery) -> (Vec<u8>, Vec<u8>) {
    let prefix = scan_prefix(query);
    let mut lower = prefix.clone();
    if let Some(since) = query.since {
        lower.extend_from_slice(&codec::ts_key(since));
    }
    let upper = match &query.cursor {
        Some(cursor) => with_suffix(prefix, cursor),
        None => successor(&prefix),
    };
    (lower, upper)
}

/// Whether `verdict` passes every filter of `query` (the scanned one included).
pub fn matches(query: &VerdictQuery, verdict: &Verdict) -> bool {
    query.subject_type.is_none_or(|t| verdict.subject.kind == t)
        && query.action.is_none_or(|a| verdict.action == a)
        && query
            .category
            .is_none_or(|c| verdict.findings.iter().any(|f| f.category == c))
        && query
            .seller_id
            .as_ref()
            .is_none_or(|s| verdict.seller_id.as_ref() == Some(s))
        && query.since.is_none_or(|since| verdict.updated_at >= since)
}

/// `ts subject`: the common tail of a verdict's index keys, and the cursor after it.
fn suffix(verdict: &Verdict) -> Vec<u8> {
    let mut out = codec::ts_key(verdict.updated_at).to_vec();
    out.extend_from_slice(&codec::subject_key(&verdict.subject));
    out
}

/// The verdict-tree key inside an index key scanned under `prefix_len`, and its cursor.
pub fn split_entry(key: &[u8], prefix_len: usize) -> Option<(&[u8], &[u8])> {
    let cursor = key.get(prefix_len..)?;
    let subject = cursor.get(8..)?;
    Some((subject, cursor))
}

fn with_suffix(mut prefix: Vec<u8>, suffix: &[u8]) -> Vec<u8> {
    prefix.extend_from_slice(suffix);
    prefix
}

fn type_prefix(kind: SubjectType) -> Vec<u8> {
    let subject_key = codec::subject_key(&crate::model::subject::Subject {
        kind,
        id: String::new(),
    });
    vec![TYPE, subject_key[0]]
}

fn action_prefix(action: Action) -> Vec<u8> {
    named_prefix(ACTION, action.as_str())
}

fn category_prefix(category: Category) -> Vec<u8> {
    named_prefix(CATEGORY, category.as_str())
}

fn named_prefix(dimension: u8, name: &str) -> Vec<u8> {
    let mut out = vec![dimension, name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out
}

fn seller_prefix(seller: &str) -> Vec<u8> {
    let mut out = vec![SELLER];
    let len = u16::try_from(seller.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(seller.as_bytes());
    out
}

/// The smallest key greater than every key starting with `prefix`.
fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < u8::MAX {
            out.push(last + 1);
            return out;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::subject::Subject;

    fn verdict(kind: SubjectType, id: &str, at: Timestamp, seller: Option<&str>) -> Verdict {
        let mut v = Verdict::clean(
            Subject {
                kind,
                id: id.into(),
            },
            at,
        );
        v.seller_id = seller.map(str::to_string);
        v
    }

    #[test]
    fn a_verdict_is_indexed_under_every_dimension_it_has() {
        let v = verdict(SubjectType::Order, "O-1", 5, Some("S-1"));
        let keys = keys(&v);
        assert_eq!(keys.len(), 4, "all, type, action, seller");
        for query in [
            VerdictQuery::default(),
            VerdictQuery {
                subject_type: Some(SubjectType::Order),
                ..VerdictQuery::default()
            },
            VerdictQuery {
                action: Some(Action::Allow),
                ..VerdictQuery::default()
            },
            VerdictQuery {
                seller_id: Some("S-1".into()),
                ..VerdictQuery::default()
            },
        ] {
            let (lower, upper) = scan_range(&query);
            assert!(
                keys.iter()
                    .any(|k| k.as_slice() >= lower.as_slice() && k.as_slice() < upper.as_slice()),
                "{query:?}"
            );
        }
    }

    #[test]
    fn since_and_cursor_bound_the_scan() {
        let old = keys(&verdict(SubjectType::Order, "O-1", 5, None))[0].clone();
        let new = keys(&verdict(SubjectType::Order, "O-2", 9, None))[0].clone();
        let query = VerdictQuery {
            since: Some(6),
            ..VerdictQuery::default()
        };
        let (lower, upper) = scan_range(&query);
        assert!(old < lower && new >= lower && new < upper);
        let (_, cursor) = split_entry(&new, 1).expect("entry");
        let after = VerdictQuery {
            cursor: Some(cursor.to_vec()),
            ..VerdictQuery::default()
        };
        let (lower, upper) = scan_range(&after);
        assert!(old >= lower && old < upper && new >= upper);
    }

    #[test]
    fn sellers_with_a_common_prefix_do_not_mix() {
        let a = seller_prefix("S-1");
        let b = keys(&verdict(SubjectType::Listing, "L", 1, Some("S-10")));
        assert!(b.iter().all(|k| !k.starts_with(&a)));
    }
}
