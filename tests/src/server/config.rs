//! Server configurations: [`ConfigText`], the usual TOML with placeholders, the fixed
//! [`PSEUDONYM_KEY`] it sets, and the `[[auth.tokens]]` helpers ([`token_table`],
//! [`hash_token`], [`sha256_hex`]).

use sha2::{Digest, Sha256};

/// The pseudonym key in [`ConfigText`] configurations.
pub const PSEUDONYM_KEY: &str = "0123456789abcdef0123456789abcdef";

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lowercase hex SHA-256 of `token`, as `[[auth.tokens]] sha256` wants it.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// An `[[auth.tokens]]` table for `token` with `roles`.
pub fn token_table(name: &str, token: &str, roles: &[&str]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| format!("{r:?}")).collect();
    format!(
        "[[auth.tokens]]\nname = {name:?}\nsha256 = {:?}\nroles = [{}]\n",
        hash_token(token),
        roles.join(", ")
    )
}

/// The usual configuration: loopback on a free port, data in `{data}`, the shared cache,
/// a fixed pseudonym key and the `good` plugin with `word`, plus whatever is added.
#[derive(Clone, Debug)]
pub struct ConfigText {
    server: Vec<String>,
    clock: Vec<String>,
    privacy: Vec<String>,
    word: Option<String>,
    good: Vec<String>,
    tail: Vec<String>,
}

impl Default for ConfigText {
    fn default() -> Self {
        ConfigText {
            server: Vec::new(),
            clock: Vec::new(),
            privacy: Vec::new(),
            word: Some("forbidden".into()),
            good: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl ConfigText {
    /// The usual configuration with the word `forbidden`.
    pub fn new() -> Self {
        ConfigText::default()
    }

    /// Add a line to `[server]` (e.g. `max_body_bytes = 4096`); a `listen` line replaces
    /// the default one.
    pub fn server(mut self, line: &str) -> Self {
        self.server.push(line.to_string());
        self
    }

    /// Add a line to `[clock]`. Without a `follow_wall_clock` line the configuration has
    /// `follow_wall_clock = false`: tests send events from the past (a back-fill), and a
    /// clock that jumped to today would fire every deadline at once.
    pub fn clock(mut self, line: &str) -> Self {
        self.clock.push(line.to_string());
        self
    }

    /// Add a line to `[privacy]` (which always holds the fixed [`PSEUDONYM_KEY`]).
    pub fn privacy(mut self, line: &str) -> Self {
        self.privacy.push(line.to_string());
        self
    }

    /// The `word` setting of `good` (`None`: no settings table at all).
    pub fn word(mut self, word: Option<&str>) -> Self {
        self.word = word.map(str::to_string);
        self
    }

    /// Add a line to `[plugins.good]` (e.g. `mode = "monitor"`).
    pub fn good(mut self, line: &str) -> Self {
        self.good.push(line.to_string());
        self
    }

    /// Add TOML after everything else (other plugins, `[[auth.tokens]]`…).
    pub fn tail(mut self, text: &str) -> Self {
        self.tail.push(text.to_string());
        self
    }

    /// The TOML text, with placeholders.
    pub fn render(&self) -> String {
        let mut out = String::from("[server]\n");
        if !self
            .server
            .iter()
            .any(|l| l.trim_start().starts_with("listen"))
        {
            out.push_str("listen = \"127.0.0.1:0\"\n");
        }
        out.push_str("data_dir = '{data}'\n");
        for line in &self.server {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\n[clock]\n");
        if !self
            .clock
            .iter()
            .any(|l| l.trim_start().starts_with("follow_wall_clock"))
        {
            out.push_str("follow_wall_clock = false\n");
        }
        for line in &self.clock {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\n[runtime]\ncache_dir = '{cache}'\n");
        out.push_str(&format!(
            "\n[privacy]\npseudonym_key = \"{PSEUDONYM_KEY}\"\n"
        ));
        for line in &self.privacy {
            out.push_str(line);
            out.push('\n');
        }
        // A generous deadline: a loaded test machine must not turn findings into
        // plugin errors.
        out.push_str("\n[plugins.good]\npath = '{good}'\nlimits = { deadline_ms = 10000 }\n");
        for line in &self.good {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(word) = &self.word {
            out.push_str(&format!("[plugins.good.settings]\nword = {word:?}\n"));
        }
        for text in &self.tail {
            out.push('\n');
            out.push_str(text);
            out.push('\n');
        }
        out
    }
}

impl std::fmt::Display for ConfigText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}
