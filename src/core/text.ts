/** Text as both stores can keep it. */

/**
 * `t` with every NUL character (U+0000) replaced by U+FFFD. PostgreSQL text cannot hold a NUL
 * and SQLite's can: a derived text column (a display name, search text, an alert's group key)
 * goes through this so that both stores keep the same text and no write fails on PostgreSQL. The
 * authoritative JSON keeps the character (JSON.stringify writes it as the escape `\u0000`).
 */
export function withoutNul(t: string): string {
  return t.includes('\u0000') ? t.replaceAll('\u0000', '\ufffd') : t;
}
