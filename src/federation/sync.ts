/**
 * Continuous sync (docs/federation.md): each subscription runs on its interval; a failing run
 * backs off exponentially (interval × 2^failures, at most 5 min). Pull walks the peer
 * collection with TAXII (every version, durable cursor committed with each page), receives
 * the provenance envelopes in the page (asked for by id from an older peer), verifies each
 * object's origin signature and stores it
 * with its real release facts; anything refused goes to the subscription's reject list with
 * the reason, never lost. Push sends the local collection (what the peer's organisations may
 * receive) with TAXII POST, carrying the envelopes in `x_shieldwall_envelopes`, and polls the
 * status resource.
 */
import { AccessService, type Actor, type Principal } from '../access/index.js';
import { IntelService, type ItemResult } from '../intel/index.js';
import { TLP_LEVELS, type Audience, type Tlp } from '../core/policy.js';
import { parseTimestampMicros } from '../core/time.js';
import { MAX_RETRY_AFTER_S } from '../core/retry-after.js';
import type { Clock } from '../core/clock.js';
import type { OrgRow, Store } from '../store/index.js';
import { ENVELOPES_HEADER, TaxiiClient, TaxiiClientError, type TaxiiQuery, type TaxiiStatus } from '../taxii/index.js';
import { envelopeKey, envelopeOf, envelopesFor, versionField, MAX_ENVELOPES, type Envelope } from './envelope.js';
import { pushRecords } from './records.js';
import { applyRetractions, MAX_RETRACTIONS, retractionsFor, type Retraction } from './retractions.js';
import { newBatchCache, verifyBatchFacts, verifyFacts } from './keys.js';
import { BatchNodes, type BatchRef } from './batches.js';
import { followingCursor, pageQuery, sameCursor } from './cursor.js';
import { limitBreach, tlpOf } from '../stix/index.js';
import { MAX_REJECTS, NODE_NAME, P_PROV, originKeys, type FederationRegistry, type PeerRecord, type Provenance, type Subscription, type SubscriptionState } from './registry.js';

export const MAX_BACKOFF_S = 300;
/** Nodes an object may have passed through (its envelope's path) before it is refused. */
export const MAX_PATH = 64;
/** Objects per TAXII page of a pull (its envelopes in the page) and per push POST: one store transaction each. */
export const PULL_PAGE_SIZE = 1000;
/**
 * How long one run of a subscription goes on (a scheduled run, or "run now" over REST): past
 * it, the run ends after the page it is on and the next one starts at the next tick. A peer
 * that always has more (broken or hostile) never holds a run, or an HTTP request, for good.
 */
export const MAX_RUN_MS = 60_000;

export interface SyncDeps {
  store: Store;
  clock: Clock;
  registry: FederationRegistry;
  /** Told after each run that stored objects (indicator index, correlation...). */
  intel?: IntelService;
}

export interface RunOptions {
  signal?: AbortSignal;
  pageSize?: number;
  maxPages?: number;
  /** Default {@link MAX_RUN_MS}; `Infinity` runs until the peer has nothing more (the CLI). */
  maxRunMs?: number;
  /** Push: how long the peer's status of a POST is polled while pending (default {@link STATUS_WAIT_MS}). */
  statusWaitMs?: number;
}

/** How long a push polls the status of a POST the peer has not finished (ms); past it, see runPush. */
export const STATUS_WAIT_MS = 60_000;

export interface RunReport {
  subscription: string;
  direction: 'pull' | 'push';
  pages: number;
  received: number;
  added: number;
  duplicates: number;
  rejected: number;
  looped: number;
  sent: number;
  /** Pull: copies deleted here because their origin retracted them. */
  retracted?: number;
  complete: boolean;
  /**
   * Pull: another run of this subscription (a server's schedule, another process) or a reset
   * moved its cursor while this one ran, so this run stopped without storing its page.
   */
  superseded?: true;
}

/**
 * The audience of a peer node on this node: its identity and every organisation it serves,
 * and (at AMBER) the sharing groups of this node that have one of them as member. Object
 * versions at AMBER+STRICT and RED go to it only for the organisations living on it (`home`):
 * a hub never relays them. `records`: the audience of incidents and requests for assistance,
 * which a hub does relay, signed and unchanged, to the node of their recipients (records.ts).
 */
export async function peerAudience(store: Store, peer: PeerRecord, o: { records?: boolean } = {}): Promise<Audience> {
  const groups = new Set<string>();
  for (const org of [peer.identity, ...peer.orgs]) for (const g of await store.groupsOfOrg(org)) groups.add(g);
  const audience: Audience = { hop: 'peer', orgId: peer.identity, groupIds: [...groups].sort(), via: peer.orgs };
  return o.records ? audience : { ...audience, home: await homeOrgs(store, peer) };
}

/** The organisations of a peer that live on it (not reached through it). */
async function homeOrgs(store: Store, peer: PeerRecord): Promise<string[]> {
  const relayed = new Set((await store.listOrganisations()).filter((x) => x.relayed === true).map((x) => x.id));
  return peer.orgs.filter((id) => !relayed.has(id));
}

export function clientFor(registry: FederationRegistry, peer: PeerRecord, timeoutMs = 30_000): TaxiiClient {
  if (!peer.url) throw new Error(`peer ${peer.name} has no URL`);
  const maxResponseBytes = registry.deps.peerMaxResponseBytes;
  return new TaxiiClient({ url: peer.url, auth: { kind: 'bearer', token: registry.token(peer) }, ...(peer.ca ? { tls: { ca: peer.ca } } : {}), timeoutMs, ...(maxResponseBytes ? { maxResponseBytes } : {}) });
}

interface Item {
  object: unknown;
  envelope: Envelope | null;
}

export interface ReceiveResult {
  added: number;
  duplicates: number;
  rejected: number;
  looped: number;
  /** Per item, in order: what became of it. */
  results: ({ status: 'added' | 'duplicate' | 'looped' } | { status: 'rejected'; message: string })[];
}

/**
 * Verifies and stores objects received from `peer` (pull or push), in the caller's
 * transaction. Rejected items are written to the reject list of `subscription` (when given).
 */
export async function receive(tx: Store, a: { deps: SyncDeps; peer: PeerRecord; collectionId: string; items: readonly Item[]; subscription: string | null }): Promise<ReceiveResult> {
  const { registry, clock } = a.deps;
  const me = registry.deps.nodeName;
  const nowUs = clock.now() * 1000;
  const orgs = new Map((await tx.listOrganisations()).map((o): [string, OrgRow] => [o.id, o]));
  const keysOf = originKeys(registry, tx);
  const out: ReceiveResult = { added: 0, duplicates: 0, rejected: 0, looped: 0, results: new Array(a.items.length) };
  const reject = async (i: number, message: string) => {
    out.rejected++;
    out.results[i] = { status: 'rejected', message };
    const it = a.items[i]!;
    const obj = it.object as Record<string, unknown> | null;
    if (a.subscription) {
      await registry.putReject(tx, {
        subscription: a.subscription, id: typeof obj?.id === 'string' ? obj.id.slice(0, 200) : null,
        version: obj && typeof obj === 'object' ? versionField(obj) : null, reason: message.slice(0, 500), atUs: nowUs, object: it.object, envelope: it.envelope,
      });
    }
  };
  const groups = new Map<string, { creator: string; origin: string; recipients: string[]; tlp: Tlp | null; idx: number[] }>();
  // Batch signatures already checked in this call: a page costs one verification per batch root.
  const verifiedRoots = newBatchCache();
  const localGroups = new Map<string, boolean>();
  const batchNodes = new BatchNodes();
  const refs: (BatchRef | null)[] = new Array(a.items.length).fill(null);
  for (let i = 0; i < a.items.length; i++) {
    const { object, envelope: env } = a.items[i]!;
    if (!object || typeof object !== 'object' || Array.isArray(object)) {
      await reject(i, 'not a JSON object');
      continue;
    }
    const obj = object as Record<string, unknown>;
    // Checked before the signature, whose canonical form walks the object recursively.
    const breach = limitBreach(obj);
    if (breach) {
      await reject(i, `over the size limits of a STIX object: ${breach}`);
      continue;
    }
    if (!env) {
      await reject(i, `no provenance envelope from ${a.peer.name} for this version: it cannot be verified`);
      continue;
    }
    // The path is per hop and not signed: a relay could make it anything. Node names are short
    // and an alliance is not thousands of hops deep.
    if (env.path.length > MAX_PATH || env.path.some((n) => typeof n !== 'string' || !NODE_NAME.test(n))) {
      await reject(i, `the envelope's path is not a list of at most ${MAX_PATH} node names`);
      continue;
    }
    if (env.origin === me || env.path.includes(me)) {
      // A copy of our own object, or one that already passed here: a loop never amplifies.
      out.looped++;
      out.results[i] = { status: 'looped' };
      continue;
    }
    if (!env.signature) {
      await reject(i, `object from ${env.origin} relayed by ${a.peer.name} carries no origin signature`);
      continue;
    }
    const keys = await keysOf(env.origin);
    if (keys.length === 0) {
      await reject(i, `unknown origin node ${env.origin}: register its public key (shieldwall peer add --name ${env.origin} --public-key ...), then retry`);
      continue;
    }
    if (env.tlp !== undefined && !(TLP_LEVELS as readonly unknown[]).includes(env.tlp)) {
      await reject(i, 'the envelope\'s tlp is not a TLP level');
      continue;
    }
    const facts = { object: obj, origin: env.origin, creator: env.creator, recipients: Array.isArray(env.recipients) ? env.recipients : [], ...(env.tlp !== undefined ? { tlp: env.tlp } : {}) };
    // The origin's current key, else one it rotated away from (a copy signed before, relayed on).
    const valid = keys.some((key) => env.batch !== undefined
      ? verifyBatchFacts(key, facts, { signature: env.signature!, proof: env.batch }, verifiedRoots)
      : verifyFacts(key, facts, env.signature!));
    if (!valid) {
      await reject(i, `the signature of origin node ${env.origin} does not verify: the object or its release facts were changed after it left its origin (path ${env.path.join(' > ')})`);
      continue;
    }
    // What the row keeps of a verified proof: its place in the batch, whose nodes are kept once.
    if (env.batch !== undefined) refs[i] = batchNodes.add(env.origin, env.signature, env.batch);
    // Whatever marking id says the level: TLP 2.0, TLP 1.0, or an alias (stix/tlp.ts).
    // An object without a marking is at the TLP its origin signed beside it (a policy fact).
    const tlp = tlpOf(obj) ?? (env.tlp as Tlp | undefined) ?? null;
    if ((tlp === 'amber+strict' || tlp === 'red') && env.origin !== a.peer.name) {
      await reject(i, `${tlp.toUpperCase()} object of ${env.origin} relayed by ${a.peer.name}: accepted only from its node of origin`);
      continue;
    }
    const c = env.creator ? orgs.get(env.creator) : undefined;
    // The real creator only when it is registered here as living on (or reached through) this peer.
    const creator = c && c.node === a.peer.name ? c.id : a.peer.identity;
    // A sharing group of this node is never a recipient named by a peer: its membership is
    // this node's decision, so naming it would let a peer release to whoever is in it here.
    const recipients: string[] = [];
    for (const r of new Set(env.recipients)) {
      if (typeof r !== 'string' || !/^identity--[0-9a-f-]{36}$/.test(r)) continue;
      if (!localGroups.has(r)) localGroups.set(r, (await tx.getGroup(r)) !== null);
      if (!localGroups.get(r)) recipients.push(r);
    }
    recipients.sort();
    const tlpFact = (env.tlp as Tlp | undefined) ?? null;
    const gk = JSON.stringify([creator, env.origin, recipients, tlpFact]);
    const g = groups.get(gk) ?? { creator, origin: env.origin, recipients, tlp: tlpFact, idx: [] };
    g.idx.push(i);
    groups.set(gk, g);
  }
  const intel = new IntelService(tx, clock);
  const actor: Actor = { principal: null, source: `peer:${a.peer.name}` };
  // Batches that new rows name, and how many rows: their nodes are written below.
  const used = new Map<string, number>();
  // The signed provenance goes into each version's row (what this node serves on as a relay):
  // of a new row, its place in the batch; a duplicate's row, filled only when it has none, keeps
  // the proof itself.
  const prov = (i: number, compact: boolean) => {
    const env = a.items[i]!.envelope!;
    const batch = compact ? (refs[i] ?? env.batch) : env.batch;
    const p: Provenance = {
      origin: env.origin, path: env.path, creator: env.creator, recipients: env.recipients, signature: env.signature!,
      ...(env.tlp !== undefined ? { tlp: env.tlp } : {}), ...(batch ? { batch } : {}),
    };
    return JSON.stringify(p);
  };
  for (const g of groups.values()) {
    const provenance = g.idx.map((i) => prov(i, true));
    const results: ItemResult[] = await intel.submit(actor, a.collectionId, g.idx.map((i) => a.items[i]!.object), {
      asOrg: g.creator, originNode: g.origin, recipients: g.recipients, preserveProvenance: true, exact: true, provenance, defaultTlp: g.tlp,
    });
    const again: { id: string; version: string; provenance: string }[] = [];
    for (const r of results) {
      const i = g.idx[r.index]!;
      if (r.status === 'rejected') {
        await reject(i, r.message);
        continue;
      }
      if (r.status === 'added') {
        out.added++;
        const ref = refs[i]?.ref;
        if (ref !== undefined) used.set(ref, (used.get(ref) ?? 0) + 1);
      } else {
        out.duplicates++;
        again.push({ id: r.id, version: r.version, provenance: prov(i, false) });
      }
      out.results[i] = { status: r.status };
    }
    if (again.length > 0) await tx.fillProvenance(a.collectionId, again);
  }
  await batchNodes.save(tx, used);
  return out;
}

/**
 * The items of a pulled page the subscription takes: with types, those of its types (a peer that
 * ignored `match[type]` sends more; they are not stored). Anything not an object goes on, to be
 * refused as such.
 */
function wantedOf(sub: Subscription, items: readonly unknown[]): unknown[] {
  const types = sub.types;
  return types ? items.filter((x) => !isObject(x) || types.includes(String(x.type))) : [...items];
}

/** A JSON object (a page's item from a peer may be anything). */
function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** The shape `receive` relies on (a peer's envelopes are input: anything else is dropped, and its object refused). */
function isEnvelope(e: unknown): e is Envelope {
  const x = e as Envelope | null;
  return !!x && typeof x === 'object' && typeof x.id === 'string' && typeof x.origin === 'string' && Array.isArray(x.path) && Array.isArray(x.recipients);
}

/** One run of a pull subscription: until the peer has nothing more (or `maxPages`). */
export async function runPull(deps: SyncDeps, sub: Subscription, o: RunOptions & { envelopesInPage?: boolean } = {}): Promise<RunReport> {
  const { registry, store, clock } = deps;
  const peer = await registry.peer(sub.peer);
  const client = clientFor(registry, peer);
  const report: RunReport = { subscription: sub.id, direction: 'pull', pages: 0, received: 0, added: 0, duplicates: 0, rejected: 0, looped: 0, sent: 0, complete: false };
  const until = Date.now() + (o.maxRunMs ?? MAX_RUN_MS);
  // Halved for the rest of the run when a page is larger than the client reads at once.
  let pageSize = o.pageSize ?? PULL_PAGE_SIZE;
  const call = o.signal ? { signal: o.signal } : {};
  type Fetched = { items: Record<string, unknown>[]; envelopes: Map<string, Envelope>; following: SubscriptionState['cursor']; more: boolean; last: string | undefined };
  /** One page from the cursor and its envelopes; nothing is written. */
  const fetchPage = async (cursor: SubscriptionState['cursor']): Promise<Fetched> => {
    // The subscription's types are asked of the peer: what is not wanted never travels.
    const base: TaxiiQuery = { limit: pageSize, match: { version: ['all'], ...(sub.types ? { type: sub.types } : {}) } };
    const q = pageQuery(base, cursor);
    // The envelopes come in the page (one request, one read of the rows on the peer); a peer
    // that does not send them (an older node) is asked for them by the page's ids.
    const inPage = o.envelopesInPage !== false;
    const page = await client.getObjects(peer.apiRoot, sub.remoteCollection, { ...q, ...call, ...(inPage ? { headers: { [ENVELOPES_HEADER]: '1' } } : {}) });
    const items = page.items as Record<string, unknown>[];
    // A page holds at most what was asked (TAXII 2.1 §3.4): more would be one unbounded
    // transaction on this node.
    if (items.length > (q.limit ?? pageSize)) throw new Error(`the peer answered ${items.length} objects for a page of at most ${q.limit ?? pageSize}`);
    const envelopes = new Map<string, Envelope>();
    const sent = page.custom?.x_shieldwall_envelopes;
    const add = (list: unknown) => {
      for (const e of (Array.isArray(list) ? list : []) as Envelope[]) if (isEnvelope(e)) envelopes.set(envelopeKey(e), e);
    };
    if (inPage && Array.isArray(sent)) add(sent);
    else {
      for (let i = 0; i < items.length; i += MAX_ENVELOPES) {
        const chunk = items.slice(i, i + MAX_ENVELOPES).filter(isObject).map((x) => ({ id: String(x.id), version: versionField(x) }));
        add((await client.request('POST', '/api/v1/federation/envelopes', { collection: sub.remoteCollection, objects: chunk }, call)).envelopes);
      }
    }
    const following: SubscriptionState['cursor'] = followingCursor(cursor, page);
    return { items, envelopes, following, more: page.more, last: following.last };
  };
  // The following page is fetched while this one is stored (the peer serves while we write);
  // it is only used once this page and its cursor committed, else dropped with the run.
  let prefetch: Promise<Fetched> | null = null;
  try {
    let state = await registry.state(sub.id);
    // The cursor as stored: a reset while this run goes on is not undone by its next page.
    let stored = state.cursor;
    let retriedWalk = false;
    for (;;) {
      o.signal?.throwIfAborted();
      // A walk that has not begun begins at the subscription's start, when it has one.
      const cursor = state.cursor.last === undefined && state.cursor.next === undefined && sub.since ? { ...state.cursor, last: sub.since } : state.cursor;
      let f: Fetched;
      try {
        f = await (prefetch ?? fetchPage(cursor));
      } catch (e) {
        prefetch = null;
        if (e instanceof TaxiiClientError && e.tooLarge) {
          if (pageSize === 1) throw new Error(`one object of ${peer.name} is larger than this node reads in one answer: ${e.message}`);
          pageSize = Math.max(1, Math.floor(pageSize / 2));
          continue;
        }
        if (e instanceof TaxiiClientError && e.status === 400 && cursor.next && !retriedWalk) {
          // The peer no longer honours the `next` token (restarted with another key): a new walk after the last committed object.
          retriedWalk = true;
          state = { ...state, cursor: { ...(cursor.last ? { last: cursor.last } : {}) } };
          continue;
        }
        throw e;
      }
      prefetch = null;
      const { items, envelopes, following, last } = f;
      if (items.length === 0 && !f.more && following.last === cursor.last && following.next === undefined && cursor.next === undefined) {
        // Caught up and nothing new: no transaction (a subscription polling every second would
        // otherwise commit, and fsync, an empty page each time).
        report.complete = true;
        await pullRetractions(deps, { sub, peer, client, call, report, until });
        return report;
      }
      if (await registry.countRejects(sub.id, MAX_REJECTS) >= MAX_REJECTS) {
        throw new Error(`the reject list of ${sub.id} holds ${MAX_REJECTS} entries: the pull waits (its cursor kept, nothing lost) until they are retried after a fix, or cleared`);
      }
      const wantMore = f.more && !(o.maxPages && report.pages + 1 >= o.maxPages) && Date.now() < until;
      if (wantMore) {
        prefetch = fetchPage(following);
        prefetch.catch(() => undefined);
      }
      const r = await store.transaction(async (tx) => {
        const current = await registry.state(sub.id, tx);
        if (!sameCursor(current.cursor, stored)) return null;
        const res = await receive(tx, {
          deps, peer, collectionId: sub.localCollection, subscription: sub.id,
          // An item that is not an object has no envelope, and is refused as not an object.
          items: wantedOf(sub, items).map((x) => ({ object: x, envelope: isObject(x) ? envelopeOf(envelopes, String(x.id), x) ?? null : null })),
        });
        const next: SubscriptionState = {
          ...current, cursor: following,
          objectsIn: state.objectsIn + res.added, rejected: state.rejected + res.rejected, looped: state.looped + res.looped,
          lastObjectUs: last ? Date.parse(last) * 1000 : state.lastObjectUs,
        };
        await registry.saveState(tx, sub.id, next);
        await new AccessService(tx, clock).audit({ principal: null, source: `peer:${peer.name}` }, 'federation.pull', sub.localCollection, {
          subscription: sub.id, peer: peer.name, received: items.length, added: res.added, rejected: res.rejected, looped: res.looped, last: following.last ?? null,
        });
        return { res, next };
      });
      // Reset (or moved by another run) meanwhile: this page is not stored; the next run starts from there.
      if (r === null) return { ...report, superseded: true };
      state = r.next;
      stored = following;
      report.pages++;
      report.received += items.length;
      report.added += r.res.added;
      report.duplicates += r.res.duplicates;
      report.rejected += r.res.rejected;
      report.looped += r.res.looped;
      if (r.res.added > 0) deps.intel?.announce({ collectionId: sub.localCollection, count: r.res.added, types: new Set(items.filter(isObject).map((x) => String(x.type))) });
      if (!f.more) {
        report.complete = true;
        await pullRetractions(deps, { sub, peer, client, call, report, until });
        return report;
      }
      if (!wantMore) return report;
    }
  } finally {
    await prefetch?.catch(() => undefined);
    await client.close();
  }
}

/**
 * After the objects: the peer's retractions of its collection since the retraction cursor
 * (retractions.ts), applied to the local collection in one transaction per page with the
 * cursor. A peer without the endpoint (an older node) answers 404: nothing to do.
 */
async function pullRetractions(deps: SyncDeps, a: { sub: Subscription; peer: PeerRecord; client: TaxiiClient; call: { signal?: AbortSignal }; report: RunReport; until: number }): Promise<void> {
  const { registry, store, clock } = deps;
  for (;;) {
    a.call.signal?.throwIfAborted();
    if (Date.now() >= a.until) {
      // The rest at the next run (the objects are complete; the retraction cursor is kept).
      a.report.complete = false;
      return;
    }
    const st = await registry.state(a.sub.id);
    const q = new URLSearchParams({ collection: a.sub.remoteCollection, limit: String(MAX_RETRACTIONS), ...(st.retractionCursor ? { after: st.retractionCursor } : {}) });
    let page: { retractions?: unknown; more?: unknown; next?: unknown };
    try {
      page = await a.client.request('GET', `/api/v1/federation/retractions?${q}`, undefined, a.call) as typeof page;
    } catch (e) {
      if (e instanceof TaxiiClientError && e.status === 404) return;
      throw e;
    }
    const items = Array.isArray(page.retractions) ? page.retractions : [];
    if (items.length > MAX_RETRACTIONS) throw new Error(`the peer answered ${items.length} retractions for a page of at most ${MAX_RETRACTIONS}`);
    const next = typeof page.next === 'string' ? page.next : undefined;
    if (items.length === 0 && (next === undefined || next === st.retractionCursor)) return;
    const res = await store.transaction(async (tx) => {
      const out = await applyRetractions(tx, { registry, intel: new IntelService(tx, clock), peer: a.peer, collectionId: a.sub.localCollection, items });
      const nowUs = clock.now() * 1000;
      for (const r of out.refused) {
        await registry.putReject(tx, { subscription: a.sub.id, id: r.id, version: r.version, reason: r.message, atUs: nowUs, object: r.item, envelope: RETRACTION_REJECT });
      }
      const cur = await registry.state(a.sub.id, tx);
      await registry.saveState(tx, a.sub.id, {
        ...cur, ...(next !== undefined ? { retractionCursor: next } : {}), retracted: (cur.retracted ?? 0) + out.deleted, rejected: cur.rejected + out.refused.length,
      });
      if (out.deleted > 0 || out.refused.length > 0) {
        await new AccessService(tx, clock).audit({ principal: null, source: `peer:${a.peer.name}` }, 'federation.retract', a.sub.localCollection, {
          subscription: a.sub.id, peer: a.peer.name, received: items.length, deleted: out.deleted, refused: out.refused.length,
        });
      }
      return out;
    });
    a.report.retracted = (a.report.retracted ?? 0) + res.deleted;
    a.report.rejected += res.refused.length;
    deps.intel?.announce({ collectionId: a.sub.localCollection, count: res.deleted, types: res.types });
    if (page.more !== true) return;
  }
}

/**
 * After the objects of a push: the local collection's retractions the peer may read, since the
 * retraction cursor, sent to `POST /api/v1/federation/retractions` (a peer without it: 404,
 * nothing to do). What the peer refuses goes to the reject list with its reason.
 */
async function pushRetractions(deps: SyncDeps, a: { sub: Subscription; peer: PeerRecord; client: TaxiiClient; audience: Audience; report: RunReport; signal?: AbortSignal }): Promise<void> {
  const { registry, store, clock } = deps;
  for (;;) {
    a.signal?.throwIfAborted();
    const st = await registry.state(a.sub.id);
    const page = await retractionsFor({ store, registry, audience: a.audience, collectionId: a.sub.localCollection, after: st.retractionCursor, limit: MAX_RETRACTIONS, excludeOrigin: a.peer.name });
    if (page.next === null || (page.retractions.length === 0 && page.next === st.retractionCursor)) return;
    let refused: SentFailure<{ obj: Retraction }>[] = [];
    if (page.retractions.length > 0) {
      try {
        const res = await a.client.request('POST', '/api/v1/federation/retractions', { collection: a.sub.remoteCollection, retractions: page.retractions }, a.signal ? { signal: a.signal } : {});
        refused = sentFailures(page.retractions.map((r) => ({ obj: r })), res.refused, (r) => r.version);
      } catch (e) {
        if (e instanceof TaxiiClientError && e.status === 404) return;
        throw e;
      }
    }
    await store.transaction(async (tx) => {
      const nowUs = clock.now() * 1000;
      for (const { f, s: x } of refused) {
        await registry.putReject(tx, {
          subscription: a.sub.id, id: f.id, version: f.version ?? null,
          reason: `refused by ${a.peer.name}: ${f.message ?? 'no reason given'}`, atUs: nowUs, object: x.obj, envelope: RETRACTION_REJECT,
        });
      }
      const cur = await registry.state(a.sub.id, tx);
      await registry.saveState(tx, a.sub.id, { ...cur, retractionCursor: page.next!, retracted: (cur.retracted ?? 0) + page.retractions.length - refused.length, rejected: cur.rejected + refused.length });
    });
    a.report.retracted = (a.report.retracted ?? 0) + page.retractions.length - refused.length;
    a.report.rejected += refused.length;
    if (!page.more) return;
  }
}

/** The envelope slot of a reject that is a retraction (retried as one, not as an object). */
const RETRACTION_REJECT = { retraction: true } as const;

/** One run of a push subscription: local versions added after the cursor, sent with their envelopes. */
export async function runPush(deps: SyncDeps, sub: Subscription, o: RunOptions = {}): Promise<RunReport> {
  const { registry, store, clock } = deps;
  const peer = await registry.peer(sub.peer);
  const client = clientFor(registry, peer);
  const audience = await peerAudience(store, peer);
  const report: RunReport = { subscription: sub.id, direction: 'push', pages: 0, received: 0, added: 0, duplicates: 0, rejected: 0, looped: 0, sent: 0, complete: false };
  const until = Date.now() + (o.maxRunMs ?? MAX_RUN_MS);
  // Halved for the rest of the run when the peer refuses a POST as larger than it takes (413).
  let pageSize = o.pageSize ?? PULL_PAGE_SIZE;
  try {
    let state = await registry.state(sub.id);
    for (;;) {
      o.signal?.throwIfAborted();
      const from = state.cursor;
      const afterUs = from.afterUs ?? (sub.since ? parseTimestampMicros(sub.since) ?? 0 : 0);
      const page = await store.queryObjects({
        collectionIds: [sub.localCollection], audience, purpose: 'read', version: { kind: 'all' }, addedAfter: afterUs, limit: pageSize,
        ...(sub.sightingsOnly ? { types: ['sighting'] } : sub.types ? { types: sub.types } : {}),
      });
      const rows = page.rows;
      if (rows.length === 0) {
        report.complete = true;
        if (!sub.sightingsOnly) await pushRetractions(deps, { sub, peer, client, audience, report, ...(o.signal ? { signal: o.signal } : {}) });
        return report;
      }
      const lastUs = rows[rows.length - 1]!.dateAdded;
      let candidates = rows.map((r) => ({ r, obj: JSON.parse(r.json) as Record<string, unknown> }));
      if (sub.sightingsOnly) {
        // Sightings flow back towards the node the sighted object came from, and only there:
        // to its origin, or to a node it came through (a hub, which stores the sighting and
        // relays it to the origin like any GREEN/AMBER object).
        const refs = [...new Set(candidates.map((c) => String(c.obj.sighting_of_ref ?? '')))];
        const travelled = new Map<string, readonly string[]>();
        const stored = await store.provenanceOf(refs);
        for (const id of refs) {
          // Provenance received before migration 0012 stayed in the meta table.
          const prov = stored.get(id) ?? (await store.listMeta(`${P_PROV}${id}|`, 1))[0]?.value;
          if (prov) travelled.set(id, (JSON.parse(prov) as Provenance).path);
        }
        candidates = candidates.filter((c) => travelled.get(String(c.obj.sighting_of_ref))?.includes(peer.name) === true);
      }
      // Never echo a copy back to a node it passed through.
      const envs = await envelopesFor({ store, registry, audience, collectionId: sub.localCollection, items: candidates.map((c) => ({ id: c.r.id, version: versionField(c.obj) })) });
      const envByKey = new Map(envs.map((e) => [envelopeKey(e), e]));
      const send: { obj: Record<string, unknown>; env: Envelope }[] = [];
      for (const c of candidates) {
        const env = envelopeOf(envByKey, c.r.id, c.obj);
        if (!env) continue;
        if (env.path.includes(peer.name)) {
          report.looped++;
          continue;
        }
        send.push({ obj: c.obj, env });
      }
      let sent = 0;
      let moved = false;
      let failures: SentFailure<{ obj: Record<string, unknown>; env: Envelope }>[] = [];
      if (send.length > 0) {
        let status: TaxiiStatus | null = null;
        try {
          status = await client.addObjects(peer.apiRoot, sub.remoteCollection, send.map((s) => s.obj), {
            extra: { x_shieldwall_envelopes: send.map((s) => s.env) }, ...(o.signal ? { signal: o.signal } : {}),
          });
        } catch (e) {
          // Larger than the peer takes in one request (its max_content_length, TAXII 2.1 §4.2.1):
          // fewer objects a POST, down to one; one object it never takes is refused by it, like a
          // failure in its status (the reject list, with the reason), and the push goes on.
          if (!(e instanceof TaxiiClientError && e.status === 413)) throw e;
          if (send.length > 1) {
            pageSize = Math.max(1, Math.floor(send.length / 2));
            continue;
          }
          const one = send[0]!;
          failures = [{ f: { id: String(one.obj.id), ...(one.env.version !== null ? { version: one.env.version } : {}), message: `larger than it takes in one request (HTTP 413; ${e.message.slice(0, 200)})` }, s: one }];
        }
        if (status) {
          const done = status.status === 'complete' ? status : await client.waitForStatus(peer.apiRoot, status, {
            intervalMs: 200, timeoutMs: o.statusWaitMs ?? STATUS_WAIT_MS, orPending: true, ...(o.signal ? { signal: o.signal } : {}),
          });
          // The peer's answer is input: only failures of objects sent count, each once.
          failures = sentFailures(send, done.failures);
          if (done.status !== 'complete') {
            // Still pending (a peer that queues what it receives): the push goes on, and what the
            // status does not say succeeded or failed goes to the reject list, its outcome unknown;
            // `sync retry` sends it again (a duplicate is a no-op there). Waiting for it on every run
            // would send the same page for ever.
            const settled = new Set(failures.map((x) => x.s));
            for (const x of sentFailures(send, done.successes)) settled.add(x.s);
            for (const x of send) {
              if (settled.has(x)) continue;
              failures.push({ f: { id: String(x.obj.id), ...(x.env.version !== null ? { version: x.env.version } : {}) }, s: x, reason: `still pending on ${peer.name} after ${Math.round((o.statusWaitMs ?? STATUS_WAIT_MS) / 1000)} s (status ${String(done.id).slice(0, 100)}): its outcome is not known; sync retry sends it again` });
            }
          }
          sent = Math.max(0, Math.min(send.length - failures.length, Number(done.success_count) || 0));
        }
      }
      await store.transaction(async (tx) => {
        for (const { f, s: x, reason } of failures) {
          await registry.putReject(tx, { subscription: sub.id, id: f.id, version: f.version ?? null, reason: reason ?? `refused by ${peer.name}: ${f.message ?? 'no reason given'}`, atUs: clock.now() * 1000, object: x.obj, envelope: x.env });
        }
        const cur = await registry.state(sub.id, tx);
        // Reset meanwhile (or moved by another run): what was sent is sent, the cursor stays as reset.
        moved = !sameCursor(cur.cursor, from);
        if (moved) return;
        state = { ...cur, cursor: { ...cur.cursor, afterUs: lastUs }, objectsOut: cur.objectsOut + sent, rejected: cur.rejected + failures.length, lastObjectUs: lastUs };
        await registry.saveState(tx, sub.id, state);
        await new AccessService(tx, clock).audit({ principal: null, source: `peer:${peer.name}` }, 'federation.push', sub.localCollection, { subscription: sub.id, peer: peer.name, sent, refused: failures.length });
      });
      report.sent += sent;
      report.rejected += failures.length;
      if (moved) return report;
      report.pages++;
      if (!page.more) {
        report.complete = true;
        if (!sub.sightingsOnly) await pushRetractions(deps, { sub, peer, client, audience, report, ...(o.signal ? { signal: o.signal } : {}) });
        return report;
      }
      if ((o.maxPages && report.pages >= o.maxPages) || Date.now() >= until) return report;
    }
  } finally {
    await client.close();
  }
}

/** An object of a push the peer did not take: `reason` (else "refused by <peer>: <message>") goes to the reject list. */
type SentFailure<S> = { f: { id: string; version?: string; message?: string }; s: S; reason?: string };

/**
 * The failures of a peer's status that name an object of `send` (by id and version), each once,
 * with its message cut to 400 characters; anything else in the answer is ignored.
 */
function sentFailures<S extends { obj: { id?: unknown } }>(send: readonly S[], failures: unknown, versionOf: (o: S['obj']) => string | null = (o) => versionField(o as Record<string, unknown>)): SentFailure<S>[] {
  if (!Array.isArray(failures)) return [];
  const byKey = new Map<string, S>();
  for (const x of send) byKey.set(`${String(x.obj.id)}|${versionOf(x.obj) ?? ''}`, x);
  const byId = new Map<string, S>();
  for (const x of send) if (!byId.has(String(x.obj.id))) byId.set(String(x.obj.id), x);
  const out: SentFailure<S>[] = [];
  const seen = new Set<S>();
  for (const f of failures as { id?: unknown; version?: unknown; message?: unknown }[]) {
    if (out.length >= send.length) break;
    if (!f || typeof f.id !== 'string') continue;
    const version = typeof f.version === 'string' ? f.version : undefined;
    const x = version !== undefined ? byKey.get(`${f.id}|${version}`) : byId.get(f.id);
    if (!x || seen.has(x)) continue;
    seen.add(x);
    out.push({ f: { id: f.id, ...(version !== undefined ? { version } : {}), ...(typeof f.message === 'string' ? { message: f.message.slice(0, 400) } : {}) }, s: x });
  }
  return out;
}

export async function runSubscription(deps: SyncDeps, sub: Subscription, o: RunOptions & { envelopesInPage?: boolean } = {}): Promise<RunReport> {
  const { registry, store, clock } = deps;
  const startUs = clock.now() * 1000;
  try {
    const r = sub.direction === 'pull' ? await runPull(deps, sub, o) : await runPush(deps, sub, o);
    const st = await registry.state(sub.id);
    // A run that stopped with more to do (its time was up) goes on at the next tick.
    const nextRunUs = r.complete ? clock.now() * 1000 + sub.intervalS * 1e6 : clock.now() * 1000;
    await registry.saveState(store, sub.id, { ...st, lastRunUs: startUs, lastSuccessUs: clock.now() * 1000, failures: 0, nextRunUs });
    return r;
  } catch (e) {
    const st = await registry.state(sub.id);
    const failures = st.failures + 1;
    const backoffS = Math.min(MAX_BACKOFF_S, sub.intervalS * 2 ** Math.min(failures, 20));
    // A peer that answered 429 or 503 with Retry-After is asked again no sooner than it said (at most a day).
    const askedS = e instanceof TaxiiClientError && e.retryAfterMs !== null ? Math.min(MAX_RETRY_AFTER_S, Math.ceil(e.retryAfterMs / 1000)) : 0;
    const waitS = Math.max(backoffS, askedS);
    const message = (e instanceof Error ? e.message : String(e)).slice(0, 400) + (askedS > backoffS ? ` (the peer asks to wait ${askedS} s: the next run waits as long)` : '');
    await registry.saveState(store, sub.id, { ...st, lastRunUs: startUs, lastErrorUs: clock.now() * 1000, lastError: message.slice(0, 500), failures, nextRunUs: clock.now() * 1000 + waitS * 1e6 });
    throw e;
  }
}

/**
 * Retries the reject list of a subscription (after a fix: a key or organisation registered).
 * A pull applies the entries now: `accepted` and `stillRejected` count them. A push sends them
 * again with its next run (`requeued`; the peer's answer then decides, in the status and the
 * reject list): `accepted` and `stillRejected` are null, not yet known.
 */
export async function retryRejects(deps: SyncDeps, sub: Subscription): Promise<{ retried: number; accepted: number | null; stillRejected: number | null; requeued?: number }> {
  const { registry, store } = deps;
  const peer = await registry.peer(sub.peer);
  const rejects = await registry.listRejects(sub.id, 100_000);
  if (sub.direction === 'push') {
    // A push reject is retried by sending it again on the next run (retractions too).
    const { retractionCursor: _, ...st } = await registry.state(sub.id);
    await registry.saveState(store, sub.id, { ...st, cursor: {}, nextRunUs: 0 });
    for (const r of rejects) await registry.dropReject(store, r.key);
    return { retried: rejects.length, accepted: null, stillRejected: null, requeued: rejects.length };
  }
  let accepted = 0;
  const isRetractionReject = (r: { envelope: unknown }) => (r.envelope as { retraction?: unknown } | null)?.retraction === true;
  for (let i = 0; i < rejects.length; i += 500) {
    const chunk = rejects.slice(i, i + 500);
    await store.transaction(async (tx) => {
      for (const r of chunk) await registry.dropReject(tx, r.key);
      const objects = chunk.filter((r) => !isRetractionReject(r));
      if (objects.length > 0) {
        const res = await receive(tx, { deps, peer, collectionId: sub.localCollection, subscription: sub.id, items: objects.map((r) => ({ object: r.object, envelope: (r.envelope ?? null) as Envelope | null })) });
        accepted += res.added + res.duplicates;
      }
      const retractions = chunk.filter(isRetractionReject);
      if (retractions.length === 0) return;
      const out = await applyRetractions(tx, { registry, intel: new IntelService(tx, deps.clock), peer, collectionId: sub.localCollection, items: retractions.map((r) => r.object) });
      accepted += retractions.length - out.refused.length;
      for (const r of out.refused) {
        await registry.putReject(tx, { subscription: sub.id, id: r.id, version: r.version, reason: r.message, atUs: deps.clock.now() * 1000, object: r.item, envelope: RETRACTION_REJECT });
      }
    });
  }
  return { retried: rejects.length, accepted, stillRejected: await registry.countRejects(sub.id) };
}

export interface SubscriptionStatus {
  subscription: Subscription;
  state: SubscriptionState;
  rejects: number;
  /** Seconds between now and the newest object applied (pull) or sent (push); null before any. */
  lagS: number | null;
  lastSuccess: string | null;
  /** The last failure, kept as history once a later run succeeded (`failing` false). */
  lastError: string | null;
  lastErrorAt: string | null;
  /** The last run failed (the error is current); false once a run succeeded since. */
  failing: boolean;
  nextRun: string;
}

export async function statusOf(deps: SyncDeps, sub: Subscription): Promise<SubscriptionStatus> {
  const st = await deps.registry.state(sub.id);
  const nowUs = deps.clock.now() * 1000;
  const iso = (us: number | null) => (us === null ? null : new Date(us / 1000).toISOString());
  return {
    subscription: sub, state: st, rejects: await deps.registry.countRejects(sub.id),
    lagS: st.lastSuccessUs === null ? null : Math.max(0, Math.round((nowUs - Math.max(st.lastSuccessUs, st.lastObjectUs ?? 0)) / 1e6)),
    lastSuccess: iso(st.lastSuccessUs), lastError: st.lastError, lastErrorAt: iso(st.lastErrorUs), failing: st.failures > 0, nextRun: iso(st.nextRunUs)!,
  };
}

/**
 * Runs due subscriptions in the background until `stop()`. Each due subscription starts at
 * once in its own task (a long pull from one peer never delays another subscription), at most
 * one run per subscription at a time; a run goes on while the peer has more pages, so the
 * interval only applies once a subscription has caught up.
 */
export function startScheduler(deps: SyncDeps, o: { tickMs?: number; recordsEveryMs?: number; onError?: (sub: string, e: unknown) => void; active?: () => boolean } = {}): { stop: () => Promise<void> } {
  const ac = new AbortController();
  const inFlight = new Map<string, Promise<void>>();
  let ticking: Promise<void> = Promise.resolve();
  let recordsAt = 0;
  const tick = async () => {
    if (o.active && !o.active()) return;
    const nowUs = deps.clock.now() * 1000;
    // Shared incidents and assistance requests go to the nodes of their recipients (records.ts).
    if (Date.now() - recordsAt >= (o.recordsEveryMs ?? 2000)) {
      recordsAt = Date.now();
      for (const peer of await deps.registry.listPeers()) {
        const key = `records:${peer.name}`;
        if (!peer.url || !peer.token || peer.orgs.length === 0 || inFlight.has(key)) continue;
        const run = pushRecords(deps, peer.name, { signal: ac.signal })
          .then(() => undefined, (e: unknown) => {
            if (!ac.signal.aborted) o.onError?.(key, e);
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, run);
      }
    }
    for (const sub of await deps.registry.listSubscriptions()) {
      if (ac.signal.aborted) return;
      if (!sub.enabled || inFlight.has(sub.id)) continue;
      const st = await deps.registry.state(sub.id);
      if (st.nextRunUs > nowUs) continue;
      const run = runSubscription(deps, sub, { signal: ac.signal })
        .then(() => undefined, (e: unknown) => {
          if (!ac.signal.aborted) o.onError?.(sub.id, e);
        })
        .finally(() => inFlight.delete(sub.id));
      inFlight.set(sub.id, run);
    }
  };
  const timer = setInterval(() => {
    ticking = ticking.then(tick).catch((e: unknown) => o.onError?.('*', e));
  }, o.tickMs ?? 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      ac.abort(new Error('stopping'));
      await ticking.catch(() => undefined);
      await Promise.all([...inFlight.values()]);
    },
  };
}

/** The TAXII push receiver: a peer's POST with `x_shieldwall_envelopes` goes through `receive`. */
export function pushReceiver(deps: SyncDeps) {
  return async (p: Principal, collectionId: string, objects: unknown[], envelopes: unknown[]): Promise<ItemResult[]> => {
    const peer = (await deps.registry.listPeers()).find((x) => x.identity === p.orgId);
    const idOf = (o: unknown) => (o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string' ? (o as { id: string }).id : null);
    if (!peer) return objects.map((o, index) => ({ index, id: idOf(o), version: null, versionText: o && typeof o === 'object' ? versionField(o as Record<string, unknown>) : null, status: 'rejected' as const, message: 'the pushing node is not a registered peer of this node' }));
    const envs = new Map<string, Envelope>();
    for (const e of envelopes) if (isEnvelope(e)) envs.set(envelopeKey(e), e);
    const items = objects.map((o) => ({ object: o, envelope: o && typeof o === 'object' ? envelopeOf(envs, String(idOf(o)), o as Record<string, unknown>) ?? null : null }));
    const res = await deps.store.transaction((tx) => receive(tx, { deps, peer, collectionId, items, subscription: null }));
    if (res.added > 0) deps.intel?.announce({ collectionId, count: res.added, types: new Set(objects.map((o) => String((o as { type?: unknown } | null)?.type))) });
    return res.results.map((r, index): ItemResult => {
      const o = objects[index] as Record<string, unknown> | null;
      const id = idOf(o);
      const version = o && typeof o === 'object' ? versionField(o) : null;
      if (r.status === 'rejected') return { index, id, version, versionText: version, status: 'rejected', message: r.message };
      return { index, id: id ?? '', version: version ?? '', versionText: version, status: r.status === 'added' ? 'added' : 'duplicate', dateAdded: 0 };
    });
  };
}
