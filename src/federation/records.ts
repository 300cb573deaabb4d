/**
 * Incidents and requests for assistance shared with another nation's organisation reach that
 * nation's node (issue #10 item 2, docs/federation.md "Incidents and requests for assistance").
 *
 * Node A (the record's node of origin) pushes, to each peer B, every incident and assistance
 * request originated on A that names as recipient (a share, a routing) an organisation
 * registered as living on B — what B's organisations may read of it through A's REST, and
 * nothing more: the document with only the observables the peer hop may receive, no
 * attachments (files stay on A), and the timeline entries a reader there could read. Each
 * push is signed by A like an object version (Ed25519 over the RFC 8785 form of {object,
 * origin, creator, recipients}, `object` being the record). B verifies it, accepts records
 * only from their node of origin (never relayed), stores the copy with A as origin node,
 * released to the recipients that are B's own organisations only, and refuses writes to it
 * (they are made on A). A record no longer shared with any organisation of B (unshared,
 * re-routed) is withdrawn there: B keeps a tombstone no user can read.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import { mayRelease, type Principal } from '../access/index.js';
import { AccessService } from '../access/index.js';
import { updateMeta, type RecordRow, type Store } from '../store/index.js';
import { INCIDENT, OFFER, REQUEST, observableFacts, type Incident, type Observable } from '../respond/index.js';
import { limitBreach } from '../stix/index.js';
import { parsePublicKey, signFacts, verifyFacts } from './keys.js';
import { peerKeys, type FederationRegistry, type PeerRecord } from './registry.js';
import { clientFor, peerAudience, type SyncDeps } from './sync.js';

export const FEDERATED_RECORD_KINDS: readonly string[] = [INCIDENT, REQUEST];
export const MAX_RECORDS_PER_PUSH = 100;
/** Records per kind a scan for one peer looks at: as many of those changed since the last scan, and of a walk over all of them. */
const SCAN_LIMIT = 1000;
const P_SENT = 'federation.recsent.';
const P_EVENTS = 'federation.recev.';
const P_STATUS = 'federation.recst.';
/** Where the walk of every record goes on, per peer (ScanCursor). */
const P_SCAN = 'federation.recscan.';
/** On a receiver: the peer a relayed record came through (answers go back that way, record-actions.ts). */
export const P_VIA = 'federation.recvia.';
/** On a relay: envelopes waiting to go to a peer, by record id. */
const P_RELAYQ = 'federation.relayq.';
/** On a relay: the last envelope relayed for a record (its signature), the peers it went to and the peer it came from. */
export const P_RELAYED = 'federation.relayed.';
const RECORD_ID = /^(incident|assistance-request)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The record as it travels (and as the origin signs it). */
export interface FederatedRecord {
  type: 'x-shieldwall-record';
  id: string;
  kind: string;
  state: string;
  tlp: RecordRow['tlp'];
  createdUs: number;
  updatedUs: number;
  /** Withdrawn from the receiving node's organisations: the copy there becomes unreadable. */
  withdrawn: boolean;
  doc: unknown;
  /** Timeline entries, by the origin's sequence number. */
  events: { seq: number; atUs: number; kind: string; orgId: string | null; data: unknown }[];
  /**
   * A request's offers made by organisations of the receiving node (made there and written back
   * to the origin, record-actions.ts): their copies let the offering organisation follow them.
   */
  offers?: FederatedOffer[];
}

export interface FederatedOffer {
  id: string;
  orgId: string;
  state: string;
  createdUs: number;
  updatedUs: number;
  doc: unknown;
}

export interface RecordEnvelope {
  record: FederatedRecord;
  origin: string;
  creator: string;
  recipients: string[];
  signature: string;
}

export interface RecordPushStatus {
  lastRunUs: number | null;
  lastSuccessUs: number | null;
  lastError: string | null;
  /** Record versions sent (and accepted) to this peer so far. */
  out: number;
  /** Record versions the peer refused so far, and the last reason (a refused copy is sent again once it changes). */
  refused: number;
  lastRefusal: string | null;
  /** Other nodes' records this node relays to the peer, waiting for the next push (now, not stored). */
  relayWaiting: number;
}

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('base64url');

/** What peer `peer` may receive of record `row`: the copy for its organisations, or null when nothing is due. */
async function copyFor(store: Store, peer: PeerRecord, row: RecordRow): Promise<FederatedRecord> {
  const audience = await peerAudience(store, peer, { records: true });
  let doc: unknown = JSON.parse(row.json);
  let events = (await store.listRecordEvents(row.id)).map((e) => ({ seq: e.seq, atUs: e.atUs, kind: e.kind, orgId: e.orgId, data: JSON.parse(e.json) as unknown }));
  if (row.kind === INCIDENT) {
    const d = doc as Incident;
    // As the incident's REST read for a reader there: observables by their own release facts,
    // timeline entries about a withheld observable withheld too. Files are not federated.
    const hidden = new Set(d.observables.filter((o: Observable) => !mayRelease(observableFacts(row, o), audience, 'read')).map((o) => o.id));
    doc = { ...d, observables: d.observables.filter((o) => !hidden.has(o.id)), attachments: [] };
    events = events.filter((e) => {
      const data = e.data as Record<string, unknown> | null;
      return !(data && typeof data.observableId === 'string' && hidden.has(data.observableId));
    });
  } else {
    // An assistance request's entries may carry offers (their own release facts): only the
    // request's own life cycle travels (created, state changes), without their data.
    events = events.filter((e) => /^assistance-request\.|^assistance\.(closed|withdrawn|expired)$/.test(e.kind)).map((e) => ({ ...e, data: {} }));
    // The offers that organisations of that peer made (from their node): theirs to follow there.
    const theirs = new Set(peer.orgs);
    const offers = (await store.listRecords({ kind: OFFER, parentId: row.id, audience, purpose: 'read', limit: 1000, exerciseId: null }))
      .filter((o) => theirs.has(o.creatorOrg))
      .map((o) => ({ id: o.id, orgId: o.creatorOrg, state: o.state, createdUs: o.createdUs, updatedUs: o.updatedUs, doc: JSON.parse(o.json) as unknown }));
    return { type: 'x-shieldwall-record', id: row.id, kind: row.kind, state: row.state, tlp: row.tlp, createdUs: row.createdUs, updatedUs: row.updatedUs, withdrawn: false, doc, events, offers };
  }
  return { type: 'x-shieldwall-record', id: row.id, kind: row.kind, state: row.state, tlp: row.tlp, createdUs: row.createdUs, updatedUs: row.updatedUs, withdrawn: false, doc, events };
}

function signed(key: crypto.KeyObject, origin: string, record: FederatedRecord, facts: { creator: string; recipients: string[] }): RecordEnvelope {
  const { creator, recipients } = facts;
  return { record, origin, creator, recipients, signature: signFacts(key, { object: record as unknown as Record<string, unknown>, origin, creator, recipients }) };
}

/** The signed copy of one record for one peer (the answer to an action written back from there). */
export async function envelopeFor(deps: SyncDeps, peer: PeerRecord, row: RecordRow): Promise<RecordEnvelope> {
  const key = (await deps.registry.signingKeys()).privateKey;
  return signed(key, deps.registry.deps.nodeName, await copyFor(deps.store, peer, row), { creator: row.creatorOrg, recipients: row.recipients.filter((r) => peer.orgs.includes(r)).sort() });
}

function tombstone(id: string, kind: string, nowUs: number): FederatedRecord {
  return { type: 'x-shieldwall-record', id, kind, state: 'withdrawn', tlp: 'red', createdUs: nowUs, updatedUs: nowUs, withdrawn: true, doc: null, events: [] };
}

/**
 * One scan for one peer: pushes the records whose copy for that peer changed since the last
 * accepted push (a new revision, a comment, a share added or removed), signed.
 */
export async function pushRecords(deps: SyncDeps, peerName: string, o: { signal?: AbortSignal; scanLimit?: number } = {}): Promise<{ sent: number; refused: { id: string; message: string }[] }> {
  const { registry, store, clock } = deps;
  const peer = await registry.peer(peerName);
  const nowUs = clock.now() * 1000;
  const { relayWaiting: _now, ...status } = await recordPushStatus(registry, peer.name);
  try {
    const res = await pushRecordsOnce(deps, peer, o);
    // Nothing new and nothing to report: no write (the scan runs every few seconds).
    if (res.sent === 0 && res.refused.length === 0 && status.lastError === null && status.lastSuccessUs !== null) return res;
    const lastRefusal = res.refused.length ? `${res.refused[0]!.id}: ${res.refused[0]!.message}`.slice(0, 500) : status.lastRefusal;
    await store.setMeta(P_STATUS + peer.name, JSON.stringify({
      ...status, lastRunUs: nowUs, lastSuccessUs: nowUs, lastError: null, out: status.out + res.sent, refused: status.refused + res.refused.length, lastRefusal,
    } satisfies Omit<RecordPushStatus, 'relayWaiting'>));
    return res;
  } catch (e) {
    await store.setMeta(P_STATUS + peer.name, JSON.stringify({ ...status, lastRunUs: nowUs, lastError: (e instanceof Error ? e.message : String(e)).slice(0, 500) } satisfies Omit<RecordPushStatus, 'relayWaiting'>));
    throw e;
  }
}

export async function recordPushStatus(registry: FederationRegistry, peer: string): Promise<RecordPushStatus> {
  const raw = await registry.store.getMeta(P_STATUS + peer);
  const queued = await registry.store.getMeta(P_RELAYQ + peer);
  return {
    lastRunUs: null, lastSuccessUs: null, lastError: null, out: 0, refused: 0, lastRefusal: null, ...(raw ? JSON.parse(raw) as Partial<RecordPushStatus> : {}),
    relayWaiting: queued ? Object.keys(JSON.parse(queued) as Record<string, unknown>).length : 0,
  };
}

/** Where a peer's scan goes on, per record kind: the changes it has seen, and the walk over all records (after this updated_us and id). */
type ScanCursor = { kinds?: Record<string, { changed: Cursor; walk: Cursor }>; events?: number };
type Cursor = { us: number; id: string };
const START: Cursor = { us: -1, id: '' };

/**
 * The records of one kind a scan looks at for a peer, read without their documents or the
 * release policy (the caller applies it): those changed since the last scan (a share added or
 * removed, a new revision: at once), and the next page of a walk over every record, starting
 * over at the end (a record can stop being readable by the peer without changing, and an event
 * can commit behind the event cursor: each record is looked at again within ⌈records ÷
 * scanLimit⌉ scans). At most 2 × scanLimit records, however many there are; the caller adds
 * the records with new events.
 */
async function scanWindow(store: Store, a: { kind: string; scanLimit: number; cursor: { changed: Cursor; walk: Cursor } | undefined }): Promise<{ rows: RecordRow[]; next: { changed: Cursor; walk: Cursor } }> {
  const page = (c: Cursor) => store.scanRecords({ kind: a.kind, afterUs: c.us, afterId: c.id, limit: a.scanLimit, lean: true });
  const changed = await page(a.cursor?.changed ?? START);
  const walk = await page(a.cursor?.walk ?? START);
  const at = (rows: RecordRow[], from: Cursor): Cursor => {
    const last = rows[rows.length - 1];
    return last ? { us: last.updatedUs, id: last.id } : from;
  };
  const rows = new Map(changed.map((r) => [r.id, r]));
  for (const r of walk) if (!rows.has(r.id)) rows.set(r.id, r);
  return {
    rows: [...rows.values()],
    // A short page of the walk ends it: the next scan starts over.
    next: { changed: at(changed, a.cursor?.changed ?? START), walk: walk.length < a.scanLimit ? START : at(walk, START) },
  };
}

async function pushRecordsOnce(deps: SyncDeps, peer: PeerRecord, o: { signal?: AbortSignal; scanLimit?: number }): Promise<{ sent: number; refused: { id: string; message: string }[] }> {
  const { registry, store, clock } = deps;
  const me = registry.deps.nodeName;
  const audience = await peerAudience(store, peer, { records: true });
  const theirs = new Set(peer.orgs);
  const sentKey = P_SENT + peer.name;
  const sent = JSON.parse((await store.getMeta(sentKey)) ?? '{}') as Record<string, string>;
  const scanKey = P_SCAN + peer.name;
  const cursors = JSON.parse((await store.getMeta(scanKey)) ?? '{}') as ScanCursor;
  const kinds = (cursors.kinds ??= {});
  const scanLimit = o.scanLimit ?? SCAN_LIMIT;
  // Records with new events (a comment: the record itself does not change) are looked at now,
  // not when the walk reaches them. (An event committed after a later one is left to the walk.)
  const events = await store.listRecordEvents({ afterSeq: cursors.events ?? 0, limit: scanLimit });
  const evented = await store.getRecords([...new Set(events.map((e) => e.recordId))]);
  // An offer is a record of its own: what changes with it is its request's copy.
  const parents = evented.filter((r) => r.kind === OFFER && r.parentId !== null).map((r) => r.parentId!);
  const withEvents = [...evented, ...(parents.length ? await store.getRecords([...new Set(parents)]) : [])];
  cursors.events = events[events.length - 1]?.seq ?? cursors.events ?? 0;
  const due: RecordEnvelope[] = [];
  const hashes = new Map<string, string>();
  const current = new Set<string>();
  /** Records this scan looked at: only those may be found withdrawn. */
  const looked = new Set<string>();
  // Checked once, when something is to be signed (an API process without the node's key refuses).
  let key: crypto.KeyObject | undefined;
  const signingKey = async () => (key ??= (await deps.registry.signingKeys()).privateKey);
  /**
   * The peer's organisations a record is shared with, or null when it is not the peer's to
   * receive: only the node of origin sends a record, only when shared with an organisation there
   * that may read it (the scan reads without the release policy: it is applied here).
   */
  const sharedWith = (row: RecordRow): string[] | null => {
    if (row.originNode !== null || row.exerciseId !== null) return null;
    const recipients = row.recipients.filter((r) => theirs.has(r)).sort();
    const facts = { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode };
    return recipients.length > 0 && mayRelease(facts, audience, 'read') ? recipients : null;
  };
  for (const kind of FEDERATED_RECORD_KINDS) {
    const w = await scanWindow(store, { kind, scanLimit, cursor: kinds[kind] });
    kinds[kind] = w.next;
    const rows = new Map(w.rows.map((r) => [r.id, r]));
    for (const r of withEvents) if (r.kind === kind && !rows.has(r.id)) rows.set(r.id, r);
    for (const id of rows.keys()) looked.add(id);
    // The walk reads no documents: only the records shared with the peer are read whole.
    for (const row of await store.getRecords([...rows.values()].filter((r) => sharedWith(r) !== null).map((r) => r.id))) {
      const recipients = sharedWith(row);
      if (recipients === null) continue;
      current.add(row.id);
      const record = await copyFor(store, peer, row);
      const h = sha(JSON.stringify([record, row.creatorOrg, recipients]));
      // Sent (or refused by the peer) as it is now: nothing to do until it changes.
      if (sent[row.id] === h || sent[row.id] === `refused:${h}`) continue;
      hashes.set(row.id, h);
      due.push(signed(await signingKey(), deps.registry.deps.nodeName, record, { creator: row.creatorOrg, recipients }));
    }
  }
  // Pushed before and no longer shared with anyone there: withdrawn.
  const nowUs = clock.now() * 1000;
  for (const id of Object.keys(sent)) {
    if (current.has(id) || !looked.has(id) || sent[id] === 'withdrawn') continue;
    if (sent[id]!.startsWith('refused:')) {
      delete sent[id]; // never stored there: nothing to withdraw
      continue;
    }
    const row = await store.getRecord(id);
    const record = tombstone(id, row?.kind ?? INCIDENT, nowUs);
    due.push(signed(await signingKey(), deps.registry.deps.nodeName, record, { creator: row?.creatorOrg ?? nodeless(peer), recipients: [] }));
    hashes.set(id, 'withdrawn');
  }
  // Records of other nodes this node relays to that peer, unchanged (relayOn).
  const relayKey = P_RELAYQ + peer.name;
  const relays = JSON.parse((await store.getMeta(relayKey)) ?? '{}') as Record<string, RecordEnvelope>;
  for (const env of Object.values(relays)) if (!hashes.has(env.record.id)) due.push(env);
  // The walk goes on from here next time once what this scan found is pushed (a failed push
  // looks at the same page again).
  const saveCursors = () => store.setMeta(scanKey, JSON.stringify(cursors));
  if (due.length === 0) {
    await saveCursors();
    return { sent: 0, refused: [] };
  }
  const client = clientFor(registry, peer);
  const refused: { id: string; message: string }[] = [];
  let accepted = 0;
  try {
    for (let i = 0; i < due.length; i += MAX_RECORDS_PER_PUSH) {
      const chunk = due.slice(i, i + MAX_RECORDS_PER_PUSH);
      const r = await client.request('POST', '/api/v1/federation/records', { node: me, records: chunk }, o.signal ? { signal: o.signal } : {}) as unknown as { results?: { id: string; status: string; message?: string }[] };
      // The peer's answer is input: a result counts only for a record of this chunk, once.
      const open = new Set(chunk.map((c) => c.record.id));
      const refusedHere = new Set<string>();
      for (const x of Array.isArray(r.results) ? r.results : []) {
        if (!x || typeof x.id !== 'string' || !open.delete(x.id)) continue;
        if (x.status === 'rejected') {
          refusedHere.add(x.id);
          refused.push({ id: x.id, message: typeof x.message === 'string' ? x.message.slice(0, 400) : 'no reason given' });
          if (hashes.has(x.id) && hashes.get(x.id) !== 'withdrawn') sent[x.id] = `refused:${hashes.get(x.id)!}`;
        } else if (hashes.has(x.id)) {
          sent[x.id] = hashes.get(x.id)!;
          accepted++;
        }
      }
      await store.transaction(async (tx) => {
        await tx.setMeta(sentKey, JSON.stringify(sent));
        // Relayed envelopes answered (taken or refused) leave the queue, unless a newer one replaced
        // them meanwhile; what a receive queued meanwhile stays (updateMeta).
        let answered = 0;
        await updateMeta(tx, relayKey, (text) => {
          const q = JSON.parse(text ?? '{}') as Record<string, RecordEnvelope>;
          answered = 0;
          let dequeued = false;
          for (const c of chunk) {
            if (c.origin === me || q[c.record.id]?.signature !== c.signature) continue;
            delete q[c.record.id];
            dequeued = true;
            if (!refusedHere.has(c.record.id)) answered++;
          }
          return dequeued ? JSON.stringify(q) : null;
        });
        accepted += answered;
        await new AccessService(tx, clock).audit({ principal: null, source: `peer:${peer.name}` }, 'federation.records.push', peer.identity, {
          peer: peer.name, records: chunk.map((c) => ({ id: c.record.id, withdrawn: c.record.withdrawn })), refused: [...refusedHere],
        });
      });
    }
  } finally {
    await client.close();
  }
  await saveCursors();
  return { sent: accepted, refused };
}

const nodeless = (peer: PeerRecord) => peer.identity;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const strs = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === 'string');

/** The shape this node's readers of the record rely on (a signed but malformed copy must not break a read). */
function wellFormed(kind: string, doc: unknown): boolean {
  if (!isObj(doc) || typeof doc.title !== 'string') return false;
  if (kind === INCIDENT) {
    const links = doc.links;
    const stages = doc.stages;
    return typeof doc.description === 'string' && typeof doc.category === 'string' && Number.isInteger(doc.severity) && typeof doc.phase === 'string'
      && strs(doc.assignees) && Array.isArray(doc.tasks) && doc.tasks.every((t) => isObj(t) && typeof t.id === 'string' && typeof t.status === 'string')
      && Array.isArray(doc.observables) && doc.observables.every((o) => isObj(o) && typeof o.id === 'string' && typeof o.value === 'string' && typeof o.tlp === 'string' && typeof o.orgId === 'string' && (o.recipients === undefined || strs(o.recipients)))
      && Array.isArray(doc.shares) && doc.shares.every((x) => isObj(x) && typeof x.orgId === 'string') && Array.isArray(doc.attachments)
      && isObj(links) && ['alerts', 'sightings', 'indicators', 'techniques'].every((k) => strs(links[k])) && isObj(stages) && typeof stages.detectedAt === 'string';
  }
  return typeof doc.description === 'string' && strs(doc.services) && typeof doc.urgency === 'string' && (doc.routedTo === 'all' || strs(doc.routedTo)) && typeof doc.offerDeadline === 'string';
}

/**
 * A relay (a hub) passes a record on, unchanged and signed by its origin, to the peers on which
 * recipients live — and to the peers it went to before (an update that no longer names their
 * organisations withdraws it there). The same envelope is relayed once: a loop of relays does not
 * send it round again. Returns whether anything was queued.
 */
async function relayOn(tx: Store, env: RecordEnvelope, o: { from: string; to: readonly string[]; withdrawn: boolean }): Promise<boolean> {
  const id = env.record.id;
  const raw = await tx.getMeta(P_RELAYED + id);
  const last = raw ? (JSON.parse(raw) as { signature: string; peers: string[]; from: string }) : null;
  const targets = [...new Set([...(last?.peers ?? []), ...(o.withdrawn ? [] : o.to)])].filter((p) => p !== o.from);
  if (targets.length === 0 || (last && last.signature === env.signature && targets.every((t) => last.peers.includes(t)))) return false;
  // Another receive (from another peer, on another connection or API process) and the push that
  // empties the queue change it too: updateMeta keeps their changes; in a fixed order, so that two
  // receives never wait for each other's queue in a cycle.
  for (const t of [...targets].sort()) {
    await updateMeta(tx, P_RELAYQ + t, (text) => JSON.stringify({ ...(JSON.parse(text ?? '{}') as Record<string, RecordEnvelope>), [id]: env }));
  }
  await tx.setMeta(P_RELAYED + id, JSON.stringify({ signature: env.signature, peers: o.withdrawn ? [] : targets, from: o.from }));
  return true;
}

const OFFER_ID = /^assistance-offer--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The offers of a received request copy made by organisations of this node; null when malformed. */
function offersOf(raw: unknown, orgs: ReadonlyMap<string, { node: string | null }>): FederatedOffer[] | null {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 1000) return null;
  const out: FederatedOffer[] = [];
  for (const o of raw) {
    if (!isObj(o) || typeof o.id !== 'string' || !OFFER_ID.test(o.id) || typeof o.orgId !== 'string'
      || typeof o.state !== 'string' || !Number.isSafeInteger(o.createdUs) || !Number.isSafeInteger(o.updatedUs)
      || !isObj(o.doc) || typeof o.doc.team !== 'string' || !strs(o.doc.services) || typeof o.doc.requestId !== 'string') return null;
    // Only the offers of this node's organisations are stored here (a relay passes the others on).
    if (orgs.get(o.orgId)?.node !== null) continue;
    out.push({ id: o.id, orgId: o.orgId, state: o.state.slice(0, 40), createdUs: o.createdUs as number, updatedUs: o.updatedUs as number, doc: o.doc });
  }
  return out;
}

async function offersDiffer(tx: Store, offers: readonly FederatedOffer[]): Promise<boolean> {
  for (const o of offers) {
    const had = await tx.getRecord(o.id);
    if (!had || had.json !== JSON.stringify(o.doc) || had.state !== o.state) return true;
  }
  return false;
}

export interface RecordReceipt {
  id: string;
  status: 'added' | 'updated' | 'duplicate' | 'withdrawn' | 'relayed' | 'rejected';
  message?: string;
}

/**
 * B's side: a peer's pushed records, each verified and stored (or refused with the reason).
 * `p` must be a peer principal: its node is the registered peer whose identity it is.
 */
export async function receiveRecords(deps: SyncDeps, p: Principal, body: { records: unknown[] }): Promise<{ results: RecordReceipt[] }> {
  const peer = p.kind === 'peer' ? (await deps.registry.listPeers()).find((x) => x.identity === p.orgId) : undefined;
  if (!peer) throw new AppError('FORBIDDEN', 'only a registered peer node pushes records');
  return receiveFrom(deps, peer, body.records);
}

/** Verifies and stores records sent by `peer` (pushed, or returned by it after a written-back action). */
export async function receiveFrom(deps: SyncDeps, peer: PeerRecord, records: readonly unknown[]): Promise<{ results: RecordReceipt[] }> {
  const { store, clock, registry } = deps;
  const peers = await registry.listPeers();
  const orgs = new Map((await store.listOrganisations()).map((o) => [o.id, o]));
  const results: RecordReceipt[] = [];
  for (const raw of records) {
    const env = raw as Partial<RecordEnvelope> | null;
    const rec = env && typeof env === 'object' ? env.record : undefined;
    const id = rec && typeof rec === 'object' && typeof rec.id === 'string' ? rec.id.slice(0, 200) : '';
    const refuse = (message: string) => results.push({ id, status: 'rejected', message });
    if (!rec || typeof rec !== 'object' || rec.type !== 'x-shieldwall-record' || !RECORD_ID.test(id) || !FEDERATED_RECORD_KINDS.includes(String(rec.kind)) || !id.startsWith(`${String(rec.kind)}--`)) {
      refuse('not a federated incident or assistance request');
      continue;
    }
    const breach = limitBreach(rec);
    if (breach) {
      refuse(`the record is over the size limits of this node: ${breach}`);
      continue;
    }
    if (typeof env!.creator !== 'string' || !Array.isArray(env!.recipients) || env!.recipients.some((r) => typeof r !== 'string') || typeof env!.signature !== 'string') {
      refuse('the envelope lacks its creator, recipients or signature');
      continue;
    }
    // From its node of origin, or relayed by a peer (a hub) from an origin registered here (by key at least).
    const originName = typeof env!.origin === 'string' ? env!.origin : '';
    const origin = originName === peer.name ? peer : peers.find((x) => x.name === originName);
    if (!origin || originName === registry.deps.nodeName) {
      refuse(`records are accepted from their node of origin, or relayed from an origin registered here: ${originName.slice(0, 64)} is not a peer of this node`);
      continue;
    }
    // Its current key, or one it rotated away from: a hub relays the copy it holds, signed before.
    const signedFacts = { object: rec as unknown as Record<string, unknown>, origin: origin.name, creator: env!.creator, recipients: env!.recipients as string[] };
    if (!peerKeys(origin).some((b64) => { const key = parsePublicKey(b64); return key !== null && verifyFacts(key, signedFacts, env!.signature as string); })) {
      refuse(`the signature of node ${origin.name} does not verify: the record or its release facts were changed after it left its origin`);
      continue;
    }
    if (typeof rec.state !== 'string' || !Number.isSafeInteger(rec.createdUs) || !Number.isSafeInteger(rec.updatedUs) || !Array.isArray(rec.events)
      || !(rec.tlp === null || ['clear', 'green', 'amber', 'amber+strict', 'red'].includes(String(rec.tlp)))) {
      refuse('malformed record');
      continue;
    }
    if (!rec.withdrawn && !wellFormed(String(rec.kind), rec.doc)) {
      refuse(`malformed ${String(rec.kind)} document`);
      continue;
    }
    const offers = rec.kind === REQUEST && !rec.withdrawn ? offersOf(rec.offers, orgs) : [];
    if (offers === null) {
      refuse('malformed offers');
      continue;
    }
    // Released here only to this node's own organisations among the recipients the origin named;
    // recipients living on another peer (not the sender, not the origin) get it relayed there.
    const recipients = rec.withdrawn ? [] : (env!.recipients as string[]).filter((r) => orgs.get(r)?.node === null);
    const onward = rec.withdrawn ? [] : [...new Set((env!.recipients as string[]).map((r) => orgs.get(r)?.node ?? null))]
      .filter((n): n is string => n !== null && n !== peer.name && n !== origin.name && peers.some((x) => x.name === n && x.url !== null && x.token !== null));
    // A relayed update that no longer names any organisation here withdraws the copy held here.
    const dropped = !rec.withdrawn && recipients.length === 0 && onward.length === 0 && origin !== peer && (await store.getRecord(id))?.originNode === origin.name;
    if (!rec.withdrawn && recipients.length === 0 && onward.length === 0 && !dropped) {
      refuse('shared with no organisation of this node');
      continue;
    }
    const c = orgs.get(env!.creator);
    // The real creator when it lives on the origin or is reached through the sender; else the origin's identity.
    const creator = c && (c.node === origin.name || c.node === peer.name) ? c.id : origin.identity;
    const r = await store.transaction(async (tx): Promise<RecordReceipt> => {
      const have = await tx.getRecord(id);
      if (have && have.originNode !== origin.name) return { id, status: 'rejected', message: `${id} exists on this node and did not come from ${origin.name}` };
      const relayed = await relayOn(tx, env as RecordEnvelope, { from: peer.name, to: onward, withdrawn: rec.withdrawn === true });
      if (rec.withdrawn && !have) return { id, status: relayed ? 'relayed' : 'duplicate' };
      if (!rec.withdrawn && recipients.length === 0 && !dropped) return { id, status: 'relayed' };
      const gone = rec.withdrawn === true || dropped;
      if (origin !== peer) await tx.setMeta(P_VIA + id, peer.name); // answers to it go back the way it came (record-actions.ts)
      const evKey = P_EVENTS + id;
      let last = Number((await tx.getMeta(evKey)) ?? '0');
      const fresh = (gone ? [] : rec.events)
        .filter((e) => e && typeof e === 'object' && Number.isSafeInteger(e.seq) && e.seq > last && Number.isSafeInteger(e.atUs) && typeof e.kind === 'string')
        .sort((a, b) => a.seq - b.seq);
      const row: RecordRow = {
        id, kind: String(rec.kind), parentId: null, creatorOrg: creator, tlp: gone ? 'red' : rec.tlp, recipients, originNode: origin.name,
        exerciseId: null, state: gone ? 'withdrawn' : rec.state, createdUs: have?.createdUs ?? rec.createdUs, updatedUs: rec.updatedUs, rev: (have?.rev ?? 0) + 1,
        json: gone ? 'null' : JSON.stringify(rec.doc),
      };
      if (have && have.json === row.json && have.state === row.state && have.tlp === row.tlp && have.creatorOrg === row.creatorOrg
        && JSON.stringify([...have.recipients].sort()) === JSON.stringify([...recipients].sort()) && fresh.length === 0 && !(await offersDiffer(tx, offers))) return { id, status: 'duplicate' };
      if (!(await tx.putRecord(row))) return { id, status: 'rejected', message: `${id} changed while it was stored; it is sent again` };
      // Timeline entries the origin added since the last push, in its order.
      for (const e of fresh) {
        await tx.appendRecordEvent({ recordId: id, atUs: e.atUs, kind: e.kind.slice(0, 100), orgId: typeof e.orgId === 'string' ? e.orgId : null, userId: null, json: JSON.stringify(e.data ?? {}) });
        last = e.seq;
      }
      await tx.setMeta(evKey, String(last));
      // Offers this node's organisations made on the request (record-actions.ts), as the origin holds them now.
      let offersChanged = false;
      for (const o of gone ? [] : offers) {
        const had = await tx.getRecord(o.id);
        if (had && (had.originNode !== origin.name || had.parentId !== id)) continue;
        const json = JSON.stringify(o.doc);
        if (had && had.json === json && had.state === o.state) continue;
        offersChanged = true;
        await tx.putRecord({
          id: o.id, kind: OFFER, parentId: id, creatorOrg: o.orgId, tlp: 'amber', recipients: [creator], originNode: origin.name, exerciseId: null,
          state: o.state, createdUs: o.createdUs, updatedUs: o.updatedUs, rev: (had?.rev ?? 0) + 1, json,
        });
      }
      await new AccessService(tx, clock).audit({ principal: null, source: `peer:${peer.name}` }, 'federation.records.receive', id, {
        peer: peer.name, origin: origin.name, withdrawn: rec.withdrawn === true, recipients, ...(offersChanged ? { offers: offers.map((o) => o.id) } : {}), ...(onward.length ? { relayTo: onward } : {}),
      });
      return { id, status: gone ? 'withdrawn' : have ? 'updated' : 'added' };
    });
    results.push(r);
  }
  return { results };
}
