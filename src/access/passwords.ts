/** Password hashing with scrypt (node:crypto), constant-time verification. */
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const N = 16384, R = 8, P = 1, LEN = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, LEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

/** The longest password: what sign-in (POST /auth/login) accepts; a longer one could be set but never used. */
export const PASSWORD_MAX = 1024;
export const PASSWORD_MIN = 12;

/** Why a password may not be set for `username`, or null when it may. */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < PASSWORD_MIN) return `password must have at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `password must have at most ${PASSWORD_MAX} characters`;
  if (password.toLowerCase() === username.toLowerCase()) return 'password must not be the username';
  return null;
}

/** A password that fails verification, hashed once, so unknown users cost the same time as known ones. */
export const DUMMY_HASH = await hashPassword(crypto.randomBytes(12).toString('hex'));
