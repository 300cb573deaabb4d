/**
 * The wait a Retry-After header asks for, in ms (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date); null when absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | string[] | undefined | null, nowMs: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return null; // "1.5", "-3": not a delay-seconds, and not a date either
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** The longest a server's Retry-After holds a federation subscription or a TAXII feed (s): a day. */
export const MAX_RETRY_AFTER_S = 86_400;
