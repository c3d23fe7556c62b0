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

/// A text as the matcher reads it, and the way back to the original bytes.
///
/// Sellers write `ＮＯ．１` and `１００％` in full-width forms, and dodge word lists with
/// `国 家 级` or an invisible zero-width space inside `最好`. The matcher reads a
/// normalised copy: full-width ASCII becomes ASCII, the ideographic space a space,
/// zero-width characters go, and spaces between two CJK characters go. Spans found in the
/// copy are mapped back, so evidence always points into the text as sent.
pub struct Normalized<'t> {
    /// The text to match.
    pub text: std::borrow::Cow<'t, str>,
    /// For each byte of `text`: the original offset where its character starts.
    starts: Vec<usize>,
    /// For each byte of `text`: the original offset where its character ends.
    ends: Vec<usize>,
}

impl<'t> Normalized<'t> {
    /// Normalise `original` (borrowed as is when there is nothing to change).
    pub fn new(original: &'t str) -> Self {
        if !original
            .chars()
            .any(|c| needs_care(c) || c.is_whitespace() && !c.is_ascii())
            && !has_spaced_cjk(original)
        {
            return Normalized {
                text: std::borrow::Cow::Borrowed(original),
                starts: Vec::new(),
                ends: Vec::new(),
            };
        }
        let chars: Vec<(usize, char)> = original.char_indices().collect();
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len());
        let mut ends = Vec::with_capacity(original.len());
        for (i, &(at, c)) in chars.iter().enumerate() {
            let end = at + c.len_utf8();
            let mapped = match c {
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
                '\u{3000}' => Some(' '),
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
                c => Some(c),
            };
            let Some(mapped) = mapped else { continue };
            if mapped.is_whitespace() && between_cjk(&chars, i) {
                continue;
            }
            text.push(mapped);
            for _ in 0..mapped.len_utf8() {
                starts.push(at);
                ends.push(end);
            }
        }
        Normalized {
            text: std::borrow::Cow::Owned(text),
            starts,
            ends,
        }
    }

    /// The original byte range of the normalised range `[start, end)`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        if self.starts.is_empty() || start >= end {
            return (start, end);
        }
        (self.starts[start], self.ends[end - 1])
    }
}

fn needs_care(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{FF01}'..='\u{FF5E}'
    )
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Whether the whitespace at `chars[i]` sits in a run of whitespace (and zero-width
/// characters) between two CJK characters.
fn between_cjk(chars: &[(usize, char)], i: usize) -> bool {
    let skip =
        |c: char| c.is_whitespace() || needs_care(c) && !matches!(c, '\u{FF01}'..='\u{FF5E}');
    let before = chars[..i].iter().rev().map(|&(_, c)| c).find(|&c| !skip(c));
    let after = chars[i + 1..].iter().map(|&(_, c)| c).find(|&c| !skip(c));
    before.is_some_and(is_cjk) && after.is_some_and(is_cjk)
}

fn has_spaced_cjk(text: &str) -> bool {
    let mut previous_cjk = false;
    let mut spaced = false;
    for c in text.chars() {
        if c.is_whitespace() {
            spaced = previous_cjk;
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
