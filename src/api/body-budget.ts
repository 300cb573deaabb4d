/**
 * Bytes of request bodies a process reads at once. Each request body is read whole into memory
 * (up to SHIELDWALL_MAX_CONTENT_LENGTH, 100 MB by default) and JSON bodies are then parsed, so
 * a few dozen large uploads at the same time would run the API process out of memory — a crash
 * of the node that any member's account could cause. A body over 64 KiB (or of unknown length:
 * chunked, counted at the limit) reserves its declared size before it is read, after
 * authentication: past the account's share (2 × the body limit) the request is refused with 429,
 * past the process's total (4 × the body limit) with 503, both with Retry-After; the reservation
 * is returned when the answer is sent or the client goes away. Small bodies are never counted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';

/** Bodies up to this size are not counted (most API calls). */
export const SMALL_BODY = 64 * 1024;

export class BodyBudget {
  #inFlight = 0;
  readonly #byAccount = new Map<string, number>();
  constructor(readonly total: number, readonly perAccount: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Reserves `bytes` for `account`, or throws the refusal. */
  take(account: string, bytes: number): void {
    const mine = this.#byAccount.get(account) ?? 0;
    const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
    if (mine + bytes > this.perAccount) {
      throw new AppError('RATE_LIMITED', `this account is already sending ${mb(mine)} of request bodies (at most ${mb(this.perAccount)} at once); send this one when those are done`, { headers: { 'Retry-After': '5' } });
    }
    if (this.#inFlight + bytes > this.total) {
      throw new AppError('UNAVAILABLE', `the node is receiving ${mb(this.#inFlight)} of request bodies (at most ${mb(this.total)} at once); retry shortly`, { headers: { 'Retry-After': '5' } });
    }
    this.#byAccount.set(account, mine + bytes);
    this.#inFlight += bytes;
  }

  give(account: string, bytes: number): void {
    const left = (this.#byAccount.get(account) ?? 0) - bytes;
    if (left > 0) this.#byAccount.set(account, left);
    else this.#byAccount.delete(account);
    this.#inFlight = Math.max(0, this.#inFlight - bytes);
  }
}

/** What a request declares it will send: its Content-Length, or the limit when chunked; 0 without a body. */
function declaredBytes(req: FastifyRequest, bodyLimit: number): number {
  const len = req.headers['content-length'];
  if (len !== undefined) {
    const n = Number(len);
    return Number.isFinite(n) && n >= 0 ? Math.min(n, bodyLimit) : bodyLimit;
  }
  return req.headers['transfer-encoding'] !== undefined ? bodyLimit : 0;
}

/** Counts large bodies against the budget on every route (after the routes' authentication hooks). */
export function limitBodies(app: FastifyInstance, bodyLimit: number): BodyBudget {
  const budget = new BodyBudget(4 * bodyLimit, 2 * bodyLimit);
  const held = new WeakMap<object, { account: string; bytes: number }>();
  const release = async (req: FastifyRequest) => {
    const h = held.get(req);
    if (!h) return;
    held.delete(req);
    budget.give(h.account, h.bytes);
  };
  app.addHook('preParsing', async (req, _reply, payload) => {
    const bytes = declaredBytes(req, bodyLimit);
    if (bytes <= SMALL_BODY) return payload;
    const p = req.principal;
    const account = p ? (p.userId ?? p.tokenId ?? p.orgId) : `address ${req.ip}`;
    budget.take(account, bytes);
    held.set(req, { account, bytes });
    return payload;
  });
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
  return budget;
}
