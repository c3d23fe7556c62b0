//! Finding claims in one text field.
//!
//! Two Aho-Corasick automata are built once per plugin instance: one over every term of
//! every rule, one over every "cue" (allowed phrase, negation, self-comparison, external
//! scope, source marker, medical verb, illness). Checking a field is then two passes
//! over its bytes whatever the number of terms, followed by cheap bookkeeping:
//!
//! 1. a term match that overlaps an allowed phrase or a product name is dropped;
//! 2. one denied by a negation shortly before it in the same clause is dropped;
//! 3. a superlative about the seller's own range (self-comparison, with no external
//!    scope like 全网 in the clause) is dropped, for rules that allow it;
//! 4. an evidence claim with a source marker nearby is dropped;
//! 5. an English medical verb followed in the same clause by an illness becomes a
//!    medical claim (`treats eczema`), while `dog treats` and `epoxy cures` stay words;
//! 6. `100%` closely followed by a material (`100%新疆长绒棉`) states content, not a claim;
//! 7. a match inside a longer match is dropped (`最低价` inside `全网最低价`); of equal
//!    spans the most severe rule wins.
//!
//! Spans are byte offsets in the original text: matching ignores ASCII case, which does
//! not move bytes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, BuildError, MatchKind};

use crate::compiled::{Compiled, Rule};
use crate::lexicon;
use crate::rules::{Class, Kind};
use crate::text;

/// How far (in words or CJK characters) a self-comparison cue reaches.
const SELF_COMPARISON_REACH: usize = 12;
/// How far (in words) an illness may follow a medical verb.
const CONDITION_REACH: usize = 6;
/// How many bytes before (after) an evidence claim a source marker may stand.
const SOURCE_BEFORE: usize = 120;
const SOURCE_AFTER: usize = 360;

/// What a cue pattern is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cue {
    Allow,
    Negation,
    SelfComparison,
    External,
    Source,
    Verb,
    Condition,
    Material,
}

#[derive(Clone, Copy, Debug)]
struct Pattern<T> {
    what: T,
    check_start: bool,
    check_end: bool,
}

#[derive(Clone, Copy, Debug)]
struct CueHit {
    cue: Cue,
    start: usize,
    end: usize,
}

/// One reportable match: `rule` indexes [`Compiled::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The rule it belongs to.
    pub rule: usize,
    /// Its first byte in the field.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// The compiled automata of one rule set.
pub struct Matcher {
    terms: AhoCorasick,
    term_patterns: Vec<Pattern<usize>>,
    cues: AhoCorasick,
    cue_patterns: Vec<Pattern<Cue>>,
    medical_rule: Option<usize>,
    negation_window: usize,
}

impl Matcher {
    /// Build the automata for `compiled`.
    pub fn new(compiled: &Compiled) -> Result<Matcher, BuildError> {
        let mut terms = Vec::new();
        let mut term_patterns = Vec::new();
        for (index, rule) in compiled.rules.iter().enumerate() {
            for term in &rule.terms {
                term_patterns.push(pattern(term, index));
                terms.push(term.clone());
            }
        }
        let lists = &compiled.lists;
        let mut cues: Vec<String> = Vec::new();
        let mut cue_patterns = Vec::new();
        let mut add = |list: &[String], cue: Cue| {
            for entry in list {
                cue_patterns.push(pattern(entry, cue));
                cues.push(entry.clone());
            }
        };
        add(&lists.allow_phrases, Cue::Allow);
        add(&lists.materials, Cue::Material);
        add(&lists.negations, Cue::Negation);
        add(&lists.self_comparisons, Cue::SelfComparison);
        add(&lists.external_scopes, Cue::External);
        add(&lists.source_markers, Cue::Source);
        add(&lists.medical_verbs, Cue::Verb);
        add(&lists.conditions, Cue::Condition);
        Ok(Matcher {
            terms: automaton(&terms)?,
            term_patterns,
            cues: automaton(&cues)?,
            cue_patterns,
            medical_rule: compiled
                .rules
                .iter()
                .position(|r| r.id == "claims.medical_claim"),
            negation_window: compiled.negation_window,
        })
    }

    /// Every reportable match in `text` for a listing of `class`, with spans in `text`'s
    /// own bytes. `names` are the listing's product names (brand, model…), which are
    /// never claims. Matching reads a normalised copy (see [`text::Normalized`]).
    pub fn scan(&self, text: &str, class: Class, rules: &[Rule], names: &[String]) -> Vec<Hit> {
        let normalized = text::Normalized::new(text);
        let mut hits = self.scan_normalized(&normalized.text, class, rules, names);
        for hit in &mut hits {
            (hit.start, hit.end) = normalized.original(hit.start, hit.end);
        }
        hits
    }

    fn scan_normalized(
        &self,
        text: &str,
        class: Class,
        rules: &[Rule],
        names: &[String],
    ) -> Vec<Hit> {
        let cues = self.cue_hits(text);
        let mut blocked: Vec<(usize, usize)> = cues
            .iter()
            .filter(|c| c.cue == Cue::Allow)
            .map(|c| (c.start, c.end))
            .collect();
        blocked.extend(name_spans(text, names));
        let overlaps_blocked =
            |start: usize, end: usize| blocked.iter().any(|&(s, e)| s < end && start < e);

        let mut hits = Vec::new();
        for m in self.terms.find_overlapping_iter(text) {
            let pattern = self.term_patterns[m.pattern().as_usize()];
            let (start, end) = (m.start(), m.end());
            let rule = &rules[pattern.what];
            if rule.severity[class.index()].is_none()
                || !text::is_whole(text, start, end, pattern.check_start, pattern.check_end)
                || overlaps_blocked(start, end)
                || self.negated(text, &cues, start)
                || (rule.self_comparable && self_compared(text, &cues, start, end))
                || (rule.kind == Kind::NeedsSource && has_source(&cues, start, end))
                || is_content(text, &cues, start, end)
            {
                continue;
            }
            hits.push(Hit {
                rule: pattern.what,
                start,
                end,
            });
        }
        if let Some(medical) = self.medical_rule
            && rules[medical].severity[class.index()].is_some()
        {
            for (start, end) in medical_pairs(text, &cues) {
                if !overlaps_blocked(start, end) && !self.negated(text, &cues, start) {
                    hits.push(Hit {
                        rule: medical,
                        start,
                        end,
                    });
                }
            }
        }
        outermost(hits, rules, class)
    }

    fn cue_hits(&self, text: &str) -> Vec<CueHit> {
        self.cues
            .find_overlapping_iter(text)
            .filter_map(|m| {
                let pattern = self.cue_patterns[m.pattern().as_usize()];
                // A source marker may be the start of a longer token (`NCT0…`).
                let check_end = pattern.check_end && pattern.what != Cue::Source;
                text::is_whole(text, m.start(), m.end(), pattern.check_start, check_end).then_some(
                    CueHit {
                        cue: pattern.what,
                        start: m.start(),
                        end: m.end(),
                    },
                )
            })
            .collect()
    }

    /// Whether a negation ends shortly before `start`, in the same clause.
    fn negated(&self, text: &str, cues: &[CueHit], start: usize) -> bool {
        cues.iter().any(|cue| {
            cue.cue == Cue::Negation && cue.end <= start && {
                let between = &text[cue.end..start];
                !text::has_clause_break(between) && text::units(between) <= self.negation_window
            }
        })
    }
}

fn pattern<T>(term: &str, what: T) -> Pattern<T> {
    let (check_start, check_end) = text::boundaries(term);
    Pattern {
        what,
        check_start,
        check_end,
    }
}

fn automaton(patterns: &[String]) -> Result<AhoCorasick, BuildError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(patterns)
}

/// Where the product names occur in `text`, ignoring ASCII case.
fn name_spans(text: &str, names: &[String]) -> Vec<(usize, usize)> {
    if names.is_empty() {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        spans.extend(
            lower
                .match_indices(&name)
                .map(|(at, _)| (at, at + name.len())),
        );
    }
    spans
}

/// Whether the match `[start, end)` compares within the seller's own range: a
/// self-comparison cue in the same clause nearby, and no external scope (全网, "ever")
/// in the match or that clause.
fn self_compared(text: &str, cues: &[CueHit], start: usize, end: usize) -> bool {
    let near = |cue: &CueHit| {
        let between = if cue.end <= start {
            &text[cue.end..start]
        } else if cue.start >= end {
            &text[end..cue.start]
        } else {
            ""
        };
        !text::has_clause_break(between) && text::units(between) <= SELF_COMPARISON_REACH
    };
    let own = cues
        .iter()
        .any(|cue| cue.cue == Cue::SelfComparison && near(cue));
    own && !cues.iter().any(|cue| cue.cue == Cue::External && near(cue))
}

/// Whether `[start, end)` is a content term (`100%`) followed closely by a material in
/// the same clause: `100%新疆长绒棉` states fibre content, it claims nothing.
fn is_content(text: &str, cues: &[CueHit], start: usize, end: usize) -> bool {
    let term = &text[start..end];
    lexicon::CONTENT_TERMS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(term))
        && cues.iter().any(|cue| {
            cue.cue == Cue::Material && cue.start >= end && {
                let between = &text[end..cue.start];
                !text::has_clause_break(between) && text::units(between) <= lexicon::MATERIAL_REACH
            }
        })
}

/// Whether a source marker stands near the evidence claim `[start, end)`.
fn has_source(cues: &[CueHit], start: usize, end: usize) -> bool {
    cues.iter().any(|cue| {
        cue.cue == Cue::Source
            && cue.end + SOURCE_BEFORE >= start
            && cue.start <= end + SOURCE_AFTER
    })
}

/// Medical verbs followed in the same clause by an illness: `(verb start, illness end)`.
fn medical_pairs(text: &str, cues: &[CueHit]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for verb in cues.iter().filter(|c| c.cue == Cue::Verb) {
        let condition = cues.iter().find(|c| {
            c.cue == Cue::Condition && c.start >= verb.end && {
                let between = &text[verb.end..c.start];
                !text::has_clause_break(between) && text::units(between) <= CONDITION_REACH
            }
        });
        if let Some(condition) = condition {
            pairs.push((verb.start, condition.end));
        }
    }
    pairs
}

/// Drop every hit inside another one; of hits with the same span keep the most severe
/// (then the earliest rule). Linear after sorting, so a huge text stays cheap.
fn outermost(mut hits: Vec<Hit>, rules: &[Rule], class: Class) -> Vec<Hit> {
    let rank = |hit: &Hit| rules[hit.rule].severity[class.index()].map(crate::severity_rank);
    hits.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(rank(b).cmp(&rank(a)))
            .then(a.rule.cmp(&b.rule))
    });
    let mut kept: Vec<Hit> = Vec::new();
    let mut covered_to = 0;
    for hit in hits {
        if !kept.is_empty() && hit.end <= covered_to {
            continue;
        }
        covered_to = covered_to.max(hit.end);
        kept.push(hit);
    }
    kept
}
