/**
 * API tokens: 32 random bytes, shown once as `sw_<id>_<secret>`; only the SHA-256 of the whole
 * token is stored. Lookup is by hash; the final comparison is constant-time.
 */
import crypto from 'node:crypto';

export interface IssuedToken {
  id: string;
  /** The secret; shown once, never stored. */
  token: string;
  hash: string;
}

export function issueToken(): IssuedToken {
  const id = crypto.randomBytes(6).toString('hex');
  const token = `sw_${id}_${crypto.randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** The exact shape of an issued token (`sw_`, 12 hex digits, `_`, 43 base64url characters). */
const TOKEN_SHAPE = /^sw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

/**
 * Whether an HTTP Basic secret is a token rather than a password: by its whole shape, not its
 * `sw_` start, so that a password beginning with `sw_` still signs in over Basic.
 */
export function looksLikeToken(secret: string): boolean {
  return TOKEN_SHAPE.test(secret);
}

/** Token id embedded in a token string, for audit lines about failed attempts (never the secret). */
export function tokenIdOf(token: string): string | null {
  const m = /^sw_([0-9a-f]{12})_/.exec(token);
  return m ? m[1]! : null;
}
