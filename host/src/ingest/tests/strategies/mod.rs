//! Generators for the ingest properties: realistic contract events of every type, as
//! text the parser reads, with the [`Event`] it must give and the list of fields they
//! hold (so a property can break exactly one of them).
//!
//! An event is built as a [`Raw`] tree rather than a `serde_json::Value`, so that member
//! order is the one generated (listing `attributes` keep their order) and a member can be
//! duplicated or hold literal number text such as `-0`.
//!
//! - this module: the [`Raw`] tree, [`Field`]s and their [`Kind`]s, and the `Draft`
//!   that builds a tree and its field list together;
//! - `values`: ids, texts, timestamps, money, personal values;
//! - `events`: one strategy per event type, and [`any_event`].

mod events;
mod values;

use serde_json::Value;

use crate::model::event::Event;
use crate::model::money::Money;
use crate::model::time::Timestamp;

pub(super) use events::any_event;
pub(super) use values::{arb_json, key, type_names};

/// An optional member: absent (`None`), `null` (`Some(None)`) or a value.
pub(super) type Opt<T> = Option<Option<T>>;

/// A JSON tree that keeps members in order and may hold literal number text.
#[derive(Clone, Debug)]
pub(super) enum Raw {
    /// Any JSON value.
    Value(Value),
    /// JSON text written as is (`-0`, `18446744073709551616`).
    Literal(String),
    /// An object, members in order (duplicates allowed).
    Object(Vec<(String, Raw)>),
}

impl Raw {
    /// The JSON text: compact, or with a member per line (never for NDJSON).
    pub(super) fn text(&self, spaced: bool) -> String {
        let mut out = String::new();
        self.write(&mut out, spaced);
        out
    }

    fn write(&self, out: &mut String, spaced: bool) {
        match self {
            Raw::Value(value) => out.push_str(&value.to_string()),
            Raw::Literal(text) => out.push_str(text),
            Raw::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if spaced {
                        out.push_str("\n  ");
                    }
                    out.push_str(&Value::from(key.as_str()).to_string());
                    out.push_str(if spaced { ": " } else { ":" });
                    value.write(out, spaced);
                }
                out.push('}');
            }
        }
    }

    /// The members of the object at `path` (the root for `[]`).
    pub(super) fn members_mut(&mut self, path: &[String]) -> &mut Vec<(String, Raw)> {
        let Raw::Object(members) = self else {
            panic!("no object at {path:?}")
        };
        match path.split_first() {
            None => members,
            Some((first, rest)) => members
                .iter_mut()
                .find(|(key, _)| key == first)
                .unwrap_or_else(|| panic!("no member {first}"))
                .1
                .members_mut(rest),
        }
    }
}

/// What kind of value a field holds: decides how to break it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// An id (1–128 characters).
    Id,
    /// `buyer_id`: an id that is personal data (and must not be blank).
    PersonalId,
    /// `type`.
    Type,
    /// An RFC 3339 timestamp.
    Timestamp,
    /// A string of at most this many bytes.
    Text(usize),
    /// A money object.
    Money,
    /// A money object's `amount`.
    Amount,
    /// A money object's `currency`.
    Currency,
    /// A whole number in `min..=max`.
    Number(u64, u64),
    /// A boolean.
    Bool,
    /// An optional personal value (blank reads as absent).
    Personal,
    /// The `buyer` object.
    Object,
    /// The `attributes` object.
    Attributes,
    /// One attribute value.
    Attribute,
}

/// One member of a generated event.
#[derive(Clone, Debug)]
pub(super) struct Field {
    /// Its path: `["buyer", "ip"]`.
    pub(super) path: Vec<String>,
    /// What it holds.
    pub(super) kind: Kind,
    /// Whether deleting it makes the event invalid.
    pub(super) required: bool,
}

impl Field {
    /// The contract path errors name: `buyer.ip`.
    pub(super) fn name(&self) -> String {
        self.path.join(".")
    }
}

/// A generated event: its tree, its fields, and what parsing it must give.
#[derive(Clone, Debug)]
pub(super) struct Sample {
    pub(super) raw: Raw,
    pub(super) fields: Vec<Field>,
    pub(super) expected: Event,
}

/// A generated timestamp: its text and the instant it means.
#[derive(Clone, Debug)]
pub(super) struct Stamp {
    text: String,
    millis: Timestamp,
}

/// A generated money object and the [`Money`] it means.
#[derive(Clone, Debug)]
pub(super) struct Cash {
    amount: String,
    currency: String,
    money: Money,
}

/// Builds an event's (or a nested object's) members and fields together.
struct Draft {
    prefix: Vec<String>,
    members: Vec<(String, Raw)>,
    fields: Vec<Field>,
}

impl Draft {
    /// An event with its envelope: `event_id`, `type`, `occurred_at`.
    fn new(event_id: &str, type_name: &str, at: &Stamp) -> Draft {
        let mut draft = Draft::nested(Vec::new());
        draft.string("event_id", event_id, Kind::Id, true);
        draft.string("type", type_name, Kind::Type, true);
        draft.string("occurred_at", &at.text, Kind::Timestamp, true);
        draft
    }

    /// The members of an object at `prefix`.
    fn nested(prefix: Vec<String>) -> Draft {
        Draft {
            prefix,
            members: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Add member `name` holding `raw`, a field of `kind`.
    fn put(&mut self, name: &str, raw: Raw, kind: Kind, required: bool) {
        let mut path = self.prefix.clone();
        path.push(name.to_owned());
        self.members.push((name.to_owned(), raw));
        self.fields.push(Field {
            path,
            kind,
            required,
        });
    }

    /// Add a string member.
    fn string(&mut self, name: &str, value: &str, kind: Kind, required: bool) {
        self.put(name, Raw::Value(value.into()), kind, required);
    }

    /// An optional member: `make` puts the value itself.
    fn opt<T>(&mut self, name: &str, value: &Opt<T>, kind: Kind, make: impl FnOnce(&mut Self, &T)) {
        match value {
            None => {}
            Some(None) => self.put(name, Raw::Value(Value::Null), kind, false),
            Some(Some(value)) => make(self, value),
        }
    }

    /// Add an optional string member.
    fn opt_string(&mut self, name: &str, value: &Opt<String>, kind: Kind) {
        self.opt(name, value, kind, |d, v| d.string(name, v, kind, false));
    }

    /// Add a whole-number member whose rule is `min..=max`.
    fn number(&mut self, name: &str, n: u64, min: u64, max: u64, required: bool) {
        self.put(name, Raw::Value(n.into()), Kind::Number(min, max), required);
    }

    /// Add a money object, with its `amount` and `currency` as fields of their own.
    fn money(&mut self, name: &str, cash: &Cash, required: bool) {
        let mut sub = self.sub(name);
        sub.string("amount", &cash.amount, Kind::Amount, true);
        sub.string("currency", &cash.currency, Kind::Currency, true);
        self.adopt(name, sub, Kind::Money, required);
    }

    /// A draft for the object member `name`.
    fn sub(&self, name: &str) -> Draft {
        let mut prefix = self.prefix.clone();
        prefix.push(name.to_owned());
        Draft::nested(prefix)
    }

    /// Add the object `sub` as member `name`, with its fields.
    fn adopt(&mut self, name: &str, sub: Draft, kind: Kind, required: bool) {
        self.put(name, Raw::Object(sub.members), kind, required);
        self.fields.extend(sub.fields);
    }

    /// The sample, with what parsing it must give.
    fn finish(self, expected: Event) -> Sample {
        Sample {
            raw: Raw::Object(self.members),
            fields: self.fields,
            expected,
        }
    }
}
