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
    let first = term.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let last = term.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_terms_need_word_boundaries() {
        assert!(!is_whole("secure", 2, 6, true, true));
        assert!(is_whole("cures acne", 0, 5, true, true));
        assert!(!is_whole("#10", 0, 2, false, true));
        assert!(is_whole("最好的", 0, 6, false, false));
    }

    #[test]
    fn clause_breaks_are_punctuation_not_dots_inside_words() {
        assert!(has_clause_break("，"));
        assert!(has_clause_break("done. next"));
        assert!(!has_clause_break("No.1 seller"));
        assert!(!has_clause_break("我们不是"));
    }

    #[test]
    fn units_count_words_and_characters() {
        assert_eq!(units("we do not claim"), 4);
        assert_eq!(units("代替药物"), 4);
        assert_eq!(units(" the "), 1);
    }
}
