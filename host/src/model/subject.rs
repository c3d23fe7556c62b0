//! What a verdict is about: a [`Subject`] is a listing, order, seller, complaint or
//! buyer (by pseudonym) id.
//!
//! The contract writes a subject as `{"type": "order", "id": "O-1001"}` and uses the same
//! names in URLs (`/v1/verdicts/order/O-1001`), so [`SubjectType`] owns those names
//! ([`SubjectType::as_str`], [`FromStr`]) and serde uses them too. Ordering is by kind
//! (listing, order, seller, complaint, buyer) then id, which gives deterministic lists.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of thing a verdict can be about; mirrors the WIT `subject-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// A listing, by `listing_id`.
    Listing,
    /// An order, by `order_id`.
    Order,
    /// A seller, by `seller_id`.
    Seller,
    /// A complaint, by `complaint_id`.
    Complaint,
    /// A buyer, by the keyed pseudonym of `buyer_id` (never the raw id).
    Buyer,
}

impl SubjectType {
    /// Every subject type, in order.
    pub const ALL: [SubjectType; 5] = [
        SubjectType::Listing,
        SubjectType::Order,
        SubjectType::Seller,
        SubjectType::Complaint,
        SubjectType::Buyer,
    ];

    /// The contract's name: `listing`, `order`, `seller` or `complaint`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Listing => "listing",
            SubjectType::Order => "order",
            SubjectType::Seller => "seller",
            SubjectType::Complaint => "complaint",
            SubjectType::Buyer => "buyer",
        }
    }
}

impl fmt::Display for SubjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subject type name that is none of `listing`, `order`, `seller`, `complaint`, `buyer`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown subject type \"{found}\"; expected one of: listing, order, seller, complaint, buyer"
)]
pub struct UnknownSubjectType {
    /// The name given (as sent).
    pub found: String,
}

impl FromStr for SubjectType {
    type Err = UnknownSubjectType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SubjectType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownSubjectType {
                found: name.to_owned(),
            })
    }
}

/// One subject: its kind and its id as sent in events. Serde form:
/// `{"type": "order", "id": "O-1"}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Subject {
    /// Which kind of subject.
    #[serde(rename = "type")]
    pub kind: SubjectType,
    /// Its id, as sent in events.
    pub id: String,
}

impl Subject {
    /// A subject of `kind` with `id`.
    pub fn new(kind: SubjectType, id: impl Into<String>) -> Self {
        Subject {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for Subject {
    /// `order/O-1`, the way the verdict URL names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for kind in SubjectType::ALL {
            assert_eq!(kind.as_str().parse::<SubjectType>(), Ok(kind));
        }
        let err = "customer".parse::<SubjectType>().unwrap_err();
        assert!(
            err.to_string()
                .contains("listing, order, seller, complaint, buyer"),
            "{err}"
        );
    }

    #[test]
    fn serde_form_is_type_and_id() {
        let subject = Subject::new(SubjectType::Order, "O-1");
        let json = serde_json::to_string(&subject).unwrap();
        assert_eq!(json, r#"{"type":"order","id":"O-1"}"#);
        assert_eq!(serde_json::from_str::<Subject>(&json).unwrap(), subject);
    }

    #[test]
    fn subjects_sort_by_kind_then_id() {
        let mut subjects = [
            Subject::new(SubjectType::Seller, "S-1"),
            Subject::new(SubjectType::Order, "O-2"),
            Subject::new(SubjectType::Listing, "L-9"),
            Subject::new(SubjectType::Order, "O-1"),
        ];
        subjects.sort();
        let names: Vec<String> = subjects.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["listing/L-9", "order/O-1", "order/O-2", "seller/S-1"]
        );
    }
}
