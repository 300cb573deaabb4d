/**
 * Scheduled vulnerability-intelligence feeds: the CISA KEV catalog (JSON) and EPSS scores (CSV,
 * gzip or not) fetched from a URL on an interval, imported through the same paths as a file
 * (importKev: new entries matched and alerted, absent ones marked removed; importEpss).
 *
 * A feed's configuration and state (last attempt, last success, last error, consecutive
 * failures, next run) are one record per feed (`readiness-vuln-feed--kev` / `--epss`), so they
 * survive restarts and every API process sees them; only the elected leader runs the job
 * (api/app.ts ticker). A failure retries with exponential backoff (1 min, 2, 4 … capped at the
 * interval); a success schedules the next run one interval later. The node configuration
 * (SHIELDWALL_KEV_FEED_URL, SHIELDWALL_EPSS_FEED_URL, SHIELDWALL_VULN_FEED_INTERVAL_S) gives a
 * feed that has never been configured through REST; a REST configuration wins from then on.
 */
import { gunzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { readAtMost } from '../../core/read-capped.js';
import { guardedLookup, refusal, refusedAddress } from '../../core/outbound.js';
import { AppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Principal } from '../../access/index.js';
import type { RecordRow, Store } from '../../store/index.js';
import { requirePermission, type AuthedActor } from '../../respond/index.js';
import type { ExposureService } from './service.js';

export const FEED_NAMES = ['kev', 'epss'] as const;
export type FeedName = (typeof FEED_NAMES)[number];
export const VULN_FEED = 'readiness-vuln-feed';

const MAX_BYTES = 64 * 1024 * 1024;
const MIN_INTERVAL_S = 300;
const MAX_INTERVAL_S = 30 * 86_400;
const BACKOFF_BASE_S = 60;

export interface FeedSettings {
  url: string | null;
  /** Seconds between runs; 0 = manual only. */
  intervalS: number;
}

export interface FeedState {
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  /** Consecutive failures (reset by a success). */
  failures: number;
  nextAt: string | null;
  /** What the last successful run imported. */
  lastResult: Record<string, number | string> | null;
}

export interface FeedView extends FeedSettings, FeedState {
  name: FeedName;
  /** `rest` (configured through the API), `config` (node configuration) or `none`. */
  configuredBy: 'rest' | 'config' | 'none';
}

interface FeedDoc extends FeedSettings, FeedState {
  name: FeedName;
  /** The organisation and user that configured it: the run imports on their behalf (audit). */
  orgId: string;
  userId: string | null;
  configuredBy: 'rest' | 'config';
}

export type Fetcher = (url: string) => Promise<Buffer>;

/** Redirects a feed fetch follows (a vendor moving its file to a CDN). */
const MAX_REDIRECTS = 3;
let agent: Promise<Dispatcher> | null = null;

/**
 * GET with timeouts, at most 3 redirects and {@link MAX_BYTES}, never to a link-local or
 * metadata-service address (core/outbound.ts), named or given as such, in the URL or in any
 * redirect: analysts set these URLs, and the node fetches them with its own network position.
 */
export const httpFetch: Fetcher = async (url) => {
  // Loaded on first use: a node that never fetches a feed starts without it.
  const { request, Agent } = await import('undici');
  agent ??= Promise.resolve(new Agent({ connect: { lookup: guardedLookup } }));
  let at = new URL(url);
  for (let hop = 0; ; hop++) {
    if (at.protocol !== 'http:' && at.protocol !== 'https:') throw new Error(`${at.href}: only http(s) is fetched`);
    if (refusedAddress(at.hostname)) throw new Error(`${at.href}: ${refusal(at.hostname, at.hostname)}`);
    // Redirects followed here, not by undici (undici 7 has no per-request option): each hop's address is checked.
    const res = await request(at, { method: 'GET', headersTimeout: 30_000, bodyTimeout: 120_000, dispatcher: await agent });
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) throw new Error(`${url}: more than ${MAX_REDIRECTS} redirects`);
      at = new URL(location, at);
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${at.href} answered HTTP ${res.statusCode}`);
    }
    const body = await readAtMost(res.body, MAX_BYTES);
    if (body === null) throw new Error(`${at.href} is larger than ${MAX_BYTES} bytes`);
    return body;
  }
};

/** The text of a body, gunzipped when it starts with the gzip magic (FIRST serves `epss_scores-current.csv.gz`). */
export function bodyText(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return gunzipSync(b, { maxOutputLength: MAX_BYTES }).toString('utf8');
  return b.toString('utf8');
}

const bad = (m: string) => new AppError('BAD_REQUEST', m);
const idOf = (name: FeedName) => `${VULN_FEED}--${name}`;
const EMPTY: FeedState = { lastAttemptAt: null, lastSuccessAt: null, lastError: null, failures: 0, nextAt: null, lastResult: null };

export function feedName(s: string): FeedName {
  if (!(FEED_NAMES as readonly string[]).includes(s)) throw new AppError('NOT_FOUND', `no feed ${s.slice(0, 40)} (kev or epss)`);
  return s as FeedName;
}

export interface VulnFeedDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Node configuration: feeds used until one is configured through REST. */
  readonly defaults?: Partial<Record<FeedName, FeedSettings>>;
  readonly fetch?: Fetcher;
}

export class VulnFeeds {
  #running: Promise<unknown> | null = null;
  readonly #fetch: Fetcher;

  constructor(private readonly exposures: ExposureService, private readonly deps: VulnFeedDeps) {
    this.#fetch = deps.fetch ?? httpFetch;
  }

  async #load(name: FeedName): Promise<{ doc: FeedDoc; row: RecordRow | null; configuredBy: FeedView['configuredBy'] }> {
    const row = await this.deps.store.getRecord(idOf(name));
    const d = this.deps.defaults?.[name];
    if (row) {
      const doc = JSON.parse(row.json) as FeedDoc;
      // Configured by the node configuration (only run state stored): the configuration's current values apply.
      if (doc.configuredBy === 'config') return { doc: { ...doc, url: d?.url ?? null, intervalS: d?.url ? d.intervalS : 0 }, row, configuredBy: d?.url ? 'config' : 'none' };
      return { doc, row, configuredBy: 'rest' };
    }
    const doc: FeedDoc = { name, url: d?.url ?? null, intervalS: d?.url ? d.intervalS : 0, orgId: '', userId: null, configuredBy: 'config', ...EMPTY };
    return { doc, row: null, configuredBy: d?.url ? 'config' : 'none' };
  }

  #view(doc: FeedDoc, configuredBy: FeedView['configuredBy']): FeedView {
    return {
      name: doc.name, url: doc.url, intervalS: doc.intervalS, configuredBy, lastAttemptAt: doc.lastAttemptAt, lastSuccessAt: doc.lastSuccessAt,
      lastError: doc.lastError, failures: doc.failures, nextAt: doc.nextAt, lastResult: doc.lastResult,
    };
  }

  async list(actor: AuthedActor): Promise<FeedView[]> {
    requirePermission(actor, 'vuln-intel.write');
    const out: FeedView[] = [];
    for (const n of FEED_NAMES) {
      const { doc, configuredBy } = await this.#load(n);
      out.push(this.#view(doc, configuredBy));
    }
    return out;
  }

  async get(actor: AuthedActor, name: FeedName): Promise<FeedView> {
    requirePermission(actor, 'vuln-intel.write');
    const { doc, configuredBy } = await this.#load(name);
    return this.#view(doc, configuredBy);
  }

  /** Sets a feed's URL and interval (url null: no feed). The next run is due now when the URL changed. */
  async configure(actor: AuthedActor, name: FeedName, s: { url: string | null; intervalS: number }): Promise<FeedView> {
    requirePermission(actor, 'vuln-intel.write');
    if (s.url !== null) {
      let u: URL;
      try {
        u = new URL(s.url);
      } catch {
        throw bad('url: not a URL');
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('url: http or https only');
      if (s.url.length > 2000) throw bad('url: at most 2000 characters');
    }
    if (!Number.isInteger(s.intervalS) || (s.intervalS !== 0 && (s.intervalS < MIN_INTERVAL_S || s.intervalS > MAX_INTERVAL_S))) {
      throw bad(`intervalS: 0 (manual only) or ${MIN_INTERVAL_S}..${MAX_INTERVAL_S} seconds`);
    }
    const { doc, row } = await this.#load(name);
    const now = this.deps.clock.now();
    const urlChanged = doc.url !== s.url;
    const next: FeedDoc = {
      ...doc, url: s.url, intervalS: s.intervalS, orgId: actor.principal.orgId, userId: actor.principal.userId, configuredBy: 'rest',
      ...(urlChanged ? { ...EMPTY } : {}),
      nextAt: s.url === null || s.intervalS === 0 ? null : urlChanged || !doc.nextAt ? new Date(now).toISOString() : doc.nextAt,
    };
    await this.#save(row, next, actor.principal, { action: 'vuln-intel.feed.configure', detail: { feed: name, url: s.url, intervalS: s.intervalS } });
    return this.#view(next, 'rest');
  }

  async #save(prev: RecordRow | null, doc: FeedDoc, p: Pick<Principal, 'orgId' | 'userId' | 'tokenId'>, audit: { action: string; detail: Record<string, unknown> }): Promise<void> {
    const nowUs = this.deps.clock.now() * 1000;
    const row: RecordRow = prev
      ? { ...prev, json: JSON.stringify(doc), updatedUs: Math.max(nowUs, prev.updatedUs + 1), rev: prev.rev + 1 }
      : { id: idOf(doc.name), kind: VULN_FEED, parentId: null, creatorOrg: doc.orgId || p.orgId, tlp: 'amber', recipients: [], originNode: null, exerciseId: null, state: 'active', createdUs: nowUs, updatedUs: nowUs, rev: 1, json: JSON.stringify(doc) };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `feed ${doc.name} changed meanwhile; retry`);
      await tx.appendAudit({ atUs: nowUs, userId: p.userId, orgId: p.orgId, tokenId: p.tokenId, source: 'feed', action: audit.action, target: row.id, detail: JSON.stringify(audit.detail).slice(0, 8000) });
    });
  }

  /** Runs a feed now (REST "run now", or the schedule). Records the outcome; throws a 4xx/5xx only for a manual run. */
  async run(actor: AuthedActor | null, name: FeedName): Promise<FeedView> {
    if (actor) requirePermission(actor, 'vuln-intel.write');
    const { doc, row, configuredBy } = await this.#load(name);
    if (!doc.url) throw new AppError('CONFLICT', `feed ${name} has no URL; configure it first`);
    // The import acts for whoever configured the feed (the node's first organisation for a feed of the node
    // configuration); configuring one needs vuln-intel.write, so the scheduled run imports without a role check.
    const orgId = doc.orgId || actor?.principal.orgId || (await this.deps.store.listOrganisations())[0]?.id;
    if (!orgId) throw new AppError('CONFLICT', 'no organisation on this node to import for');
    const who: AuthedActor = actor ?? { principal: { orgId, userId: doc.userId, username: `feed:${name}`, roles: [], tokenId: null, kind: 'api', groupIds: [] }, source: `feed:${name}` };
    const now = this.deps.clock.now();
    const next: FeedDoc = { ...doc, orgId, lastAttemptAt: new Date(now).toISOString() };
    try {
      const text = bodyText(await this.#fetch(doc.url));
      if (name === 'kev') {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new Error('the KEV feed did not answer JSON');
        }
        const r = await this.exposures.ingestKev(who, json);
        next.lastResult = { catalogVersion: r.catalogVersion, entries: r.entries, added: r.added.length, removed: r.removed.length, refused: r.refused.length, exposures: r.exposures, alerts: r.alerts };
      } else {
        const r = await this.exposures.ingestEpss(who, text);
        next.lastResult = { imported: r.imported, refused: r.refused.length };
      }
      next.lastSuccessAt = next.lastAttemptAt;
      next.lastError = null;
      next.failures = 0;
      next.nextAt = doc.intervalS ? new Date(now + doc.intervalS * 1000).toISOString() : null;
    } catch (e) {
      next.lastError = (e instanceof Error ? e.message : String(e)).slice(0, 500);
      next.failures = doc.failures + 1;
      const wait = Math.min(doc.intervalS || Infinity, BACKOFF_BASE_S * 2 ** Math.min(next.failures - 1, 20));
      next.nextAt = doc.intervalS ? new Date(now + wait * 1000).toISOString() : null;
    }
    // Configured anew while the fetch ran: keep the new settings, record this run's outcome.
    const fresh = await this.deps.store.getRecord(idOf(name));
    if (fresh && (!row || fresh.rev !== row.rev)) {
      const cur = JSON.parse(fresh.json) as FeedDoc;
      Object.assign(next, { url: cur.url, intervalS: cur.intervalS, orgId: cur.orgId, userId: cur.userId, configuredBy: cur.configuredBy });
      if (cur.url !== doc.url) Object.assign(next, { nextAt: cur.nextAt, failures: cur.failures });
    }
    await this.#save(fresh, next, who.principal, { action: 'vuln-intel.feed.run', detail: { feed: name, ok: next.lastError === null, error: next.lastError } });
    if (actor && next.lastError !== null) throw new AppError('UNAVAILABLE', `feed ${name}: ${next.lastError}`);
    return this.#view(next, configuredBy);
  }

  /** The scheduled job (leader only): runs each due feed, one at a time; never two passes at once. */
  async tick(): Promise<FeedName[]> {
    if (this.#running) return [];
    const pass = (async () => {
      const ran: FeedName[] = [];
      const now = this.deps.clock.now();
      for (const n of FEED_NAMES) {
        const { doc } = await this.#load(n);
        if (!doc.url || doc.intervalS === 0) continue;
        if (doc.nextAt !== null && Date.parse(doc.nextAt) > now) continue;
        await this.run(null, n).catch(() => undefined);
        ran.push(n);
      }
      return ran;
    })();
    this.#running = pass;
    try {
      return await pass;
    } finally {
      this.#running = null;
    }
  }
}
