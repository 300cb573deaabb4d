/**
 * Opaque `next` cursors (TAXII §3.4, §3.7). A cursor is the last date_added of the page plus
 * the fingerprint of the filters and the organisation it was issued to, authenticated with
 * an HMAC key kept in the store — so it survives a restart, works on a second process, and
 * Appendix B's "MUST NOT be trusted blindly" holds: a cursor from another caller or another
 * query is refused, and the policy is applied again on every page anyway.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Store } from '../store/index.js';

export class CursorCodec {
  private constructor(private readonly key: Buffer) {}

  static async load(store: Store): Promise<CursorCodec> {
    const secret = await store.initMeta('taxii.cursor-key', crypto.randomBytes(32).toString('base64'));
    return new CursorCodec(Buffer.from(secret, 'base64'));
  }

  #mac(payload: string): Buffer {
    return crypto.createHmac('sha256', this.key).update(payload).digest().subarray(0, 16);
  }

  encode(lastDateAdded: number, fingerprint: string, orgId: string): string {
    const payload = `${lastDateAdded}.${crypto.createHash('sha256').update(`${fingerprint}\u0000${orgId}`).digest('base64url').slice(0, 22)}`;
    return `${Buffer.from(payload).toString('base64url')}.${this.#mac(payload).toString('base64url')}`;
  }

  /** Returns the last date_added, or throws INVALID_CURSOR. */
  decode(cursor: string, fingerprint: string, orgId: string): number {
    const [p, m] = cursor.split('.');
    if (!p || !m) throw invalid();
    const payload = Buffer.from(p, 'base64url').toString();
    const mac = Buffer.from(m, 'base64url');
    const want = this.#mac(payload);
    if (mac.length !== want.length || !crypto.timingSafeEqual(mac, want)) throw invalid();
    const [us, fp] = payload.split('.');
    const expected = crypto.createHash('sha256').update(`${fingerprint}\u0000${orgId}`).digest('base64url').slice(0, 22);
    if (fp !== expected) throw new AppError('INVALID_CURSOR', 'the next cursor was issued for different filters or another caller');
    const n = Number(us);
    if (!Number.isSafeInteger(n) || n < 0) throw invalid();
    return n;
  }
}

function invalid(): AppError {
  return new AppError('INVALID_CURSOR', 'malformed or forged next cursor', { details: { parameter: 'next' } });
}
