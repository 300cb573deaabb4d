/**
 * The quick accept of an ingested Suricata EVE line, on its bytes.
 *
 * Ingestion must refuse a line exactly as the detection worker's normalisation would (same
 * verdict, same reason: `checkLine`), but it spools the line as sent and never uses the parsed
 * record. `JSON.parse` builds every object of a line only for ingestion to drop them: on real EVE
 * lines, about half of the API's work per accepted line (docs/benchmarks.md, thirteenth session).
 *
 * `quickEve` validates the JSON grammar (RFC 8259, as `JSON.parse` reads it) over the bytes without
 * building anything, noting where three top-level members' values lie (`event_type`, `timestamp`,
 * `alert`); it answers true only when `checkLine` would accept the decoded line as EVE. Anything
 * it cannot vouch for cheaply (other formats, long lines held to the event budget, deep nesting,
 * an escaped top-level key, an escaped `event_type` or `timestamp`, a malformed or refused line)
 * answers false, and the caller runs `checkLine`, which gives the verdict and the reason. So a
 * true is always `checkLine`'s own answer, and a false costs only the scan.
 *
 * Bytes and characters agree: a line is decoded as UTF-8 for `JSON.parse`, where bytes below 0x80
 * are the same characters and any other byte decodes to a character of 0x80 or above, which JSON
 * allows inside a string and nowhere else; malformed UTF-8 becomes U+FFFD, which is no different.
 */
import { limitsOf, withinByLength } from './budget.js';
import type { NormaliseOptions, TelemetryFormat } from './types.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE } from './types.js';
import { isTimestamp } from './util.js';

const QUOTE = 34;
const BACKSLASH = 92;

/** JSON's four whitespace bytes. */
const SPACE = new Uint8Array(256);
SPACE[32] = SPACE[9] = SPACE[10] = SPACE[13] = 1;

/** Bytes that may follow a backslash (besides `u`). */
const ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPE[c.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const OBJECT = 1;
const ARRAY = 2;

/** The top-level members noted: value start and end (exclusive), -1 when absent. */
const EVENT_TYPE = 0;
const TIMESTAMP = 2;
const ALERT = 4;
const spans = new Int32Array(6);
const EVENT_TYPE_KEY = Buffer.from('event_type');
const TIMESTAMP_KEY = Buffer.from('timestamp');
const ALERT_KEY = Buffer.from('alert');

/** True when the string starting at `i` (its opening quote) held a backslash: set by `skipString`. */
let escaped = false;

/** The index after the string whose opening quote is at `i`, or -1 when it is not valid JSON. */
function skipString(b: Uint8Array, i: number, end: number): number {
  escaped = false;
  i++;
  for (;;) {
    let c = b[i]!;
    // Most bytes of a string are printable and neither a quote nor a backslash (a byte past the
    // buffer reads undefined and ends the run; a line's newline (10) ends it at the line's end).
    while (c > QUOTE && c !== BACKSLASH) c = b[++i]!;
    if (i >= end) return -1;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      escaped = true;
      const d = b[i + 1]!;
      if (d === 117) {
        if (i + 6 > end || HEX[b[i + 2]!] !== 1 || HEX[b[i + 3]!] !== 1 || HEX[b[i + 4]!] !== 1 || HEX[b[i + 5]!] !== 1) return -1;
        i += 6;
      } else if (i + 2 <= end && ESCAPE[d] === 1) {
        i += 2;
      } else {
        return -1;
      }
      continue;
    }
    if (c < 32) return -1; // a control character must be escaped
    i++; // space or '!'
  }
}

const DIGIT = new Uint8Array(256);
for (let d = 48; d <= 57; d++) DIGIT[d] = 1;

/**
 * The index after the number starting at `i`, or -1. It may read past `end` (a byte past the
 * buffer reads undefined, which is no digit); a number that ran past `end` answers -1.
 */
function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 45) i++;
  if (b[i] === 48) i++;
  else if (DIGIT[b[i]!] === 1) while (DIGIT[b[++i]!] === 1);
  else return -1;
  if (b[i] === 46) {
    if (DIGIT[b[++i]!] !== 1) return -1;
    while (DIGIT[b[++i]!] === 1);
  }
  if (b[i] === 101 || b[i] === 69) {
    i++;
    if (b[i] === 43 || b[i] === 45) i++;
    if (DIGIT[b[i]!] !== 1) return -1;
    while (DIGIT[b[++i]!] === 1);
  }
  return i > end ? -1 : i;
}

function literal(b: Uint8Array, i: number, end: number, word: string): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** Which noted member the key [from, to) (without quotes) is, or -1. */
function noted(b: Uint8Array, from: number, to: number): number {
  switch (to - from) {
    case 10: return spells(b, from, EVENT_TYPE_KEY) ? EVENT_TYPE : -1;
    case 9: return spells(b, from, TIMESTAMP_KEY) ? TIMESTAMP : -1;
    case 5: return spells(b, from, ALERT_KEY) ? ALERT : -1;
    default: return -1;
  }
}

function spells(b: Uint8Array, from: number, word: Uint8Array): boolean {
  for (let j = 0; j < word.length; j++) if (b[from + j] !== word[j]) return false;
  return true;
}

/** Notes where the value of a noted member ends; gives -1 (no member being read). */
function ended(member: number, at: number): number {
  spans[member + 1] = at;
  return -1;
}

/** Container kinds of the open levels (index = depth). */
let levels = new Uint8Array(DEFAULT_MAX_DEPTH + 1);

/**
 * Validates one JSON object over [start, end), at most `maxDepth` levels deep, noting the value
 * spans of the top-level members in KEYS (the last of duplicates, as JSON.parse keeps).
 * False when it is not a valid JSON object, nests deeper, or has a top-level key with an escape.
 */
function scanObject(b: Uint8Array, start: number, end: number, maxDepth: number): boolean {
  if (levels.length <= maxDepth) levels = new Uint8Array(maxDepth + 1);
  spans.fill(-1);
  let i = start;
  let depth = 0;
  let member = -1; // the noted member whose value is being read at depth 1
  // 0: a value is expected; 1: after a value; 2: a key (or the end of an empty object) is expected.
  let state = 0;
  for (;;) {
    while (i < end && SPACE[b[i]!] === 1) i++;
    if (state === 0) {
      if (depth === 1 && member >= 0) spans[member] = i;
      const c = b[i];
      if (i >= end) return false;
      if (c === 123 || c === 91) {
        if (++depth > maxDepth) return false;
        levels[depth] = c === 123 ? OBJECT : ARRAY;
        i++;
        while (i < end && SPACE[b[i]!] === 1) i++;
        if (i < end && b[i] === (c === 123 ? 125 : 93)) {
          i++;
          depth--;
          state = 1;
          if (depth === 1 && member >= 0) member = ended(member, i);
        } else {
          state = c === 123 ? 2 : 0;
        }
        continue;
      }
      if (depth === 0) return false; // the top level must be an object
      if (c === QUOTE) i = skipString(b, i, end);
      else if (c === 45 || (c! >= 48 && c! <= 57)) i = skipNumber(b, i, end);
      else if (c === 116) i = literal(b, i, end, 'true');
      else if (c === 102) i = literal(b, i, end, 'false');
      else if (c === 110) i = literal(b, i, end, 'null');
      else return false;
      if (i < 0) return false;
      state = 1;
      if (depth === 1 && member >= 0) member = ended(member, i);
      continue;
    }
    if (state === 1) {
      if (depth === 0) return i === end;
      const c = b[i];
      if (i >= end) return false;
      if (c === 44) {
        i++;
        state = levels[depth] === OBJECT ? 2 : 0;
      } else if (c === (levels[depth] === OBJECT ? 125 : 93)) {
        i++;
        depth--;
        if (depth === 1 && member >= 0) member = ended(member, i);
      } else {
        return false;
      }
      continue;
    }
    // A key.
    if (i >= end || b[i] !== QUOTE) return false;
    const from = i + 1;
    i = skipString(b, i, end);
    if (i < 0) return false;
    if (depth === 1) {
      // An escaped key may spell a noted one: not vouched for.
      if (escaped) return false;
      member = noted(b, from, i - 1);
    }
    while (i < end && SPACE[b[i]!] === 1) i++;
    if (i >= end || b[i] !== 58) return false;
    i++;
    state = 0;
  }
}

/** The value of a noted string or number member as JSON.parse gives it; undefined when not vouched for. */
function plainValue(b: Buffer, slot: number): string | number | undefined {
  const from = spans[slot]!;
  const to = spans[slot + 1]!;
  if (from < 0) return undefined;
  if (b[from] === QUOTE) {
    for (let j = from + 1; j < to - 1; j++) if (b[j] === BACKSLASH) return undefined;
    return b.toString('utf8', from + 1, to - 1);
  }
  if (b[from] === 45 || (b[from]! >= 48 && b[from]! <= 57)) return Number(b.toString('latin1', from, to));
  return undefined;
}

/**
 * True when `checkLine(o.format, line, ctx, o)` would accept the line [start, stop) of `bytes`
 * (decoded as UTF-8) as Suricata EVE; false when it would not, or when this quick look cannot
 * tell (then ask `checkLine`).
 *
 * @example
 * if (!quickEve(body, from, stop, { format: 'auto' })) verdict = checkLine('auto', body.toString('utf8', from, stop), ctx);
 */
export function quickEve(bytes: Buffer, start: number, stop: number, o: NormaliseOptions & { readonly format: TelemetryFormat | 'auto' }): boolean {
  if (o.format !== 'auto' && o.format !== 'suricata-eve') return false;
  const length = stop - start; // bytes: at least as many as the line's UTF-16 units
  if (length > (o.maxLineLength ?? DEFAULT_MAX_LINE) || bytes[start] !== 123) return false;
  // A line long enough to exceed the field or string caps is scanned for them by checkLine.
  const limits = limitsOf(o);
  if (!withinByLength(length, limits) || !scanObject(bytes, start, stop, limits.maxDepth)) return false;
  // checkEve: a non-empty event_type string (no escape: compared as bytes); an alert has its object.
  const t0 = spans[EVENT_TYPE]!;
  const t1 = spans[EVENT_TYPE + 1]!;
  if (t0 < 0 || bytes[t0] !== QUOTE || t1 - t0 < 3) return false;
  for (let j = t0 + 1; j < t1 - 1; j++) if (bytes[j] === BACKSLASH) return false;
  if (t1 - t0 === 7 && bytes.toString('latin1', t0 + 1, t1 - 1) === 'alert' && bytes[spans[ALERT]!] !== 123) return false;
  const ts = plainValue(bytes, TIMESTAMP);
  return ts !== undefined && isTimestamp(ts);
}
