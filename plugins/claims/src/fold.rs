//! Character folding: the spellings sellers use to slip a claim past a word list,
//! mapped to the one the lexicon is written in. Used by [`text::Normalized`](crate::text::Normalized),
//! which keeps the way back to the original bytes.
//!
//! - **Invisible characters** (soft hyphen, combining grapheme joiner, Mongolian vowel
//!   separator, variation selectors, bidirectional controls, zero-width characters) go.
//! - **Traditional characters** of the terms' words become simplified (國家級 → 国家级,
//!   治癒 → 治愈): a table of the characters the lexicon's words use, not a full
//!   converter.
//! - **Typographic apostrophes** (’ ‘ ʼ ′ ＇) become `'` ("world’s first").
//! - In context (see [`contextual`]): Cyrillic look-alike letters inside a Latin word
//!   become Latin (`bеst` with a Cyrillic е), `N0.1` becomes `No.1`, a hyphen between two
//!   Latin letters becomes a space (`best-in-the-world`), and a run of spaces one space.
//! - Separators between two CJK characters (`国·家·级`, `国.家.级`, `国-家-级`,
//!   `国*家*级`) go, like spaces there: see [`is_separator`].

/// What `c` becomes wherever it stands: `Some(Some(x))` replaced by `x`, `Some(None)`
/// removed, `None` kept.
pub fn fold(c: char) -> Option<Option<char>> {
    match c {
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some(None),
        c if is_invisible(c) => Some(None),
        '\u{3000}' => Some(Some(' ')),
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).map(Some),
        '’' | '‘' | 'ʼ' | '′' => Some(Some('\'')),
        c if !c.is_ascii() => simplified(c).map(Some),
        _ => None,
    }
}

/// Invisible format characters a seller can put inside a word.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

/// Punctuation that may stand between the characters of a Chinese word to break it up;
/// between two CJK characters it goes (with any spaces around it).
pub fn is_separator(c: char) -> bool {
    matches!(
        c,
        '·' | '・' | '･' | '•' | '‧' | '.' | '-' | '*' | '_' | '~' | '—' | '–' | '^' | '+' | '#'
    )
}

/// Whether [`contextual`] can find anything in `text`: it changes only Cyrillic letters
/// (non-ASCII), a `0` before a `.`, a hyphen, and runs of spaces — so most listings, which
/// have single spaces and no hyphen, skip its pass and allocation.
pub fn may_fold(text: &str) -> bool {
    !text.is_ascii() || text.contains('-') || text.contains("0.") || text.contains("  ")
}

/// Changes that depend on the characters around: `(byte offset, replacement)` in text
/// order, `None` for a removal.
pub fn contextual(text: &str) -> Vec<(usize, Option<char>)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let letter = |i: usize| chars.get(i).is_some_and(|(_, c)| c.is_ascii_alphabetic());
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            // A Latin word with Cyrillic look-alikes in it.
            c if c.is_alphabetic() && (c.is_ascii() || latin_look_alike(c).is_some()) => {
                let start = i;
                while i < chars.len()
                    && (chars[i].1.is_ascii_alphabetic() || latin_look_alike(chars[i].1).is_some())
                {
                    i += 1;
                }
                let word = &chars[start..i];
                if word.iter().any(|(_, c)| c.is_ascii_alphabetic()) {
                    for &(at, c) in word {
                        if let Some(latin) = latin_look_alike(c) {
                            out.push((at, Some(latin)));
                        }
                    }
                }
                continue;
            }
            // N0.1 → No.1
            '0' if i >= 1
                && matches!(chars[i - 1].1, 'N' | 'n')
                && !(i >= 2 && chars[i - 2].1.is_ascii_alphanumeric())
                && chars.get(i + 1).is_some_and(|(_, c)| *c == '.') =>
            {
                out.push((at, Some('o')));
            }
            '-' if i >= 1 && letter(i - 1) && letter(i + 1) => out.push((at, Some(' '))),
            ' ' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].1 == ' ' {
                    out.push((chars[j].0, None));
                    j += 1;
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The Latin letter a Cyrillic letter looks like, if any.
fn latin_look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ո' => 'n',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'І' => 'I',
        _ => return None,
    })
}

/// The simplified form of a traditional character used in the lexicon's words (a
/// `match`, which the compiler turns into a search, not a scan of a table).
fn simplified(c: char) -> Option<char> {
    Some(match c {
        '國' => '国',
        '級' => '级',
        '頂' => '顶',
        '極' => '极',
        '絕' => '绝',
        '對' => '对',
        '銷' => '销',
        '獨' => '独',
        '無' => '无',
        '萬' => '万',
        '軍' => '军',
        '領' => '领',
        '選' => '选',
        '優' => '优',
        '質' => '质',
        '價' => '价',
        '網' => '网',
        '權' => '权',
        '歸' => '归',
        '釋' => '释',
        '癒' => '愈',
        '療' => '疗',
        '藥' => '药',
        '醫' => '医',
        '學' => '学',
        '護' => '护',
        '膚' => '肤',
        '證' => '证',
        '實' => '实',
        '驗' => '验',
        '專' => '专',
        '薦' => '荐',
        '臨' => '临',
        '減' => '减',
        '壓' => '压',
        '預' => '预',
        '體' => '体',
        '強' => '强',
        '腫' => '肿',
        '癥' => '症',
        '壯' => '壮',
        '陽' => '阳',
        '腎' => '肾',
        '腦' => '脑',
        '臟' => '脏',
        '藝' => '艺',
        '穩' => '稳',
        '賺' => '赚',
        '賠' => '赔',
        '馳' => '驰',
        '標' => '标',
        '準' => '准',
        '認' => '认',
        '統' => '统',
        '導' => '导',
        '發' => '发',
        '業' => '业',
        '遠' => '远',
        '隊' => '队',
        '廠' => '厂',
        '產' => '产',
        '務' => '务',
        '員' => '员',
        '宮' => '宫',
        '會' => '会',
        '議' => '议',
        '長' => '长',
        '勝' => '胜',
        '敗' => '败',
        '復' => '复',
        '過' => '过',
        '確' => '确',
        '還' => '还',
        '費' => '费',
        '險' => '险',
        '風' => '风',
        '買' => '买',
        '賣' => '卖',
        '號' => '号',
        '濕' => '湿',
        '類' => '类',
        '嚴' => '严',
        '齊' => '齐',
        '純' => '纯',
        '淨' => '净',
        '養' => '养',
        '營' => '营',
        '飲' => '饮',
        '脫' => '脱',
        '髮' => '发',
        '際' => '际',
        '頭' => '头',
        '雙' => '双',
        '億' => '亿',
        '衛' => '卫',
        '寶' => '宝',
        '貴' => '贵',
        '鐵' => '铁',
        '傳' => '传',
        '說' => '说',
        '話' => '话',
        '書' => '书',
        '條' => '条',
        '廣' => '广',
        '顏' => '颜',
        '麗' => '丽',
        '試' => '试',
        '題' => '题',
        '與' => '与',
        '為' => '为',
        '們' => '们',
        '這' => '这',
        '個' => '个',
        '來' => '来',
        '時' => '时',
        '間' => '间',
        '後' => '后',
        '輕' => '轻',
        '鬆' => '松',
        '變' => '变',
        '從' => '从',
        '嗎' => '吗',
        '邊' => '边',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contextual_changes_need_their_context() {
        assert_eq!(contextual("b\u{0435}st"), [(1, Some('e'))]);
        assert!(
            contextual("\u{0435}\u{0441}").is_empty(),
            "a Cyrillic word stays"
        );
        assert_eq!(contextual("N0.1"), [(1, Some('o'))]);
        assert!(contextual("IN0.1").is_empty());
        assert!(contextual("N01").is_empty());
        assert_eq!(contextual("best-in"), [(4, Some(' '))]);
        assert!(contextual("3-4").is_empty());
        assert_eq!(contextual("a   b"), [(2, None), (3, None)]);
    }

    #[test]
    fn folding_maps_what_it_knows_and_keeps_the_rest() {
        assert_eq!(fold('國'), Some(Some('国')));
        assert_eq!(fold('\u{00AD}'), Some(None));
        assert_eq!(fold('’'), Some(Some('\'')));
        assert_eq!(fold('国'), None);
        assert_eq!(fold('a'), None);
    }
}
