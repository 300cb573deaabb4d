/**
 * Credentials from an HTTP Authorization header: `Bearer <token>` or `Basic base64(user:secret)`
 * where the secret is the user's password or one of their API tokens (TAXII §8.2.2 asks
 * servers to support HTTP Basic; clients that can only do Basic still get token security).
 */
import { AppError } from '../core/errors.js';
import type { AccessService, Principal } from './service.js';
import { looksLikeToken } from './tokens.js';

export const WWW_AUTHENTICATE = 'Basic realm="shieldwall", charset="UTF-8", Bearer realm="shieldwall"';

export async function authenticateHeader(access: AccessService, header: string | undefined, source: string): Promise<Principal> {
  if (!header) throw unauthenticated('authentication required');
  const sp = header.indexOf(' ');
  const scheme = (sp > 0 ? header.slice(0, sp) : header).toLowerCase();
  const value = sp > 0 ? header.slice(sp + 1).trim() : '';
  if (scheme === 'bearer' && value) return access.authenticateToken(value, source).catch(rethrow);
  if (scheme === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthenticated('malformed Basic credentials');
    const user = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    if (looksLikeToken(secret)) {
      const p = await access.authenticateToken(secret, source).catch(rethrow);
      if (p.username !== null && p.username !== user) throw unauthenticated('invalid credentials');
      return p;
    }
    return access.authenticatePassword(user, secret, source).catch(rethrow);
  }
  throw unauthenticated('unsupported authorization scheme; use Bearer or Basic');
}

function unauthenticated(msg: string): AppError {
  return new AppError('UNAUTHENTICATED', msg, { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } });
}

function rethrow(e: unknown): never {
  if (e instanceof AppError && e.code === 'UNAUTHENTICATED') throw unauthenticated(e.message);
  throw e;
}
