import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf, scaleNames, subjectToken } from './partition.js';

describe('partitioning', () => {
  it('is FNV-1a 32-bit (reference vectors)', () => {
    // Vectors of the FNV reference implementation (isthe.com/chongo/tech/comp/fnv).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('puts an organisation always on the same partition, within range', () => {
    const org = 'identity--7f1c2d3e-0000-4000-8000-000000000001';
    const p = partitionOf(org, 16);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(16);
    expect(partitionOf(org, 16)).toBe(p);
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`identity--${i}`, 16)));
    expect(spread.size).toBe(16);
  });

  it('makes subjects of any sensor name', () => {
    expect(subjectToken('fw-1.dmz *>')).toBe('fw-1_dmz___');
    expect(subjectToken('')).toBe('_');
    const n = scaleNames('sw.test');
    expect(n.stream).toBe('SW_TEST_EVENTS');
    expect(n.eventSubject(3, 'identity--x', 'a.b')).toBe('sw_test.events.3.identity--x.a_b');
    expect(n.partitionFilter(3)).toBe('sw_test.events.3.>');
  });
});
