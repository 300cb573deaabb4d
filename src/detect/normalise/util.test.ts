import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIso, isoToMs, openers, timestamp, tooDeep } from './util.js';

describe('timestamp arithmetic', () => {
  it('formats and parses exactly as Date does over years 1..9999 (property)', () => {
    fc.assert(fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
      const iso = new Date(ms).toISOString();
      expect(formatIso(ms)).toBe(iso);
      expect(isoToMs(iso)).toBe(ms);
    }), { numRuns: 20000 });
  });

  it('reads offsets, spaces and fractions as sensors write them, and refuses the malformed', () => {
    expect(isoToMs('2017-01-30T16:12:36.066011+0100')).toBe(Date.parse('2017-01-30T15:12:36.066Z'));
    expect(isoToMs('2017-01-30T16:12:36-05:30')).toBe(Date.parse('2017-01-30T21:42:36Z'));
    expect(isoToMs('2025-11-27 07:40:10.132')).toBe(Date.parse('2025-11-27T07:40:10.132Z'));
    expect(isoToMs('2024-02-29T00:00:00Z')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    for (const bad of ['2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01', '2024-01-01T00:00:00+2500', '2024-01-01T00:00:00.Z', '2024-01-01T00:00:00Zjunk', 'x'.repeat(25)]) {
      expect(isoToMs(bad), bad).toBeNaN();
    }
    expect(timestamp(1521911720.5)).toBe('2018-03-24T17:15:20.500Z');
    expect(timestamp(1521911720500)).toBe('2018-03-24T17:15:20.500Z');
    expect(timestamp(-1)).toBeUndefined();
    expect(timestamp({})).toBeUndefined();
  });
});

describe('depth bounds', () => {
  it('counts openers as an upper bound of nesting and walks deep values without recursion', () => {
    expect(openers('{"a":[1,{"b":2}]}', 10)).toBe(3);
    expect(openers('['.repeat(100), 10)).toBe(11);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(tooDeep(deep, 32)).toBe(true);
    expect(tooDeep({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(tooDeep({ a: [{ b: {} }] }, 3)).toBe(true);
  });
});
