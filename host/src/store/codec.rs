//! Key and value layouts. Keys sort the way they are scanned; values start with a
//! version byte so the layout can evolve.
//!
//! - Timestamps in keys are big-endian with the sign bit flipped, so byte order is
//!   time order (negative times included).
//! - A plugin name never contains `\0` (config validation), so `plugin \0 key` is an
//!   unambiguous prefix for one plugin's keys.
//! - Subject ids are length-prefixed, so no id is a prefix of another's keys.

use super::{LogAppend, LogEntry, Routing, StoreError, StoredValue, TimerRetry};
use crate::model::event::Event;
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::Timestamp;

/// The value layout version written by this build.
pub const VALUE_VERSION: u8 = 1;

/// Encode a timestamp so that byte order is numeric order.
pub fn ts_key(ts: Timestamp) -> [u8; 8] {
    ((ts as u64) ^ (1 << 63)).to_be_bytes()
}

/// Decode [`ts_key`].
pub fn ts_from_key(bytes: &[u8]) -> Option<Timestamp> {
    let raw: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

/// `plugin \0 key`.
pub fn plugin_key(plugin: &str, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(plugin.len() + 1 + key.len());
    out.extend_from_slice(plugin.as_bytes());
    out.push(0);
    out.extend_from_slice(key.as_bytes());
    out
}

/// Split [`plugin_key`] back into `(plugin, key)`.
pub fn split_plugin_key(bytes: &[u8]) -> Option<(String, String)> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    let plugin = std::str::from_utf8(&bytes[..nul]).ok()?;
    let key = std::str::from_utf8(&bytes[nul + 1..]).ok()?;
    Some((plugin.to_string(), key.to_string()))
}

/// `time plugin \0 key`: the order in which timers fire and state expires.
pub fn timed_key(at: Timestamp, plugin: &str, key: &str) -> Vec<u8> {
    let mut out = ts_key(at).to_vec();
    out.extend_from_slice(&plugin_key(plugin, key));
    out
}

/// Split [`timed_key`].
pub fn split_timed_key(bytes: &[u8]) -> Option<(Timestamp, String, String)> {
    let at = ts_from_key(bytes)?;
    let (plugin, key) = split_plugin_key(bytes.get(8..)?)?;
    Some((at, plugin, key))
}

/// `type len(id) id`: the verdict key of a subject.
pub fn subject_key(subject: &Subject) -> Vec<u8> {
    let id = subject.id.as_bytes();
    let mut out = Vec::with_capacity(3 + id.len());
    out.push(subject_type_byte(subject.kind));
    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
    out.extend_from_slice(id);
    out
}

/// `subject_key seq`: one history entry.
pub fn history_key(subject: &Subject, seq: u64) -> Vec<u8> {
    let mut out = subject_key(subject);
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

fn subject_type_byte(kind: SubjectType) -> u8 {
    match kind {
        SubjectType::Listing => 1,
        SubjectType::Order => 2,
        SubjectType::Seller => 3,
        SubjectType::Complaint => 4,
        SubjectType::Buyer => 5,
    }
}

/// A state value: `version, has_expiry, [expiry i64 BE], bytes`.
pub fn encode_state(value: &StoredValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + value.bytes.len());
    out.push(VALUE_VERSION);
    match value.expires_at {
        Some(at) => {
            out.push(1);
            out.extend_from_slice(&at.to_be_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&value.bytes);
    out
}

/// Decode [`encode_state`].
pub fn decode_state(bytes: &[u8]) -> Result<StoredValue, StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        tree: "state",
        detail: detail.to_string(),
    };
    match bytes {
        [VALUE_VERSION, 0, rest @ ..] => Ok(StoredValue {
            bytes: rest.to_vec(),
            expires_at: None,
        }),
        [VALUE_VERSION, 1, rest @ ..] if rest.len() >= 8 => {
            let (at, value) = rest.split_at(8);
            let at: [u8; 8] = at.try_into().map_err(|_| corrupt("short expiry"))?;
            Ok(StoredValue {
                bytes: value.to_vec(),
                expires_at: Some(i64::from_be_bytes(at)),
            })
        }
        [version, ..] if *version != VALUE_VERSION => {
            Err(corrupt(&format!("unknown value version {version}")))
        }
        _ => Err(corrupt("truncated value")),
    }
}

/// A versioned JSON value (verdicts, findings).
pub fn encode_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![VALUE_VERSION];
    // Serialising our own plain data types cannot fail.
    serde_json::to_writer(&mut out, value).unwrap_or_default();
    out
}

/// Decode [`encode_json`].
pub fn decode_json<T: serde::de::DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes {
        [VALUE_VERSION, rest @ ..] => {
            serde_json::from_slice(rest).map_err(|err| StoreError::Corrupt {
                tree,
                detail: err.to_string(),
            })
        }
        _ => Err(StoreError::Corrupt {
            tree,
            detail: "unknown value version".into(),
        }),
    }
}

/// Version of a timer value the host put off: `[2, original due (8), attempts (4),
/// failures (4), payload…]`; a plain timer is `[VALUE_VERSION, payload…]`.
const DEFERRED_TIMER_VERSION: u8 = 2;

/// A timer's value: its payload, with the deferral if the host put it off.
pub fn encode_timer(payload: &[u8], retry: Option<TimerRetry>) -> Vec<u8> {
    match retry {
        None => {
            let mut out = Vec::with_capacity(payload.len() + 1);
            out.push(VALUE_VERSION);
            out.extend_from_slice(payload);
            out
        }
        Some(retry) => {
            let mut out = Vec::with_capacity(payload.len() + 17);
            out.push(DEFERRED_TIMER_VERSION);
            out.extend_from_slice(&retry.original_due.to_be_bytes());
            out.extend_from_slice(&retry.attempts.to_be_bytes());
            out.extend_from_slice(&retry.failures.to_be_bytes());
            out.extend_from_slice(payload);
            out
        }
    }
}

/// Decode [`encode_timer`].
pub fn decode_timer(bytes: &[u8]) -> Result<(Vec<u8>, Option<TimerRetry>), StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        tree: "timers",
        detail: detail.to_string(),
    };
    match bytes {
        [VALUE_VERSION, rest @ ..] => Ok((rest.to_vec(), None)),
        [DEFERRED_TIMER_VERSION, rest @ ..] if rest.len() >= 16 => {
            let (head, payload) = rest.split_at(16);
            let word = |range: std::ops::Range<usize>| head.get(range).unwrap_or_default();
            let original_due = i64::from_be_bytes(word(0..8).try_into().unwrap_or_default());
            let attempts = u32::from_be_bytes(word(8..12).try_into().unwrap_or_default());
            let failures = u32::from_be_bytes(word(12..16).try_into().unwrap_or_default());
            Ok((
                payload.to_vec(),
                Some(TimerRetry {
                    original_due,
                    attempts,
                    failures,
                }),
            ))
        }
        _ => Err(corrupt("unknown value version or truncated deferral")),
    }
}

/// The log value of a record (see [`LogEntry`] for what each means):
///
/// | record | JSON |
/// |---|---|
/// | event | `{"event": {…}, "clock": <ms>, "shard": <n> or null[, "buyer": "<pseudonym>"]}` |
/// | release of a parked event | `{"release": <seq>, "shard": <n>, "clock": <ms>[, "buyer": "<pseudonym>"]}` |
/// | calls on an event that hit their deadline | `{"event_deadline": <seq>, "hits": […]}` |
/// | clock advance | `{"clock_advance": <ms>, "cause": "…"}` |
/// | `on-timer` deadline hit | `{"timer_deadline": {…}}` |
/// | a configuration took effect | `{"reload": "sha256:…"}` |
/// | a reviewer's decision | `{"decision": {…}}` |
///
/// Logs written before shards hold an event as its bare JSON, or as `{"event": {…},
/// "deadline_hits": […]}`; both are still read.
pub fn encode_log_append(record: LogAppend<'_>) -> Vec<u8> {
    match record {
        LogAppend::Event { json, routing } => {
            let mut out = Vec::with_capacity(json.len() + 48);
            out.push(VALUE_VERSION);
            out.extend_from_slice(b"{\"event\":");
            out.extend_from_slice(json);
            out.extend_from_slice(format!(",\"clock\":{}", routing.clock).as_bytes());
            match routing.shard {
                Some(shard) => out.extend_from_slice(format!(",\"shard\":{shard}").as_bytes()),
                None => out.extend_from_slice(b",\"shard\":null"),
            }
            if let Some(buyer) = &routing.buyer {
                out.extend_from_slice(b",\"buyer\":");
                // A string always serialises.
                out.extend_from_slice(&serde_json::to_vec(buyer).unwrap_or_default());
            }
            out.push(b'}');
            out
        }
        LogAppend::Release {
            seq,
            shard,
            clock,
            buyer: None,
        } => encode_json(&serde_json::json!({ "release": seq, "shard": shard, "clock": clock })),
        LogAppend::Release {
            seq,
            shard,
            clock,
            buyer: Some(buyer),
        } => encode_json(
            &serde_json::json!({ "release": seq, "shard": shard, "clock": clock, "buyer": buyer }),
        ),
        LogAppend::EventDeadline { seq, hits } => {
            encode_json(&serde_json::json!({ "event_deadline": seq, "hits": hits }))
        }
        LogAppend::ClockAdvance { to, cause } => {
            encode_json(&serde_json::json!({ CLOCK_ADVANCE: to, "cause": cause }))
        }
        LogAppend::TimerDeadline(hit) => encode_json(&serde_json::json!({ "timer_deadline": hit })),
        LogAppend::Reload { config_digest } => {
            encode_json(&serde_json::json!({ "reload": config_digest }))
        }
        LogAppend::Decision(decision) => encode_json(&serde_json::json!({ "decision": decision })),
    }
}

const CLOCK_ADVANCE: &str = "clock_advance";

/// The `buyer` of an event or release record (absent: no buyer route).
fn buyer_of(value: &serde_json::Value) -> Option<String> {
    value
        .get("buyer")
        .and_then(|b| b.as_str())
        .map(str::to_string)
}

/// Decode a log value (see [`encode_log_append`]).
pub fn decode_log_entry(bytes: &[u8]) -> Result<LogEntry, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        tree: "events",
        detail,
    };
    let mut value: serde_json::Value = decode_json("events", bytes)?;
    let number = |value: &serde_json::Value, name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| corrupt(format!("a log record without a numeric `{name}`")))
    };
    if let Some(hit) = value.get_mut("timer_deadline").map(serde_json::Value::take) {
        let hit = serde_json::from_value(hit).map_err(|err| corrupt(err.to_string()))?;
        return Ok(LogEntry::TimerDeadline(hit));
    }
    if value.get(CLOCK_ADVANCE).is_some() {
        let to = number(&value, CLOCK_ADVANCE)?;
        let cause = value
            .get("cause")
            .and_then(|c| c.as_str())
            .unwrap_or("clock-advance")
            .to_string();
        return Ok(LogEntry::ClockAdvance { to, cause });
    }
    if let Some(decision) = value.get_mut("decision").map(serde_json::Value::take) {
        let decision = serde_json::from_value(decision).map_err(|err| corrupt(err.to_string()))?;
        return Ok(LogEntry::Decision(Box::new(decision)));
    }
    if let Some(digest) = value.get("reload") {
        return Ok(LogEntry::Reload {
            config_digest: digest.as_str().unwrap_or_default().to_string(),
        });
    }
    if value.get("release").is_some() {
        let shard =
            shard_number(number(&value, "shard")?).ok_or_else(|| corrupt("shard".into()))?;
        return Ok(LogEntry::Release {
            seq: number(&value, "release")? as u64,
            shard,
            clock: number(&value, "clock")?,
            buyer: buyer_of(&value),
        });
    }
    if value.get("event_deadline").is_some() {
        let seq = number(&value, "event_deadline")? as u64;
        let hits = value
            .get_mut("hits")
            .map(serde_json::Value::take)
            .unwrap_or_default();
        let hits = serde_json::from_value(hits).map_err(|err| corrupt(err.to_string()))?;
        return Ok(LogEntry::EventDeadline { seq, hits });
    }
    let (event, routing, deadline_hits) = match value.get_mut("event").map(serde_json::Value::take)
    {
        Some(event) => {
            let routing = match value.get("clock") {
                Some(_) => Some(Routing {
                    clock: number(&value, "clock")?,
                    shard: match value.get("shard") {
                        Some(serde_json::Value::Null) | None => None,
                        Some(_) => Some(
                            shard_number(number(&value, "shard")?)
                                .ok_or_else(|| corrupt("shard".into()))?,
                        ),
                    },
                    buyer: buyer_of(&value),
                }),
                None => None,
            };
            let hits = match value.get_mut("deadline_hits").map(serde_json::Value::take) {
                Some(hits) => {
                    serde_json::from_value(hits).map_err(|err| corrupt(err.to_string()))?
                }
                None => Vec::new(),
            };
            (event, routing, hits)
        }
        None => (value, None, Vec::new()),
    };
    let event = serde_json::from_value::<Event>(event).map_err(|err| corrupt(err.to_string()))?;
    Ok(LogEntry::Event {
        event: Box::new(event),
        routing,
        deadline_hits,
    })
}

fn shard_number(raw: i64) -> Option<crate::model::shard::Shard> {
    u16::try_from(raw)
        .ok()
        .filter(|shard| *shard < crate::model::shard::SHARDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_round_trip_with_and_without_a_deferral() {
        let retry = TimerRetry {
            original_due: -5,
            attempts: 3,
            failures: 1,
        };
        for value in [None, Some(retry)] {
            let bytes = encode_timer(b"payload", value);
            assert_eq!(decode_timer(&bytes).unwrap(), (b"payload".to_vec(), value));
        }
        assert!(decode_timer(&[2, 0, 0]).is_err());
    }

    #[test]
    fn timestamp_keys_sort_numerically_including_negatives() {
        let times = [-5_000, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(ts_key(pair[0]) < ts_key(pair[1]));
            assert_eq!(ts_from_key(&ts_key(pair[0])), Some(pair[0]));
        }
    }

    #[test]
    fn subject_keys_do_not_prefix_each_other() {
        let a = Subject {
            kind: SubjectType::Order,
            id: "A".into(),
        };
        let b = Subject {
            kind: SubjectType::Order,
            id: "A\0B".into(),
        };
        assert!(!history_key(&b, 0).starts_with(&subject_key(&a)));
    }

    #[test]
    fn state_values_round_trip() {
        for value in [
            StoredValue {
                bytes: b"x".to_vec(),
                expires_at: None,
            },
            StoredValue {
                bytes: vec![],
                expires_at: Some(-3),
            },
        ] {
            assert_eq!(decode_state(&encode_state(&value)).ok(), Some(value));
        }
        assert!(decode_state(&[9, 0]).is_err());
    }

    #[test]
    fn timed_keys_round_trip() {
        let key = timed_key(42, "sla", "ship:O-1");
        assert_eq!(
            split_timed_key(&key),
            Some((42, "sla".to_string(), "ship:O-1".to_string()))
        );
    }
}
