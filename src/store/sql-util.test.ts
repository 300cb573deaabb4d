import { describe, expect, it } from 'vitest';
import { ladderRuns, padded } from './sql-util.js';

describe('statement shapes from a ladder', () => {
  it('pads an IN list to the next power of two with its last value, and leaves an empty one empty', () => {
    expect(padded([])).toEqual([]);
    expect(padded(['a'])).toEqual(['a']);
    expect(padded(['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'c']);
    expect(padded([1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
    expect(padded(Array.from({ length: 500 }, (_, i) => i))).toHaveLength(512);
  });

  it('splits rows into power-of-two runs, largest first, that add up to every row', () => {
    expect(ladderRuns(0, 512)).toEqual([]);
    expect(ladderRuns(1, 512)).toEqual([1]);
    expect(ladderRuns(1000, 512)).toEqual([512, 256, 128, 64, 32, 8]);
    expect(ladderRuns(1300, 512)).toEqual([512, 512, 256, 16, 4]);
    expect(ladderRuns(7, 500)).toEqual([4, 2, 1]);
    for (let n = 0; n < 3000; n += 37) {
      const runs = ladderRuns(n, 512);
      expect(runs.reduce((a, r) => a + r, 0)).toBe(n);
      expect(new Set(runs.map((r) => Math.log2(r) % 1))).toEqual(new Set(n ? [0] : []));
    }
  });
});
