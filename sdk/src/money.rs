//! Exact arithmetic on [`Money`]: compare, parse and format decimal amounts, never
//! through floats.

use std::cmp::Ordering;
use std::fmt;

use crate::prelude::Money;

/// The largest scale the contract allows (digits after the decimal point).
const MAX_SCALE: u8 = 18;

/// Why a decimal amount could not be read as [`Money`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyError {
    /// The amount is not a plain decimal like `19.90` or `-3`.
    NotADecimal(String),
    /// More than 18 digits after the decimal point.
    TooManyDecimals(String),
    /// The amount does not fit a 64-bit mantissa.
    TooLarge(String),
    /// The currency is not three upper-case ASCII letters.
    BadCurrency(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::NotADecimal(amount) => {
                write!(f, "`{amount}` is not a decimal amount like `19.90`")
            }
            MoneyError::TooManyDecimals(amount) => {
                write!(
                    f,
                    "`{amount}` has more than {MAX_SCALE} digits after the point"
                )
            }
            MoneyError::TooLarge(amount) => write!(f, "`{amount}` is too large"),
            MoneyError::BadCurrency(currency) => write!(
                f,
                "`{currency}` is not an ISO 4217 currency code like `CNY`"
            ),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// `mantissa × 10^(-scale)` units of `currency`.
    pub fn new(mantissa: i64, scale: u8, currency: impl Into<String>) -> Self {
        Money {
            mantissa,
            scale,
            currency: currency.into(),
        }
    }

    /// Read a contract amount: `Money::parse("19.90", "CNY")` is `1990 × 10^-2 CNY`.
    ///
    /// The amount is an optional `-`, digits, and optionally `.` and more digits (at most
    /// 18); the currency three upper-case letters. The scale is kept as written, so
    /// `19.9` and `19.90` differ in scale but compare equal with
    /// [`cmp_exact`](Self::cmp_exact).
    pub fn parse(amount: &str, currency: &str) -> Result<Money, MoneyError> {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError::BadCurrency(currency.to_string()));
        }
        let not_a_decimal = || MoneyError::NotADecimal(amount.to_string());
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
            Some(_) => return Err(not_a_decimal()),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(not_a_decimal());
        }
        let scale = u8::try_from(fraction.len())
            .ok()
            .filter(|scale| *scale <= MAX_SCALE)
            .ok_or_else(|| MoneyError::TooManyDecimals(amount.to_string()))?;
        let magnitude: i128 = format!("{whole}{fraction}")
            .parse()
            .map_err(|_| MoneyError::TooLarge(amount.to_string()))?;
        let signed = if negative { -magnitude } else { magnitude };
        let mantissa =
            i64::try_from(signed).map_err(|_| MoneyError::TooLarge(amount.to_string()))?;
        Ok(Money::new(mantissa, scale, currency))
    }

    /// The amount as a decimal string with exactly `scale` decimals: `19.90`, `-0.05`, `3`.
    pub fn to_decimal_string(&self) -> String {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        format!("{sign}{whole}.{fraction}")
    }

    /// Compare two amounts exactly, after bringing them to the larger scale.
    ///
    /// `None` when the currencies differ: amounts in different currencies are not
    /// comparable without an exchange rate. (`==` on `Money` compares the fields, so
    /// `19.9` and `19.90` are not `==`; use this instead.)
    pub fn cmp_exact(&self, other: &Money) -> Option<Ordering> {
        if self.currency != other.currency {
            return None;
        }
        Some(compare_scaled(
            self.mantissa,
            self.scale,
            other.mantissa,
            other.scale,
        ))
    }

    /// Whether both are the same amount in the same currency (`19.9 CNY` equals
    /// `19.90 CNY`).
    pub fn eq_exact(&self, other: &Money) -> bool {
        self.cmp_exact(other) == Some(Ordering::Equal)
    }
}

/// Compare `a × 10^-a_scale` with `b × 10^-b_scale` exactly.
fn compare_scaled(a: i64, a_scale: u8, b: i64, b_scale: u8) -> Ordering {
    match a_scale.cmp(&b_scale) {
        Ordering::Equal => a.cmp(&b),
        // Scale the one with fewer decimals up.
        Ordering::Less => compare_scaled_up(a, b_scale - a_scale, b),
        Ordering::Greater => compare_scaled_up(b, a_scale - b_scale, a).reverse(),
    }
}

/// Compare `a × 10^shift` with `b`.
fn compare_scaled_up(a: i64, shift: u8, b: i64) -> Ordering {
    if a == 0 {
        return 0.cmp(&b);
    }
    let scaled = 10_i128
        .checked_pow(u32::from(shift))
        .and_then(|factor| i128::from(a).checked_mul(factor));
    match scaled {
        Some(scaled) => scaled.cmp(&i128::from(b)),
        // `a` is not zero, so scaled up it exceeds any i64 in magnitude: its sign decides.
        None => {
            if a > 0 {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

impl fmt::Display for Money {
    /// `19.90 CNY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(amount: &str) -> Money {
        Money::parse(amount, "CNY").unwrap()
    }

    #[test]
    fn parse_keeps_the_written_scale() {
        assert_eq!(cny("19.90"), Money::new(1990, 2, "CNY"));
        assert_eq!(cny("-0.05"), Money::new(-5, 2, "CNY"));
        assert_eq!(cny("3"), Money::new(3, 0, "CNY"));
    }

    #[test]
    fn parse_refuses_what_is_not_a_plain_decimal() {
        for bad in [
            "", "-", "1.", ".5", "1e3", "+1", "1,5", " 1", "1.2.3", "--1",
        ] {
            assert!(
                matches!(Money::parse(bad, "CNY"), Err(MoneyError::NotADecimal(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Money::parse("0.0000000000000000001", "CNY"),
            Err(MoneyError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Money::parse("9223372036854775808", "CNY"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(matches!(
            Money::parse("1", "cny"),
            Err(MoneyError::BadCurrency(_))
        ));
    }

    #[test]
    fn formatting_round_trips() {
        for text in [
            "19.90",
            "-0.05",
            "3",
            "0.000000000000000001",
            "-9223372036854775808",
        ] {
            assert_eq!(cny(text).to_decimal_string(), text);
        }
        assert_eq!(cny("19.90").to_string(), "19.90 CNY");
    }

    #[test]
    fn amounts_compare_exactly_across_scales() {
        assert!(cny("19.9").eq_exact(&cny("19.90")));
        assert_eq!(
            cny("19.91").cmp_exact(&cny("19.9")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cny("-1").cmp_exact(&cny("-0.999999999999999999")),
            Some(Ordering::Less)
        );
        assert_eq!(cny("1").cmp_exact(&Money::parse("1", "EUR").unwrap()), None);
    }

    #[test]
    fn comparison_survives_scales_beyond_the_contract() {
        let tiny = Money::new(i64::MAX, 200, "CNY");
        assert_eq!(cny("1").cmp_exact(&tiny), Some(Ordering::Greater));
        assert_eq!(cny("-1").cmp_exact(&tiny), Some(Ordering::Less));
        assert_eq!(tiny.cmp_exact(&cny("0")), Some(Ordering::Greater));
    }
}
