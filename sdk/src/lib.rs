//! Write Probity plugins in Rust.
//!
//! A Probity plugin is a WebAssembly component (built for `wasm32-wasip2`) that implements
//! the WIT world `probity:plugin/plugin`: the host hands it marketplace events one at a time
//! and it answers with findings. This crate turns that world into ordinary Rust:
//!
//! - [`Plugin`]: the trait you implement: typed settings, a manifest, `handle` and
//!   `on_timer`. One value of your type lives per wasm instance and serves many calls.
//! - [`Context`]: the host's services during a call: the event-time clock, logging, the
//!   plugin's private key-value [`State`], and event-time [`Timers`].
//! - [`export_plugin!`]: one line that exports your type as the component's entry points.
//! - [`prelude`]: the WIT types (events, findings, money…) plus builders and helpers on them.
//! - [`testing`] (native builds only): a [`Harness`](testing::Harness) that runs the very
//!   same plugin code natively with the host's semantics (clock, timers, TTL, rollback,
//!   quotas), so plugins can be unit-tested and benchmarked without wasm.
//!
//! # Example
//!
//! ```
//! use probity_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize, Default)]
//! #[serde(default, deny_unknown_fields)]
//! struct Settings {
//!     word: String,
//! }
//!
//! struct WordCheck {
//!     word: String,
//! }
//!
//! impl Plugin for WordCheck {
//!     type Settings = Settings;
//!
//!     fn manifest() -> Manifest {
//!         Manifest::new("word-check", "0.1.0", "flags listings whose title has a word")
//!             .subscribe(EventType::ListingUpserted)
//!     }
//!
//!     fn validate(settings: &Settings) -> Result<(), SettingsError> {
//!         if settings.word.is_empty() {
//!             return Err(SettingsError::new("word", "must not be empty"));
//!         }
//!         Ok(())
//!     }
//!
//!     fn new(settings: Settings) -> Self {
//!         WordCheck { word: settings.word }
//!     }
//!
//!     fn handle(&mut self, _ctx: &mut Context, envelope: &Envelope) -> Result<Vec<Finding>, PluginError> {
//!         let Event::ListingUpserted(listing) = &envelope.event else {
//!             return Ok(vec![]);
//!         };
//!         let Some(start) = listing.title.find(&self.word) else {
//!             return Ok(vec![]);
//!         };
//!         let finding = Finding::builder(Subject::listing(&listing.listing_id))
//!             .rule("word_check.word")
//!             .category(Category::MisleadingClaim)
//!             .severity(Severity::High)
//!             .message(format!("the title contains `{}`", self.word))
//!             .evidence(Evidence::field("title").matched(&listing.title, start..start + self.word.len()))
//!             .build();
//!         Ok(vec![finding])
//!     }
//! }
//!
//! probity_sdk::export_plugin!(WordCheck);
//!
//! # fn main() {
//! let mut harness = probity_sdk::testing::Harness::<WordCheck>::new(r#"{"word": "best"}"#).unwrap();
//! let outcome = harness.handle(probity_sdk::testing::listing("L-1", "S-1", "the best cream"));
//! assert_eq!(outcome.rules(), ["word_check.word"]);
//! # }
//! ```
//!
//! The crate's `README.md` walks through a whole plugin, from `cargo new` to a host
//! loading it.

#![warn(missing_docs)]

/// The bindings `wit_bindgen` generates for the world `probity:plugin/plugin`.
///
/// Plugin authors rarely need this module: the [`prelude`] re-exports every type, and
/// [`Context`] wraps the imports. It is public because [`export_plugin!`] expands to code
/// that names it.
#[allow(
    missing_docs,
    reason = "generated code; the WIT documentation is carried over"
)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../wit",
        pub_export_macro: true,
        default_bindings_module: "probity_sdk::bindings",
        additional_derives: [PartialEq, Eq, Hash],
    });
}

mod context;
mod event;
mod host;
pub mod limits;
mod model;
mod money;
mod plugin;
pub mod time;

#[cfg(target_family = "wasm")]
mod guest;
#[cfg(not(target_family = "wasm"))]
pub mod testing;

pub use context::{Context, State, Timers};
pub use model::FindingBuilder;
pub use money::MoneyError;
pub use plugin::{NoSettings, Plugin};

/// Everything a plugin usually needs: `use probity_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::bindings::probity::plugin::log::Level as LogLevel;
    pub use crate::bindings::probity::plugin::state::{Entry as StateEntry, StateError};
    pub use crate::bindings::probity::plugin::timers::TimerError;
    pub use crate::bindings::probity::plugin::types::{
        BuyerProfile, Category, ComplaintOpened, ComplaintResolved, ComplaintResponded, DurationMs,
        Envelope, Event, EventType, Evidence, Finding, ListingUpserted, Manifest, Money,
        OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderShipped, PluginError,
        Pseudonym, RefundCompleted, RefundRequested, ReviewPosted, SettingsError, Severity,
        ShardKey, Span, Subject, SubjectType, Timer, Timestamp,
    };
    pub use crate::{Context, FindingBuilder, MoneyError, NoSettings, Plugin, State, Timers};
}

/// Support for [`export_plugin!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_family = "wasm")]
    pub use crate::guest::{handle, manifest, on_timer, validate_settings};
    pub use crate::plugin::Instance;
}

/// Export a [`Plugin`] implementation as the component's entry points.
///
/// Write it once, at the top level of your `cdylib` crate:
///
/// ```ignore
/// probity_sdk::export_plugin!(MyPlugin);
/// ```
///
/// It implements the world's exports for `MyPlugin`:
///
/// - `manifest` → [`Plugin::manifest`];
/// - `validate-settings` → parses the JSON text into [`Plugin::Settings`] (a type error
///   or, with `#[serde(deny_unknown_fields)]`, an unknown field is reported with its path,
///   e.g. `price.window_days`), then [`Plugin::validate`];
/// - `handle` / `on-timer` → on the first call of a wasm instance, reads the settings from
///   the host and calls [`Plugin::new`] once; then delegates to [`Plugin::handle`] /
///   [`Plugin::on_timer`]. Settings that no longer parse give a `PluginError` with code
///   `bad_settings`, never a panic.
///
/// On native targets (unit tests, benchmarks) it exports nothing and only checks that the
/// type implements [`Plugin`]; drive the plugin with [`testing::Harness`] there.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            struct __ProbityPluginExports;

            ::std::thread_local! {
                static __PROBITY_INSTANCE: ::core::cell::RefCell<$crate::__private::Instance<$plugin>> =
                    const { ::core::cell::RefCell::new($crate::__private::Instance::new()) };
            }

            impl $crate::bindings::Guest for __ProbityPluginExports {
                fn manifest() -> $crate::bindings::Manifest {
                    $crate::__private::manifest::<$plugin>()
                }

                fn validate_settings(
                    settings: ::std::string::String,
                ) -> ::core::result::Result<(), $crate::bindings::SettingsError> {
                    $crate::__private::validate_settings::<$plugin>(&settings)
                }

                fn handle(
                    envelope: $crate::bindings::Envelope,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::bindings::Finding>,
                    $crate::bindings::PluginError,
                > {
                    $crate::__private::handle(&__PROBITY_INSTANCE, &envelope)
                }

                fn on_timer(
                    timer: $crate::bindings::Timer,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::bindings::Finding>,
                    $crate::bindings::PluginError,
                > {
                    $crate::__private::on_timer(&__PROBITY_INSTANCE, timer)
                }
            }

            $crate::bindings::export!(__ProbityPluginExports with_types_in $crate::bindings);
        };

        #[cfg(not(target_family = "wasm"))]
        const _: fn() = {
            fn __probity_is_a_plugin<P: $crate::Plugin>() {}
            __probity_is_a_plugin::<$plugin>
        };
    };
}
