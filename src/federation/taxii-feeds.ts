/**
 * TAXII feeds (docs/federation.md "TAXII feeds: third-party servers"): a collection of any TAXII
 * 2.1 server (a vendor, a national CERT's server, MITRE's ATT&CK server, another platform) pulled
 * on a schedule into a local collection, as `shieldwall import` would bring its objects in:
 * imported by a local organisation, the objects' own `created_by_ref` kept (preserve-provenance),
 * a TLP given for the feed being a policy fact (never an edit), through the intel service (STIX
 * versioning, release policy, audit). Unlike a subscription between Shieldwall nodes, nothing is
 * signed by the server: this node becomes the objects' node of origin and signs them when it
 * serves them to its peers.
 *
 * Kept in the store's meta table: `taxii-feed.<name>` (configuration; credentials sealed with the
 * node's secret, keys.ts) and `taxii-feed-state.<name>` (cursor, last run, last error, counts),
 * the state written with each page in one transaction, so a pull resumes without loss.
 */
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { AccessService, type Actor } from '../access/index.js';
import { IntelService } from '../intel/index.js';
import type { Store } from '../store/index.js';
import { TLP_LEVELS, type Tlp } from '../core/policy.js';
import { TaxiiClient, TaxiiClientError, refusedAddress, type TaxiiAuth, type TaxiiClientPage, type TaxiiQuery } from '../taxii/index.js';
import { fetchResuming, followingCursor, justBefore, pageQuery, sameCursor, sameInstant, type PullCursor } from './cursor.js';
import { checkCa, type FederationRegistry } from './registry.js';
import { seal } from './keys.js';
import { isDue, Poller } from '../core/poller.js';
import { MAX_RETRY_AFTER_S } from '../core/retry-after.js';

export const P_FEED = 'taxii-feed.';
const P_STATE = 'taxii-feed-state.';
const FEED_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** How long one pull goes on before the rest is left to the next tick (ms). */
export const MAX_FEED_RUN_MS = 60_000;
/** Objects asked per page: one transaction each. */
export const FEED_PAGE_SIZE = 500;
/** A page of a server that ignores `limit` is taken up to this many pages' worth (stored a page at a time). */
const MAX_PAGES_IN_ONE = 20;
const MAX_FAILURES = 50;

export type FeedAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; sealed: string }
  | { kind: 'basic'; username: string; sealed: string };

export interface TaxiiFeed {
  name: string;
  /** The TAXII server's address (its API root is under it). */
  url: string;
  /** The API root's path under `url` (one or more segments: `api1`, `taxii2/root`). */
  apiRoot: string;
  /** Collection id on the server. */
  remoteCollection: string;
  localCollection: string;
  /** The local organisation that imports: the importer of record (its TLP-given objects are released by it). */
  orgId: string;
  /** The TLP of objects without a TLP marking (a policy fact, never written into them); null: none. */
  tlp: Tlp | null;
  auth: FeedAuth;
  ca: string | null;
  /** Seconds between scheduled pulls; 0 = manual only. */
  intervalS: number;
  createdUs: number;
  /**
   * The user who added it (over REST): its organisation imports only while it may still write
   * into the local collection. Absent: added by the node's operator (CLI), bound by nothing.
   */
  addedBy?: string;
}

/**
 * A feed's cursor: `exact` once a page was all at `last` with more to come and no `next` (the
 * next page is asked strictly after `last`: see {@link feedQuery}).
 */
export type FeedCursor = PullCursor & { exact?: true };

/**
 * The query of the page at `c`. A new walk starts just before `last` ({@link justBefore}: on a
 * third-party server date_added is not unique, and added_after is exclusive), except after a page
 * that was all at `last` itself: the server has more objects there than a page holds, and asked
 * again it would answer that page for ever.
 */
function feedQuery(base: TaxiiQuery, c: FeedCursor): TaxiiQuery {
  return !c.next && c.last && !c.exact ? { ...base, addedAfter: justBefore(c.last) } : pageQuery(base, c);
}

/** The cursor after a page read at `c`; `stuck`: the page was all at `last` (see {@link feedQuery}). */
function feedFollowing(c: FeedCursor, page: TaxiiClientPage<unknown>): { cursor: FeedCursor; stuck: boolean } {
  if (page.more && !page.next && !c.next && !c.exact && c.last && sameInstant(page.dateAddedFirst, c.last) && sameInstant(page.dateAddedLast, c.last)) {
    return { cursor: { last: c.last, exact: true }, stuck: true };
  }
  return { cursor: followingCursor(c, page), stuck: false };
}

export interface TaxiiFeedState {
  cursor: FeedCursor;
  lastRunUs: number | null;
  lastSuccessUs: number | null;
  lastError: string | null;
  /** The last pull stopped at its time limit with pages left: the scheduler goes on at its next tick. */
  more: boolean;
  /**
   * The server answered the last pull 429 or 503 with Retry-After: the scheduler pulls it no
   * sooner (µs; at most a day on). Null: it did not ask.
   */
  retryAtUs: number | null;
  added: number;
  duplicates: number;
  rejected: number;
  /** The latest refusals with their reasons (newest first, at most 50). */
  failures: { id: string | null; reason: string; atUs: number }[];
}

export interface TaxiiFeedView extends Omit<TaxiiFeed, 'auth' | 'ca'> {
  auth: 'none' | 'bearer' | 'basic';
  hasCa: boolean;
  state: TaxiiFeedState;
}

export interface FeedPullReport {
  feed: string;
  pages: number;
  received: number;
  added: number;
  duplicates: number;
  rejected: number;
  /** The server had nothing more. */
  complete: boolean;
}

const emptyState = (): TaxiiFeedState => ({ cursor: {}, lastRunUs: null, lastSuccessUs: null, lastError: null, more: false, retryAtUs: null, added: 0, duplicates: 0, rejected: 0, failures: [] });

/**
 * The API root of a feed as a path under the feed URL `base`. It is given as the server's
 * discovery names it (TAXII 2.1 §4.1 `api_roots`): a name (`api1`, medallion's), a path of several
 * segments (`/taxii2/root/` on OpenCTI, `api/v1/taxii2/feeds` on Anomali), or the URL itself when it
 * lies under the feed URL (the credentials go to no other address).
 */
export function feedApiRoot(base: string, apiRoot: string): string {
  let path = apiRoot.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    const u = URL.canParse(path) ? new URL(path) : null;
    const at = u && !u.username && !u.password && !u.search && !u.hash ? u.toString() : '';
    if (!at.startsWith(`${base}/`)) {
      throw new AppError('BAD_REQUEST', `an API root given as a URL must lie under the feed URL ${base} (without credentials, a query or a fragment): give the feed URL it is under`);
    }
    path = at.slice(base.length);
  }
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  if (path.length > 300 || segments.length > 10 || segments.some((x) => !/^[A-Za-z0-9._~-]{1,100}$/.test(x) || /^\.+$/.test(x))) {
    throw new AppError('BAD_REQUEST', 'API root must be its name, its path (segments of A-Z, a-z, 0-9, ., _, ~, -; not only dots) or its URL under the feed URL, as the server\'s discovery names it');
  }
  return segments.join('/');
}

export interface NewTaxiiFeed {
  name: string; url: string; apiRoot?: string; remoteCollection: string; localCollection: string; org: string;
  tlp?: Tlp | null; auth?: { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };
  ca?: string | null; intervalS?: number;
}

export class TaxiiFeeds {
  constructor(private readonly deps: { store: Store; clock: Clock; registry: FederationRegistry; intel?: IntelService }) {}

  #nowUs(): number {
    return this.deps.clock.now() * 1000;
  }

  async add(actor: Actor, f: NewTaxiiFeed): Promise<TaxiiFeedView> {
    const { store } = this.deps;
    if (!FEED_NAME.test(f.name)) throw new AppError('BAD_REQUEST', 'feed name must be 1-63 of a-z, 0-9, ., _, - (starting with a letter or digit)');
    if (await store.getMeta(P_FEED + f.name)) throw new AppError('CONFLICT', `TAXII feed ${f.name} exists; remove it first`);
    let url: URL;
    try {
      url = new URL(f.url);
    } catch {
      throw new AppError('BAD_REQUEST', 'feed URL must be an absolute http(s) URL (the TAXII server root or its API root)');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('BAD_REQUEST', 'feed URL must be http(s)');
    if (url.username || url.password) throw new AppError('BAD_REQUEST', 'feed URL may not carry credentials: give them with --token-stdin or --basic-user');
    // The requests' paths are built on it: a query or fragment would swallow them (any path of any server).
    if (url.search || url.hash) throw new AppError('BAD_REQUEST', 'feed URL must be the TAXII server\'s address, without a query or fragment');
    if (refusedAddress(url.hostname)) throw new AppError('BAD_REQUEST', `feed URL: ${url.hostname} is a link-local or metadata-service address, where no TAXII server is reached`);
    const base = url.toString().replace(/\/+$/, '');
    const apiRoot = feedApiRoot(base, f.apiRoot ?? 'api1');
    if (!/^[A-Za-z0-9._~-]{1,200}$/.test(f.remoteCollection)) throw new AppError('BAD_REQUEST', 'remote collection must be the collection id on the server');
    const local = (await store.getCollection(f.localCollection)) ?? (await store.listCollections()).find((c) => c.alias === f.localCollection || c.title === f.localCollection);
    if (!local) throw new AppError('NOT_FOUND', `no local collection ${f.localCollection.slice(0, 100)}`);
    const p = actor.principal;
    if (p) {
      // A user's feed writes where the user may write (as a REST import): no right at all looks like no collection.
      const r = (await new AccessService(store, this.deps.clock).rights(p)).get(local.id);
      if (!r || (!r.canRead && !r.canWrite)) throw new AppError('NOT_FOUND', `no local collection ${f.localCollection.slice(0, 100)}`);
      if (!r.canWrite) throw new AppError('FORBIDDEN', 'no write access to this collection');
    }
    const org = (await store.listOrganisations()).find((o) => o.id === f.org || o.shortName === f.org);
    if (!org) throw new AppError('NOT_FOUND', `no organisation ${f.org.slice(0, 100)}`);
    // The importer of record is of this node: a peer's organisation never imports here.
    if (org.node !== null) throw new AppError('BAD_REQUEST', `${org.shortName} lives on node ${org.node}: a feed is imported by an organisation of this node`);
    // An administrator imports for its own organisation, never in another's name.
    if (p && p.orgId !== org.id) throw new AppError('FORBIDDEN', 'a TAXII feed added by a user is imported by the user\'s own organisation');
    const tlp = f.tlp ?? null;
    if (tlp !== null && !(TLP_LEVELS as readonly string[]).includes(tlp)) throw new AppError('BAD_REQUEST', `TLP must be one of ${TLP_LEVELS.join(', ')}`);
    const intervalS = f.intervalS ?? 3600;
    if (!Number.isInteger(intervalS) || intervalS < 0 || intervalS > 30 * 86_400) throw new AppError('BAD_REQUEST', 'interval must be 0 (manual) to 2592000 seconds');
    checkCa(f.ca);
    const a = f.auth ?? { kind: 'none' };
    // Checked against the store's record now: a rotation a moment ago must not leave it unreadable.
    const secret = a.kind === 'none' ? null : await this.deps.registry.sealingSecret();
    let auth: FeedAuth;
    // Checked as input (REST gives one flat shape): a kind without its fields is a 400, not a crash.
    const text = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max;
    if (a.kind === 'bearer') {
      if (!text(a.token, 8, 2000)) throw new AppError('BAD_REQUEST', 'a bearer feed needs a token of 8-2000 characters');
      auth = { kind: 'bearer', sealed: seal(secret!, a.token) };
    } else if (a.kind === 'basic') {
      if (!text(a.username, 1, 200) || a.username.includes(':')) throw new AppError('BAD_REQUEST', 'a Basic feed needs a user name of 1-200 characters without ":"');
      if (!text(a.password, 1, 2000)) throw new AppError('BAD_REQUEST', 'a Basic feed needs a password of 1-2000 characters');
      auth = { kind: 'basic', username: a.username, sealed: seal(secret!, a.password) };
    } else if (a.kind === 'none') auth = { kind: 'none' };
    else throw new AppError('BAD_REQUEST', 'auth kind must be none, bearer or basic');
    const feed: TaxiiFeed = {
      name: f.name, url: base, apiRoot, remoteCollection: f.remoteCollection, localCollection: local.id, orgId: org.id, tlp,
      auth, ca: f.ca ?? null, intervalS, createdUs: this.#nowUs(), ...(p?.userId ? { addedBy: p.userId } : {}),
    };
    await store.transaction(async (tx) => {
      // Of two requests adding one name at once, the second is refused here (the read above let both through).
      if (!(await tx.createMeta(P_FEED + f.name, JSON.stringify(feed)))) throw new AppError('CONFLICT', `TAXII feed ${f.name} exists; remove it first`);
      await tx.setMeta(P_STATE + f.name, JSON.stringify(emptyState()));
      await new AccessService(tx, this.deps.clock).audit(actor, 'taxii-feed.add', f.name, {
        url: feed.url, apiRoot, remoteCollection: f.remoteCollection, localCollection: local.id, org: org.id, tlp, auth: auth.kind, intervalS,
      });
    });
    return this.view(feed, emptyState());
  }

  async get(name: string): Promise<TaxiiFeed> {
    const raw = FEED_NAME.test(name) ? await this.deps.store.getMeta(P_FEED + name) : null;
    if (!raw) throw new AppError('NOT_FOUND', `no TAXII feed ${name.slice(0, 80)}`);
    return JSON.parse(raw) as TaxiiFeed;
  }

  /** A feed the actor may manage: a user, only those its own organisation imports (the CLI operator, any). */
  async managed(actor: Actor, name: string): Promise<TaxiiFeed> {
    const f = await this.get(name);
    if (actor.principal && actor.principal.orgId !== f.orgId) throw new AppError('FORBIDDEN', `TAXII feed ${f.name} is imported by another organisation: only its administrators manage it`);
    return f;
  }

  async state(name: string, store: Store = this.deps.store): Promise<TaxiiFeedState> {
    const raw = await store.getMeta(P_STATE + name);
    return raw ? { ...emptyState(), ...(JSON.parse(raw) as Partial<TaxiiFeedState>) } : emptyState();
  }

  async list(): Promise<TaxiiFeedView[]> {
    const out: TaxiiFeedView[] = [];
    for (const r of await this.deps.store.listMeta(P_FEED)) {
      const f = JSON.parse(r.value) as TaxiiFeed;
      out.push(this.view(f, await this.state(f.name)));
    }
    return out;
  }

  view(f: TaxiiFeed, state: TaxiiFeedState): TaxiiFeedView {
    const { auth, ca, ...rest } = f;
    return { ...rest, auth: auth.kind, hasCa: ca !== null, state };
  }

  async remove(actor: Actor, name: string): Promise<void> {
    await this.managed(actor, name);
    await this.deps.store.transaction(async (tx) => {
      await tx.deleteMeta(P_FEED + name);
      await tx.deleteMeta(P_STATE + name);
      // What it imported stays: it is the importing organisation's now.
      await new AccessService(tx, this.deps.clock).audit(actor, 'taxii-feed.remove', name, {});
    });
  }

  /** The next pull walks the collection from the start (what is stored counts as duplicates). */
  async reset(actor: Actor, name: string): Promise<void> {
    await this.managed(actor, name);
    await this.deps.store.transaction(async (tx) => {
      await tx.setMeta(P_STATE + name, JSON.stringify({ ...(await this.state(name, tx)), cursor: {}, more: false }));
      await new AccessService(tx, this.deps.clock).audit(actor, 'taxii-feed.reset', name, {});
    });
  }

  #client(f: TaxiiFeed): TaxiiClient {
    const { registry } = this.deps;
    let auth: TaxiiAuth | undefined;
    try {
      if (f.auth.kind === 'bearer') auth = { kind: 'bearer', token: registry.unseal(f.auth.sealed) };
      else if (f.auth.kind === 'basic') auth = { kind: 'basic', username: f.auth.username, password: registry.unseal(f.auth.sealed) };
    } catch {
      throw new AppError('UNAVAILABLE', `the credentials of TAXII feed ${f.name} cannot be decrypted with this node's federation-secret.key: remove the feed and add it again`);
    }
    const maxResponseBytes = this.deps.registry.deps.peerMaxResponseBytes;
    return new TaxiiClient({ url: f.url, ...(auth ? { auth } : {}), ...(f.ca ? { tls: { ca: f.ca } } : {}), timeoutMs: 60_000, ...(maxResponseBytes ? { maxResponseBytes } : {}) });
  }

  /**
   * Pulls the feed from its cursor, one transaction per page (its objects, the cursor and the
   * counts), for at most `maxMs`; a failure is recorded in the state (last error) and thrown.
   * `requestedBy`: who asked for it (a user: only a feed of its organisation), audited as such.
   */
  async pull(name: string, o: { signal?: AbortSignal; maxMs?: number; requestedBy?: Actor } = {}): Promise<FeedPullReport> {
    const { store, clock } = this.deps;
    const f = o.requestedBy ? await this.managed(o.requestedBy, name) : await this.get(name);
    const until = Date.now() + (o.maxMs ?? MAX_FEED_RUN_MS);
    const report: FeedPullReport = { feed: name, pages: 0, received: 0, added: 0, duplicates: 0, rejected: 0, complete: false };
    const actor: Actor = { principal: null, source: `taxii-feed:${name}` };
    const runUs = this.#nowUs();
    let client: TaxiiClient | null = null;
    try {
      if (f.addedBy !== undefined && !(await new AccessService(store, clock).rightsOfOrg(f.orgId)).get(f.localCollection)?.canWrite) {
        // Checked when it was added; a grant taken away since ends what the feed may write there.
        throw new AppError('FORBIDDEN', `the importing organisation may no longer write into the feed's local collection (a grant was taken away): nothing is pulled; `
          + 'grant it again, or remove the feed');
      }
      client = this.#client(f);
      let cursor: FeedCursor = (await this.state(name)).cursor;
      // The cursor as stored: a reset while this pull runs is not undone by its next page.
      let stored = cursor;
      // Halved for the rest of the pull when a page is larger than the client reads at once.
      let pageSize = FEED_PAGE_SIZE;
      for (;;) {
        o.signal?.throwIfAborted();
        const c = client;
        const base = { limit: pageSize, match: { version: ['all'] } };
        let got;
        try {
          got = await fetchResuming(cursor, (at) => c.getObjects(f.apiRoot, f.remoteCollection, { ...feedQuery(base, at), ...(o.signal ? { signal: o.signal } : {}) }));
        } catch (e) {
          if (!(e instanceof TaxiiClientError && e.tooLarge && pageSize > 1)) throw e;
          pageSize = Math.max(1, Math.floor(pageSize / 2));
          continue;
        }
        const page = got.page;
        cursor = got.cursor;
        // A server that ignores `limit` (TAXII 2.1 §3.4 says it may send fewer, never more) is taken
        // up to a bound, stored a page's worth at a time (below); past the bound it is refused.
        if (page.items.length > MAX_PAGES_IN_ONE * FEED_PAGE_SIZE) {
          throw new Error(`the server answered ${page.items.length} objects for a page of at most ${pageSize} (at most ${MAX_PAGES_IN_ONE * FEED_PAGE_SIZE} are taken)`);
        }
        const { cursor: following, stuck } = feedFollowing(cursor, page);
        let moved = false;
        // One transaction per FEED_PAGE_SIZE objects; the cursor moves with the last one (a pull
        // stopped before reads the page again: what was stored counts as duplicates).
        for (let at = 0; !moved && (at === 0 || at < page.items.length); at += FEED_PAGE_SIZE) {
          const chunk = page.items.length > FEED_PAGE_SIZE ? page.items.slice(at, at + FEED_PAGE_SIZE) : page.items;
          const last = at + FEED_PAGE_SIZE >= page.items.length;
          moved = await store.transaction(async (tx) => {
            // Removed meanwhile (a source found hostile): nothing more is stored.
            if (!(await tx.getMeta(P_FEED + name))) throw new AppError('NOT_FOUND', `TAXII feed ${name} was removed while it was pulled: nothing more is stored`);
            if (!sameCursor((await this.state(name, tx)).cursor, stored)) return true;
            const results = chunk.length === 0 ? [] : await new IntelService(tx, clock).submit(actor, f.localCollection, chunk, {
              asOrg: f.orgId, preserveProvenance: true, thirdParty: true, ...(f.tlp ? { defaultTlp: f.tlp } : {}),
          });
          const st = await this.state(name, tx);
          const failures = [...st.failures];
          let added = 0;
          let duplicates = 0;
          let rejected = 0;
          if (stuck && last) {
            failures.unshift({
              id: null, atUs: runUs,
              reason: `the server has more objects added at ${cursor.last} than one page holds and gives no next token to page through them: `
                + `those it did not send in this page are missed (the pull goes on after ${cursor.last})`,
            });
          }
          for (const r of results) {
            if (r.status === 'added') added++;
            else if (r.status === 'duplicate') duplicates++;
            else if (r.status === 'rejected') {
              rejected++;
              failures.unshift({ id: r.id, reason: r.message.slice(0, 500), atUs: runUs });
            }
          }
          report.added += added;
          report.duplicates += duplicates;
          report.rejected += rejected;
          await tx.setMeta(P_STATE + name, JSON.stringify({
            ...st, cursor: last ? following : st.cursor, added: st.added + added, duplicates: st.duplicates + duplicates, rejected: st.rejected + rejected,
            // Pages left: a pull stopped at its time limit goes on at the scheduler's next tick.
            failures: failures.slice(0, MAX_FAILURES), more: last ? page.more : st.more,
          } satisfies TaxiiFeedState));
          await new AccessService(tx, clock).audit(o.requestedBy ?? actor, 'taxii-feed.pull', f.localCollection, { feed: name, received: chunk.length, added, rejected, last: last ? following.last ?? null : null });
          return false;
          });
        }
        // Reset (or moved by another pull) meanwhile: this page is not stored; the next pull starts from there.
        if (moved) break;
        cursor = following;
        stored = following;
        // The indexes that follow the store (indicators, correlation) read it now, not at their next poll.
        if (page.items.length > 0) this.deps.intel?.announce({ collectionId: f.localCollection, count: page.items.length, types: new Set(page.items.map((x) => String((x as { type?: unknown } | null)?.type))) });
        report.pages++;
        report.received += page.items.length;
        if (!page.more) {
          report.complete = true;
          break;
        }
        if (Date.now() >= until) break;
      }
      await this.#finish(name, runUs, null);
      return report;
    } catch (e) {
      // A server that answered 429 or 503 with Retry-After is asked again no sooner than it said.
      const askedS = e instanceof TaxiiClientError && e.retryAfterMs !== null ? Math.min(MAX_RETRY_AFTER_S, Math.ceil(e.retryAfterMs / 1000)) : null;
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 400) + (askedS !== null ? ` (the server asks to wait ${askedS} s: the schedule waits as long)` : '');
      await this.#finish(name, runUs, message, askedS === null ? null : this.#nowUs() + askedS * 1e6).catch(() => undefined);
      throw e instanceof AppError ? e : new AppError('UNAVAILABLE', `TAXII feed ${name}: ${message}`);
    } finally {
      await client?.close();
    }
  }

  async #finish(name: string, runUs: number, error: string | null, retryAtUs: number | null = null): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      // A feed removed during the pull leaves no state behind.
      if (!(await tx.getMeta(P_FEED + name))) return;
      const st = await this.state(name, tx);
      await tx.setMeta(P_STATE + name, JSON.stringify({
        ...st, lastRunUs: runUs, retryAtUs, ...(error === null ? { lastSuccessUs: runUs, lastError: null } : { lastError: error, more: false }),
      } satisfies TaxiiFeedState));
    });
  }
}

/**
 * Pulls the feeds whose interval has passed (`serve`, in the process that runs the background
 * jobs); a pull that stopped at its time limit goes on at the next tick whatever the interval.
 */
export class TaxiiFeedScheduler extends Poller {
  constructor(private readonly feeds: TaxiiFeeds, private readonly clock: Clock, o: { tickMs?: number; active?: () => boolean } = {}) {
    super({ everyMs: o.tickMs ?? 10_000, ...(o.active ? { active: o.active } : {}) });
  }

  /** One scheduling pass (also called by tests): the reports of the feeds pulled. */
  async tick(): Promise<FeedPullReport[]> {
    const out: FeedPullReport[] = [];
    const now = this.clock.now() * 1000;
    for (const f of await this.feeds.list()) {
      if (!isDue(f.intervalS, f.state, now)) continue;
      try {
        out.push(await this.feeds.pull(f.name, { signal: this.signal }));
      } catch {
        // Recorded in the feed's state (last error); the next interval retries.
      }
    }
    return out;
  }
}
