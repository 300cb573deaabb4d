/**
 * Peers, remote organisations and subscriptions as data (docs/federation.md), kept in the
 * store's meta table (works the same on SQLite and PostgreSQL):
 * - `federation.peer.<name>`: a peer node: URL, API root, its Ed25519 public key, the token it
 *   issued to this node (sealed with AES-256-GCM, keys.ts), a TLS CA, the organisations that
 *   live on it or are reached through it. A peer without URL is a node known only by its key
 *   (the origin of objects relayed by a hub).
 * - `federation.sub.<id>` / `federation.subst.<id>`: a subscription and its state.
 * - `federation.rej.<sub>.<key>`: the reject list of a subscription.
 * - `federation.prov.<id>|<version>`: the signed provenance of an object version pulled here
 *   before migration 0012 (since then it is stored with the version's row, `objects.provenance`).
 *
 * Every peer node has an identity organisation on this node (`node` = the peer's name, never
 * users): objects whose creator is not registered on that peer are attributed to it.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import { formatMicros, parseTimestampMicros } from '../core/time.js';
import type { Clock } from '../core/clock.js';
import { AccessService, type Actor } from '../access/index.js';
import { updateMeta, type OrgRow, type Store } from '../store/index.js';
import { refusedAddress } from '../taxii/index.js';
import { isStixTypeName } from '../stix/index.js';
import {
  discardStagedSigningKey, finishStagedRotation, nodeKeys, parsePublicKey, promoteSigningKey, reloadNodeKeys, SECRET_KEY_FILE, SIGNING_KEY_FILE, seal, secretCheck,
  stageSigningKey, unseal,
  type BatchProof, type NodeKeys,
} from './keys.js';
import type { BatchRef } from './batches.js';

export const NODE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SHORT_NAME = /^[A-Z0-9-]{1,16}$/;
const IDENTITY = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** UUIDv5 namespace of node identities (so every node derives the same id for a node name). */
const NODE_NAMESPACE = '5b0c3f3e-2f3c-5d5e-9a3b-6f1e0c5d9a71';

export function nodeIdentityId(node: string): string {
  const ns = Buffer.from(NODE_NAMESPACE.replace(/-/g, ''), 'hex');
  const h = crypto.createHash('sha1').update(ns).update(`shieldwall-node:${node}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `identity--${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface PeerRecord {
  name: string;
  url: string | null;
  apiRoot: string;
  /** This node's record of the peer node's own identity. */
  identity: string;
  /** Organisations living on the peer or reached through it (remote organisations here; `relayed` on their rows tells which). */
  orgs: string[];
  /** The peer's token for this node, sealed (never returned by views). */
  token: string | null;
  ca: string | null;
  publicKey: string;
  /**
   * Keys the peer signed with before its last rotations, newest first: versions they signed
   * (copies relayed by a hub, rejects retried) still verify, until `dropRetiredKeys` (after a
   * compromise). Absent on peers registered before rotation was possible.
   */
  retiredKeys?: string[];
  createdUs: number;
}

export interface PeerView {
  name: string;
  url: string | null;
  apiRoot: string;
  identity: string;
  /** `relayed`: lives on another node, reached through this peer. */
  orgs: { id: string; shortName: string; name: string; relayed: boolean }[];
  hasToken: boolean;
  hasCa: boolean;
  publicKey: string;
  /** Keys of the peer before its rotations that still verify what they signed, newest first. */
  retiredKeys: string[];
  createdAt: string;
}

export type Direction = 'pull' | 'push';

export interface Subscription {
  id: string;
  peer: string;
  direction: Direction;
  /** Collection id (or alias) on the peer. */
  remoteCollection: string;
  /** Local collection id. */
  localCollection: string;
  intervalS: number;
  /** Push only: push the sightings of objects that came from this peer (sightings back to their origin). */
  sightingsOnly: boolean;
  /**
   * Only objects of these STIX types (absent: every type). Applied by the sender: a pull asks the
   * peer with TAXII `match[type]`, a push reads only these types; nothing unwanted is transferred.
   */
  types?: string[];
  /**
   * Only what was added since this time (RFC 3339, UTC, microseconds): a pull starts its walk with
   * TAXII `added_after` = since (the peer's date_added), a push with the local versions added
   * after it. A node joining an alliance need not take years of history. A reset walks from it.
   */
  since?: string;
  enabled: boolean;
  createdUs: number;
}

export interface SubscriptionState {
  cursor: { since?: string; next?: string; last?: string; afterUs?: number };
  lastRunUs: number | null;
  lastSuccessUs: number | null;
  lastErrorUs: number | null;
  lastError: string | null;
  /** Consecutive failures (backoff = interval × 2^failures, capped). */
  failures: number;
  nextRunUs: number;
  objectsIn: number;
  objectsOut: number;
  rejected: number;
  looped: number;
  /** Pull: date_added of the newest peer object applied; push: of the newest local object sent (µs). */
  lastObjectUs: number | null;
  /** Pull: the cursor of the peer's retractions applied (retractions.ts); absent before any. */
  retractionCursor?: string;
  /** Pull: copies deleted here because their origin retracted them. */
  retracted?: number;
}

export interface Reject {
  key: string;
  subscription: string;
  id: string | null;
  version: string | null;
  reason: string;
  atUs: number;
  /** What was received, kept so the object can be retried after a fix. */
  object: unknown;
  envelope: unknown;
}

export interface Provenance {
  origin: string;
  path: string[];
  creator: string | null;
  recipients: string[];
  signature: string;
  /** The signed TLP fact of an object that carries no TLP marking (envelope.ts `Envelope.tlp`). */
  tlp?: string;
  /**
   * The inclusion proof when the origin signed a batch (keys.ts signBatch); a row stored since the
   * seventeenth session keeps only its place in the batch, whose nodes are kept once (batches.ts).
   */
  batch?: BatchProof | BatchRef;
}

export const P_PEER = 'federation.peer.';
const P_SUB = 'federation.sub.';
const P_STATE = 'federation.subst.';
const P_REJ = 'federation.rej.';
/** Largest received object a reject entry keeps for a retry (JSON characters). */
export const MAX_KEPT_REJECT_BYTES = 256 * 1024;
/**
 * Entries a subscription's reject list holds at most: a pull that would add to a full list
 * stops (its cursor stays, nothing is lost) until the entries are retried or cleared.
 */
export const MAX_REJECTS = 10_000;
export const P_PROV = 'federation.prov.';
/**
 * The node's own signing key and secret as the store knows them (`{publicKey, secretCheck}`):
 * written by the first process that uses its keys and by a rotation. Every API process of a
 * node (several on PostgreSQL, each with its own data directory) signs only with that key.
 */
export const NODE_KEY_META = 'federation.node-key';
/** Keys a peer keeps after its rotations (newest first); an older one stops verifying. */
export const MAX_RETIRED_KEYS = 5;
/** How long a process trusts its last comparison of its keys with the store's record. */
const NODE_KEY_RECHECK_MS = 5000;

export const provKey = (id: string, version: string | null) => `${P_PROV}${id}|${version ?? ''}`;

/** A peer's keys that verify what it signed: its current key first, then those it rotated away from. */
export function peerKeys(p: PeerRecord): string[] {
  return [p.publicKey, ...(p.retiredKeys ?? [])];
}

/**
 * Looks up (once per node, for one receive) the keys that verify what a node originated: those of
 * the node registered under that name, the peer being read included (the origin of what a hub
 * relays), as `store` (the receiving transaction) has them: a run that began before the peer's
 * retired keys were dropped verifies its later pages without them. Unparseable keys are left
 * out; an empty list: the node is not registered here.
 */
export function originKeys(registry: FederationRegistry, store: Store): (node: string) => Promise<crypto.KeyObject[]> {
  const cache = new Map<string, crypto.KeyObject[]>();
  return async (node) => {
    let keys = cache.get(node);
    if (!keys) {
      const b64s = await registry.keysOf(node, store);
      keys = b64s.map(parsePublicKey).filter((k): k is crypto.KeyObject => k !== null);
      cache.set(node, keys);
    }
    return keys;
  };
}

/** STIX type names a subscription may take (STIX 2.1 §3.1: 3–250 of a-z, 0-9, -). */
export const MAX_SUBSCRIPTION_TYPES = 50;

/**
 * A subscription's start: an RFC 3339 timestamp (a date alone is its midnight UTC), not in the
 * future, as microseconds UTC; undefined when not given.
 */
export function subscriptionSince(since: unknown, nowUs: number): string | undefined {
  if (since === undefined || since === null || since === '') return undefined;
  const text = typeof since === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(since) ? `${since}T00:00:00Z` : since;
  const us = typeof text === 'string' ? parseTimestampMicros(text) : null;
  if (us === null) throw new AppError('BAD_REQUEST', `since must be an RFC 3339 time (2026-06-01T00:00:00Z) or a date (2026-06-01), got ${JSON.stringify(since).slice(0, 60)}`);
  if (us > nowUs) throw new AppError('BAD_REQUEST', 'since is in the future: nothing would ever be taken');
  return formatMicros(us);
}

/** The types of a subscription, checked, deduplicated and sorted; undefined for every type. */
export function subscriptionTypes(types: readonly unknown[] | undefined): string[] | undefined {
  if (types === undefined || types.length === 0) return undefined;
  if (types.length > MAX_SUBSCRIPTION_TYPES) throw new AppError('BAD_REQUEST', `a subscription takes at most ${MAX_SUBSCRIPTION_TYPES} types`);
  for (const t of types) {
    if (typeof t !== 'string' || !isStixTypeName(t)) throw new AppError('BAD_REQUEST', `"${String(t).slice(0, 60)}" is not a STIX type name (3-250 of a-z, 0-9, -)`);
  }
  return [...new Set(types as string[])].sort();
}

export function emptyState(nowUs: number): SubscriptionState {
  return { cursor: {}, lastRunUs: null, lastSuccessUs: null, lastErrorUs: null, lastError: null, failures: 0, nextRunUs: nowUs, objectsIn: 0, objectsOut: 0, rejected: 0, looped: 0, lastObjectUs: null };
}

export interface RegistryDeps {
  store: Store;
  clock: Clock;
  dataDir: string;
  nodeName: string;
  /** The largest answer read from a peer (config peerMaxResponseBytes; the client's default without it). */
  peerMaxResponseBytes?: number;
}

interface NodeKeyRecord {
  publicKey: string;
  secretCheck: string;
}

export class FederationRegistry {
  /** The last comparison of this process's keys with the store's record (NODE_KEY_META). */
  #keyCheck: { publicKey: string; at: number; error: AppError | null } | null = null;

  constructor(readonly deps: RegistryDeps) {}

  get store(): Store {
    return this.deps.store;
  }

  keys(): NodeKeys {
    return nodeKeys(this.deps.dataDir, this.deps.nodeName);
  }

  /**
   * The keys to sign with: this process's, once checked against the node's record in the store.
   * An API process whose data directory holds another key or secret than the node's (a second
   * API machine started without a copy of the keys, or one that missed a rotation made on another
   * machine) refuses to sign, with what to copy, instead of signing with a key no peer knows.
   */
  async signingKeys(): Promise<NodeKeys> {
    let keys = this.keys();
    const c = this.#keyCheck;
    if (c && c.publicKey === keys.publicKey && Date.now() - c.at < NODE_KEY_RECHECK_MS) {
      if (c.error) throw c.error;
      return keys;
    }
    let mine: NodeKeyRecord = { publicKey: keys.publicKey, secretCheck: secretCheck(keys.secret) };
    // A read on the serving path; only the first process to sign writes the record (one statement).
    const raw = (await this.store.getMeta(NODE_KEY_META)) ?? (await this.store.initMeta(NODE_KEY_META, JSON.stringify(mine)));
    const stored = JSON.parse(raw) as NodeKeyRecord;
    if (stored.secretCheck !== mine.secretCheck || stored.publicKey !== mine.publicKey) {
      // Another process of this data directory rotated a file a moment ago, or a rotation
      // committed and its process died before writing the file (rotateKey, secret-rotation.ts): read again.
      finishStagedRotation(this.deps.dataDir, stored, mine);
      keys = this.keys();
      mine = { publicKey: keys.publicKey, secretCheck: secretCheck(keys.secret) };
    }
    let error: AppError | null = null;
    if (stored.publicKey !== mine.publicKey || stored.secretCheck !== mine.secretCheck) {
      const what = stored.publicKey !== mine.publicKey ? `signing key (${SIGNING_KEY_FILE}: public key ${mine.publicKey})` : `secret (${SECRET_KEY_FILE})`;
      error = new AppError('UNAVAILABLE', `this process's federation ${what} is not node ${this.deps.nodeName}'s`
        + `${stored.publicKey !== mine.publicKey ? ` (${stored.publicKey})` : ''}: copy ${SIGNING_KEY_FILE} and ${SECRET_KEY_FILE} from an API machine of this node into this one's data directory `
        + '(every API process of a node signs with one key; docs/federation.md "Rotating the signing key")');
    }
    this.#keyCheck = { publicKey: keys.publicKey, at: Date.now(), error };
    if (error) throw error;
    return keys;
  }

  /**
   * Replaces this node's signing key (docs/federation.md "Rotating the signing key"): the peers
   * then register the new public key (`peer update --public-key`); until they do, they refuse
   * what this node signs with it (their reject lists keep it, retried after the update).
   */
  async rotateKey(actor: Actor): Promise<{ previous: string; publicKey: string }> {
    const { dataDir, nodeName } = this.deps;
    // This process's keys, whatever the store records (a node whose key file was lost rotates to recover).
    const keys = this.keys();
    const staged = stageSigningKey(dataDir);
    try {
      await this.store.transaction(async (tx) => {
        await tx.setMeta(NODE_KEY_META, JSON.stringify({ publicKey: staged.publicKey, secretCheck: secretCheck(keys.secret) } satisfies NodeKeyRecord));
        await new AccessService(tx, this.deps.clock).audit(actor, 'federation.key.rotate', nodeIdentityId(nodeName), { previous: keys.publicKey, publicKey: staged.publicKey });
      });
    } catch (e) {
      // Not recorded: the current key goes on signing.
      discardStagedSigningKey(dataDir, staged.publicKey);
      throw e;
    }
    promoteSigningKey(dataDir, staged);
    this.#keyCheck = null;
    return { previous: keys.publicKey, publicKey: staged.publicKey };
  }

  /**
   * The secret to seal a credential with, checked against the store's record now (not the last
   * comparison): a credential sealed with a secret a rotation has just replaced could never be
   * read again.
   */
  async sealingSecret(): Promise<Buffer> {
    this.#keyCheck = null;
    return (await this.signingKeys()).secret;
  }

  /** A credential kept sealed with the node's secret; throws when the secret does not open it. */
  unseal(sealed: string): string {
    try {
      return unseal(this.keys().secret, sealed);
    } catch {
      // The secret may have been rotated by another process of this data directory within the last second.
      reloadNodeKeys(this.deps.dataDir);
      return unseal(this.keys().secret, sealed);
    }
  }

  /** After a secret rotation in this process: the next signingKeys compares the new files. */
  forgetKeyCheck(): void {
    this.#keyCheck = null;
  }

  #nowUs(): number {
    return this.deps.clock.now() * 1000;
  }

  async #audit(actor: Actor, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await new AccessService(this.store, this.deps.clock).audit(actor, action, target, details);
  }

  // ---- peers ----
  async addPeer(actor: Actor, p: {
    name: string; url?: string | null; apiRoot?: string; publicKey: string; token?: string | null; ca?: string | null;
    orgs?: readonly PeerOrgInput[];
  }): Promise<PeerRecord> {
    if (!NODE_NAME.test(p.name)) throw new AppError('BAD_REQUEST', 'peer name must be 1-63 of a-z, 0-9, ., _, - (the peer\'s SHIELDWALL_NODE_NAME)');
    if (p.name === this.deps.nodeName) throw new AppError('BAD_REQUEST', `${p.name} is this node's own name`);
    if (await this.store.getMeta(P_PEER + p.name)) throw new AppError('CONFLICT', `peer ${p.name} exists; change it with peer update (PATCH), or remove it first`);
    const url = peerUrl(p.url);
    if (p.apiRoot !== undefined) checkApiRoot(p.apiRoot);
    checkToken(p.token);
    checkCa(p.ca);
    await this.#checkKey(p.name, p.publicKey);
    const all = await this.store.listOrganisations();
    const identity = nodeIdentityId(p.name);
    const wanted = await this.#checkOrgs(p.name, all, [
      { id: identity, shortName: shortNameOf(p.name, all, identity), name: `Node ${p.name}` },
      ...(p.orgs ?? []),
    ]);
    const rec: PeerRecord = {
      name: p.name, url, apiRoot: p.apiRoot ?? 'api1', identity, orgs: wanted.slice(1).map((o) => o.id),
      token: p.token ? seal(await this.sealingSecret(), p.token) : null, ca: p.ca ?? null, publicKey: p.publicKey, createdUs: this.#nowUs(),
    };
    await this.store.transaction(async (tx) => {
      // The check above, again where it holds: of two requests registering one name at once, the
      // second is refused here (on PostgreSQL both passed the read and the last one overwrote).
      if (!(await tx.createMeta(P_PEER + p.name, JSON.stringify(rec)))) throw new AppError('CONFLICT', `peer ${p.name} exists; change it with peer update (PATCH), or remove it first`);
      await this.#bindOrgs(tx, p.name, all, wanted);
      await new AccessService(tx, this.deps.clock).audit(actor, 'federation.peer.add', identity, { name: p.name, url, orgs: rec.orgs, relayed: relayedOf(wanted), publicKey: p.publicKey });
    });
    return rec;
  }

  /**
   * Changes a registered peer in place (its subscriptions, cursors and reject lists stay): its
   * URL, API root, public key (a rotated key), TLS CA, token, and the organisations on or behind
   * it. `orgs` adds organisations (or changes whether one is relayed); `removeOrgs` (ids or short
   * names) detaches organisations from it: they stay, with their objects, as organisations of no
   * peer, served to none until registered again.
   */
  async updatePeer(actor: Actor, name: string, c: {
    url?: string | null; apiRoot?: string; publicKey?: string; token?: string | null; ca?: string | null;
    orgs?: readonly PeerOrgInput[]; removeOrgs?: readonly string[];
    /** Forget the peer's keys from before its rotations: what they signed no longer verifies (a compromised key). */
    dropRetiredKeys?: boolean;
  }): Promise<PeerRecord> {
    const cur = await this.peer(name);
    const url = c.url === undefined ? cur.url : peerUrl(c.url);
    checkToken(c.token);
    checkCa(c.ca);
    if (c.apiRoot !== undefined) checkApiRoot(c.apiRoot);
    if (c.publicKey !== undefined) await this.#checkKey(name, c.publicKey);
    const all = await this.store.listOrganisations();
    const byId = new Map(all.map((o) => [o.id, o]));
    const removed = new Set<string>();
    for (const ref of c.removeOrgs ?? []) {
      const o = all.find((x) => x.id === ref || x.shortName === ref);
      if (!o || !cur.orgs.includes(o.id)) throw new AppError('NOT_FOUND', `${ref.slice(0, 80)} is not an organisation of peer ${name}`);
      removed.add(o.id);
    }
    const wanted = await this.#checkOrgs(name, all, c.orgs ?? []);
    if (wanted.some((o) => removed.has(o.id))) throw new AppError('BAD_REQUEST', 'an organisation cannot be added and removed at once');
    const orgs = [...cur.orgs.filter((id) => !removed.has(id)), ...wanted.map((o) => o.id).filter((id) => !cur.orgs.includes(id))];
    // A new key retires the current one: what the peer signed with it (relayed copies, rejects
    // retried later) still verifies, unless the retired keys are dropped.
    const rotated = c.publicKey !== undefined && c.publicKey !== cur.publicKey;
    const retired = c.dropRetiredKeys === true ? [] : rotated
      ? [cur.publicKey, ...(cur.retiredKeys ?? [])].filter((k) => k !== c.publicKey).slice(0, MAX_RETIRED_KEYS)
      : (cur.retiredKeys ?? []).filter((k) => k !== c.publicKey);
    const rec: PeerRecord = {
      ...cur, url, apiRoot: c.apiRoot ?? cur.apiRoot, publicKey: c.publicKey ?? cur.publicKey, retiredKeys: retired, orgs,
      token: c.token === undefined ? cur.token : c.token === null ? null : seal(await this.sealingSecret(), c.token), ca: c.ca === undefined ? cur.ca : c.ca,
    };
    await this.store.transaction(async (tx) => {
      await this.#bindOrgs(tx, name, all, wanted);
      for (const id of removed) await tx.putOrganisation({ ...byId.get(id)!, node: DETACHED_NODE, relayed: false });
      await tx.setMeta(P_PEER + name, JSON.stringify(rec));
      await new AccessService(tx, this.deps.clock).audit(actor, 'federation.peer.update', cur.identity, {
        name, ...(c.url !== undefined ? { url } : {}), ...(c.apiRoot !== undefined ? { apiRoot: rec.apiRoot } : {}), ...(c.publicKey !== undefined ? { publicKey: c.publicKey } : {}),
        ...(c.dropRetiredKeys === true ? { retiredKeys: 'dropped' } : rotated ? { retiredKeys: retired } : {}),
        ...(c.token !== undefined ? { token: c.token === null ? 'cleared' : 'replaced' } : {}), ...(c.ca !== undefined ? { ca: c.ca === null ? 'cleared' : 'replaced' } : {}),
        ...(wanted.length ? { orgs: wanted.map((o) => o.id), relayed: relayedOf(wanted) } : {}), ...(removed.size ? { removedOrgs: [...removed] } : {}),
      });
    });
    return rec;
  }

  /** A public key must parse, and no other peer may have registered it (one key, one node). */
  async #checkKey(name: string, publicKey: string): Promise<void> {
    if (!parsePublicKey(publicKey)) throw new AppError('BAD_REQUEST', 'public key must be the base64 of a raw 32-byte Ed25519 key (shieldwall peer whoami on the peer prints it)');
    const other = (await this.listPeers()).find((x) => x.name !== name && (x.publicKey === publicKey || (x.retiredKeys ?? []).includes(publicKey)));
    if (other) throw new AppError('CONFLICT', `peer ${other.name} is registered with this public key${other.publicKey === publicKey ? '' : ' (one it signed with before a rotation)'}: one node, one key`);
    if (publicKey === this.keys().publicKey) throw new AppError('BAD_REQUEST', 'this is this node\'s own public key');
  }

  /**
   * Checks the organisations to register on peer `name`: identity ids, free short names, not an
   * organisation of this node, no users here, and not registered on another peer that still
   * exists (one of a removed peer may move).
   */
  async #checkOrgs(name: string, all: readonly OrgRow[], orgs: readonly PeerOrgInput[]): Promise<PeerOrgInput[]> {
    const byId = new Map(all.map((o) => [o.id, o]));
    const peers = new Set((await this.listPeers()).map((x) => x.name));
    const seen = new Set<string>();
    const out: PeerOrgInput[] = [];
    for (const o of orgs) {
      if (typeof o.id !== 'string' || !IDENTITY.test(o.id)) throw new AppError('BAD_REQUEST', `organisation id ${String(o.id).slice(0, 80)} is not an identity id`);
      if (typeof o.shortName !== 'string' || !SHORT_NAME.test(o.shortName)) throw new AppError('BAD_REQUEST', `short name "${String(o.shortName).slice(0, 20)}" must be 1-16 of A-Z, 0-9, -`);
      if (seen.has(o.id)) throw new AppError('BAD_REQUEST', `organisation ${o.id} is given twice`);
      seen.add(o.id);
      const have = byId.get(o.id);
      if (have && have.node === null) throw new AppError('CONFLICT', `${have.shortName} (${o.id}) is an organisation of this node: it cannot live on peer ${name}`);
      if (have && have.node !== name && have.node !== DETACHED_NODE && peers.has(have.node!)) {
        throw new AppError('CONFLICT', `${have.shortName} is registered on peer ${have.node}; remove it there first (peer update ${have.node} --remove-org ${have.shortName})`);
      }
      if ((await this.store.listUsers(o.id)).length > 0) throw new AppError('CONFLICT', `${o.id} has users on this node`);
      const clash = all.find((x) => x.shortName === o.shortName && x.id !== o.id);
      if (clash) throw new AppError('CONFLICT', `short name ${o.shortName} is taken by ${clash.id}`);
      out.push({ id: o.id, shortName: o.shortName, name: o.name ?? have?.name ?? o.shortName, relayed: o.relayed === true });
    }
    return out;
  }

  /** Writes the organisation rows of peer `name` (inside the caller's transaction). */
  async #bindOrgs(tx: Store, name: string, all: readonly OrgRow[], wanted: readonly PeerOrgInput[]): Promise<void> {
    const byId = new Map(all.map((o) => [o.id, o]));
    for (const o of wanted) {
      const have = byId.get(o.id);
      await tx.putOrganisation({
        id: o.id, name: o.name ?? o.shortName, shortName: o.shortName, country: have?.country ?? null, kind: have?.kind ?? 'member',
        node: name, relayed: o.relayed === true, createdUs: have?.createdUs ?? this.#nowUs(),
      });
    }
  }

  async getPeer(name: string, store: Store = this.store): Promise<PeerRecord | null> {
    const raw = await store.getMeta(P_PEER + name);
    return raw ? (JSON.parse(raw) as PeerRecord) : null;
  }

  async peer(name: string): Promise<PeerRecord> {
    const p = NODE_NAME.test(name) ? await this.getPeer(name) : null;
    if (!p) throw new AppError('NOT_FOUND', `no peer ${name.slice(0, 80)}`);
    return p;
  }

  async listPeers(): Promise<PeerRecord[]> {
    return (await this.store.listMeta(P_PEER)).map((r) => JSON.parse(r.value) as PeerRecord);
  }

  async view(p: PeerRecord): Promise<PeerView> {
    const orgs = new Map((await this.store.listOrganisations()).map((o) => [o.id, o]));
    return {
      name: p.name, url: p.url, apiRoot: p.apiRoot, identity: p.identity,
      orgs: p.orgs.map((id) => ({ id, shortName: orgs.get(id)?.shortName ?? '?', name: orgs.get(id)?.name ?? '?', relayed: orgs.get(id)?.relayed === true })),
      hasToken: p.token !== null, hasCa: p.ca !== null, publicKey: p.publicKey, retiredKeys: p.retiredKeys ?? [], createdAt: new Date(p.createdUs / 1000).toISOString(),
    };
  }

  token(p: PeerRecord): string {
    if (!p.token) throw new AppError('BAD_REQUEST', `peer ${p.name} has no token: peer add --token (the token ${p.name} issued to this node)`);
    try {
      return this.unseal(p.token);
    } catch {
      throw new AppError('UNAVAILABLE', `the token of peer ${p.name} cannot be decrypted with this node's ${SECRET_KEY_FILE}: add the peer again, `
        + `or, on a node with several API machines, copy ${SECRET_KEY_FILE} from the one that added it`);
    }
  }

  /** Sets (or replaces) the token the peer issued to this node, kept sealed. */
  async setToken(actor: Actor, name: string, token: string): Promise<void> {
    const p = await this.peer(name);
    if (token.length < 8 || token.length > 500) throw new AppError('BAD_REQUEST', 'peer token must be 8-500 characters');
    await this.store.setMeta(P_PEER + name, JSON.stringify({ ...p, token: seal(await this.sealingSecret(), token) }));
    await this.#audit(actor, 'federation.peer.token', p.identity, { name });
  }

  async removePeer(actor: Actor, name: string): Promise<void> {
    const p = await this.peer(name);
    const subs = (await this.listSubscriptions()).filter((s) => s.peer === name);
    if (subs.length > 0) throw new AppError('CONFLICT', `peer ${name} has subscriptions (${subs.map((s) => s.id).join(', ')}); remove them first`);
    await this.store.deleteMeta(P_PEER + name);
    // The remote organisations stay (objects keep their creator); they never gain users.
    await this.#audit(actor, 'federation.peer.remove', p.identity, { name });
  }

  /** The public keys that verify what a node signed: its current key, then its retired ones (empty: not registered). */
  async keysOf(node: string, store: Store = this.store): Promise<string[]> {
    const p = await this.getPeer(node, store);
    return p ? peerKeys(p) : [];
  }

  // ---- subscriptions ----
  async addSubscription(actor: Actor, s: { peer: string; direction: Direction; remoteCollection: string; localCollection: string; intervalS?: number; sightingsOnly?: boolean; types?: readonly string[]; since?: string }): Promise<Subscription> {
    const peer = await this.peer(s.peer);
    if (!peer.url) throw new AppError('BAD_REQUEST', `peer ${peer.name} has no URL (known by its key only): nothing to sync with`);
    if (s.direction !== 'pull' && s.direction !== 'push') throw new AppError('BAD_REQUEST', 'direction must be pull or push');
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(s.remoteCollection)) throw new AppError('BAD_REQUEST', 'remote collection must be an id or alias');
    const local = (await this.store.getCollection(s.localCollection)) ?? (await this.store.listCollections()).find((c) => c.alias === s.localCollection || c.title === s.localCollection);
    if (!local) throw new AppError('NOT_FOUND', `no local collection ${s.localCollection.slice(0, 100)}`);
    // An administrator (REST) syncs only what their organisation may: a push sends a collection
    // it may read, a pull fills one it may write; one it may not see is not there. Else any
    // member's admin could push another organisation's collection to a node of their choosing.
    if (actor.principal) {
      const r = (await new AccessService(this.store, this.deps.clock).rights(actor.principal)).get(local.id);
      if (!r?.canRead && !r?.canWrite) throw new AppError('NOT_FOUND', `no local collection ${s.localCollection.slice(0, 100)}`);
      if (s.direction === 'push' && !r.canRead) throw new AppError('FORBIDDEN', `your organisation may not read collection ${local.alias ?? local.id}: it cannot push it`);
      if (s.direction === 'pull' && !r.canWrite) throw new AppError('FORBIDDEN', `your organisation may not write collection ${local.alias ?? local.id}: it cannot pull into it`);
    }
    const intervalS = s.intervalS ?? 30;
    if (!Number.isInteger(intervalS) || intervalS < 1 || intervalS > 86_400) throw new AppError('BAD_REQUEST', 'interval must be 1-86400 seconds');
    if (s.sightingsOnly === true && s.direction !== 'push') throw new AppError('BAD_REQUEST', 'sightings-only is for a push (sightings back to their origin); a pull takes what the peer serves');
    const types = subscriptionTypes(s.types);
    const since = subscriptionSince(s.since, this.#nowUs());
    if (types && s.sightingsOnly === true) throw new AppError('BAD_REQUEST', 'a sightings-only push sends sightings: it takes no types');
    // Two runs of one stream would race for one cursor and double every transfer.
    const same = (await this.listSubscriptions()).find((x) => x.peer === peer.name && x.direction === s.direction && x.remoteCollection === s.remoteCollection
      && x.localCollection === local.id && x.sightingsOnly === (s.sightingsOnly === true) && (x.types ?? []).join(',') === (types ?? []).join(','));
    if (same) {
      const here = local.alias ?? local.id;
      const there = `${peer.name}'s ${s.remoteCollection}`;
      throw new AppError('CONFLICT', `subscription ${same.id} already ${s.direction === 'pull' ? `pulls ${there} into ${here}` : `pushes ${here} to ${there}`}`);
    }
    const sub: Subscription = {
      id: `sub-${crypto.randomUUID().slice(0, 8)}`, peer: peer.name, direction: s.direction, remoteCollection: s.remoteCollection,
      localCollection: local.id, intervalS, sightingsOnly: s.sightingsOnly === true, ...(types ? { types } : {}), ...(since ? { since } : {}), enabled: true, createdUs: this.#nowUs(),
    };
    await this.store.transaction(async (tx) => {
      await tx.setMeta(P_SUB + sub.id, JSON.stringify(sub));
      await tx.setMeta(P_STATE + sub.id, JSON.stringify(emptyState(this.#nowUs())));
      await new AccessService(tx, this.deps.clock).audit(actor, 'federation.subscription.add', sub.id, { ...sub });
    });
    return sub;
  }

  async listSubscriptions(): Promise<Subscription[]> {
    return (await this.store.listMeta(P_SUB)).map((r) => JSON.parse(r.value) as Subscription);
  }

  async subscription(id: string): Promise<Subscription> {
    const raw = /^sub-[0-9a-f]{8}$/.test(id) ? await this.store.getMeta(P_SUB + id) : null;
    if (!raw) throw new AppError('NOT_FOUND', `no subscription ${id.slice(0, 40)}`);
    return JSON.parse(raw) as Subscription;
  }

  /** Inside a transaction, pass it: the SQLite connection is the transaction's until it ends. */
  async state(id: string, store: Store = this.store): Promise<SubscriptionState> {
    const raw = await store.getMeta(P_STATE + id);
    return raw ? { ...emptyState(this.#nowUs()), ...(JSON.parse(raw) as Partial<SubscriptionState>) } : emptyState(this.#nowUs());
  }

  async saveState(store: Store, id: string, s: SubscriptionState): Promise<void> {
    await store.setMeta(P_STATE + id, JSON.stringify(s));
  }

  async removeSubscription(actor: Actor, id: string): Promise<void> {
    await this.subscription(id);
    await this.store.transaction(async (tx) => {
      await tx.deleteMeta(P_SUB + id);
      await tx.deleteMeta(P_STATE + id);
      for (const r of await tx.listMeta(`${P_REJ}${id}.`)) await tx.deleteMeta(r.key);
      await new AccessService(tx, this.deps.clock).audit(actor, 'federation.subscription.remove', id, {});
    });
  }

  /**
   * Empties the reject list of a subscription (after review: what a peer sent that this node
   * will not take); a pull that waited on a full list goes on at the next tick. Returns how many.
   */
  async clearRejects(actor: Actor, id: string): Promise<number> {
    await this.subscription(id);
    return this.store.transaction(async (tx) => {
      const keys = (await tx.listMeta(`${P_REJ}${id}.`, MAX_REJECTS * 2)).map((r) => r.key);
      for (const k of keys) await tx.deleteMeta(k);
      const st = await this.state(id, tx);
      await this.saveState(tx, id, { ...st, nextRunUs: this.#nowUs() });
      await new AccessService(tx, this.deps.clock).audit(actor, 'federation.rejects.clear', id, { cleared: keys.length });
      return keys.length;
    });
  }

  /** `--reset`: the next run walks the peer collection (or the local one) from the start; duplicates are no-ops. */
  async reset(actor: Actor, id: string): Promise<void> {
    await this.subscription(id);
    const st = await this.state(id);
    const { retractionCursor: _, ...rest } = st;
    await this.saveState(this.store, id, { ...rest, cursor: {}, failures: 0, nextRunUs: this.#nowUs() });
    await this.#audit(actor, 'federation.subscription.reset', id, {});
  }

  async setEnabled(actor: Actor, id: string, enabled: boolean): Promise<void> {
    await this.subscription(id);
    // Changed where it stands: a subscription removed meanwhile is not written back (it would come back without its state).
    const now = await updateMeta(this.store, P_SUB + id, (cur) => (cur === null ? null : JSON.stringify({ ...(JSON.parse(cur) as Subscription), enabled })));
    if (now === null) throw new AppError('NOT_FOUND', `no subscription ${id}`);
    await this.#audit(actor, enabled ? 'federation.subscription.enable' : 'federation.subscription.disable', id, {});
  }

  // ---- reject lists ----
  async putReject(store: Store, r: Omit<Reject, 'key'>): Promise<void> {
    let object: string;
    try {
      object = JSON.stringify(r.object) ?? 'null';
    } catch {
      object = `${'?'.repeat(MAX_KEPT_REJECT_BYTES)}?`; // too deep to write: not kept
    }
    const key = `${P_REJ}${r.subscription}.${crypto.createHash('sha256').update(`${r.id ?? ''}|${r.version ?? ''}|${r.id === null ? object.slice(0, 2000) : ''}`).digest('hex').slice(0, 32)}`;
    // What a peer sends is kept for a retry up to a size; past it, the reason says so and a
    // reset of the subscription fetches it again (the list never grows by a peer's choice).
    const kept = object.length <= MAX_KEPT_REJECT_BYTES
      ? r
      : { ...r, object: null, envelope: null, reason: `${r.reason} (not kept for a retry: ${object.length} bytes; reset the subscription to fetch it again)`.slice(0, 800) };
    await store.setMeta(key, JSON.stringify({ ...kept, key }));
  }

  async listRejects(sub: string, limit = 1000): Promise<Reject[]> {
    return (await this.store.listMeta(`${P_REJ}${sub}.`, limit)).map((r) => JSON.parse(r.value) as Reject);
  }

  async countRejects(sub: string, upTo?: number): Promise<number> {
    return this.store.countMeta(`${P_REJ}${sub}.`, upTo);
  }

  async dropReject(store: Store, key: string): Promise<void> {
    await store.deleteMeta(key);
  }
}

function shortNameOf(node: string, all: readonly OrgRow[], id: string): string {
  const have = all.find((o) => o.id === id);
  if (have) return have.shortName;
  const base = `N-${node.toUpperCase().replace(/[^A-Z0-9-]/g, '-')}`.slice(0, 16);
  if (!all.some((o) => o.shortName === base)) return base;
  for (let i = 2; ; i++) {
    const s = `${base.slice(0, 13)}-${i}`;
    if (!all.some((o) => o.shortName === s)) return s;
  }
}

/** An organisation registered on a peer: living on it, or (relayed) reached through it. */
export interface PeerOrgInput {
  id: string;
  shortName: string;
  name?: string;
  /** Lives on another node, reached through this peer (a hub): served AMBER, never AMBER+STRICT or RED. */
  relayed?: boolean;
}

/**
 * The `node` of a remote organisation detached from its peer (peer update --remove-org): still
 * not an organisation of this node (never users), served by no peer. Not a node name.
 */
export const DETACHED_NODE = '(detached)';

const relayedOf = (orgs: readonly PeerOrgInput[]) => orgs.filter((o) => o.relayed).map((o) => o.id);

function peerUrl(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AppError('BAD_REQUEST', `peer URL is not a URL: ${raw.slice(0, 100)}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AppError('BAD_REQUEST', 'peer URL must be http(s)');
  // Shown to every reader and audited: never credentials (the token the peer issued is kept sealed).
  if (u.username || u.password) throw new AppError('BAD_REQUEST', 'peer URL may not carry credentials: give the token the peer issued (--token-stdin, REST token)');
  // The requests' paths are built on it: a query or fragment would swallow them.
  if (u.search || u.hash) throw new AppError('BAD_REQUEST', 'peer URL must be the peer\'s root URL, without a query or fragment');
  if (refusedAddress(u.hostname)) throw new AppError('BAD_REQUEST', `peer URL: ${u.hostname} is a link-local or metadata-service address, where no peer is reached`);
  return u.toString().replace(/\/+$/, '');
}

/** An API root is one path segment of the server's URLs (a peer's, a TAXII feed's). */
export function checkApiRoot(apiRoot: string): void {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(apiRoot) || /^\.+$/.test(apiRoot)) throw new AppError('BAD_REQUEST', 'API root must be 1-100 of A-Z, a-z, 0-9, ., _, - (not only dots)');
}

function checkToken(token: string | null | undefined): void {
  if (token !== undefined && token !== null && (token.length < 8 || token.length > 500)) throw new AppError('BAD_REQUEST', 'peer token must be 8-500 characters');
}

export function checkCa(ca: string | null | undefined): void {
  if (ca && !ca.includes('-----BEGIN CERTIFICATE-----')) throw new AppError('BAD_REQUEST', 'TLS CA must be a PEM certificate');
}
