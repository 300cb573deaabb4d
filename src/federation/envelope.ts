/**
 * Provenance envelopes (docs/federation.md "Integrity"): for each object version a peer may
 * read, who originated it (node), under which release facts (creator, recipients), the
 * origin's Ed25519 signature over the RFC 8785 form of {object, origin, creator, recipients},
 * and the path of nodes the copy travelled. Served beside TAXII (POST
 * /api/v1/federation/envelopes); the object itself is never edited.
 */
import crypto from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Audience } from '../core/policy.js';
import { tlpOf } from '../stix/index.js';
import type { ObjectHead, ObjectRow, Store } from '../store/index.js';
import { COPIES_META, ownerHeads } from '../intel/index.js';
import { signBatch, type BatchProof, type SignedFacts } from './keys.js';
import { provKey, type FederationRegistry, type Provenance } from './registry.js';
import { isBatchRef, resolveBatchRefs, type BatchRef } from './batches.js';

export interface Envelope {
  id: string;
  /** The object's `modified` (else `created`, else null), as in the object. */
  version: string | null;
  origin: string;
  /** Nodes the copy travelled, origin first, the serving node last. */
  path: string[];
  creator: string | null;
  recipients: string[];
  /**
   * Base64 Ed25519 signature of the origin node: over the facts themselves, or, with `batch`,
   * over the root of the Merkle tree of a batch of versions (keys.ts signBatch). Absent when
   * the origin never signed it (a legacy pull).
   */
  signature: string | null;
  /**
   * For an object without a version (an SCO): SHA-256 of its RFC 8785 form. Several organisations
   * each hold their own copy of one SCO (docs/stix-versioning.md), so (id, version) does not name
   * one object; (id, digest) does. Absent from envelopes of older nodes.
   */
  digest?: string;
  /** This version's inclusion proof in the batch the origin signed (absent: signature over the facts alone). */
  batch?: BatchProof;
  /**
   * The TLP its origin releases it at when the object carries no TLP marking (given at import: a
   * policy fact, not an edit of the object), signed with the other facts. Without it a receiver
   * stored such a version unmarked, for its creator alone: GREEN intel nobody on the peer read.
   */
  tlp?: string;
}

export const MAX_ENVELOPES = 1000;

export function versionField(obj: Record<string, unknown>): string | null {
  return typeof obj.modified === 'string' ? obj.modified : typeof obj.created === 'string' ? obj.created : null;
}

/** SHA-256 of an object's RFC 8785 form (the content key of an unversioned object's copy). */
export function contentDigest(obj: Record<string, unknown>): string {
  return crypto.createHash('sha256').update(canonicalJson(obj)).digest('hex');
}

/**
 * What names one object copy between nodes: (id, version), and for an object without a version,
 * (id, content digest). Used for envelopes and the provenance kept for relays.
 */
export function copyKey(id: string, obj: Record<string, unknown>): string {
  const v = versionField(obj);
  return `${id}|${v ?? `#${contentDigest(obj)}`}`;
}

/** The copy key an envelope names (an older node's envelope of an SCO names no digest: `id|`). */
export function envelopeKey(e: Pick<Envelope, 'id' | 'version' | 'digest'>): string {
  return `${e.id}|${e.version ?? (e.digest ? `#${e.digest}` : '')}`;
}

/** The envelope of an object among those received, by copy key, else (an older node) by (id, version). */
export function envelopeOf<E>(envs: ReadonlyMap<string, E>, id: string, obj: Record<string, unknown>): E | undefined {
  let key: string;
  try {
    key = copyKey(id, obj);
  } catch {
    return undefined; // no canonical form (a peer's malformed input): it has no envelope, and is refused as such
  }
  return envs.get(key) ?? envs.get(`${id}|${versionField(obj) ?? ''}`);
}

export async function envelopesFor(a: {
  store: Store; registry: FederationRegistry; audience: Audience; collectionId: string; items: readonly { id: string; version: string | null }[];
}): Promise<Envelope[]> {
  const ids = [...new Set(a.items.map((i) => i.id))];
  if (ids.length === 0) return [];
  const wanted = new Set(a.items.map((i) => `${i.id}|${i.version ?? ''}`));
  const page = await a.store.queryObjects({
    collectionIds: [a.collectionId], audience: a.audience, purpose: 'read', ids, version: { kind: 'all' }, limit: MAX_ENVELOPES * 4, lean: 'with-recipients',
  });
  return envelopesOfRows({ store: a.store, registry: a.registry, rows: page.rows.filter((r) => wanted.has(`${r.id}|${r.modified ?? r.created ?? ''}`)) });
}

/**
 * The envelopes of rows a peer may read, read with `lean: 'with-recipients'` (their recipients
 * and provenance), in their order: from a TAXII page served to a peer (taxii/service.ts, the
 * envelopes in the page) or from the rows named by an envelopes request.
 */
export async function envelopesOfRows(a: { store: Store; registry: FederationRegistry; rows: readonly ObjectRow[] }): Promise<Envelope[]> {
  const { store, registry } = a;
  const me = registry.deps.nodeName;
  // The version as the object states it: its modified, else created, which the row's columns hold
  // as stored. The object itself is parsed only where it is needed: to sign a version originated
  // here, and for the content digest of a copy without a version.
  const rows = a.rows.map((r) => ({ r, version: r.modified ?? r.created }))
    .map((x) => ({ ...x, obj: x.r.originNode === null || x.version === null ? (JSON.parse(x.r.jsonBytes ? x.r.jsonBytes.toString('utf8') : x.r.json) as Record<string, unknown>) : null }));
  const provOf = (x: { r: { id: string }; version: string | null; obj: Record<string, unknown> | null }) => provKey(x.r.id, x.version ?? `#${contentDigest(x.obj!)}`);
  // A relayed version's provenance is in its row; one received before migration 0012, in meta.
  const provs = await store.getMetas(rows.filter((x) => x.r.originNode !== null && !x.r.provenance).map(provOf));
  const out: Envelope[] = [];
  // A copy another organisation stored of a version someone else owns is signed with the owner
  // as its creator (its own release facts kept): a peer that received the copy first would
  // otherwise take the copier for the owner and refuse the owner's later versions, its
  // revocation included. Owners are looked up only once such a copy exists on this node.
  const owners = (await store.getMeta(COPIES_META)) === null ? new Map<string, ObjectHead>()
    : await ownerHeads(store, rows.filter((x) => x.r.originNode === null && x.version !== null).map((x) => x.r.id));
  // Sharing groups live on their node: at AMBER a group stands for its member organisations
  // (policy.ts), so the origin names them too. AMBER+STRICT and RED never count groups.
  const members = new Map<string, string[]>();
  const expand = async (tlp: string | null, recipients: readonly string[]): Promise<string[]> => {
    if (tlp !== 'amber') return [...recipients].sort();
    const all = new Set(recipients);
    for (const rcp of recipients) {
      if (!members.has(rcp)) members.set(rcp, (await store.getGroup(rcp)) ? await store.groupMembers(rcp) : []);
      for (const m of members.get(rcp)!) all.add(m);
    }
    return [...all].sort();
  };
  // Versions originated here are signed together: one signature over the Merkle root of the
  // page, each envelope with its inclusion proof (keys.ts signBatch).
  const mine: { at: number; facts: SignedFacts }[] = [];
  const kept: { at: number; ref: BatchRef }[] = [];
  for (const x of rows) {
    const { r, version } = x;
    // An SCO copy is named by its content (several organisations may each hold one under the id).
    const digest = version === null ? { digest: contentDigest(x.obj!) } : {};
    if (r.originNode === null) {
      const tlp = r.tlp !== null && tlpOf(x.obj!) === null ? { tlp: r.tlp } : {};
      const creator = owners.get(r.id)?.creatorOrg ?? r.creatorOrg;
      const facts = { object: x.obj!, origin: me, creator, recipients: await expand(r.tlp, r.recipients), ...tlp };
      mine.push({ at: out.length, facts });
      out.push({ id: r.id, version, ...digest, origin: me, path: [me], creator, recipients: [...facts.recipients], signature: null, ...tlp });
      continue;
    }
    const raw = r.provenance ?? provs.get(provOf(x));
    const p = raw ? (JSON.parse(raw) as Provenance) : null;
    const batch = p?.batch;
    if (batch && isBatchRef(batch)) kept.push({ at: out.length, ref: batch });
    out.push(p
      ? { id: r.id, version, ...digest, origin: p.origin, path: [...p.path, me], creator: p.creator, recipients: p.recipients, signature: p.signature,
        ...(p.tlp !== undefined ? { tlp: p.tlp } : {}), ...(batch && !isBatchRef(batch) ? { batch } : {}) }
      : { id: r.id, version, ...digest, origin: r.originNode, path: [r.originNode, me], creator: r.creatorOrg, recipients: [...r.recipients].sort(), signature: null });
  }
  // Relayed versions that keep their place in a batch: their proofs from the batch's nodes. A
  // proof that cannot be rebuilt goes out without the signature (the peer refuses the version,
  // with the reason, rather than receive a proof that cannot verify).
  if (kept.length > 0) {
    const proofs = await resolveBatchRefs(store, kept.map((k) => k.ref));
    kept.forEach((k, i) => {
      const proof = proofs[i];
      out[k.at] = proof ? { ...out[k.at]!, batch: proof } : { ...out[k.at]!, signature: null };
    });
  }
  if (mine.length > 0) {
    const { signature, proofs } = signBatch((await registry.signingKeys()).privateKey, mine.map((m) => m.facts));
    mine.forEach((m, i) => {
      out[m.at] = { ...out[m.at]!, signature, batch: proofs[i]! };
    });
  }
  return out;
}
