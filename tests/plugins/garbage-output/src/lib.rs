//! Hostile: returns findings that are well-typed (so they cross the component boundary)
//! but break the rules the host must check before storing them.
//!
//! Settings: `{"defect": "all"}` (the default) returns one finding per defect below; name
//! one defect to get only that finding:
//! - `empty_subject_id`: the subject's id is empty;
//! - `empty_rule`: the rule is empty;
//! - `inverted_span`: an evidence span ends before it starts (10..5);
//! - `huge_rule`: the rule is 100 KiB long.

use probity_sdk::prelude::*;

const DEFECTS: [&str; 4] = [
    "empty_subject_id",
    "empty_rule",
    "inverted_span",
    "huge_rule",
];

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    defect: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            defect: "all".into(),
        }
    }
}

struct GarbageOutput {
    defect: String,
}

fn garbage(defect: &str, subject: &Subject) -> Finding {
    let valid = Finding::builder(subject.clone())
        .rule("garbage.valid")
        .category(Category::Other)
        .severity(Severity::Low)
        .message(format!("a finding with defect {defect}"))
        .evidence(Evidence::field("title").detail(defect));
    match defect {
        "empty_subject_id" => {
            let mut finding = valid.build();
            finding.subject.id = String::new();
            finding
        }
        "empty_rule" => valid.rule("").build(),
        "inverted_span" => valid
            .evidence(Evidence::field("title").span(10, 5).excerpt("x"))
            .build(),
        _ => valid.rule("g".repeat(100 * 1024)).build(),
    }
}

impl Plugin for GarbageOutput {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new(
            "garbage-output",
            "0.1.0",
            "test plugin: returns invalid findings",
        )
        .subscribe_all()
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        if settings.defect != "all" && !DEFECTS.contains(&settings.defect.as_str()) {
            return Err(SettingsError::new(
                "defect",
                format!(
                    "one of `all`, {}",
                    DEFECTS.map(|d| format!("`{d}`")).join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn new(settings: Settings) -> Self {
        GarbageOutput {
            defect: settings.defect,
        }
    }

    fn handle(
        &mut self,
        _: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let subject = envelope.subject();
        Ok(DEFECTS
            .into_iter()
            .filter(|defect| self.defect == "all" || self.defect == *defect)
            .map(|defect| garbage(defect, &subject))
            .collect())
    }
}

probity_sdk::export_plugin!(GarbageOutput);
