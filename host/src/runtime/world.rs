//! Which `probity:plugin` world version a component was built against, and its exports
//! called in the current version's terms.
//!
//! Why a plugin's version is found by its exports: wasmtime type-checks an export
//! against the bindings exactly (an `enum` with a case more is another type), so the
//! current bindings accept only a current plugin, and the 0.1.0 bindings only a 0.1.0
//! one. The imports say less: a plugin that keeps no state imports no `probity:plugin`
//! interface at all. [`ExportsPre::new`] tries the current version first, then 0.1.0.
//!
//! A 0.1.0 plugin's answers fit the current types (its subjects, categories and manifest
//! are a subset: it is keyed by seller); its arguments are the 0.1.0 envelope and timer,
//! whose records are the same.

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::abi::bindings::probity::plugin::types as t;
use super::abi::bindings_v0_1::probity::plugin::types as v0_1;
use super::abi::{Lent, bindings, bindings_v0_1};
use super::host::HostState;

/// The `probity:plugin` world versions this host implements, oldest first.
pub const WORLD_VERSIONS: [&str; 2] = ["0.1.0", "0.2.0"];

/// A component ready to instantiate, with the version its exports were built against.
pub(crate) enum ExportsPre {
    /// The current world (`wit/`).
    Current(bindings::PluginPre<HostState>),
    /// The frozen 0.1.0 world.
    V0_1(bindings_v0_1::PluginPre<HostState>),
}

/// One instance's exports.
pub(crate) enum Exports {
    /// The current world.
    Current(bindings::Plugin),
    /// The frozen 0.1.0 world.
    V0_1(bindings_v0_1::Plugin),
}

type Called<T> = wasmtime::Result<T>;

impl ExportsPre {
    /// Type-check the component's exports against each world version, the current one
    /// first; the error is the current version's complaint (what a new plugin must fix).
    pub(crate) fn new(pre: InstancePre<HostState>) -> Result<Self, String> {
        match bindings::PluginPre::new(pre.clone()) {
            Ok(current) => Ok(ExportsPre::Current(current)),
            Err(current_err) => match bindings_v0_1::PluginPre::new(pre) {
                Ok(old) => Ok(ExportsPre::V0_1(old)),
                Err(_) => Err(format!("{current_err:#}")),
            },
        }
    }

    /// The world version the component was built against.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            ExportsPre::Current(_) => WORLD_VERSIONS[1],
            ExportsPre::V0_1(_) => WORLD_VERSIONS[0],
        }
    }

    /// A new instance in `store`.
    pub(crate) fn instantiate(&self, store: &mut Store<HostState>) -> Called<Exports> {
        Ok(match self {
            ExportsPre::Current(pre) => Exports::Current(pre.instantiate(store)?),
            ExportsPre::V0_1(pre) => Exports::V0_1(pre.instantiate(store)?),
        })
    }
}

impl Exports {
    /// `manifest`.
    pub(crate) fn manifest(&self, store: &mut Store<HostState>) -> Called<t::Manifest> {
        match self {
            Exports::Current(plugin) => plugin.call_manifest(store),
            Exports::V0_1(plugin) => plugin.call_manifest(store).map(|m| t::Manifest {
                name: m.name,
                version: m.version,
                description: m.description,
                subscribes: m.subscribes.into_iter().map(event_type_up).collect(),
                keyed_by: t::ShardKey::Seller,
            }),
        }
    }

    /// `validate-settings`.
    pub(crate) fn validate_settings(
        &self,
        store: &mut Store<HostState>,
        settings: &str,
    ) -> Called<Result<(), t::SettingsError>> {
        match self {
            Exports::Current(plugin) => plugin.call_validate_settings(store, settings),
            Exports::V0_1(plugin) => {
                Ok(plugin
                    .call_validate_settings(store, settings)?
                    .map_err(|e| t::SettingsError {
                        field: e.field,
                        message: e.message,
                    }))
            }
        }
    }

    /// `handle`.
    pub(crate) fn handle(
        &self,
        store: &mut Store<HostState>,
        event: &Lent<'_>,
    ) -> Called<Result<Vec<t::Finding>, t::PluginError>> {
        match self {
            Exports::Current(plugin) => plugin.call_handle(store, event.current()),
            Exports::V0_1(plugin) => Ok(findings_up(plugin.call_handle(store, event.v0_1())?)),
        }
    }

    /// `on-timer`.
    pub(crate) fn on_timer(
        &self,
        store: &mut Store<HostState>,
        timer: &t::Timer,
    ) -> Called<Result<Vec<t::Finding>, t::PluginError>> {
        match self {
            Exports::Current(plugin) => plugin.call_on_timer(store, timer),
            Exports::V0_1(plugin) => {
                let timer = v0_1::Timer {
                    key: timer.key.clone(),
                    due: timer.due,
                    payload: timer.payload.clone(),
                };
                Ok(findings_up(plugin.call_on_timer(store, &timer)?))
            }
        }
    }
}

fn findings_up(
    result: Result<Vec<v0_1::Finding>, v0_1::PluginError>,
) -> Result<Vec<t::Finding>, t::PluginError> {
    match result {
        Ok(findings) => Ok(findings.into_iter().map(finding_up).collect()),
        Err(e) => Err(t::PluginError {
            code: e.code,
            message: e.message,
        }),
    }
}

fn finding_up(f: v0_1::Finding) -> t::Finding {
    t::Finding {
        subject: t::Subject {
            kind: match f.subject.kind {
                v0_1::SubjectType::Listing => t::SubjectType::Listing,
                v0_1::SubjectType::Order => t::SubjectType::Order,
                v0_1::SubjectType::Seller => t::SubjectType::Seller,
                v0_1::SubjectType::Complaint => t::SubjectType::Complaint,
            },
            id: f.subject.id,
        },
        rule: f.rule,
        category: match f.category {
            v0_1::Category::MisleadingClaim => t::Category::MisleadingClaim,
            v0_1::Category::ProhibitedClaim => t::Category::ProhibitedClaim,
            v0_1::Category::PriceDeception => t::Category::PriceDeception,
            v0_1::Category::BrushOrder => t::Category::BrushOrder,
            v0_1::Category::ReviewManipulation => t::Category::ReviewManipulation,
            v0_1::Category::PaymentFraud => t::Category::PaymentFraud,
            v0_1::Category::SlaBreach => t::Category::SlaBreach,
            v0_1::Category::Other => t::Category::Other,
        },
        severity: match f.severity {
            v0_1::Severity::Info => t::Severity::Info,
            v0_1::Severity::Low => t::Severity::Low,
            v0_1::Severity::Medium => t::Severity::Medium,
            v0_1::Severity::High => t::Severity::High,
            v0_1::Severity::Critical => t::Severity::Critical,
        },
        message: f.message,
        evidence: f
            .evidence
            .into_iter()
            .map(|e| t::Evidence {
                field: e.field,
                span: e.span.map(|s| t::Span {
                    start: s.start,
                    end: s.end,
                }),
                excerpt: e.excerpt,
                detail: e.detail,
            })
            .collect(),
    }
}

fn event_type_up(e: v0_1::EventType) -> t::EventType {
    use t::EventType as New;
    use v0_1::EventType as Old;
    match e {
        Old::ListingUpserted => New::ListingUpserted,
        Old::OrderPlaced => New::OrderPlaced,
        Old::OrderPaid => New::OrderPaid,
        Old::OrderShipped => New::OrderShipped,
        Old::OrderDelivered => New::OrderDelivered,
        Old::OrderCancelled => New::OrderCancelled,
        Old::RefundRequested => New::RefundRequested,
        Old::RefundCompleted => New::RefundCompleted,
        Old::ReviewPosted => New::ReviewPosted,
        Old::ComplaintOpened => New::ComplaintOpened,
        Old::ComplaintResponded => New::ComplaintResponded,
        Old::ComplaintResolved => New::ComplaintResolved,
    }
}
