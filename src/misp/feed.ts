/**
 * MISP feed consumption (misp-interop.md §3): a directory or an http(s) URL holding
 * `manifest.json` (event uuid → {timestamp, info, ...}) and `<uuid>.json` event files. A pull
 * fetches the manifest, and imports only the events whose manifest `timestamp` is newer than
 * the one recorded for the feed — incremental by event timestamp, as MISP's own
 * `getNewEventUuids` does. The state (per-event timestamps, last run, last error, failures)
 * is a `misp-feed` record in the store, so it survives restarts; a failed event is recorded
 * and retried at the next pull, never skipped for good. Imports go through importMisp (the
 * intel service, release policy, audit).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../core/errors.js';
import { readAtMost } from '../core/read-capped.js';
import type { Clock } from '../core/clock.js';
import { AccessService, SYSTEM_ACTOR } from '../access/index.js';
import type { IntelService } from '../intel/index.js';
import { updateMeta, type RecordRow, type Store } from '../store/index.js';
import { uuidv5 } from '../stix/index.js';
import { importMisp } from './import.js';
import { isDue, Poller } from '../core/poller.js';

export const FEED_KIND = 'misp-feed';
const INDEX_KEY = 'misp.feeds';
const FEED_NS = 'a7d1f3f4-3c3e-4f0e-9d59-6f6a3c1e5b10';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FILE = 64 * 1024 * 1024;
const MAX_FAILURES = 200;

export interface FeedConfig {
  name: string;
  /** A directory path or an http(s) URL (the folder holding manifest.json). */
  source: string;
  collectionId: string;
  /** Organisation recorded as the importer. */
  orgId: string;
  /** Seconds between scheduled pulls; 0 = manual only. */
  intervalS: number;
}

export interface FeedState {
  /** Event uuid → manifest timestamp imported. */
  events: Record<string, number>;
  lastRunUs: number | null;
  lastSuccessUs: number | null;
  lastError: string | null;
  /** Failures of the last pull (event uuid or "manifest" → reason). */
  failures: { uuid: string; reason: string; atUs: number }[];
  /**
   * STIX objects the intel service refused in events the last pull imported (an event is
   * imported, and not pulled again until its timestamp changes, when its report/grouping is
   * stored; what was refused of it is listed here, with the reason). Absent in older records.
   */
  refused?: { event: string; id: string | null; reason: string; atUs: number }[];
  imported: number;
  /** The last pull stopped at its time limit with events left: the scheduler goes on at its next tick. */
  more?: boolean;
  /** With `more`: the manifest entry (timestamp, uuid) it stopped after. */
  resumeAfter?: { ts: number; uuid: string };
}

/** How long one pull goes on before it saves where it is and leaves the rest to the next (ms). */
export const MAX_PULL_MS = 120_000;
/** A pull saves where it is after this many imported events, or this long (ms), whichever comes first. */
const CHECKPOINT_EVENTS = 100;
const CHECKPOINT_MS = 10_000;

export interface Feed extends FeedConfig { id: string; state: FeedState; rev: number }

export interface PullResult {
  feed: string; manifestEvents: number; imported: number; upToDate: number; failed: number; attributes: number; failures: FeedState['failures'];
  /** What was refused of the events imported (FeedState.refused). */
  refused: NonNullable<FeedState['refused']>;
  /** Stopped at the time limit with events left (the next pull, or the scheduler's next tick, goes on). */
  more: boolean;
}

interface Deps { store: Store; intel: IntelService; clock: Clock }

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/**
 * JSON.parse whose error never quotes the text: V8's message carries the first bytes of the
 * input, and a feed file may be anything the source points at (a symlink to /etc/passwd).
 */
function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${file} is not valid JSON (${text.length} bytes)`);
  }
}

async function fetchText(source: string, file: string, signal?: AbortSignal): Promise<string> {
  if (isUrl(source)) {
    const url = new URL(file, source.endsWith('/') ? source : `${source}/`);
    // Loaded on first use: a node that never fetches a feed starts without it.
    const { request } = await import('undici');
    const res = await request(url, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: 30_000, bodyTimeout: 60_000, maxRedirections: 0, ...(signal ? { signal } : {}) } as Parameters<typeof request>[1]);
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url.href} answered HTTP ${res.statusCode}`);
    }
    const len = Number(res.headers['content-length'] ?? 0);
    if (len > MAX_FILE) {
      await res.body.dump();
      throw new Error(`${url.href} is larger than ${MAX_FILE} bytes`);
    }
    const body = await readAtMost(res.body, MAX_FILE);
    if (body === null) throw new Error(`${url.href} is larger than ${MAX_FILE} bytes`);
    return body.toString('utf8');
  }
  const p = path.join(source, file);
  try {
    if ((await stat(p)).size > MAX_FILE) throw new Error(`is larger than ${MAX_FILE} bytes`);
    return await readFile(p, 'utf8');
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${p} does not exist` : `${p}: ${(e as Error).message}`);
  }
}

function rowOf(f: Feed, nowUs: number): RecordRow {
  const { id, rev, ...doc } = f;
  // Node configuration: visible to the node's organisations (GREEN); URLs with credentials are refused at add.
  return { id, kind: FEED_KIND, parentId: null, creatorOrg: f.orgId, tlp: 'green', recipients: [], originNode: null, exerciseId: null, state: 'active', createdUs: nowUs, updatedUs: nowUs, rev, json: JSON.stringify(doc) };
}

function feedOf(row: RecordRow): Feed {
  return { ...(JSON.parse(row.json) as Omit<Feed, 'id' | 'rev'>), id: row.id, rev: row.rev };
}

export class MispFeeds {
  constructor(private readonly deps: Deps) {}

  async #ids(): Promise<string[]> {
    return JSON.parse((await this.deps.store.getMeta(INDEX_KEY)) ?? '[]') as string[];
  }

  async list(): Promise<Feed[]> {
    const out: Feed[] = [];
    for (const id of await this.#ids()) {
      const row = await this.deps.store.getRecord(id);
      if (row) out.push(feedOf(row));
    }
    return out;
  }

  async get(nameOrId: string): Promise<Feed> {
    const f = (await this.list()).find((x) => x.id === nameOrId || x.name === nameOrId);
    if (!f) throw new AppError('NOT_FOUND', `no MISP feed ${nameOrId}`);
    return f;
  }

  async add(cfg: FeedConfig): Promise<Feed> {
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(cfg.name)) throw new AppError('BAD_REQUEST', 'feed name: 1-64 letters, digits, space, dot, underscore or hyphen');
    // Any other scheme (file:, ftp:, …) would be read as a relative directory named after it.
    if (!isUrl(cfg.source) && /^[A-Za-z][A-Za-z0-9+.-]+:/.test(cfg.source)) {
      throw new AppError('BAD_REQUEST', `feed source "${cfg.source.slice(0, 100)}": only http(s) URLs and directory paths are supported; for a local directory give its path (e.g. /srv/feeds/osint)`);
    }
    if (isUrl(cfg.source)) {
      const u = new URL(cfg.source);
      if (u.username || u.password) throw new AppError('BAD_REQUEST', 'feed URL must not carry credentials');
    }
    if (!Number.isInteger(cfg.intervalS) || cfg.intervalS < 0 || cfg.intervalS > 30 * 86400) throw new AppError('BAD_REQUEST', 'interval must be 0 (manual) to 2592000 seconds');
    const id = `${FEED_KIND}--${uuidv5(FEED_NS, cfg.name)}`;
    const nowUs = this.deps.clock.now() * 1000;
    const feed: Feed = { ...cfg, id, rev: 1, state: { events: {}, lastRunUs: null, lastSuccessUs: null, lastError: null, failures: [], imported: 0 } };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(rowOf(feed, nowUs)))) throw new AppError('CONFLICT', `a MISP feed named ${cfg.name} exists`);
      // Another process may add or remove a feed meanwhile: its change is kept (updateMeta).
      await updateMeta(tx, INDEX_KEY, (cur) => JSON.stringify([...(JSON.parse(cur ?? '[]') as string[]).filter((x) => x !== id), id]));
      await new AccessService(tx, this.deps.clock).audit(SYSTEM_ACTOR, 'misp.feed.add', id, { name: cfg.name, source: cfg.source, collection: cfg.collectionId, org: cfg.orgId });
    });
    return feed;
  }

  async remove(nameOrId: string): Promise<void> {
    const f = await this.get(nameOrId);
    await this.deps.store.transaction(async (tx) => {
      await updateMeta(tx, INDEX_KEY, (cur) => JSON.stringify((JSON.parse(cur ?? '[]') as string[]).filter((x) => x !== f.id)));
      await new AccessService(tx, this.deps.clock).audit(SYSTEM_ACTOR, 'misp.feed.remove', f.id, { name: f.name });
    });
  }

  /**
   * One pull: the manifest, then every new or newer event, oldest first; the state is saved
   * whatever happens, and on the way (every 100 imported events or 10 s), so that a pull that is
   * killed, or stops at its time limit (`maxMs`, default {@link MAX_PULL_MS}: a feed listing more
   * than one pull imports never holds the scheduler), goes on where it was.
   */
  async pull(nameOrId: string, opts: { signal?: AbortSignal; maxMs?: number } = {}): Promise<PullResult> {
    let feed = await this.get(nameOrId);
    const nowUs = () => this.deps.clock.now() * 1000;
    const until = Date.now() + (opts.maxMs ?? MAX_PULL_MS);
    const state: FeedState = { ...feed.state, events: { ...feed.state.events }, failures: [], refused: [], lastRunUs: nowUs(), more: false };
    const result: PullResult = { feed: feed.name, manifestEvents: 0, imported: 0, upToDate: 0, failed: 0, attributes: 0, failures: state.failures, refused: state.refused!, more: false };
    const importedBefore = feed.state.imported;
    let saved = { at: Date.now(), imported: 0 };
    const checkpoint = async () => {
      if (result.imported - saved.imported < CHECKPOINT_EVENTS && Date.now() - saved.at < CHECKPOINT_MS) return;
      feed = await this.#save({ ...feed, state: { ...state, imported: importedBefore + result.imported, more: true, ...(position ? { resumeAfter: position } : {}) } });
      saved = { at: Date.now(), imported: result.imported };
    };
    /** The last manifest entry this pull passed (where a continuation goes on). */
    let position: { ts: number; uuid: string } | undefined;
    const fail = (uuid: string, reason: string) => {
      result.failed++;
      if (state.failures.length < MAX_FAILURES) state.failures.push({ uuid, reason: reason.slice(0, 500), atUs: nowUs() });
    };
    try {
      let manifest: unknown;
      try {
        manifest = parseJson('manifest.json', await fetchText(feed.source, 'manifest.json', opts.signal));
      } catch (e) {
        throw new Error(`manifest.json: ${(e as Error).message}`);
      }
      if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error('manifest.json: not an object keyed by event uuid');
      const entries = Object.entries(manifest as Record<string, { timestamp?: unknown }>);
      result.manifestEvents = entries.length;
      // Oldest first (then by uuid), so that a pull that stopped goes on after the last event it
      // passed: a continuation starts there; the events that failed before it are retried by the
      // next pull from the start (at the feed's interval).
      const tsOf = (e: { timestamp?: unknown } | undefined) => Number(e?.timestamp ?? 0) || 0;
      entries.sort((a, b) => tsOf(a[1]) - tsOf(b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const resume = feed.state.more ? feed.state.resumeAfter : undefined;
      let tried = 0;
      for (const [uuid, entry] of entries) {
        opts.signal?.throwIfAborted();
        const at = { ts: tsOf(entry), uuid };
        if (resume && (at.ts < resume.ts || (at.ts === resume.ts && uuid <= resume.uuid))) continue;
        // At least one event a pull, so that every pull moves on.
        if (tried > 0 && Date.now() >= until) {
          result.more = true;
          break;
        }
        position = at;
        // The key names a file: only a uuid may (no path traversal through a hostile manifest).
        if (!UUID.test(uuid)) {
          fail(uuid.slice(0, 80), 'manifest key is not an event uuid');
          continue;
        }
        const ts = Number(entry?.timestamp ?? 0);
        if (!Number.isSafeInteger(ts)) {
          fail(uuid, 'manifest timestamp is not a number');
          continue;
        }
        const key = uuid.toLowerCase();
        if ((state.events[key] ?? -1) >= ts) {
          result.upToDate++;
          continue;
        }
        tried++;
        try {
          const doc = parseJson(`${key}.json`, await fetchText(feed.source, `${key}.json`, opts.signal));
          const s = await importMisp(this.deps.intel, { actor: SYSTEM_ACTOR, collectionId: feed.collectionId, document: doc }, { asOrg: feed.orgId, preserveProvenance: true });
          if (!s.events.some((e) => e.uuid === key)) throw new Error(`the file holds event(s) ${s.events.map((e) => e.uuid).join(', ')}, not ${uuid}`);
          // The event itself refused: it does not exist here, and is retried at the next pull.
          const head = s.errors.find((e) => e.id === `report--${key}` || e.id === `grouping--${key}`);
          if (head) throw new Error(`the event's ${head.id!.slice(0, head.id!.indexOf('--'))} was refused: ${head.message}`);
          // Only part of it refused (e.g. an object id another organisation created): the rest is
          // imported and stands for the event, as events/add answers it, and the refusals are
          // recorded. A refusal is decided by the content, so pulling the same event again would
          // meet it again, every pull, forever (DESIGN §2.7: never retried forever); a newer
          // version of the event (a new manifest timestamp) is pulled and imported anew.
          for (const e of s.errors) if (state.refused!.length < MAX_FAILURES) state.refused!.push({ event: key, id: e.id, reason: e.message.slice(0, 500), atUs: nowUs() });
          if (s.rejected > s.errors.length && state.refused!.length < MAX_FAILURES) {
            state.refused!.push({ event: key, id: null, reason: `and ${s.rejected - s.errors.length} more STIX objects refused`, atUs: nowUs() });
          }
          state.events[key] = ts;
          result.imported++;
          result.attributes += s.imported;
        } catch (e) {
          fail(uuid, (e as Error).message);
        }
        await checkpoint();
      }
      state.more = result.more;
      if (result.more && position) state.resumeAfter = position;
      else delete state.resumeAfter;
      state.lastSuccessUs = nowUs();
      state.lastError = result.failed ? `${result.failed} event(s) failed; see failures` : result.refused.length ? `${result.refused.length} STIX object(s) refused in imported events; see refused` : null;
    } catch (e) {
      state.lastError = (e as Error).message.slice(0, 500);
      fail('manifest', state.lastError);
    }
    state.imported = importedBefore + result.imported;
    await this.#save({ ...feed, state });
    return result;
  }

  /**
   * Saves the feed (its state merged with a concurrent pull's) and returns it as saved. A pull
   * that saves between this read and this write (the scheduler's and a manual one, on two API
   * processes) makes the write find another revision: it is merged again with what that one saved.
   */
  async #save(f: Feed): Promise<Feed> {
    for (let attempt = 1; ; attempt++) {
      // The pull's own state object takes the merged timestamps too (its later saves keep them).
      const next: Feed = { ...f, rev: f.rev + 1 };
      const saved = await this.deps.store.transaction(async (tx) => {
        const cur = await tx.getRecord(f.id);
        // A concurrent pull saved first: keep the newest timestamps of both.
        const base = cur && cur.rev !== f.rev ? feedOf(cur) : null;
        if (base) {
          for (const [u, t] of Object.entries(base.state.events)) next.state.events[u] = Math.max(t, next.state.events[u] ?? -1);
          next.rev = base.rev + 1;
        }
        const row = rowOf(next, this.deps.clock.now() * 1000);
        if (cur) row.createdUs = cur.createdUs;
        if (!(await tx.putRecord(row))) return false;
        await new AccessService(tx, this.deps.clock).audit(SYSTEM_ACTOR, 'misp.feed.pull', f.id, { lastError: next.state.lastError, failures: next.state.failures.length });
        return true;
      });
      if (saved) return next;
      if (attempt === 5) throw new AppError('CONFLICT', `feed ${f.name} changed during the pull; run it again`);
    }
  }
}

/**
 * The background job: pulls each feed whose interval has elapsed since its last run. One feed
 * at a time; a failing feed records its error and never stops the others or the server.
 */
export class MispFeedScheduler extends Poller {
  /**
   * @param o.pullMs how long one pull goes on (MAX_PULL_MS); `o.active`: whether this process runs
   *   the background jobs (several API processes on one PostgreSQL: the leader only, so a feed is
   *   not pulled by each of them at once).
   */
  constructor(private readonly feeds: MispFeeds, private readonly clock: Clock, tickMs = 30_000, private readonly o: { pullMs?: number; active?: () => boolean } = {}) {
    super({ everyMs: tickMs, ...(o.active ? { active: o.active } : {}) });
  }

  /** One scheduling pass (also called by tests). */
  async tick(): Promise<PullResult[]> {
    const out: PullResult[] = [];
    const now = this.clock.now() * 1000;
    for (const f of await this.feeds.list()) {
      if (!isDue(f.intervalS, f.state, now)) continue;
      try {
        out.push(await this.feeds.pull(f.id, { signal: this.signal, maxMs: this.o.pullMs ?? MAX_PULL_MS }));
      } catch {
        // Recorded in the feed's state by pull; nothing else to do here.
      }
    }
    return out;
  }
}
