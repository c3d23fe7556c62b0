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
/// How far (in words or CJK characters) a word that flips a negation may follow the
/// negated term.
const FLIP_REACH: usize = 3;
/// How far (in words) a world scope may follow a superlative.
const SCOPE_REACH: usize = 6;
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
    Superlative,
    WorldScope,
    Flip,
    NotNegation,
}

#[derive(Clone, Copy, Debug)]
struct Pattern<T> {
    what: T,
    check_start: bool,
    check_end: bool,
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

/// What [`Matcher::scan`] found in one field.
#[derive(Debug, Default)]
pub struct Scan {
    /// The reportable matches.
    pub hits: Vec<Hit>,
    /// How many matches a registered product name exempted.
    pub exempted: usize,
}

/// The compiled automata of one rule set.
pub struct Matcher {
    terms: AhoCorasick,
    term_patterns: Vec<Pattern<usize>>,
    cues: AhoCorasick,
    cue_patterns: Vec<Pattern<Cue>>,
    medical_rule: Option<usize>,
    absolute_rule: Option<usize>,
    negation_window: usize,
}

impl Matcher {
    /// Build the automata for `compiled`.
    pub fn new(compiled: &Compiled) -> Result<Matcher, BuildError> {
        let mut terms = Vec::new();
        let mut term_patterns = Vec::new();
        for (index, rule) in compiled.rules.iter().enumerate() {
            for term in &rule.terms {
                let term = as_read(term);
                term_patterns.push(pattern(&term, index));
                terms.push(term);
            }
        }
        let lists = &compiled.lists;
        let mut cues: Vec<String> = Vec::new();
        let mut cue_patterns = Vec::new();
        let mut add = |list: &[String], cue: Cue| {
            for entry in list {
                let entry = as_read(entry);
                cue_patterns.push(pattern(&entry, cue));
                cues.push(entry);
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
        add(&lists.superlatives, Cue::Superlative);
        add(&lists.world_scopes, Cue::WorldScope);
        add(&lists.negation_flips, Cue::Flip);
        add(&lists.not_negations, Cue::NotNegation);
        Ok(Matcher {
            terms: automaton(&terms)?,
            term_patterns,
            cues: automaton(&cues)?,
            cue_patterns,
            absolute_rule: compiled
                .rules
                .iter()
                .position(|r| r.id == "claims.absolute_term"),
            medical_rule: compiled
                .rules
                .iter()
                .position(|r| r.id == "claims.medical_claim"),
            negation_window: compiled.negation_window,
        })
    }

    /// Every reportable match in `text` for a listing of `class`, with spans in `text`'s
    /// own bytes. `names` are the listing's product names (brand, model…), normalised and
    /// in ASCII lower case, which are never claims. Matching reads a normalised copy (see [`text::Normalized`]).
    pub fn scan(&self, text: &str, class: Class, rules: &[Rule], names: &[String]) -> Scan {
        let normalized = text::Normalized::new(text);
        let mut scan = self.scan_normalized(&normalized.text, class, rules, names);
        for hit in &mut scan.hits {
            (hit.start, hit.end) = normalized.original(hit.start, hit.end);
        }
        scan
    }

    fn scan_normalized(&self, text: &str, class: Class, rules: &[Rule], names: &[String]) -> Scan {
        let cues = self.cue_index(text, names);
        let mut hits = Vec::new();
        let mut exempted = 0;
        for m in self.terms.find_overlapping_iter(text) {
            let pattern = self.term_patterns[m.pattern().as_usize()];
            let (start, end) = (m.start(), m.end());
            let rule = &rules[pattern.what];
            if rule.severity[class.index()].is_none()
                || !text::is_whole(text, start, end, pattern.check_start, pattern.check_end)
                || cues.blocked.overlaps(start, end)
                || self.negated(text, &cues, start, end)
                || (rule.self_comparable && self_compared(text, &cues, start, end))
                || (rule.kind == Kind::NeedsSource && has_source(&cues, start, end))
                || is_content(text, &cues, start, end)
            {
                continue;
            }
            if !rule.is_health() && cues.names.overlaps(start, end) {
                exempted += 1;
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
            for (start, end) in pairs(text, &cues, Cue::Verb, Cue::Condition, CONDITION_REACH) {
                if !cues.blocked.overlaps(start, end) && !self.negated(text, &cues, start, end) {
                    hits.push(Hit {
                        rule: medical,
                        start,
                        end,
                    });
                }
            }
        }
        if let Some(absolute) = self.absolute_rule
            && rules[absolute].severity[class.index()].is_some()
        {
            for (start, end) in pairs(text, &cues, Cue::Superlative, Cue::WorldScope, SCOPE_REACH) {
                if !cues.blocked.overlaps(start, end)
                    && !self.negated(text, &cues, start, end)
                    && !self_compared(text, &cues, start, end)
                {
                    hits.push(Hit {
                        rule: absolute,
                        start,
                        end,
                    });
                }
            }
        }
        Scan {
            hits: outermost(hits, rules, class),
            exempted,
        }
    }

    /// Every cue in `text`, indexed by kind; allowed phrases and product names together
    /// as the blocked spans.
    fn cue_index(&self, text: &str, names: &[String]) -> CueIndex {
        let mut by_kind: [Vec<Span>; CUE_KINDS] = Default::default();
        for (order, m) in self.cues.find_overlapping_iter(text).enumerate() {
            let pattern = self.cue_patterns[m.pattern().as_usize()];
            // A source marker may be the start of a longer token (`NCT0…`).
            let check_end = pattern.check_end && pattern.what != Cue::Source;
            if text::is_whole(text, m.start(), m.end(), pattern.check_start, check_end) {
                by_kind[pattern.what as usize].push(Span {
                    start: m.start(),
                    end: m.end(),
                    order,
                });
            }
        }
        let blocked = std::mem::take(&mut by_kind[Cue::Allow as usize]);
        CueIndex {
            blocked: Spans::new(blocked),
            names: Spans::new(name_spans(text, names)),
            kinds: by_kind.map(Spans::new),
        }
    }

    /// Whether a negation ends shortly before `start`, in the same clause.
    /// Whether a negation shortly before the match `[start, end)`, in its clause, denies
    /// it — unless the negation word is part of a phrase that negates nothing ("don't
    /// miss") or a word after the match flips it back into a claim (不是最好的不卖).
    fn negated(&self, text: &str, cues: &CueIndex, start: usize, end: usize) -> bool {
        let Some(negation) = cues.get(Cue::Negation).last_ending_by(start) else {
            return false;
        };
        if !text::close(&text[negation.end..start], self.negation_window, true)
            || cues
                .get(Cue::NotNegation)
                .overlaps(negation.start, negation.end)
        {
            return false;
        }
        cues.first_close_after(Cue::Flip, text, end, FLIP_REACH)
            .is_none()
    }
}

/// How many [`Cue`] kinds there are.
const CUE_KINDS: usize = 12;

/// One cue match; `order` is its position among all cue matches of the text.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    order: usize,
}

/// The cue matches of one kind, sorted for the lookups the checks make, so that every
/// check costs a binary search plus the few neighbours within reach, not a pass over
/// every cue of the text.
#[derive(Default)]
struct Spans {
    /// Sorted by start.
    by_start: Vec<Span>,
    /// Sorted by end.
    by_end: Vec<Span>,
    /// For each prefix of `by_start`, the largest end in it.
    max_end: Vec<usize>,
}

impl Spans {
    fn new(mut by_start: Vec<Span>) -> Spans {
        by_start.sort_by_key(|s| (s.start, s.order));
        let mut by_end = by_start.clone();
        by_end.sort_by_key(|s| (s.end, s.order));
        let max_end = by_start
            .iter()
            .scan(0, |max, s| {
                *max = (*max).max(s.end);
                Some(*max)
            })
            .collect();
        Spans {
            by_start,
            by_end,
            max_end,
        }
    }

    /// Whether any span overlaps `[start, end)`.
    fn overlaps(&self, start: usize, end: usize) -> bool {
        let before_end = self.by_start.partition_point(|s| s.start < end);
        before_end > 0 && self.max_end[before_end - 1] > start
    }

    /// The span ending nearest before (or at) `at`. It is the only one worth checking
    /// for closeness: the gap to any other is longer and holds this one's gap, so it is
    /// close only if this one is.
    fn last_ending_by(&self, at: usize) -> Option<Span> {
        let count = self.by_end.partition_point(|s| s.end <= at);
        count.checked_sub(1).map(|last| self.by_end[last])
    }

    /// The spans starting at or after `at`, nearest first.
    fn starting_from(&self, at: usize) -> impl Iterator<Item = Span> + '_ {
        let first = self.by_start.partition_point(|s| s.start < at);
        self.by_start[first..].iter().copied()
    }
}

/// Whether a longer gap than `between` (which it begins) could still be close: a full
/// stop at the very end of `between` is a break only because nothing follows it there.
fn still_possible(between: &str, reach: usize) -> bool {
    text::close(between.trim_end_matches('.'), reach, false)
}

/// The cues of one text.
struct CueIndex {
    /// Allowed phrases: a match overlapping one is not a claim.
    blocked: Spans,
    /// Registered product names of the listing: a match overlapping one is not a claim,
    /// unless it is a health claim.
    names: Spans,
    /// The other cues, by [`Cue`] kind.
    kinds: [Spans; CUE_KINDS],
}

impl CueIndex {
    fn get(&self, cue: Cue) -> &Spans {
        &self.kinds[cue as usize]
    }

    /// Of the spans of `cue` starting at or after `from` and [close](text::close) to it,
    /// the first in cue order. Walks forward from `from` only while a longer gap could
    /// still be close (see [`still_possible`]).
    fn first_close_after(&self, cue: Cue, text: &str, from: usize, reach: usize) -> Option<Span> {
        let mut found: Option<Span> = None;
        for span in self.get(cue).starting_from(from) {
            let between = &text[from..span.start];
            if text::close(between, reach, false) {
                if found.is_none_or(|f| span.order < f.order) {
                    found = Some(span);
                }
            } else if !still_possible(between, reach) {
                break;
            }
        }
        found
    }
}

/// A term or cue as the matcher reads text: normalised the same way (a configured
/// `best-in-class` must match the text's `best-in-class`, read as `best in class`).
fn as_read(term: &str) -> String {
    text::Normalized::new(term).text.into_owned()
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
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
}

/// Where the product names (ASCII lower-case already) occur in `text`, ignoring ASCII
/// case.
fn name_spans(text: &str, names: &[String]) -> Vec<Span> {
    if names.is_empty() {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    names
        .iter()
        .flat_map(|name| {
            lower.match_indices(name.as_str()).map(|(at, _)| Span {
                start: at,
                end: at + name.len(),
                order: usize::MAX,
            })
        })
        .collect()
}

/// Whether the match `[start, end)` compares within the seller's own range: a
/// self-comparison cue in the same clause nearby, and no external scope (全网, "ever")
/// in the match or that clause.
fn self_compared(text: &str, cues: &CueIndex, start: usize, end: usize) -> bool {
    let near = |cue: Cue| {
        let spans = cues.get(cue);
        spans.overlaps(start, end)
            || spans
                .last_ending_by(start)
                .is_some_and(|s| text::close(&text[s.end..start], SELF_COMPARISON_REACH, true))
            || cues
                .first_close_after(cue, text, end, SELF_COMPARISON_REACH)
                .is_some()
    };
    near(Cue::SelfComparison) && !near(Cue::External)
}

/// Whether `[start, end)` is a content term (`100%`) followed closely by a material in
/// the same clause: `100%新疆长绒棉` states fibre content, it claims nothing.
fn is_content(text: &str, cues: &CueIndex, start: usize, end: usize) -> bool {
    let term = &text[start..end];
    lexicon::CONTENT_TERMS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(term))
        && cues
            .first_close_after(Cue::Material, text, end, lexicon::MATERIAL_REACH)
            .is_some()
}

/// Whether a source marker stands near the evidence claim `[start, end)`: ending at most
/// `SOURCE_BEFORE` bytes before it or starting at most `SOURCE_AFTER` bytes after it.
fn has_source(cues: &CueIndex, start: usize, end: usize) -> bool {
    cues.get(Cue::Source).overlaps(
        start.saturating_sub(SOURCE_BEFORE + 1),
        end + SOURCE_AFTER + 1,
    )
}

/// `(head start, tail end)` of every `head` cue followed in its clause, within `reach`,
/// by a `tail` cue: a medical verb and an illness ("treats eczema"), a superlative and a
/// world scope ("the best coffee maker in the world").
fn pairs(text: &str, cues: &CueIndex, head: Cue, tail: Cue, reach: usize) -> Vec<(usize, usize)> {
    cues.get(head)
        .by_start
        .iter()
        .filter_map(|first| {
            cues.first_close_after(tail, text, first.end, reach)
                .map(|last| (first.start, last.end))
        })
        .collect()
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
