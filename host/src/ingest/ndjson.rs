//! [`split_ndjson`]: a batch body cut into numbered lines.

/// The non-blank lines of an NDJSON body with their 1-based line numbers (counted over
/// all lines, blank ones included, so numbers match what the sender's editor shows).
///
/// Lines end at `\n`; a `\r` before it is dropped, so `\r\n` bodies work. Lines of only
/// spaces and tabs are skipped. No line is parsed here: each goes to
/// [`parse_event`](super::parse_event) on its own, so one bad line rejects only itself.
///
/// ```
/// use probity::ingest::split_ndjson;
/// let lines: Vec<_> = split_ndjson(b"{\"a\":1}\r\n\r\n{\"b\":2}\n").collect();
/// assert_eq!(lines, [(1, &b"{\"a\":1}"[..]), (3, &b"{\"b\":2}"[..])]);
/// ```
pub fn split_ndjson(body: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    body.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let blank = line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
            (!blank).then_some((index + 1, line))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(body: &[u8]) -> Vec<(usize, &[u8])> {
        split_ndjson(body).collect()
    }

    #[test]
    fn an_empty_body_has_no_lines() {
        assert!(lines(b"").is_empty());
        assert!(lines(b"\n\n \t\r\n").is_empty());
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        assert_eq!(
            lines(b"a\n\nb\n  \nc"),
            [(1, &b"a"[..]), (3, b"b"), (5, b"c")]
        );
    }

    #[test]
    fn crlf_line_ends_are_tolerated() {
        assert_eq!(lines(b"a\r\nb\r\n"), [(1, &b"a"[..]), (2, b"b")]);
    }

    #[test]
    fn a_missing_final_newline_keeps_the_last_line() {
        assert_eq!(lines(b"a\nb"), [(1, &b"a"[..]), (2, b"b")]);
    }
}
