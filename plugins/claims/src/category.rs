//! A listing's product class from its category path, as real marketplaces write them.
//!
//! Why more than prefixes: Taobao, JD and Pinduoduo write `美容护肤/面部精华` or
//! `食品/保健食品/维生素`, Amazon `Beauty & Personal Care > Skin Care > Serums` — no
//! fixed vocabulary, and the class shows in some segment, often the deepest. So a path
//! is classified in two steps:
//!
//! 1. a configured entry that is a prefix of the path (`health/drugs`, or a team's own
//!    `我的分类/精华`) decides, the longest first — as before;
//! 2. otherwise the segments (split at `/`, `>`, `›`, `»`, `|`, `\`) are read from the
//!    deepest up, and the first segment that contains a configured entry decides: an
//!    English entry as whole words (`skin care` in `Skin Care`, not `otc` in `hotcake`),
//!    a Chinese one as a substring (`护肤` in `美容护肤`). Within one segment a drug
//!    entry beats a food entry, which beats a cosmetics one.

use crate::rules::Class;

/// Characters that separate the segments of a category path.
const SEPARATORS: &[char] = &['/', '>', '›', '»', '|', '\\', '＞', '／'];

/// The class of `category`, given the configured `(entry, class)` pairs (ASCII
/// lower-case, longest first).
pub fn classify(category: &str, entries: &[(String, Class)]) -> Class {
    let path = category.trim().trim_matches('/').to_ascii_lowercase();
    let prefixed = entries.iter().find(|(prefix, _)| {
        path == *prefix
            || (path.starts_with(prefix.as_str())
                && path.as_bytes().get(prefix.len()) == Some(&b'/'))
    });
    if let Some((_, class)) = prefixed {
        return *class;
    }
    for segment in path.split(SEPARATORS).rev() {
        let words = words(segment);
        let found = entries
            .iter()
            .filter(|(entry, _)| !entry.contains('/') && contains(segment, &words, entry))
            .map(|(_, class)| *class)
            .max_by_key(|class| priority(*class));
        if let Some(class) = found {
            return class;
        }
    }
    Class::General
}

/// Which class wins when one segment names two.
fn priority(class: Class) -> u8 {
    match class {
        Class::Drug => 3,
        Class::Food => 2,
        Class::Cosmetics => 1,
        Class::General => 0,
    }
}

/// The ASCII words of `text`, lower-case already.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect()
}

/// Whether `segment` holds `entry`: its words in a row when it is ASCII, else as a
/// substring.
fn contains(segment: &str, segment_words: &[&str], entry: &str) -> bool {
    if !entry.is_ascii() {
        return segment.contains(entry);
    }
    let wanted = words(entry);
    !wanted.is_empty()
        && segment_words
            .windows(wanted.len())
            .any(|run| run == wanted.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<(String, Class)> {
        let mut out = vec![
            ("health/drugs".to_string(), Class::Drug),
            ("skin care".to_string(), Class::Cosmetics),
            ("护肤".to_string(), Class::Cosmetics),
            ("otc".to_string(), Class::Drug),
            ("vitamins".to_string(), Class::Food),
            ("食品".to_string(), Class::Food),
        ];
        out.sort_by(|a, b| b.0.len().cmp(&a.0.len()));
        out
    }

    #[test]
    fn prefixes_first_then_the_deepest_segment_naming_a_class() {
        let e = entries();
        assert_eq!(classify("health/drugs/cold", &e), Class::Drug);
        assert_eq!(
            classify("Beauty > Skin Care > Serums", &e),
            Class::Cosmetics
        );
        assert_eq!(classify("美容护肤/面部精华", &e), Class::Cosmetics);
        assert_eq!(classify("Health & Household > Vitamins", &e), Class::Food);
        assert_eq!(classify("医药/OTC/感冒发烧", &e), Class::Drug);
        assert_eq!(classify("食品/保健食品/维生素", &e), Class::Food);
        assert_eq!(classify("Kitchen > Hotcake pans", &e), Class::General);
        assert_eq!(classify("", &e), Class::General);
    }
}
