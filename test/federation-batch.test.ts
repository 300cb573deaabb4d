/**
 * Batch signatures of federation envelopes (src/federation/keys.ts): one Ed25519 signature
 * over a Merkle root, each version with its inclusion proof. Every version must verify alone,
 * with or without the receiver's cache, and any change to an object, its facts or its proof
 * must be refused.
 */
import crypto from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { describe, expect, it } from 'vitest';
import { leafHash, newBatchCache, rootFromProof, signBatch, verifyBatchFacts, type SignedFacts } from '../src/federation/keys.js';

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const facts = (n: number): SignedFacts[] => Array.from({ length: n }, (_, i) => ({
  object: { type: 'indicator', id: `indicator--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, pattern: `[ipv4-addr:value = '10.0.0.${i % 250}']` },
  origin: 'dk', creator: 'identity--11111111-1111-4111-8111-111111111111', recipients: [],
}));

/** RFC 9162 §2.1.1 Merkle tree hash, written from the definition, to check the level-wise walk. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return crypto.createHash('sha256').update(Buffer.from([1])).update(mth(leaves.slice(0, k))).update(mth(leaves.slice(k))).digest();
}

describe('federation batch signatures', () => {
  it('a leaf is SHA-256(0x00 ‖ UTF-8 of the RFC 8785 facts), non-ASCII text included', () => {
    const f: SignedFacts = {
      object: { type: 'indicator', id: 'indicator--00000000-0000-4000-8000-000000000001', name: 'Ünïcödé ✓ 𝄞 \u0000 end', z: 1, a: [2, { y: true, b: null }] },
      origin: 'dk', creator: null, recipients: ['identity--b', 'identity--a'],
    };
    const text = canonicalize({ object: f.object, origin: f.origin, creator: f.creator, recipients: ['identity--a', 'identity--b'] });
    const expected = crypto.createHash('sha256').update(Buffer.from([0])).update(Buffer.from(text, 'utf8')).digest();
    expect(leafHash(f).equals(expected)).toBe(true);
  });

  it('every proof of trees of 1..70 leaves leads to the RFC 9162 root and verifies, alone and through the cache', () => {
    for (let n = 1; n <= 70; n++) {
      const f = facts(n);
      const { signature, proofs } = signBatch(privateKey, f);
      const root = mth(f.map(leafHash));
      const cache = newBatchCache();
      for (let i = 0; i < n; i++) {
        expect(rootFromProof(leafHash(f[i]!), proofs[i]!)?.equals(root)).toBe(true);
        expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: proofs[i]! })).toBe(true);
        expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: proofs[i]! }, cache)).toBe(true);
      }
      expect(cache.roots.size).toBe(1);
    }
  });

  it('with the cache, a batch costs about two node hashes per version after the first', () => {
    const n = 1000;
    const f = facts(n);
    const { signature, proofs } = signBatch(privateKey, f);
    const leaves = f.map(leafHash);
    const cache = newBatchCache();
    expect(verifyBatchFacts(publicKey, f[0]!, { signature, proof: proofs[0]! }, cache)).toBe(true);
    // Node hashes a walk computes = the nodes it visits below the first proven one: what the
    // cache holds grows by exactly that many (the leaf included, which is hashed from the facts).
    const held = () => [...cache.nodes.values()].reduce((a, m) => a + m.size, 0);
    const before = held();
    for (let i = 1; i < n; i++) expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: proofs[i]! }, cache)).toBe(true);
    const visitedPerVersion = (held() - before) / (n - 1);
    // A perfect tree visits 2 nodes per version on average (the leaf and ~1 above it).
    expect(visitedPerVersion).toBeLessThan(2.2);
    // Every leaf of the batch was proven.
    for (let i = 0; i < n; i++) expect(cache.nodes.values().next().value!.get(`0:${i}`)?.hash.equals(leaves[i]!)).toBe(true);
  });

  it('refuses a changed object, changed facts, another index, a changed path or another signer — also after the batch was proven', () => {
    const f = facts(37);
    const { signature, proofs } = signBatch(privateKey, f);
    const other = crypto.generateKeyPairSync('ed25519');
    for (const warm of [false, true]) {
      const cache = newBatchCache();
      if (warm) for (let i = 0; i < f.length; i += 2) expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: proofs[i]! }, cache)).toBe(true);
      const i = 13;
      const tampered = { ...f[i]!, object: { ...f[i]!.object, pattern: "[ipv4-addr:value = '10.9.9.9']" } };
      expect(verifyBatchFacts(publicKey, tampered, { signature, proof: proofs[i]! }, cache)).toBe(false);
      expect(verifyBatchFacts(publicKey, { ...f[i]!, recipients: ['identity--22222222-2222-4222-8222-222222222222'] }, { signature, proof: proofs[i]! }, cache)).toBe(false);
      expect(verifyBatchFacts(publicKey, { ...f[i]!, origin: 'no' }, { signature, proof: proofs[i]! }, cache)).toBe(false);
      expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: { ...proofs[i]!, index: 14 } }, cache)).toBe(false);
      const path = [...proofs[i]!.path];
      path[2] = Buffer.alloc(32, 7).toString('base64');
      expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: { ...proofs[i]!, path } }, cache)).toBe(false);
      expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: { ...proofs[i]!, path: proofs[i]!.path.slice(0, -1) } }, cache)).toBe(false);
      expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: { ...proofs[i]!, size: 38 } }, cache)).toBe(false);
      expect(verifyBatchFacts(other.publicKey, f[i]!, { signature, proof: proofs[i]! }, cache)).toBe(false);
      // Malformed proofs are refused, never thrown.
      for (const bad of [null, 'x', { size: 1e30, index: 0, path: [] }, { size: 37, index: -1, path: [] }, { size: 37, index: 13, path: 'abc' }, { size: 37, index: 13, path: [1, 2] }]) {
        expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: bad as never }, cache)).toBe(false);
      }
      expect(verifyBatchFacts(publicKey, f[i]!, { signature: 42 as never, proof: proofs[i]! }, cache)).toBe(false);
      // The untouched version still verifies.
      expect(verifyBatchFacts(publicKey, f[i]!, { signature, proof: proofs[i]! }, cache)).toBe(true);
    }
  });
});
