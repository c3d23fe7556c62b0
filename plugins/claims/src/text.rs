//! Small facts about text that the matcher needs: word boundaries for English terms,
//! clause breaks, and distances counted the way a reader counts them (English words,
//! Chinese characters).

/// Whether a match `[start, end)` of a term stands on its own: a term that begins (ends)
/// with an ASCII letter or digit must not continue a word before (after) it, so `cure`
/// does not match inside `secure` and `#1` does not match `#10`. Chinese has no spaces
/// and needs no boundary.
pub fn is_whole(text: &str, start: usize, end: usize, check_start: bool, check_end: bool) -> bool {
    let bytes = text.as_bytes();
    let before_ok = !check_start || start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
    let after_ok = !check_end || end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
    before_ok && after_ok
}

/// Whether `term` needs a boundary at its start and at its end (see [`is_whole`]).
pub fn boundaries(term: &str) -> (bool, bool) {
    let first = term
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let last = term
        .bytes()
        .last()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    (first, last)
}

/// Whether `c` ends a clause: Chinese or English punctuation that closes a clause, a line
/// break, or a full stop followed by a space or the end (`next`), not the dot of `No.1`.
fn is_break(c: char, next: Option<char>) -> bool {
    match c {
        '，' | '。' | '！' | '？' | '；' | ',' | '!' | '?' | ';' | '\n' | '|' | '｜' | '【'
        | '】' => true,
        '.' => next.is_none_or(char::is_whitespace),
        _ => false,
    }
}

/// Whether `text` holds the end of a clause (see [`close`]).
pub fn has_clause_break(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_break(c, chars.peek().copied()) {
            return true;
        }
    }
    false
}

/// How far apart two things are when `text` lies between them: English words count one
/// each, every other letter (a Chinese character) counts one, spaces and punctuation
/// count nothing.
pub fn units(text: &str) -> usize {
    let mut counter = Units::default();
    text.chars().for_each(|c| counter.add(c));
    counter.count
}

/// Counts [`units`] one character at a time, in either reading direction.
#[derive(Default)]
struct Units {
    count: usize,
    in_word: bool,
}

impl Units {
    fn add(&mut self, c: char) {
        if c.is_ascii_alphanumeric() {
            if !self.in_word {
                self.count += 1;
            }
            self.in_word = true;
        } else {
            self.in_word = false;
            if !c.is_ascii() && c.is_alphanumeric() {
                self.count += 1;
            }
        }
    }
}

/// Whether two things with `between` them are in the same clause (no
/// [clause break](has_clause_break)) and at most `reach` [`units`] apart.
///
/// Reads from the side named by `from_end` (the side nearest the match being checked) and
/// stops at the first break or once past `reach`, so a long gap costs no more than a
/// short one.
pub fn close(between: &str, reach: usize, from_end: bool) -> bool {
    let mut units = Units::default();
    let mut step = |c: char, next: Option<char>| {
        units.add(c);
        !is_break(c, next) && units.count <= reach
    };
    if from_end {
        let mut next = None;
        for c in between.chars().rev() {
            if !step(c, next) {
                return false;
            }
            next = Some(c);
        }
    } else {
        let mut chars = between.chars().peekable();
        while let Some(c) = chars.next() {
            if !step(c, chars.peek().copied()) {
                return false;
            }
        }
    }
    true
}

use crate::fold;

/// A text as the matcher reads it, and the way back to the original bytes.
///
/// Sellers write `ＮＯ．１` and `１００％` in full-width forms, and dodge word lists with
/// `国 家 级`, `国·家·级`, an invisible character inside `最好`, traditional characters,
/// Cyrillic look-alikes or `best-in-the-world`. The matcher reads a normalised copy:
/// full-width ASCII becomes ASCII, the ideographic space a space, and the rest as
/// [`fold`] says; spaces and separators between two CJK characters go. Spans found in the
/// copy are mapped back, so evidence always points into the text as sent.
pub struct Normalized<'t> {
    /// The text to match.
    pub text: std::borrow::Cow<'t, str>,
    /// One mark per change (a character replaced, or characters removed), in text order:
    /// everything between two marks is the original, byte for byte.
    marks: Vec<Mark>,
}

/// A change made by [`Normalized`]: the normalised bytes `[norm_start, norm_end)` (empty
/// for a removal) stand for original bytes ending at `orig_end`.
#[derive(Clone, Copy, Debug)]
struct Mark {
    norm_start: usize,
    norm_end: usize,
    orig_end: usize,
}

impl Mark {
    /// How far the original is ahead of the normalised text after this mark.
    fn shift(&self) -> usize {
        self.orig_end - self.norm_end
    }
}

impl<'t> Normalized<'t> {
    /// Normalise `original` (borrowed as is when there is nothing to change).
    pub fn new(original: &'t str) -> Self {
        let context = if fold::may_fold(original) {
            fold::contextual(original)
        } else {
            Vec::new()
        };
        let nothing_to_do = context.is_empty()
            && !original
                .chars()
                .any(|c| fold::fold(c).is_some() || c.is_whitespace() && !c.is_ascii())
            && !has_spaced_cjk(original);
        if nothing_to_do {
            return Normalized {
                text: std::borrow::Cow::Borrowed(original),
                marks: Vec::new(),
            };
        }
        let mut out = Builder {
            original,
            text: String::with_capacity(original.len()),
            marks: Vec::new(),
            copied: 0,
            context: context.into_iter().peekable(),
        };
        let mut last_solid: Option<char> = None;
        let mut chars = original.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if is_skippable(c) {
                // A run of whitespace, invisible characters and separators: between two
                // CJK characters it goes as a whole.
                let mut run_end = at + c.len_utf8();
                while let Some(&(next_at, next)) = chars.peek().filter(|(_, n)| is_skippable(*n)) {
                    run_end = next_at + next.len_utf8();
                    chars.next();
                }
                let next_solid = chars.peek().map(|&(_, n)| n);
                if last_solid.is_some_and(is_cjk) && next_solid.is_some_and(is_cjk) {
                    out.remove_run(at, run_end);
                    continue;
                }
                for (offset, c) in original[at..run_end].char_indices() {
                    out.change(at + offset, c);
                }
                continue;
            }
            out.change(at, c);
            last_solid = Some(c);
        }
        out.text.push_str(&original[out.copied..]);
        Normalized {
            text: std::borrow::Cow::Owned(out.text),
            marks: out.marks,
        }
    }

    /// The original byte range of the normalised range `[start, end)`: from the start of
    /// the original character behind `start` to the end of the one behind `end - 1`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        if self.marks.is_empty() || start >= end {
            return (start, end);
        }
        // A start maps past every change before it, removals included.
        let before_start = self.marks.partition_point(|m| m.norm_end <= start);
        let start_shift = before_start
            .checked_sub(1)
            .map_or(0, |i| self.marks[i].shift());
        // An end maps past every change before it and the replaced character ending at
        // it, but not past characters removed right after it.
        let before_end = self
            .marks
            .partition_point(|m| m.norm_end < end || (m.norm_end == end && m.norm_start < end));
        let end_shift = before_end
            .checked_sub(1)
            .map_or(0, |i| self.marks[i].shift());
        (start + start_shift, end + end_shift)
    }
}

/// Builds the normalised text and its marks.
struct Builder<'t> {
    original: &'t str,
    text: String,
    marks: Vec<Mark>,
    /// Original bytes before this are in `text` already.
    copied: usize,
    /// The contextual changes not reached yet (see [`fold::contextual`]).
    context: std::iter::Peekable<std::vec::IntoIter<(usize, Option<char>)>>,
}

impl Builder<'_> {
    /// Copy the original up to `at`, then `c` (at `at`) as folded, marking a change.
    fn change(&mut self, at: usize, c: char) {
        let mapped = match self.context.next_if(|(offset, _)| *offset == at) {
            Some((_, replacement)) => Some(replacement),
            None => fold::fold(c),
        };
        let Some(mapped) = mapped else {
            return;
        };
        self.text.push_str(&self.original[self.copied..at]);
        let norm_start = self.text.len();
        if let Some(mapped) = mapped {
            self.text.push(mapped);
        }
        self.copied = at + c.len_utf8();
        push_mark(&mut self.marks, norm_start, self.text.len(), self.copied);
    }

    /// Drop the original bytes `[at, end)`.
    fn remove_run(&mut self, at: usize, end: usize) {
        while self.context.next_if(|(offset, _)| *offset < end).is_some() {}
        self.text.push_str(&self.original[self.copied..at]);
        push_mark(&mut self.marks, self.text.len(), self.text.len(), end);
        self.copied = end;
    }
}

fn push_mark(marks: &mut Vec<Mark>, norm_start: usize, norm_end: usize, orig_end: usize) {
    marks.push(Mark {
        norm_start,
        norm_end,
        orig_end,
    });
}

/// Whitespace, invisible characters and separators: what may stand between two CJK
/// characters.
fn is_skippable(c: char) -> bool {
    c.is_whitespace() || fold::is_invisible(c) || fold::is_separator(c)
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

fn has_spaced_cjk(text: &str) -> bool {
    let mut previous_cjk = false;
    let mut spaced = false;
    for c in text.chars() {
        if is_skippable(c) {
            spaced = spaced || previous_cjk;
        } else {
            if spaced && is_cjk(c) {
                return true;
            }
            previous_cjk = is_cjk(c);
            spaced = false;
        }
    }
    false
}
