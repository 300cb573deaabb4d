/**
 * Timestamps. STIX 2.1 timestamps are RFC 3339 UTC with optional fractional seconds;
 * TAXII 2.1 (§2) requires exactly microsecond precision: YYYY-MM-DDTHH:MM:SS.ssssssZ.
 * Internally, TAXII `date_added` is kept as an integer count of microseconds since the epoch.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

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

function parseUncached(s: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const se = Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!)) return null;
  if (h > 23 || mi > 59 || se > 60) return null;
  // Kept from the original Date round-trip check: years 0-99 (Date.UTC reads them as 19xx) and
  // a leap second that would roll over into the next day are refused.
  if (y < 100 || (se === 60 && h === 23 && mi === 59)) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const frac = m[7];
  const micros = frac ? Number((frac + '000000').slice(0, 6)) : 0;
  return ms * 1000 + micros;
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
  const us = parseTimestampMicros(s);
  if (us === null) throw new Error(`not a timestamp: ${s}`);
  return formatMicros(us);
}
