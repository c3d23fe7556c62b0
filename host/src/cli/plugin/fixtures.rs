//! The fixture format of `probity plugin test`: events in, expected findings out.
//!
//! A fixture file is JSON: either a list of cases, or an object with defaults for every
//! case (`settings`, `limits`) and the `cases`:
//!
//! ```json
//! {
//!   "settings": {"word": "forbidden"},
//!   "cases": [
//!     {
//!       "name": "a forbidden title is flagged",
//!       "events": [{"event_id": "e1", "type": "listing.upserted", "...": "..."}],
//!       "advance_to": "2026-11-02T00:00:00Z",
//!       "expect": [
//!         {"subject": {"type": "listing", "id": "L-1"}, "rule": "my-check.word", "severity": "high"}
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! Events are in the HTTP API's format. `advance_to` (optional) moves the event-time
//! clock after the last event, so deadline timers fire. `expect` lists every finding the
//! plugin must record during the case, over every subject, timers included; `severity`,
//! `category`, `message` and `evidence` (in order, each item on the keys it gives:
//! `field`, `start`, `end`, `excerpt`, `detail`) are checked when given. A finding not
//! listed fails the case, so an empty `expect` means "finds nothing". A case with
//! `settings_error: {"field": "terms[1]"}` instead passes when the plugin refuses its
//! settings naming that field.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Limits;
use crate::verdict::{Evidence, Finding};

/// One fixture file, with its defaults applied to each case.
#[derive(Debug)]
pub struct FixtureFile {
    /// The cases, in file order.
    pub cases: Vec<Case>,
    /// Limits for every case (the host's defaults when absent).
    pub limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    #[serde(default)]
    settings: Option<Value>,
    #[serde(default)]
    limits: Option<Limits>,
    cases: Vec<Case>,
}

/// One case: events in, findings out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What it checks, in a few words.
    pub name: String,
    /// The plugin's settings for this case (else the file's, else `{}`).
    #[serde(default)]
    pub settings: Option<Value>,
    /// The events, in order, as the HTTP API takes them.
    pub events: Vec<Value>,
    /// Move the clock here after the last event (RFC 3339).
    #[serde(default)]
    pub advance_to: Option<String>,
    /// Every finding the plugin must record.
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// Instead of findings: the settings must be refused, naming this field.
    #[serde(default)]
    pub settings_error: Option<ExpectedSettingsError>,
}

/// A refusal of the settings a case expects.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedSettingsError {
    /// The field the plugin must name (`terms[1]`).
    pub field: String,
    /// Text its message must contain, when checked.
    #[serde(default)]
    pub message: Option<String>,
}

/// A subject as fixtures name it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    /// `listing`, `order`, `seller` or `complaint`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// One expected finding.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The subject it is on.
    pub subject: SubjectRef,
    /// The rule.
    pub rule: String,
    /// Its severity, when checked.
    #[serde(default)]
    pub severity: Option<String>,
    /// Its category, when checked.
    #[serde(default)]
    pub category: Option<String>,
    /// Its message, exactly, when checked.
    #[serde(default)]
    pub message: Option<String>,
    /// Its evidence, in order, each item compared on the keys it gives.
    #[serde(default)]
    pub evidence: Option<Vec<ExpectedEvidence>>,
}

/// One expected evidence item: only the keys given are compared.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvidence {
    /// The event field.
    #[serde(default)]
    pub field: Option<String>,
    /// First byte of the match.
    #[serde(default)]
    pub start: Option<u32>,
    /// One past its last byte.
    #[serde(default)]
    pub end: Option<u32>,
    /// The matched text.
    #[serde(default)]
    pub excerpt: Option<String>,
    /// The free text.
    #[serde(default)]
    pub detail: Option<String>,
}

impl ExpectedEvidence {
    fn matches(&self, got: &Evidence) -> bool {
        self.field.as_ref().is_none_or(|f| *f == got.field)
            && self.start.is_none_or(|s| Some(s) == got.start)
            && self.end.is_none_or(|e| Some(e) == got.end)
            && self
                .excerpt
                .as_ref()
                .is_none_or(|x| Some(x) == got.excerpt.as_ref())
            && self
                .detail
                .as_ref()
                .is_none_or(|d| Some(d) == got.detail.as_ref())
    }
}

impl Expected {
    fn matches(&self, subject: &SubjectRef, finding: &Finding) -> bool {
        self.subject == *subject
            && self.rule == finding.rule
            && self
                .severity
                .as_ref()
                .is_none_or(|s| *s == json_name(&finding.severity))
            && self
                .category
                .as_ref()
                .is_none_or(|c| *c == json_name(&finding.category))
            && self.message.as_ref().is_none_or(|m| *m == finding.message)
            && self.evidence.as_ref().is_none_or(|want| {
                want.len() == finding.evidence.len()
                    && want
                        .iter()
                        .zip(&finding.evidence)
                        .all(|(w, g)| w.matches(g))
            })
    }
}

/// The JSON name of a severity or category (`high`, `misleading_claim`).
pub fn json_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A finding that was recorded, with its subject.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The subject.
    pub subject: SubjectRef,
    /// The finding.
    pub finding: Finding,
}

/// What differs between the expected and the recorded findings of a case.
#[derive(Debug, Default)]
pub struct Diff {
    /// Expected, not recorded.
    pub missing: Vec<Expected>,
    /// Recorded, not expected.
    pub unexpected: Vec<Recorded>,
}

impl Diff {
    /// Match each expected finding with a recorded one (each used once).
    pub fn between(expected: &[Expected], recorded: &[Recorded]) -> Diff {
        let mut left: Vec<Option<&Recorded>> = recorded.iter().map(Some).collect();
        let mut diff = Diff::default();
        for want in expected {
            let hit = left
                .iter_mut()
                .find(|slot| slot.is_some_and(|r| want.matches(&r.subject, &r.finding)));
            match hit {
                Some(slot) => *slot = None,
                None => diff.missing.push(want.clone()),
            }
        }
        diff.unexpected = left.into_iter().flatten().cloned().collect();
        diff
    }

    /// Whether the case passed.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Read a fixture file; the error names the file and the JSON path of what is wrong.
pub fn read(path: &Path) -> Result<FixtureFile> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let suite = if value.is_array() {
        Suite {
            settings: None,
            limits: None,
            cases: parse(path, value)?,
        }
    } else {
        parse(path, value)?
    };
    if suite.cases.is_empty() {
        bail!("{} has no cases", path.display());
    }
    let mut cases = suite.cases;
    for case in &mut cases {
        if case.settings.is_none() {
            case.settings = suite.settings.clone();
        }
    }
    Ok(FixtureFile {
        cases,
        limits: suite.limits.unwrap_or_default(),
    })
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|err| anyhow::anyhow!("{}: at `{}`: {}", path.display(), err.path(), err.inner()))
}
