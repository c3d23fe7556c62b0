//! Compatibility: a plugin built with wit-bindgen against a frozen copy of
//! `probity:plugin@0.1.0` (`wit/` here, never edited), not through the SDK. The host must
//! keep loading it and get the same answers from it as long as it claims to accept 0.1.x.
//!
//! It flags listing titles containing `frozen` (`high`, `misleading-claim`, with the
//! span) and counts listings per seller in state, reporting the count in the evidence.

wit_bindgen::generate!({
    world: "probity:plugin/plugin@0.1.0",
    path: "wit",
});

use probity::plugin::state;
use probity::plugin::types::{
    Category, Event, EventType, Evidence, Severity, Span, Subject, SubjectType,
};

struct Frozen;

impl Guest for Frozen {
    fn manifest() -> Manifest {
        Manifest {
            name: "compat-v0-1-0".into(),
            version: "0.1.0".into(),
            description: "built against probity:plugin@0.1.0".into(),
            subscribes: vec![EventType::ListingUpserted],
        }
    }

    fn validate_settings(_settings: String) -> Result<(), SettingsError> {
        Ok(())
    }

    fn handle(envelope: Envelope) -> Result<Vec<Finding>, PluginError> {
        let Event::ListingUpserted(listing) = envelope.event else {
            return Ok(vec![]);
        };
        let seen = state::increment(&format!("listings:{}", listing.seller_id), 1, None).map_err(
            |err| PluginError {
                code: "state".into(),
                message: format!("{err:?}"),
            },
        )?;
        let Some(start) = listing.title.find("frozen") else {
            return Ok(vec![]);
        };
        Ok(vec![Finding {
            subject: Subject {
                kind: SubjectType::Listing,
                id: listing.listing_id,
            },
            rule: "compat.frozen".into(),
            category: Category::MisleadingClaim,
            severity: Severity::High,
            message: "the title says frozen".into(),
            evidence: vec![Evidence {
                field: "title".into(),
                span: Some(Span {
                    start: start as u32,
                    end: (start + "frozen".len()) as u32,
                }),
                excerpt: Some("frozen".into()),
                detail: Some(format!("listing {seen} of its seller")),
            }],
        }])
    }

    fn on_timer(_timer: Timer) -> Result<Vec<Finding>, PluginError> {
        Ok(vec![])
    }
}

export!(Frozen);
