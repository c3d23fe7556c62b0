//! Pseudonymisation: turning personal values into keyed pseudonyms before anything else
//! sees them.
//!
//! The contract promises that plugins "can tell that two values are equal, never what
//! they are", and that raw personal data never reaches disk or logs. This module owns
//! that promise: [`Pseudonymizer::pseudonymize`] computes
//!
//! ```text
//! hex(HMAC-SHA256(key, kind-tag || 0x00 || normalise(kind, raw))[..16])
//! ```
//!
//! - **Keyed**, so a pseudonym cannot be reversed by hashing guesses without the key.
//! - **Domain-separated** by [`PersonalField`], so a phone number and a buyer id with the
//!   same text never collide.
//! - **Normalised** first ([`normalise()`]), so `上海市 浦东新区 世纪大道100号` and
//!   `上海市浦东新区世纪大道１００号` are the same address and `+86 138-0013-8000` the same
//!   phone as `+8613800138000`.
//!
//! Nothing here implements `Debug` over raw values, and [`Pseudonymizer`]'s `Debug` hides
//! the key. This module knows nothing of events or JSON; [`crate::ingest`] calls it.
//!
//! ```
//! use probity::privacy::{PersonalField, Pseudonymizer};
//! let p = Pseudonymizer::new(b"a-secret-of-at-least-16-bytes").unwrap();
//! let a = p.pseudonymize(PersonalField::Phone, "+86 138-0013-8000");
//! let b = p.pseudonymize(PersonalField::Phone, "+8613800138000");
//! assert_eq!(a, b);
//! assert_eq!(a.as_str().len(), 32);
//! ```

mod mask;
mod normalise;

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::event::Pseudonym;

pub use mask::mask_free_text;
pub use normalise::normalise;

/// The shortest key [`Pseudonymizer::new`] accepts, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// How many bytes of the HMAC output a pseudonym keeps (its hex text is twice as long).
pub const PSEUDONYM_BYTES: usize = 16;

/// The kinds of personal data the contract names; each has its own normalisation and
/// its own hash domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonalField {
    /// `buyer_id`.
    BuyerId,
    /// `buyer.device_id`.
    DeviceId,
    /// `buyer.ip`.
    Ip,
    /// `buyer.shipping_address`.
    ShippingAddress,
    /// `buyer.phone`.
    Phone,
    /// `payment_fingerprint`.
    PaymentFingerprint,
}

impl PersonalField {
    /// Every kind of personal field.
    pub const ALL: [PersonalField; 6] = [
        PersonalField::BuyerId,
        PersonalField::DeviceId,
        PersonalField::Ip,
        PersonalField::ShippingAddress,
        PersonalField::Phone,
        PersonalField::PaymentFingerprint,
    ];

    /// The domain-separation tag hashed before the value: the contract field name.
    pub fn tag(self) -> &'static str {
        match self {
            PersonalField::BuyerId => "buyer_id",
            PersonalField::DeviceId => "device_id",
            PersonalField::Ip => "ip",
            PersonalField::ShippingAddress => "shipping_address",
            PersonalField::Phone => "phone",
            PersonalField::PaymentFingerprint => "payment_fingerprint",
        }
    }
}

/// Why a pseudonym key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is too short to be a secret.
    #[error(
        "the pseudonym key is {len} bytes; at least {MIN_KEY_BYTES} are required (use a long random secret)"
    )]
    TooShort {
        /// The key's length in bytes.
        len: usize,
    },
}

/// Computes keyed pseudonyms. Cheap to clone and to call: the keyed HMAC state is
/// prepared once and cloned per value.
#[derive(Clone)]
pub struct Pseudonymizer {
    keyed: Hmac<Sha256>,
}

impl Pseudonymizer {
    /// A pseudonymizer for `key`, which must be at least [`MIN_KEY_BYTES`] long.
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        let too_short = KeyError::TooShort { len: key.len() };
        if key.len() < MIN_KEY_BYTES {
            return Err(too_short);
        }
        // HMAC takes keys of any length; the error case cannot happen here.
        let keyed = Hmac::<Sha256>::new_from_slice(key).map_err(|_| too_short)?;
        Ok(Pseudonymizer { keyed })
    }

    /// The pseudonym of the personal value `raw` of kind `kind` (normalised first).
    pub fn pseudonymize(&self, kind: PersonalField, raw: &str) -> Pseudonym {
        self.hash(kind, &normalise(kind, raw))
    }

    /// Like [`pseudonymize`](Self::pseudonymize), but `None` when the value normalises to
    /// nothing (`""`, `"  "`, a phone of only dashes): such values carry no identity, and
    /// hashing them would make every blank value "equal".
    pub fn pseudonymize_present(&self, kind: PersonalField, raw: &str) -> Option<Pseudonym> {
        let normalised = normalise(kind, raw);
        (!normalised.is_empty()).then(|| self.hash(kind, &normalised))
    }

    fn hash(&self, kind: PersonalField, normalised: &str) -> Pseudonym {
        let mut mac = self.keyed.clone();
        mac.update(kind.tag().as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        let digest = mac.finalize().into_bytes();
        Pseudonym::from_stored(hex::encode(&digest[..PSEUDONYM_BYTES]))
    }
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests;
