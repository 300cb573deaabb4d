/**
 * A relay keeps each batch's proof nodes once and rebuilds a version's inclusion path from them
 * (batches.ts): every rebuilt path must be the one the origin sent, whichever pages (and in
 * which order) brought the batch's versions, and a path that cannot be rebuilt is never made up.
 */
import crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../store/index.js';
import { BatchNodes, batchRefOf, isBatchRef, P_BATCH, pathFromLevels, releaseBatchRows, resolveBatchRefs } from './batches.js';
import { leafHash, signBatch, verifyBatchFacts, walkSiblings, type BatchProof, type SignedFacts } from './keys.js';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const facts = (n: number): SignedFacts[] => Array.from({ length: n }, (_, i) => ({
  object: { type: 'indicator', id: `indicator--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, pattern: `[ipv4-addr:value = '10.0.0.${i % 250}']` },
  origin: 'dk', creator: 'identity--11111111-1111-4111-8111-111111111111', recipients: [],
}));

describe('proof paths from a batch\'s nodes', () => {
  it('the nodes of all the proofs of trees of 1..70 leaves give each path back', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      for (let n = 1; n <= 70; n++) {
        const { signature, proofs } = signBatch(privateKey, facts(n));
        const b = new BatchNodes();
        const refs = proofs.map((p) => b.add('dk', signature, p)!);
        await store.transaction((tx) => b.save(tx, new Map([[refs[0]!.ref, refs.length]])));
        expect(await resolveBatchRefs(store, refs)).toEqual(proofs);
      }
    } finally {
      await store.close();
    }
  });

  it('a malformed proof is not taken, and a missing node rebuilds no path', () => {
    const { signature, proofs } = signBatch(privateKey, facts(9));
    const p = proofs[4]!;
    const b = new BatchNodes();
    expect(b.add('dk', signature, { ...p, path: p.path.slice(1) })).toBeNull();
    expect(b.add('dk', signature, { ...p, path: [...p.path, p.path[0]!] })).toBeNull();
    expect(b.add('dk', signature, { ...p, index: 9 })).toBeNull();
    expect(b.add('dk', signature, { ...p, path: [1 as unknown as string, ...p.path.slice(1)] })).toBeNull();
    expect(pathFromLevels([], 9, 4)).toBeNull();
    const levels: (string | null)[][] = [];
    let j = 0;
    walkSiblings(9, 4, (level, pos) => {
      (levels[level] ??= [])[pos] = p.path[j++]!;
      return true;
    });
    expect(pathFromLevels(levels, 9, 4)).toEqual(p.path);
    levels[1] = [];
    expect(pathFromLevels(levels, 9, 4)).toBeNull();
  });
});

describe('batch nodes kept by a relay', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('a batch received over two pages, in any order, rebuilds every proof, which verifies', async () => {
    const f = facts(37);
    const { signature, proofs } = signBatch(privateKey, f);
    const order = [...proofs.keys()].sort(() => Math.random() - 0.5);
    const refs: { index: number; ref: ReturnType<BatchNodes['add']> }[] = [];
    for (const part of [order.slice(0, 20), order.slice(20)]) {
      const b = new BatchNodes();
      const used = new Map<string, number>();
      for (const i of part) {
        const ref = b.add('dk', signature, proofs[i]!);
        expect(ref).toEqual({ size: 37, index: i, ref: batchRefOf('dk', signature) });
        refs.push({ index: i, ref });
        used.set(ref!.ref, (used.get(ref!.ref) ?? 0) + 1);
      }
      await store.transaction((tx) => b.save(tx, used));
    }
    // One meta row for the batch, much smaller than the paths it stands for.
    const kept = await store.listMeta(P_BATCH);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.value.length).toBeLessThan(proofs.reduce((a, p) => a + JSON.stringify(p.path).length, 0) / 2);
    const rebuilt = await resolveBatchRefs(store, refs.map((r) => r.ref!));
    refs.forEach((r, k) => {
      expect(rebuilt[k]).toEqual(proofs[r.index]);
      expect(verifyBatchFacts(publicKey, f[r.index]!, { signature, proof: rebuilt[k]! })).toBe(true);
    });
  });

  it('nodes are written only for the batches rows name; an unknown batch or another size resolves to null', async () => {
    const { signature, proofs } = signBatch(privateKey, facts(8));
    const b = new BatchNodes();
    const ref = b.add('dk', signature, proofs[3]!)!;
    await store.transaction((tx) => b.save(tx, new Map()));
    expect(await store.listMeta(P_BATCH)).toHaveLength(0);
    await store.transaction((tx) => b.save(tx, new Map([[ref.ref, 1]])));
    expect(await resolveBatchRefs(store, [ref])).toEqual([proofs[3]]);
    // Index 4's path needs leaf 5, which no received proof named.
    expect(await resolveBatchRefs(store, [{ ...ref, index: 4 }, { ...ref, size: 9 }, { ...ref, ref: batchRefOf('se', signature) }])).toEqual([null, null, null]);
  });

  it('a batch counts the rows that name it and goes with the last of them; one kept before counting stays', async () => {
    const { signature, proofs } = signBatch(privateKey, facts(6));
    const b = new BatchNodes();
    const refs = proofs.map((p) => b.add('dk', signature, p)!);
    const key = P_BATCH + refs[0]!.ref;
    // Two pages: 4 rows, then 2.
    await store.transaction((tx) => b.save(tx, new Map([[refs[0]!.ref, 4]])));
    await store.transaction((tx) => b.save(tx, new Map([[refs[0]!.ref, 2]])));
    expect(JSON.parse((await store.getMeta(key))!).rows).toBe(6);
    const prov = (i: number) => JSON.stringify({ origin: 'dk', path: ['dk'], creator: null, recipients: [], signature, batch: refs[i] });
    // Rows without provenance, with a whole proof, or with unreadable provenance count for nothing.
    await store.transaction((tx) => releaseBatchRows(tx, [null, JSON.stringify({ batch: proofs[0] }), '{', prov(0), prov(1)]));
    expect(JSON.parse((await store.getMeta(key))!).rows).toBe(4);
    expect(await resolveBatchRefs(store, refs.slice(2))).toEqual(proofs.slice(2));
    await store.transaction((tx) => releaseBatchRows(tx, [2, 3, 4, 5].map(prov)));
    expect(await store.getMeta(key)).toBeNull();
    // A batch written before rows were counted has no count: deleting never removes it.
    await store.setMeta(key, JSON.stringify({ size: 6, levels: [] }));
    await store.transaction((tx) => releaseBatchRows(tx, [prov(0)]));
    expect(await store.getMeta(key)).not.toBeNull();
    await store.transaction((tx) => b.save(tx, new Map([[refs[0]!.ref, 1]])));
    expect(JSON.parse((await store.getMeta(key))!).rows).toBeUndefined();
  });

  it('another origin or signature is another batch; a proof of another size under one batch is not taken', () => {
    const a = signBatch(privateKey, facts(4));
    const b = new BatchNodes();
    expect(b.add('dk', a.signature, a.proofs[0]!)!.ref).not.toBe(b.add('se', a.signature, a.proofs[0]!)!.ref);
    const odd: BatchProof = { size: 5, index: 0, path: a.proofs[0]!.path.concat(leafHash(facts(1)[0]!).toString('base64')) };
    expect(b.add('dk', a.signature, odd)).toBeNull();
    expect(isBatchRef({ size: 4, index: 0, ref: 'x' })).toBe(true);
    expect(isBatchRef(a.proofs[0]!)).toBe(false);
  });
});
