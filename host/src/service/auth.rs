//! Bearer tokens: kept only as SHA-256 hashes, checked in constant time.
//!
//! A presented token is hashed and compared with every configured hash using
//! [`subtle`], without stopping at the first match, so timing tells nothing about which
//! hash (or how much of one) matched. The configured set is swapped atomically on reload.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AuthConfig, Role};

/// The SHA-256 of a token, as hex: what `[[auth.tokens]] sha256` holds.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token (32 bytes from the OS, hex).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("pbt_{}", hex::encode(bytes)))
}

/// One accepted token.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    hash: [u8; 32],
    roles: Vec<Role>,
}

/// The accepted tokens.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

/// Who a request is, once its token checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's configured name; `anonymous` when auth is off.
    pub name: String,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("this endpoint needs a bearer token (`Authorization: Bearer <token>`)")]
    Missing,
    /// The token matches no configured one.
    #[error("the bearer token is not one this server accepts")]
    Unknown,
    /// The token lacks the role.
    #[error("token `{name}` lacks the `{role}` role this endpoint needs")]
    Forbidden {
        /// The token's name.
        name: String,
        /// The role needed.
        role: &'static str,
    },
}

impl Tokens {
    /// The tokens of a validated configuration.
    pub fn from_config(auth: &AuthConfig) -> Self {
        let entries = auth
            .tokens
            .iter()
            .filter_map(|token| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&token.sha256, &mut hash).ok()?;
                Some(Entry {
                    name: token.name.clone(),
                    hash,
                    roles: token.roles.clone(),
                })
            })
            .collect();
        Tokens { entries }
    }

    /// Whether auth is on (at least one token configured).
    pub fn enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Check an `Authorization` header value for `role`.
    pub fn authorize(&self, header: Option<&str>, role: Role) -> Result<Caller, AuthError> {
        if !self.enabled() {
            return Ok(Caller {
                name: "anonymous".into(),
            });
        }
        let token = header
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(AuthError::Missing)?;
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<&Entry> = None;
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&presented)) {
                found = Some(entry);
            }
        }
        let entry = found.ok_or(AuthError::Unknown)?;
        let admin_reviews = role == Role::Review && entry.roles.contains(&Role::Admin);
        if !entry.roles.contains(&role) && !admin_reviews {
            return Err(AuthError::Forbidden {
                name: entry.name.clone(),
                role: role.as_str(),
            });
        }
        Ok(Caller {
            name: entry.name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TokenConfig;

    fn tokens() -> Tokens {
        Tokens::from_config(&AuthConfig {
            tokens: vec![TokenConfig {
                name: "shop".into(),
                sha256: hash_token("secret-1"),
                roles: vec![Role::Ingest],
            }],
            ..AuthConfig::default()
        })
    }

    #[test]
    fn a_configured_token_with_the_role_is_let_in_by_name() {
        let caller = tokens().authorize(Some("Bearer secret-1"), Role::Ingest);
        assert_eq!(caller.map(|c| c.name), Ok("shop".to_string()));
    }

    #[test]
    fn missing_unknown_and_unprivileged_tokens_are_told_apart() {
        let tokens = tokens();
        assert_eq!(tokens.authorize(None, Role::Read), Err(AuthError::Missing));
        assert_eq!(
            tokens.authorize(Some("Basic abc"), Role::Read),
            Err(AuthError::Missing)
        );
        assert_eq!(
            tokens.authorize(Some("Bearer secret-2"), Role::Ingest),
            Err(AuthError::Unknown)
        );
        assert!(matches!(
            tokens.authorize(Some("Bearer secret-1"), Role::Admin),
            Err(AuthError::Forbidden { role: "admin", .. })
        ));
    }

    #[test]
    fn without_tokens_everyone_is_anonymous() {
        let caller = Tokens::default().authorize(None, Role::Admin);
        assert_eq!(caller.map(|c| c.name), Ok("anonymous".to_string()));
    }

    #[test]
    fn new_tokens_are_random_and_hash_to_64_hex_digits() {
        let (a, b) = (new_token().expect("rng"), new_token().expect("rng"));
        assert_ne!(a, b);
        assert_eq!(hash_token(&a).len(), 64);
    }
}
