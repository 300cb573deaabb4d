/**
 * updateMeta on both dialects: an absent key is created, null leaves the key as it is, and on
 * PostgreSQL a change committed by another connection between the read and the write is kept
 * (the change is computed again from it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { updateMeta, type Store } from './index.js';
import { storeDialects } from '../../test/helpers/store-dialects.js';

const add = (x: string) => (cur: string | null) => JSON.stringify([...(JSON.parse(cur ?? '[]') as string[]), x]);

for (const dialect of await storeDialects()) {
  describe(`updateMeta (${dialect.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await dialect.open());
    });
    afterEach(() => cleanup());

    it('creates an absent key, changes a present one, and leaves it when the change is null', async () => {
      expect(await updateMeta(store, 'k', add('a'))).toBe('["a"]');
      expect(await updateMeta(store, 'k', add('b'))).toBe('["a","b"]');
      expect(await updateMeta(store, 'k', () => null)).toBe('["a","b"]');
      expect(await updateMeta(store, 'absent', () => null)).toBeNull();
      expect(await store.getMeta('absent')).toBeNull();
    });

    it.runIf(dialect.name === 'postgres')('keeps a change another connection commits between its read and its write', async () => {
      await store.setMeta('k', '[]');
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let entered!: () => void;
      const inside = new Promise<void>((r) => { entered = r; });
      // The other writer has changed the key and not committed yet.
      const other = store.transaction(async (tx) => {
        await tx.setMeta('k', '["other"]');
        entered();
        await gate;
      });
      await inside;
      let calls = 0;
      const mine = updateMeta(store, 'k', (cur) => { calls++; return add('mine')(cur); });
      await new Promise((r) => setTimeout(r, 200));
      release();
      await other;
      expect(await mine).toBe('["other","mine"]');
      expect(calls).toBe(2);
    });
  });
}
