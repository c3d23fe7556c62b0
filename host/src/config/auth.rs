//! The `[auth]` table: bearer tokens, stored as hashes, each with roles.

use serde::{Deserialize, Serialize};

/// What a token may do. Roles do not imply each other, except that `admin` may also do
/// what `review` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Send events (`POST /v1/events`).
    Ingest,
    /// Read verdicts, plugins and metrics.
    Read,
    /// Reload the configuration and read the audit trail.
    Admin,
    /// Confirm or overturn findings (reviewers, 申诉 handling) and export decisions.
    Review,
}

impl Role {
    /// The role's name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Read => "read",
            Role::Admin => "admin",
            Role::Review => "review",
        }
    }
}

/// The `[auth]` table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The accepted tokens. None at all turns auth off, which the server allows only on a
    /// loopback address.
    pub tokens: Vec<TokenConfig>,
    /// Allow a reload to remove the last token (turning auth off: every local client is
    /// then admin). Without it, such a reload is refused.
    pub allow_no_tokens: bool,
}

/// One `[[auth.tokens]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (shown in logs and the audit trail, never the token).
    pub name: String,
    /// SHA-256 of the token, hex (`probity token new` prints one).
    pub sha256: String,
    /// What it may do.
    pub roles: Vec<Role>,
}

impl AuthConfig {
    /// Check names, hashes and roles; errors name the key under `auth.`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut names = std::collections::BTreeSet::new();
        for (index, token) in self.tokens.iter().enumerate() {
            let key = |field: &str| format!("tokens[{index}].{field}");
            if token.name.trim().is_empty() {
                return Err((key("name"), "must not be empty".into()));
            }
            if !names.insert(token.name.as_str()) {
                return Err((key("name"), format!("`{}` is used twice", token.name)));
            }
            let hash_ok =
                token.sha256.len() == 64 && token.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hash_ok {
                return Err((
                    key("sha256"),
                    "must be 64 hex digits: the SHA-256 of the token, not the token itself (`probity token new` prints both)".into(),
                ));
            }
            if token.roles.is_empty() {
                return Err((
                    key("roles"),
                    "must name at least one of ingest, read, admin, review".into(),
                ));
            }
        }
        Ok(())
    }
}
