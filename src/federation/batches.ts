/**
 * The inclusion proofs a relay keeps (docs/federation.md "Integrity"). A version received with a
 * batch signature carries its path in its origin's Merkle tree: ~10 hashes at 1,000 leaves, about
 * 460 of the ~700 bytes of signed provenance stored with each relayed row, and the same upper
 * nodes in every row of the batch. The relay keeps each batch's nodes once instead (one `meta`
 * row per batch, written in the transaction that stores its versions), each row only its leaf
 * index and the batch's reference, and rebuilds a version's path when it serves it on. Only
 * nodes of proofs that verified under the origin's signature are kept, so a rebuilt path is the
 * one that verified.
 */
import crypto from 'node:crypto';
import type { Store } from '../store/index.js';
import { walkSiblings, type BatchProof } from './keys.js';

export const P_BATCH = 'federation.batch.';

/** A version's place in a batch whose nodes are kept once (`P_BATCH` + ref). */
export interface BatchRef {
  size: number;
  index: number;
  ref: string;
}

export function isBatchRef(b: BatchProof | BatchRef): b is BatchRef {
  return typeof (b as BatchRef).ref === 'string' && !Array.isArray((b as BatchProof).path);
}

/** The reference of the batch an origin signed with `signature` (its signature names it). */
export function batchRefOf(origin: string, signature: string): string {
  return crypto.createHash('sha256').update(`${origin}\u0000${signature}`).digest('base64url');
}

/** A batch's known nodes: `levels[level][position]`, base64 SHA-256 (null where not known). */
type Levels = (string | null | undefined)[][];

interface StoredBatch {
  size: number;
  levels: Levels;
  /**
   * How many stored rows name the batch: counted up when a receive adds rows, down when versions
   * are deleted; at zero the batch's row goes too. Absent on a batch kept before rows were
   * counted: that one is never removed (an orphan costs bytes, a wrongly removed one a proof).
   */
  rows?: number;
}

/** The inclusion path of leaf `index` from a batch's nodes; null when one of them is not known. */
export function pathFromLevels(levels: Levels, size: number, index: number): string[] | null {
  const path: string[] = [];
  const ok = walkSiblings(size, index, (level, pos) => {
    const h = levels[level]?.[pos];
    if (typeof h !== 'string') return false;
    path.push(h);
    return true;
  });
  return ok ? path : null;
}

/** The verified nodes of the batches of one receive, written with its rows. */
export class BatchNodes {
  readonly #batches = new Map<string, StoredBatch>();

  /**
   * Records the proof of a version that verified; returns what its row keeps instead of the
   * proof, or null for a proof it cannot take (the row then keeps the proof as received).
   */
  add(origin: string, signature: string, proof: BatchProof): BatchRef | null {
    const { size, index, path } = proof;
    if (!Array.isArray(path) || !path.every((h) => typeof h === 'string')) return null;
    let n = 0;
    if (!walkSiblings(size, index, () => ++n <= path.length) || n !== path.length) return null;
    const ref = batchRefOf(origin, signature);
    let b = this.#batches.get(ref);
    if (!b) {
      b = { size, levels: [] };
      this.#batches.set(ref, b);
    }
    if (b.size !== size) return null;
    const levels = b.levels;
    let j = 0;
    walkSiblings(size, index, (level, pos) => {
      const row = (levels[level] ??= []);
      row[pos] ??= path[j]!;
      j++;
      return true;
    });
    return { size, index, ref };
  }

  /**
   * Writes the nodes of the batches that new rows name (`added`: rows added per batch), merged
   * with what is kept of them, and counts those rows.
   */
  async save(tx: Store, added: ReadonlyMap<string, number>): Promise<void> {
    const wanted = [...added.keys()].filter((r) => this.#batches.has(r));
    if (wanted.length === 0) return;
    const stored = await tx.getMetas(wanted.map((r) => P_BATCH + r));
    for (const ref of wanted) {
      const b = this.#batches.get(ref)!;
      const n = added.get(ref)!;
      const before = stored.get(P_BATCH + ref);
      if (before === undefined) {
        await tx.setMeta(P_BATCH + ref, JSON.stringify({ size: b.size, levels: b.levels, rows: n } satisfies StoredBatch));
        continue;
      }
      const kept = JSON.parse(before) as StoredBatch;
      b.levels.forEach((row, level) => {
        const into = (kept.levels[level] ??= []);
        row.forEach((h, pos) => {
          if (typeof h === 'string' && typeof into[pos] !== 'string') into[pos] = h;
        });
      });
      await tx.setMeta(P_BATCH + ref, JSON.stringify({ size: kept.size, levels: kept.levels, ...(kept.rows === undefined ? {} : { rows: kept.rows + n }) } satisfies StoredBatch));
    }
  }
}

/**
 * Versions were deleted (their rows' `provenance`, null for a row without one): the batches they
 * named count them down, and a batch no row names any more is removed. Called in the deleting
 * transaction.
 */
export async function releaseBatchRows(tx: Store, provenances: readonly (string | null)[]): Promise<void> {
  const gone = new Map<string, number>();
  for (const text of provenances) {
    const ref = text === null ? undefined : refOfProvenance(text);
    if (ref !== undefined) gone.set(ref, (gone.get(ref) ?? 0) + 1);
  }
  if (gone.size === 0) return;
  const stored = await tx.getMetas([...gone.keys()].map((r) => P_BATCH + r));
  for (const [ref, n] of gone) {
    const text = stored.get(P_BATCH + ref);
    if (text === undefined) continue;
    const b = JSON.parse(text) as StoredBatch;
    if (b.rows === undefined) continue;
    if (b.rows - n <= 0) await tx.deleteMeta(P_BATCH + ref);
    else await tx.setMeta(P_BATCH + ref, JSON.stringify({ ...b, rows: b.rows - n } satisfies StoredBatch));
  }
}

/** The batch a stored row's provenance names, if it keeps a reference rather than its proof. */
function refOfProvenance(text: string): string | undefined {
  try {
    const batch = (JSON.parse(text) as { batch?: BatchProof | BatchRef } | null)?.batch;
    return batch && typeof batch === 'object' && isBatchRef(batch) ? batch.ref : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The full proofs of rows that keep a batch reference (one read of each batch). A proof whose
 * nodes are not all kept resolves to null.
 */
export async function resolveBatchRefs(store: Store, refs: readonly BatchRef[]): Promise<(BatchProof | null)[]> {
  const keys = [...new Set(refs.map((r) => P_BATCH + r.ref))];
  const stored = keys.length > 0 ? await store.getMetas(keys) : new Map<string, string>();
  const parsed = new Map<string, StoredBatch>();
  for (const [k, v] of stored) parsed.set(k, JSON.parse(v) as StoredBatch);
  return refs.map((r) => {
    const b = parsed.get(P_BATCH + r.ref);
    if (!b || b.size !== r.size) return null;
    const path = pathFromLevels(b.levels, r.size, r.index);
    return path ? { size: r.size, index: r.index, path } : null;
  });
}
