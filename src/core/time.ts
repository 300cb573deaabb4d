/**
 * Timestamps. STIX 2.1 timestamps are RFC 3339 UTC with optional fractional seconds;
 * TAXII 2.1 (§2) requires exactly microsecond precision: YYYY-MM-DDTHH:MM:SS.ssssssZ.
 * Internally, TAXII `date_added` is kept as an integer count of microseconds since the epoch.
 */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

// One STIX object usually repeats the same timestamp (created = modified = valid_from), and
// an import parses each several times (validation, version key): remember the last answer.
let lastParsed: string | null = null;
let lastMicros: number | null = null;

/** Parses an RFC 3339 UTC timestamp to microseconds since the epoch; null when malformed. */
export function parseTimestampMicros(s: string): number | null {
  if (s === lastParsed) return lastMicros;
  const v = parseUncached(s);
  lastParsed = s;
  lastMicros = v;
  return v;
}

/** The number written by the `n` decimal digits at `at`, or -1 when one of them is not a digit. */
export function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * RFC 3339 UTC as STIX writes it: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits,
 * `Z`. Read character by character (an import reads three per object; a regular expression's
 * match array and substrings were a tenth of what validating an indicator allocated).
 */
function parseUncached(s: string): number | null {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return null;
  let micros = 0;
  if (n > 20) {
    // `.` then 1 to 9 digits before the Z; the first six are the microseconds.
    if (s.charCodeAt(19) !== 46 || n < 22) return null;
    const frac = n - 21;
    const v = digits(s, 20, frac);
    if (v < 0) return null;
    micros = frac >= 6 ? Math.floor(v / 10 ** (frac - 6)) : v * 10 ** (6 - frac);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!)) return null;
  if (h > 23 || mi > 59 || se > 60) return null;
  // Kept from the original Date round-trip check: years 0-99 (Date.UTC reads them as 19xx) and
  // a leap second that would roll over into the next day are refused.
  if (y < 100 || (se === 60 && h === 23 && mi === 59)) return null;
  return Date.UTC(y, mo - 1, d, h, mi, se) * 1000 + micros;
}

export function isStixTimestamp(s: unknown): s is string {
  return typeof s === 'string' && parseTimestampMicros(s) !== null;
}

// As for parsing: an import formats the version key of each object twice (as submitted, and
// the stored version), and consecutive objects often share it.
let lastFormattedUs = Number.NaN;
let lastFormatted = '';

/** Formats microseconds since the epoch as a TAXII timestamp with exactly six fractional digits. */
export function formatMicros(us: number): string {
  if (us === lastFormattedUs) return lastFormatted;
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  lastFormatted = `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
  lastFormattedUs = us;
  return lastFormatted;
}

/** Formats milliseconds as a STIX timestamp with millisecond precision. */
export function formatStixTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Normalises a STIX timestamp to a fixed-width, lexically sortable key (microsecond
 * precision), so that versions compare correctly in SQL with plain string ordering.
 */
export function versionKey(s: string): string {
  const key = timestampKey(s);
  if (key === null) throw new Error(`not a timestamp: ${s}`);
  return key;
}

/**
 * The version key of a timestamp (as versionKey), null when it is malformed. A valid timestamp's
 * key is its own text with the fraction cut or padded to six digits, built from the text without
 * a Date (an import keys every object; formatting through a Date cost a microsecond each), and
 * exact where microseconds since the epoch no longer fit a double (before 1685, after 2255).
 */
export function timestampKey(s: string): string | null {
  const us = parseTimestampMicros(s);
  if (us === null) return null;
  const frac = s.length > 20 ? s.slice(20, Math.min(s.length - 1, 26)) : '';
  // A leap second is the first second of the next minute (exact in milliseconds at any year).
  const second = s.charCodeAt(17) === 54 && s.charCodeAt(18) === 48 ? new Date(Date.parse(`${s.slice(0, 17)}59Z`) + 1000).toISOString().slice(0, 19) : s.slice(0, 19);
  return `${second}.${frac.length === 6 ? frac : frac.padEnd(6, '0')}Z`;
}
