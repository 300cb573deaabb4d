import { describe, expect, it } from 'vitest';
import { WordTable } from './words.js';

describe('WordTable', () => {
  it('agrees with a Map under random inserts, overwrites and deletes (property)', () => {
    let s = 12345;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    for (let round = 0; round < 20; round++) {
      const t = new WordTable<number>();
      const m = new Map<number, number>();
      // A small key space forces collisions, long probe runs and wrap-around.
      const space = 50 + rnd(2000);
      for (let op = 0; op < 5000; op++) {
        const k = (rnd(space) * 0x01000193) | 0;
        const r = rnd(3);
        if (r === 0) expect(t.delete(k)).toBe(m.delete(k));
        else { t.set(k, op); m.set(k, op); }
        expect(t.size).toBe(m.size);
      }
      for (let k = 0; k < space; k++) {
        const key = (k * 0x01000193) | 0;
        expect(t.get(key)).toBe(m.get(key));
      }
    }
  });
});
