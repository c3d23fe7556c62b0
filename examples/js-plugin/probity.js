// probity.js: a small helper for Probity plugins written in JavaScript (componentize-js).
//
// Import it from your plugin module; componentize-js bundles it into the component.
//
// How componentize-js 0.23.0 maps an export's `result<T, E>` (checked on the host):
//
//   - the function's return value is the `ok` case;
//   - a thrown value with an own `payload` property is the `err` case, carrying `payload`;
//   - any other thrown value is itself taken as the `err` case: a plain object
//     `{code, message}` works, but a thrown `Error` (TypeError, a bug…) lacks a string
//     `code`, so lowering it fails and the call *traps* ("expected a string, received
//     [undefined]"); the host then reports a trap, not the plugin's error.
//
// So an export must never let a plain `Error` escape. `guard(fn)` wraps an export so that
// every thrown value becomes a `plugin-error` record `{code, message}`.
//
// Imports whose WIT result has an error case (`state.set`, `timers.schedule`…) throw on
// error: a value whose `payload` is the WIT error value (for an enum, its case name
// as a string such as "quota-exceeded").
//
// Numbers: WIT `s64`/`u64` (timestamps, durations, counters) are BigInt in both
// directions: pass BigInt (see `big`), and convert results with `Number(…)` when they fit.

import * as log from 'probity:plugin/log@0.2.0';
import * as state from 'probity:plugin/state@0.2.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A failure of the plugin itself: becomes the WIT `plugin-error` when thrown from `guard`. */
export class PluginError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'PluginError';
    this.code = code;
    // An own `payload` property: componentize-js returns it as the `err` case.
    this.payload = { code, message };
  }
}

/** Settings refused by `validate-settings`: becomes the WIT `settings-error` when thrown. */
export class SettingsError extends Error {
  constructor(field, message) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
    this.field = field;
    this.payload = { field, message };
  }
}

/** A WIT enum case name as a plugin-error code: `quota-exceeded` → `quota_exceeded`. */
function codeOf(text) {
  return String(text).replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
}

/**
 * Any thrown value as the WIT `plugin-error` record `{code, message}`:
 * - a `PluginError`: its code and message;
 * - a `SettingsError` (settings read at run time): code `bad_settings`;
 * - an error thrown by a host import (it carries the WIT error in `payload`): code
 *   `host_<case>`, e.g. `host_quota_exceeded`;
 * - any other `Error`: code `js_<name>` (`js_type_error`…) and its message;
 * - anything else: code `js_throw` and the value as text.
 */
export function toPluginError(err) {
  if (err instanceof PluginError) {
    return { code: err.code, message: err.message };
  }
  if (err instanceof SettingsError) {
    return { code: 'bad_settings', message: err.message };
  }
  if (err !== null && typeof err === 'object' && Object.hasOwn(err, 'payload')) {
    const payload = err.payload;
    if (typeof payload === 'string') {
      return { code: `host_${codeOf(payload)}`, message: `a host call was refused: ${payload}` };
    }
    if (payload && typeof payload.code === 'string' && typeof payload.message === 'string') {
      return { code: payload.code, message: payload.message };
    }
    return { code: 'host_error', message: String(err.message ?? payload) };
  }
  if (err instanceof Error) {
    const name = err.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
    return { code: `js_${codeOf(name)}`, message: err.message };
  }
  return { code: 'js_throw', message: String(err) };
}

/**
 * Wrap an export returning `result<T, plugin-error>`: whatever it throws becomes the
 * `err` case (a `plugin-error`), never a trap. The host then records a `plugin_error`
 * finding and applies the plugin's `on_error` policy.
 */
export function guard(fn) {
  return function guarded(...args) {
    try {
      return fn(...args);
    } catch (err) {
      const error = toPluginError(err);
      throw { payload: error };
    }
  };
}

/**
 * Wrap `validate-settings`: a thrown `SettingsError` is the `err` case; any other thrown
 * value becomes a `settings-error` on the field `settings`.
 */
export function guardSettings(fn) {
  return function guarded(...args) {
    try {
      return fn(...args);
    } catch (err) {
      if (err instanceof SettingsError) {
        throw { payload: err.payload };
      }
      throw { payload: { field: 'settings', message: toPluginError(err).message } };
    }
  };
}

/** A `u64`/`s64` argument from a Number or BigInt (the WIT needs BigInt). */
export function big(value) {
  return typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
}

/** The JSON value stored under `key`, or `fallback` when absent. */
export function getJson(key, fallback = undefined) {
  const bytes = state.get(key);
  if (bytes === undefined) {
    return fallback;
  }
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new PluginError('bad_state', `state \`${key}\` is not JSON: ${err.message}`);
  }
}

/**
 * Store `value` as JSON under `key`; with `ttlMs` (Number or BigInt) the entry expires that
 * many milliseconds of event time from now. A refused write throws a `PluginError`
 * (`state_quota_exceeded`, `state_value_too_large`…).
 */
export function setJson(key, value, ttlMs = undefined) {
  const bytes = encoder.encode(JSON.stringify(value));
  try {
    state.set(key, bytes, ttlMs === undefined ? undefined : big(ttlMs));
  } catch (err) {
    throw stateError(err, key);
  }
}

/** Add `delta` to the counter under `key` and return the new value as a Number. */
export function increment(key, delta = 1, ttlMs = undefined) {
  try {
    return Number(state.increment(key, big(delta), ttlMs === undefined ? undefined : big(ttlMs)));
  } catch (err) {
    throw stateError(err, key);
  }
}

/**
 * The counter under `key` (as `increment` keeps it: 8 bytes, little-endian) as a Number;
 * 0 when absent. Reading does not create it.
 */
export function counter(key) {
  const bytes = state.get(key);
  if (bytes === undefined) {
    return 0;
  }
  if (bytes.length !== 8) {
    throw new PluginError('bad_state', `state \`${key}\` is not a counter (${bytes.length} bytes)`);
  }
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true));
}

/** Remove `key`; returns whether it was present. */
export function remove(key) {
  return state.delete(key);
}

function stateError(err, key) {
  const reason = err && Object.hasOwn(err, 'payload') ? String(err.payload) : String(err);
  return new PluginError(`state_${codeOf(reason)}`, `state write to \`${key}\` refused: ${reason}`);
}

/** Log helpers: one line each into the host's log (rate-limited; never log personal data). */
export const logger = {
  debug: (message) => log.write('debug', message),
  info: (message) => log.write('info', message),
  warn: (message) => log.write('warn', message),
  error: (message) => log.write('error', message),
};

// Findings. The WIT `finding` record, written out: `subject` is `{kind, id}` with `kind`
// one of 'listing' | 'order' | 'seller' | 'complaint'; `category` and `severity` are the
// kebab-case case names ('misleading-claim', 'sla-breach'…; 'info'…'critical'); every
// `evidence` entry has all four fields, `undefined` for an absent option.

const CATEGORIES = new Set([
  'misleading-claim', 'prohibited-claim', 'price-deception', 'brush-order',
  'review-manipulation', 'payment-fraud', 'sla-breach', 'other',
]);
const SEVERITIES = new Set(['info', 'low', 'medium', 'high', 'critical']);
const KINDS = new Set(['listing', 'order', 'seller', 'complaint']);

/**
 * A finding, checked: a wrong category, severity or subject kind throws a `PluginError`
 * here, with the value named, instead of failing (as a trap) when the host lowers it.
 */
export function finding({ subject, rule, category, severity, message, evidence = [] }) {
  if (!subject || !KINDS.has(subject.kind) || typeof subject.id !== 'string') {
    throw new PluginError('bad_finding', `subject must be {kind, id} with kind one of ${[...KINDS].join(', ')}`);
  }
  if (!CATEGORIES.has(category)) {
    throw new PluginError('bad_finding', `category \`${category}\` is not one of ${[...CATEGORIES].join(', ')}`);
  }
  if (!SEVERITIES.has(severity)) {
    throw new PluginError('bad_finding', `severity \`${severity}\` is not one of ${[...SEVERITIES].join(', ')}`);
  }
  return { subject, rule, category, severity, message: String(message), evidence };
}

/** Evidence about a field, with a free-text `detail` for a reviewer. */
export function evidenceDetail(field, detail) {
  return { field, span: undefined, excerpt: undefined, detail: String(detail) };
}

/**
 * Evidence of a match in the text of `field`: the match of `needle` at UTF-16 index
 * `index` of `text` (what `String.prototype.indexOf` and `RegExp` give), turned into the
 * UTF-8 byte span the host wants (`{start, end}`, one past the last byte), with the
 * matched text as its excerpt. `文字` is 3 bytes a character in UTF-8, 1 in UTF-16: the
 * host refuses a span that does not fall on the field's characters.
 */
export function evidenceMatch(field, text, index, needle) {
  const start = encoder.encode(text.slice(0, index)).length;
  const excerpt = text.slice(index, index + needle.length);
  const end = start + encoder.encode(excerpt).length;
  return { field, span: { start, end }, excerpt, detail: undefined };
}
