//! Settings are parsed and checked the way the `validate-settings` export does it: the
//! error names the offending field as a path.

use probity_sdk::prelude::*;
use probity_sdk::testing::Harness;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    window_days: u32,
    price: Price,
    terms: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Price {
    max_ratio: u32,
}

struct Configured;

impl Plugin for Configured {
    type Settings = Settings;

    fn manifest() -> Manifest {
        Manifest::new("configured", "0.1.0", "has settings").subscribe(EventType::OrderPaid)
    }

    fn validate(settings: &Settings) -> Result<(), SettingsError> {
        if settings.window_days > 365 {
            return Err(SettingsError::new("window_days", "at most 365"));
        }
        Ok(())
    }

    fn new(_: Settings) -> Self {
        Configured
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        Ok(vec![])
    }
}

fn refusal(settings: &str) -> SettingsError {
    match Harness::<Configured>::new(settings) {
        Ok(_) => panic!("{settings} was accepted"),
        Err(err) => err,
    }
}

#[test]
fn good_settings_and_an_empty_table_are_accepted() {
    assert!(Harness::<Configured>::new(r#"{"window_days": 7, "terms": ["a"]}"#).is_ok());
    assert!(Harness::<Configured>::new("{}").is_ok());
    assert!(
        Harness::<Configured>::new("").is_ok(),
        "no text at all means the defaults"
    );
}

#[test]
fn a_type_error_names_the_field_path() {
    assert_eq!(refusal(r#"{"window_days": "x"}"#).field, "window_days");
    assert_eq!(
        refusal(r#"{"price": {"max_ratio": -1}}"#).field,
        "price.max_ratio"
    );
    assert_eq!(refusal(r#"{"terms": ["a", 3]}"#).field, "terms[1]");
}

#[test]
fn an_unknown_field_is_named_when_the_settings_deny_them() {
    let err = refusal(r#"{"window_dayz": 7}"#);
    assert_eq!(err.field, "window_dayz");
    assert!(err.message.contains("unknown field"), "{}", err.message);
}

#[test]
fn settings_must_be_one_json_object() {
    assert_eq!(refusal("[7]").field, "");
    assert_eq!(refusal(r#"{"window_days": 7"#).field, "");
    assert_eq!(refusal("{} {}").field, "");
}

#[test]
fn the_plugin_validate_runs_after_parsing() {
    let err = refusal(r#"{"window_days": 400}"#);
    assert_eq!(
        (err.field.as_str(), err.message.as_str()),
        ("window_days", "at most 365")
    );
}

#[test]
fn no_settings_accepts_only_an_empty_object() {
    struct Bare;
    impl Plugin for Bare {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("bare", "0.1.0", "no settings")
        }
        fn new(_: NoSettings) -> Self {
            Bare
        }
        fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            Ok(vec![])
        }
    }
    assert!(Harness::<Bare>::new("{}").is_ok());
    assert_eq!(Harness::<Bare>::new(r#"{"x": 1}"#).unwrap_err().field, "x");
}
