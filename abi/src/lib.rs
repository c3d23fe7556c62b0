//! The limits of the Probity plugin ABI (`wit/`), defined once.
//!
//! The host enforces them on every call (`runtime/abi.rs` on what a call returns,
//! `runtime/host.rs` on logging, `store/scope.rs` on state and timers); the SDK
//! re-exports them (`probity_sdk::limits`) so that plugins can stay within them and its
//! test harness applies the same checks. A limit changed here changes everywhere at once;
//! raising one is additive for plugins, lowering one is a breaking change of the
//! contract.
#![no_std]

/// Most findings one call may return.
pub const MAX_FINDINGS_PER_CALL: usize = 1000;
/// Most evidence items per finding.
pub const MAX_EVIDENCE_PER_FINDING: usize = 64;
/// Longest rule id, in bytes.
pub const MAX_RULE_BYTES: usize = 128;
/// Longest message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Longest subject id, in bytes.
pub const MAX_SUBJECT_ID_BYTES: usize = 512;
/// Longest evidence field, in bytes.
pub const MAX_FIELD_BYTES: usize = 128;
/// Longest evidence excerpt or detail, in bytes.
pub const MAX_EXCERPT_BYTES: usize = 1024;

/// Longest state or timer key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest state value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Largest timer payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Most entries one state scan returns.
pub const MAX_SCAN: usize = 1000;

/// Most log lines one call may write (the rest are counted, not kept).
pub const MAX_LOG_LINES_PER_CALL: u32 = 32;
/// Longest log line kept, in bytes (longer ones are cut).
pub const MAX_LOG_LINE_BYTES: usize = 1024;
