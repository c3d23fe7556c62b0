//! Masking personal data that buyers and sellers type into free text.
//!
//! Pseudonyms cover the contract's personal *fields*, but people also write their phone
//! number into a complaint, an e-mail address into a review or a card number into a
//! refund reason. Those would be stored in the event log for good and shown to plugins.
//! [`mask_free_text`] replaces each such value with a fixed tag before anything is stored
//! or shown: `[email]`, `[card]` (13–19 digits passing the Luhn check), `[id-card]` (a
//! Chinese resident ID: 17 digits and a digit or `X`) and `[phone]` (7–15 digits, with
//! the spaces, dashes, dots and brackets people write, optionally after `+`). A run of
//! letters and digits such as a parcel number (`SF1234567890`) is not a phone number.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("a valid pattern")
});

/// Digit runs with the separators people type (checked for what surrounds them below).
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[+(（]?[0-9０-９][0-9０-９ \-.()（）]{5,30}[0-9０-９Xx]").expect("a valid pattern")
});

/// A date written with separators (`2026-11-01`, `2026.11.1`): not a phone number.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{4}[\-./][0-9]{1,2}[\-./][0-9]{1,2}$").expect("a valid pattern")
});

/// `text` with e-mail addresses, card numbers, ID-card numbers and phone numbers
/// replaced by tags; borrowed when nothing was found.
pub fn mask_free_text(text: &str) -> Cow<'_, str> {
    let text = match EMAIL.replace_all(text, "[email]") {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(masked) => Cow::Owned(masked),
    };
    if !NUMBER.is_match(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for found in NUMBER.find_iter(&text) {
        // A run glued to an ASCII letter or digit is part of an id or a parcel number
        // (`SF1234567890`); next to Chinese text (`电话13800138000`) it is not.
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '+');
        let before = text[..found.start()].chars().next_back();
        let after = text[found.end()..].chars().next();
        let run = found.as_str().trim_end();
        let tag = if glued(before) || glued(after) || DATE.is_match(run) {
            None
        } else {
            classify(run)
        };
        if let Some(tag) = tag {
            out.push_str(&text[copied..found.start()]);
            out.push_str(tag);
            copied = found.start() + run.len();
        }
    }
    if copied == 0 {
        return text;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// What a digit run is, if it is personal: its tag.
fn classify(run: &str) -> Option<&'static str> {
    let digits: Vec<u32> = run
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => c.to_digit(10),
            '０'..='９' => Some(c as u32 - '０' as u32),
            _ => None,
        })
        .collect();
    let x_last = run.ends_with(['X', 'x']);
    if x_last {
        return (digits.len() == 17).then_some("[id-card]");
    }
    match digits.len() {
        13..=19 if luhn(&digits) => Some("[card]"),
        18 => Some("[id-card]"),
        7..=15 => Some("[phone]"),
        _ => None,
    }
}

/// The Luhn check of card numbers.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::mask_free_text;

    #[test]
    fn personal_values_in_free_text_are_masked() {
        let cases = [
            ("call me 138-0013-8000 please", "call me [phone] please"),
            ("电话：+86 138 0013 8000，谢谢", "电话：[phone]，谢谢"),
            ("mail zhang.san@example.com.cn now", "mail [email] now"),
            (
                "card 4111 1111 1111 1111 was charged",
                "card [card] was charged",
            ),
            ("身份证110101199003074477退款", "身份证[id-card]退款"),
            ("id 11010119900307447X", "id [id-card]"),
            ("(021) 6888-1234", "[phone]"),
            ("电话13800138000，地址见订单", "电话[phone]，地址见订单"),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_free_text(raw), masked, "{raw}");
        }
    }

    #[test]
    fn ordinary_text_numbers_and_parcel_ids_are_left_alone() {
        for raw in [
            "SF1234567890",
            "还没发货",
            "arrived in 3 days, 5 stars",
            "order O-1001 of 2026-11-01",
            "weight 420 g",
            "",
        ] {
            assert_eq!(mask_free_text(raw), raw, "{raw}");
        }
    }
}
