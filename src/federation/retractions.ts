/**
 * Retractions (docs/federation.md "Retractions"): a version deleted from a collection on its node
 * of origin is deleted on every node that holds a copy of it from that collection.
 *
 * The origin's deletion leaves a retraction record (intel RETRACTION_KIND, with the release
 * columns of the deleted copy). A peer reading the collection asks for them after its objects
 * (`GET /api/v1/federation/retractions`, a cursor of its own): the origin signs each one with
 * its node key (Ed25519 over the RFC 8785 form of {type, id, version, digest, origin}); a
 * relay passes on the origin's signature. The receiver verifies it with the origin's key and
 * deletes its copy in the subscription's collection only when that copy came from that origin
 * with exactly that content (digest); the version is then final there (a copy arriving later
 * by another path is refused), and the receiver serves the retraction on to its own peers.
 * A copy it does not hold is nothing to do: loops and repeats change nothing. A retraction a
 * peer may not read (its copy's release) is never served to it; one that does not verify is
 * kept in the subscription's reject list with the reason, like an object.
 */
import type crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { timestampKey } from '../core/time.js';
import type { Audience } from '../core/policy.js';
import { isUnversionedKey, RETRACTION_KIND, type IntelService, type RetractionDoc } from '../intel/index.js';
import type { Store } from '../store/index.js';
import { signMessage, verifyMessage } from './keys.js';
import { contentDigest } from './envelope.js';
import { parseStixId } from '../stix/index.js';
import { originKeys, type FederationRegistry, type PeerRecord } from './registry.js';

export const MAX_RETRACTIONS = 1000;
export const RETRACTION_TYPE = 'x-shieldwall-retraction';

/** A retraction as it travels between nodes. */
export interface Retraction {
  type: typeof RETRACTION_TYPE;
  id: string;
  /** The version as the object carries it; null for an object without one (an SCO, matched by its digest). */
  version: string | null;
  digest: string;
  origin: string;
  signature: string;
  /** Nodes it passed through after its origin (not signed). */
  path: string[];
  /** When the node serving it deleted its copy. */
  retracted: string;
}

type Signed = Pick<Retraction, 'id' | 'version' | 'digest' | 'origin'>;

/** The signed text: its keys differ from an object version's facts, and it is not a batch message. */
function signedText(r: Signed): Buffer {
  return Buffer.from(canonicalJson({ type: RETRACTION_TYPE, id: r.id, version: r.version, digest: r.digest, origin: r.origin }), 'utf8');
}

export function signRetraction(k: crypto.KeyObject, r: Signed): string {
  return signMessage(k, signedText(r));
}

export function verifyRetraction(k: crypto.KeyObject, r: Signed, signature: string): boolean {
  return verifyMessage(k, signedText(r), signature);
}

function encodeCursor(us: number, id: string): string {
  return Buffer.from(JSON.stringify([us, id])).toString('base64url');
}

function decodeCursor(s: string): { us: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { us: v[0] as number, id: v[1] as string };
  } catch {
    // fall through
  }
  throw new AppError('BAD_REQUEST', 'after: not a retraction cursor this node gave');
}

/**
 * The retractions of a collection that `audience` (a peer) may read, oldest first after the
 * cursor. `next` is the cursor of the last one read (also when the origin's own are left out).
 */
export async function retractionsFor(a: {
  store: Store; registry: FederationRegistry; audience: Audience; collectionId: string; after?: string | undefined; limit: number; excludeOrigin?: string | undefined;
}): Promise<{ retractions: Retraction[]; more: boolean; next: string | null }> {
  const limit = Math.max(1, Math.min(MAX_RETRACTIONS, a.limit));
  const rows = await a.store.listRecords({
    kind: RETRACTION_KIND, audience: a.audience, purpose: 'read', parentId: a.collectionId, exerciseId: null, limit: limit + 1,
    after: a.after ? decodeCursor(a.after) : { us: -1, id: '' },
  });
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const me = a.registry.deps.nodeName;
  let key: crypto.KeyObject | null = null;
  const out: Retraction[] = [];
  for (const row of page) {
    const doc = JSON.parse(row.json) as RetractionDoc;
    const origin = doc.received?.origin ?? me;
    if (origin === a.excludeOrigin) continue;
    let signature = doc.received?.signature;
    if (signature === undefined) {
      key ??= (await a.registry.signingKeys()).privateKey;
      signature = signRetraction(key, { id: doc.id, version: doc.version, digest: doc.digest, origin });
    }
    out.push({
      type: RETRACTION_TYPE, id: doc.id, version: doc.version, digest: doc.digest, origin, signature,
      path: doc.received ? [...doc.received.path] : [], retracted: new Date(Math.floor(row.updatedUs / 1000)).toISOString(),
    });
  }
  const last = page[page.length - 1];
  return { retractions: out, more, next: last ? encodeCursor(last.updatedUs, last.id) : a.after ?? null };
}

export interface RetractionOutcome {
  /** Copies deleted here. */
  deleted: number;
  /** The STIX types of what was deleted (for the followers of the store). */
  types: Set<string>;
  /** Verified, but no copy from that origin with that content is held in the collection. */
  absent: number;
  /** Refused (with the reason). */
  refused: { item: unknown; id: string | null; version: string | null; message: string }[];
}

function isRetraction(x: unknown): x is Retraction {
  const r = x as Retraction | null;
  return !!r && typeof r === 'object' && r.type === RETRACTION_TYPE && typeof r.id === 'string' && (typeof r.version === 'string' || r.version === null) && typeof r.digest === 'string'
    && typeof r.origin === 'string' && typeof r.signature === 'string' && Array.isArray(r.path) && r.path.every((p) => typeof p === 'string');
}

/**
 * Applies retractions received from `peer` to `collectionId`, in the caller's transaction:
 * verified with the origin's key, then the copy deleted (and the version made final) when it
 * came from that origin with that content.
 */
export async function applyRetractions(tx: Store, a: { registry: FederationRegistry; intel: IntelService; peer: PeerRecord; collectionId: string; items: readonly unknown[] }): Promise<RetractionOutcome> {
  const out: RetractionOutcome = { deleted: 0, types: new Set(), absent: 0, refused: [] };
  const me = a.registry.deps.nodeName;
  const keysOf = originKeys(a.registry, tx);
  for (const item of a.items) {
    const refuse = (message: string) => {
      const r = item as Partial<Retraction> | null;
      out.refused.push({ item, id: typeof r?.id === 'string' ? r.id.slice(0, 200) : null, version: typeof r?.version === 'string' ? r.version.slice(0, 64) : null, message });
    };
    if (!isRetraction(item)) {
      refuse('retraction: not a well-formed retraction (type, id, version, digest, origin, signature, path)');
      continue;
    }
    if (item.origin === me) {
      // Our own version, told back by a peer: our deletion already happened here.
      out.absent++;
      continue;
    }
    const signerKeys = await keysOf(item.origin);
    if (signerKeys.length === 0) {
      refuse(`retraction: unknown origin node ${item.origin}: register its public key (shieldwall peer add --name ${item.origin} --public-key ...), then retry`);
      continue;
    }
    if (!signerKeys.some((key) => verifyRetraction(key, item, item.signature))) {
      refuse(`retraction: the signature of origin node ${item.origin} does not verify (relayed by ${a.peer.name})`);
      continue;
    }
    const versionKey = item.version === null ? null : timestampKey(item.version);
    if (item.version !== null && versionKey === null) {
      refuse(`retraction: version ${item.version.slice(0, 64)} is not a timestamp`);
      continue;
    }
    // The copies of this collection that came from that origin with that content: of that
    // version, or for an object without one (an SCO) each organisation's copy of it.
    const type = parseStixId(item.id)?.type;
    const rows = type ? await tx.scanObjects({ types: [type], addedAfter: -1, limit: 10_000, ids: [item.id] }) : [];
    const keys = rows.filter((r) => r.collectionId === a.collectionId && r.originNode === item.origin
      && (versionKey === null ? isUnversionedKey(r.version) : r.version === versionKey) && contentDigest(JSON.parse(r.json) as Record<string, unknown>) === item.digest).map((r) => r.version);
    if (keys.length === 0 || !type) {
      out.absent++;
      continue;
    }
    out.types.add(type);
    out.deleted += await a.intel.deleteVersions(a.collectionId, item.id, keys, {
      retraction: { origin: item.origin, signature: item.signature, path: [...item.path, a.peer.name].slice(-16) },
    });
  }
  return out;
}
