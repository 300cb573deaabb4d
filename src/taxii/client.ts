/**
 * A TAXII 2.1 client over fetch (undici): discovery (§4.1), API root (§4.2), status (§4.3),
 * collections (§5.1, §5.2), manifest (§5.3), objects (§5.4, §5.5), one object (§5.6, §5.7)
 * and versions (§5.8). Pagination follows `next`, or — when the server says `more` without
 * a `next` — asks again with `added_after` = the previous X-TAXII-Date-Added-Last (§3.5).
 * Clients MUST implement HTTP Basic (§8.5.1); Bearer tokens are supported too. Every call
 * takes an AbortSignal and a timeout; errors carry the server's TAXII error message (§3.6.1).
 */
import type * as Undici from 'undici';
import type { Agent, RequestInit } from 'undici';
import { readAtMost } from '../core/read-capped.js';
import { guardedLookup, refusal, refusedAddress } from '../core/outbound.js';
import { parseRetryAfter } from '../core/retry-after.js';

export { refusedAddress };

/** undici is loaded on first use: a node that never pulls from a peer does not pay for loading it at start. */
let undiciModule: Promise<typeof Undici> | null = null;
const undici = () => (undiciModule ??= import('undici'));

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export type TaxiiAuth =
  | { kind: 'bearer'; token: string }
  /** `password` may also be an API token (Shieldwall accepts user:token over Basic). */
  | { kind: 'basic'; username: string; password: string };

export interface TaxiiTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM), for servers that authenticate clients by certificate. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true. Turning it off is for tests against throw-away certificates only. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface TaxiiClientOptions {
  /** Server root, e.g. `https://taxii.example.org:8443`; discovery is `${url}/taxii2/` (§8.2.1). */
  url: string;
  auth?: TaxiiAuth;
  tls?: TaxiiTlsOptions;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /**
   * Largest answer read, in bytes (default {@link DEFAULT_MAX_RESPONSE_BYTES}): a server (a peer
   * node, broken or hostile) that sends more is cut off with an error whose `tooLarge` is set,
   * before the answer is held whole in memory or parsed.
   */
  maxResponseBytes?: number;
  userAgent?: string;
}

/** The longest `next` token taken from a server (it is sent back in a URL, where servers take a few KB). */
export const MAX_NEXT_LENGTH = 8192;

/** Default cap of one answer: a TAXII page of 1,000 objects of a few KB each is a few MB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

/** TAXII query parameters (§3.4). Lists become comma-separated values. */
export interface TaxiiQuery {
  addedAfter?: string;
  limit?: number;
  next?: string;
  match?: { id?: readonly string[]; type?: readonly string[]; version?: readonly string[]; spec_version?: readonly string[] };
}

type Match = NonNullable<TaxiiQuery['match']>;
export type ObjectQuery = Omit<TaxiiQuery, 'match'> & { match?: Pick<Match, 'version' | 'spec_version'> };
export type VersionsQuery = Omit<TaxiiQuery, 'match'> & { match?: Pick<Match, 'spec_version'> };

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra request headers (a Shieldwall peer's `x-shieldwall-envelopes`). */
  headers?: Readonly<Record<string, string>>;
}

/** The TAXII error message resource (§3.6.1), as far as the server sent one. */
export interface TaxiiErrorMessage {
  title: string;
  description?: string;
  error_id?: string;
  error_code?: string;
  http_status?: string;
  external_details?: string;
  details?: Record<string, unknown>;
}

export class TaxiiClientError extends Error {
  /** HTTP status, or null when no answer came (network, timeout, abort). */
  readonly status: number | null;
  readonly url: string;
  /** The server's TAXII error message, when it sent one. */
  readonly taxii: TaxiiErrorMessage | null;
  /** The answer was larger than the client's `maxResponseBytes` (a page: ask for fewer objects). */
  readonly tooLarge: boolean;
  /** How long the server asked to be left alone (its Retry-After on a 429 or 503), in ms; null: it did not say. */
  readonly retryAfterMs: number | null;
  constructor(message: string, info: { status: number | null; url: string; taxii?: TaxiiErrorMessage | null; cause?: unknown; tooLarge?: boolean; retryAfterMs?: number | null }) {
    super(message, { cause: info.cause });
    this.name = 'TaxiiClientError';
    this.status = info.status;
    this.url = info.url;
    this.taxii = info.taxii ?? null;
    this.tooLarge = info.tooLarge ?? false;
    this.retryAfterMs = info.retryAfterMs ?? null;
  }
}

/** One page of a paginated endpoint, with the §3.2 headers. */
export interface TaxiiPage<T> {
  items: T[];
  more: boolean;
  next?: string;
  dateAddedFirst?: string;
  dateAddedLast?: string;
  /** The envelope's custom properties (`x_…`), when the server sent any. */
  custom?: Record<string, unknown>;
}

export interface ManifestEntry {
  id: string;
  date_added: string;
  version: string;
  media_type?: string;
}

export interface TaxiiCollection {
  id: string;
  title: string;
  description?: string;
  alias?: string;
  can_read: boolean;
  can_write: boolean;
  media_types?: string[];
}

export interface TaxiiStatus {
  id: string;
  status: 'complete' | 'pending';
  request_timestamp?: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: { id: string; version: string; message?: string }[];
  failures?: { id: string; version?: string; message?: string }[];
  pendings?: { id: string; version: string; message?: string }[];
}

type StixObject = Record<string, unknown>;
type Json = Record<string, unknown>;

export class TaxiiClient {
  readonly #base: string;
  readonly #agent: Promise<Agent>;
  readonly #auth: string | undefined;
  /** What of the credentials a server's answer might quote back: never put in an error text. */
  readonly #secrets: string[];
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #ua: string;

  constructor(opts: TaxiiClientOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    const tls = opts.tls ?? {};
    this.#agent = undici().then(({ Agent }) => new Agent({
      connect: {
        ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}),
        ...(tls.servername ? { servername: tls.servername } : {}), rejectUnauthorized: tls.rejectUnauthorized ?? true,
        minVersion: 'TLSv1.2', // §1.6.6
        lookup: guardedLookup,
      },
    }));
    this.#auth = authHeader(opts.auth);
    this.#secrets = secretsOf(opts.auth, this.#auth);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#ua = opts.userAgent ?? 'shieldwall-taxii-client/0.1';
  }

  /** Releases the connection pool. */
  async close(): Promise<void> {
    await (await this.#agent).close();
  }

  discovery(o: CallOptions = {}): Promise<Json> {
    return this.#json('GET', `${this.#base}/taxii2/`, o).then((r) => r.body);
  }

  apiRoot(root: string, o: CallOptions = {}): Promise<Json & { versions: string[]; max_content_length: number }> {
    return this.#json('GET', this.rootUrl(root), o).then((r) => r.body as Json & { versions: string[]; max_content_length: number });
  }

  status(root: string, statusId: string, o: CallOptions = {}): Promise<TaxiiStatus> {
    return this.#json('GET', `${this.rootUrl(root)}status/${enc(statusId)}/`, o).then((r) => r.body as unknown as TaxiiStatus);
  }

  /** A JSON request to another path of the same server (the federation envelopes of a Shieldwall peer). */
  async request(method: 'GET' | 'POST', path: string, body?: unknown, o: CallOptions = {}): Promise<Json> {
    return (await this.#json(method, `${this.#base}${path}`, { ...o, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })).body;
  }

  async collections(root: string, o: CallOptions = {}): Promise<TaxiiCollection[]> {
    const r = await this.#json('GET', `${this.rootUrl(root)}collections/`, o);
    return (r.body.collections as TaxiiCollection[] | undefined) ?? [];
  }

  collection(root: string, id: string, o: CallOptions = {}): Promise<TaxiiCollection> {
    return this.#json('GET', this.#coll(root, id), o).then((r) => r.body as unknown as TaxiiCollection);
  }

  manifest(root: string, collectionId: string, q: TaxiiQuery & CallOptions = {}): Promise<TaxiiPage<ManifestEntry>> {
    return this.#page(`${this.#coll(root, collectionId)}manifest/`, { q, key: 'objects' });
  }

  getObjects(root: string, collectionId: string, q: TaxiiQuery & CallOptions = {}): Promise<TaxiiPage<StixObject>> {
    return this.#page(`${this.#coll(root, collectionId)}objects/`, { q, key: 'objects' });
  }

  /** Get an Object (§5.6): filters added_after, limit, next, match[version], match[spec_version]. */
  getObject(root: string, collectionId: string, objectId: string, q: ObjectQuery & CallOptions = {}): Promise<TaxiiPage<StixObject>> {
    return this.#page(`${this.#coll(root, collectionId)}objects/${enc(objectId)}/`, { q, key: 'objects' });
  }

  /** Object Versions (§5.8): filters added_after, limit, next, match[spec_version]. */
  versions(root: string, collectionId: string, objectId: string, q: VersionsQuery & CallOptions = {}): Promise<TaxiiPage<string>> {
    return this.#page(`${this.#coll(root, collectionId)}objects/${enc(objectId)}/versions/`, { q, key: 'versions' });
  }

  /** Delete an Object (§5.7): filters match[version], match[spec_version]. */
  async deleteObject(root: string, collectionId: string, objectId: string, q: { match?: ObjectQuery['match'] } & CallOptions = {}): Promise<void> {
    await this.#json('DELETE', `${this.#coll(root, collectionId)}objects/${enc(objectId)}/${queryString({ ...(q.match ? { match: q.match } : {}) })}`, q);
  }

  /**
   * POST an envelope (§5.5); answers the status resource of the 202. `extra`: custom
   * properties of the envelope beside `objects` (a Shieldwall peer's `x_shieldwall_envelopes`).
   */
  async addObjects(root: string, collectionId: string, objects: readonly unknown[], o: CallOptions & { extra?: Record<string, unknown> } = {}): Promise<TaxiiStatus> {
    const r = await this.#json('POST', `${this.#coll(root, collectionId)}objects/`, { ...o, body: JSON.stringify({ ...(o.extra ?? {}), objects }) });
    return r.body as unknown as TaxiiStatus;
  }

  /**
   * Polls the status resource until it is complete (§4.3), every `intervalMs` up to `timeoutMs`;
   * past it, throws, or with `orPending` answers the last status (still pending).
   */
  async waitForStatus(root: string, status: TaxiiStatus, o: CallOptions & { intervalMs?: number; timeoutMs?: number; orPending?: boolean } = {}): Promise<TaxiiStatus> {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    let s = status;
    while (s.status !== 'complete') {
      if (Date.now() > deadline) {
        if (o.orPending) return s;
        throw new TaxiiClientError(`status ${s.id} still pending after ${o.timeoutMs ?? 60_000} ms`, { status: null, url: this.rootUrl(root) });
      }
      await sleep(o.intervalMs ?? 1000, o.signal);
      s = await this.status(root, s.id, o);
    }
    return s;
  }

  /**
   * Every page of Get Objects with the same filters (§3.5): follows `next`; when `more` comes
   * without `next`, continues with `added_after` = the last page's X-TAXII-Date-Added-Last.
   */
  async *pages(root: string, collectionId: string, q: TaxiiQuery & CallOptions = {}): AsyncGenerator<TaxiiPage<StixObject>> {
    let cur: TaxiiQuery & CallOptions = q;
    for (;;) {
      const page = await this.getObjects(root, collectionId, cur);
      yield page;
      if (!page.more) return;
      cur = nextQuery(q, page, this.rootUrl(root));
    }
  }

  /** The absolute URL of an API root given by name (`api1`), path (`/api1/`) or URL (from discovery). */
  rootUrl(root: string): string {
    if (/^https?:\/\//i.test(root)) return root.endsWith('/') ? root : `${root}/`;
    const name = root.replace(/^\/+|\/+$/g, '');
    return `${this.#base}/${name.split('/').map(enc).join('/')}/`;
  }

  #coll(root: string, id: string): string {
    return `${this.rootUrl(root)}collections/${enc(id)}/`;
  }

  async #page<T>(url: string, a: { q: TaxiiQuery & CallOptions; key: 'objects' | 'versions' }): Promise<TaxiiPage<T>> {
    const r = await this.#json('GET', `${url}${queryString(a.q)}`, a.q);
    const items = r.body[a.key];
    if (items !== undefined && !Array.isArray(items)) throw new TaxiiClientError(`malformed envelope: "${a.key}" is not a list`, { status: r.status, url });
    const page: TaxiiPage<T> = { items: (items as T[] | undefined) ?? [], more: r.body.more === true };
    if (typeof r.body.next === 'string' && r.body.next) {
      // It goes back in the next request's URL and is kept as a durable cursor: bounded.
      if (r.body.next.length > MAX_NEXT_LENGTH) throw new TaxiiClientError(`malformed envelope: a next token of ${r.body.next.length} characters (at most ${MAX_NEXT_LENGTH})`, { status: r.status, url });
      page.next = r.body.next;
    }
    const first = r.headers.get('x-taxii-date-added-first');
    const last = r.headers.get('x-taxii-date-added-last');
    if (first) page.dateAddedFirst = first;
    if (last) page.dateAddedLast = last;
    for (const k of Object.keys(r.body)) {
      if (k.startsWith('x_')) (page.custom ??= {})[k] = r.body[k];
    }
    return page;
  }

  async #json(method: 'GET' | 'POST' | 'DELETE', url: string, o: CallOptions & { body?: string }): Promise<{ status: number; headers: Headers; body: Json }> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const headers: Record<string, string> = { ...o.headers, accept: TAXII_MEDIA_TYPE, 'user-agent': this.#ua };
    if (this.#auth) headers.authorization = this.#auth;
    if (o.body !== undefined) headers['content-type'] = TAXII_MEDIA_TYPE;
    // A redirect is not followed: it would send the node's requests (with its credentials, on the same origin) to
    // wherever the server points (configure the URL it names instead).
    const init: RequestInit = { method, headers, signal, redirect: 'manual', dispatcher: await this.#agent, ...(o.body !== undefined ? { body: o.body } : {}) };
    const { fetch } = await undici();
    // An address given as such is not looked up: checked here.
    const host = URL.canParse(url) ? new URL(url).hostname : '';
    if (refusedAddress(host)) throw new TaxiiClientError(`${method} ${url}: ${refusal(host, host)}`, { status: null, url });
    let res;
    let text: string;
    try {
      res = await fetch(url, init);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const to = res.headers.get('location');
        throw new TaxiiClientError(`${method} ${url}: HTTP ${res.status} redirect${to ? ` to ${this.#redact(to).slice(0, 200)}` : ''}, not followed: configure the URL the server names`, { status: res.status, url });
      }
      text = await this.#readCapped(res, `${method} ${url}`);
    } catch (e) {
      if (e instanceof TaxiiClientError) throw e;
      if (o.signal?.aborted) throw new TaxiiClientError(`${method} ${url}: aborted`, { status: null, url, cause: o.signal.reason ?? e });
      if (timeout.aborted) throw new TaxiiClientError(`${method} ${url}: no answer within ${this.#timeoutMs} ms`, { status: null, url, cause: e });
      const why = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw new TaxiiClientError(`${method} ${url}: ${why}`, { status: null, url, cause: e });
    }
    let body: unknown = {};
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (!res.ok) {
      // The server's words may quote the credentials it was sent (a hostile or careless server):
      // the error text ends up in logs and in a feed's or subscription's last error.
      if (this.#secrets.some((x) => text.includes(x))) {
        text = this.#redact(text);
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      const err = isErrorMessage(body) ? body : null;
      const what = err ? `${err.title}${err.description ? `: ${err.description}` : ''}` : text.slice(0, 200) || res.statusText;
      // RFC 9110 §10.2.3 / RFC 6585 §4: how long to wait before asking again.
      const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), Date.now()) : null;
      throw new TaxiiClientError(`${method} ${url}: HTTP ${res.status} ${what}`, { status: res.status, url, taxii: err, retryAfterMs });
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new TaxiiClientError(`${method} ${url}: the answer is not a JSON object (content-type ${res.headers.get('content-type') ?? 'none'})`, { status: res.status, url });
    }
    return { status: res.status, headers: res.headers as unknown as Headers, body: body as Json };
  }

  #redact(s: string): string {
    return this.#secrets.reduce((t, x) => t.split(x).join('[redacted]'), s);
  }

  /** The answer's text, refused past `maxResponseBytes` (by its Content-Length, else while it streams in). */
  async #readCapped(res: Awaited<ReturnType<typeof Undici.fetch>>, what: string): Promise<string> {
    const url = res.url;
    const tooLarge = () => new TaxiiClientError(`${what}: the answer is larger than ${this.#maxBytes} bytes, the most this client reads at once`, { status: res.status, url, tooLarge: true });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.#maxBytes) {
      await res.body?.cancel();
      throw tooLarge();
    }
    if (!res.body) return '';
    const body = await readAtMost(res.body as AsyncIterable<Uint8Array>, this.#maxBytes);
    if (body === null) throw tooLarge();
    return body.toString('utf8');
  }
}

/** The query for the page after `page`, with the original filters (§3.4 "same filters"); `next` first, else the §3.5 added_after fallback. */
export function nextQuery(q: TaxiiQuery & CallOptions, page: TaxiiPage<unknown>, url: string): TaxiiQuery & CallOptions {
  const { next: _n, ...base } = q;
  if (page.next) return { ...base, next: page.next };
  if (page.dateAddedLast) return { ...base, addedAfter: page.dateAddedLast };
  throw new TaxiiClientError('the server answered more:true without next or X-TAXII-Date-Added-Last: cannot continue', { status: null, url });
}

export function queryString(q: TaxiiQuery): string {
  const sp = new URLSearchParams();
  if (q.addedAfter !== undefined) sp.set('added_after', q.addedAfter);
  if (q.limit !== undefined) sp.set('limit', String(q.limit));
  if (q.next !== undefined) sp.set('next', q.next);
  for (const [field, values] of Object.entries(q.match ?? {})) {
    if (values && values.length) sp.set(`match[${field}]`, values.join(','));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

function authHeader(a: TaxiiAuth | undefined): string | undefined {
  if (!a) return undefined;
  switch (a.kind) {
    case 'bearer':
      return `Bearer ${a.token}`;
    case 'basic':
      return `Basic ${Buffer.from(`${a.username}:${a.password}`, 'utf8').toString('base64')}`;
  }
}

/** The credential strings a server could quote back, longest first (the header before the token in it). */
function secretsOf(a: TaxiiAuth | undefined, header: string | undefined): string[] {
  if (!a || !header) return [];
  const parts = a.kind === 'bearer' ? [header, a.token] : [header, header.slice('Basic '.length), a.password, `${a.username}:${a.password}`];
  return [...new Set(parts.filter((x) => x.length >= 4))].sort((x, y) => y.length - x.length);
}

function isErrorMessage(v: unknown): v is TaxiiErrorMessage {
  return typeof v === 'object' && v !== null && typeof (v as { title?: unknown }).title === 'string';
}

const enc = (s: string) => encodeURIComponent(s);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });
}
