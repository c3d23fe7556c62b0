//! Reading and writing the plugin's records in the host's state store.
//!
//! Every record is JSON with a time-to-live, so whatever the plugin stops touching goes
//! away by itself. Records are read with [`Context::read_json`], which treats one that no
//! longer decodes as absent. Writes are deliberately soft too:
//! - a write refused because the plugin's state quota is full is skipped with a
//!   warning: detection carries on with what it has rather than failing every event. The
//!   quota, not the plugin, is the last bound on state (see the README's worst case).

use probity_sdk::prelude::*;
use serde::Serialize;

/// Store `value` under `key` for `ttl_ms` of event time.
pub fn put<T: Serialize + ?Sized>(
    ctx: &mut Context<'_>,
    key: &str,
    value: &T,
    ttl_ms: i64,
) -> Result<(), PluginError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| PluginError::new("bad_state", format!("cannot encode a record: {err}")))?;
    put_bytes(ctx, key, &bytes, ttl_ms)
}

/// Store raw `bytes` under `key` for `ttl_ms` of event time.
pub fn put_bytes(
    ctx: &mut Context<'_>,
    key: &str,
    bytes: &[u8],
    ttl_ms: i64,
) -> Result<(), PluginError> {
    let ttl = u64::try_from(ttl_ms.max(1)).unwrap_or(1);
    match ctx.state().set(key, bytes, Some(ttl)) {
        Ok(()) => Ok(()),
        Err(StateError::QuotaExceeded) => {
            ctx.warn("state quota full: a record was not stored; raise state_quota_kib");
            Ok(())
        }
        Err(other) => Err(other.into()),
    }
}
