// js-late-shipping: a Probity plugin written in JavaScript (componentize-qjs, QuickJS-NG).
//
// It checks the contract in ../../wit (`probity:plugin@0.2.0`, world `plugin`) from
// JavaScript: nothing here comes from the Rust SDK, only from the WIT.
//
// What it does:
//
//   - `order.placed`: remembers the order's seller in state (so a late order can be
//     counted against its seller);
//   - `order.paid`: schedules a timer `ship:<order>` due at the paid time plus
//     `ship_within_hours` and remembers the order in state;
//   - `order.shipped` / `order.cancelled`: cancels that timer and forgets the order;
//   - the timer: reports `js-late-shipping.not_shipped` (sla-breach, medium) on the order
//     and increments the per-seller counter `late:<seller>`;
//   - `listing.upserted`: a listing whose title or description promises fast shipping
//     ("24h shipping", "ships today", "当天发货", "24小时发货"…) from a seller with late
//     orders on record is reported as `js-late-shipping.unkept_promise`
//     (misleading-claim, low) on the listing, with the promise's UTF-8 byte span.
//
// Settings (the `[plugins.js-late-shipping.settings]` table, as JSON):
//
//     {"ship_within_hours": 48}
//
// Exports map to the world's functions by name in camelCase: `manifest`,
// `validateSettings`, `handle`, `onTimer`. WIT records are objects with camelCase fields,
// enums are their kebab-case case names as strings, variants are `{tag, val}`, `option`
// is the value or `null`, `list<u8>` is a Uint8Array and `s64`/`u64` are Numbers.

import { now } from 'probity:plugin/clock@0.2.0';
import { get as getSettings } from 'probity:plugin/settings@0.2.0';
import { cancel, schedule } from 'probity:plugin/timers@0.2.0';

import {
  PluginError,
  SettingsError,
  counter,
  evidenceDetail,
  evidenceMatch,
  finding,
  getJson,
  guard,
  guardSettings,
  increment,
  logger,
  remove,
  setJson,
  utf8Decode,
  utf8Encode,
} from './probity.js';

const NAME = 'js-late-shipping';
const RULE_NOT_SHIPPED = `${NAME}.not_shipped`;
const RULE_UNKEPT_PROMISE = `${NAME}.unkept_promise`;

// Promises of fast shipping, as sellers write them (matched case-insensitively).
const PROMISES = ['24h shipping', '24-hour shipping', 'ships today', 'same-day shipping', '当天发货', '24小时发货', '极速发货'];

const DEFAULT_SHIP_WITHIN_HOURS = 48;
// A year: a longer window is surely a typo (hours given as minutes…).
const MAX_SHIP_WITHIN_HOURS = 24 * 366;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * 3_600_000;

// State keys. `order:<id>` holds `{seller_id?, paid_at?, due?}` as JSON;
// `late:<seller>` is the counter of the seller's late orders.
const ORDER_PREFIX = 'order:';
const LATE_PREFIX = 'late:';
// How long an order's state outlives its last event: the timer reads it at its due time,
// so it only has to cover the shipping window; a week on top is plenty.
const ORDER_TTL_MS = 7 * DAY_MS;

/** The settings from their JSON text, or a thrown `SettingsError` naming the field. */
function parseSettings(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SettingsError('settings', `not JSON: ${err.message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SettingsError('settings', 'must be a table (a JSON object)');
  }
  for (const key of Object.keys(parsed)) {
    if (key !== 'ship_within_hours') {
      throw new SettingsError(key, 'unknown setting; the only one is `ship_within_hours`');
    }
  }
  const hours = parsed.ship_within_hours ?? DEFAULT_SHIP_WITHIN_HOURS;
  if (typeof hours !== 'number' || !Number.isInteger(hours) || hours <= 0) {
    throw new SettingsError(
      'ship_within_hours',
      `must be a positive whole number of hours, got ${JSON.stringify(hours)}`,
    );
  }
  if (hours > MAX_SHIP_WITHIN_HOURS) {
    throw new SettingsError('ship_within_hours', `at most ${MAX_SHIP_WITHIN_HOURS} hours`);
  }
  return { shipWithinHours: hours };
}

// This instance's settings, read on its first call (the host has already accepted them,
// and an instance serves many calls). Not at module level: componentize-qjs runs the
// module at build time, when there is no host to ask.
let settings;
function currentSettings() {
  if (settings === undefined) {
    settings = parseSettings(getSettings());
    logger.debug(`settings: ship within ${settings.shipWithinHours} h`);
  }
  return settings;
}

/** A timestamp (milliseconds) as `2026-11-01 10:00Z`. */
function showTime(ms) {
  return new Date(Number(ms)).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

function timerKey(orderId) {
  return `ship:${orderId}`;
}

function onPlaced(placed) {
  const key = ORDER_PREFIX + placed.orderId;
  const order = getJson(key, {});
  order.seller_id = placed.sellerId;
  setJson(key, order, ORDER_TTL_MS);
  return [];
}

function onPaid(paid, occurredAt) {
  const hours = currentSettings().shipWithinHours;
  const due = occurredAt + hours * HOUR_MS;
  const key = ORDER_PREFIX + paid.orderId;
  const order = getJson(key, {});
  order.paid_at = Number(occurredAt);
  order.due = Number(due);
  const payload = { order_id: paid.orderId, seller_id: order.seller_id, hours };
  try {
    schedule(timerKey(paid.orderId), due, utf8Encode(JSON.stringify(payload)));
  } catch (err) {
    // The WIT `timer-error` arrives as the thrown error's `payload` ("quota-exceeded"…).
    throw new PluginError(
      `timer_${String(err.payload ?? 'error').replace(/-/g, '_')}`,
      `could not schedule the shipping deadline of order ${paid.orderId}: ${err.payload ?? err}`,
    );
  }
  // Keep the order until a week after its deadline.
  setJson(key, order, Number(due - occurredAt) + ORDER_TTL_MS);
  return [];
}

function onDone(orderId) {
  cancel(timerKey(orderId));
  remove(ORDER_PREFIX + orderId);
  return [];
}

/** The first fast-shipping promise in `text`: `[index, promise]`, or undefined. */
function findPromise(text) {
  const lower = text.toLowerCase();
  for (const promise of PROMISES) {
    const index = lower.indexOf(promise.toLowerCase());
    if (index >= 0) {
      return [index, promise];
    }
  }
  return undefined;
}

function onListing(listing) {
  const late = counter(LATE_PREFIX + listing.sellerId);
  if (late === 0) {
    return [];
  }
  const evidence = [];
  for (const [field, text] of [['title', listing.title], ['description', listing.description]]) {
    const found = text === undefined || text === null ? undefined : findPromise(text);
    if (found !== undefined) {
      evidence.push(evidenceMatch(field, text, found[0], found[1]));
    }
  }
  if (evidence.length === 0) {
    return [];
  }
  evidence.push(evidenceDetail('seller_id', `${late} late order(s) of seller ${listing.sellerId} on record`));
  return [
    finding({
      subject: { kind: 'listing', id: listing.listingId },
      rule: RULE_UNKEPT_PROMISE,
      category: 'misleading-claim',
      severity: 'low',
      message: `listing ${listing.listingId} promises fast shipping, but its seller has shipped late`,
      evidence,
    }),
  ];
}

function handleEnvelope(envelope) {
  const { tag, val } = envelope.event;
  switch (tag) {
    case 'listing-upserted':
      return onListing(val);
    case 'order-placed':
      return onPlaced(val);
    case 'order-paid':
      return onPaid(val, envelope.occurredAt);
    case 'order-shipped':
    case 'order-cancelled':
      return onDone(val.orderId);
    default:
      // Only subscribed types are sent, but a plugin should not rely on it.
      return [];
  }
}

function handleTimer(timer) {
  if (!timer.key.startsWith('ship:')) {
    return [];
  }
  let payload;
  try {
    payload = JSON.parse(utf8Decode(timer.payload));
  } catch (err) {
    throw new PluginError('bad_timer', `timer ${timer.key}: payload is not JSON`);
  }
  const orderId = payload.order_id;
  const hours = payload.hours;
  // The seller may have become known after payment (order.placed arriving late).
  const order = getJson(ORDER_PREFIX + orderId, {});
  const sellerId = order.seller_id ?? payload.seller_id;
  const evidence = [
    {
      field: 'order_id',
      span: undefined,
      excerpt: undefined,
      detail:
        `paid ${order.paid_at === undefined ? '?' : showTime(order.paid_at)}, ` +
        `due ${showTime(timer.due)}, no order.shipped by ${showTime(now())}`,
    },
  ];
  if (sellerId !== undefined) {
    const late = increment(LATE_PREFIX + sellerId, 1);
    evidence.push({
      field: 'seller_id',
      span: undefined,
      excerpt: undefined,
      detail: `late order number ${late} of seller ${sellerId}`,
    });
  }
  remove(ORDER_PREFIX + orderId);
  return [
    {
      subject: { kind: 'order', id: orderId },
      rule: RULE_NOT_SHIPPED,
      category: 'sla-breach',
      severity: 'medium',
      message: `order ${orderId} was not shipped within ${hours} hours of payment`,
      evidence,
    },
  ];
}

// The world's exports.

export function manifest() {
  return {
    name: NAME,
    version: '0.1.0',
    description:
      'orders not shipped within ship_within_hours of payment, and fast-shipping promises of sellers who ship late (a JavaScript plugin)',
    subscribes: ['listing-upserted', 'order-placed', 'order-paid', 'order-shipped', 'order-cancelled'],
    keyedBy: 'seller',
  };
}

export const validateSettings = guardSettings((text) => {
  parseSettings(text);
});

export const handle = guard(handleEnvelope);

export const onTimer = guard(handleTimer);
