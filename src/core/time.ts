/**
 * Timestamps. STIX 2.1 timestamps are RFC 3339 UTC with optional fractional seconds;
 * TAXII 2.1 (§2) requires exactly microsecond precision: YYYY-MM-DDTHH:MM:SS.ssssssZ.
 * Internally, TAXII `date_added` is kept as an integer count of microseconds since the epoch.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Parses an RFC 3339 UTC timestamp to microseconds since the epoch; null when malformed. */
export function parseTimestampMicros(s: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms)) return null;
  const check = new Date(ms);
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) {
    return null;
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 60) return null;
  const micros = frac ? Number((frac + '000000').slice(0, 6)) : 0;
  return ms * 1000 + micros;
}

export function isStixTimestamp(s: unknown): s is string {
  return typeof s === 'string' && parseTimestampMicros(s) !== null;
}

/** Formats microseconds since the epoch as a TAXII timestamp with exactly six fractional digits. */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
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
