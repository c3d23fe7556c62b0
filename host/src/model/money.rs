//! Exact money: [`Money`] is `mantissa × 10^(-scale)` units of a currency.
//!
//! The contract sends money as `{"amount": "19.90", "currency": "CNY"}` with the amount
//! as a decimal *string*, because a float cannot hold 0.1 exactly and a price check that
//! compares `19.9` with `19.90000000001` is a bug report waiting to happen. This module
//! owns that text form: [`Money::parse`] reads it, [`Display`](std::fmt::Display) writes
//! it back digit for digit, serde uses it, and [`Money::compare`] compares two amounts
//! exactly. The fields mirror the WIT `money` record so conversion to the plugin ABI is a
//! field-by-field copy.

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most significant digits (leading zeros excluded) an amount may have: with 18 the
/// mantissa always fits an `i64`.
pub const MAX_SIGNIFICANT_DIGITS: usize = 18;

/// The most digits an amount may have after the decimal point.
pub const MAX_SCALE: u8 = 18;

/// The message for an amount sent as a JSON number instead of a string.
pub const AMOUNT_MUST_BE_STRING: &str = "amount must be a decimal string like \"19.90\"";

/// An exact amount of money.
///
/// `PartialEq` is structural: `19.9 CNY` and `19.90 CNY` are different values (they were
/// sent differently) but [`Money::compare`] says they are the same amount.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount with the decimal point removed (may be negative).
    pub mantissa: i64,
    /// How many digits of `mantissa` are after the decimal point (0–18).
    pub scale: u8,
    /// The ISO 4217 currency code, three upper-case letters, e.g. `CNY`.
    pub currency: String,
}

/// Why an amount or currency is not acceptable. [`MoneyError::part`] says which of the
/// two contract fields is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The amount is not `-?digits(.digits)?`.
    #[error(
        "amount must be a decimal string like \"19.90\": an optional `-`, digits, then optionally `.` and more digits"
    )]
    AmountSyntax,
    /// The amount has more significant digits than an exact 64-bit mantissa holds.
    #[error(
        "amount has {digits} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are supported"
    )]
    TooManyDigits {
        /// How many significant digits it has.
        digits: usize,
    },
    /// The amount has too many digits after the decimal point.
    #[error("amount has {scale} digits after the decimal point; at most {MAX_SCALE} are supported")]
    ScaleTooLarge {
        /// How many fraction digits it has.
        scale: usize,
    },
    /// The currency is not three upper-case ASCII letters.
    #[error("currency must be an ISO 4217 code of exactly 3 upper-case letters, like \"CNY\"")]
    Currency,
}

impl MoneyError {
    /// The contract field at fault: `"amount"` or `"currency"`.
    pub fn part(&self) -> &'static str {
        match self {
            MoneyError::Currency => "currency",
            _ => "amount",
        }
    }
}

impl Money {
    /// Parse the contract form: `amount` a decimal string, `currency` an ISO 4217 code.
    ///
    /// ```
    /// use probity::model::money::Money;
    /// let price = Money::parse("19.90", "CNY").unwrap();
    /// assert_eq!((price.mantissa, price.scale), (1990, 2));
    /// assert_eq!(price.to_string(), "19.90");
    /// assert!(Money::parse("19.90", "cny").is_err());
    /// ```
    pub fn parse(amount: &str, currency: &str) -> Result<Money, MoneyError> {
        let (mantissa, scale) = parse_amount(amount)?;
        check_currency(currency)?;
        Ok(Money {
            mantissa,
            scale,
            currency: currency.to_owned(),
        })
    }

    /// Compare two amounts exactly, whatever their scales; `None` when the currencies
    /// differ (there is no exchange rate here).
    ///
    /// ```
    /// use probity::model::money::Money;
    /// use std::cmp::Ordering;
    /// let a = Money::parse("19.9", "CNY").unwrap();
    /// let b = Money::parse("19.90", "CNY").unwrap();
    /// assert_eq!(a.compare(&b), Some(Ordering::Equal));
    /// ```
    pub fn compare(&self, other: &Money) -> Option<Ordering> {
        (self.currency == other.currency)
            .then(|| compare_decimals(self.mantissa, self.scale, other.mantissa, other.scale))
    }
}

/// Split a decimal amount string into `(mantissa, scale)`.
pub fn parse_amount(amount: &str) -> Result<(i64, u8), MoneyError> {
    let (negative, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((int_part, frac_part)) => (int_part, frac_part),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let has_dot = unsigned.len() != int_part.len();
    if int_part.is_empty()
        || !all_digits(int_part)
        || !all_digits(frac_part)
        || (has_dot && frac_part.is_empty())
    {
        return Err(MoneyError::AmountSyntax);
    }
    if frac_part.len() > usize::from(MAX_SCALE) {
        return Err(MoneyError::ScaleTooLarge {
            scale: frac_part.len(),
        });
    }
    let digits = int_part.bytes().chain(frac_part.bytes());
    let significant = digits.clone().skip_while(|&b| b == b'0').count();
    if significant > MAX_SIGNIFICANT_DIGITS {
        return Err(MoneyError::TooManyDigits {
            digits: significant,
        });
    }
    // At most 18 significant digits: cannot overflow an i64.
    let magnitude = digits.fold(0_i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    let mantissa = if negative { -magnitude } else { magnitude };
    // frac_part.len() <= 18 was checked above.
    Ok((mantissa, frac_part.len() as u8))
}

fn check_currency(currency: &str) -> Result<(), MoneyError> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(MoneyError::Currency)
    }
}

/// `a × 10^-sa` against `b × 10^-sb`, exactly, for any scales.
fn compare_decimals(a: i64, sa: u8, b: i64, sb: u8) -> Ordering {
    let (a, b) = (i128::from(a), i128::from(b));
    let diff = u32::from(sa.abs_diff(sb));
    // |mantissa| < 2^63 < 10^19, so up to 10^19 more stays below i128::MAX (≈1.7×10^38).
    if diff <= 19 {
        let factor = 10_i128.pow(diff);
        return if sa >= sb {
            a.cmp(&(b * factor))
        } else {
            (a * factor).cmp(&b)
        };
    }
    // The finer-scaled value is below 10^19 × 10^-(coarse + 20) < 10^-coarse in absolute
    // value, so a non-zero coarser value decides by its sign alone.
    let (coarse, fine, coarse_is_a) = if sa < sb { (a, b, true) } else { (b, a, false) };
    let ordering = if coarse != 0 {
        coarse.cmp(&0)
    } else {
        0.cmp(&fine)
    };
    if coarse_is_a {
        ordering
    } else {
        ordering.reverse()
    }
}

impl fmt::Display for Money {
    /// The amount as the contract's decimal string (`19.90`, `-0.05`), without the
    /// currency; the scale is kept, so trailing zeros are written back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Contract<'a> {
            amount: String,
            currency: &'a str,
        }
        Contract {
            amount: self.to_string(),
            currency: &self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Contract {
            #[serde(deserialize_with = "amount_string")]
            amount: String,
            currency: String,
        }
        let raw = Contract::deserialize(deserializer)?;
        Money::parse(&raw.amount, &raw.currency).map_err(de::Error::custom)
    }
}

/// An amount field: a string, with a clear message when a number was sent instead.
fn amount_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct AmountVisitor;

    impl Visitor<'_> for AmountVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(AMOUNT_MUST_BE_STRING)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
            Err(E::custom(AMOUNT_MUST_BE_STRING))
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
            Err(E::custom(AMOUNT_MUST_BE_STRING))
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
            Err(E::custom(AMOUNT_MUST_BE_STRING))
        }
    }

    deserializer.deserialize_any(AmountVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str) -> Money {
        Money::parse(amount, "CNY").unwrap()
    }

    #[test]
    fn decimal_strings_parse_to_mantissa_and_scale() {
        assert_eq!(
            money("19.90"),
            Money {
                mantissa: 1990,
                scale: 2,
                currency: "CNY".into()
            }
        );
        assert_eq!((money("0").mantissa, money("0").scale), (0, 0));
        assert_eq!((money("-0.05").mantissa, money("-0.05").scale), (-5, 2));
        assert_eq!((money("007.5").mantissa, money("007.5").scale), (75, 1));
    }

    #[test]
    fn display_writes_the_amount_back_digit_for_digit() {
        for text in [
            "19.90",
            "0",
            "-0.05",
            "1000",
            "0.000000000000000001",
            "999999999999999999",
        ] {
            assert_eq!(money(text).to_string(), text);
        }
        assert_eq!(money("-0.00").to_string(), "0.00");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for text in [
            "", "-", "+1", "1.", ".5", "1e3", "1,000", " 1", "1.2.3", "--1", "NaN", "１",
        ] {
            assert_eq!(
                parse_amount(text),
                Err(MoneyError::AmountSyntax),
                "{text:?}"
            );
        }
    }

    #[test]
    fn eighteen_significant_digits_is_the_limit() {
        assert!(parse_amount("999999999999999999").is_ok());
        assert!(parse_amount("0000999999999999999999.0").is_err());
        assert_eq!(
            parse_amount("1000000000000000000"),
            Err(MoneyError::TooManyDigits { digits: 19 })
        );
        assert_eq!(
            parse_amount("0.100000000000000000"),
            Ok((100_000_000_000_000_000, 18))
        );
        assert_eq!(
            parse_amount("0.0000000000000000001"),
            Err(MoneyError::ScaleTooLarge { scale: 19 })
        );
    }

    #[test]
    fn currency_must_be_three_upper_case_letters() {
        for currency in ["cny", "CN", "CNYY", "C1Y", "", "ＣＮＹ"] {
            assert_eq!(
                Money::parse("1", currency),
                Err(MoneyError::Currency),
                "{currency:?}"
            );
        }
        assert_eq!(MoneyError::Currency.part(), "currency");
        assert_eq!(MoneyError::AmountSyntax.part(), "amount");
    }

    #[test]
    fn compare_is_exact_across_scales() {
        assert_eq!(
            money("19.9").compare(&money("19.90")),
            Some(Ordering::Equal)
        );
        assert_eq!(money("19.89").compare(&money("19.9")), Some(Ordering::Less));
        assert_eq!(
            money("-1").compare(&money("-0.999999999999999999")),
            Some(Ordering::Less)
        );
        let eur = Money::parse("19.90", "EUR").unwrap();
        assert_eq!(money("19.90").compare(&eur), None);
    }

    #[test]
    fn compare_survives_extreme_scale_differences() {
        let huge = Money {
            mantissa: i64::MAX,
            scale: 0,
            currency: "CNY".into(),
        };
        let tiny = Money {
            mantissa: i64::MAX,
            scale: 200,
            currency: "CNY".into(),
        };
        let zero = Money {
            mantissa: 0,
            scale: 0,
            currency: "CNY".into(),
        };
        let neg_tiny = Money {
            mantissa: -1,
            scale: 90,
            currency: "CNY".into(),
        };
        assert_eq!(huge.compare(&tiny), Some(Ordering::Greater));
        assert_eq!(tiny.compare(&huge), Some(Ordering::Less));
        assert_eq!(zero.compare(&tiny), Some(Ordering::Less));
        assert_eq!(neg_tiny.compare(&zero), Some(Ordering::Less));
        let a = Money {
            mantissa: i64::MIN,
            scale: 0,
            currency: "CNY".into(),
        };
        let b = Money {
            mantissa: i64::MIN,
            scale: 19,
            currency: "CNY".into(),
        };
        assert_eq!(a.compare(&b), Some(Ordering::Less));
    }

    #[test]
    fn serde_uses_the_contract_form() {
        let json = serde_json::to_string(&money("19.90")).unwrap();
        assert_eq!(json, r#"{"amount":"19.90","currency":"CNY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, money("19.90"));
    }

    #[test]
    fn deserializing_a_number_amount_says_it_must_be_a_string() {
        let err = serde_json::from_str::<Money>(r#"{"amount": 19.9, "currency": "CNY"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains(AMOUNT_MUST_BE_STRING), "{err}");
    }
}
