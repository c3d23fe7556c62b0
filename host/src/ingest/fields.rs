//! Typed, path-aware reads of one JSON object's members.
//!
//! Each reader applies one contract rule and, on failure, names the member by its full
//! contract path (`buyer.account_created_at`, `price.amount`, `attributes.color`). Absent
//! and `null` optional members both read as `None`.

use std::collections::HashSet;

use super::error::EventError;
use super::json::{Json, Number};
use super::limits::{MAX_ATTRIBUTES, MAX_ID_CHARS, MAX_STRING_BYTES};
use crate::model::event::Pseudonym;
use crate::model::money::{AMOUNT_MUST_BE_STRING, Money};
use crate::model::time::{Timestamp, parse_rfc3339};
use crate::privacy::{PersonalField, Pseudonymizer};

/// The members of one JSON object, with the path that leads to it.
pub(super) struct Fields<'a> {
    members: &'a [(String, Json)],
    prefix: String,
}

impl<'a> Fields<'a> {
    /// The members of an object found at `prefix` (`""` for the event itself).
    pub(super) fn new(members: &'a [(String, Json)], prefix: String) -> Self {
        Fields { members, prefix }
    }

    /// The contract path of member `name`.
    pub(super) fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Member `name` as sent (`null` included), refusing duplicates: a reader must not
    /// silently pick one of two different values.
    fn lookup(&self, name: &str) -> Result<Option<&'a Json>, EventError> {
        let mut found = None;
        for (key, value) in self.members {
            if key == name {
                if found.is_some() {
                    return Err(EventError::invalid(
                        self.path(name),
                        "appears more than once",
                    ));
                }
                found = Some(value);
            }
        }
        Ok(found)
    }

    fn optional(&self, name: &str) -> Result<Option<&'a Json>, EventError> {
        Ok(self
            .lookup(name)?
            .filter(|value| !matches!(value, Json::Null)))
    }

    fn required(&self, name: &str, expected: &str) -> Result<&'a Json, EventError> {
        match self.lookup(name)? {
            None => Err(EventError::missing(self.path(name))),
            Some(Json::Null) => Err(self.wrong(name, expected, &Json::Null)),
            Some(value) => Ok(value),
        }
    }

    fn wrong(&self, name: &str, expected: &str, found: &Json) -> EventError {
        EventError::invalid(
            self.path(name),
            format!("must be {expected}, found {}", found.describe()),
        )
    }

    fn string(&self, name: &str, value: &'a Json) -> Result<&'a str, EventError> {
        match value {
            Json::String(text) => Ok(text),
            other => Err(self.wrong(name, "a string", other)),
        }
    }

    fn check_bytes(&self, name: &str, text: &str, max: usize) -> Result<(), EventError> {
        if text.len() > max {
            return Err(EventError::invalid(
                self.path(name),
                format!(
                    "is {} bytes long; at most {max} bytes are accepted",
                    text.len()
                ),
            ));
        }
        Ok(())
    }

    fn check_id(&self, name: &str, id: &str) -> Result<(), EventError> {
        // A string of at most 128 bytes has at most 128 characters: count only longer ones.
        let chars = if id.len() <= MAX_ID_CHARS {
            id.len().min(1)
        } else {
            id.chars().count()
        };
        if chars == 0 {
            return Err(EventError::invalid(
                self.path(name),
                format!("must not be empty (ids are 1–{MAX_ID_CHARS} characters)"),
            ));
        }
        if chars > MAX_ID_CHARS {
            return Err(EventError::invalid(
                self.path(name),
                format!("is {chars} characters long; ids are 1–{MAX_ID_CHARS} characters"),
            ));
        }
        Ok(())
    }

    /// A required id: a string of 1–128 characters.
    pub(super) fn id(&self, name: &str) -> Result<String, EventError> {
        let id = self.string(name, self.required(name, "a string")?)?;
        self.check_id(name, id)?;
        Ok(id.to_owned())
    }

    /// An optional id.
    pub(super) fn opt_id(&self, name: &str) -> Result<Option<String>, EventError> {
        self.optional(name)?
            .map(|value| {
                let id = self.string(name, value)?;
                self.check_id(name, id)?;
                Ok(id.to_owned())
            })
            .transpose()
    }

    /// A required string of at most `max` bytes.
    pub(super) fn text(&self, name: &str, max: usize) -> Result<String, EventError> {
        let text = self.string(name, self.required(name, "a string")?)?;
        self.check_bytes(name, text, max)?;
        Ok(text.to_owned())
    }

    /// An optional string of at most `max` bytes.
    pub(super) fn opt_text(&self, name: &str, max: usize) -> Result<Option<String>, EventError> {
        self.optional(name)?
            .map(|value| {
                let text = self.string(name, value)?;
                self.check_bytes(name, text, max)?;
                Ok(text.to_owned())
            })
            .transpose()
    }

    /// An optional free-text field (a review, a complaint, a reason, a parcel number), with
    /// the personal values people type into it masked
    /// ([`mask_free_text`](crate::privacy::mask_free_text)) before anything
    /// stores it or shows it to a plugin.
    pub(super) fn opt_free_text(
        &self,
        name: &str,
        max: usize,
    ) -> Result<Option<String>, EventError> {
        Ok(self
            .opt_text(name, max)?
            .map(|text| match crate::privacy::mask_free_text(&text) {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(masked) => masked,
            }))
    }

    /// The contract `type`, as sent.
    pub(super) fn type_name(&self) -> Result<&'a str, EventError> {
        self.string("type", self.required("type", "a string")?)
    }

    fn parse_timestamp(&self, name: &str, value: &Json) -> Result<Timestamp, EventError> {
        let text = match value {
            Json::String(text) => text,
            other => return Err(self.wrong(name, "an RFC 3339 timestamp string", other)),
        };
        parse_rfc3339(text).map_err(|err| EventError::invalid(self.path(name), err.to_string()))
    }

    /// A required RFC 3339 timestamp with offset.
    pub(super) fn timestamp(&self, name: &str) -> Result<Timestamp, EventError> {
        let value = self.required(name, "an RFC 3339 timestamp string")?;
        self.parse_timestamp(name, value)
    }

    /// An optional RFC 3339 timestamp with offset.
    pub(super) fn opt_timestamp(&self, name: &str) -> Result<Option<Timestamp>, EventError> {
        self.optional(name)?
            .map(|value| self.parse_timestamp(name, value))
            .transpose()
    }

    fn parse_money(&self, name: &str, value: &Json) -> Result<Money, EventError> {
        let money = self.object(name, value)?;
        let amount = match money.required("amount", "a decimal string like \"19.90\"")? {
            Json::String(text) => text,
            Json::Number(_) => {
                return Err(EventError::invalid(
                    money.path("amount"),
                    AMOUNT_MUST_BE_STRING,
                ));
            }
            other => return Err(money.wrong("amount", "a decimal string like \"19.90\"", other)),
        };
        let currency = money.string("currency", money.required("currency", "a string")?)?;
        let parsed = Money::parse(amount, currency)
            .map_err(|err| EventError::invalid(money.path(err.part()), err.to_string()))?;
        if !super::is_iso_4217(currency) {
            return Err(EventError::invalid(
                money.path("currency"),
                format!("`{currency}` is not an ISO 4217 currency code (e.g. \"CNY\", \"USD\")"),
            ));
        }
        // Prices, totals and refunds are amounts paid or asked: none is below zero.
        if parsed.mantissa < 0 {
            return Err(EventError::invalid(
                money.path("amount"),
                format!("must not be negative, got \"{amount}\""),
            ));
        }
        Ok(parsed)
    }

    /// A required money object `{"amount": "19.90", "currency": "CNY"}`.
    pub(super) fn money(&self, name: &str) -> Result<Money, EventError> {
        let value = self.required(
            name,
            "a money object like {\"amount\": \"19.90\", \"currency\": \"CNY\"}",
        )?;
        self.parse_money(name, value)
    }

    /// An optional money object.
    pub(super) fn opt_money(&self, name: &str) -> Result<Option<Money>, EventError> {
        self.optional(name)?
            .map(|value| self.parse_money(name, value))
            .transpose()
    }

    /// An optional boolean.
    pub(super) fn opt_bool(&self, name: &str) -> Result<Option<bool>, EventError> {
        self.optional(name)?
            .map(|value| match value {
                Json::Bool(flag) => Ok(*flag),
                other => Err(self.wrong(name, "true or false", other)),
            })
            .transpose()
    }

    fn whole_number(
        &self,
        name: &str,
        value: &Json,
        min: u64,
        max: u64,
    ) -> Result<u64, EventError> {
        let found = match value {
            Json::Number(Number::Unsigned(n)) if (min..=max).contains(n) => return Ok(*n),
            Json::Number(Number::Unsigned(n)) => n.to_string(),
            Json::Number(Number::Negative(n)) => n.to_string(),
            Json::Number(Number::Float(n)) => n.to_string(),
            other => other.describe().to_owned(),
        };
        Err(EventError::invalid(
            self.path(name),
            format!("must be a whole number from {min} to {max}, found {found}"),
        ))
    }

    /// A required whole number in `min..=u32::MAX`.
    pub(super) fn count(&self, name: &str, min: u32) -> Result<u32, EventError> {
        let value = self.required(name, "a whole number")?;
        let n = self.whole_number(name, value, u64::from(min), u64::from(u32::MAX))?;
        // In range by the check above.
        Ok(n as u32)
    }

    /// An optional whole number in `0..=u32::MAX`.
    pub(super) fn opt_count(&self, name: &str) -> Result<Option<u32>, EventError> {
        self.optional(name)?
            .map(|value| Ok(self.whole_number(name, value, 0, u64::from(u32::MAX))? as u32))
            .transpose()
    }

    /// A required whole number in `range`.
    pub(super) fn small_number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u8>,
    ) -> Result<u8, EventError> {
        let value = self.required(name, "a whole number")?;
        let (min, max) = (u64::from(*range.start()), u64::from(*range.end()));
        Ok(self.whole_number(name, value, min, max)? as u8)
    }

    /// A required personal id (1–128 characters), pseudonymised.
    pub(super) fn personal_id(
        &self,
        name: &str,
        kind: PersonalField,
        pseudonymizer: &Pseudonymizer,
    ) -> Result<Pseudonym, EventError> {
        let raw = self.string(name, self.required(name, "a string")?)?;
        self.check_id(name, raw)?;
        pseudonymizer
            .pseudonymize_present(kind, raw)
            .ok_or_else(|| EventError::invalid(self.path(name), "must not be blank"))
    }

    /// An optional personal value, pseudonymised; a blank value reads as absent.
    pub(super) fn opt_personal(
        &self,
        name: &str,
        kind: PersonalField,
        pseudonymizer: &Pseudonymizer,
    ) -> Result<Option<Pseudonym>, EventError> {
        let Some(value) = self.optional(name)? else {
            return Ok(None);
        };
        let raw = self.string(name, value)?;
        self.check_bytes(name, raw, MAX_STRING_BYTES)?;
        if kind == PersonalField::Ip && !raw.trim().is_empty() && !is_ip_address(raw) {
            // Not echoed: it is personal data.
            return Err(EventError::invalid(
                self.path(name),
                "not an IPv4 or IPv6 address (like \"203.0.113.7\" or \"2001:db8::1\")",
            ));
        }
        Ok(pseudonymizer.pseudonymize_present(kind, raw))
    }

    fn object(&self, name: &str, value: &'a Json) -> Result<Fields<'a>, EventError> {
        match value {
            Json::Object(members) => Ok(Fields::new(members, self.path(name))),
            other => Err(self.wrong(name, "an object", other)),
        }
    }

    /// An optional nested object.
    pub(super) fn opt_object(&self, name: &str) -> Result<Option<Fields<'a>>, EventError> {
        self.optional(name)?
            .map(|value| self.object(name, value))
            .transpose()
    }

    /// Optional attributes: an object of string → string, order kept.
    pub(super) fn attributes(&self, name: &str) -> Result<Vec<(String, String)>, EventError> {
        let Some(value) = self.optional(name)? else {
            return Ok(Vec::new());
        };
        let Json::Object(members) = value else {
            return Err(self.wrong(name, "an object of string → string", value));
        };
        if members.len() > MAX_ATTRIBUTES {
            return Err(EventError::invalid(
                self.path(name),
                format!(
                    "has {} entries; at most {MAX_ATTRIBUTES} are accepted",
                    members.len()
                ),
            ));
        }
        let attributes = Fields::new(members, self.path(name));
        let mut seen = HashSet::with_capacity(members.len());
        let mut out = Vec::with_capacity(members.len());
        for (key, value) in members {
            // Name problems are reported on `attributes`: the name itself makes a poor path.
            if key.is_empty() {
                return Err(EventError::invalid(
                    self.path(name),
                    "attribute names must not be empty",
                ));
            }
            if key.len() > MAX_STRING_BYTES {
                return Err(EventError::invalid(
                    self.path(name),
                    format!(
                        "an attribute name is {} bytes long; at most {MAX_STRING_BYTES} bytes are accepted",
                        key.len()
                    ),
                ));
            }
            if !seen.insert(key.as_str()) {
                return Err(EventError::invalid(
                    attributes.path(key),
                    "appears more than once",
                ));
            }
            let text = attributes.string(key, value)?;
            attributes.check_bytes(key, text, MAX_STRING_BYTES)?;
            out.push((key.clone(), text.to_owned()));
        }
        Ok(out)
    }
}

/// Whether `raw` is an IP address as a client sends it: IPv4, IPv6 (also in brackets),
/// with surrounding spaces and full-width digits allowed, as the pseudonymiser folds them.
fn is_ip_address(raw: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = raw.trim().nfkc().collect();
    let bare = folded
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(&folded);
    bare.parse::<std::net::IpAddr>().is_ok()
}
