/**
 * Opaque `next` cursors (TAXII §3.4, §3.7). A cursor is the last date_added of the page plus
 * the fingerprint of the filters and the organisation it was issued to, authenticated with
 * an HMAC key kept in the store — so it survives a restart, works on a second process, and
 * Appendix B's "MUST NOT be trusted blindly" holds: a cursor from another caller or another
 * query is refused, and the policy is applied again on every page anyway.
 *
 * The position is also encrypted (AES-256-GCM): a short page resumes after the last row the
 * request scanned, which may be an object version the caller may not read, and its date_added
 * (to the microsecond) would tell when that version arrived (docs/rest-api.md "GET /intel").
 * Cursors issued before (position in clear, same HMAC) are still taken.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Store } from '../store/index.js';

export class CursorCodec {
  readonly #sealKey: Buffer;

  private constructor(private readonly key: Buffer) {
    this.#sealKey = crypto.createHmac('sha256', key).update('shieldwall cursor encryption').digest();
  }

  static async load(store: Store): Promise<CursorCodec> {
    const secret = await store.initMeta('taxii.cursor-key', crypto.randomBytes(32).toString('base64'));
    return new CursorCodec(Buffer.from(secret, 'base64'));
  }

  #mac(payload: string): Buffer {
    return crypto.createHmac('sha256', this.key).update(payload).digest().subarray(0, 16);
  }

  encode(lastDateAdded: number, fingerprint: string, orgId: string): string {
    const payload = `${lastDateAdded}.${crypto.createHash('sha256').update(`${fingerprint}\u0000${orgId}`).digest('base64url').slice(0, 22)}`;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#sealKey, iv);
    const sealed = Buffer.concat([iv, cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    return `${sealed}.${this.#mac(sealed).toString('base64url')}`;
  }

  /** Returns the last date_added, or throws INVALID_CURSOR. */
  decode(cursor: string, fingerprint: string, orgId: string): number {
    const [p, m] = cursor.split('.');
    if (!p || !m) throw invalid();
    const mac = Buffer.from(m, 'base64url');
    const clear = Buffer.from(p, 'base64url').toString();
    let payload: string | null = null;
    if (this.#matches(mac, p)) payload = this.#open(p);
    else if (this.#matches(mac, clear)) payload = clear; // issued before positions were sealed
    if (payload === null) throw invalid();
    const [us, fp] = payload.split('.');
    const expected = crypto.createHash('sha256').update(`${fingerprint}\u0000${orgId}`).digest('base64url').slice(0, 22);
    if (fp !== expected) throw new AppError('INVALID_CURSOR', 'the next cursor was issued for different filters or another caller');
    const n = Number(us);
    if (!Number.isSafeInteger(n) || n < 0) throw invalid();
    return n;
  }

  #matches(mac: Buffer, payload: string): boolean {
    const want = this.#mac(payload);
    return mac.length === want.length && crypto.timingSafeEqual(mac, want);
  }

  /** The position sealed by `encode` (its MAC already checked); null when it does not open. */
  #open(sealed: string): string | null {
    const b = Buffer.from(sealed, 'base64url');
    if (b.length < 12 + 16 + 1) return null;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.#sealKey, b.subarray(0, 12));
      decipher.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([decipher.update(b.subarray(12, b.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

function invalid(): AppError {
  return new AppError('INVALID_CURSOR', 'malformed or forged next cursor', { details: { parameter: 'next' } });
}
