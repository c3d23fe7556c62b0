//! How each kind of personal value is normalised before hashing, so that spelling
//! variants of the same value give the same pseudonym.

use std::borrow::Cow;
use std::net::IpAddr;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use super::PersonalField;

/// The normalised form of `raw` for `kind`: what is actually hashed.
///
/// The result is still personal data; it must be hashed, never logged or stored.
pub fn normalise(kind: PersonalField, raw: &str) -> String {
    let folded = nfkc(raw);
    let text = folded.trim();
    match kind {
        PersonalField::BuyerId | PersonalField::DeviceId | PersonalField::PaymentFingerprint => {
            text.to_lowercase()
        }
        PersonalField::Ip => ip(text),
        PersonalField::Phone => phone(text),
        PersonalField::ShippingAddress => address(text),
    }
}

/// Unicode NFKC: full-width letters and digits become ASCII, compatibility forms fold.
fn nfkc(raw: &str) -> Cow<'_, str> {
    // Most values are ASCII or already NFKC; skip the allocation for them.
    if is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.nfkc().collect())
    }
}

/// The canonical text of an IP address (IPv4-mapped IPv6 as IPv4, IPv6 compressed and
/// lower case); anything unparseable falls back to lower case.
fn ip(text: &str) -> String {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => text.to_lowercase(),
    }
}

/// Digits only, with a leading `+` kept: `+86 (138) 0013-8000` → `+8613800138000`.
fn phone(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && out.is_empty()) {
            out.push(c);
        }
    }
    out
}

/// Lower case without whitespace or punctuation, so spacing and punctuation variants of
/// one address (`上海市 浦东新区，世纪大道100号` / `上海市浦东新区世纪大道100号`) match.
fn address(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_whitespace() && !is_punctuation(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// ASCII punctuation and the CJK / general punctuation seen in addresses. Letter-like
/// characters in the same blocks (`々`, `〇`, Hangzhou numerals) are kept.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{00A1}'..='\u{00BF}' // Latin-1 punctuation and symbols: ¡ § « · » ¿ …
            | '\u{2010}'..='\u{2027}' // dashes, quotes, bullets, ellipsis: – — ‘ ’ “ ” • …
            | '\u{2030}'..='\u{205E}' // per mille, primes, more quotes and marks
            | '\u{3000}'..='\u{3004}' // 　 、 。 〃 〄
            | '\u{3008}'..='\u{3020}' // 〈 〉 《 》 「 」 『 』 【 】 〒 〔 〕 〜 〝 〞 …
            | '\u{3030}' | '\u{3036}' | '\u{303D}'..='\u{303F}'
            | '\u{30FB}' // ・ katakana middle dot
            | '\u{FE10}'..='\u{FE1F}' // vertical forms
            | '\u{FE30}'..='\u{FE6F}' // CJK compatibility and small forms
            | '\u{FF01}'..='\u{FF0F}' // full-width ！ ＂ ＃ … ／ (if NFKC left any)
            | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_nfkc_trimmed_and_lower_case() {
        assert_eq!(normalise(PersonalField::BuyerId, "  U-1001\t"), "u-1001");
        assert_eq!(normalise(PersonalField::DeviceId, "ＤＥＶ－７"), "dev-7");
        assert_eq!(
            normalise(PersonalField::PaymentFingerprint, "Card:AB12"),
            "card:ab12"
        );
    }

    #[test]
    fn ips_take_their_canonical_form() {
        assert_eq!(
            normalise(PersonalField::Ip, " ::ffff:192.0.2.1 "),
            "192.0.2.1"
        );
        assert_eq!(
            normalise(PersonalField::Ip, "2001:DB8:0:0:0:0:0:1"),
            "2001:db8::1"
        );
        assert_eq!(normalise(PersonalField::Ip, "[2001:db8::1]"), "2001:db8::1");
        assert_eq!(normalise(PersonalField::Ip, "１９２.０.２.１"), "192.0.2.1");
        assert_eq!(normalise(PersonalField::Ip, "Not-An-IP"), "not-an-ip");
    }

    #[test]
    fn phones_keep_digits_and_a_leading_plus() {
        assert_eq!(
            normalise(PersonalField::Phone, "+86 (138) 0013-8000"),
            "+8613800138000"
        );
        assert_eq!(
            normalise(PersonalField::Phone, "138.0013.8000"),
            "13800138000"
        );
        assert_eq!(
            normalise(PersonalField::Phone, "＋８６ １３８００１３８０００"),
            "+8613800138000"
        );
        assert_eq!(normalise(PersonalField::Phone, "138+0013"), "1380013");
    }

    #[test]
    fn addresses_drop_spacing_punctuation_and_case() {
        let a = normalise(
            PersonalField::ShippingAddress,
            "上海市 浦东新区 世纪大道100号",
        );
        let b = normalise(
            PersonalField::ShippingAddress,
            "上海市浦东新区世纪大道100号",
        );
        let c = normalise(
            PersonalField::ShippingAddress,
            "上海市，浦东新区·世纪大道１００号",
        );
        let d = normalise(
            PersonalField::ShippingAddress,
            "上海市（浦东新区）世纪大道#100号。",
        );
        assert_eq!(a, "上海市浦东新区世纪大道100号");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(
            normalise(PersonalField::ShippingAddress, "Flat 3-B, 12 Main St."),
            "flat3b12mainst"
        );
    }

    #[test]
    fn letter_like_cjk_marks_are_kept_in_addresses() {
        assert_eq!(
            normalise(PersonalField::ShippingAddress, "佐々木 二〇二号"),
            "佐々木二〇二号"
        );
    }
}
