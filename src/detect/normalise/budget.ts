/**
 * Per-event budgets (DESIGN §2.7: nothing a user supplies may cost more than linear time): caps
 * on the number of fields, the nesting depth and the total bytes of string values a rule may
 * scan. An event over a cap is refused at ingest with its line number and the reason, like a
 * malformed line, so detection (Sigma keyword searches and regexes, indicator probes) never
 * walks a 100k-field or megabyte-of-text event.
 *
 * Cheap first: a field takes at least two characters of JSON (`0,`) and a UTF-16 unit at most
 * three UTF-8 bytes, so a line of at most `2 × maxFields` characters and `maxStringBytes / 3`
 * characters cannot exceed those caps and is not scanned. A longer JSON line is scanned once,
 * character by character, BEFORE `JSON.parse`, without allocating: a hostile line is refused
 * without building its object.
 */
import type { NormaliseOptions } from './types.js';
import { DEFAULT_MAX_DEPTH } from './types.js';
import type { Obj } from './util.js';

export interface EventLimits {
  /** Object members plus array elements at any depth. */
  readonly maxFields: number;
  /** Deepest nesting of objects and arrays. */
  readonly maxDepth: number;
  /** UTF-8 bytes of all string values (not keys), as written in the JSON text. */
  readonly maxStringBytes: number;
}

export const DEFAULT_MAX_FIELDS = 10_000;
export const DEFAULT_MAX_STRING_BYTES = 524_288;

const DEFAULT_LIMITS: EventLimits = Object.freeze({ maxFields: DEFAULT_MAX_FIELDS, maxDepth: DEFAULT_MAX_DEPTH, maxStringBytes: DEFAULT_MAX_STRING_BYTES });

/**
 * The caps `o` sets, the defaults for those it leaves out. Options that set all three (the
 * node's configured limits, passed for every line of a request) are the limits themselves: no
 * object is built per line.
 */
export function limitsOf(o: NormaliseOptions): EventLimits {
  if (o.maxFields === undefined && o.maxDepth === undefined && o.maxStringBytes === undefined) return DEFAULT_LIMITS;
  if (o.maxFields !== undefined && o.maxDepth !== undefined && o.maxStringBytes !== undefined) return o as EventLimits;
  return { maxFields: o.maxFields ?? DEFAULT_MAX_FIELDS, maxDepth: o.maxDepth ?? DEFAULT_MAX_DEPTH, maxStringBytes: o.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES };
}

/** True when a line of this length cannot exceed the field and string caps (no scan needed). */
export function withinByLength(length: number, limits: EventLimits): boolean {
  return length <= 2 * limits.maxFields && length * 3 <= limits.maxStringBytes;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_OBJ = 123;
const CLOSE_OBJ = 125;
const OPEN_ARR = 91;
const CLOSE_ARR = 93;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Scans a JSON text for the caps; returns the reason of the first cap exceeded, or null. Does not
 * validate the JSON (JSON.parse does that next): on malformed text the counts are still upper
 * bounds of nothing harmful, since the parse then refuses the line.
 */
export function scanJsonBudget(text: string, limits: EventLimits): string | null {
  let fields = 0;
  let depth = 0;
  let bytes = 0;
  // The container kind of each open level (bounded: the scan stops beyond maxDepth).
  const kinds: number[] = [];
  let pendingElement = false;
  let afterColon = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) continue;
    if (pendingElement && c !== CLOSE_ARR) fields++;
    pendingElement = false;
    if (c === QUOTE) {
      // A string: a value when it follows ':' or sits in an array; a key otherwise.
      const value = afterColon || kinds[depth - 1] === OPEN_ARR;
      let j = i + 1;
      let b = 0;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          j += 2;
          b += 2;
          continue;
        }
        b += d < 0x80 ? 1 : d < 0x800 ? 2 : d >= 0xd800 && d <= 0xdfff ? 2 : 3;
        j++;
      }
      if (value) {
        bytes += b;
        if (bytes > limits.maxStringBytes) return `string values of more than ${limits.maxStringBytes} bytes in one event`;
      }
      i = j;
      afterColon = false;
      continue;
    }
    afterColon = false;
    if (c === COLON) {
      afterColon = true;
      if (++fields > limits.maxFields) return `more than ${limits.maxFields} fields in one event`;
    } else if (c === COMMA) {
      if (kinds[depth - 1] === OPEN_ARR && ++fields > limits.maxFields) return `more than ${limits.maxFields} fields in one event`;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > limits.maxDepth) return `JSON nested deeper than ${limits.maxDepth} levels`;
      kinds[depth - 1] = c;
      pendingElement = c === OPEN_ARR;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (depth > 0) depth--;
    }
    if (fields > limits.maxFields) return `more than ${limits.maxFields} fields in one event`;
  }
  return null;
}

/**
 * The same caps on a parsed value (an already parsed record, or the `original` of a text format):
 * an iterative walk that stops at the first cap exceeded.
 */
export function valueBudget(v: unknown, limits: EventLimits): string | null {
  let fields = 0;
  let bytes = 0;
  const stack: unknown[] = [v];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const cur = stack.pop();
    const depth = depths.pop() ?? 0;
    if (typeof cur === 'string') {
      bytes += Buffer.byteLength(cur);
      if (bytes > limits.maxStringBytes) return `string values of more than ${limits.maxStringBytes} bytes in one event`;
      continue;
    }
    if (cur === null || typeof cur !== 'object') continue;
    if (depth + 1 > limits.maxDepth) return `JSON nested deeper than ${limits.maxDepth} levels`;
    const items = Array.isArray(cur) ? cur : Object.values(cur as Obj);
    fields += items.length;
    if (fields > limits.maxFields) return `more than ${limits.maxFields} fields in one event`;
    for (const x of items) {
      stack.push(x);
      depths.push(depth + 1);
    }
  }
  return null;
}
