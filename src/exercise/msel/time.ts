/**
 * Times of an MSEL cell. A relative time (T+) is a duration from the exercise start; an
 * absolute time is a UTC instant that the importer converts to T+ from the exercise start
 * given to it, else from the earliest absolute time of the sheet. Every parser here runs in
 * time linear in its input (anchored regular expressions without nested repetition).
 */

/** `T+01:30`, `01:30:15`, `1d 02:00`, `T+1d02:00:00` → seconds. */
const CLOCK = /^(?:t\s*\+\s*)?(?:(\d{1,3})\s*d\s*)?(\d{1,4}):([0-5]\d)(?::([0-5]\d))?$/i;
/** `90s`, `15m`, `2h`, `1h30m`, `1d 4h`, `T+45m` → seconds. */
const UNITS = /^(?:t\s*\+\s*)?(?:(\d{1,4})\s*d)?\s*(?:(\d{1,5})\s*h)?\s*(?:(\d{1,6})\s*m(?:in)?)?\s*(?:(\d{1,8})\s*s)?$/i;
/** A bare number is minutes (the usual unit of MSEL sheets). */
const MINUTES = /^(?:t\s*\+\s*)?(\d{1,7}(?:\.\d{1,3})?)$/i;
/** ISO 8601 date-time with or without zone, or `YYYY-MM-DD HH:MM[:SS]` (read as UTC). */
const ABSOLUTE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

const n = (s: string | undefined): number => (s ? Number(s) : 0);

/** Seconds of a relative time, or undefined when the text is not one. */
export function parseRelative(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let m = CLOCK.exec(t);
  if (m) return n(m[1]) * 86_400 + n(m[2]) * 3600 + n(m[3]) * 60 + n(m[4]);
  m = MINUTES.exec(t);
  if (m) return Math.round(Number(m[1]) * 60);
  m = UNITS.exec(t);
  if (m && (m[1] ?? m[2] ?? m[3] ?? m[4]) !== undefined) return n(m[1]) * 86_400 + n(m[2]) * 3600 + n(m[3]) * 60 + n(m[4]);
  return undefined;
}

/** Epoch milliseconds of an absolute time (UTC unless the text carries a zone), or undefined. */
export function parseAbsolute(text: string): number | undefined {
  const m = ABSOLUTE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || Number(mi) > 59 || n(s) > 59) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, hour, Number(mi), n(s));
  // Date.UTC rolls 31 February over to March; refuse it rather than shift the inject.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

/** `3600` → `T+01:00:00`, for messages and documentation. */
export function formatRelative(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (v: number) => String(v).padStart(2, '0');
  return `T+${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}
