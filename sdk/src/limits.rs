//! The host's limits on what one call may return, and [`clip`] to stay within them.
//!
//! The host refuses a call's output as a whole when one string is over its limit (the
//! call then becomes a `plugin_error` finding), so a plugin that quotes user text in a
//! message or an excerpt should clip it. These mirror the host's validation of plugin
//! output (`findings_from_plugin` in the host's runtime) and are the host's own constants:
//! both come from the `probity-abi` crate. The SDK's test harness applies the same checks.
//!
//! ```
//! use probity_sdk::limits::{clip, MAX_EXCERPT_BYTES};
//! let long = "国家级".repeat(1000);
//! let excerpt = clip(&long, MAX_EXCERPT_BYTES);
//! assert!(excerpt.len() <= MAX_EXCERPT_BYTES && excerpt.ends_with('…'));
//! assert_eq!(clip("short", MAX_EXCERPT_BYTES), "short");
//! ```

pub use probity_abi::*;

/// `text` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let cut = text.floor_char_boundary(max.saturating_sub('…'.len_utf8()));
    format!("{}…", &text[..cut])
}
