//! Every size and value limit ingest enforces, in one place.
//!
//! The contract fixes the id and rating rules; the byte caps are the host's own, chosen
//! so that one event can never make the host (or a plugin, which receives the texts)
//! spend unbounded memory, while being far above what a real marketplace sends.

/// The largest raw event, in bytes, [`parse_event`](super::parse_event) reads (1 MiB).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The longest `event_id` and entity id (`listing_id`, `order_id`, `seller_id`,
/// `buyer_id`, `refund_id`, `review_id`, `complaint_id`), in characters. Ids must also be
/// at least one character long.
pub const MAX_ID_CHARS: usize = 128;

/// The longest listing `title`, in bytes (1 KiB).
pub const MAX_TITLE_BYTES: usize = 1024;

/// The longest long text (`description`, review/complaint `text`), in bytes (64 KiB).
pub const MAX_LONG_TEXT_BYTES: usize = 64 * 1024;

/// The longest other string (category, carrier, reason, attribute names and values,
/// personal values before pseudonymisation…), in bytes (1 KiB).
pub const MAX_STRING_BYTES: usize = 1024;

/// The most entries in a listing's `attributes`.
pub const MAX_ATTRIBUTES: usize = 200;

/// The lowest and highest review `rating`.
pub const RATING_RANGE: std::ops::RangeInclusive<u8> = 1..=5;

/// The smallest order `quantity`.
pub const MIN_QUANTITY: u32 = 1;
