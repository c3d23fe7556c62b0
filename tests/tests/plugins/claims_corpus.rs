//! The `claims` plugin against its labelled corpus (`tests/data/claims/listings.jsonl`):
//! precision and recall per category and per rule, natively and as the bundled
//! component in the host, which must agree exactly.

use std::collections::BTreeMap;

use probity_e2e::claims::{self, Case, Reported, Score};

const FLOOR: f64 = 0.95;

fn report(title: &str, scores: &BTreeMap<String, Score>) -> String {
    let mut out = format!(
        "\n{title}\n{:<24} {:>4} {:>4} {:>4} {:>9} {:>7}\n",
        "label", "TP", "FP", "FN", "precision", "recall"
    );
    for (label, s) in scores {
        out.push_str(&format!(
            "{label:<24} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}\n",
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            s.precision(),
            s.recall()
        ));
    }
    out
}

fn mistakes(cases: &[Case], reported: &[Reported]) -> String {
    let mut out = String::new();
    for (case, got) in cases.iter().zip(reported) {
        if case.expect != got.rules {
            out.push_str(&format!(
                "{}: expected {:?}, got {:?} ({}) — {}\n",
                case.id, case.expect, got.rules, case.note, case.title
            ));
        }
    }
    out
}

#[test]
fn the_corpus_is_large_and_covers_every_rule() {
    let cases = claims::corpus();
    assert!(cases.len() >= 150, "only {} listings", cases.len());
    let clean = cases.iter().filter(|c| c.expect.is_empty()).count();
    assert!(clean >= 40, "only {clean} clean listings");
    let rules = [
        "absolute_term",
        "unproven_claim",
        "medical_claim",
        "clinical_claim",
        "cosmeceutical",
        "drug_guarantee",
        "unsupported_evidence",
        "state_endorsement",
        "well_known_mark",
        "guaranteed_outcome",
        "unfair_term",
    ];
    for rule in rules {
        let n = cases.iter().filter(|c| c.expect.contains(rule)).count();
        assert!(n >= 5, "rule {rule} has only {n} labelled listings");
    }
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cases.len(), "duplicate ids");
}

/// Score `cases` natively, print the tables and the mistakes, and fail if a category is
/// below the floor.
fn assert_scores(title: &str, cases: &[Case]) {
    let reported = claims::run_native(cases, "{}");
    let by_category = claims::score(cases, &reported, claims::category_of);
    let by_rule = claims::score(cases, &reported, str::to_string);
    let text = report(&format!("{title}, per category"), &by_category)
        + &report(&format!("{title}, per rule"), &by_rule);
    let mistakes = mistakes(cases, &reported);
    println!("{text}\nmistakes:\n{mistakes}");
    for (category, s) in &by_category {
        assert!(
            s.precision() >= FLOOR && s.recall() >= FLOOR,
            "{category} below {FLOOR}:{text}\nmistakes:\n{mistakes}"
        );
    }
}

#[test]
fn precision_and_recall_per_category_are_at_least_095() {
    assert_scores("main corpus", &claims::corpus());
}

#[test]
fn every_evidence_span_is_the_excerpt_in_its_field() {
    let mut cases = claims::corpus();
    cases.extend(claims::holdout());
    let reported = claims::run_native(&cases, "{}");
    for (case, got) in cases.iter().zip(&reported) {
        for (field, start, end, excerpt) in &got.evidence {
            let text = match field.as_str() {
                "title" => case.title.clone(),
                "description" => case.description.clone().unwrap_or_default(),
                other => {
                    let key = other.strip_prefix("attributes.").expect("a text field");
                    case.attributes[key]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }
            };
            let slice = text.get(*start as usize..*end as usize);
            assert_eq!(
                slice,
                Some(excerpt.as_str()),
                "{}: {field} {start}..{end}",
                case.id
            );
        }
    }
}

#[test]
fn the_bundled_component_in_the_host_agrees_with_the_native_run() {
    let mut cases = claims::corpus();
    cases.extend(claims::holdout());
    let native = claims::run_native(&cases, "{}");
    let wasm = claims::run_wasm(&cases, serde_json::json!({}));
    for ((case, native), wasm) in cases.iter().zip(&native).zip(&wasm) {
        assert_eq!(native.rules, wasm.rules, "{}", case.id);
        let mut a = native.evidence.clone();
        let mut b = wasm.evidence.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{}", case.id);
    }
}

/// The held-out corpus was written separately, by someone who had not seen the matcher,
/// after the rules were tuned on the main corpus. Its first run, before any change:
/// recall 1.0, precision 0.905 (misleading) and 0.821 (prohibited) — every miss a Chinese
/// word holding a term across its own boundary (面包过敏, 确保过塑, 独特供应) or a factual
/// use (唯一序列号). After the compound guards it is a regression corpus like the other.
#[test]
fn the_held_out_corpus_scores_too() {
    assert_scores("held out", &claims::holdout());
}

/// A listing `id` titled 面霜 with nothing else, and no expectations.
fn plain_case(id: &str) -> Case {
    Case {
        id: id.into(),
        title: "面霜".into(),
        description: None,
        category: None,
        attributes: serde_json::Map::new(),
        expect: Default::default(),
        note: String::new(),
    }
}

/// A 64 KB description (the host's limit) dense with negated claims (thousands of terms
/// and cues) is checked by the bundled component within its default fuel and deadline: each check
/// looks only at the cues within reach, never at every cue of the text.
#[test]
fn a_huge_description_dense_with_cues_stays_within_the_default_limits() {
    let mut case = plain_case("C-huge");
    let sentence = "我们不是最好的，也不是全网最低价。";
    case.description = Some(sentence.repeat(65_536 / sentence.len()));
    let reported = claims::run_wasm(&[case], serde_json::json!({}));
    assert!(reported[0].rules.is_empty(), "{:?}", reported[0].rules);
}

/// A term spelt out with 60 000 spaces between its characters (within the host's 64 KB
/// limit) is found, with the span running over the spaces, by the bundled component within
/// its default limits: normalisation decides each run of spaces once, and the excerpt is
/// clipped to what the host accepts (the span stays exact).
#[test]
fn a_term_spread_over_a_huge_run_of_spaces_is_found_within_the_default_limits() {
    let mut case = plain_case("C-spaces");
    let spaced = format!("国{}家级", " ".repeat(60_000));
    case.description = Some(format!("{spaced}品质"));
    let reported = claims::run_wasm(&[case], serde_json::json!({}));
    let rules: Vec<&str> = reported[0].rules.iter().map(String::as_str).collect();
    assert_eq!(rules, ["absolute_term"]);
    let (field, start, end, excerpt) = &reported[0].evidence[0];
    assert_eq!(
        (field.as_str(), *start, *end),
        ("description", 0, spaced.len() as u32)
    );
    assert!(excerpt.len() <= 1024 && excerpt.starts_with("国  ") && excerpt.ends_with('…'));
}

/// An attribute with a very long key still gives a finding (its field path clipped to the
/// host's 128 bytes), not a plugin error.
#[test]
fn a_claim_under_a_very_long_attribute_key_is_reported() {
    let mut case = plain_case("C-long-key");
    case.attributes
        .insert("卖点".repeat(60), serde_json::json!("国家级品质"));
    let reported = claims::run_wasm(&[case], serde_json::json!({}));
    let rules: Vec<&str> = reported[0].rules.iter().map(String::as_str).collect();
    assert_eq!(rules, ["absolute_term"]);
    let field = &reported[0].evidence[0].0;
    assert!(
        field.len() <= 128 && field.starts_with("attributes.卖点"),
        "{field}"
    );
}

/// The outsider's held-out set (issue 20; `tests/data/claims/heldout-outsider.jsonl`, its
/// header says how it was made): scored, printed, and held to the figures it reached
/// when the rules were last changed without looking at it — a regression fails. The
/// issue's goal (0.97) is reported against these in the README, not asserted.
#[test]
fn the_outsiders_held_out_set_is_scored_and_does_not_regress() {
    let cases = claims::outsider();
    assert!(cases.len() >= 300, "only {} listings", cases.len());
    let reported = claims::run_native(&cases, "{}");
    let by_category = claims::score(&cases, &reported, claims::category_of);
    let by_rule = claims::score(&cases, &reported, str::to_string);
    let text = report("outsider's held-out set, per category", &by_category)
        + &report("outsider's held-out set, per rule", &by_rule);
    println!("{text}");
    for (category, s) in &by_category {
        let (precision, recall) = OUTSIDER_FLOOR
            .iter()
            .find(|(name, _, _)| name == category)
            .map_or((FLOOR, FLOOR), |(_, p, r)| (*p, *r));
        assert!(
            s.precision() >= precision && s.recall() >= recall,
            "{category} fell below P {precision} / R {recall}:{text}"
        );
    }
}

/// Per category: the precision and recall floors of
/// [`the_outsiders_held_out_set_is_scored_and_does_not_regress`], the figures measured at
/// the commit that added the set (before the issue-20 fixes: misleading 0.750 / 0.687,
/// prohibited 0.930 / 0.506; after: 0.750 / 0.893 and 0.942 / 0.816), rounded down.
const OUTSIDER_FLOOR: &[(&str, f64, f64)] = &[
    ("misleading_claim", 0.75, 0.89),
    ("prohibited_claim", 0.94, 0.81),
];
