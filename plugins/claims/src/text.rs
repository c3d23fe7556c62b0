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

/// Whether `text` holds the end of a clause: Chinese or English punctuation that closes
/// a clause, a line break, or a full stop followed by a space (not the dot of `No.1`).
pub fn has_clause_break(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '，' | '。' | '！' | '？' | '；' | ',' | '!' | '?' | ';' | '\n' | '|' | '｜' | '【'
            | '】' => return true,
            '.' if chars.peek().is_none_or(|next| next.is_whitespace()) => return true,
            _ => {}
        }
    }
    false
}

/// How far apart two things are when `text` lies between them: English words count one
/// each, every other letter (a Chinese character) counts one, spaces and punctuation
/// count nothing.
pub fn units(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if !in_word {
                count += 1;
            }
            in_word = true;
        } else {
            in_word = false;
            if !c.is_ascii() && c.is_alphanumeric() {
                count += 1;
            }
        }
    }
    count
}
